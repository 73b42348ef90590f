"""Playback over a WebSocket, against a server recording simulated cameras: what a Media
Source Extensions player is sent starts at the time sought, plays at the speed asked (every
picture, or keyframes only when fast or in reverse), pauses and steps, tells gaps, keeps two
cameras on one clock, and refuses bad commands without ending the session."""

import contextlib
import itertools
import json
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.media.captions import Shown, of_day, pictures
from tests.media.recorded_site import WAIT_S, Site, recorded_s
from tests.servers import add_user
from tests.waiting import wait_for


@dataclass
class Track:
    """What one camera of a session was sent: its timelines' data, as a player keeps it."""

    timelines: list[bytearray] = field(default_factory=list)
    inits: list[dict[str, Any]] = field(default_factory=list)
    fragments: int = 0
    counts: list[int] = field(default_factory=list)  # fragments per timeline
    init_segment_next: bool = False


class Player:
    def __init__(self, websocket: ClientConnection, cameras: int) -> None:
        self.websocket = websocket
        self.tracks = [Track() for _ in range(cameras)]
        self.messages: list[dict[str, Any]] = []
        self._init_for: int | None = None

    def send(self, **command: Any) -> None:
        self.websocket.send(json.dumps(command))

    def receive(self, timeout: float = WAIT_S) -> dict[str, Any] | None:
        """The next message: text decoded (and kept); binaries filed with their camera."""
        message = self.websocket.recv(timeout=timeout)
        if isinstance(message, str):
            decoded: dict[str, Any] = json.loads(message)
            self.messages.append(decoded)
            if decoded["type"] == "init":
                track = self.tracks[decoded["camera"]]
                track.inits.append(decoded)
                if decoded["reset"] or not track.timelines:
                    track.timelines.append(bytearray())
                    track.counts.append(0)
                track.init_segment_next = True
            return decoded
        track = self.tracks[message[0]]
        track.timelines[-1] += message[1:]
        if track.init_segment_next:
            track.init_segment_next = False
        else:
            track.fragments += 1
            track.counts[-1] += 1
        return None

    def until(self, done: Any, timeout: float = WAIT_S, what: str = "") -> float:
        """Receive until `done(player)`; returns the seconds it took."""
        started = time.monotonic()
        while not done(self):
            left = started + timeout - time.monotonic()
            assert left > 0, f"timed out waiting for {what}; got {self.messages[-5:]}"
            self.receive(timeout=left)
        return time.monotonic() - started

    def quiet_for(self, seconds: float) -> int:
        """How many messages came in `seconds` (binary included)."""
        count = 0
        ends = time.monotonic() + seconds
        while (left := ends - time.monotonic()) > 0:
            try:
                self.receive(timeout=left)
            except TimeoutError:
                break
            count += 1
        return count


def _open(
    site: Site,
    client: httpx.Client | None = None,
    sock: socket.socket | None = None,
    **query: Any,
) -> ClientConnection:
    client = client or site.owner
    query.setdefault("cameras", site.cameras[0])
    url = f"ws://127.0.0.1:{site.server.port}/api/v1/playback?{urlencode(query)}"
    headers = {"Authorization": client.headers["authorization"]}
    return connect(url, sock=sock, additional_headers=headers, max_size=None,
                   open_timeout=WAIT_S)  # fmt: skip


def _shown_at(shown: list[Shown], media_ms: int) -> Shown:
    """The picture on screen at `media_ms`: the last one starting at or before it."""
    return [p for p in shown if p.media_ms <= media_ms][-1]


def _fragments(count: int, camera: int = 0) -> Any:
    return lambda player: player.tracks[camera].fragments >= count


# A picture's caption is the camera's clock when it sent it; the server times it on arrival.
CLOSE_MS = 120


