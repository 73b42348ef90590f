"""The RTP/RTSP building blocks on their own: packetisation, reports, requests, transports,
authentication. Pure functions; the whole-process tests show them working together."""

import base64
import hashlib
import struct
import time

import pytest

from vigil.media.rtsp.messages import BadRequest, parse_head
from vigil.media.rtsp.rtp import (
    MAX_PAYLOAD,
    packetize,
    packetize_nals,
    rtp_header,
    sender_report,
)
from vigil.media.rtsp.transports import TransportRequest
from vigil.testcamera.rtsp.auth import REALM, Authenticator

START = b"\x00\x00\x00\x01"
SPS = bytes([0x67, 0x42, 0xC0, 0x1E]) + b"\x11" * 10
PPS = bytes([0x68, 0xCE, 0x3C, 0x80])
IDR = bytes([0x65]) + bytes(range(256)) * 20  # 5,121 bytes: needs fragments


def _reassemble_h264(payloads: tuple[bytes, ...]) -> list[bytes]:
    nals: list[bytes] = []
    for payload in payloads:
        kind = payload[0] & 0x1F
        if kind == 24:  # STAP-A
            rest = payload[1:]
            while rest:
                size = int.from_bytes(rest[:2], "big")
                nals.append(rest[2 : 2 + size])
                rest = rest[2 + size :]
        elif kind == 28:  # FU-A
            if payload[1] & 0x80:
                nals.append(bytes([(payload[0] & 0xE0) | (payload[1] & 0x1F)]))
            nals[-1] += payload[2:]
        else:
            nals.append(payload)
    return nals


def test_h264_frame_round_trips_through_stap_a_and_fu_a() -> None:
    frame = packetize("h264", START + SPS + START + PPS + START + IDR)
    assert frame.keyframe
    assert all(len(p) <= MAX_PAYLOAD for p in frame.payloads)
    assert frame.payloads[0][0] & 0x1F == 24  # SPS and PPS in one aggregation packet
    fragments = frame.payloads[1:]
    assert [p[1] & 0xC0 for p in fragments] == [0x80] + [0] * (len(fragments) - 2) + [0x40]
    assert _reassemble_h264(frame.payloads) == [SPS, PPS, IDR]


def test_h264_non_key_frame_is_one_packet() -> None:
    slice_ = bytes([0x41]) + b"\x22" * 300
    frame = packetize("h264", START + slice_)
    assert not frame.keyframe
    assert frame.payloads == (slice_,)


def test_h265_fragments_carry_the_type_in_the_fu_header() -> None:
    idr = bytes([19 << 1, 0x01]) + b"\x33" * 4000  # IDR_W_RADL
    frame = packetize("h265", START + idr)
    assert frame.keyframe
    assert all((p[0] >> 1) & 0x3F == 49 and p[1] == 0x01 for p in frame.payloads)
    assert [p[2] & 0x3F for p in frame.payloads] == [19] * len(frame.payloads)
    assert frame.payloads[0][2] & 0x80
    assert frame.payloads[-1][2] & 0x40
    body = b"".join(p[3:] for p in frame.payloads)
    assert bytes([idr[0], idr[1]]) + body == idr


def test_h265_small_units_share_aggregation_packets_up_to_the_packet_size() -> None:
    slices = [bytes([1 << 1, 0x01]) + bytes([n]) * 90 for n in range(40)]  # TRAIL_R, TID 0
    payloads = packetize_nals("h265", slices)
    assert 1 < len(payloads) < 10
    assert all(len(p) <= MAX_PAYLOAD for p in payloads)
    unpacked = []
    for payload in payloads:
        assert (payload[0] >> 1) & 0x3F == 48  # AP
        assert payload[1] == 0x01  # layer 0, temporal id 0
        rest = payload[2:]
        while rest:
            size = int.from_bytes(rest[:2], "big")
            unpacked.append(rest[2 : 2 + size])
            rest = rest[2 + size :]
    assert unpacked == slices


def test_rtp_header_fields() -> None:
    header = rtp_header(seq=70_000, timestamp=2**32 + 5, ssrc=0xABCDEF01, marker=True)
    first, second, seq, timestamp, ssrc = struct.unpack("!BBHII", header)
    assert (first, second, seq, timestamp, ssrc) == (
        0x80,
        0x80 | 96,
        70_000 & 0xFFFF,
        5,
        0xABCDEF01,
    )


