"""RTP packetisation of H.264 (RFC 6184), H.265 (RFC 7798) and AAC (RFC 3640, AAC-hbr), RTP
headers and RTCP sender reports: what every RTSP server here sends (the test cameras' and
the Vigil server's).

A frame becomes a list of payloads; sending then only prefixes the 12-byte header, the one
part that changes (sequence number, timestamp). The test cameras packetise their loops once
and share one header sequence among a stream's clients; the server packetises each frame as
it passes.
"""

import base64
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass

from vigil.media.codecs import Codec, is_delimiter, is_keyframe_nal, nal_type, split_annexb

CLOCK_RATE = 90_000
PAYLOAD_TYPE = 96
AAC_PAYLOAD_TYPE = 97
# Payload bytes per packet: with the RTP header and the interleaved or UDP/IP headers this
# stays under a 1500-byte Ethernet MTU.
MAX_PAYLOAD = 1400

_STAP_A = 24  # H.264 single-time aggregation packet type
_FU_A = 28  # H.264 fragmentation unit type
_AP_H265 = 48  # H.265 aggregation packet type
_FU_H265 = 49


@dataclass(frozen=True)
class RtpFrame:
    payloads: tuple[bytes, ...]
    keyframe: bool
    # Where the picture's slices start among the payloads (after parameter sets and SEI):
    # a caption band slice goes there.
    slice_start: int = 0


def packetize(codec: Codec, access_unit: bytes) -> RtpFrame:
    """The RTP payloads of one frame; the last one carries the marker bit when sent.

    H.264 parameter sets and SEI ride together in one STAP-A where they fit; a NAL unit too
    big for one packet is fragmented (FU-A, or FU for H.265).
    """
    return packetize_units(codec, split_annexb(access_unit))


def packetize_units(codec: Codec, nal_units: Sequence[bytes]) -> RtpFrame:
    """`packetize` of a frame already split into its NAL units."""
    nals = [nal for nal in nal_units if not is_delimiter(codec, nal)]
    payloads: list[bytes] = []
    group: list[bytes] = []
    for nal in nals:
        if codec == "h264" and nal_type(codec, nal) in (6, 7, 8):  # SEI, SPS, PPS
            group.append(nal)
            continue
        payloads.extend(packetize_nals(codec, group))
        group = []
        payloads.extend(_split(codec, nal))
    payloads.extend(packetize_nals(codec, group))
    keyframe = any(is_keyframe_nal(codec, nal) for nal in nals)
    slice_start = next(
        (n for n, p in enumerate(payloads) if not _is_parameters_or_sei(codec, p)), len(payloads)
    )
    return RtpFrame(tuple(payloads), keyframe, slice_start)


def _is_parameters_or_sei(codec: Codec, payload: bytes) -> bool:
    kind = payload[0] & 0x1F if codec == "h264" else (payload[0] >> 1) & 0x3F
    return kind in ((6, 7, 8, _STAP_A) if codec == "h264" else (32, 33, 34, 39))


def packetize_nals(codec: Codec, nals: list[bytes]) -> list[bytes]:
    """The payloads of NAL units sent one after the other: small ones together in aggregation
    packets (STAP-A, or AP for H.265) up to the packet size, big ones fragmented."""
    payloads: list[bytes] = []
    group: list[bytes] = []
    for nal in nals:
        if group and _aggregate_size(codec, [*group, nal]) > MAX_PAYLOAD:
            payloads.extend(_aggregate(codec, group))
            group = []
        group.append(nal)
    if group:
        payloads.extend(_aggregate(codec, group))
    return payloads


def _split(codec: Codec, nal: bytes) -> list[bytes]:
    """`nal` as one payload, or as fragments (FU-A / FU) when it is too big for one packet."""
    if len(nal) <= MAX_PAYLOAD:
        return [nal]
    if codec == "h264":
        # FU indicator: the NAL's F and NRI bits with type 28; FU header carries the type.
        prefix, kind, body = bytes([(nal[0] & 0xE0) | _FU_A]), nal[0] & 0x1F, nal[1:]
    else:
        # Payload header: the NAL header with its type replaced by 49 (F, LayerId, TID kept).
        prefix = bytes([(nal[0] & 0x81) | (_FU_H265 << 1), nal[1]])
        kind, body = (nal[0] >> 1) & 0x3F, nal[2:]
    chunk = MAX_PAYLOAD - len(prefix) - 1
    pieces = [body[i : i + chunk] for i in range(0, len(body), chunk)]
    return [
        prefix
        + bytes([kind | (0x80 if n == 0 else 0) | (0x40 if n == len(pieces) - 1 else 0)])
        + piece
        for n, piece in enumerate(pieces)
    ]


