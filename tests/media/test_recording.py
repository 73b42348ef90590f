"""Recording, against simulated cameras: files that play, every frame kept, crashes survived."""

import itertools
import json
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np

from tests.servers import ServerProcess
from tests.testcamera.ffmpeg import decode_errors
from tests.testcamera.process import TestCameraProcess
from tests.waiting import wait_for
from vigil.media.archive import naming
from vigil.testcamera.video.caption import read_caption


def _add(owner: httpx.Client, camera: TestCameraProcess, transport: str = "tcp") -> str:
    answer = owner.post(
        "/cameras",
        json={
            "name": "Yard",
            "main_url": f"rtsp://127.0.0.1:{camera.rtsp_port}/cam1/main",
            "transport": transport,
        },
    )
    assert answer.status_code == 201, answer.text
    camera_id: str = answer.json()["id"]
    return camera_id


@contextmanager
def recording(
    server: ServerProcess, camera: TestCameraProcess, transport: str = "tcp"
) -> Iterator[tuple[httpx.Client, str]]:
    """Start `server` as a one-server system recording `camera` (RTP over `transport`): the
    owner's client and the camera's id. The server keeps running after the block."""
    server.start()
    server.create_system()
    with server.login() as owner:
        yield owner, _add(owner, camera, transport)


def _timeline(owner: httpx.Client, camera_id: str, since_ms: int) -> list[dict[str, Any]]:
    answer = owner.get(
        f"/cameras/{camera_id}/timeline",
        params={"from_ms": since_ms, "to_ms": int(time.time() * 1000) + 60_000},
    )
    assert answer.status_code == 200, answer.text
    intervals: list[dict[str, Any]] = answer.json()["intervals"]
    return intervals


def _recorded_s(owner: httpx.Client, camera_id: str, since_ms: int) -> float:
    """How many seconds of `camera_id` the timeline shows since `since_ms`."""
    spans = _timeline(owner, camera_id, since_ms)
    return sum(s["end_ms"] - s["start_ms"] for s in spans) / 1000


def wait_recorded(owner: httpx.Client, camera_id: str, since_ms: int, seconds: float) -> None:
    """Wait until the timeline shows `seconds` recorded since `since_ms` (on a busy machine
    the camera connects and the first fragment is written later than on a quiet one)."""
    wait_for(lambda: _recorded_s(owner, camera_id, since_ms) >= seconds, seconds + 60,
             f"{seconds:g} s on the timeline")  # fmt: skip


def _files(data_dir: Path, pattern: str) -> list[Path]:
    return sorted((data_dir / "archive").rglob(pattern))


def _frame_numbers(path: Path, *, skip_unreadable: bool = False) -> list[int]:
    """The camera's frame counter, read from every picture of a recording (or from every
    picture whose caption can be read, when packets were garbled on purpose)."""
    numbers = []
    with av.open(str(path)) as container:
        for packet in container.demux(video=0):
            try:
                frames = packet.decode()
            except av.error.InvalidDataError:
                if skip_unreadable:
                    continue
                raise
            for frame in frames:
                assert isinstance(frame, av.VideoFrame)
                luma = np.asarray(frame.to_ndarray(format="yuv420p"))[: frame.height]
                match = re.search(r"#(\d{6})", read_caption(luma))
                if match is None and skip_unreadable:
                    continue
                assert match is not None, read_caption(luma)
                numbers.append(int(match[1]))
    return numbers


