"""The client's camera settings in Chromium: cameras found on the network by discovery and
added from the list, one added by its RTSP address (a wrong one refused, naming the field),
one deleted; each as the live view's tree then shows it."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.servers import ServerProcess
from tests.testcamera.process import TestCameraProcess
from tests.web.test_client import _log_in, _shot, _wait_playing

# WS-Discovery listens on UDP 3702, one process at a time: these tests run on their own.
pytestmark = [pytest.mark.udp_3702, pytest.mark.usefixtures("no_console_errors")]


@pytest.fixture
def discoverable(tmp_path: Path) -> Iterator[tuple[ServerProcess, TestCameraProcess]]:
    with (
        TestCameraProcess(tmp_path, count=2, discovery=True) as cameras,
        ServerProcess(tmp_path / "server").start() as server,
    ):
        cameras.start(timeout_s=120)
        server.create_system()
        yield server, cameras


def _camera_rows(page: Page) -> list[str]:
    return page.eval_on_selector_all(
        "#camera-rows tr[data-camera] td:first-child", "cells => cells.map(c => c.textContent)"
    )


def test_cameras_are_added_from_discovery_and_by_address_and_deleted(
    page: Page, discoverable: tuple[ServerProcess, TestCameraProcess], console_errors: list[str]
) -> None:
    server, cameras = discoverable
    page.on("dialog", lambda dialog: dialog.accept())  # "Delete the camera …?"
    page.goto(f"{server.url}/")
    _log_in(page)
    page.click("#show-settings")
    page.wait_for_selector("#settings-view:visible")
    assert _camera_rows(page) == []

    page.click("#discover")
    found = f"#discovered li[data-address='{cameras.url(0)}/onvif/device_service']"
    page.wait_for_selector(found, timeout=20_000)
    _shot(page, "7-discovered")
    page.click(f"{found} button")
    page.wait_for_selector(f"{found} >> text=added")
    assert _camera_rows(page) == ["Camera_001"]

    page.fill("#add-by-url input[name=name]", "Back door")
    page.fill("#add-by-url input[name=main_url]", "http://not-rtsp/")
    page.click("#add-by-url button")
    problem = page.wait_for_selector("#problem:visible")
    assert problem is not None
    assert (problem.text_content() or "").startswith("main_url:")
    assert [e for e in console_errors if "422" not in e] == []  # the refusal, and only it
    console_errors.clear()
    page.fill("#add-by-url input[name=main_url]", cameras.rtsp_url("/cam2/main"))
    page.click("#add-by-url button")
    page.wait_for_function("() => document.querySelectorAll('#camera-rows tr[data-camera]')"
                           ".length === 2")  # fmt: skip
    assert _camera_rows(page) == ["Back door", "Camera_001"]
    _shot(page, "8-settings-cameras")

    page.click("#camera-rows tr:has-text('Back door') button.delete")
    page.wait_for_function("() => document.querySelectorAll('#camera-rows tr[data-camera]')"
                           ".length === 1")  # fmt: skip
    page.click("#show-live")
    added = page.get_attribute("#camera-rows tr[data-camera]", "data-camera")
    page.wait_for_selector(f"#camera-tree li[data-camera='{added}']")
    page.click(f"#camera-tree li[data-camera='{added}']")
    _wait_playing(page, [str(added)])
