"""RTCP sender reports (RFC 3550 §6.4.1): the one thing that relates a camera's tracks.

Each track's RTP time runs from a random start at its own rate; a sender report pairs one
instant of it with the camera's wall clock (NTP), so the reports of two tracks say which
video time and which sound time were the same moment. Everything else in RTCP is skipped.
"""

import struct
from dataclasses import dataclass
from typing import Literal

_HEADER = struct.Struct(">BBH")  # V/P/RC, packet type, length in 32-bit words less one
_SENDER_INFO = struct.Struct(">IQI")  # SSRC, NTP timestamp (32.32 fixed point), RTP timestamp
SENDER_REPORT = 200
NTP_TO_UNIX_S = 2_208_988_800  # seconds from 1900 (NTP's epoch) to 1970

TrackKind = Literal["video", "audio"]  # which of a session's tracks a report is of


@dataclass(frozen=True, slots=True)
class SenderReport:
    rtp_timestamp: int  # 32-bit, in the track's clock
    wall_us: int  # the same instant on the camera's wall clock, µs since the Unix epoch


def sender_report(packet: bytes | memoryview) -> SenderReport | None:
    """The sender report in a compound RTCP packet, or None if it holds none."""
    position, size = 0, len(packet)
    while position + 4 <= size:
        first, kind, length = _HEADER.unpack_from(packet, position)
        if first >> 6 != 2:
            return None
        if kind == SENDER_REPORT and position + 4 + _SENDER_INFO.size <= size:
            _ssrc, ntp, rtp_timestamp = _SENDER_INFO.unpack_from(packet, position + 4)
            wall_us = (ntp * 1_000_000 >> 32) - NTP_TO_UNIX_S * 1_000_000
            return SenderReport(rtp_timestamp, wall_us)
        position += 4 * (length + 1)
    return None
