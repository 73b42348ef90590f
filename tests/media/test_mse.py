"""MIME codecs strings, from parameter sets x264 and x265 wrote (checked against the forms
browsers document: avc1.PPCCLL, hvc1.1.6.L60.90)."""

from vigil.media import mse, sps
from vigil.media.codecs import Codec
from vigil.media.frames import AudioConfig, StreamConfig

H264 = (
    bytes.fromhex("6764001eacd940a03db011000003000100000300320f162d96"),  # High, level 3.0
    bytes.fromhex("68ebe3cb22c0"),
)
H265 = (
    bytes.fromhex("40010c01ffff01600000030090000003000003003c959809"),
    bytes.fromhex(
        "42010101600000030090000003000003003ca00a080f165959a4932bc05a020000030002000003003210"
    ),  # Main, Main tier, level 2.0, progressive and frame-only constraint flags
    bytes.fromhex("4401c172b46240"),
)


def config(codec: Codec, parameter_sets: tuple[bytes, ...]) -> StreamConfig:
    sps_nal = parameter_sets[0] if codec == "h264" else parameter_sets[1]
    return StreamConfig(codec, parameter_sets, sps.parse(codec, sps_nal))


def test_h264_is_named_by_profile_constraints_and_level_of_its_sps() -> None:
    assert mse.video_codec(config("h264", H264)) == "avc1.64001e"


def test_h265_is_named_by_its_general_profile_tier_and_level() -> None:
    assert mse.video_codec(config("h265", H265)) == "hvc1.1.6.L60.90"


def test_sound_adds_its_aac_object_type() -> None:
    lc = AudioConfig("aac", 16_000, 1, 1024, bytes.fromhex("1408"))
    assert mse.mime_type(config("h264", H264), lc) == 'video/mp4; codecs="avc1.64001e,mp4a.40.2"'
    assert mse.mime_type(config("h264", H264), None) == 'video/mp4; codecs="avc1.64001e"'
