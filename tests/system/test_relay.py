"""Any server serves any camera: live video of a camera another server records, relayed
once per stream, to our WebSocket viewers and to FFmpeg over RTSP; PTZ through the server
that records it; its archive played, exported and pulled over RTSP through another server."""

import os
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.media.captions import of_day, pictures
from tests.media.test_live import Run, _read, watching
from tests.media.test_playback import Player
from tests.media.test_recording import wait_recorded
from tests.media.test_rtsp_out import _streams, _url
from tests.media.test_workers import _read_on, _workers
from tests.servers import ServerProcess
from tests.system.test_detach import _add_camera
from tests.system.test_partition import _pair, _server_id
from tests.testcamera.ffmpeg import decode_errors, record
from tests.testcamera.process import TestCameraProcess
from tests.waiting import wait_for
from vigil.peering import tls


def _viewers_on(server: ServerProcess, camera_id: str) -> int | None:
    with server.login() as owner:
        viewers: int | None = owner.get(f"/cameras/{camera_id}").json()["streams"]["main"][
            "viewers"
        ]
    return viewers


# What the recording server logs when its media worker could not feed the relaying server
# itself, and it feeds it over the peer connection instead.
FED_OVER_PEER_CONNECTION = "feeding it over the peer connection"


@contextmanager
def _camera_on_second(
    tmp_path: Path, start_server: Callable[..., ServerProcess], first_options: Sequence[str] = ()
) -> Iterator[tuple[ServerProcess, ServerProcess, str, TestCameraProcess]]:
    """Two servers, the second recording a simulated camera: both, the camera's id and the
    simulator."""
    first, second = _pair(start_server, first_options)
    with TestCameraProcess(tmp_path, count=1) as camera:
        camera.start(timeout_s=120)
        url = f"rtsp://127.0.0.1:{camera.rtsp_port}/cam1/main"
        with first.login() as owner:
            camera_id = _add_camera(owner, "On B", url, _server_id(second))
        yield first, second, camera_id, camera


def test_a_camera_recorded_by_another_server_is_watched_through_this_one(
    tmp_path: Path, start_server: Callable[..., ServerProcess]
) -> None:
    with _camera_on_second(tmp_path, start_server) as (first, second, camera_id, _):
        with (
            first.login() as owner,
            watching(first, owner, camera_id) as one,
            watching(first, owner, camera_id) as two,
        ):
            runs: dict[int, list[Run]] = {1: [], 2: []}
            for n, websocket in ((1, one), (2, two)):
                said = _read(websocket, runs[n], lambda r: bool(r) and r[-1].fragments >= 25)
                assert said is None, said
            # Two viewers on A, one feed from B: B's hub of the stream has one consumer.
            wait_for(lambda: _viewers_on(second, camera_id) == 1, 10, "one feed on B")
            clip = runs[1][-1].file(tmp_path)
            assert decode_errors(clip) == ""

            # FFmpeg pulls the same stream from A's RTSP out.
            rtsp = _url(first, camera_id)
            assert [s["codec_type"] for s in _streams(rtsp)][:1] == ["video"]
            pulled = tmp_path / "pulled.mp4"
            record(rtsp, pulled, 3)
            assert decode_errors(pulled) == ""
            assert _viewers_on(second, camera_id) == 1

            # B's media worker, which feeds A, is killed: its next one feeds A again.
            with second.login() as owner_on_b:
                os.kill(_workers(owner_on_b)[0]["pid"], signal.SIGKILL)
            _read_on(one, runs[1], 150)  # 6 s of pictures: more than were on their way
            assert _viewers_on(second, camera_id) == 1

        with first.login() as owner:
            snapshot = owner.get(f"/cameras/{camera_id}/snapshot")
        assert snapshot.status_code == 200, snapshot.text
        assert snapshot.content[:2] == b"\xff\xd8"  # a JPEG
    wait_for(lambda: _viewers_on(second, camera_id) == 0, 10, "B's feed to stop")
    # B's media worker fed A itself all along, the new one too.
    assert FED_OVER_PEER_CONNECTION not in second.logs()


def test_a_server_reachable_only_one_way_still_gets_live_video_of_another_servers_camera(
    tmp_path: Path, start_server: Callable[..., ServerProcess]
) -> None:
    """A lists an address B cannot reach (nothing listens there), so only A dials: B's
    media worker cannot connect to A, and B feeds the stream over their peer connection."""
    one_way = ("--address", "127.0.0.2")
    with _camera_on_second(tmp_path, start_server, one_way) as (first, second, camera_id, _):
        with first.login() as owner, watching(first, owner, camera_id) as websocket:
            runs: list[Run] = []
            said = _read(websocket, runs, lambda r: bool(r) and r[-1].fragments >= 25)
            assert said is None, said
            assert decode_errors(runs[-1].file(tmp_path)) == ""
        assert FED_OVER_PEER_CONNECTION in second.logs()
        # What a worker's connection says first is a token A gave B; anyone else's is refused.
        assert _media_from_a_stranger(first) == 4403


