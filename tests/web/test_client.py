"""The web client as an operator meets it, in Chromium: a new system made from the login screen,
its cameras in a live grid (each tile playing and marked REC; small tiles the sub stream, a
tile shown over the grid or a big 2x2 tile the main one), a layout saved and shared, what the
window shows kept across a reload, logging out to the system's card and in again with
"remember me"; 64 tiles playing; a second window with its own layout, opened again at the next
login; a custom role made in the permission matrix that sees only its cameras, a viewer offered
no settings but the shared layouts; playback of the layout in sync, a thumbnail and a click on
the timeline, exports of a marked range (a download, and a job of every camera), each camera on
its own clock; the audit trail filtered and saved as CSV; the PTZ panel and a snapshot; a
camera edited with a weekly schedule, storages, servers and conflicts in the settings. A
screenshot of each step is kept in build/screenshots/."""

import io
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.media.captions import of_day, pictures
from tests.media.test_recording import wait_recorded
from tests.servers import OWNER, OWNER_PASSWORD, ServerProcess, add_user
from tests.testcamera.process import TestCameraProcess
from tests.waiting import wait_for
from vigil.testcamera.video.band import tint_of

pytestmark = pytest.mark.usefixtures("no_console_errors")

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


def _add_cameras(server: ServerProcess, cameras: TestCameraProcess) -> list[str]:
    """The simulated cameras, added through the API (the settings screens have their test)."""
    ids = []
    with server.login() as owner:
        for n in range(1, cameras.count + 1):
            main, sub = cameras.rtsp_url(f"/cam{n}/main"), cameras.rtsp_url(f"/cam{n}/sub")
            added = owner.post("/cameras", json={"name": f"Gate {n}", "main_url": main,
                                                 "sub_url": sub})  # fmt: skip
            assert added.status_code == 201, added.text
            ids.append(added.json()["id"])
    return ids


def _log_in(page: Page, name: str = OWNER, password: str = OWNER_PASSWORD) -> None:
    page.wait_for_selector("#login")
    page.fill("#login input[name=name]", name)
    page.fill("#login input[name=password]", password)
    page.click("#login button")
    page.wait_for_selector("#workspace:visible")


def _tiles_playing(page: Page) -> list[str]:
    """The cameras of the tiles whose video advances (two looks, half a second apart)."""
    look = """() => [...document.querySelectorAll('#grid vigil-video')].map(
        (player) => [player.getAttribute('camera'), player.video.currentTime])"""
    first = dict(page.evaluate(look))
    page.wait_for_timeout(500)
    later = dict(page.evaluate(look))
    return sorted(camera for camera, time in later.items() if time > first.get(camera, time))


def _owner_with_cameras(
    page: Page, undefined: tuple[ServerProcess, TestCameraProcess], path: str = "/"
) -> tuple[ServerProcess, list[str]]:
    """The undefined server made a system of the simulated cameras, and its owner logged in
    to the page at `path`: the server and the cameras' ids."""
    server, cameras = undefined
    server.create_system()
    ids = _add_cameras(server, cameras)
    page.goto(f"{server.url}{path}")
    _log_in(page)
    return server, ids


def _wait_playing(page: Page, cameras: list[str]) -> None:
    for _ in range(60):
        if _tiles_playing(page) == sorted(cameras):
            return
    raise AssertionError(f"waited for tiles of {cameras} to play; playing: {_tiles_playing(page)}")


# Each tile's camera and the mean colour of its caption band's background (the dark pixels of
# the top 32 rows of the picture, the characters left out).
BAND_COLOURS = """() => [...document.querySelectorAll('#grid vigil-video')].map((player) => {
    const { video } = player;
    const canvas = new OffscreenCanvas(video.videoWidth, 32);
    const context = canvas.getContext('2d');
    context.drawImage(video, 0, 0, video.videoWidth, 32, 0, 0, video.videoWidth, 32);
    const rgba = context.getImageData(0, 0, video.videoWidth, 32).data;
    const sum = [0, 0, 0];
    let count = 0;
    for (let i = 0; i < rgba.length; i += 4) {
        if (rgba[i] + rgba[i + 1] + rgba[i + 2] < 300) {
            sum[0] += rgba[i]; sum[1] += rgba[i + 1]; sum[2] += rgba[i + 2];
            count += 1;
        }
    }
    return [player.getAttribute('camera'), sum.map((value) => value / Math.max(count, 1))];
})"""


