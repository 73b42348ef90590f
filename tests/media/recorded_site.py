"""A server recording two simulated cameras, for the tests that read what was recorded
(playback, snapshots, timelines): each module gets its own (`site` in conftest.py), started
once, and each of its tests reads what was recorded before it."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.media.test_recording import _timeline
from tests.servers import ServerProcess, add_main_streams, system_with_cameras
from tests.testcamera.process import TestCameraProcess
from tests.waiting import wait_for

WAIT_S = 30.0
RECORDED_S = 12  # recorded before the first test


@dataclass
class Site:
    server: ServerProcess
    owner: httpx.Client
    cameras: list[str]
    started_ms: int
    camera: TestCameraProcess


@contextmanager
def recording_site(folder: Path) -> Iterator[Site]:
    with (
        system_with_cameras(folder, 2) as (server, camera),
        server.login() as owner,
    ):
        started_ms = int(time.time() * 1000)
        ids = add_main_streams(owner, camera, 2)
        for camera_id in ids:
            wait_for(lambda c=camera_id: recorded_s(owner, c, started_ms) >= RECORDED_S,
                     RECORDED_S + WAIT_S, "recordings")  # fmt: skip
        yield Site(server, owner, ids, started_ms, camera)


def recorded_s(owner: httpx.Client, camera_id: str, since_ms: int) -> float:
    spans = _timeline(owner, camera_id, since_ms)
    return sum(s["end_ms"] - s["start_ms"] for s in spans) / 1000
