"""RTP packets → access units: H.264 per RFC 6184, H.265 per RFC 7798.

Runs for every packet of every stream on the event loop, so it stays plain: a few integer
operations per packet, and fragments joined once per NAL unit.
"""

import struct
from collections.abc import Callable
from dataclasses import dataclass

from vigil.media.codecs import Codec, is_keyframe_nal

_RTP_HEADER = struct.Struct(">BBHI")  # V/P/X/CC, M/PT, sequence number, timestamp


@dataclass(frozen=True)
class AccessUnit:
    """One picture's NAL units (without start codes or length prefixes)."""

    rtp_timestamp: int  # 32-bit, as sent
    keyframe: bool
    nals: tuple[bytes, ...]

    @property
    def size(self) -> int:
        return sum(len(n) for n in self.nals)


def rtp_payload(
    packet: bytes | memoryview, payload_type: int
) -> tuple[int, int, bool, int, int] | None:
    """(sequence number, timestamp, marker, payload start, payload end) of an RTP packet of
    `payload_type`; None for anything else (too short, another version or payload type)."""
    if len(packet) < 12:
        return None
    first, second, seq, timestamp = _RTP_HEADER.unpack_from(packet)
    if first >> 6 != 2 or second & 0x7F != payload_type:
        return None
    start = 12 + 4 * (first & 0x0F)
    if first & 0x10:  # header extension: 16-bit profile, 16-bit length in words
        if len(packet) < start + 4:
            return None
        start += 4 + 4 * ((packet[start + 2] << 8) | packet[start + 3])
    end = len(packet) - (packet[-1] if first & 0x20 else 0)  # padding
    if start >= end:
        return None
    return seq, timestamp, bool(second & 0x80), start, end


class RtpIntake:
    """What every track's depacketizer counts of the packets it takes: payload bytes, packets
    lost (by sequence number) and units dropped."""

    def __init__(self, payload_type: int) -> None:
        self._payload_type = payload_type
        self._next_seq: int | None = None
        self.payload_bytes = 0  # RTP payloads taken, headers not counted
        self.lost_packets = 0
        self.dropped_units = 0

    def _accept(self, packet: bytes | memoryview) -> tuple[int, bool, int, int, bool] | None:
        """(timestamp, marker, payload start, payload end, packets were lost just before) of a
        packet of the track; None for anything else."""
        parsed = rtp_payload(packet, self._payload_type)
        if parsed is None:
            return None
        seq, timestamp, marker, start, end = parsed
        self.payload_bytes += end - start
        lost = False
        if self._next_seq is not None and seq != self._next_seq:
            self.lost_packets += (seq - self._next_seq) & 0xFFFF
            lost = True
        self._next_seq = (seq + 1) & 0xFFFF
        return timestamp, marker, start, end, lost


class Depacketizer(RtpIntake):
    """Takes a stream's RTP packets in order of arrival; hands each access unit it completes
    to `on_unit`. A unit with a lost packet is dropped (and counted), not passed on broken."""

    def __init__(
        self, codec: Codec, payload_type: int, on_unit: Callable[[AccessUnit], None]
    ) -> None:
        super().__init__(payload_type)
        self._codec = codec
        self._on_unit = on_unit
        self._take_payload = self._h264 if codec == "h264" else self._h265
        self._nals: list[bytes] = []
        self._fragments: list[bytes | memoryview] = []  # of the fragmented NAL unit being joined
        self._timestamp: int | None = None
        self._broken = False  # a packet of the current access unit was lost

    def push(self, packet: bytes | memoryview) -> None:
        """Take one RTP packet (a memoryview saves a copy: NAL units are copied out once)."""
        accepted = self._accept(packet)
        if accepted is None:
            return
        timestamp, marker, start, end, lost = accepted
        if self._timestamp is not None and timestamp != self._timestamp and self._nals:
            self._finish()  # a camera that forgot the marker bit
        if lost:
            self._broken = True
            self._fragments.clear()
        self._timestamp = timestamp
        self._take_payload(packet[start:end])
        if marker:
            self._finish()

    def _finish(self) -> None:
        nals, broken, timestamp = self._nals, self._broken, self._timestamp
        self._nals, self._broken = [], False
        self._fragments.clear()
        if broken or not nals or timestamp is None:
            self.dropped_units += bool(nals) or broken
            return
        codec = self._codec
        key = any(is_keyframe_nal(codec, nal) for nal in nals)
        self._on_unit(AccessUnit(timestamp, key, tuple(nals)))

    def _h264(self, payload: bytes | memoryview) -> None:
        kind = payload[0] & 0x1F
        if kind == 28:  # FU-A
            if len(payload) < 3:
                return
            header = payload[1]
            if header & 0x80:
                self._fragments = [bytes([(payload[0] & 0xE0) | (header & 0x1F)])]
            elif not self._fragments:
                return  # the start was lost; the unit is already marked broken
            self._fragments.append(payload[2:])
            if header & 0x40:
                self._nals.append(b"".join(self._fragments))
                self._fragments = []
        elif kind == 24:  # STAP-A
            self._aggregated(payload, 1)
        elif 1 <= kind <= 23:
            self._nals.append(bytes(payload))

    def _h265(self, payload: bytes | memoryview) -> None:
        if len(payload) < 3:
            return
        kind = (payload[0] >> 1) & 0x3F
        if kind == 49:  # FU
            header = payload[2]
            if header & 0x80:
                self._fragments = [
                    bytes([(payload[0] & 0x81) | ((header & 0x3F) << 1), payload[1]])
                ]
            elif not self._fragments:
                return
            self._fragments.append(payload[3:])
            if header & 0x40:
                self._nals.append(b"".join(self._fragments))
                self._fragments = []
        elif kind == 48:  # AP
            self._aggregated(payload, 2)
        elif kind < 48:
            self._nals.append(bytes(payload))

    def _aggregated(self, payload: bytes | memoryview, header_size: int) -> None:
        position = header_size
        while position + 2 <= len(payload):
            size = (payload[position] << 8) | payload[position + 1]
            position += 2
            if size == 0 or position + size > len(payload):
                self._broken = True
                return
            self._nals.append(bytes(payload[position : position + size]))
            position += size