def test_play_starts_at_the_picture_of_the_time_sought_and_runs_at_normal_speed(
    site: Site,
) -> None:
    target = site.started_ms + 5_000 + 20
    with _open(site, time_ms=target) as websocket:
        player = Player(websocket, 1)
        player.until(_fragments(1), what="the first fragment")
        init = player.tracks[0].inits[0]
        assert init["mime"].startswith('video/mp4; codecs="avc1.')
        assert init["mime"].endswith(',mp4a.40.2"')  # the camera's sound, at normal speed
        assert init["reset"] is True
        assert (init["width"], init["height"]) == (320, 240)
        took = player.until(_fragments(100), what="100 fragments")
    shown = pictures(player.tracks[0].timelines[0])
    assert shown[0].keyframe
    first = _shown_at(shown, 250)  # the sought picture shows at media time 250 ms
    assert abs(first.clock_ms - of_day(target)) <= CLOSE_MS
    later = shown[-1]
    # Every picture, in order, a frame time apart on the media line as on the camera.
    clocks = [p.clock_ms for p in shown if p.media_ms >= 250]
    assert clocks == sorted(clocks)
    assert abs((later.media_ms - first.media_ms) - (later.clock_ms - first.clock_ms)) <= 80
    # Sent at the pace of the picture, from the sought one on (the server sends 0.2 s ahead).
    assert took >= (later.media_ms - 250) / 1000 - 0.3


def test_a_seek_starts_a_new_timeline_at_the_picture_sought(site: Site) -> None:
    with _open(site, time_ms=site.started_ms + 2_000) as websocket:
        player = Player(websocket, 1)
        player.until(_fragments(10), what="fragments")
        target = site.started_ms + 8_000 + 330
        player.send(command="seek", time_ms=target)
        started = time.monotonic()
        player.until(lambda p: p.tracks[0].counts[-1:] == [1] and len(p.tracks[0].counts) == 2,
                     what="a new timeline")  # fmt: skip
        assert time.monotonic() - started < 1.0  # the sought picture comes at once
        player.until(_fragments(player.tracks[0].fragments + 30), what="more fragments")
    shown = pictures(player.tracks[0].timelines[1])
    assert shown[0].keyframe
    assert abs(_shown_at(shown, 250).clock_ms - of_day(target)) <= CLOSE_MS


def test_fast_forward_and_reverse_send_keyframes_only(site: Site) -> None:
    start = site.started_ms + 1_000
    with _open(site, time_ms=start, speed=8) as websocket:
        player = Player(websocket, 1)
        took = player.until(_fragments(6), what="keyframes at 8x")
        forward = pictures(player.tracks[0].timelines[0])
        player.send(command="play", speed=-4)
        player.until(lambda p: len(p.tracks[0].counts) == 2 and p.tracks[0].counts[1] >= 3,
                     what="keyframes in reverse")  # fmt: skip
        backward = pictures(player.tracks[0].timelines[1])
    assert all(p.keyframe for p in forward + backward)
    assert all("mp4a" not in init["mime"] for init in player.tracks[0].inits)  # no sound
    clocks = [p.clock_ms for p in forward]
    assert clocks == sorted(clocks)
    # 5 GOPs of archive (a keyframe a second) went by in well under 5 s.
    assert (clocks[-1] - clocks[0]) >= 4_000
    assert took < 4.0
    back = [p.clock_ms for p in backward]
    assert back == sorted(back, reverse=True)
    assert [p.media_ms for p in backward] == sorted(p.media_ms for p in backward)


def _states(player: Player) -> list[dict[str, Any]]:
    return [m for m in player.messages if m["type"] == "state"]


def _step(player: Player, frames: int) -> dict[str, Any]:
    """Step, and the state that says which picture shows now."""
    count = len(_states(player))
    player.send(command="step", frames=frames)
    player.until(lambda p: len(_states(p)) > count, what="the state after a step")
    return _states(player)[-1]