def _nearest(tints: list[tuple[int, int]], rgb: list[float]) -> int:
    """Which of `tints` (Cb, Cr) a full-range RGB colour is nearest to (BT.601)."""
    red, green, blue = rgb
    cb = 128 + (-37.797 * red - 74.203 * green + 112.0 * blue) / 256
    cr = 128 + (112.0 * red - 93.786 * green - 18.214 * blue) / 256
    return min(range(len(tints)), key=lambda n: (tints[n][0] - cb) ** 2 + (tints[n][1] - cr) ** 2)


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

    ids = _add_cameras(server, cameras)  # found by the tree
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

    # The first tile over 2x2 cells ("1 + 5"): big, so the main stream; saved, shared.
    page.click("#grid .tile[data-index='0']")
    page.click("#tile-big")
    assert page.eval_on_selector_all("#grid .tile", "tiles => tiles.length") == 6
    page.wait_for_function("() => document.querySelector('#grid vigil-video')"
                           ".video.videoWidth === 320", timeout=WAIT_MS)  # fmt: skip
    page.fill("#layout-save input[name=name]", "Gates")
    page.check("#layout-save input[name=shared]")
    page.click("#layout-save button[name=new]")
    page.wait_for_selector("#saved-layouts option:checked:text('Gates (shared)')", state="attached")
    _shot(page, "3b-a-big-tile-saved")

    # What the window shows is this user's in this browser: back after a reload.
    page.reload()
    page.wait_for_selector("#workspace:visible")
    _wait_playing(page, ids)
    assert len(_sizes(page)) == CAMERAS
    assert page.eval_on_selector_all("#grid .tile", "tiles => tiles.length") == 6
    big = page.locator("#grid .tile[data-index='0']").bounding_box()
    small = page.locator("#grid .tile[data-index='1']").bounding_box()
    assert big is not None
    assert small is not None
    assert big["width"] > 1.9 * small["width"]
    assert big["height"] > 1.9 * small["height"]

    # Out, to the system's card (its server marked as the one connected), and in again,
    # remembered: the cookie outlives the browser.
    page.click("#logout")
    page.wait_for_selector("#login-screen:visible")
    card = page.text_content(".card") or ""
    assert "Plant 4" in card
    assert "★" in card
    _shot(page, "4-login-card")
    page.check("#login input[name=remember]")
    _log_in(page)
    session = [c for c in page.context.cookies() if c["name"] == "vigil_session"]
    assert [c["expires"] > 0 for c in session] == [True]  # not a cookie of this browsing only
    with httpx.Client(base_url=f"{server.url}/api/v1") as anonymous:
        assert anonymous.get("/me").status_code == 401  # the page's login is its own cookie


def test_a_64_tile_layout_plays_in_every_tile(
    page: Page, undefined: tuple[ServerProcess, TestCameraProcess]
) -> None:
    _, ids = _owner_with_cameras(page, undefined)
    page.click("#layouts button[data-size='64']")
    for n in range(64):  # each click fills the first empty tile: the cameras over and over
        page.click(f"#camera-tree li[data-camera='{ids[n % len(ids)]}']")
    # Every tile's video advancing: 0.2 s and more past where it stood at the first look.
    page.wait_for_function("""() => {
        const times = [...document.querySelectorAll('#grid vigil-video')]
            .map((player) => player.video.currentTime);
        window.firstLook ??= times;
        return times.length === 64 && times.every((t, n) => t > window.firstLook[n] + 0.2);
    }""", timeout=90_000)  # fmt: skip
    _shot(page, "2b-sixty-four-tiles")
    # Each tile shows its own camera: the simulated cameras' caption bands are each their own
    # colour (the names are cut in so small a picture).
    tiles = page.evaluate(BAND_COLOURS)
    assert len(tiles) == 64
    tints = [tint_of(n) for n in range(len(ids))]
    shown = [(camera, _nearest(tints, rgb)) for camera, rgb in tiles]
    assert shown == [(ids[n % len(ids)], n % len(ids)) for n in range(64)]


