"""The web client as an operator meets it, in Chromium: a new system made from the login
screen, its cameras in a live grid (each tile playing; small tiles the sub stream, a tile
shown over the grid the main one), the layout kept across a reload, logging out to the
system's card and in again with "remember me". A screenshot of each step is kept in
build/screenshots/."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page

from tests.servers import OWNER, OWNER_PASSWORD, ServerProcess
from tests.testcamera.process import TestCameraProcess

SHOTS = Path("build/screenshots")
WAIT_MS = 30_000
CAMERAS = 4


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"client-{name}.png")


@pytest.fixture
def undefined(tmp_path: Path) -> Iterator[tuple[ServerProcess, TestCameraProcess]]:
    with (
        TestCameraProcess(tmp_path, count=CAMERAS) as cameras,
        ServerProcess(tmp_path / "server").start() as server,
    ):
        cameras.start(timeout_s=120)
        yield server, cameras


def _tiles_playing(page: Page) -> list[str]:
    """The cameras of the tiles whose video advances (two looks, half a second apart)."""
    look = """() => [...document.querySelectorAll('#grid vigil-video')].map(
        (player) => [player.getAttribute('camera'), player.video.currentTime])"""
    first = dict(page.evaluate(look))
    page.wait_for_timeout(500)
    later = dict(page.evaluate(look))
    return sorted(camera for camera, time in later.items() if time > first.get(camera, time))


def _wait_playing(page: Page, cameras: list[str]) -> None:
    for _ in range(60):
        if _tiles_playing(page) == sorted(cameras):
            return
    raise AssertionError(f"waited for tiles of {cameras} to play; playing: {_tiles_playing(page)}")


def _sizes(page: Page) -> list[int]:
    return page.evaluate(
        "() => [...document.querySelectorAll('#grid vigil-video')].map(p => p.video.videoWidth)"
    )


def test_a_new_system_from_the_login_screen_plays_its_cameras_in_a_grid(
    page: Page, undefined: tuple[ServerProcess, TestCameraProcess]
) -> None:
    server, cameras = undefined
    page.goto(f"{server.url}/")
    page.click("#offer-new")
    _shot(page, "1-undefined-server")
    page.fill("#new-system input[name=system_name]", "Plant 4")
    page.fill("#new-system input[name=owner_name]", OWNER)
    page.fill("#new-system input[name=owner_password]", OWNER_PASSWORD)
    page.click("#new-system button")
    page.wait_for_selector("#workspace:visible")
    assert page.text_content("#system-name") == "Plant 4"
    assert page.text_content("#user-name") == OWNER

    # Cameras added through the API (the settings screens come later), found by the tree.
    with server.login() as owner:
        ids = []
        for n in range(1, CAMERAS + 1):
            main, sub = cameras.rtsp_url(f"/cam{n}/main"), cameras.rtsp_url(f"/cam{n}/sub")
            added = owner.post("/cameras", json={"name": f"Gate {n}", "main_url": main,
                                                 "sub_url": sub})  # fmt: skip
            assert added.status_code == 201, added.text
            ids.append(added.json()["id"])
    page.wait_for_selector(f"#camera-tree li[data-camera='{ids[-1]}']", timeout=WAIT_MS)
    page.fill("#camera-search", "gate 3")
    assert page.eval_on_selector_all("#camera-tree li", "items => items.length") == 1
    page.fill("#camera-search", "")

    page.click("#layouts button[data-size='4']")
    for camera_id in ids:
        page.click(f"#camera-tree li[data-camera='{camera_id}']")
    _wait_playing(page, ids)
    _shot(page, "2-four-tiles")

    # Nine tiles: small, so the sub stream (160 wide); one shown over the grid: the main (320).
    page.click("#layouts button[data-size='9']")
    _wait_playing(page, ids)
    page.wait_for_function("() => [...document.querySelectorAll('#grid vigil-video')]"
                           ".every(p => p.video.videoWidth === 160)", timeout=WAIT_MS)  # fmt: skip
    page.dblclick("#grid .tile[data-index='0']")
    page.wait_for_function("() => document.querySelector('#grid vigil-video')"
                           ".video.videoWidth === 320", timeout=WAIT_MS)  # fmt: skip
    _shot(page, "3-one-tile-over-the-grid")
    page.keyboard.press("Escape")

    # The layout is this user's in this browser: back after a reload.
    page.reload()
    page.wait_for_selector("#workspace:visible")
    _wait_playing(page, ids)
    assert len(_sizes(page)) == CAMERAS
    assert page.eval_on_selector_all("#grid .tile", "tiles => tiles.length") == 9

    # Out, to the system's card (its server marked as the one connected), and in again,
    # remembered: the cookie outlives the browser.
    page.click("#logout")
    page.wait_for_selector("#login-screen:visible")
    card = page.text_content(".card") or ""
    assert "Plant 4" in card
    assert "★" in card
    _shot(page, "4-login-card")
    page.fill("#login input[name=name]", OWNER)
    page.fill("#login input[name=password]", OWNER_PASSWORD)
    page.check("#login input[name=remember]")
    page.click("#login button")
    page.wait_for_selector("#workspace:visible")
    session = [c for c in page.context.cookies() if c["name"] == "vigil_session"]
    assert [c["expires"] > 0 for c in session] == [True]  # not a cookie of this browsing only
    with httpx.Client(base_url=f"{server.url}/api/v1") as anonymous:
        assert anonymous.get("/me").status_code == 401  # the page's login is its own cookie