def _media_from_a_stranger(server: ServerProcess) -> int:
    """The close code of a connection to the server's peer port for media, with no token."""
    with connect(f"wss://127.0.0.1:{server.peer_port}/media", ssl=tls.client_context()) as stranger:
        stranger.send("a token nobody gave")
        with pytest.raises(ConnectionClosed) as closed:
            stranger.recv(timeout=10)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


def test_ptz_of_a_camera_another_server_records_goes_through_that_server(
    tmp_path: Path, start_server: Callable[..., ServerProcess]
) -> None:
    first, second = _pair(start_server)
    second_id = _server_id(second)
    with TestCameraProcess(tmp_path, count=1) as cameras:
        cameras.start(timeout_s=120)
        with first.login() as owner:
            body = {"onvif_address": cameras.url(0), "parent_server_id": second_id}
            added = owner.post("/cameras", json=body)
            assert added.status_code == 201, added.text
            camera_id = added.json()["id"]
            set_preset = owner.post(f"/cameras/{camera_id}/ptz/presets", json={"name": "Gate"})
            assert set_preset.status_code == 201, set_preset.text
            listed = owner.get(f"/cameras/{camera_id}/ptz/presets").json()["presets"]
            assert "Gate" in [p["name"] for p in listed]
            go = owner.post(f"/cameras/{camera_id}/ptz/presets/{set_preset.json()['token']}/go")
            assert go.status_code == 204, go.text
            # Done on B, which records it: in B's audit trail, which A gathers.
            entries = owner.get("/audit", params={"action": "ptz.preset.set"}).json()["entries"]
            assert [e["server_id"] for e in entries] == [second_id]
            second.stop()
            away = owner.get(f"/cameras/{camera_id}/ptz/presets")
        assert (away.status_code, away.json()["error"]["code"]) == (502, "server_unreachable")


def test_the_archive_of_a_camera_another_server_records_plays_and_exports_through_this_one(
    tmp_path: Path, start_server: Callable[..., ServerProcess]
) -> None:
    with _camera_on_second(tmp_path, start_server) as (first, second, camera_id, camera):
        started_ms = int(time.time() * 1000)
        with second.login() as owner_on_b:
            wait_recorded(owner_on_b, camera_id, started_ms, 8)
        with first.login() as owner:
            timeline = owner.get(f"/cameras/{camera_id}/timeline",
                                 params={"from_ms": started_ms - 60_000,
                                         "to_ms": int(time.time() * 1000)}).json()  # fmt: skip
            start = timeline["intervals"][0]["start_ms"]

            # One playback session through A of B's camera and one A records, at a time both
            # recorded: the picture of that moment from each.
            url = f"rtsp://127.0.0.1:{camera.rtsp_port}/cam1/main"
            on_a = _add_camera(owner, "On A", url, _server_id(first))
            wait_recorded(owner, on_a, int(time.time() * 1000), 4)
            on_a_from = owner.get(f"/cameras/{on_a}/timeline",
                                  params={"from_ms": started_ms - 60_000,
                                          "to_ms": int(time.time() * 1000)}).json()  # fmt: skip
            target = max(start, on_a_from["intervals"][0]["start_ms"]) + 2_000
            query = urlencode({"cameras": f"{camera_id},{on_a}", "time_ms": target})
            headers = {"Authorization": owner.headers["authorization"]}
            with connect(f"ws://127.0.0.1:{first.port}/api/v1/playback?{query}",
                         additional_headers=headers, max_size=None) as websocket:  # fmt: skip
                player = Player(websocket, 2)
                player.until(lambda p: min(t.fragments for t in p.tracks) >= 40,
                             what="40 fragments of each camera")  # fmt: skip
            for track in player.tracks:
                sought = [p for p in pictures(track.timelines[0]) if p.media_ms <= 250][-1]
                assert abs(sought.clock_ms - of_day(target)) <= 120

            # An export through A of what B recorded: a file that plays.
            clip = owner.get(f"/cameras/{camera_id}/export",
                             params={"from_ms": start, "to_ms": start + 4_000})  # fmt: skip
            assert clip.status_code == 200, clip.text
            exported = tmp_path / "exported.mp4"
            exported.write_bytes(clip.content)
            assert decode_errors(exported) == ""
            assert len(pictures(clip.content)) >= 50  # 4 s at 25 fps, give or take a GOP

        # FFmpeg pulls the archive from A's RTSP out.
        pulled = tmp_path / "archive.mp4"
        record(_url(first, camera_id, query=f"?start={start + 1_000}"), pulled, 2)
        assert decode_errors(pulled) == ""