def test_pause_stops_and_steps_move_one_picture(site: Site) -> None:
    with _open(site, time_ms=site.started_ms + 3_000) as websocket:
        player = Player(websocket, 1)
        player.until(_fragments(20), what="fragments")
        player.send(command="pause")
        player.until(lambda p: any(not m["playing"] for m in _states(p)), what="paused")
        player.quiet_for(0.5)  # what was sent ahead of the pause
        sent = player.tracks[0].fragments
        player.quiet_for(1.5)
        assert player.tracks[0].fragments == sent  # paused: nothing more
        paused = _states(player)[-1]
        forward = [_step(player, 1) for _ in range(10)]
        back = _step(player, -1)
        player.quiet_for(0.5)
    shown = pictures(player.tracks[0].timelines[0])
    assert len(player.tracks[0].counts) == 1  # steps within what was sent: no new timeline
    # Each step moves on by one picture, whether the client held it already (the first few:
    # sent ahead of the pause) or the server sent it for the step. The camera's frame counter
    # tells pictures apart; its clock does not, a busy machine sends them unevenly.
    line = [paused, *forward, back]
    showing = [_shown_at(shown, state["media_ms"]).number for state in line]
    moves = [b - a for a, b in itertools.pairwise(showing)]
    assert moves == [1] * 10 + [-1], (moves, showing)
    assert player.tracks[0].fragments > sent  # the later steps needed pictures not yet sent
    for state in line:
        assert not state["playing"]
        picture = _shown_at(shown, state["media_ms"])
        assert abs(picture.clock_ms - of_day(state["time_ms"])) <= CLOSE_MS


def test_a_step_back_from_the_picture_sought_starts_a_new_timeline(site: Site) -> None:
    target = site.started_ms + 6_000 + 500
    with _open(site, time_ms=target) as websocket:
        player = Player(websocket, 1)
        player.until(_fragments(1), what="a fragment")
        player.send(command="pause")
        player.quiet_for(0.5)
        paused = _states(player)[-1]
        back = _step(player, -1)
        player.until(lambda p: len(p.tracks[0].counts) == 2 and p.tracks[0].counts[1] >= 1,
                     what="a new timeline")  # fmt: skip
        player.quiet_for(0.5)
    before = pictures(player.tracks[0].timelines[0])
    after = pictures(player.tracks[0].timelines[1])
    assert after[0].keyframe
    # The picture before the one showing at the pause, from its keyframe on.
    showing = _shown_at(before, paused["media_ms"])
    earlier = [p for p in before if p.clock_ms < showing.clock_ms]
    assert after[-1].clock_ms == (earlier[-1].clock_ms if earlier else after[-1].clock_ms)
    assert back["time_ms"] < paused["time_ms"]


def test_a_gap_is_told_with_its_length_and_skipped(site: Site) -> None:
    answer = httpx.post(f"{site.camera.url()}/control/fault/offline", json={"seconds": 5})
    assert answer.status_code == 200, answer.text
    went_off = int(time.time() * 1000)
    wait_for(lambda: _recorded_after(site, went_off) >= 2, WAIT_S, "recording after the gap")
    with _open(site, time_ms=went_off - 1_500) as websocket:
        player = Player(websocket, 1)
        player.until(lambda p: any(m["type"] == "gap" for m in p.messages), what="a gap")
        gap = next(m for m in player.messages if m["type"] == "gap")
        before = player.tracks[0].fragments
        took = player.until(_fragments(before + 10), what="pictures after the gap")
    assert gap["length_ms"] == gap["to_ms"] - gap["from_ms"]
    assert 4_000 <= gap["length_ms"] <= 12_000
    assert took < 3.0  # not waited out in real time
    shown = pictures(player.tracks[0].timelines[0])
    after = [p for p in shown if p.clock_ms > of_day(gap["from_ms"]) + 2_000]
    assert after
    assert after[0].keyframe


def _recorded_after(site: Site, since_ms: int) -> float:
    return recorded_s(site.owner, site.cameras[0], since_ms + 8_000)


def test_two_cameras_on_one_clock_show_the_same_instant(site: Site) -> None:
    cameras = ",".join(site.cameras)
    with _open(site, cameras=cameras, time_ms=site.started_ms + 4_000) as websocket:
        player = Player(websocket, 2)
        player.until(lambda p: _fragments(60, 0)(p) and _fragments(60, 1)(p), what="both")
    first, second = (pictures(track.timelines[0]) for track in player.tracks)
    for media_ms in (250, 1000, 2000):
        # Both cameras share the testcamera's clock: the pictures showing differ by a frame.
        assert abs(_shown_at(first, media_ms).clock_ms - _shown_at(second, media_ms).clock_ms) <= 80


