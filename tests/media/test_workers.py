"""Media workers: the cameras are pulled and recorded by worker processes, a share each, and a
worker that dies is started again with its cameras, losing at most the fragment it was
writing (docs/design/workers.md)."""

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import ClientConnection

from tests.media.test_live import Run, _read, watching
from tests.media.test_recording import _files, _frame_numbers, _timeline, wait_recorded
from tests.processes import open_recordings, parent_of
from tests.servers import ServerProcess, add_main_streams, system_with_cameras
from tests.testcamera.ffmpeg import decode_errors
from tests.waiting import wait_for

WAIT_S = 60.0


def _workers(owner: httpx.Client) -> list[dict[str, Any]]:
    answer = owner.get("/server/media")
    assert answer.status_code == 200, answer.text
    workers: list[dict[str, Any]] = answer.json()["workers"]
    return workers


def _recording(owner: httpx.Client, camera_id: str) -> bool:
    stream = owner.get(f"/cameras/{camera_id}").json()["streams"]["main"]
    return bool(stream["recording"]["state"] == "recording")


@contextmanager
def two_cameras(tmp_path: Path) -> Iterator[tuple[ServerProcess, httpx.Client, list[str]]]:
    """A server with two media workers recording two simulated cameras' main streams."""
    with (
        system_with_cameras(tmp_path, 2, ["--media-workers", "2"]) as (server, cameras),
        server.login() as owner,
    ):
        ids = add_main_streams(owner, cameras, 2)
        for camera_id in ids:
            wait_for(lambda c=camera_id: _recording(owner, c), WAIT_S, "recording")  # type: ignore[misc]
        yield server, owner, ids


class _Statuses:
    """Every status of a stream seen while the block runs, asked for as fast as it answers."""

    def __init__(self, client: httpx.Client, camera_id: str) -> None:
        self._client = client
        self._camera_id = camera_id
        self.seen: list[dict[str, Any]] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch)

    def __enter__(self) -> "_Statuses":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join(timeout=30)

    def _watch(self) -> None:
        while not self._done.is_set():
            stream = self._client.get(f"/cameras/{self._camera_id}").json()["streams"]["main"]
            self.seen.append({**stream["status"], "recording": stream["recording"]})


def _read_on(viewer: ClientConnection, runs: list[Run], pictures: int) -> None:
    """Read a live viewer until `pictures` more have come (bounded; a status text meanwhile,
    such as the stream going offline and back, is read past)."""
    wanted = sum(run.fragments for run in runs) + pictures
    deadline = time.monotonic() + WAIT_S

    def enough(read: list[Run]) -> bool:
        return sum(run.fragments for run in read) >= wanted or time.monotonic() > deadline

    while not enough(runs):
        _read(viewer, runs, enough)
    assert sum(run.fragments for run in runs) >= wanted, f"waited for {pictures} pictures"


def test_each_worker_records_its_share_of_the_cameras_apart_from_the_api_process(
    tmp_path: Path,
) -> None:
    with two_cameras(tmp_path) as (server, owner, _):
        workers = _workers(owner)
        assert [w["name"] for w in workers] == ["media-1", "media-2"]
        assert [w["streams"] for w in workers] == [1, 1]  # one camera each
        for worker in workers:
            assert worker["pid"] not in (None, server.pid)
            assert parent_of(worker["pid"]) == server.pid
            assert worker["restarts"] == 0
            # Each writes its own camera's file; the API process writes none.
            held = wait_for(lambda w=worker: open_recordings(w["pid"]), WAIT_S, "a file open")  # type: ignore[misc]
            assert len(held) == 1, held
        assert not open_recordings(server.pid)


def test_a_killed_worker_is_started_again_and_its_cameras_record_again(tmp_path: Path) -> None:
    started_ms = int(time.time() * 1000)
    with two_cameras(tmp_path) as (server, owner, (first, second)):
        wait_recorded(owner, first, started_ms, 3)
        victim = _workers(owner)[0]
        with (
            watching(server, owner, first) as viewer,
            server.login() as watcher,
            _Statuses(watcher, first) as statuses,
        ):
            runs: list[Run] = []
            _read(viewer, runs, lambda r: r[-1].fragments >= 3 if r else False)
            os.kill(victim["pid"], signal.SIGKILL)
            killed_ms = int(time.time() * 1000)
            again = wait_for(
                lambda: (w := _workers(owner)[0])["restarts"] == 1 and w["pid"] and w,
                WAIT_S,
                "the worker to be started again",
            )
            wait_for(lambda: _recording(owner, first), WAIT_S, "the camera to record again")
            # The live viewer stays, and is given the stream again by the new worker: more
            # pictures than it can have had waiting from before the kill (6 s of them).
            _read_on(viewer, runs, 150)
        assert again["last_exit"] == "killed by SIGKILL"
        assert again["pid"] != victim["pid"]
        said = {s["reason"] for s in statuses.seen if "media worker" in s["reason"]}
        assert said, "the stream's status never said that its worker stopped"
        assert all("killed by SIGKILL" in reason for reason in said), said
        wait_recorded(owner, first, killed_ms, 3)
        timelines = {c: _timeline(owner, c, started_ms) for c in (first, second)}
        server.stop()
        files = _files(server.data_dir, "*.mp4")
    # The other worker's camera went on recording without a break.
    assert len(timelines[second]) == 1, timelines[second]
    assert not [f for f in files if f.name.endswith(".part.mp4")], files
    # The killed worker's camera: the file it was writing was finished for it (whole
    # fragments only) and plays; the next one began soon after (about a second here, with
    # the worker's start and the camera's next keyframe; bench/workers.py measures it).
    mine = [f for f in files if first in f.parts]
    left = [f for f in mine if int(f.stem.split("_")[0]) < killed_ms]
    resumed = [f for f in mine if int(f.stem.split("_")[0]) >= killed_ms]
    assert left, mine
    assert resumed, mine
    for path in left:
        assert decode_errors(path) == ""
        numbers = _frame_numbers(path)
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    start, duration = map(int, left[-1].stem.split("_"))
    gap_ms = int(resumed[0].stem.split("_")[0]) - (start + duration)
    assert 0 < gap_ms < 10_000, gap_ms
    assert killed_ms - (start + duration) < 3_000  # at most the fragment being gathered