def _probe_duration_ms(path: Path) -> int:
    """How long the picture lasts, as ffprobe reads it (the name gives the picture's span;
    the sound may run on by part of an audio frame)."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "stream=duration", "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return int(float(json.loads(out)["streams"][0]["duration"]) * 1000)


def test_recorded_file_plays_with_every_frame_and_shows_on_the_timeline(
    tmp_path: Path, camera: TestCameraProcess
) -> None:
    started_ms = int(time.time() * 1000)
    with ServerProcess(tmp_path / "server") as server:
        with recording(server, camera) as (owner, camera_id):
            wait_recorded(owner, camera_id, started_ms, 6)
            intervals = _timeline(owner, camera_id, started_ms)
            writing = _files(server.data_dir, "*.part.mp4")
            assert len(writing) == 1
            assert decode_errors(writing[0]) == ""  # a file plays while it is written
        server.stop()  # a clean stop closes the file
        (recorded,) = _files(server.data_dir, "*_*.mp4")
    assert len(intervals) == 1
    # Recorded from after the test began; how soon after depends on how busy the machine is.
    assert started_ms <= intervals[0]["start_ms"] < intervals[0]["end_ms"]
    assert decode_errors(recorded) == ""
    start_ms, duration_ms = (int(x) for x in recorded.stem.split("_"))
    assert start_ms == intervals[0]["start_ms"]
    assert abs(_probe_duration_ms(recorded) - duration_ms) <= 100
    numbers = _frame_numbers(recorded)
    assert len(numbers) >= 25 * 5
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))  # not one lost
    assert recorded.relative_to(server.data_dir / "archive").parts[:2] == (camera_id, "main")


def test_killed_server_loses_at_most_the_last_fragment(
    tmp_path: Path, camera: TestCameraProcess
) -> None:
    started_ms = int(time.time() * 1000)
    with ServerProcess(tmp_path / "server") as server:
        with recording(server, camera) as (owner, camera_id):
            wait_recorded(owner, camera_id, started_ms, 6)
            before = _timeline(owner, camera_id, started_ms)
        server.kill()
        killed_ms = int(time.time() * 1000)
        assert len(_files(server.data_dir, "*.part.mp4")) == 1
        server.start()
        with server.login() as owner:
            after = _timeline(owner, camera_id, started_ms)
        server.stop()
        recorded = [
            p for p in _files(server.data_dir, "*_*.mp4") if int(p.stem.split("_")[0]) < killed_ms
        ]
    assert recorded, "the file written when the server was killed"
    first = recorded[0]
    assert decode_errors(first) == ""
    # What the timeline showed before the kill is still there (fragments are 1 s here).
    assert after[0]["start_ms"] == before[0]["start_ms"]
    assert after[0]["end_ms"] >= before[0]["end_ms"]
    assert killed_ms - (after[0]["end_ms"]) < 3000
    numbers = _frame_numbers(first)
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def test_an_offline_camera_leaves_a_gap(tmp_path: Path, camera: TestCameraProcess) -> None:
    started_ms = int(time.time() * 1000)
    with (
        ServerProcess(tmp_path / "server") as server,
        recording(server, camera) as (owner, camera_id),
    ):
        wait_recorded(owner, camera_id, started_ms, 4)
        answer = httpx.post(f"{camera.url()}/control/fault/offline", json={"seconds": 6})
        assert answer.status_code == 200, answer.text
        intervals = wait_for(
            lambda: (
                (found := _timeline(owner, camera_id, started_ms)) and len(found) >= 2 and found
            ),
            60,
            "recording after the camera's 6 s offline",
        )
    assert len(intervals) == 2, intervals
    gap = intervals[1]["start_ms"] - intervals[0]["end_ms"]
    assert 4000 <= gap <= 40_000
    for a, b in itertools.pairwise(intervals):
        assert a["end_ms"] < b["start_ms"]


def test_the_index_follows_the_files_on_disk_after_a_restart(
    tmp_path: Path, camera: TestCameraProcess
) -> None:
    started_ms = int(time.time() * 1000)
    with ServerProcess(tmp_path / "server") as server:
        with recording(server, camera) as (owner, camera_id):
            wait_recorded(owner, camera_id, started_ms, 4)
            owner.patch(f"/cameras/{camera_id}", json={"enabled": False})
            (recorded,) = wait_for(lambda: _files(server.data_dir, "*_*.mp4"), 10, "the file")
        server.stop()
        # Someone moves the file an hour back, as if restored from a backup under another name.
        start_ms, duration_ms = (int(x) for x in recorded.stem.split("_"))
        archive = server.data_dir / "archive"
        moved = naming.closed_path(archive, camera_id, "main", start_ms - 3_600_000, duration_ms)
        moved.parent.mkdir(parents=True, exist_ok=True)
        recorded.rename(moved)
        server.start()
        with server.login() as owner:
            now_intervals = _timeline(owner, camera_id, started_ms)
            hour_ago = _timeline(owner, camera_id, started_ms - 3_700_000)
    assert now_intervals == []
    assert hour_ago == [
        {"start_ms": start_ms - 3_600_000, "end_ms": start_ms - 3_600_000 + duration_ms}
    ]


def _keyframes_ms(path: Path, start_ms: int) -> list[int]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.time_base is not None
        return [
            start_ms + round(float(packet.pts * stream.time_base) * 1000)
            for packet in container.demux(stream)
            if packet.is_keyframe and packet.pts is not None
        ]


def test_each_recording_lists_its_keyframes_for_seeking_even_after_a_rebuild(
    tmp_path: Path, camera: TestCameraProcess
) -> None:
    started_ms = int(time.time() * 1000)
    with (
        ServerProcess(tmp_path / "server") as server,
        recording(server, camera) as (owner, camera_id),
    ):
        wait_recorded(owner, camera_id, started_ms, 6)
        owner.patch(f"/cameras/{camera_id}", json={"enabled": False})  # closes the file
        (recorded,) = wait_for(lambda: _files(server.data_dir, "*_*.mp4"), 10, "the file")
        params = {"from_ms": started_ms, "to_ms": int(time.time() * 1000)}
        (listed,) = owner.get(f"/cameras/{camera_id}/recordings", params=params).json()[
            "recordings"
        ]
        (storage,) = owner.get("/storages").json()["storages"]
        rebuilt = owner.post(f"/storages/{storage['id']}/rebuild").json()
        assert rebuilt == {"added": 0, "removed": 0, "recovered": 0}  # the file bears it out
        (entry,) = owner.get("/audit", params={"action": "storage.rebuild"}).json()["entries"]
        assert (entry["target"], entry["details"]) == (storage["id"], {"after": rebuilt})
        (again,) = owner.get(f"/cameras/{camera_id}/recordings", params=params).json()["recordings"]
        for bad in ({"from_ms": 2**63, "to_ms": 2**63 + 1}, {"from_ms": -1, "to_ms": 5}):
            answer = owner.get(f"/cameras/{camera_id}/recordings", params=bad)
            assert answer.status_code == 422, bad
        too_long = {"from_ms": 0, "to_ms": 2 * 86_400_000}
        answer = owner.get(f"/cameras/{camera_id}/recordings", params=too_long)
        assert answer.status_code == 422
        assert answer.json()["error"]["field"] == "to_ms"
    start_ms = int(recorded.stem.split("_")[0])
    keyframes = _keyframes_ms(recorded, start_ms)
    assert len(keyframes) >= 4  # a keyframe a second
    assert listed["keyframes_ms"] == keyframes
    assert (listed["start_ms"], listed["size"]) == (start_ms, recorded.stat().st_size)
    assert again == listed