def test_bad_commands_are_refused_and_the_session_goes_on(site: Site) -> None:
    with _open(site, time_ms=site.started_ms + 1_000) as websocket:
        player = Player(websocket, 1)
        player.until(_fragments(1), what="a fragment")
        for command, field_name in (
            ({"command": "play", "speed": 20}, "speed"),
            ({"command": "play", "speed": 0}, "speed"),
            ({"command": "seek", "time_ms": int(time.time() * 1000) + 60_000}, "time_ms"),
            ({"command": "seek"}, "time_ms"),
            ({"command": "rewind"}, "command"),
        ):
            errors = _errors(player)
            player.send(**command)
            player.until(lambda p, n=errors: _errors(p) > n, what="an error")
            error = [m for m in player.messages if m["type"] == "error"][-1]
            assert (error["code"], error["field"]) == ("invalid_input", field_name), error
        errors = _errors(player)
        websocket.send("not json")
        player.until(lambda p: _errors(p) > errors, what="an error")
        count = player.tracks[0].fragments
        player.until(_fragments(count + 10), what="playback going on")


def _errors(player: Player) -> int:
    return sum(1 for m in player.messages if m["type"] == "error")


def _refusal(site: Site, client: httpx.Client | None = None, **query: Any) -> tuple[str, int]:
    with _open(site, client, **query) as websocket:
        message = json.loads(websocket.recv(timeout=WAIT_S))
        with pytest.raises(ConnectionClosed) as closed:
            websocket.recv(timeout=WAIT_S)
    assert closed.value.rcvd is not None
    return message["code"], closed.value.rcvd.code


def test_refusals(site: Site) -> None:
    now = int(time.time() * 1000)
    owner = site.owner
    live_only = owner.post("/roles", json={"name": "Guard", "functions": ["live_view"]})
    elsewhere = owner.post(
        "/roles",
        json={"name": "Lobby", "functions": ["playback"],
              "resources": {"cameras": [site.cameras[1]]}},
    )  # fmt: skip
    add_user(owner, "guard", live_only.json()["id"])
    add_user(owner, "lobby", elsewhere.json()["id"])
    refusals = {
        "future": _refusal(site, time_ms=now + 60_000),
        "speed": _refusal(site, time_ms=now, speed=17),
        "unknown": _refusal(site, time_ms=now, cameras="nope"),
        "65 cameras": _refusal(site, time_ms=now, cameras=",".join(f"c{n}" for n in range(65))),
    }
    for name in ("guard", "lobby"):
        with site.server.login(name, "user password 1") as client:
            both = ",".join(site.cameras)
            refusals[name] = _refusal(site, client, time_ms=now, cameras=both)
    assert refusals == {
        "future": ("invalid_input", 4422),
        "speed": ("invalid_input", 4422),
        "unknown": ("not_found", 4404),
        "65 cameras": ("invalid_input", 4422),
        "guard": ("forbidden", 4403),  # no playback right
        "lobby": ("not_found", 4404),  # one of the cameras is not the role's to see
    }


def test_clients_that_leave_mid_stream_end_their_sessions_cleanly(site: Site) -> None:
    """Sessions whose clients leave while pictures are on their way (a reset, or a close
    from a client that stopped reading, so the server is stuck mid-send) leave no error
    behind, and the server plays on for others."""
    for n in range(4):
        sock = socket.create_connection(("127.0.0.1", site.server.port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        if n % 2:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        url = f"ws://127.0.0.1:{site.server.port}/api/v1/playback?" + urlencode(
            {"cameras": site.cameras[0], "time_ms": site.started_ms + 1_000, "speed": 8}
        )
        headers = {"Authorization": site.owner.headers["authorization"]}
        with (
            contextlib.suppress(ConnectionClosed, OSError, TimeoutError),
            connect(
                url,
                sock=sock,
                additional_headers=headers,
                max_size=None,
                max_queue=1,
                close_timeout=1,
            ) as websocket,  # fmt: skip
        ):
            Player(websocket, 1).until(_fragments(1), what="a fragment")
            time.sleep(0.5)  # not reading: the server's sending stalls
            if n % 2:
                sock.close()  # a reset
    time.sleep(1.0)
    with _open(site, time_ms=site.started_ms + 2_000) as websocket:
        Player(websocket, 1).until(_fragments(10), what="playback for the next client")
    assert "Exception in ASGI application" not in site.server.logs()
    assert "Traceback" not in site.server.logs()
