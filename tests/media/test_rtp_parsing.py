"""Depacketising and session descriptions on their own: the odd packets real cameras send."""

import base64

from vigil.media.codecs import merge_parameter_sets
from vigil.media.depacketize import AccessUnit, Depacketizer
from vigil.media.rtsp.rtp import packetize, rtp_header, video_fmtp
from vigil.media.rtsp.sdp import parse_tracks

START = b"\x00\x00\x00\x01"
SPS = bytes([0x67, 0x42, 0xC0, 0x1E]) + b"\x11" * 10
PPS = bytes([0x68, 0xCE, 0x3C, 0x80])
IDR = bytes([0x65]) + bytes(range(256)) * 20  # fragmented
P_SLICE = bytes([0x41]) + b"\x22" * 300


def _packets(access_unit: bytes, seq: int, timestamp: int) -> list[bytes]:
    payloads = packetize("h264", access_unit).payloads
    return [
        rtp_header(seq + n, timestamp, 1, n == len(payloads) - 1) + p
        for n, p in enumerate(payloads)
    ]


def _depacketizer() -> tuple[Depacketizer, list[AccessUnit]]:
    units: list[AccessUnit] = []
    return Depacketizer("h264", 96, units.append), units


def test_fragmented_and_aggregated_units_come_back_whole() -> None:
    depacketizer, units = _depacketizer()
    packets = _packets(START + SPS + START + PPS + START + IDR, 10, 3000)
    for packet in packets[:-1]:
        depacketizer.push(packet)
    assert units == []
    depacketizer.push(packets[-1])
    (unit,) = units
    assert unit.keyframe
    assert unit.nals == (SPS, PPS, IDR)
    assert unit.rtp_timestamp == 3000


def test_a_lost_packet_drops_its_unit_and_is_counted() -> None:
    depacketizer, units = _depacketizer()
    packets = _packets(START + IDR, 0, 0)
    del packets[1]
    for packet in packets:
        depacketizer.push(packet)
    assert units == []
    assert depacketizer.lost_packets == 1
    assert depacketizer.dropped_units == 1
    depacketizer.push(_packets(START + P_SLICE, len(packets) + 1, 3600)[0])
    assert [u.nals for u in units] == [(P_SLICE,)]


def test_missing_marker_ends_a_unit_when_the_timestamp_moves() -> None:
    depacketizer, units = _depacketizer()
    depacketizer.push(rtp_header(1, 100, 1, False) + P_SLICE)
    assert units == []
    depacketizer.push(rtp_header(2, 3700, 1, True) + P_SLICE)
    assert [u.rtp_timestamp for u in units] == [100, 3700]


def test_padding_extension_and_other_payload_types() -> None:
    depacketizer, units = _depacketizer()
    header = bytearray(rtp_header(1, 0, 1, True))
    header[0] |= 0x30  # padding and an extension
    extension = b"\xbe\xde\x00\x01" + b"\x00" * 4
    packet = bytes(header) + extension + P_SLICE + b"\x00\x00\x03"
    depacketizer.push(packet)
    assert [u.nals for u in units] == [(P_SLICE,)]
    audio = bytearray(rtp_header(2, 0, 1, True))
    audio[1] = 0x80 | 0  # PCMU
    depacketizer.push(bytes(audio) + b"\x01" * 160)
    depacketizer.push(b"\x80")
    assert len(units) == 1


SDP = """v=0
o=- 1 1 IN IP4 10.0.0.5
s=cam
a=control:*
m=audio 0 RTP/AVP 0
a=rtpmap:0 PCMU/8000
a=control:rtsp://10.0.0.5/live/audio
m=video 0 RTP/AVP 97
a=rtpmap:97 H265/90000
a=fmtp:97 sprop-vps=QAEMAf//;sprop-sps=QgEB;sprop-pps=RAHA
a=control:track1
"""


def test_session_description_tracks_and_controls() -> None:
    audio, video = parse_tracks(SDP, "rtsp://10.0.0.5/live/")
    assert (audio.media, audio.encoding, audio.clock_rate, audio.codec) == (
        "audio",
        "PCMU",
        8000,
        None,
    )
    assert audio.control == "rtsp://10.0.0.5/live/audio"
    assert (video.codec, video.payload_type) == ("h265", 97)
    assert video.control == "rtsp://10.0.0.5/live/track1"
    assert video.parameter_sets() == [b"\x40\x01\x0c\x01\xff\xff", b"\x42\x01\x01", b"\x44\x01\xc0"]


def test_repeated_and_extra_parameter_sets_are_kept_once_and_all_described() -> None:
    second_pps = bytes([0x68, 0xCE, 0x3C, 0x81])
    # The encoder's sets and the packetiser's again before a keyframe, and a second PPS.
    in_band = [SPS, PPS, SPS, PPS, second_pps]
    held = merge_parameter_sets("h264", (SPS, PPS), in_band)
    assert held == (SPS, PPS, second_pps)
    fmtp = dict(part.split("=", 1) for part in video_fmtp("h264", held).split(";"))
    assert fmtp["profile-level-id"] == "42c01e"
    described = fmtp["sprop-parameter-sets"].split(",")
    assert [base64.b64decode(part) for part in described] == [SPS, PPS, second_pps]
    # A new SPS in-band replaces the old one; the PPS held stay.
    new_sps = SPS[:4] + b"\x12" * 10
    assert merge_parameter_sets("h264", held, [new_sps]) == (PPS, second_pps, new_sps)
