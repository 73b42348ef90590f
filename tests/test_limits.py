"""What a client on the network can make the server hold: bodies, heads, connections and
WebSocket messages are bounded, and refused in JSON where there is an answer to give."""

import json
import socket
import stat
import time
from collections.abc import Iterator

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.servers import ServerProcess, add_user
from vigil.http_connections import HEAD_TIMEOUT_S, MAX_CONNECTIONS_PER_CLIENT

WAIT_S = 20.0


def _connect(server: ServerProcess) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=WAIT_S)


def _answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of the answer read until the server closes."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split(" ")[1]), headers, body


def test_a_stranger_s_huge_login_is_refused_before_it_is_sent(
    system_server: ServerProcess,
) -> None:
    with _connect(system_server) as sock:
        sock.sendall(
            b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 104857600\r\n\r\n" + b"{" * 4096
        )
        status, headers, body = _answer(sock)  # with 100 MB yet to send
    assert status == 413
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "too_large"


def test_a_body_sent_in_chunks_is_counted_as_it_comes(system_server: ServerProcess) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "owner", "password": "'
        for _ in range(64):
            yield b"x" * 1024
        yield b'"}'

    with system_server.client() as anonymous:
        answer = anonymous.post("/login", content=chunks(),
                                headers={"Content-Type": "application/json"})  # fmt: skip
    assert answer.status_code == 413, answer.text
    assert answer.json()["error"]["code"] == "too_large"


def test_a_logged_in_user_s_body_is_bounded_too_but_larger(
    system_server: ServerProcess, owner: httpx.Client
) -> None:
    name = "x" * (512 * 1024)  # over the name's length, under the body's cap: the field
    assert owner.post("/layouts", json={"name": name}).status_code == 422
    huge = owner.post("/layouts", json={"name": name * 3})
    assert huge.status_code == 413
    assert huge.json()["error"]["code"] == "too_large"
    assert owner.get("/layouts").json()["layouts"] == []  # nothing made


def test_a_client_that_never_finishes_its_request_head_is_let_go(
    system_server: ServerProcess,
) -> None:
    with _connect(system_server) as silent, _connect(system_server) as trickling:
        trickling.setblocking(False)
        opened = time.monotonic()
        for byte in b"GET /api/v1/server HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"y" * 40:
            try:
                trickling.send(bytes([byte]))
            except OSError:
                break  # closed by the server
            if time.monotonic() - opened > HEAD_TIMEOUT_S + WAIT_S:
                pytest.fail("a request head trickling in held its connection open")
            time.sleep(0.5)  # the trickle is the test: a byte every half second
        assert silent.recv(1) == b""  # closed, and not by its timeout
        closed_after_s = time.monotonic() - opened
    assert HEAD_TIMEOUT_S - 1 < closed_after_s < HEAD_TIMEOUT_S + WAIT_S


def test_one_address_holds_a_bounded_number_of_connections(
    system_server: ServerProcess,
) -> None:
    held = [_connect(system_server) for _ in range(MAX_CONNECTIONS_PER_CLIENT)]
    try:
        with _connect(system_server) as one_more:
            assert one_more.recv(1) == b""  # closed at once
        for sock in held[:3]:
            sock.sendall(b"GET /api/v1/server HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert _answer(sock)[0] == 200
    finally:
        for sock in held:
            sock.close()
    with system_server.client() as anonymous:  # the ones let go count no more
        assert anonymous.get("/server").status_code == 200


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (b"GET /api/v1/server HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n",
         431, "too_large"),
        (b"GET /api/v1/server HTTP/1.1\r\nno colon here\r\n\r\n", 400, "bad_request"),
    ],
)  # fmt: skip
def test_a_malformed_or_oversized_head_is_answered_in_json(
    system_server: ServerProcess, request_bytes: bytes, status: int, code: str
) -> None:
    with _connect(system_server) as sock:
        sock.sendall(request_bytes)
        answered, headers, body = _answer(sock)
    assert answered == status
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["code"] == code
    with system_server.client() as anonymous:
        assert anonymous.get("/server").status_code == 200


def test_a_websocket_message_over_the_command_size_closes_the_socket(
    system_server: ServerProcess, owner: httpx.Client
) -> None:
    url = f"ws://127.0.0.1:{system_server.port}/api/v1/live?codecs=h264"
    token = owner.headers["authorization"]
    with connect(url, additional_headers={"Authorization": token}, open_timeout=WAIT_S) as ws:
        assert json.loads(ws.recv(timeout=WAIT_S))["type"] == "ready"
        ws.send("x" * 64 * 1024)
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=WAIT_S)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009  # message too big


def test_the_data_folder_and_what_the_server_writes_are_its_account_s_alone(
    system_server: ServerProcess, owner: httpx.Client
) -> None:
    add_user(owner, "writer", "viewer")  # something written
    assert stat.S_IMODE(system_server.data_dir.stat().st_mode) == 0o700
    written = [path for path in system_server.data_dir.rglob("*") if path.is_file()]
    assert any(path.name.endswith("-wal") for path in written)  # the database's, mid-use
    assert {str(path): oct(stat.S_IMODE(path.stat().st_mode) & 0o077) for path in written} == {
        str(path): "0o0" for path in written
    }
