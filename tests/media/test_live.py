"""Live view over a WebSocket, against simulated cameras: what a Media Source Extensions
player is sent plays, from a keyframe, with every frame; viewers are refused, slowed down,
dropped and told of an offline camera as the protocol says."""

import json
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.media.test_recording import _frame_numbers, _recorded_s, recording
from tests.servers import ServerProcess, add_user
from tests.testcamera.ffmpeg import decode_errors
from tests.testcamera.process import TestCameraProcess
from tests.waiting import wait_for
from vigil.media.archive.scan import FragmentInfo, scan

WAIT_S = 30.0
STALL_S = 20


def _online(owner: httpx.Client, camera_id: str, stream: str = "main") -> dict[str, Any]:
    def look() -> dict[str, Any] | None:
        answer: dict[str, Any] = owner.get(f"/cameras/{camera_id}").json()["streams"][stream]
        return answer if answer["stats"] else None

    return wait_for(look, WAIT_S, "the stream to come online")


def _viewers(owner: httpx.Client, camera_id: str) -> int:
    viewers: int = owner.get(f"/cameras/{camera_id}").json()["streams"]["main"]["viewers"]
    return viewers


@contextmanager
def watching(
    server: ServerProcess,
    client: httpx.Client | None,
    camera_id: str,
    rcvbuf: int | None = None,
    **query: str,
) -> Iterator[ClientConnection]:
    """A live WebSocket as `client`'s session (anonymous without one); `rcvbuf` makes the
    socket's receive buffer that small, for a viewer that stops reading."""
    url = f"ws://127.0.0.1:{server.port}/api/v1/cameras/{camera_id}/live"
    if query:
        url += f"?{urlencode(query)}"
    headers = {"Authorization": client.headers["authorization"]} if client else {}
    sock = socket.socket()
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.connect(("127.0.0.1", server.port))
    with connect(
        url,
        sock=sock,
        additional_headers=headers,
        max_size=None,
        max_queue=1 if rcvbuf is not None else 16,
        open_timeout=WAIT_S,
    ) as websocket:
        yield websocket


def _text(websocket: ClientConnection) -> dict[str, Any]:
    message = websocket.recv(timeout=WAIT_S)
    assert isinstance(message, str), f"a binary message of {len(message)} bytes"
    decoded: dict[str, Any] = json.loads(message)
    return decoded


def _refusal(websocket: ClientConnection) -> tuple[dict[str, Any], int | None]:
    """The error message and the close code that follows it."""
    error = _text(websocket)
    with pytest.raises(ConnectionClosed) as closed:
        websocket.recv(timeout=WAIT_S)
    return error, closed.value.rcvd.code if closed.value.rcvd else None


@dataclass
class Run:
    """An init segment and the fragments after it, as a player's SourceBuffer takes them."""

    mime: str
    binaries: list[bytes] = field(default_factory=list)  # the init segment, then fragments

    @property
    def fragments(self) -> int:
        return max(0, len(self.binaries) - 1)

    def file(self, tmp_path: Path, first: int = 0) -> Path:
        """The init segment and the fragments from `first` on, as one file."""
        path = tmp_path / f"live-{time.monotonic_ns()}.mp4"
        path.write_bytes(self.binaries[0] + b"".join(self.binaries[1 + first :]))
        return path


def _read(
    websocket: ClientConnection, runs: list[Run], done: Callable[[list[Run]], bool]
) -> dict[str, Any] | None:
    """Messages into `runs` (a new one at each `init`) until `done`, or until another text
    message comes (which is returned)."""
    while not done(runs):
        message = websocket.recv(timeout=WAIT_S)
        if isinstance(message, bytes):
            runs[-1].binaries.append(message)
            continue
        decoded: dict[str, Any] = json.loads(message)
        if decoded["type"] != "init":
            return decoded
        runs.append(Run(decoded["mime"]))
    return None


def _fragments(path: Path) -> list[FragmentInfo]:
    return scan(path).fragments


def _never(_: list[Run]) -> bool:
    return False


Served = tuple[ServerProcess, httpx.Client, str]


