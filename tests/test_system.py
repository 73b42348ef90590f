"""An undefined server becomes a one-server system; the system survives restarts and kills."""

from typing import Any

import httpx
import pytest

import vigil
from tests.servers import OWNER, OWNER_PASSWORD, ServerProcess


def test_undefined_server_describes_itself_without_login(undefined_server: ServerProcess) -> None:
    with undefined_server.client() as client:
        info = client.get("/server").json()
    assert info["state"] == "undefined"
    assert info["system"] is None
    assert info["version"] == vigil.__version__
    assert len(info["id"]) == 32
    assert info["name"]


def test_create_system_makes_a_member_server_with_an_owner(
    undefined_server: ServerProcess,
) -> None:
    created = undefined_server.create_system(system_name="HQ", server_name="Gate house")
    with undefined_server.client() as client:
        info = client.get("/server").json()
    assert info["state"] == "member"
    assert info["system"] == {"id": created["system"]["id"], "name": "HQ"}
    assert info["name"] == "Gate house"
    with undefined_server.login(OWNER, OWNER_PASSWORD) as owner:
        me = owner.get("/me").json()
        system = owner.get("/system").json()
    assert me["user"]["role_id"] == "owner"
    assert [s["name"] for s in system["servers"]] == ["Gate house"]
    assert system["servers"][0]["addresses"] == [f"127.0.0.1:{undefined_server.port}"]


def test_creating_a_system_twice_is_refused_and_changes_nothing(
    system_server: ServerProcess,
) -> None:
    with system_server.client() as client:
        before = client.get("/server").json()
        again = client.post(
            "/system",
            json={
                "system_name": "Other",
                "server_name": "x",
                "owner_name": "boss",
                "owner_password": "another password",
            },
        )
        after = client.get("/server").json()
        boss = client.post("/login", json={"name": "boss", "password": "another password"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
    assert after == before
    assert boss.status_code == 401


def test_system_apis_on_an_undefined_server_say_so(undefined_server: ServerProcess) -> None:
    with undefined_server.client() as client:
        for method, path in [
            ("POST", "/login"),
            ("GET", "/users"),
            ("GET", "/system"),
            ("GET", "/audit"),
        ]:
            body = {"name": "x", "password": "y"} if path == "/login" else None
            answer = client.request(method, path, json=body)
            assert answer.status_code == 409, (path, answer.text)
            assert answer.json()["error"]["code"] == "server_undefined"


def test_invalid_system_creation_names_the_field_and_changes_nothing(
    undefined_server: ServerProcess,
) -> None:
    good = {
        "system_name": "HQ",
        "server_name": "s1",
        "owner_name": "root",
        "owner_password": "good password",
    }
    bad_cases = [
        ({**good, "system_name": ""}, "system_name"),
        ({**good, "server_name": "x" * 65}, "server_name"),
        ({**good, "owner_name": "   "}, "owner_name"),
        ({**good, "owner_password": "        "}, "owner_password"),
        ({**good, "owner_password": ""}, "owner_password"),
        ({**good, "owner_name": "bad\u0000name"}, "owner_name"),
        ({**good, "system_name": 42}, "system_name"),
        ({**good, "colour": "red"}, "colour"),
    ]
    with undefined_server.client() as client:
        for body, field in bad_cases:
            answer = client.post("/system", json=body)
            assert answer.status_code == 422, (body, answer.text)
            assert answer.json()["error"]["field"] == field
        missing = dict(good)
        del missing["owner_password"]
        answer = client.post("/system", json=missing)
        assert answer.json()["error"]["field"] == "owner_password"
        assert client.get("/server").json()["state"] == "undefined"


def _stored(system: dict[str, Any]) -> dict[str, Any]:
    """The system as stored: without what its servers say of themselves now (online since
    when, load)."""
    kept = ("id", "name", "version", "addresses", "public_key")
    servers = [{key: s[key] for key in kept} for s in system["servers"]]
    return {**system, "servers": servers}


def test_restart_keeps_system_users_and_sessions(system_server: ServerProcess) -> None:
    with system_server.login() as owner:
        created = owner.post(
            "/users", json={"name": "Dana", "password": "dana password", "role_id": "operator"}
        )
        assert created.status_code == 201
        token = owner.headers["Authorization"]
        system_before = owner.get("/system").json()
    system_server.stop()
    system_server.start()
    with httpx.Client(
        base_url=f"{system_server.url}/api/v1", headers={"Authorization": token}
    ) as owner:
        assert _stored(owner.get("/system").json()) == _stored(system_before)
        names = [u["name"] for u in owner.get("/users").json()["users"]]
    assert names == ["Dana", OWNER]
    with system_server.login("dana", "dana password") as dana:
        assert dana.get("/me").json()["user"]["role_id"] == "operator"


def test_kill_right_after_a_change_keeps_the_change(system_server: ServerProcess) -> None:
    with system_server.login() as owner:
        answer = owner.post(
            "/users", json={"name": "Eve", "password": "eve password", "role_id": "viewer"}
        )
        assert answer.status_code == 201
    system_server.kill()
    system_server.start()
    with system_server.login("Eve", "eve password") as eve:
        assert eve.get("/me").json()["user"]["name"] == "Eve"


def test_system_rename_is_audited_with_before_and_after(system_server: ServerProcess) -> None:
    with system_server.login() as owner:
        answer = owner.patch("/system", json={"name": "Head office"})
        assert answer.json()["name"] == "Head office"
        entries = owner.get("/audit", params={"action": "system.edit"}).json()["entries"]
    assert entries[0]["details"] == {
        "before": {"name": "Test system"},
        "after": {"name": "Head office"},
    }
    assert entries[0]["user_name"] == OWNER


def test_a_second_server_on_the_same_data_folder_is_refused(
    system_server: ServerProcess,
) -> None:
    second = ServerProcess(system_server.data_dir)
    with pytest.raises(RuntimeError, match="another Vigil server is running"):
        second.start(timeout_s=10)
    with system_server.login() as owner:
        assert owner.get("/me").status_code == 200
