"""The sound loop's RTP packets (RFC 3640, mode AAC-hbr: `rtp.aac_payload`), made once when
the loop is loaded. A few units share a packet, as cameras do, to send fewer packets.
"""

from dataclasses import dataclass

from vigil.media.rtsp.rtp import AAC_PAYLOAD_TYPE, MAX_PAYLOAD, aac_payload, aac_payload_size

PAYLOAD_TYPE = AAC_PAYLOAD_TYPE
MAX_UNITS_PER_PACKET = 4  # 256 ms of 16 kHz sound: latency no one hears on a camera


@dataclass(frozen=True)
class AudioPacket:
    first_unit: int  # the loop's access unit the packet starts with
    payload: bytes


@dataclass(frozen=True)
class AudioLoop:
    """A camera's sound loop, ready to send, and what SDP says of it."""

    packets: tuple[AudioPacket, ...]
    units: int  # access units in the loop
    sample_rate: int  # also the RTP clock rate
    frame_samples: int  # samples per access unit
    specific_config: bytes  # the AudioSpecificConfig (SDP fmtp config=)

    @property
    def seconds(self) -> float:
        return self.units * self.frame_samples / self.sample_rate


def packetize(units: list[bytes]) -> tuple[AudioPacket, ...]:
    """The loop's units grouped into packets: up to MAX_UNITS_PER_PACKET, within MAX_PAYLOAD."""
    packets: list[AudioPacket] = []
    group: list[bytes] = []
    first = 0
    for index, unit in enumerate(units):
        if group and (
            len(group) == MAX_UNITS_PER_PACKET or aac_payload_size([*group, unit]) > MAX_PAYLOAD
        ):
            packets.append(AudioPacket(first, aac_payload(group)))
            group, first = [], index
        group.append(unit)
    if group:
        packets.append(AudioPacket(first, aac_payload(group)))
    return tuple(packets)
