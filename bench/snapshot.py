"""How long a JPEG snapshot takes: recorded (at random times) and live, one at a time and
64 at once (a grid of previews asking together).

Starts `vigil testcamera --count 2` (`bench.cameras`: main 1080p25 4 Mbit/s, sub 360p15)
and a `vigil server` recording them, lets 70 s be recorded (a file closes about every
minute: the reference needs one), then measures over
loopback, from request to the last byte of the JPEG: recorded main at full size, recorded
main at width 320 (a tile), recorded sub, live main; then 64 recorded snapshots at width 320
asked at once. Reference, in the same run: `ffmpeg -ss T -i FILE -frames:v 1` on a closed
recording of the same camera (a process start included, as a client doing it would have).
Prints one JSON object.

Run: `python -m bench.snapshot [--asks 40]`.
"""

import argparse
import asyncio
import json
import random
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.cameras import vms_cameras
from bench.delivery import serve
from bench.login import _percentile
from tests.servers import ServerProcess

RECORD_S = 70.0


def _figures(seconds: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(_percentile(seconds, 0.5) * 1000, 1),
        "p95_ms": round(_percentile(seconds, 0.95) * 1000, 1),
        "max_ms": round(max(seconds) * 1000, 1),
    }


async def _timed(client: httpx.AsyncClient, path: str, query: dict[str, Any]) -> float:
    started = time.perf_counter()
    answer = await client.get(path, params=query)
    answer.raise_for_status()
    return time.perf_counter() - started


async def _measure(
    server: ServerProcess, token: str, camera_ids: list[str], since_ms: int, asks: int
) -> dict[str, Any]:
    rng = random.Random(1)
    until_ms = int(time.time() * 1000) - 3_000  # on disk by now
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=f"{server.url}/api/v1", headers=headers,
                                 timeout=120) as client:  # fmt: skip

        def recorded(**query: Any) -> tuple[str, dict[str, Any]]:
            camera_id = rng.choice(camera_ids)
            query["time_ms"] = rng.randint(since_ms, until_ms)
            return f"/cameras/{camera_id}/archive/snapshot", query

        kinds = {
            "recorded_main": lambda: recorded(),
            "recorded_main_width_320": lambda: recorded(width=320),
            "recorded_sub": lambda: recorded(stream="sub"),
            "live_main": lambda: (f"/cameras/{rng.choice(camera_ids)}/snapshot", {}),
        }
        result: dict[str, Any] = {}
        for name, ask in kinds.items():
            await _timed(client, *ask())  # warm up
            result[name] = _figures([await _timed(client, *ask()) for _ in range(asks)])
        started = time.perf_counter()
        together = await asyncio.gather(*(_timed(client, *recorded(width=320)) for _ in range(64)))
        result["64_at_once_width_320"] = {
            **_figures(list(together)),
            "all_ms": round((time.perf_counter() - started) * 1000, 1),
        }
    return result


def _ffmpeg_reference(archive: Path, asks: int) -> dict[str, float]:
    """One picture of a closed main recording as JPEG, by an ffmpeg process each time."""
    files = sorted(archive.rglob("*.mp4"))
    closed = [p for p in files if "/main/" in str(p) and ".part" not in p.name]
    rng = random.Random(2)
    seconds = []
    with tempfile.TemporaryDirectory() as folder:
        for n in range(asks):
            path = rng.choice(closed)
            started = time.perf_counter()
            subprocess.run(
                ["ffmpeg", "-v", "error", "-ss", f"{rng.uniform(0, 8):.3f}", "-i", str(path),
                 "-frames:v", "1", "-y", f"{folder}/{n}.jpg"],
                check=True,
            )  # fmt: skip
            seconds.append(time.perf_counter() - started)
    return _figures(seconds)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--asks", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        cameras = vms_cameras(folder, 2)
        try:
            with ServerProcess(folder / "server") as server:
                token, camera_ids = serve(server, cameras, 2)
                since_ms = int(time.time() * 1000)
                time.sleep(RECORD_S)
                result = asyncio.run(_measure(server, token, camera_ids, since_ms, args.asks))
                reference = _ffmpeg_reference(server.data_dir / "archive", args.asks)
        finally:
            cameras.stop()
    print(
        json.dumps(
            {
                "bench": "snapshot",
                "asks_each": args.asks,
                **result,
                "reference_ffmpeg_process_main": reference,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
