"""Playback seek: from asking for a time to the first fragment of it, over a 24-hour archive.

Makes a day of one camera's recordings as the recorder names and lays them out (one-minute
files of one-second fragments, 25 fps, 4 Mbit/s), enters them in a `vigil server`'s index by
the storage rebuild (as after a disk is moved: no seek tables in the index, so the first use
of each file scans its fragment headers), then measures over loopback:
1. open: a new playback WebSocket at a random time of the day, to its first fragment;
2. seek: a seek command in an open session to a random time, to the first fragment of the
   new timeline.
Each `--seeks` times; p50, p95 and the worst. The pictures' bytes (but for each one's length)
are holes in sparse files: what is timed is the index, the file reads and the sending, with
the pages cached.
Prints one JSON object. Target: seek <= 100 ms p95.

Run: `python -m bench.playback [--seeks 100] [--hours 24]`.
"""

import argparse
import asyncio
import json
import random
import statistics
import struct
import tempfile
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from tests.media.test_mse import H264, config
from tests.servers import ServerProcess
from vigil.media import mp4
from vigil.media.archive import naming
from vigil.media.frames import Frame

MINUTE_MS = 60_000
FPS = 25
KEY_BYTES, DELTA_BYTES = 60_000, 17_500  # about 4 Mbit/s with a keyframe a second
DAY_START = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def _write_file(path: Path, start_ms: int) -> None:
    """One minute: the init segment, then sixty one-second fragments whose picture bytes are
    left as holes."""
    stream = config("h264", H264)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:
        file.write(mp4.init_segment(stream))
        for second in range(60):
            first = start_ms + second * 1000
            frames = [Frame(first + n * 1000 // FPS, n == 0, (b"",), stream, 0) for n in range(FPS)]
            fragment = mp4.fragment(second + 1, frames, first + 1000, start_ms)
            # The headers as written, with each sample's size made a real picture's: one NAL
            # unit each, its length written, its bytes a hole.
            moof, sizes = _sized(fragment.data)
            file.write(moof)
            for size in sizes:
                file.write(struct.pack(">I", size))
                file.seek(size, 1)
        file.truncate(file.tell())


def _sized(data: bytes) -> tuple[bytes, list[int]]:
    """The moof and mdat header of a fragment of empty samples, made to hold real-sized
    ones; and the size of each sample's NAL unit."""
    moof_size = struct.unpack_from(">I", data, 0)[0]
    moof = bytearray(data[:moof_size])
    at = moof.find(b"trun") + 4 + 4  # version and flags
    count = struct.unpack_from(">I", moof, at)[0]
    at += 8  # count, data offset
    sizes = [KEY_BYTES if n == 0 else DELTA_BYTES for n in range(count)]
    for n, size in enumerate(sizes):
        struct.pack_into(">I", moof, at + n * 12 + 4, size + 4)  # the NAL and its length
    payload = sum(size + 4 for size in sizes)
    return bytes(moof) + struct.pack(">I4s", payload + 8, b"mdat"), sizes


def _make_day(archive: Path, camera_id: str, hours: int) -> int:
    count = hours * 60
    for n in range(count):
        start = DAY_START + n * MINUTE_MS
        _write_file(naming.closed_path(archive, camera_id, "main", start, MINUTE_MS), start)
    return count


async def _first_fragment(websocket: ClientConnection) -> None:
    binaries = 0
    while binaries < 2:  # the init segment, then the first fragment
        binaries += isinstance(await websocket.recv(), bytes)


def _url(server: ServerProcess, camera_id: str, time_ms: int) -> str:
    return f"ws://127.0.0.1:{server.port}/api/v1/playback?cameras={camera_id}&time_ms={time_ms}"


async def _measure(server: ServerProcess, token: str, camera_id: str, hours: int,
                   seeks: int) -> dict[str, Any]:  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random(5)

    def some_time() -> int:
        return DAY_START + rng.randrange(hours * 3_600_000 - 10_000)

    opens = []
    for _ in range(seeks):
        started = time.perf_counter()
        url = _url(server, camera_id, some_time())
        async with connect(url, additional_headers=headers, max_size=None,
                           max_queue=None) as websocket:  # fmt: skip
            await _first_fragment(websocket)
            opens.append((time.perf_counter() - started) * 1000)
    commands = []
    url = _url(server, camera_id, some_time())
    async with connect(url, additional_headers=headers, max_size=None,
                       max_queue=None) as websocket:  # fmt: skip
        await _first_fragment(websocket)
        for _ in range(seeks):
            started = time.perf_counter()
            await websocket.send(json.dumps({"command": "seek", "time_ms": some_time()}))
            while True:  # to the reset init, then its segment and first fragment
                message = await websocket.recv()
                if isinstance(message, str) and '"reset":true' in message:
                    break
            await _first_fragment(websocket)
            commands.append((time.perf_counter() - started) * 1000)
    return {"open_ms": _summary(opens), "seek_ms": _summary(commands)}


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 1),
        "p95": round(ordered[int(len(ordered) * 0.95) - 1], 1),
        "max": round(ordered[-1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeks", type=int, default=100)
    parser.add_argument("--hours", type=int, default=24)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name, ServerProcess(Path(name) / "server") as server:
        server.start()
        server.create_system()
        with server.login() as owner:
            offline = {"name": "Archive", "main_url": "rtsp://127.0.0.1:9/none", "enabled": False}
            camera = owner.post("/cameras", json=offline)
            camera_id = camera.json()["id"]
            storage = owner.get("/storages").json()["storages"][0]
            started = time.perf_counter()
            files = _make_day(Path(storage["path"]), camera_id, args.hours)
            made = time.perf_counter() - started
            rebuilt = owner.post(f"/storages/{storage['id']}/rebuild", timeout=600)
            assert rebuilt.status_code == 200, rebuilt.text
            token = owner.headers["authorization"].removeprefix("Bearer ")
            figures = asyncio.run(_measure(server, token, camera_id, args.hours, args.seeks))
    print(json.dumps({
        "bench": "playback",
        "hours": args.hours,
        "files": files,
        "seconds_to_make_the_files": round(made, 1),
        "seeks": args.seeks,
        **figures,
        "target": "seek <= 100 ms p95",
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
