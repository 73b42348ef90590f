"""Failover: a server that stays offline has its cameras recorded by another until it is back."""

import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from websockets.sync.client import connect

from tests.media.captions import of_day, pictures
from tests.media.test_playback import Player
from tests.media.test_recording import wait_recorded
from tests.servers import ServerProcess
from tests.system.test_detach import _add_camera
from tests.system.test_partition import _pair, _server_id
from tests.testcamera.process import TestCameraProcess
from tests.waiting import wait_for


def _acting(server: ServerProcess, camera_id: str) -> str | None:
    with server.login() as owner:
        acting: str | None = owner.get(f"/cameras/{camera_id}").json()["acting_server_id"]
    return acting


def test_cameras_of_a_server_gone_are_recorded_elsewhere_and_go_back_when_it_returns(
    tmp_path: Path, start_server: Callable[..., ServerProcess]
) -> None:
    first, second = _pair(start_server)
    first_id, second_id = _server_id(first), _server_id(second)
    with first.login() as owner:
        assert owner.patch("/system", json={"failover_after_s": 5}).status_code == 200
    with TestCameraProcess(tmp_path, count=2) as cameras:
        cameras.start(timeout_s=120)
        url = f"rtsp://127.0.0.1:{cameras.rtsp_port}/cam{{}}/main"
        with first.login() as owner:
            kept = _add_camera(owner, "Fails over", url.format(1), second_id, failover="high")
            stays = _add_camera(owner, "Never", url.format(2), second_id)
        with second.login() as owner_on_b:
            wait_recorded(owner_on_b, kept, int(time.time() * 1000), 2)

        second.kill()
        killed_ms = int(time.time() * 1000)
        wait_for(lambda: _acting(first, kept) == first_id, 30, "A to take the camera over")
        assert _acting(first, stays) is None  # priority "never": left alone
        with first.login() as owner:
            wait_recorded(owner, kept, killed_ms, 2)

        second.start()
        back_ms = int(time.time() * 1000)
        wait_for(lambda: _acting(first, kept) is None, 30, "the camera to go back to B")
        with second.login() as owner_on_b:
            wait_recorded(owner_on_b, kept, back_ms, 2)

    # Each server's archive holds its part; either server's timeline shows both, with the
    # gap of the failover between B's recordings and A's.
    now_ms = int(time.time() * 1000)
    span = {"cameras": kept, "from_ms": killed_ms - 60_000, "to_ms": now_ms}
    for server in (first, second):
        with server.login() as owner:
            found = owner.get("/timeline", params=span).json()
        assert found["partial"] is False
        assert found["cameras"][0]["recorded_by"] == sorted([first_id, second_id])
        intervals = found["cameras"][0]["intervals"]
        assert intervals[0]["start_ms"] < killed_ms < intervals[-1]["start_ms"]
    # A stood by for the camera from the moment B was gone: the hole in the archive is
    # shorter than the wait before the takeover.
    before = [i for i in intervals if i["start_ms"] < killed_ms][-1]
    taken = next(i for i in intervals if i["start_ms"] > before["end_ms"])
    assert taken["start_ms"] - before["end_ms"] < 5000, intervals
    # A picture recorded while A stood in, asked of B: A's archive has it.
    during = next(i["start_ms"] for i in intervals if i["start_ms"] > killed_ms + 500) + 500
    with second.login() as owner_on_b:
        picture = owner_on_b.get(f"/cameras/{kept}/archive/snapshot", params={"time_ms": during})
    assert picture.status_code == 200, picture.text
    assert picture.content[:2] == b"\xff\xd8"

    # Playback through B, the parent, of that moment: the picture A recorded then (within a
    # few frames: A's times for the camera's pictures began with a new connection to it).
    with second.login() as owner_on_b:
        query = urlencode({"cameras": kept, "time_ms": during})
        headers = {"Authorization": owner_on_b.headers["authorization"]}
        with connect(f"ws://127.0.0.1:{second.port}/api/v1/playback?{query}",
                     additional_headers=headers, max_size=None) as websocket:  # fmt: skip
            player = Player(websocket, 1)
            player.until(lambda p: p.tracks[0].fragments >= 10, what="10 fragments")
    sought = [p for p in pictures(player.tracks[0].timelines[0]) if p.media_ms <= 250][-1]
    assert abs(sought.clock_ms - of_day(during)) <= 250

    # An export through A from before the failover to after the failback holds B's
    # recording, A's, and B's again, in order.
    with first.login() as owner:
        clip = owner.get(f"/cameras/{kept}/export",
                         params={"from_ms": killed_ms - 3000, "to_ms": back_ms + 5000})  # fmt: skip
    assert clip.status_code == 200, clip.text
    clocks = [p.clock_ms for p in pictures(clip.content)]
    assert clocks == sorted(clocks)
    stood_in = [i for i in intervals if killed_ms < i["start_ms"] < back_ms]
    assert any(c < of_day(killed_ms) for c in clocks), "B's recording before it went"
    assert any(of_day(stood_in[0]["start_ms"]) <= c < of_day(back_ms) for c in clocks), "A's"
    assert any(c > of_day(back_ms) for c in clocks), "B's recording after it came back"

    # With B away, what spans the servers says it is partial, and names B.
    second.stop()
    with first.login() as owner:
        wait_for(lambda: owner.get("/audit").json()["missing_servers"] == [second_id], 10,
                 "the audit trail to say B is missing")  # fmt: skip
        assert owner.get("/timeline", params=span).json()["partial"] is True
