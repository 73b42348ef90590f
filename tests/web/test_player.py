"""The web client's player in Chromium: live video from simulated cameras through Media
Source Extensions advances at the camera's size, near the newest picture; a codec the
browser cannot play is refused with the server's reason."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.media.test_live import Served, _online, serving, serving_own_camera
from tests.servers import OWNER, OWNER_PASSWORD
from tests.testcamera.process import TestCameraProcess

WAIT_MS = 30_000
H265 = 'video/mp4; codecs="hvc1.1.6.L93.B0"'


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A server recording one simulated camera, both its streams, for the module's tests."""
    folder = tmp_path_factory.mktemp("web")
    with TestCameraProcess(folder, count=1) as camera:
        camera.start(timeout_s=120)
        with serving(folder, camera) as served:
            _, owner, camera_id = served
            sub_url = camera.rtsp_url("/cam1/sub")
            sub = owner.patch(f"/cameras/{camera_id}", json={"sub_url": sub_url})
            assert sub.status_code == 200, sub.text
            _online(owner, camera_id, "sub")
            yield served


def _open_player(page: Page, url: str, camera_id: str, stream: str = "main") -> None:
    """The page at `url`, logged in as the owner through the API, showing `camera_id`."""
    page.goto(f"{url}/#camera={camera_id}&stream={stream}")
    page.wait_for_selector("#login", state="visible")  # not logged in yet
    status = page.evaluate(
        """async ([name, password]) => {
            const { login } = await import('/app/api.js');
            await login(name, password);
            return (await fetch('/api/v1/me')).status;
        }""",
        [OWNER, OWNER_PASSWORD],
    )
    assert status == 200
    page.reload()
    page.wait_for_selector("vigil-video video")


def _video(page: Page) -> dict[str, Any]:
    """What the player's <video> and the element say now."""
    shown: dict[str, Any] = page.evaluate(
        """() => {
            const player = document.querySelector('vigil-video');
            const video = player.video;
            const ranges = video.buffered;
            return {
                time: video.currentTime,
                width: video.videoWidth,
                height: video.videoHeight,
                behind: ranges.length ? ranges.end(ranges.length - 1) - video.currentTime : null,
                state: player.state,
                error: player.error,
                line: player.querySelector('[role=status]').textContent,
            };
        }"""
    )
    return shown


def _wait_until_time_passes(page: Page, seconds: float) -> float:
    """Waits for the video to reach `seconds` past where it is now; returns where it was."""
    start: float = page.evaluate("() => document.querySelector('vigil-video video').currentTime")
    page.wait_for_function(
        "([start, seconds]) => document.querySelector('vigil-video video').currentTime"
        " >= start + seconds",
        arg=[start, seconds],
        timeout=WAIT_MS,
    )
    return start


def test_live_video_plays_at_the_camera_size_near_the_newest_picture(
    page: Page, served: Served
) -> None:
    server, _, camera_id = served
    _open_player(page, server.url, camera_id)
    page.wait_for_function(
        "() => document.querySelector('vigil-video video').videoWidth > 0", timeout=WAIT_MS
    )
    _wait_until_time_passes(page, 2.0)
    shown = _video(page)
    assert (shown["width"], shown["height"]) == (320, 240)  # the camera's main stream
    assert shown["state"] == "playing"
    assert shown["error"] is None
    assert shown["behind"] is not None
    assert shown["behind"] < 2.0  # live, not a growing backlog


def test_the_sub_stream_plays_at_its_own_size(page: Page, served: Served) -> None:
    server, _, camera_id = served
    _open_player(page, server.url, camera_id, stream="sub")
    _wait_until_time_passes(page, 2.0)
    shown = _video(page)
    assert (shown["width"], shown["height"]) == (160, 120)


def test_h265_plays_only_if_the_browser_can_and_is_otherwise_refused_with_the_reason(
    page: Page, tmp_path: Path
) -> None:
    with serving_own_camera(tmp_path, "--codec", "h265") as (server, _, camera_id):
        _open_player(page, server.url, camera_id)
        plays_h265 = page.evaluate("(mime) => MediaSource.isTypeSupported(mime)", H265)
        if plays_h265:
            _wait_until_time_passes(page, 2.0)
            assert (_video(page)["width"], _video(page)["height"]) == (320, 240)
            return
        page.wait_for_function(
            "() => document.querySelector('vigil-video').state === 'error'", timeout=WAIT_MS
        )
        shown = _video(page)
    assert shown["error"]["code"] == "unsupported_codec"
    assert "H265" in shown["line"]  # the server's message, shown to the user
    assert shown["time"] == 0
