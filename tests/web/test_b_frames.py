"""Chromium playing a camera that sends B-frames (GStreamer's RTSP server, H.264 High with two
B-frames): live video keeps moving, every picture decoded, in one unbroken buffered range;
recorded video plays from a time sought."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.peers.exercise import add_camera, wait_online, wait_recorded
from tests.peers.gst import GstCamera, missing
from tests.servers import ServerProcess
from tests.web.browser import open_player

WAIT_MS = 30_000
FPS = 25


@pytest.fixture(scope="module")
def b_frame_camera(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, str]]:
    reason = missing()
    if reason is not None:
        pytest.skip(reason)
    folder: Path = tmp_path_factory.mktemp("b-frames")
    mounts = [{"path": "/b", "profile": "high", "bframes": 2, "fps": FPS}]
    with (
        GstCamera(folder, mounts) as camera,
        ServerProcess(folder / "server") as server,
    ):
        camera.start()
        server.start()
        server.create_system()
        with server.login() as owner:
            camera_id = add_camera(owner, "B-frames", camera.url("/b"))
            wait_online(owner, camera_id)
            wait_recorded(owner, camera_id, int(time.time() * 1000) - 1000, 4.0)
        yield server, camera_id


def _shown(page: Page) -> dict[str, float]:
    shown: dict[str, float] = page.evaluate(
        """() => {
            const video = document.querySelector('vigil-video video');
            return {
                time: video.currentTime,
                ranges: video.buffered.length,
                decoded: video.getVideoPlaybackQuality().totalVideoFrames,
            };
        }"""
    )
    return shown


def _plays_on(page: Page, seconds: float) -> None:
    """The video's time moves on by `seconds` and Chromium decodes pictures all the while (a
    frozen picture under a running clock would not)."""
    before = _shown(page)
    page.wait_for_function(
        "([start, seconds]) => document.querySelector('vigil-video video').currentTime"
        " >= start + seconds",
        arg=[before["time"], seconds],
        timeout=WAIT_MS,
    )
    after = _shown(page)
    # At least half the camera's pictures in that time: it plays, not one picture per GOP.
    assert after["decoded"] - before["decoded"] >= seconds * FPS / 2, (before, after)


def test_a_b_frame_camera_keeps_playing_live(
    page: Page, b_frame_camera: tuple[ServerProcess, str]
) -> None:
    server, camera_id = b_frame_camera
    open_player(page, server.url, camera_id)
    page.wait_for_function(
        "() => document.querySelector('vigil-video video').videoWidth > 0", timeout=WAIT_MS
    )
    _plays_on(page, 3.0)
    shown = _shown(page)
    assert shown["ranges"] == 1, shown  # no islands of pictures with holes between


def test_a_b_frame_recording_plays_from_the_time_sought(
    page: Page, b_frame_camera: tuple[ServerProcess, str]
) -> None:
    server, camera_id = b_frame_camera
    open_player(page, server.url, camera_id)
    page.wait_for_function(
        "() => document.querySelector('vigil-video video').videoWidth > 0", timeout=WAIT_MS
    )
    sought_ms = int(time.time() * 1000) - 3000
    page.evaluate("(ms) => document.querySelector('vigil-video').seek(ms)", sought_ms)
    page.wait_for_function(
        "(ms) => { const p = document.querySelector('vigil-video');"
        " return p.state === 'playing' && p.timeMs !== null && p.timeMs >= ms; }",
        arg=sought_ms,
        timeout=WAIT_MS,
    )
    _plays_on(page, 1.5)
    shown_ms: int = page.evaluate("() => document.querySelector('vigil-video').timeMs")
    assert sought_ms + 1_000 <= shown_ms <= sought_ms + 5_000
