"""PTZ through the API, read back from the simulated camera's own status (its control API)."""

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.cameras.onvif import SECRET, USER
from tests.servers import ServerProcess, add_user
from tests.testcamera.process import TestCameraProcess
from tests.waiting import wait_for

Position = tuple[float, float, float]


def _add(owner: httpx.Client, cameras: TestCameraProcess, index: int = 0) -> str:
    body = {"onvif_address": cameras.url(index), "username": USER, "password": SECRET}
    answer = owner.post("/cameras", json=body)
    assert answer.status_code == 201, answer.text
    camera_id: str = answer.json()["id"]
    return camera_id


def _head(cameras: TestCameraProcess, index: int = 0) -> Position:
    """Where the camera's head is, as the camera itself says."""
    ptz = httpx.get(f"{cameras.url(index)}/control/status").json()["ptz"]
    return ptz["pan"], ptz["tilt"], ptz["zoom"]


def _ptz(client: httpx.Client, camera_id: str, action: str, **body: object) -> httpx.Response:
    return client.post(f"/cameras/{camera_id}/ptz/{action}", json=body)


def _go_to(client: httpx.Client, camera_id: str, pan: float, tilt: float, zoom: float) -> None:
    answer = _ptz(client, camera_id, "absolute", pan=pan, tilt=tilt, zoom=zoom)
    assert answer.status_code == 204, answer.text


def _error(answer: httpx.Response) -> tuple[int, str, str | None]:
    error = answer.json()["error"]
    return answer.status_code, error["code"], error.get("field")


def _panned_right(cameras: TestCameraProcess) -> Callable[[], Position | None]:
    def look() -> Position | None:
        at = _head(cameras)
        return at if at[0] > 0.05 else None

    return look


def test_a_continuous_move_turns_the_head_until_stopped(
    owner: httpx.Client, cameras: TestCameraProcess
) -> None:
    camera_id = _add(owner, cameras)
    _go_to(owner, camera_id, 0.0, 0.0, 0.5)
    moved = _ptz(owner, camera_id, "move", pan=0.5, tilt=-0.5, zoom=-0.5, timeout_ms=60_000)
    assert moved.status_code == 204, moved.text
    _, tilt, zoom = wait_for(_panned_right(cameras), 10, "the head to pan right")
    # Each axis goes the way its sign says.
    assert tilt < 0
    assert zoom < 0.5
    stopped = _ptz(owner, camera_id, "stop")
    assert stopped.status_code == 204, stopped.text
    at_stop = _head(cameras)
    time.sleep(0.5)  # at 0.5 a second a head still moving would be 0.25 further
    assert _head(cameras) == pytest.approx(at_stop)


def test_an_absolute_move_lands_where_asked_and_a_relative_zoom_steps_from_there(
    owner: httpx.Client, cameras: TestCameraProcess
) -> None:
    camera_id = _add(owner, cameras)
    _go_to(owner, camera_id, -0.5, 0.25, 0.75)
    assert _head(cameras) == pytest.approx((-0.5, 0.25, 0.75))
    stepped = _ptz(owner, camera_id, "relative", zoom=-0.25)
    assert stepped.status_code == 204, stepped.text
    assert _head(cameras) == pytest.approx((-0.5, 0.25, 0.5))