@contextmanager
def serving(tmp_path: Path, camera: TestCameraProcess) -> Iterator[Served]:
    """A server recording `camera`, online: the server, the owner's client, the camera's id."""
    with (
        ServerProcess(tmp_path / "server") as server,
        recording(server, camera) as (owner, camera_id),
    ):
        _online(owner, camera_id)
        yield server, owner, camera_id


@contextmanager
def serving_own_camera(tmp_path: Path, *camera_args: str) -> Iterator[Served]:
    """The same with a camera of its own, started with `camera_args`."""
    with TestCameraProcess(tmp_path, extra_args=camera_args) as camera:
        camera.start(timeout_s=180)
        with serving(tmp_path, camera) as served:
            yield served


@pytest.fixture
def served(tmp_path: Path, camera: TestCameraProcess) -> Iterator[Served]:
    with serving(tmp_path, camera) as served:
        yield served


def test_a_viewer_gets_the_mime_type_then_media_that_plays_every_frame_from_a_keyframe(
    tmp_path: Path, served: Served
) -> None:
    server, owner, camera_id = served
    runs: list[Run] = []
    with watching(server, owner, camera_id) as websocket:
        first = websocket.recv(timeout=WAIT_S)
        runs.append(Run(json.loads(first)["mime"]))
        # Sound may start a moment after the picture (a new init segment says so).
        other = _read(websocket, runs, lambda r: "mp4a" in r[-1].mime and r[-1].fragments >= 50)
    assert other is None
    assert isinstance(first, str)
    assert json.loads(first) == {
        "type": "init", "mime": runs[0].mime, "width": 320, "height": 240
    }  # fmt: skip
    assert runs[0].mime.startswith('video/mp4; codecs="avc1.42c00d')  # as the camera's SPS says
    assert runs[-1].mime == 'video/mp4; codecs="avc1.42c00d,mp4a.40.2"'
    numbers = []
    for run in runs:
        path = run.file(tmp_path)
        assert decode_errors(path) == ""
        fragments = _fragments(path)
        assert len(fragments) == run.fragments  # one picture each
        assert fragments[0].keyframe
        numbers += _frame_numbers(path)
    assert _fragments(runs[0].file(tmp_path))[0].start_ms == 0
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))  # not one lost


def test_a_viewer_of_a_stream_with_sound_gets_it_from_the_first_init(served: Served) -> None:
    server, owner, camera_id = served
    # A GOP with its sound is kept: the camera has been sending both for a few seconds.
    since_ms = int(time.time() * 1000) - 600_000
    wait_for(lambda: _recorded_s(owner, camera_id, since_ms) >= 3, WAIT_S, "3 s recorded")
    # The first viewer starts the stream's feed from its media worker; the second joins it.
    with watching(server, owner, camera_id) as first, watching(server, owner, camera_id) as second:
        for websocket in (first, second):
            runs: list[Run] = []
            _read(websocket, runs, lambda r: bool(r) and r[-1].fragments >= 30)
            assert len(runs) == 1, [run.mime for run in runs]
            assert runs[0].mime.endswith(',mp4a.40.2"')


def test_viewers_without_the_right_or_the_camera_are_refused(served: Served) -> None:
    server, owner, camera_id = served
    refusals = {}
    no_live = owner.post("/roles", json={"name": "Archive", "functions": ["playback"]})
    elsewhere = owner.post(
        "/roles",
        json={"name": "Lobby", "functions": ["live_view"],
              "resources": {"cameras": ["another-camera"]}},
    )  # fmt: skip
    add_user(owner, "archivist", no_live.json()["id"])
    add_user(owner, "lobby", elsewhere.json()["id"])
    for name in ("archivist", "lobby"):
        with (
            server.login(name, "user password 1") as client,
            watching(server, client, camera_id) as websocket,
        ):
            refusals[name] = _refusal(websocket)
    with watching(server, None, camera_id) as websocket:
        refusals["anonymous"] = _refusal(websocket)
    with watching(server, owner, camera_id, codecs="vp9") as websocket:
        refusals["vp9"] = _refusal(websocket)
    with watching(server, owner, "no-such-camera") as websocket:
        refusals["unknown"] = _refusal(websocket)
    assert _viewers(owner, camera_id) == 0
    assert {name: (e["type"], e["code"], code) for name, (e, code) in refusals.items()} == {
        "archivist": ("error", "forbidden", 4403),
        "lobby": ("error", "not_found", 4404),  # a camera the role may not see is not there
        "anonymous": ("error", "unauthenticated", 4401),
        "vp9": ("error", "invalid_input", 4422),
        "unknown": ("error", "not_found", 4404),
    }
    assert "live_view" in refusals["archivist"][0]["message"]
    assert refusals["vp9"][0]["field"] == "codecs"


