"""Every endpoint, every built-in role: allowed or denied exactly as the product says.

The expected table below is written from the product's point of view, independently of the
server's own table. An endpoint the server offers that is missing here fails the walk, so a new
endpoint cannot arrive without someone deciding who may call it.
"""

import json
import re

import httpx
import pytest
from fastapi import FastAPI, WebSocket
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.servers import OWNER, OWNER_PASSWORD, ServerProcess, add_user
from vigil.api.access import RULES, SESSION_COOKIE, check_every_route_has_a_rule

EVERYONE = frozenset({"owner", "administrator", "operator", "viewer"})
ADMINS = frozenset({"owner", "administrator"})
OPERATORS = frozenset({"owner", "administrator", "operator"})
PUBLIC = None  # no login needed

EXPECTED: dict[tuple[str, str], frozenset[str] | None] = {
    ("GET", "/server"): PUBLIC,
    # The server's media workers and how they fare: settings (tests/media/test_workers).
    ("GET", "/server/media"): ADMINS,
    ("POST", "/system"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/system/join"): PUBLIC,
    ("GET", "/system"): EVERYONE,
    ("GET", "/system/servers"): EVERYONE,
    ("GET", "/system/conflicts"): ADMINS,
    ("DELETE", "/system/servers/{server_id}"): ADMINS,
    ("POST", "/system/servers/{server_id}/detach"): ADMINS,
    ("PATCH", "/system"): ADMINS,
    ("POST", "/logout"): EVERYONE,
    ("GET", "/me"): EVERYONE,
    ("PUT", "/me/password"): EVERYONE,
    ("GET", "/rights"): EVERYONE,
    ("GET", "/users"): ADMINS,
    ("POST", "/users"): ADMINS,
    ("GET", "/users/{user_id}"): ADMINS,
    ("PATCH", "/users/{user_id}"): ADMINS,
    ("DELETE", "/users/{user_id}"): ADMINS,
    ("GET", "/roles"): ADMINS,
    ("POST", "/roles"): ADMINS,
    ("GET", "/roles/{role_id}"): ADMINS,
    ("PATCH", "/roles/{role_id}"): ADMINS,
    ("DELETE", "/roles/{role_id}"): ADMINS,
    ("GET", "/audit"): ADMINS,
    # Everyone lists the cameras their role may see (filtered, see tests/media/test_cameras).
    ("GET", "/cameras"): EVERYONE,
    ("POST", "/cameras"): ADMINS,
    # Discovery is for picking cameras to add (tests/cameras/test_discovery).
    ("GET", "/cameras/discovery"): ADMINS,
    ("GET", "/cameras/{camera_id}"): EVERYONE,
    ("PATCH", "/cameras/{camera_id}"): ADMINS,
    ("DELETE", "/cameras/{camera_id}"): ADMINS,
    ("GET", "/cameras/{camera_id}/timeline"): EVERYONE,
    ("GET", "/cameras/{camera_id}/recordings"): EVERYONE,
    ("GET", "/timeline"): EVERYONE,
    # Previews: a picture now is live view, a recorded one playback (tests/media/test_snapshot).
    ("GET", "/cameras/{camera_id}/snapshot"): EVERYONE,
    ("GET", "/cameras/{camera_id}/archive/snapshot"): EVERYONE,
    # What a camera's events say now: event log material (tests/cameras/test_events).
    ("GET", "/cameras/{camera_id}/events/state"): OPERATORS,
    # PTZ: the function right `ptz`, which viewers lack; presets are part of it
    # (tests/cameras/test_ptz).
    ("POST", "/cameras/{camera_id}/ptz/move"): OPERATORS,
    ("POST", "/cameras/{camera_id}/ptz/stop"): OPERATORS,
    ("POST", "/cameras/{camera_id}/ptz/absolute"): OPERATORS,
    ("POST", "/cameras/{camera_id}/ptz/relative"): OPERATORS,
    ("GET", "/cameras/{camera_id}/ptz/presets"): OPERATORS,
    ("POST", "/cameras/{camera_id}/ptz/presets"): OPERATORS,
    ("POST", "/cameras/{camera_id}/ptz/presets/{token}/go"): OPERATORS,
    ("DELETE", "/cameras/{camera_id}/ptz/presets/{token}"): OPERATORS,
    # WebSockets (method WS), listed by the server under the OpenAPI schema's x-websockets.
    ("WS", "/cameras/{camera_id}/live"): EVERYONE,
    ("WS", "/live"): EVERYONE,
    ("WS", "/playback"): EVERYONE,
    # Export: the function right `export`, which viewers lack; each user sees their own jobs
    # and exports only cameras they see (tests/media/test_export).
    ("POST", "/exports"): OPERATORS,
    ("GET", "/exports"): OPERATORS,
    ("GET", "/exports/{export_id}"): OPERATORS,
    ("GET", "/exports/{export_id}/file"): OPERATORS,
    ("DELETE", "/exports/{export_id}"): OPERATORS,
    ("GET", "/cameras/{camera_id}/export"): OPERATORS,
    # Everyone gets the notifications meant for them (tests/media/test_export).
    ("WS", "/notifications"): EVERYONE,
    # Layouts: everyone lists those they reach; operators save, change and delete them
    # (tests/test_layouts).
    ("GET", "/layouts"): EVERYONE,
    ("POST", "/layouts"): OPERATORS,
    ("GET", "/layouts/{layout_id}"): EVERYONE,
    ("PATCH", "/layouts/{layout_id}"): OPERATORS,
    ("DELETE", "/layouts/{layout_id}"): OPERATORS,
    ("GET", "/storages"): ADMINS,
    ("POST", "/storages"): ADMINS,
    ("GET", "/storages/{storage_id}"): ADMINS,
    ("PATCH", "/storages/{storage_id}"): ADMINS,
    ("DELETE", "/storages/{storage_id}"): ADMINS,
    ("POST", "/storages/{storage_id}/rebuild"): ADMINS,
    # The web client's page and modules: no data in them (tests/web/test_files).
    ("GET", "/"): PUBLIC,
    ("GET", "/app/{path}"): PUBLIC,
}


def _short(path: str) -> str:
    """A path as EXPECTED names it: the API's without its prefix, the web client's whole."""
    return path.removeprefix("/api/v1")


def _routes(server: ServerProcess) -> list[tuple[str, str]]:
    """(method, full path) of every endpoint."""
    with server.client() as client:
        schema = client.get("/openapi.json").json()
    routes = [
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
    ] + [("WS", path) for path in schema["x-websockets"]]
    # Logging out ends the session the walk uses, so it goes last.
    return sorted(routes, key=lambda route: route == ("POST", "/api/v1/logout"))


def _call(client: httpx.Client, method: str, path: str) -> httpx.Response:
    concrete = re.sub(r"\{[^}]+\}", "no-such-id", path)
    if method == "WS":
        return _open_websocket(client, concrete)
    body = {} if method in ("POST", "PUT", "PATCH") else None
    return client.request(method, client.base_url.copy_with(path=concrete), json=body)


def _open_websocket(client: httpx.Client, path: str, origin: str | None = None) -> httpx.Response:
    """A WebSocket's answer as a status: 4000 less its close code and its error message;
    opened with the client's token or its cookies (a browser's way), and `origin`."""
    url = str(client.base_url.copy_with(scheme="ws", path=path))
    headers = {"Authorization": client.headers["authorization"]} if client.headers.get(
        "authorization"
    ) else {}  # fmt: skip
    if client.cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    if origin is not None:
        headers["Origin"] = origin
    with connect(url, additional_headers=headers, open_timeout=20) as websocket:
        message = websocket.recv(timeout=20)
        if json.loads(message)["type"] != "error":
            return httpx.Response(200, content=message)  # serving, as long as it is open
        with pytest.raises(ConnectionClosed) as closed:
            websocket.recv(timeout=20)
    code = closed.value.rcvd.code if closed.value.rcvd else 1006
    return httpx.Response(code - 4000 if code >= 4000 else 200, content=message)


def test_every_endpoint_has_an_expected_rule(system_server: ServerProcess) -> None:
    offered = {(method, _short(path)) for method, path in _routes(system_server)}
    assert offered - set(EXPECTED) == set(), "endpoints nobody decided on"
    assert set(EXPECTED) - offered == set(), "expected endpoints the server lacks"


@pytest.mark.parametrize("role", sorted(EVERYONE))
def test_every_endpoint_allows_and_denies_by_role(
    system_server: ServerProcess, owner: httpx.Client, role: str
) -> None:
    if role != "owner":
        add_user(owner, f"walk-{role}", role)
    name, password = (
        ("owner", "owner password 1") if role == "owner" else (f"walk-{role}", "user password 1")
    )
    with system_server.login(name, password) as client:
        for method, path in _routes(system_server):
            allowed = EXPECTED[(method, _short(path))]
            answer = _call(client, method, path)
            if allowed is PUBLIC or role in allowed:
                assert answer.status_code not in (401, 403), (role, method, path, answer.text)
            else:
                assert answer.status_code == 403, (role, method, path, answer.text)
            assert answer.status_code < 500, (role, method, path, answer.text)


def test_every_endpoint_needs_a_login_unless_public(system_server: ServerProcess) -> None:
    with system_server.client() as anonymous:
        for method, path in _routes(system_server):
            answer = _call(anonymous, method, path)
            if EXPECTED[(method, _short(path))] is PUBLIC:
                assert answer.status_code not in (401, 403), (method, path)
            else:
                assert answer.status_code == 401, (method, path, answer.text)


def test_websockets_opened_by_another_origin_s_page_are_refused(
    system_server: ServerProcess,
) -> None:
    """A page of another port or site has the browser's cookie sent with its WebSocket, but
    not this server's origin: 4403. The server's own page is let in."""
    sockets = [path for method, path in _routes(system_server) if method == "WS"]
    own = system_server.url
    with httpx.Client(base_url=f"{own}/api/v1", timeout=20) as browser:
        logged_in = browser.post("/login", json={"name": OWNER, "password": OWNER_PASSWORD})
        assert logged_in.status_code == 200, logged_in.text
        assert browser.cookies.get(SESSION_COOKIE)
        for path in sockets:
            concrete = re.sub(r"\{[^}]+\}", "no-such-id", path)
            for stranger in ("http://127.0.0.1:1", "http://evil.example", "null",
                             own.replace("http:", "https:")):  # fmt: skip
                answer = _open_websocket(browser, concrete, origin=stranger)
                assert answer.status_code == 403, (path, stranger, answer.text)
                assert "origin" in answer.json()["message"]
            assert _open_websocket(browser, concrete, origin=own).status_code != 403, path


def test_an_app_with_an_endpoint_outside_the_table_is_refused() -> None:
    app = FastAPI()

    @app.get("/api/v1/forgotten")
    async def forgotten() -> None: ...

    with pytest.raises(RuntimeError, match="GET /api/v1/forgotten"):
        check_every_route_has_a_rule(app, RULES)


def test_an_app_with_a_websocket_outside_the_table_is_refused() -> None:
    app = FastAPI()

    @app.websocket("/api/v1/forgotten")
    async def forgotten(websocket: WebSocket) -> None: ...

    with pytest.raises(RuntimeError, match="WS /api/v1/forgotten"):
        check_every_route_has_a_rule(app, RULES)
