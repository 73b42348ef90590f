"""What a camera's streams say of themselves through the API: a recording state that is
`recording` only while video is being recorded, a reason for every pause, and a stream state
whose `since_ms` is when that state began, not the last retry."""

import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.servers import ServerProcess, system_with_cameras
from tests.testcamera.process import TestCameraProcess
from tests.waiting import wait_for

WAIT_S = 30.0


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServerProcess, httpx.Client, TestCameraProcess]]:
    with (
        system_with_cameras(tmp_path_factory.mktemp("states")) as (server, camera),
        server.login() as owner,
    ):
        yield server, owner, camera


def _add(owner: httpx.Client, main_url: str, sub_url: str | None = None) -> str:
    body = {"name": "Yard", "main_url": main_url, **({"sub_url": sub_url} if sub_url else {})}
    answer = owner.post("/cameras", json=body)
    assert answer.status_code == 201, answer.text
    camera_id: str = answer.json()["id"]
    return camera_id


def _stream(owner: httpx.Client, camera_id: str, name: str = "main") -> dict[str, Any]:
    stream: dict[str, Any] = owner.get(f"/cameras/{camera_id}").json()["streams"][name]
    return stream


def _recording_is(owner: httpx.Client, camera_id: str, state: str, name: str = "main") -> Any:
    recording = _stream(owner, camera_id, name)["recording"]
    return recording if recording["state"] == state else None


def _set_recording(owner: httpx.Client, camera_id: str, settings: dict[str, Any]) -> None:
    answer = owner.patch(f"/cameras/{camera_id}", json={"recording": settings})
    assert answer.status_code == 200, answer.text


def test_every_pause_says_why(
    site: tuple[ServerProcess, httpx.Client, TestCameraProcess],
) -> None:
    _, owner, camera = site
    camera_id = _add(owner, camera.rtsp_url("/cam1/main"), camera.rtsp_url("/cam1/sub"))
    wait_for(lambda: _recording_is(owner, camera_id, "recording"), WAIT_S, "recording")
    # A slot on another day than today (in the server's local time, as schedules are).
    tomorrow = (datetime.now() + timedelta(days=1)).weekday()
    slot = {"days": [tomorrow], "start": "00:00", "end": "24:00", "mode": "always"}
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"mode": "schedule", "schedule": [slot]}, "main", "outside the schedule"),
        ({"mode": "event"}, "main", "waiting for an event"),
        ({"mode": "off"}, "main", "recording is off"),
        ({"mode": "always", "streams": "main"}, "sub", "only the main stream is recorded"),
    ]
    for settings, stream, reason in cases:
        _set_recording(owner, camera_id, settings)
        paused = wait_for(
            lambda s=stream: _recording_is(owner, camera_id, "paused", s),  # type: ignore[misc]
            WAIT_S,
            f"a pause by {settings}",
        )
        assert paused["reason"] == reason, settings
    wait_for(lambda: _recording_is(owner, camera_id, "recording"), WAIT_S, "main to record again")
    assert owner.delete(f"/cameras/{camera_id}").status_code == 204


def test_an_offline_stream_is_not_shown_recording(
    site: tuple[ServerProcess, httpx.Client, TestCameraProcess],
) -> None:
    _, owner, camera = site
    camera_id = _add(owner, camera.rtsp_url("/cam1/main"))
    wait_for(lambda: _recording_is(owner, camera_id, "recording"), WAIT_S, "recording")
    unplugged = httpx.post(f"{camera.url()}/control/fault/offline", json={"seconds": 15})
    assert unplugged.status_code == 200, unplugged.text
    failed = wait_for(
        lambda: _recording_is(owner, camera_id, "failed"), WAIT_S, "recording to fail"
    )
    status = _stream(owner, camera_id)["status"]
    assert status["state"] == "offline"
    assert failed["reason"].startswith("the stream is offline")
    # Plugged in again, it records again by itself.
    wait_for(lambda: _recording_is(owner, camera_id, "recording"), 60, "recording again")
    assert owner.delete(f"/cameras/{camera_id}").status_code == 204


class _HangsUp:
    """A TCP peer that takes every connection and hangs up on its first request, counting
    them: a camera whose RTSP server is broken, which the server retries."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen()
        self.port: int = self._socket.getsockname()[1]
        self.accepted = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return  # closed
            # The request is read before hanging up, so that the server always meets the same
            # end (no answer) rather than, by timing, a reset of what it was still sending.
            with connection:
                connection.settimeout(5)
                request = b""
                try:
                    while b"\r\n\r\n" not in request:
                        chunk = connection.recv(4096)
                        if not chunk:
                            break
                        request += chunk
                except OSError:
                    pass
            self.accepted += 1

    def close(self) -> None:
        self._socket.shutdown(socket.SHUT_RDWR)
        self._socket.close()
        self._thread.join(timeout=5)


def test_since_ms_is_when_the_failure_began_not_the_last_retry(
    site: tuple[ServerProcess, httpx.Client, TestCameraProcess],
) -> None:
    _, owner, _ = site
    peer = _HangsUp()
    try:
        camera_id = _add(owner, f"rtsp://127.0.0.1:{peer.port}/cam/main")
        first = wait_for(
            lambda: (s := _stream(owner, camera_id)["status"])["state"] != "connecting" and s,
            WAIT_S,
            "the first connection to fail",
        )
        assert first["state"] in ("offline", "error"), first
        tried = peer.accepted
        wait_for(lambda: peer.accepted >= tried + 2, WAIT_S, "two more connection attempts")
        again = _stream(owner, camera_id)
        assert again["status"] == first, (first, again["status"])
        assert again["recording"]["state"] == "failed"
        assert owner.delete(f"/cameras/{camera_id}").status_code == 204
    finally:
        peer.close()