def test_sender_report_pairs_rtp_time_with_wall_clock() -> None:
    now = time.time()
    report = sender_report(0x1234, 90_000, 10, 12_345, "cam-main", wall_time=now)
    version, kind, length, ssrc, ntp_high, ntp_low, rtp, packets, octets = struct.unpack(
        "!BBHIIIIII", report[:28]
    )
    assert (version, kind, length, ssrc, rtp, packets, octets) == (
        0x80,
        200,
        6,
        0x1234,
        90_000,
        10,
        12_345,
    )
    ntp = ntp_high + ntp_low / 2**32 - 2_208_988_800
    assert abs(ntp - now) < 0.001
    sdes = report[28:]
    assert sdes[1] == 202
    assert b"cam-main" in sdes
    assert len(report) % 4 == 0


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("RTP/AVP/TCP;unicast;interleaved=2-3", TransportRequest(tcp=True, channels=(2, 3))),
        (
            "RTP/AVP;unicast;client_port=5000-5001",
            TransportRequest(tcp=False, client_ports=(5000, 5001)),
        ),
        (
            "RTP/AVP;multicast, RTP/AVP/TCP;interleaved=0-1",
            TransportRequest(tcp=True, channels=(0, 1)),
        ),
        ("RTP/AVP;multicast;destination=239.0.0.1", None),
        ("RTP/AVP;unicast", None),
        ("RTP/AVP/TCP;interleaved=300-301", None),
        ("garbage", None),
    ],
)
def test_transport_choice(header: str, expected: TransportRequest | None) -> None:
    assert TransportRequest.choose(header) == expected


def test_request_heads_parse_and_bad_ones_are_refused() -> None:
    request = parse_head(b"GET_PARAMETER rtsp://h:1/cam1/main/ RTSP/1.0\r\nCSeq: 7\r\n\r\n")
    assert (request.method, request.cseq, request.path) == ("GET_PARAMETER", "7", "/cam1/main")
    setup = b"SETUP rtsp://h/cam2/sub/trackID=0 RTSP/1.0\r\nCSeq: 1\r\n\r\n"
    assert parse_head(setup).path == "/cam2/sub"
    for head in (
        b"\xff\xfe\r\n\r\n",
        b"DESCRIBE\r\n\r\n",
        b"DESCRIBE x RTSP/1.0\r\nCSeq: 1\r\nNoColon\r\n\r\n",
        b"DE$CRIBE x RTSP/1.0\r\nCSeq: 1\r\n\r\n",
        b"DESCRIBE x RTSP/1.0\r\n\r\n",  # no CSeq
        b"DESCRIBE x RTSP/1.0\r\nCSeq: 1a\r\n\r\n",
        b"DESCRIBE x RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: a\x07b\r\n\r\n",
        b"DESCRIBE x\x7f RTSP/1.0\r\nCSeq: 1\r\n\r\n",
    ):
        with pytest.raises(BadRequest):
            parse_head(head)


def _digest(auth: Authenticator, *, password: str, realm: str = REALM, uri: str = "/x") -> str:
    nonce = auth.challenges()[0].split('nonce="')[1].split('"')[0]

    def md5(text: str) -> str:
        return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()

    response = md5(f"{md5(f'admin:{realm}:{password}')}:{nonce}:{md5(f'DESCRIBE:{uri}')}")
    return (
        f'Digest username="admin", realm="{realm}", nonce="{nonce}", uri="{uri}", '
        f'response="{response}"'
    )


def test_digest_and_basic_authentication() -> None:
    auth = Authenticator("admin", "sesame")
    assert auth.check("DESCRIBE", _digest(auth, password="sesame"))
    assert not auth.check("DESCRIBE", _digest(auth, password="wrong"))
    assert not auth.check("DESCRIBE", _digest(auth, password="sesame", realm="other"))
    assert auth.check("DESCRIBE", "Basic " + base64.b64encode(b"admin:sesame").decode())
    assert not auth.check("DESCRIBE", "Basic " + base64.b64encode(b"admin:nope").decode())
    assert not auth.check("DESCRIBE", "Basic ***")
    assert not auth.check("DESCRIBE", 'Digest username="ädmin", response="ü"')
    assert not auth.check("DESCRIBE", None)