def test_a_second_window_keeps_its_own_layout_and_opens_again_at_the_next_login(
    page: Page, undefined: tuple[ServerProcess, TestCameraProcess]
) -> None:
    _, (first, second, *_) = _owner_with_cameras(page, undefined)
    page.click("#layouts button[data-size='4']")
    page.click(f"#camera-tree li[data-camera='{first}']")
    with page.context.expect_page() as opened:
        page.click("#new-window")
    other = opened.value
    other.wait_for_selector("#workspace:visible")
    assert other.is_hidden("#logout")  # the main window logs out, for all
    other.click("#layouts button[data-size='1']")
    other.click(f"#camera-tree li[data-camera='{second}']")
    _wait_playing(other, [second])
    _wait_playing(page, [first])
    _shot(other, "5-second-window")

    # Logging out closes it; logging in again opens it, with its own layout.
    with other.expect_event("close"):
        page.click("#logout")
    with page.context.expect_page() as reopened:
        _log_in(page)
    again = reopened.value
    again.wait_for_selector("#workspace:visible")
    _wait_playing(again, [second])
    assert again.eval_on_selector_all("#grid .tile", "tiles => tiles.length") == 1
    _wait_playing(page, [first])


def test_a_custom_role_made_in_the_matrix_sees_only_its_cameras_and_a_viewer_no_settings(
    page: Page, undefined: tuple[ServerProcess, TestCameraProcess]
) -> None:
    # The owner makes a role in the permission matrix (live view of one camera), and a user.
    server, ids = _owner_with_cameras(page, undefined, "/#settings=users")
    page.click("#new-role")
    page.fill("#role-form input[name=name]", "Gate keeper")
    page.check("#role-matrix input[data-kind=functions][value=live_view]")
    page.check(f"#role-matrix input[data-kind=cameras][value='{ids[1]}']")
    page.click("#role-form button:has-text('Save role')")
    page.wait_for_selector("#role-rows tr >> text=Gate keeper")
    page.fill("#add-user input[name=name]", "gate keeper")
    page.fill("#add-user input[name=password]", "user password 1")
    page.select_option("#add-user select[name=role_id]", label="Gate keeper")
    page.click("#add-user button")
    page.wait_for_selector("#user-rows tr >> text=gate keeper")
    _shot(page, "5b-users-and-roles")
    page.click("#logout")
    with server.login() as owner:
        role = next(r for r in owner.get("/roles").json()["roles"] if r["name"] == "Gate keeper")
        assert (role["functions"], role["operations"], role["resources"]) == (
            ["live_view"],
            [],
            {"cameras": [ids[1]], "layouts": []},
        )
        add_user(owner, "guard", "viewer", "guard password 1")
        tiles = [{"x": 0, "y": 0, "camera_id": ids[0]}, {"x": 1, "y": 0, "camera_id": ids[1]}]
        shared = owner.post(
            "/layouts",
            json={
                "name": "Yard",
                "shared": True,
                "grid": {"columns": 2, "rows": 1, "tiles": tiles},
            },
        )
        assert shared.status_code == 201, shared.text
    page.goto(f"{server.url}/#settings")
    _log_in(page, "guard", "guard password 1")
    assert page.is_hidden("#show-settings")
    assert page.is_hidden("#settings-view")  # asked for by the address: live instead
    assert page.is_hidden("#layout-save")  # a viewer shows shared layouts, saves none
    page.select_option("#saved-layouts", label="Yard (shared)")
    _wait_playing(page, ids[:2])
    _shot(page, "6-viewer")

    page.click("#logout")
    page.wait_for_selector("#login")
    assert page.locator("#camera-tree li, #grid .tile").count() == 0  # nothing of the viewer's
    _log_in(page, "gate keeper", "user password 1")
    page.wait_for_selector(f"#camera-tree li[data-camera='{ids[1]}']")
    tree = page.eval_on_selector_all("#camera-tree li", "items => items.map(i => i.dataset.camera)")
    assert tree == [ids[1]]
    # Its role reaches no shared layout (custom roles name theirs).
    assert page.eval_on_selector_all("#saved-layouts option", "o => o.length") == 1
    for tab in ("#show-playback", "#show-audit", "#show-settings"):
        assert page.is_hidden(tab)