def test_many_cameras_on_one_socket_each_in_its_slot(tmp_path: Path, served: Served) -> None:
    """One socket, a slot per tile: each slot's init and fragments behind its byte, playable on
    their own; a camera the role may not see refused in its slot while the others go on; a
    slot let go sends nothing more; a bad command refused, the socket left open."""
    server, owner, camera_id = served
    url = f"ws://127.0.0.1:{server.port}/api/v1/live"
    headers = {"Authorization": owner.headers["authorization"]}
    with connect(url, additional_headers=headers, max_size=None, open_timeout=WAIT_S) as websocket:
        assert _text(websocket) == {"type": "ready", "slots": 64}
        for slot, camera in ((0, camera_id), (5, camera_id), (2, "no-such-camera")):
            websocket.send(json.dumps({"command": "watch", "slot": slot, "camera_id": camera}))
        # Each slot's runs: an init segment and the fragments after it, a new run at each
        # `init` (the sound's track comes with a later one when it is heard after the first
        # pictures), as a player takes them.
        runs: dict[int, list[list[bytes]]] = {0: [], 5: []}
        texts: list[dict[str, Any]] = []
        for _ in range(500):  # both slots' first second and more, at 25 pictures a second
            if min(sum(map(len, slot_runs)) for slot_runs in runs.values()) >= 30:
                break
            message = websocket.recv(timeout=WAIT_S)
            if isinstance(message, bytes):
                runs[message[0]][-1].append(message[1:])
                continue
            texts.append(json.loads(message))
            if texts[-1]["type"] == "init":
                runs[texts[-1]["slot"]].append([])
        refused = [t for t in texts if t["type"] == "error"]
        assert [(t["slot"], t["code"], t["status"]) for t in refused] == [(2, "not_found", 404)]
        sizes = {t["slot"]: (t["width"], t["height"]) for t in texts if t["type"] == "init"}
        assert sizes == {0: (320, 240), 5: (320, 240)}
        for slot, slot_runs in runs.items():
            assert sum(map(len, slot_runs)) >= 30, (slot, list(map(len, slot_runs)))
            for n, media in enumerate(slot_runs):
                path = tmp_path / f"slot-{slot}-{n}.mp4"
                path.write_bytes(b"".join(media))
                assert decode_errors(path) == "", (slot, n)

        websocket.send(json.dumps({"command": "unwatch", "slot": 0}))
        websocket.send(json.dumps({"command": "watch", "slot": 64, "camera_id": camera_id}))
        assert _next_text(websocket, "unwatched")["slot"] == 0  # after all slot 0 sent
        error = _next_text(websocket, "error")
        assert (error["code"], error["field"], "slot" in error) == ("invalid_input", "slot", False)
        later = [websocket.recv(timeout=WAIT_S) for _ in range(30)]
        assert {m[0] for m in later if isinstance(m, bytes)} == {5}


def _next_text(websocket: ClientConnection, kind: str) -> dict[str, Any]:
    """The next text message of type `kind`, what comes before it skipped (at most 500)."""
    for _ in range(500):
        message = websocket.recv(timeout=WAIT_S)
        if isinstance(message, str) and (decoded := json.loads(message))["type"] == kind:
            return dict(decoded)
    raise AssertionError(f"no {kind} message among 500")


