"""Cameras through the API, against simulated cameras: status, stats, secrets, bad input."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cameras.polling import streaming, wait_for_camera
from tests.servers import ServerProcess, add_user
from tests.testcamera.process import TestCameraProcess

SECRET = "cam-s3cret-pw"


@pytest.fixture(scope="module")
def cameras(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestCameraProcess]:
    folder = tmp_path_factory.mktemp("cameras")
    with TestCameraProcess(folder, count=2, user="admin", password=SECRET) as process:
        process.start(timeout_s=120)
        yield process


def _url(cameras: TestCameraProcess, n: int, stream: str = "main", credentials: str = "") -> str:
    return f"rtsp://{credentials}127.0.0.1:{cameras.rtsp_port}/cam{n}/{stream}"


def _state(camera: dict[str, Any], stream: str = "main") -> str:
    state: str = camera["streams"][stream]["status"]["state"]
    return state


def test_a_camera_added_by_url_goes_online_with_stats_and_hides_its_password(
    system_server: ServerProcess, owner: httpx.Client, cameras: TestCameraProcess
) -> None:
    answer = owner.post(
        "/cameras",
        json={
            "name": "Gate",
            "main_url": _url(cameras, 1, credentials=f"admin:{SECRET}@"),
            "sub_url": _url(cameras, 1, "sub"),
        },
    )
    assert answer.status_code == 201, answer.text
    added = answer.json()
    assert added["has_credentials"] is True
    assert added["streams"]["main"]["url"] == _url(cameras, 1)  # credentials taken out
    camera = wait_for_camera(owner, added["id"], streaming, "both streams online")
    main, sub = camera["streams"]["main"], camera["streams"]["sub"]
    assert main["status"]["state"] == "online"
    assert (main["stats"]["codec"], main["stats"]["width"], main["stats"]["height"]) == (
        "h264",
        320,
        240,
    )
    assert 20 <= main["stats"]["fps"] <= 30
    assert (sub["stats"]["width"], sub["stats"]["height"]) == (160, 120)
    assert main["stats"]["bitrate_kbps"] > 0
    audit = owner.get("/audit", params={"action": "camera.add"}).text
    for text in (owner.get("/cameras").text, audit, system_server.logs()):
        assert SECRET not in text
    assert "camera.add" in audit


def test_wrong_password_and_unreachable_cameras_say_why(
    owner: httpx.Client, cameras: TestCameraProcess
) -> None:
    wrong = owner.post(
        "/cameras",
        json={
            "name": "Wrong",
            "main_url": _url(cameras, 2),
            "username": "admin",
            "password": "nope",
        },
    ).json()
    gone = owner.post(
        "/cameras", json={"name": "Gone", "main_url": "rtsp://127.0.0.1:9/cam1/main"}
    ).json()
    wrong = wait_for_camera(owner, wrong["id"], lambda c: _state(c) == "unauthorized", "refusal")
    gone = wait_for_camera(owner, gone["id"], lambda c: _state(c) == "offline", "offline")
    assert "password" in wrong["streams"]["main"]["status"]["reason"]
    assert gone["streams"]["main"]["status"]["reason"] == "connection refused"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "main_url": "http://cam/stream"}, "main_url"),
        ({"name": "X", "main_url": "rtsp://"}, "main_url"),
        ({"name": "X", "main_url": "rtsp://10.0.0.1/a b"}, "main_url"),
        ({"name": "X", "main_url": "rtsp://cam\x01era/a"}, "main_url"),
        ({"onvif_address": "camera one"}, "onvif_address"),
        ({"onvif_address": "10.0.0.1\r\nHost: x"}, "onvif_address"),
        ({"name": "", "main_url": "rtsp://10.0.0.1/a"}, "name"),
        (
            {"name": "X", "main_url": "rtsp://10.0.0.1/a", "transport": "carrier-pigeon"},
            "transport",
        ),
        (
            {"name": "X", "main_url": "rtsp://10.0.0.1/a", "parent_server_id": "nope"},
            "parent_server_id",
        ),
    ],
)
def test_bad_cameras_are_refused_naming_the_field(
    owner: httpx.Client, body: dict[str, Any], field: str
) -> None:
    before = owner.get("/cameras").json()
    answer = owner.post("/cameras", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field
    assert owner.get("/cameras").json() == before


def test_edit_disable_and_delete(owner: httpx.Client, cameras: TestCameraProcess) -> None:
    camera = owner.post("/cameras", json={"name": "Dock", "main_url": _url(cameras, 2)}).json()
    same_name = owner.post("/cameras", json={"name": "dock", "main_url": _url(cameras, 2)})
    assert same_name.status_code == 409
    changed = owner.patch(f"/cameras/{camera['id']}", json={"enabled": False}).json()
    assert changed["streams"]["main"]["status"]["state"] == "disabled"
    assert owner.patch(f"/cameras/{camera['id']}", json={"password": None}).status_code == 422
    assert owner.delete(f"/cameras/{camera['id']}").status_code == 204
    assert owner.get(f"/cameras/{camera['id']}").status_code == 404


def test_a_role_sees_only_its_cameras(
    system_server: ServerProcess, owner: httpx.Client, cameras: TestCameraProcess
) -> None:
    seen = owner.post("/cameras", json={"name": "Seen", "main_url": _url(cameras, 1)}).json()
    hidden = owner.post("/cameras", json={"name": "Hidden", "main_url": _url(cameras, 2)}).json()
    role = owner.post(
        "/roles",
        json={
            "name": "Lobby",
            "functions": ["live_view"],
            "resources": {"cameras": [seen["id"]]},
        },
    )
    assert role.status_code == 201, role.text
    add_user(owner, "lobby", role.json()["id"])
    with system_server.login("lobby", "user password 1") as client:
        assert [c["id"] for c in client.get("/cameras").json()["cameras"]] == [seen["id"]]
        assert client.get(f"/cameras/{hidden['id']}").status_code == 404
        assert client.get(f"/cameras/{seen['id']}").status_code == 200


def test_cameras_come_back_after_a_restart(tmp_path: Path, cameras: TestCameraProcess) -> None:
    with ServerProcess(tmp_path / "server") as server:
        server.start()
        server.create_system()
        with server.login() as owner:
            added = owner.post(
                "/cameras",
                json={
                    "name": "Kept",
                    "main_url": _url(cameras, 1),
                    "username": "admin",
                    "password": SECRET,
                },
            ).json()
        server.stop()
        server.start()
        with server.login() as owner:
            wait_for_camera(owner, added["id"], lambda c: _state(c) == "online", "online again")
