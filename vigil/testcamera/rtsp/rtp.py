"""RTP packetisation of H.264 (RFC 6184) and H.265 (RFC 7798), and RTCP sender reports.

Packetisation happens once, when a loop is loaded: each frame becomes a list of payloads.
Sending then only prefixes the 12-byte header, the one part that changes (sequence number,
timestamp); every client of a stream shares one header sequence, as receivers of a multicast
source do, so that work is per stream, not per client.
"""

import struct
import time
from dataclasses import dataclass

from vigil.testcamera.profiles import Codec
from vigil.testcamera.video.bitstream import (
    is_delimiter,
    is_keyframe_nal,
    nal_type,
    split_annexb,
)

CLOCK_RATE = 90_000
PAYLOAD_TYPE = 96
# Payload bytes per packet: with the RTP header and the interleaved or UDP/IP headers this
# stays under a 1500-byte Ethernet MTU.
MAX_PAYLOAD = 1400

_STAP_A = 24  # H.264 single-time aggregation packet type
_FU_A = 28  # H.264 fragmentation unit type
_FU_H265 = 49


@dataclass(frozen=True)
class RtpFrame:
    payloads: tuple[bytes, ...]
    keyframe: bool


def packetize(codec: Codec, access_unit: bytes) -> RtpFrame:
    """The RTP payloads of one frame; the last one carries the marker bit when sent."""
    nals = [nal for nal in split_annexb(access_unit) if not is_delimiter(codec, nal)]
    payloads: list[bytes] = []
    small: list[bytes] = []
    for nal in nals:
        if codec == "h264" and nal_type(codec, nal) in (6, 7, 8):
            small.append(nal)  # SEI, SPS, PPS travel in one aggregation packet
            continue
        if small:
            payloads.append(_aggregate_h264(small) if len(small) > 1 else small[0])
            small = []
        if len(nal) <= MAX_PAYLOAD:
            payloads.append(nal)
        elif codec == "h264":
            payloads.extend(_fragment_h264(nal))
        else:
            payloads.extend(_fragment_h265(nal))
    keyframe = any(is_keyframe_nal(codec, nal) for nal in nals)
    return RtpFrame(tuple(payloads), keyframe)


def _aggregate_h264(nals: list[bytes]) -> bytes:
    """A STAP-A packet (RFC 6184 §5.7.1): each NAL unit behind its 16-bit size."""
    nri = max(nal[0] & 0x60 for nal in nals)
    return bytes([nri | _STAP_A]) + b"".join(len(n).to_bytes(2, "big") + n for n in nals)


def _fragment_h264(nal: bytes) -> list[bytes]:
    indicator = bytes([(nal[0] & 0xE0) | _FU_A])
    kind = nal[0] & 0x1F
    body = nal[1:]
    chunk = MAX_PAYLOAD - 2
    pieces = [body[i : i + chunk] for i in range(0, len(body), chunk)]
    out = []
    for n, piece in enumerate(pieces):
        header = kind | (0x80 if n == 0 else 0) | (0x40 if n == len(pieces) - 1 else 0)
        out.append(indicator + bytes([header]) + piece)
    return out


def _fragment_h265(nal: bytes) -> list[bytes]:
    kind = (nal[0] >> 1) & 0x3F
    # Payload header: the NAL header with its type replaced by 49 (F, LayerId, TID kept).
    payload_header = bytes([(nal[0] & 0x81) | (_FU_H265 << 1), nal[1]])
    body = nal[2:]
    chunk = MAX_PAYLOAD - 3
    pieces = [body[i : i + chunk] for i in range(0, len(body), chunk)]
    out = []
    for n, piece in enumerate(pieces):
        header = kind | (0x80 if n == 0 else 0) | (0x40 if n == len(pieces) - 1 else 0)
        out.append(payload_header + bytes([header]) + piece)
    return out


_HEADER = struct.Struct("!BBHII")


def rtp_header(seq: int, timestamp: int, ssrc: int, marker: bool) -> bytes:
    return _HEADER.pack(
        0x80, (0x80 if marker else 0) | PAYLOAD_TYPE, seq & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc
    )


_NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900-01-01 to 1970-01-01


def sender_report(
    ssrc: int,
    rtp_timestamp: int,
    packets: int,
    octets: int,
    cname: str,
    wall_time: float | None = None,
) -> bytes:
    """A compound RTCP packet: sender report (RFC 3550 §6.4.1) and SDES CNAME (§6.5)."""
    now = time.time() if wall_time is None else wall_time
    ntp = int((now + _NTP_EPOCH_OFFSET) * (1 << 32))
    report = struct.pack(
        "!BBHIIIIII",
        0x80,
        200,
        6,
        ssrc,
        (ntp >> 32) & 0xFFFFFFFF,
        ntp & 0xFFFFFFFF,
        rtp_timestamp & 0xFFFFFFFF,
        packets & 0xFFFFFFFF,
        octets & 0xFFFFFFFF,
    )
    item = bytes([1, len(cname)]) + cname.encode()
    chunk = struct.pack("!I", ssrc) + item + b"\x00"
    chunk += b"\x00" * (-len(chunk) % 4)
    sdes = struct.pack("!BBH", 0x81, 202, len(chunk) // 4) + chunk
    return report + sdes
