"""Export, against a server recording simulated cameras: MP4 clips that play with the range's
duration, as jobs followed on the notifications WebSocket or downloaded as they are made."""

import io
import json
import struct
import subprocess
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.media.test_recording import recording
from tests.servers import ServerProcess, add_user, system_with_cameras
from tests.testcamera.ffmpeg import decode_errors
from tests.testcamera.process import TestCameraProcess
from tests.waiting import wait_for
from vigil.media.archive.boxes import children

GOP_MS = 2000  # the test cameras' longest keyframe interval (the sub stream's)
WAIT_S = 30.0


@dataclass(frozen=True)
class Recorded:
    server: ServerProcess
    cameras: list[str]  # ids: the camera's main stream, and its sub stream as a second camera
    from_ms: int  # a range well inside what both recorded
    to_ms: int


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    with system_with_cameras(tmp_path_factory.mktemp("export")) as (server, camera):
        with server.login() as owner:
            cameras = [
                _add(owner, "Yard", camera.rtsp_url("/cam1/main")),
                _add(owner, "Yard (small)", camera.rtsp_url("/cam1/sub")),
            ]

            def recorded_enough() -> int | None:
                """Where both recordings start, once both are in files up to 5.5 s past it."""
                lines = [_timeline(owner, c) for c in cameras]
                if not all(lines):
                    return None
                start = max(line[0]["start_ms"] for line in lines)
                return start if all(line[-1]["end_ms"] >= start + 5500 for line in lines) else None

            start_ms = wait_for(recorded_enough, WAIT_S * 2, "both cameras recorded 5.5 s")
        yield Recorded(server, cameras, start_ms + 1500, start_ms + 5500)


def _add(owner: httpx.Client, name: str, url: str) -> str:
    answer = owner.post("/cameras", json={"name": name, "main_url": url})
    assert answer.status_code == 201, answer.text
    camera_id: str = answer.json()["id"]
    return camera_id


def _timeline(owner: httpx.Client, camera_id: str) -> list[dict[str, int]]:
    now = int(time.time() * 1000)
    params = {"from_ms": now - 600_000, "to_ms": now + 60_000}
    intervals: list[dict[str, int]] = owner.get(
        f"/cameras/{camera_id}/timeline", params=params
    ).json()["intervals"]
    return intervals


@contextmanager
def notifications(server: ServerProcess, client: httpx.Client) -> Iterator[ClientConnection]:
    url = f"ws://127.0.0.1:{server.port}/api/v1/notifications"
    headers = {"Authorization": client.headers["authorization"]}
    with connect(url, additional_headers=headers, open_timeout=WAIT_S) as websocket:
        assert _next_message(websocket)["type"] == "ready"
        yield websocket


def _next_message(websocket: ClientConnection, timeout_s: float = WAIT_S) -> dict[str, Any]:
    message = websocket.recv(timeout=timeout_s)
    assert isinstance(message, str)
    decoded: dict[str, Any] = json.loads(message)
    return decoded


def _until_finished(websocket: ClientConnection, job_id: str) -> list[dict[str, Any]]:
    """The socket's messages until the job's says it is finished."""
    messages: list[dict[str, Any]] = []
    while True:
        messages.append(_next_message(websocket))
        data = messages[-1]["data"]
        if data.get("id") == job_id and data["state"] not in ("queued", "running"):
            return messages


def _updates(messages: list[dict[str, Any]], job_id: str) -> list[dict[str, Any]]:
    return [m["data"] for m in messages if m["type"] == "export" and m["data"]["id"] == job_id]


def _wait_done(client: httpx.Client, job_id: str) -> dict[str, Any]:
    def look() -> dict[str, Any] | None:
        job: dict[str, Any] = client.get(f"/exports/{job_id}").json()
        return job if job["state"] not in ("queued", "running") else None

    return wait_for(look, WAIT_S, "the export to finish")


def _audit(client: httpx.Client, action: str) -> list[dict[str, Any]]:
    """The audit trail's entries of `action`, newest first."""
    entries: list[dict[str, Any]] = client.get("/audit", params={"action": action}).json()[
        "entries"
    ]
    return entries


