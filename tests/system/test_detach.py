"""Servers leaving a system: detached (their cameras removed or given to the others) or,
while offline, deleted (hidden until they come back)."""

import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from tests.media.test_recording import wait_recorded
from tests.servers import ServerProcess
from tests.system.test_partition import _pair, _sees, _server_id
from tests.testcamera.process import TestCameraProcess
from tests.waiting import wait_for


def _state(server: ServerProcess) -> str:
    with server.client() as anonymous:
        state: str = anonymous.get("/server").json()["state"]
    return state


def _names(server: ServerProcess) -> list[str]:
    with server.login() as client:
        return [s["name"] for s in client.get("/system/servers").json()["servers"]]


def _add_camera(owner: Any, name: str, url: str, parent: str, **more: str) -> str:
    body = {"name": name, "main_url": url, "parent_server_id": parent, **more}
    answer = owner.post("/cameras", json=body)
    assert answer.status_code == 201, answer.text
    camera_id: str = answer.json()["id"]
    return camera_id


CAMERA_PASSWORD = "camera secret 4711"


def _holds_in_clear(server: ServerProcess, secret: str) -> list[str]:
    """The files of the server's data folder (its database, not the recordings) holding
    `secret` as it is."""
    return [
        path.name
        for path in server.data_dir.glob("vigil.db*")
        if secret.encode() in path.read_bytes()
    ]


def _system_key(server: ServerProcess) -> bytes | None:
    with closing(sqlite3.connect(f"file:{server.data_dir / 'vigil.db'}?mode=ro", uri=True)) as db:
        row = db.execute("SELECT key FROM document_key").fetchone()
    return None if row is None else bytes(row[0])


def test_detaching_a_server_keeping_its_cameras_moves_them_and_they_record_again(
    tmp_path: Path, start_server: Callable[..., ServerProcess]
) -> None:
    first, second = _pair(start_server)
    third = start_server("c")
    assert third.join(first, "C").status_code == 201
    wait_for(lambda: len(_names(first)) == 3, 10, "three servers")
    wait_for(lambda: _sees(first, "C", online=True), 10, "C online")
    credentials = ("--user", "cam", "--password", CAMERA_PASSWORD)
    with TestCameraProcess(tmp_path, count=2, extra_args=credentials) as cameras:
        cameras.start(timeout_s=120)
        # The password, sealed by the first server, is opened by the second, which records.
        with first.login() as owner:
            ids = [
                _add_camera(owner, f"Camera {n}", f"rtsp://127.0.0.1:{cameras.rtsp_port}/cam{n}/main",
                            _server_id(second), username="cam", password=CAMERA_PASSWORD)
                for n in (1, 2)
            ]  # fmt: skip
        started_ms = int(time.time() * 1000)
        with second.login() as owner_on_b:
            for camera_id in ids:
                wait_recorded(owner_on_b, camera_id, started_ms, 2)

        with first.login() as owner:
            assert owner.post(f"/system/servers/{_server_id(second)}/detach",
                              json={"cameras": "keep"}).status_code == 204  # fmt: skip
            parents = {
                c["id"]: c["parent_server_id"] for c in owner.get("/cameras").json()["cameras"]
            }
        # One camera each to the two servers left, which had none.
        assert sorted(parents.values()) == sorted([_server_id(first), _server_id(third)])
        detached_ms = int(time.time() * 1000)
        for server in (first, third):
            with server.login() as owner:
                mine = [c for c, parent in parents.items() if parent == _server_id(server)]
                wait_recorded(owner, mine[0], detached_ms, 2)

    for server in (first, second, third):  # every copy of the document holds it sealed
        assert _holds_in_clear(server, CAMERA_PASSWORD) == []
    assert _system_key(first) == _system_key(third) is not None
    wait_for(lambda: _state(second) == "undefined", 10, "the detached server to forget")
    assert _system_key(second) is None  # the key goes with the document
    assert sorted(_names(first)) == ["A", "C"]
    assert sorted(_names(third)) == ["A", "C"]
    assert list((second.data_dir / "archive").rglob("*.mp4")), "its recordings stay on its disk"


def test_a_server_detached_while_offline_forgets_the_system_when_it_returns(
    start_server: Callable[..., ServerProcess],
) -> None:
    first, second = _pair(start_server)
    second_id = _server_id(second)
    with first.login() as owner:
        camera_id = _add_camera(owner, "On B", "rtsp://127.0.0.1:9/nothing", second_id,
                                password="camera secret 7")  # fmt: skip
    with second.login() as owner_on_b:
        wait_for(lambda: owner_on_b.get(f"/cameras/{camera_id}").status_code == 200, 10,
                 "the camera on B")  # fmt: skip
        token = owner_on_b.headers["authorization"]
    second.stop()
    wait_for(lambda: _sees(first, "B", online=False), 10, "A to see B offline")
    with first.login() as owner:
        detached = owner.post(f"/system/servers/{second_id}/detach",
                              json={"cameras": "remove"})  # fmt: skip
        assert detached.status_code == 204, detached.text
        assert owner.get(f"/cameras/{camera_id}").status_code == 404
    second.start()
    wait_for(lambda: _state(second) == "undefined", 15, "B to hear it was detached")
    with second.client() as client:  # its sessions ended with the system
        assert client.get("/me", headers={"Authorization": token}).status_code in (401, 409)
    stored = b"".join(p.read_bytes() for p in second.data_dir.glob("vigil.db*"))
    # Every secret of the system document: camera passwords, users' password hashes.
    assert b"camera secret 7" not in stored
    assert b"$argon2id$" not in stored
    assert _names(first) == ["A"]


def test_an_offline_server_deleted_is_hidden_until_it_comes_back(
    start_server: Callable[..., ServerProcess],
) -> None:
    first, second = _pair(start_server)
    second_id = _server_id(second)
    with first.login() as owner:
        online = owner.delete(f"/system/servers/{second_id}")
        assert online.status_code == 409, online.text
        assert owner.delete(f"/system/servers/{_server_id(first)}").status_code == 409
    second.stop()
    wait_for(lambda: _sees(first, "B", online=False), 10, "A to see B offline")
    with first.login() as owner:
        assert owner.delete(f"/system/servers/{second_id}").status_code == 204
        assert owner.delete("/system/servers/no-such-server").status_code == 404
    assert _names(first) == ["A"]
    second.start()
    wait_for(lambda: _sees(first, "B", online=True), 15, "B back in A's list")
    assert _state(second) == "member"