def _aggregate_size(codec: Codec, nals: list[bytes]) -> int:
    return (1 if codec == "h264" else 2) + sum(2 + len(n) for n in nals)


def _aggregate(codec: Codec, nals: list[bytes]) -> list[bytes]:
    """A STAP-A (RFC 6184 §5.7.1) or AP (RFC 7798 §4.4.2) packet, each NAL unit behind its
    16-bit size; one NAL unit goes alone (fragmented if need be)."""
    if len(nals) == 1:
        return _split(codec, nals[0])
    sizes_and_nals = b"".join(len(n).to_bytes(2, "big") + n for n in nals)
    if codec == "h264":
        nri = max(nal[0] & 0x60 for nal in nals)
        return [bytes([nri | _STAP_A]) + sizes_and_nals]
    # The lowest layer id and temporal id of the units aggregated (they are all layer 0).
    temporal_id = min(nal[1] & 0x07 for nal in nals)
    return [bytes([_AP_H265 << 1, temporal_id]) + sizes_and_nals]


def video_fmtp(codec: Codec, parameter_sets: Sequence[bytes]) -> str:
    """The SDP `a=fmtp` parameters of a video track (RFC 6184 §8.1, RFC 7798 §7.1), from its
    parameter sets, as many of each kind as the stream has (a camera may use several PPS)."""

    def sprop(kind: int) -> str:
        return ",".join(
            base64.b64encode(nal).decode() for nal in parameter_sets if nal_type(codec, nal) == kind
        )

    if codec == "h264":
        sps = next((nal for nal in parameter_sets if nal_type(codec, nal) == 7), None)
        profile = f"profile-level-id={sps[1:4].hex()};" if sps is not None and len(sps) > 3 else ""
        return f"packetization-mode=1;{profile}sprop-parameter-sets={sprop(7)},{sprop(8)}"
    return f"sprop-vps={sprop(32)};sprop-sps={sprop(33)};sprop-pps={sprop(34)}"


# AAC-hbr AU headers: a 13-bit size and a 3-bit index (or index delta), all 0: the units
# follow one another.
AAC_SIZE_BITS, AAC_INDEX_BITS = 13, 3


def aac_fmtp(specific_config: bytes) -> str:
    """The SDP `a=fmtp` parameters of an AAC track (RFC 3640 §4.1) sent by `aac_payload`."""
    # profile-level-id 41: AAC Profile L2 (ISO/IEC 14496-3 Table 1.14), for mono or stereo
    # up to 48 kHz.
    return (
        "streamtype=5; profile-level-id=41; mode=AAC-hbr; "
        f"config={specific_config.hex().upper()}; "
        f"sizelength={AAC_SIZE_BITS}; indexlength={AAC_INDEX_BITS}; "
        f"indexdeltalength={AAC_INDEX_BITS}"
    )


def aac_payload_size(units: Sequence[bytes]) -> int:
    return 2 + 2 * len(units) + sum(len(u) for u in units)


def aac_payload(units: Sequence[bytes]) -> bytes:
    """One RTP payload of whole AAC access units behind their AU headers; the packet's RTP
    time is that of its first unit, and its marker bit is set (RFC 3640 §3.2.3.2)."""
    if any(len(unit) >= 1 << AAC_SIZE_BITS for unit in units):
        raise ValueError("an AAC access unit too big for its 13-bit size")
    headers = b"".join((len(unit) << AAC_INDEX_BITS).to_bytes(2, "big") for unit in units)
    return (16 * len(units)).to_bytes(2, "big") + headers + b"".join(units)


_HEADER = struct.Struct("!BBHII")


def rtp_header(
    seq: int, timestamp: int, ssrc: int, marker: bool, payload_type: int = PAYLOAD_TYPE
) -> bytes:
    return _HEADER.pack(
        0x80, (0x80 if marker else 0) | payload_type, seq & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc
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