def test_a_viewer_that_stops_reading_is_skipped_to_a_keyframe_not_buffered(
    tmp_path: Path,
) -> None:
    runs: list[Run] = []
    # About 700 kB/s: the socket's buffers and the viewer's bound fill within seconds.
    with (
        serving_own_camera(tmp_path, "--main", "1280x720@25:8000k") as (server, owner, camera_id),
        watching(server, owner, camera_id, rcvbuf=4096) as websocket,
    ):
        assert _read(websocket, runs, lambda r: bool(r) and "mp4a" in r[-1].mime) is None
        time.sleep(STALL_S)  # reads nothing meanwhile
        # What the socket buffers held, then what the server kept, then live again.
        wanted = runs[-1].fragments + 25 * (STALL_S + 4)
        assert _read(websocket, runs, lambda r: r[-1].fragments >= wanted) is None
        assert _viewers(owner, camera_id) == 1
    path = runs[-1].file(tmp_path)
    fragments = _fragments(path)
    gaps = [n for n in range(1, len(fragments)) if fragments[n].start_ms
            > fragments[n - 1].end_ms + 500]  # fmt: skip
    assert gaps, "every frame came: the server buffered all it could not send"
    assert all(fragments[n].keyframe for n in gaps)
    assert decode_errors(path) == ""


def test_viewers_that_leave_or_drop_leave_nothing_subscribed(served: Served) -> None:
    server, owner, camera_id = served
    assert _viewers(owner, camera_id) == 0
    with (
        watching(server, owner, camera_id) as leaving,
        watching(server, owner, camera_id) as dropping,
    ):
        for websocket in (leaving, dropping):
            _read(websocket, [Run("")], lambda r: bool(r) and r[-1].fragments >= 5)
        assert _viewers(owner, camera_id) == 2
        dropping.socket.shutdown(socket.SHUT_RDWR)  # gone without a close handshake
        wait_for(lambda: _viewers(owner, camera_id) == 1, WAIT_S, "the dropped viewer gone")
    wait_for(lambda: _viewers(owner, camera_id) == 0, WAIT_S, "the viewer that left gone")


def test_an_offline_camera_is_said_and_the_view_resumes_then_ends_when_deleted(
    tmp_path: Path, camera: TestCameraProcess, served: Served
) -> None:
    server, owner, camera_id = served
    runs: list[Run] = []
    with watching(server, owner, camera_id) as websocket:
        assert _read(websocket, runs, lambda r: bool(r) and r[-1].fragments >= 5) is None
        camera.stop()
        offline = _read(websocket, runs, _never)
        camera.start(timeout_s=120)
        online = _read(websocket, runs, _never)
        run, first = len(runs) - 1, runs[-1].fragments  # where the view resumes

        def resumed_enough(r: list[Run]) -> bool:
            return r[-1].fragments >= (5 if len(r) - 1 > run else first + 5)

        assert _read(websocket, runs, resumed_enough) is None
        assert owner.delete(f"/cameras/{camera_id}").status_code == 204
        ended = _read(websocket, runs, _never)
        with pytest.raises(ConnectionClosed) as closed:
            websocket.recv(timeout=WAIT_S)
    assert offline is not None
    assert (offline["type"], offline["state"]) == ("status", "offline")
    assert offline["reason"]
    assert online == {"type": "status", "state": "online", "reason": ""}
    resumed = runs[run].file(tmp_path, first) if runs[run].fragments > first else None
    resumed = resumed or runs[run + 1].file(tmp_path)  # or with a new init segment
    assert _fragments(resumed)[0].keyframe
    assert decode_errors(runs[run].file(tmp_path)) == ""
    assert ended == {"type": "status", "state": "ended", "reason": "the camera was deleted"}
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1000


def test_h265_goes_only_to_a_client_that_says_it_plays_it(tmp_path: Path) -> None:
    runs: list[Run] = []
    with serving_own_camera(tmp_path, "--codec", "h265") as (server, owner, camera_id):
        with watching(server, owner, camera_id) as websocket:
            error, code = _refusal(websocket)
        with watching(server, owner, camera_id, codecs="h264,h265") as websocket:
            assert _read(websocket, runs, lambda r: bool(r) and r[-1].fragments >= 30) is None
    assert (error["code"], code) == ("unsupported_codec", 4415)
    assert "H265" in error["message"]
    assert runs[0].mime.startswith('video/mp4; codecs="hvc1.1.6.L')
    path = runs[0].file(tmp_path)
    assert _fragments(path)[0].keyframe
    assert decode_errors(path) == ""
