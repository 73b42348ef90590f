"""Recording with RTP over UDP, against simulated cameras: every frame kept, transport switched
on the fly, a stream that goes quiet said so."""

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.cameras.polling import wait_for_camera
from tests.media.test_recording import (
    _files,
    _frame_numbers,
    _timeline,
    recording,
    wait_recorded,
)
from tests.servers import ServerProcess
from tests.testcamera.ffmpeg import decode_errors
from tests.testcamera.process import TestCameraProcess
from tests.waiting import wait_for


def _main_when(
    owner: httpx.Client, camera_id: str, done: Callable[[dict[str, Any]], bool], what: str
) -> dict[str, Any]:
    """The main stream as the API shows it, once `done` says so; fail naming `what` after 60 s."""
    camera = wait_for_camera(owner, camera_id, lambda c: done(c["streams"]["main"]), what, 60)
    main: dict[str, Any] = camera["streams"]["main"]
    return main


def _over(transport: str) -> Callable[[dict[str, Any]], bool]:
    return lambda main: bool(main["stats"]) and main["stats"]["transport"] == transport


def _recorded_until(owner: httpx.Client, camera_id: str, since_ms: int) -> int:
    intervals = _timeline(owner, camera_id, since_ms)
    return int(intervals[-1]["end_ms"]) if intervals else 0


def _in_order(numbers: list[int]) -> bool:
    return numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def test_a_camera_over_udp_records_every_frame_in_order(
    tmp_path: Path, camera: TestCameraProcess
) -> None:
    started_ms = int(time.time() * 1000)
    with ServerProcess(tmp_path / "server") as server:
        with recording(server, camera, "udp") as (owner, camera_id):
            _main_when(owner, camera_id, _over("udp"), "main over UDP")
            wait_recorded(owner, camera_id, started_ms, 5)
            main = _main_when(owner, camera_id, _over("udp"), "main still over UDP")
        server.stop()
        (recorded,) = _files(server.data_dir, "*_*.mp4")
    assert main["status"]["state"] == "online"
    assert main["stats"]["lost_packets"] == 0
    assert decode_errors(recorded) == ""
    numbers = _frame_numbers(recorded)
    assert len(numbers) >= 25 * 4
    assert _in_order(numbers)  # not one lost or out of place


def test_switching_between_tcp_and_udp_keeps_recording(
    tmp_path: Path, camera: TestCameraProcess
) -> None:
    started_ms = int(time.time() * 1000)
    with ServerProcess(tmp_path / "server") as server:
        with recording(server, camera, "tcp") as (owner, camera_id):
            for transport in ("tcp", "udp", "tcp"):
                answer = owner.patch(f"/cameras/{camera_id}", json={"transport": transport})
                assert answer.status_code == 200, answer.text
                _main_when(owner, camera_id, _over(transport), f"main over {transport}")
                # Each connection records a file of its own, here of at least 2.5 s.
                since_ms = int(time.time() * 1000)
                wait_for(
                    lambda t=since_ms: _recorded_until(owner, camera_id, started_ms) >= t + 2500,
                    60,
                    f"2.5 s recorded over {transport}",
                )
            intervals = _timeline(owner, camera_id, started_ms)
        server.stop()
        files = _files(server.data_dir, "*_*.mp4")
    assert len(files) == 3, files  # a new file from each new connection
    runs = [_frame_numbers(path) for path in files]
    for path, numbers in zip(files, runs, strict=True):
        assert decode_errors(path) == ""
        assert len(numbers) >= 25 * 2
        assert _in_order(numbers)
    assert [run[0] for run in runs] == sorted(run[0] for run in runs)
    assert intervals[-1]["end_ms"] > int(files[-1].stem.split("_")[0])  # still recording


def test_a_udp_stream_that_stops_sending_goes_offline_says_why_and_comes_back(
    tmp_path: Path, camera: TestCameraProcess
) -> None:
    started_ms = int(time.time() * 1000)
    with (
        ServerProcess(tmp_path / "server") as server,
        recording(server, camera, "udp") as (owner, camera_id),
    ):
        _main_when(owner, camera_id, _over("udp"), "main over UDP")
        wait_recorded(owner, camera_id, started_ms, 3)
        answer = httpx.post(
            f"{camera.url()}/control/fault/stall", json={"stream": "main", "seconds": 25}
        )
        assert answer.status_code == 200, answer.text
        stalled = _main_when(owner, camera_id, lambda m: m["status"]["state"] == "offline",
                             "main offline")  # fmt: skip
        # Connected again while the camera still sends nothing: the reason says where to look.
        silent = _main_when(owner, camera_id, lambda m: "UDP" in m["status"]["reason"],
                            "a reason that names UDP")  # fmt: skip
        back = _main_when(owner, camera_id, _over("udp"), "main back over UDP")
        intervals = wait_for(
            lambda: (
                (found := _timeline(owner, camera_id, started_ms)) and len(found) >= 2 and found
            ),
            60,
            "recording after the stall",
        )
    assert "sent nothing" in stalled["status"]["reason"]
    assert silent["status"]["state"] in ("offline", "connecting")
    assert "no packets over UDP" in silent["status"]["reason"]
    assert back["status"]["state"] == "online"
    assert len(intervals) == 2, intervals