def test_presets_are_set_listed_visited_removed_and_audited(
    owner: httpx.Client, cameras: TestCameraProcess
) -> None:
    camera_id = _add(owner, cameras)
    presets = f"/cameras/{camera_id}/ptz/presets"
    _go_to(owner, camera_id, 0.25, -0.75, 0.5)
    created = owner.post(presets, json={"name": "Gate"})
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    assert created.json()["name"] == "Gate"

    _go_to(owner, camera_id, -1.0, 1.0, 0.0)
    listed = {p["token"]: p for p in owner.get(presets).json()["presets"]}
    assert listed[token]["name"] == "Gate"
    assert listed[token]["position"] == pytest.approx({"pan": 0.25, "tilt": -0.75, "zoom": 0.5})
    went = owner.post(f"{presets}/{token}/go")
    assert went.status_code == 204, went.text
    assert _head(cameras) == pytest.approx((0.25, -0.75, 0.5))

    removed = owner.delete(f"{presets}/{token}")
    assert removed.status_code == 204, removed.text
    assert token not in [p["token"] for p in owner.get(presets).json()["presets"]]
    assert _error(owner.post(f"{presets}/{token}/go")) == (404, "not_found", "token")
    assert _error(owner.delete(f"{presets}/{token}")) == (404, "not_found", "token")
    # Refused before the camera is asked: no control character reaches it.
    assert _error(owner.post(f"{presets}/a%0Db/go")) == (422, "invalid_input", "token")

    trail = owner.get("/audit", params={"action": "ptz.preset.set"}).json()["entries"]
    assert [(e["target"], e["details"]) for e in trail] == [
        (camera_id, {"token": token, "name": "Gate"})
    ]
    trail = owner.get("/audit", params={"action": "ptz.preset.remove"}).json()["entries"]
    assert [(e["target"], e["details"]) for e in trail] == [
        (camera_id, {"token": token, "name": "Gate"})
    ]


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("move", {"pan": 1.5}, "pan"),
        ("move", {"tilt": "0.5"}, "tilt"),
        ("move", {"zoom": True}, "zoom"),
        ("move", {"pan": 0.1, "timeout_ms": 50}, "timeout_ms"),
        ("move", {"pan": 0.1, "speed": 1}, "speed"),
        ("absolute", {"pan": 0, "tilt": 0, "zoom": -0.1}, "zoom"),
        ("absolute", {"pan": 0, "zoom": 0}, "tilt"),
        ("relative", {"pan": -1.01}, "pan"),
        ("presets", {"name": ""}, "name"),
        ("presets", {"name": "x" * 65}, "name"),
    ],
)
def test_values_outside_the_generic_spaces_are_refused_naming_the_field(
    owner: httpx.Client, cameras: TestCameraProcess, action: str, body: object, field: str
) -> None:
    camera_id = _add(owner, cameras)
    _go_to(owner, camera_id, 0.0, 0.0, 0.0)
    answer = owner.post(f"/cameras/{camera_id}/ptz/{action}", json=body)
    assert _error(answer) == (422, "invalid_input", field)
    assert _head(cameras) == (0.0, 0.0, 0.0)


def test_ptz_needs_the_right_and_a_camera_the_role_may_see(
    system_server: ServerProcess, owner: httpx.Client, cameras: TestCameraProcess
) -> None:
    camera_id = _add(owner, cameras)
    _go_to(owner, camera_id, 0.0, 0.0, 0.0)
    add_user(owner, "watcher", "viewer")
    blind = owner.post(
        "/roles",
        json={
            "name": "PTZ elsewhere",
            "functions": ["ptz", "live_view"],
            "operations": [],
            "resources": {"cameras": ["another-camera"], "layouts": []},
        },
    )
    assert blind.status_code == 201, blind.text
    add_user(owner, "elsewhere", blind.json()["id"])
    with system_server.login("watcher", "user password 1") as viewer:
        assert _error(_ptz(viewer, camera_id, "absolute", pan=1, tilt=1, zoom=1))[:2] == (
            403,
            "forbidden",
        )
        assert viewer.get(f"/cameras/{camera_id}/ptz/presets").status_code == 403
    with system_server.login("elsewhere", "user password 1") as other:
        assert _error(_ptz(other, camera_id, "absolute", pan=1, tilt=1, zoom=1))[:2] == (
            404,
            "not_found",
        )
    assert _head(cameras) == (0.0, 0.0, 0.0)
    with system_server.login("watcher", "user password 1") as viewer:
        assert _ptz(viewer, "no-such-camera", "stop").status_code == 403
    assert _ptz(owner, "no-such-camera", "stop").status_code == 404