def test_playback_of_the_layout_on_one_clock_a_click_on_the_timeline_and_an_export(
    page: Page, undefined: tuple[ServerProcess, TestCameraProcess]
) -> None:
    started_ms = int(time.time() * 1000)
    server, ids = _owner_with_cameras(page, undefined)
    ids = ids[:2]
    with server.login() as owner:
        for camera_id in ids:
            wait_recorded(owner, camera_id, started_ms, 8)
    page.click("#layouts button[data-size='4']")
    for camera_id in ids:
        page.click(f"#camera-tree li[data-camera='{camera_id}']")
    page.click("#show-playback")
    page.wait_for_selector("#playback-view:visible")
    played = "() => [...document.querySelectorAll('#pb-grid video')].map(v => v.currentTime)"
    both_played = (
        f"() => {{ const t = ({played})(); return t.length === 2 && t.every(s => s > 0.5); }}"
    )
    page.wait_for_function(both_played, timeout=WAIT_MS)
    _shot(page, "9-playback")
    # In sync: both videos at the same media time (a video that strays is brought back).
    aligned = f"() => {{ const t = ({played})(); return Math.abs(t[0] - t[1]) < 0.05; }}"
    page.wait_for_function(aligned, timeout=WAIT_MS)

    # A click on the first camera's timeline, 3 s into what it recorded: the clock goes there.
    bar = page.locator(f"#timeline .bar[data-camera='{ids[0]}']")
    recorded = bar.locator(".recorded").first.bounding_box()
    box = bar.bounding_box()
    assert recorded is not None
    assert box is not None
    window = page.eval_on_selector("#timeline", "t => [Number(t.dataset.fromMs), "
                                   "Number(t.dataset.toMs)]")  # fmt: skip
    x = recorded["x"] + min(recorded["width"] / 2, 3000 / (window[1] - window[0]) * box["width"])
    target = window[0] + (x - box["x"]) / box["width"] * (window[1] - window[0])
    # Resting over it first: the recorded picture of that time above the timeline.
    page.mouse.move(x, box["y"] + box["height"] / 2)
    thumb = "() => { const i = document.querySelector('#pb-thumb img'); "
    thumb += "return i.complete && i.naturalWidth === 160; }"
    page.wait_for_function(thumb, timeout=WAIT_MS)
    page.mouse.click(x, box["y"] + box["height"] / 2)
    page.wait_for_function(
        "(target) => Math.abs(Number(document.querySelector('#pb-clock').dataset.timeMs) "
        "- target) < 1500", arg=target, timeout=WAIT_MS)  # fmt: skip

    # Mark a range as it plays and export it: a file that plays, of that range.
    page.click("#pb-mark-in")
    marked_in = int(page.get_attribute("#pb-clock", "data-time-ms") or 0)
    page.wait_for_function(
        "(from) => Number(document.querySelector('#pb-clock').dataset.timeMs) > from + 3000",
        arg=marked_in, timeout=WAIT_MS)  # fmt: skip
    page.click("#pb-mark-out")
    link = page.wait_for_selector("#pb-export:visible")
    assert link is not None
    clip = page.request.get(f"{server.url}{link.get_attribute('href')}")
    assert clip.ok, clip.text()
    shown = pictures(clip.body())
    assert len(shown) >= 50  # 3 s and more at 25 pictures a second
    assert abs(shown[0].clock_ms - of_day(marked_in)) < 2500  # from its keyframe before

    # Every camera's clip of the range, made as a job: its progress, then a zip of them.
    page.click("#pb-export-job")
    download = page.wait_for_selector("#pb-job[data-state=done] a.download", timeout=WAIT_MS)
    assert download is not None
    assert page.eval_on_selector("#pb-job progress", "bar => bar.value") == 100
    made = page.request.get(f"{server.url}{download.get_attribute('href')}")
    assert made.ok, made.text()
    with zipfile.ZipFile(io.BytesIO(made.body())) as archive:
        clips = [archive.read(name) for name in archive.namelist()]
    assert len(clips) == 2
    assert all(len(pictures(clip)) >= 50 for clip in clips)

    # Each camera on its own clock: pausing the selected one leaves the other playing.
    page.uncheck("#pb-sync")
    page.wait_for_function(both_played, timeout=WAIT_MS)
    page.click("#pb-grid .tile:nth-child(2)")
    page.click("#pb-pause")
    before = page.evaluate(played)
    page.wait_for_function(f"(before) => ({played})()[0] > before[0] + 2", arg=before,
                           timeout=WAIT_MS)  # fmt: skip
    after = page.evaluate(played)
    print(
        "paused tile moved", after[1] - before[1], "s while the other moved", after[0] - before[0]
    )
    assert after[1] - before[1] < 0.5  # what was on its way when it paused, at most