def _probe(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries",
         "format=duration:stream=codec_type,duration", "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    probed: dict[str, Any] = json.loads(out)
    return probed


def _video_ms(probed: dict[str, Any]) -> int:
    video = next(s for s in probed["streams"] if s["codec_type"] == "video")
    return round(float(video["duration"]) * 1000)


def _assert_plays_the_range(path: Path, from_ms: int, to_ms: int) -> None:
    """Decodes cleanly, with picture and sound, and lasts the range (from the keyframe at or
    before its start: up to a GOP more), as the file's own header says too."""
    assert decode_errors(path) == ""
    probed = _probe(path)
    assert {s["codec_type"] for s in probed["streams"]} == {"video", "audio"}
    span_ms = to_ms - from_ms
    assert span_ms - 100 <= _video_ms(probed) <= span_ms + GOP_MS + 100
    assert abs(float(probed["format"]["duration"]) * 1000 - _video_ms(probed)) <= 200


def _assert_clip(path: Path, clip: dict[str, Any], recorded: Recorded) -> None:
    """The file is what the job says of it: from a keyframe at or before the range's start
    to its end, without gaps."""
    assert recorded.from_ms - GOP_MS <= clip["start_ms"] <= recorded.from_ms
    assert clip["end_ms"] == recorded.to_ms
    assert clip["gaps"] == []
    assert clip["duration_ms"] == clip["end_ms"] - clip["start_ms"]
    _assert_plays_the_range(path, recorded.from_ms, recorded.to_ms)
    assert abs(_video_ms(_probe(path)) - clip["duration_ms"]) <= 100
    # ffprobe reads every fragment of a file; players that do not read the header's.
    assert _header_durations_ms(path) == (clip["duration_ms"], clip["duration_ms"])


def _header_durations_ms(path: Path) -> tuple[int, int]:
    """The durations the init segment states: the movie's (mvhd) and the fragments' (mehd)."""
    moov = dict(children(path.read_bytes()[:65536]))[b"moov"]
    boxes = dict(children(moov))
    timescale, duration = struct.unpack_from(">II", boxes[b"mvhd"], 12)
    (fragments,) = struct.unpack_from(">I", dict(children(boxes[b"mvex"]))[b"mehd"], 4)
    return duration * 1000 // timescale, fragments * 1000 // timescale


def test_an_export_job_reports_progress_and_gives_an_mp4_of_the_range(
    recorded: Recorded, tmp_path: Path
) -> None:
    server = recorded.server
    with server.login() as owner, notifications(server, owner) as websocket:
        body = {"cameras": recorded.cameras[:1], "from_ms": recorded.from_ms,
                "to_ms": recorded.to_ms}  # fmt: skip
        answer = owner.post("/exports", json=body)
        assert answer.status_code == 202, answer.text
        job = answer.json()
        assert job["state"] in ("queued", "running")
        assert answer.headers["location"] == f"/api/v1/exports/{job['id']}"
        updates = _updates(_until_finished(websocket, job["id"]), job["id"])
        done = owner.get(f"/exports/{job['id']}").json()
        download = owner.get(f"/exports/{job['id']}/file")
        listed = owner.get("/exports").json()["exports"]
    assert done["state"] == "done", done
    assert updates[-1] == done
    running = [u for u in updates if u["state"] == "running"]
    percents = [u["percent"] for u in running]
    assert percents == sorted(percents), percents
    assert len(set(percents)) >= 2, percents
    assert any(isinstance(u["eta_s"], int) for u in running), running
    assert done["percent"] == 100
    assert done["expires_ms"] > done["finished_ms"]
    assert [j["id"] for j in listed] == [job["id"]]
    assert download.status_code == 200
    assert download.headers["content-type"] == "video/mp4"
    assert done["file_name"] in download.headers["content-disposition"]
    assert done["bytes"] == len(download.content)
    (clip,) = done["clips"]
    path = tmp_path / done["file_name"]
    path.write_bytes(download.content)
    _assert_clip(path, clip, recorded)


def test_several_cameras_give_a_zip_of_one_mp4_each(recorded: Recorded, tmp_path: Path) -> None:
    with recorded.server.login() as owner:
        body = {"cameras": recorded.cameras, "from_ms": recorded.from_ms,
                "to_ms": recorded.to_ms, "stream": "main"}  # fmt: skip
        job = owner.post("/exports", json=body).json()
        done = _wait_done(owner, job["id"])
        download = owner.get(f"/exports/{job['id']}/file")
    assert done["state"] == "done", done
    assert download.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        names = archive.namelist()
        assert names == [clip["file_name"] for clip in done["clips"]]
        assert len(set(names)) == 2
        for name in names:
            (tmp_path / name).write_bytes(archive.read(name))
    for clip in done["clips"]:
        _assert_clip(tmp_path / clip["file_name"], clip, recorded)


def test_a_direct_download_streams_an_mp4_of_the_range(recorded: Recorded, tmp_path: Path) -> None:
    camera_id = recorded.cameras[0]
    params = {"from_ms": recorded.from_ms, "to_ms": recorded.to_ms}
    with recorded.server.login() as owner:
        answer = owner.get(f"/cameras/{camera_id}/export", params=params)
        (entry, *_) = _audit(owner, "export.download")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "video/mp4"
    assert answer.headers["content-disposition"].startswith('attachment; filename="Yard_')
    path = tmp_path / "direct.mp4"
    path.write_bytes(answer.content)
    assert decode_errors(path) == ""
    span_ms = recorded.to_ms - recorded.from_ms
    assert span_ms - 100 <= _video_ms(_probe(path)) <= span_ms + GOP_MS + 100
    assert (entry["target"], entry["details"]) == (camera_id, {"stream": "main", **params})


def test_a_cancelled_export_is_gone_with_its_file(recorded: Recorded) -> None:
    server = recorded.server
    with server.login() as owner:
        body = {"cameras": recorded.cameras, "from_ms": recorded.from_ms,
                "to_ms": recorded.to_ms}  # fmt: skip
        job = owner.post("/exports", json=body).json()
        assert owner.delete(f"/exports/{job['id']}").status_code == 204
        assert owner.get(f"/exports/{job['id']}").status_code == 404
        assert owner.get(f"/exports/{job['id']}/file").status_code == 404
        assert owner.delete(f"/exports/{job['id']}").status_code == 404
        finished = owner.post("/exports", json=body).json()
        _wait_done(owner, finished["id"])
        assert owner.delete(f"/exports/{finished['id']}").status_code == 204
        started = {e["target"]: e["details"] for e in _audit(owner, "export.start")}
        deleted = {e["target"]: e["details"] for e in _audit(owner, "export.delete")}
    assert not (server.data_dir / "exports" / job["id"]).exists()
    assert not (server.data_dir / "exports" / finished["id"]).exists()
    assert started[job["id"]] == started[finished["id"]] == {"stream": "main", **body}
    assert deleted[finished["id"]] == {"state": "done"}
    assert deleted[job["id"]]["state"] in ("queued", "running", "done")


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"to_ms": 0}, 422, "to_ms"),  # before from_ms
        ({"to_ms": None}, 422, "to_ms"),  # set below: more than 24 h after from_ms
        ({"from_ms": -1}, 422, "from_ms"),
        ({"from_ms": "soon"}, 422, "from_ms"),
        ({"cameras": []}, 422, "cameras"),
        ({"stream": "third"}, 422, "stream"),
        ({"colour": "red"}, 422, "colour"),
        ({"cameras": ["no-such-camera"]}, 404, "cameras.0"),
    ],
)
def test_bad_export_requests_are_refused_naming_the_field(
    recorded: Recorded, change: dict[str, Any], status: int, field: str
) -> None:
    body: dict[str, Any] = {"cameras": recorded.cameras, "from_ms": recorded.from_ms,
                            "to_ms": recorded.to_ms, **change}  # fmt: skip
    if body["to_ms"] is None:
        body["to_ms"] = recorded.from_ms + 24 * 3600 * 1000 + 1
    with recorded.server.login() as owner:
        answer = owner.post("/exports", json=body)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["field"] == field


