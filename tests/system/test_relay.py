"""Any server serves any camera: live video of a camera another server records, relayed
once per stream, to our WebSocket viewers and to FFmpeg over RTSP."""

from collections.abc import Callable
from pathlib import Path

from tests.media.test_live import Run, _read, watching
from tests.media.test_rtsp_out import _streams, _url
from tests.servers import ServerProcess
from tests.system.test_detach import _add_camera
from tests.system.test_partition import _pair, _server_id
from tests.testcamera.ffmpeg import decode_errors, record
from tests.testcamera.process import TestCameraProcess
from tests.waiting import wait_for


def _viewers_on(server: ServerProcess, camera_id: str) -> int | None:
    with server.login() as owner:
        viewers: int | None = owner.get(f"/cameras/{camera_id}").json()["streams"]["main"][
            "viewers"
        ]
    return viewers


def test_a_camera_recorded_by_another_server_is_watched_through_this_one(
    tmp_path: Path, start_server: Callable[..., ServerProcess]
) -> None:
    first, second = _pair(start_server)
    with TestCameraProcess(tmp_path, count=1) as camera:
        camera.start(timeout_s=120)
        url = f"rtsp://127.0.0.1:{camera.rtsp_port}/cam1/main"
        with first.login() as owner:
            camera_id = _add_camera(owner, "On B", url, _server_id(second))
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

        with first.login() as owner:
            snapshot = owner.get(f"/cameras/{camera_id}/snapshot")
        assert snapshot.status_code == 200, snapshot.text
        assert snapshot.content[:2] == b"\xff\xd8"  # a JPEG
    wait_for(lambda: _viewers_on(second, camera_id) == 0, 10, "B's feed to stop")


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