def test_the_audit_trail_is_filtered_and_saved_as_csv(
    page: Page, undefined: tuple[ServerProcess, TestCameraProcess]
) -> None:
    server, _ = undefined
    server.create_system()
    with server.client() as anonymous:  # a wrong password, in the trail as login.failed
        assert anonymous.post("/login", json={"name": OWNER, "password": "nope"}).status_code == 401
    page.goto(f"{server.url}/")
    _log_in(page)
    page.click("#show-audit")
    page.wait_for_selector("#audit-rows tr[data-action='login.failed']")
    actions = page.eval_on_selector_all("#audit-rows tr", "rows => rows.map(r => r.dataset.action)")
    assert {"system.create", "login", "login.failed"} <= set(actions)
    page.fill("#audit-filters input[name=action]", "login.failed")
    page.click("#audit-filters button:has-text('Search')")
    page.wait_for_function("() => [...document.querySelectorAll('#audit-rows tr')]"
                           ".every(r => r.dataset.action === 'login.failed')")  # fmt: skip
    _shot(page, "10-audit")
    with page.expect_download() as saved:
        page.click("#audit-csv")
    lines = Path(saved.value.path()).read_text().splitlines()
    assert lines[0] == "time,user,address,action,target,details,server"
    assert len(lines) == 2
    assert ",login.failed," in lines[1]


def test_the_ptz_panel_moves_the_selected_camera_and_keeps_presets(
    page: Page, undefined: tuple[ServerProcess, TestCameraProcess]
) -> None:
    server, cameras = undefined
    server.create_system()
    with server.login() as owner:
        added = owner.post("/cameras", json={"onvif_address": cameras.url(0)})
        assert added.status_code == 201, added.text
        camera_id = added.json()["id"]
        assert added.json()["ptz"] is True
    page.goto(f"{server.url}/")
    _log_in(page)
    page.click(f"#camera-tree li[data-camera='{camera_id}']")
    page.wait_for_selector("#ptz:visible")

    def saved(name: str) -> None:
        page.fill("#ptz-save input[name=name]", name)
        page.click("#ptz-save button")
        page.wait_for_selector(f"#ptz-presets button:has-text('{name}')")

    def position(name: str) -> dict[str, float]:
        with server.login() as owner:
            presets = owner.get(f"/cameras/{camera_id}/ptz/presets").json()["presets"]
        found: dict[str, float] = next(p["position"] for p in presets if p["name"] == name)
        return found

    saved("Before")
    pad = page.locator("#ptz-pad button[aria-label='move →']")
    pad.hover()
    page.mouse.down()
    page.wait_for_timeout(700)  # the operator holds the button this long: the camera pans
    page.mouse.up()
    saved("After")
    assert position("After")["pan"] > position("Before")["pan"]
    page.click("#ptz-presets button:has-text('Before')")  # back there
    _shot(page, "11-ptz")
    snapshot = page.get_attribute("#grid .tile[data-index='0'] a.snapshot", "href")
    picture = page.request.get(f"{server.url}{snapshot}")
    assert picture.ok
    assert picture.body()[:2] == b"\xff\xd8"  # a JPEG