def test_a_camera_added_by_rtsp_address_says_it_has_no_ptz(
    owner: httpx.Client, cameras: TestCameraProcess
) -> None:
    added = owner.post(
        "/cameras", json={"name": "Plain", "main_url": cameras.rtsp_url("/cam1/main")}
    )
    assert added.status_code == 201, added.text
    answer = _ptz(owner, added.json()["id"], "move", pan=0.5)
    assert _error(answer) == (409, "ptz_unsupported", "onvif_address")
    assert "ONVIF" in answer.json()["error"]["message"]
    listed = owner.get(f"/cameras/{added.json()['id']}/ptz/presets")
    assert _error(listed) == (409, "ptz_unsupported", "onvif_address")


def test_a_camera_without_a_ptz_head_says_so_and_every_ptz_request_is_refused(
    tmp_path: Path, owner: httpx.Client, cameras: TestCameraProcess
) -> None:
    turning = _add(owner, cameras)
    assert owner.get(f"/cameras/{turning}").json()["ptz"] is True
    with TestCameraProcess(tmp_path, extra_args=("--no-ptz",)) as fixed:
        fixed.start(timeout_s=120)
        added = owner.post("/cameras", json={"onvif_address": fixed.url()})
        assert added.status_code == 201, added.text
        camera_id = added.json()["id"]
        assert owner.get(f"/cameras/{camera_id}").json()["ptz"] is False
        trail_before = owner.get("/audit").json()["entries"]
        presets = f"/cameras/{camera_id}/ptz/presets"
        answers = [
            _ptz(owner, camera_id, "move", pan=0.5),
            _ptz(owner, camera_id, "stop"),
            _ptz(owner, camera_id, "absolute", pan=0.5, tilt=0.5, zoom=0.5),
            _ptz(owner, camera_id, "relative", zoom=0.1),
            owner.get(presets),
            owner.post(presets, json={"name": "Gate"}),
            owner.post(f"{presets}/preset1/go"),
            owner.delete(f"{presets}/preset1"),
        ]
    for answer in answers:
        assert _error(answer) == (409, "ptz_unsupported", "onvif_address"), answer.text
        assert answer.json()["error"]["message"] == (
            f"{fixed.url()}/onvif/device_service offers no PTZ service"
        )
    assert owner.get("/audit").json()["entries"] == trail_before


def test_changed_credentials_are_used_at_once_and_never_shown(
    system_server: ServerProcess, owner: httpx.Client, cameras: TestCameraProcess
) -> None:
    wrong = "wrong-ptz-pass"
    camera_id = _add(owner, cameras, 1)
    _go_to(owner, camera_id, 0.0, 0.0, 0.0)  # the server now holds a connection to the camera
    assert owner.patch(f"/cameras/{camera_id}", json={"password": wrong}).status_code == 200
    refused = _ptz(owner, camera_id, "absolute", pan=0.5, tilt=0.5, zoom=0.5)
    assert _error(refused) == (422, "camera_unauthorized", "password")
    assert _head(cameras, 1) == (0.0, 0.0, 0.0)
    assert owner.patch(f"/cameras/{camera_id}", json={"password": SECRET}).status_code == 200
    _go_to(owner, camera_id, 0.5, 0.5, 0.5)
    assert _head(cameras, 1) == pytest.approx((0.5, 0.5, 0.5))
    for text in (refused.text, system_server.logs()):
        assert SECRET not in text
        assert wrong not in text


def test_a_camera_that_went_down_is_unreachable(tmp_path: Path, owner: httpx.Client) -> None:
    with TestCameraProcess(tmp_path) as camera:
        camera.start(timeout_s=120)
        added = owner.post("/cameras", json={"onvif_address": camera.url()})
        assert added.status_code == 201, added.text
        camera_id = added.json()["id"]
        _go_to(owner, camera_id, 0.0, 0.0, 0.0)
    answer = _ptz(owner, camera_id, "stop")
    assert _error(answer) == (502, "camera_unreachable", "onvif_address")
    assert _error(owner.get(f"/cameras/{camera_id}/ptz/presets"))[:2] == (
        502,
        "camera_unreachable",
    )
