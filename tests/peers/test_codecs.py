"""Vigil recording GStreamer cameras of every encoding a camera may send: H.264 of each
profile, H.265, pictures of several slices, SEI and access unit delimiters, parameter sets
only in band, sound beside the picture; each checked end to end (tests/peers/exercise.py)."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.peers.exercise import Expected, Vigil, exercise
from tests.peers.gst import GstCamera

H264 = Expected("h264")
H265 = Expected("h265")
AAC = "aac 16000 Hz mono"

# path → (the camera's mount, what Vigil should make of it)
CASES: dict[str, tuple[dict[str, Any], Expected]] = {
    "h264-baseline": ({"profile": "baseline"}, H264),
    "h264-main": ({"profile": "main"}, H264),
    "h264-high": ({"profile": "high"}, H264),
    "h265": ({"codec": "h265"}, H265),
    "h264-4-slices": ({"slices": 4}, H264),
    "h265-4-slices": ({"codec": "h265", "slices": 4}, H265),
    "h264-sei-aud": ({"sei": True, "aud": True}, H264),
    "h265-sei-aud": ({"codec": "h265", "sei": True, "aud": True}, H265),
    "h264-in-band-only": ({"in_band_only": True}, H264),
    "h265-in-band-only": ({"codec": "h265", "in_band_only": True}, H265),
    "h264-aac": ({"audio": True}, Expected("h264", audio=AAC)),
    "h264-b-frames": ({"profile": "high", "bframes": 2}, H264),
    "h265-b-frames": ({"codec": "h265", "bframes": 2}, H265),
}


@pytest.fixture(scope="module")
def camera(vigil: Vigil) -> Iterator[GstCamera]:
    mounts = [{"path": f"/{path}", **mount} for path, (mount, _) in CASES.items()]
    with GstCamera(vigil.folder, mounts) as gst:
        yield gst.start()


@pytest.mark.parametrize("path", list(CASES))
def test_gstreamer_camera_is_recorded_exported_and_served_again(
    vigil: Vigil, camera: GstCamera, path: str
) -> None:
    _, expected = CASES[path]
    exercise(vigil, path, camera.url(f"/{path}"), expected)