def test_a_camera_edited_storages_and_servers_in_the_settings(
    page: Page, undefined: tuple[ServerProcess, TestCameraProcess]
) -> None:
    started_ms = int(time.time() * 1000)
    server, (camera_id, *_) = _owner_with_cameras(page, undefined)
    with server.login() as owner:
        wait_recorded(owner, camera_id, started_ms, 2)
    page.click(f"#camera-tree li[data-camera='{camera_id}']")
    page.wait_for_selector(f"#grid .tile[data-camera='{camera_id}'] .rec:visible")  # REC

    # The camera's editor: its streams' figures; renamed, recorded on Mondays 08-12 on events.
    page.goto(f"{server.url}/#settings=cameras")
    page.click(f"#camera-rows tr[data-camera='{camera_id}'] button.edit")
    main = page.wait_for_selector("#camera-stream-rows tr[data-stream='main'][data-state='online']")
    assert main is not None
    assert "h264" in (main.text_content() or "")
    page.fill("#camera-form input[name=name]", "Front gate")
    page.select_option("#camera-form select[name=mode]", "schedule")
    page.check("#schedule-paint input[value=event]")
    first = page.locator("#schedule-grid td[data-day='0'][data-hour='8']").bounding_box()
    last = page.locator("#schedule-grid td[data-day='0'][data-hour='11']").bounding_box()
    assert first is not None
    assert last is not None
    page.mouse.move(first["x"] + 5, first["y"] + 5)
    page.mouse.down()
    page.mouse.move(last["x"] + 5, last["y"] + 5, steps=6)
    page.mouse.up()
    _shot(page, "11b-camera-edit")
    page.click("#camera-form button")
    page.wait_for_selector("#camera-saved:visible")
    with server.login() as owner:
        camera = owner.get(f"/cameras/{camera_id}").json()
    assert camera["name"] == "Front gate"
    assert camera["recording"]["mode"] == "schedule"
    assert camera["recording"]["schedule"] == [
        {"days": [0], "start": "08:00", "end": "12:00", "mode": "event"}
    ]
    page.wait_for_selector(f"#camera-rows tr[data-camera='{camera_id}'] >> text=Front gate")

    page.goto(f"{server.url}/#settings=storages")
    row = page.wait_for_selector("#storage-rows tr[data-state='online']")
    assert row is not None
    assert "free of" in (row.text_content() or "")  # its size known (what is recorded counts
    # once a file is closed: a minute in)
    assert page.eval_on_selector(
        "#storage-rows .meter .used", "bar => parseFloat(bar.style.width) > 0"
    )
    _shot(page, "12-storages")

    # Another disk added, its reserve set, disabled, removed.
    disk = server.data_dir.parent / "second disk"
    disk.mkdir()
    page.fill("#add-storage input[name=name]", "Second disk")
    page.fill("#add-storage input[name=path]", str(disk))
    page.click("#add-storage button")
    added = page.locator("#storage-rows tr", has_text="Second disk")
    added.locator("input.reserve").fill("100")
    added.locator("button:has-text('Set')").click()
    added.locator("input.enabled").uncheck()
    page.wait_for_selector("#storage-rows tr[data-state='disabled'] >> text=Second disk")
    with server.login() as owner:
        second = next(s for s in owner.get("/storages").json()["storages"]
                      if s["name"] == "Second disk")  # fmt: skip
    assert (second["path"], second["reserve_mib"], second["enabled"]) == (str(disk), 100, False)
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#storage-rows tr", has_text="Second disk").locator("button.delete").click()
    page.wait_for_function("() => ![...document.querySelectorAll('#storage-rows tr')]"
                           ".some(r => r.textContent.includes('Second disk'))")  # fmt: skip

    page.click("#show-settings-servers")
    page.wait_for_selector("#server-rows tr[data-state='online'] >> text=★")
    page.wait_for_selector("#conflict-rows >> text=None.")  # a server alone meets no conflict
    page.fill("#failover-settings input[name=failover_after_s]", "20")
    page.click("#failover-settings button")
    with server.login() as owner:
        wait_for(lambda: owner.get("/system").json()["failover_after_s"] == 20, 10,
                 "the failover time saved")  # fmt: skip
    _shot(page, "13-servers")


def test_the_client_over_https_logs_in_with_a_secure_cookie_and_plays(
    browser: Browser, undefined: tuple[ServerProcess, TestCameraProcess]
) -> None:
    server, cameras = undefined
    server.create_system()
    ids = _add_cameras(server, cameras)
    # The server's own certificate, trusted as an operator does once (nobody signed it).
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    said: list[str] = []
    page.on("console", lambda m: said.append(m.text) if m.type == "error" else None)
    try:
        page.goto(f"{server.https_url}/")
        _log_in(page)
        assert [c["secure"] for c in context.cookies() if c["name"] == "vigil_session"] == [True]
        page.click("#layouts button[data-size='4']")
        for camera_id in ids[:2]:
            page.click(f"#camera-tree li[data-camera='{camera_id}']")
        _wait_playing(page, ids[:2])  # the live WebSocket, over wss
        _shot(page, "11-over-https")
    finally:
        context.close()
    assert said == []