def test_a_range_with_nothing_recorded_is_refused(recorded: Recorded) -> None:
    hour_ago = {"from_ms": recorded.from_ms - 3_600_000, "to_ms": recorded.from_ms - 3_000_000}
    with recorded.server.login() as owner:
        answer = owner.post("/exports", json={"cameras": recorded.cameras, **hour_ago})
        direct = owner.get(f"/cameras/{recorded.cameras[0]}/export", params=hour_ago)
    for refused in (answer, direct):
        assert refused.status_code == 404, refused.text
        assert refused.json()["error"]["code"] == "nothing_recorded"
    assert answer.json()["error"]["field"] == "cameras.0"


def test_export_needs_the_right_and_every_camera_seen(recorded: Recorded) -> None:
    server = recorded.server
    first, second = recorded.cameras
    params = {"from_ms": recorded.from_ms, "to_ms": recorded.to_ms}
    body = {"cameras": [first, second], **params}
    with server.login() as owner:
        add_user(owner, "watcher", "viewer")
        role = owner.post(
            "/roles",
            json={"name": "Yard exporter", "functions": ["export"], "operations": [],
                  "resources": {"cameras": [first], "layouts": []}},
        )  # fmt: skip
        assert role.status_code == 201, role.text
        add_user(owner, "exporter", role.json()["id"])
        owners_job = owner.post("/exports", json={"cameras": [first], **params}).json()
    with server.login("watcher", "user password 1") as viewer:
        assert viewer.post("/exports", json=body).status_code == 403
        assert viewer.get(f"/cameras/{first}/export", params=params).status_code == 403
        assert viewer.get("/exports").status_code == 403
    with server.login("exporter", "user password 1") as exporter:
        hidden = exporter.post("/exports", json=body)
        assert hidden.status_code == 404, hidden.text
        assert hidden.json()["error"]["field"] == "cameras.1"
        assert exporter.get(f"/cameras/{second}/export", params=params).status_code == 404
        # Others' jobs do not exist for them.
        assert exporter.get(f"/exports/{owners_job['id']}").status_code == 404
        assert exporter.get("/exports").json() == {"exports": []}
        with notifications(server, exporter) as websocket:
            with server.login() as owner:  # an export of someone else's meanwhile
                assert owner.post("/exports", json=body).status_code == 202
            mine = exporter.post("/exports", json={"cameras": [first], **params})
            assert mine.status_code == 202, mine.text
            messages = _until_finished(websocket, mine.json()["id"])
    assert messages[-1]["data"]["state"] == "done"
    assert {m["data"]["id"] for m in messages} == {mine.json()["id"]}


