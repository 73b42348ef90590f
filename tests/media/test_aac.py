"""AAC over RTP (RFC 3640) into access units, and the SDP and config that describe it."""

import pytest

from vigil.media.aac import AacDepacketizer, AacError, AacParameters, AudioUnit, parse_config
from vigil.media.rtsp.rtp import rtp_header
from vigil.media.rtsp.sdp import parse_tracks
from vigil.testcamera.rtsp import aac as camera_aac

FMTP = {"mode": "AAC-hbr", "config": "1408", "sizelength": "13", "indexlength": "3",
        "indexdeltalength": "3"}  # fmt: skip
PT = 97


def _depacketizer() -> tuple[AacDepacketizer, list[AudioUnit]]:
    units: list[AudioUnit] = []
    return AacDepacketizer(AacParameters.from_fmtp(FMTP), PT, units.append), units


def _packet(seq: int, timestamp: int, payload: bytes, marker: bool = True) -> bytes:
    return rtp_header(seq, timestamp, 0x1234, marker, PT) + payload


def test_units_sent_several_to_a_packet_come_out_one_by_one_with_their_times() -> None:
    sent = [bytes([n]) * (50 + 40 * n) for n in range(10)]
    packets = camera_aac.packetize(sent)
    assert len(packets) < len(sent)
    depacketizer, units = _depacketizer()
    for seq, packet in enumerate(packets):
        depacketizer.push(_packet(seq, 90_000 + packet.first_unit * 1024, packet.payload))
    assert [u.data for u in units] == sent
    assert [u.rtp_timestamp for u in units] == [90_000 + n * 1024 for n in range(10)]
    assert depacketizer.dropped_units == depacketizer.lost_packets == 0


def _pieces(unit: bytes, size: int) -> list[bytes]:
    """`unit` split across packets, each repeating its AU header (RFC 3640 §3.2.3.1)."""
    header = b"\x00\x10" + (len(unit) << 3).to_bytes(2, "big")
    return [header + unit[i : i + size] for i in range(0, len(unit), size)]


def test_a_unit_split_across_packets_is_joined() -> None:
    unit = bytes(range(256)) * 12
    depacketizer, units = _depacketizer()
    pieces = _pieces(unit, 1200)
    for seq, piece in enumerate(pieces):
        depacketizer.push(_packet(seq, 5000, piece, marker=seq == len(pieces) - 1))
    assert units == [AudioUnit(5000, unit)]


@pytest.mark.parametrize("lost", [0, 1, 2])
def test_a_split_unit_missing_a_piece_is_dropped_once_and_the_next_one_kept(lost: int) -> None:
    depacketizer, units = _depacketizer()
    depacketizer.push(_packet(0, 3976, camera_aac.packetize([b"unit before"])[0].payload))
    pieces = _pieces(bytes(3000), 1200)
    for n, piece in enumerate(pieces):
        if n != lost:
            depacketizer.push(_packet(1 + n, 5000, piece, marker=n == len(pieces) - 1))
    whole = camera_aac.packetize([b"next unit"])[0].payload
    depacketizer.push(_packet(1 + len(pieces), 6024, whole))
    assert units == [AudioUnit(3976, b"unit before"), AudioUnit(6024, b"next unit")]
    assert (depacketizer.lost_packets, depacketizer.dropped_units) == (1, 1)


def test_headers_promising_more_than_the_packet_holds_drop_the_packet() -> None:
    depacketizer, units = _depacketizer()
    payload = b"\x00\x20" + (100 << 3).to_bytes(2, "big") + (100 << 3).to_bytes(2, "big")
    depacketizer.push(_packet(1, 0, payload + bytes(150)))
    assert len(units) == 1
    assert depacketizer.dropped_units == 1


@pytest.mark.parametrize(
    ("config", "rate", "channels", "samples"),
    [
        ("1408", 16000, 1, 1024),  # AAC-LC, as cameras send
        ("140856e500", 16000, 1, 1024),  # with FFmpeg's sync extension after it
        ("1210", 44100, 2, 1024),
        ("1188", 48000, 1, 1024),
        ("140c", 16000, 1, 960),  # frameLengthFlag
        ("2b920800", 44100, 2, 2048),  # HE-AAC: 22.05 kHz core, 44.1 kHz out
    ],
)
def test_audio_specific_config_gives_rate_channels_and_frame_length(
    config: str, rate: int, channels: int, samples: int
) -> None:
    parsed = parse_config(bytes.fromhex(config))
    assert (parsed.sample_rate, parsed.channels, parsed.frame_samples) == (
        rate,
        channels,
        samples,
    )


@pytest.mark.parametrize(
    "change",
    [
        {"mode": "generic"},
        {"config": ""},
        {"config": "zz"},
        {"config": "17"},  # cut short
        {"config": "1400"},  # channels from a program config element
        {"sizelength": "0"},
        {"ctsdeltalength": "16"},
    ],
)
def test_unusable_aac_parameters_are_refused(change: dict[str, str]) -> None:
    with pytest.raises(AacError):
        AacParameters.from_fmtp({**FMTP, **change})


def test_a_cameras_sdp_gives_the_video_and_its_aac_sound() -> None:
    sdp = "\r\n".join(
        [
            "v=0",
            "a=control:*",
            "m=video 0 RTP/AVP 96",
            "a=rtpmap:96 H264/90000",
            "a=control:trackID=0",
            "m=audio 0 RTP/AVP 97",
            "a=rtpmap:97 mpeg4-generic/16000/1",
            "a=fmtp:97 streamtype=5; profile-level-id=15; mode=AAC-hbr; config=1408; "
            "SizeLength=13; IndexLength=3; IndexDeltaLength=3",
            "a=control:trackID=1",
        ]
    )
    video, audio = parse_tracks(sdp, "rtsp://cam/live")
    assert (video.codec, video.audio_codec) == ("h264", None)
    assert (audio.codec, audio.audio_codec) == (None, "aac")
    assert (audio.control, audio.clock_rate) == ("rtsp://cam/live/trackID=1", 16000)
    parameters = audio.aac_parameters()
    assert (parameters.config.sample_rate, parameters.config.channels) == (16000, 1)
    assert (parameters.size_bits, parameters.index_bits) == (13, 3)
