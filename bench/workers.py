"""A media worker killed: how soon its cameras record again, and what the archive lost.

Starts `vigil testcamera --count N` (`bench.cameras`: main 1080p25 4 Mbit/s, sub 360p15
512 kbit/s, with sound) and a `vigil server --media-workers 2` recording every stream, then
`--kills` times: SIGKILL to the first worker, wait until its cameras say `recording` again,
and let it run 12 s (a worker that dies within 10 s of its start is started again after a
delay, as in a crash loop). Afterwards, from the archive's file names: for each kill and
each of the killed worker's streams, the gap between the end of the file it was writing (as
the server finished it) and the start of the next one; the other worker's streams, which
should show no gap. Prints one JSON object. Target: recording again within 2 s.

Run: `python -m bench.workers [--count 8] [--kills 5]`.
"""

import argparse
import json
import os
import signal
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.cameras import vms_cameras
from tests.processes import open_recordings
from tests.servers import ServerProcess
from tests.waiting import wait_for

# Of recording between kills: past the new worker's first fragments, and past the 10 s
# within which a second death counts as a crash loop and waits (workers.md).
SETTLE_S = 12.0


def _worker(owner: httpx.Client, name: str) -> dict[str, Any]:
    workers: list[dict[str, Any]] = owner.get("/server/media").json()["workers"]
    return next(w for w in workers if w["name"] == name)


def _recording(owner: httpx.Client) -> set[str]:
    """The cameras whose every stream is recording now."""
    cameras = owner.get("/cameras").json()["cameras"]
    return {
        c["id"]
        for c in cameras
        if all(s["recording"]["state"] == "recording" for s in c["streams"].values())
    }


def _spans(archive: Path, camera_id: str) -> list[tuple[int, int]]:
    """(start, end) of each whole recording of the camera's main stream, in order."""
    spans = []
    for path in (archive / camera_id / "main").rglob("*_*.mp4"):
        if path.name.endswith(".part.mp4"):
            continue
        start, duration = map(int, path.stem.split("_"))
        spans.append((start, start + duration))
    return sorted(spans)


def _gaps(spans: list[tuple[int, int]], kills_ms: list[int]) -> list[int]:
    """For each kill, from the end of the recording under way to the start of the next."""
    gaps = []
    for killed in kills_ms:
        before = [end for start, end in spans if start <= killed]
        after = [start for start, _ in spans if start > killed]
        if before and after:
            gaps.append(after[0] - before[-1])
    return gaps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--kills", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        cameras = vms_cameras(folder, args.count)
        try:
            server = ServerProcess(folder / "server", options=["--media-workers", "2"])
            with server:
                server.start()
                server.create_system()
                with server.login() as owner:
                    ids = []
                    for n in range(1, args.count + 1):
                        url = f"rtsp://127.0.0.1:{cameras.rtsp_port}/cam{n}"
                        body = {"name": f"Camera {n}", "main_url": f"{url}/main",
                                "sub_url": f"{url}/sub"}  # fmt: skip
                        ids.append(owner.post("/cameras", json=body).json()["id"])
                    wait_for(lambda: _recording(owner) == set(ids), 60, "every camera recording")
                    time.sleep(SETTLE_S)
                    # Which worker runs which camera: by the file each one holds open.
                    held = {
                        w: open_recordings(_worker(owner, w)["pid"]) for w in ("media-1", "media-2")
                    }
                    killed_cameras = [c for c in ids if any(c in p for p in held["media-1"])]
                    kills_ms, resumed_s = [], []
                    for _ in range(args.kills):
                        pid = _worker(owner, "media-1")["pid"]
                        os.kill(pid, signal.SIGKILL)
                        kills_ms.append(int(time.time() * 1000))
                        killed_at = time.monotonic()
                        wait_for(lambda p=pid: _worker(owner, "media-1")["pid"] not in (None, p),
                                 30, "a new worker")  # fmt: skip
                        wait_for(lambda: set(killed_cameras) <= _recording(owner), 60,
                                 "its cameras recording again")  # fmt: skip
                        resumed_s.append(time.monotonic() - killed_at)
                        time.sleep(SETTLE_S)
                server.stop()
        finally:
            cameras.stop()
        archive = folder / "server" / "archive"
        killed_gaps = [g for c in killed_cameras for g in _gaps(_spans(archive, c), kills_ms)]
        others = [c for c in ids if c not in killed_cameras]
        other_gaps = [g for c in others for g in _gaps(_spans(archive, c), kills_ms)]
    print(
        json.dumps(
            {
                "bench": "workers",
                "cameras": args.count,
                "kills": args.kills,
                "killed_worker_cameras": len(killed_cameras),
                "recording_again_s": {
                    "median": round(statistics.median(resumed_s), 2),
                    "max": round(max(resumed_s), 2),
                },
                "archive_gap_ms_killed_worker": {
                    "median": statistics.median(killed_gaps) if killed_gaps else None,
                    "max": max(killed_gaps, default=None),
                    "gaps": len(killed_gaps),
                },
                "archive_gap_ms_other_worker_max": max(other_gaps, default=None),
                "target": "recording again within 2 s",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
