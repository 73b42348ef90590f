"""Recording sound, against simulated cameras: AAC beside the picture, whole and in step.

The cameras' sound is a tone burst at the start of every wall-clock second, its pitch naming
the second (`vigil/testcamera/audio/signal.py`); the video caption shows the same wall clock.
"""

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.media.test_recording import _files, _frame_numbers, recording, wait_recorded
from tests.servers import ServerProcess
from tests.testcamera.ffmpeg import decode_errors
from tests.testcamera.process import TestCameraProcess
from tests.testcamera.sound import assert_in_step, decode_audio

VIDEO_FRAME_S = 1 / 25  # the test cameras' main stream: 320x240@25
SOUND_FRAME_S = 1024 / 16_000  # one AAC frame of the cameras' 16 kHz sound
START_GAP_S = 0.5  # a recording's first moment without sound that nobody would call missing


def _streams(path: Path) -> list[dict[str, Any]]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name,sample_rate",
         "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    streams: list[dict[str, Any]] = json.loads(out)["streams"]
    return streams


def _record(
    tmp_path: Path, camera: TestCameraProcess, transport: str, seconds: float
) -> tuple[Path, dict[str, Any]]:
    """Record `seconds` of the camera; the one file made and the main stream's stats."""
    with ServerProcess(tmp_path / "server") as server:
        started_ms = int(time.time() * 1000)
        with recording(server, camera, transport) as (owner, camera_id):
            wait_recorded(owner, camera_id, started_ms, seconds)
            stats: dict[str, Any] = owner.get(f"/cameras/{camera_id}").json()["streams"]["main"][
                "stats"
            ]
        server.stop()
        (recorded,) = _files(server.data_dir, "*_*.mp4")
    return recorded, stats


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_recorded_sound_is_whole_and_in_step_with_the_picture(
    tmp_path: Path, camera: TestCameraProcess, transport: str
) -> None:
    recorded, stats = _record(tmp_path, camera, transport, 7)
    assert stats["audio"] == "aac 16000 Hz mono"
    assert [(s["codec_type"], s["codec_name"]) for s in _streams(recorded)] == [
        ("video", "h264"),
        ("audio", "aac"),
    ]
    assert decode_errors(recorded) == ""
    # Sound from the file's start to its end, give or take a frame at the end. At the start
    # what a listener notices: no more than a moment without it (how long depends on the load:
    # on a machine running two test workers and a CPU hog it began 80 ms, once 155 ms, in).
    samples, rate, first_s = decode_audio(recorded)
    duration_s = int(recorded.stem.split("_")[1]) / 1000
    assert 0 <= first_s <= START_GAP_S
    assert abs(first_s + len(samples) / rate - duration_s) <= SOUND_FRAME_S
    # In step: each burst starts within two video frames of the caption's whole second.
    assert_in_step(recorded, at_least=5, within_s=2 * VIDEO_FRAME_S)


def test_a_camera_without_sound_records_the_picture_alone(tmp_path: Path) -> None:
    with TestCameraProcess(tmp_path, extra_args=("--no-audio",)) as quiet:
        quiet.start(timeout_s=120)
        recorded, stats = _record(tmp_path, quiet, "tcp", 5)
    assert stats["audio"] is None
    assert [s["codec_type"] for s in _streams(recorded)] == ["video"]
    assert decode_errors(recorded) == ""
    numbers = _frame_numbers(recorded)
    assert len(numbers) >= 25 * 3
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