def test_the_notifications_socket_closes_when_its_session_ends(recorded: Recorded) -> None:
    server = recorded.server
    with server.login() as owner, notifications(server, owner) as websocket:
        assert owner.post("/logout").status_code == 204
        error = _next_message(websocket)
        with pytest.raises(ConnectionClosed) as closed:
            websocket.recv(timeout=WAIT_S)
    assert error["code"] == "unauthenticated"
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


def test_gaps_are_left_out_and_listed(tmp_path: Path, camera: TestCameraProcess) -> None:
    with ServerProcess(tmp_path / "server") as server, recording(server, camera) as (owner, cid):
        time.sleep(4)
        answer = httpx.post(f"{camera.url()}/control/fault/offline", json={"seconds": 5})
        assert answer.status_code == 200, answer.text

        def two_intervals() -> list[dict[str, int]] | None:
            intervals = _timeline(owner, cid)
            long_enough = len(intervals) == 2 and intervals[1]["end_ms"] - intervals[1][
                "start_ms"
            ] >= 3000  # fmt: skip
            return intervals if long_enough else None

        first, second = wait_for(two_intervals, 60, "recording before and after a gap")
        body = {"cameras": [cid], "from_ms": first["start_ms"], "to_ms": second["end_ms"]}
        job = owner.post("/exports", json=body).json()
        done = _wait_done(owner, job["id"])
        path = tmp_path / done["file_name"]
        path.write_bytes(owner.get(f"/exports/{job['id']}/file").content)
    assert done["state"] == "done", done
    (clip,) = done["clips"]
    (gap,) = clip["gaps"]
    assert abs(gap["from_ms"] - first["end_ms"]) <= 1000
    assert abs(gap["to_ms"] - second["start_ms"]) <= 1000
    recorded_ms = (first["end_ms"] - first["start_ms"]) + (second["end_ms"] - second["start_ms"])
    assert abs(clip["duration_ms"] - recorded_ms) <= 200
    assert clip["duration_ms"] == clip["end_ms"] - clip["start_ms"] - (
        gap["to_ms"] - gap["from_ms"]
    )
    assert decode_errors(path) == ""
    assert abs(_video_ms(_probe(path)) - clip["duration_ms"]) <= 100
