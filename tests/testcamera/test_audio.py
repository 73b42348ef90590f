"""The cameras' sound as clients nobody here wrote hear it: ffprobe and ffmpeg over RTSP."""

import json
import subprocess
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from tests.testcamera.ffmpeg import decode_errors, record
from tests.testcamera.process import TestCameraProcess
from tests.testcamera.rtsp_client import Conversation, session_of
from tests.testcamera.sound import assert_in_step

VIDEO_FRAME_S = 1 / 25  # the cameras' main stream here: 320x240@25


@pytest.fixture(scope="module")
def cameras(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestCameraProcess]:
    with TestCameraProcess(tmp_path_factory.mktemp("audio"), count=2) as process:
        yield process.start(timeout_s=120)


def _streams(url: str, transport: str) -> list[dict[str, object]]:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-rtsp_transport", transport, "-show_entries",
         "stream=codec_type,codec_name,profile,sample_rate,channels", "-of", "json", url],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    streams: list[dict[str, object]] = json.loads(result.stdout)["streams"]
    return streams


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_ffprobe_finds_aac_sound_beside_the_video(
    cameras: TestCameraProcess, transport: str
) -> None:
    streams = _streams(cameras.rtsp_url("/cam2/sub"), transport)
    assert [s["codec_type"] for s in streams] == ["video", "audio"]
    assert {k: streams[1][k] for k in ("codec_name", "profile", "sample_rate", "channels")} == {
        "codec_name": "aac",
        "profile": "LC",
        "sample_rate": "16000",
        "channels": 1,
    }


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_recorded_sound_is_unbroken_and_in_step_with_the_caption(
    cameras: TestCameraProcess, tmp_path: Path, transport: str
) -> None:
    """A tone burst starts every second of the camera's clock, its pitch naming the second:
    in an ffmpeg recording each falls where the video caption shows a whole second."""
    clip = tmp_path / "clip.mp4"
    record(cameras.rtsp_url("/cam1/main"), clip, seconds=6, transport=transport)
    assert decode_errors(clip) == ""
    assert_in_step(clip, at_least=4, within_s=VIDEO_FRAME_S)


def test_a_session_takes_the_other_track_of_its_own_stream_only(
    cameras: TestCameraProcess,
) -> None:
    main, sub = cameras.rtsp_url("/cam1/main"), cameras.rtsp_url("/cam1/sub")
    with closing(Conversation(cameras.rtsp_port)) as rtsp:
        session = session_of(
            rtsp.ask(
                f"SETUP {main}/trackID=0 RTSP/1.0\r\nCSeq: 1\r\n"
                "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n"
            )
        )
        answers = [
            rtsp.ask(
                f"SETUP {url}/trackID=1 RTSP/1.0\r\nCSeq: {n}\r\nSession: {session}\r\n"
                f"Transport: RTP/AVP/TCP;unicast;interleaved={channels}\r\n"
            )
            for n, (url, channels) in enumerate(
                [(sub, "2-3"), (main, "0-1"), (main, "2-3"), (main, "4-5")], start=2
            )
        ]
    # Another stream's track: refused; on the video's channels: refused; then taken, once.
    assert [a.split(" ")[1] for a in answers] == ["459", "461", "200", "455"]


def test_cameras_without_a_microphone_offer_video_alone(tmp_path: Path) -> None:
    with TestCameraProcess(tmp_path, extra_args=("--no-audio",)) as quiet:
        quiet.start(timeout_s=120)
        streams = _streams(quiet.rtsp_url("/cam1/main"), "tcp")
    assert [s["codec_type"] for s in streams] == ["video"]
