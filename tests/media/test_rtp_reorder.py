"""The reorder buffer of RTP over UDP: packets come out in order, loss is not waited for long."""

from vigil.media.depacketize import AccessUnit, Depacketizer
from vigil.media.rtsp.reorder import ReorderBuffer
from vigil.media.rtsp.rtp import rtp_header


def _packet(seq: int) -> bytes:
    # One NAL unit per packet, each its own access unit (marker set), numbered by its body.
    return rtp_header(seq & 0xFFFF, seq * 3600, 1, True) + bytes([0x41]) + seq.to_bytes(4, "big")


class _Rig:
    """A reorder buffer in front of a depacketiser, with the owner's timer stood in for."""

    def __init__(self, max_held: int = 128) -> None:
        self.units: list[AccessUnit] = []
        self.depacketizer = Depacketizer("h264", 96, self.units.append)
        self.holds = 0
        self.delivered: list[int] = []  # sequence numbers, as passed on
        self.buffer = ReorderBuffer(self._deliver, self._on_hold, max_held)

    def _deliver(self, packet: bytes) -> None:
        self.delivered.append((packet[2] << 8) | packet[3])
        self.depacketizer.push(packet)

    def _on_hold(self) -> None:
        self.holds += 1

    def push(self, *seqs: int) -> None:
        for seq in seqs:
            self.buffer.push(_packet(seq))

    def numbers(self) -> list[int]:
        return [int.from_bytes(unit.nals[0][1:], "big") for unit in self.units]


def test_reordered_packets_come_out_in_order_and_are_not_counted_lost() -> None:
    rig = _Rig()
    rig.push(1, 2, 4, 3, 5, 7, 8, 6, 9)
    assert rig.numbers() == list(range(1, 10))
    assert rig.depacketizer.lost_packets == 0
    assert rig.holds == 2  # the owner was asked twice to bound the wait


def test_a_lost_packet_is_given_up_for_when_the_wait_ends_and_counted() -> None:
    rig = _Rig()
    rig.push(1, 2, 4, 5)
    assert rig.numbers() == [1, 2]  # 4 and 5 wait for 3
    rig.buffer.give_up()  # the owner's timer: 3 is lost
    assert rig.delivered == [1, 2, 4, 5]
    assert rig.depacketizer.lost_packets == 1
    # The unit after a gap is dropped too: the lost packet may have been its start.
    assert rig.numbers() == [1, 2, 5]
    rig.push(3, 6)  # 3 comes too late: dropped, not passed on out of order
    assert rig.delivered == [1, 2, 4, 5, 6]


def test_the_wait_is_bounded_by_the_packets_held() -> None:
    rig = _Rig(max_held=4)
    rig.push(1, 3, 4, 5, 6)
    assert rig.numbers() == [1]
    rig.push(7)  # a fifth held: 2 is given up for without the timer
    assert rig.delivered == [1, 3, 4, 5, 6, 7]
    assert rig.depacketizer.lost_packets == 1


def test_sequence_numbers_wrap_and_a_restarted_count_is_followed() -> None:
    rig = _Rig()
    rig.push(65534, 65535, 65537, 65536, 65538)  # 65536 is sent as 0
    assert rig.numbers() == [65534, 65535, 65536, 65537, 65538]
    assert rig.depacketizer.lost_packets == 0
    rig.push(40_000, 40_001)  # far behind: the sender started counting again
    assert rig.delivered[-2:] == [40_000, 40_001]
