"""Export speed: seconds of video exported per second of work, beside `ffmpeg -c copy`.

Part of bench/delivery.py (its `export` section), on the server and cameras it starts. Over
what one camera's main stream has recorded so far (1080p25 4 Mbit/s, with sound):
1. a job of that camera: from the POST to the `done` notification on the notifications
   WebSocket;
2. a job of `ZIP_CAMERAS` cameras at once (a zip);
3. the direct download of that camera, read to its end;
4. the reference: `ffmpeg -i FILE -c copy` of the camera's largest archive file into an MP4.
Speed is the video's duration over the wall time; the target is 100x real time.
"""

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

from tests.servers import ServerProcess

ZIP_CAMERAS = 4
TIMEOUT_S = 600.0


def _figures(video_ms: int, wall_s: float, size: int) -> dict[str, Any]:
    return {
        "video_s": round(video_ms / 1000, 1),
        "wall_s": round(wall_s, 3),
        "speed_x": round(video_ms / 1000 / wall_s, 1),
        "mib_per_s": round(size / 2**20 / wall_s, 1),
    }


async def _job(
    server: ServerProcess, client: httpx.AsyncClient, cameras: list[str], span: dict[str, int]
) -> dict[str, Any]:
    url = f"ws://127.0.0.1:{server.port}/api/v1/notifications"
    headers = {"Authorization": client.headers["authorization"]}
    async with connect(url, additional_headers=headers) as websocket:
        assert json.loads(await websocket.recv())["type"] == "ready"
        started = time.perf_counter()
        answer = await client.post("/exports", json={"cameras": cameras, **span})
        answer.raise_for_status()
        job_id = answer.json()["id"]
        while True:
            job = json.loads(await websocket.recv())["data"]
            if job.get("id") == job_id and job["state"] not in ("queued", "running"):
                break
    wall_s = time.perf_counter() - started
    if job["state"] != "done":
        raise RuntimeError(f"the export ended {job['state']}: {job['error']}")
    await client.delete(f"/exports/{job_id}")
    video_ms = sum(clip["duration_ms"] for clip in job["clips"])
    return {"cameras": len(cameras), **_figures(video_ms, wall_s, job["bytes"])}


async def _direct(
    client: httpx.AsyncClient, camera_id: str, span: dict[str, int]
) -> dict[str, Any]:
    started = time.perf_counter()
    size = 0
    async with client.stream("GET", f"/cameras/{camera_id}/export", params=span) as answer:
        answer.raise_for_status()
        async for piece in answer.aiter_bytes():
            size += len(piece)
    wall_s = time.perf_counter() - started
    # The clip runs from the keyframe at or before the start: about the span asked for.
    return _figures(span["to_ms"] - span["from_ms"], wall_s, size)


def _reference(archive: Path, camera_id: str, folder: Path) -> dict[str, Any]:
    """`ffmpeg -c copy` of the camera's largest recording (closed or being written)."""
    source = max((archive / camera_id / "main").rglob("*.mp4"), key=lambda p: p.stat().st_size)
    out = folder / "reference.mp4"
    started = time.perf_counter()
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(source), "-c", "copy", str(out)],
        check=True, timeout=TIMEOUT_S,
    )  # fmt: skip
    wall_s = time.perf_counter() - started
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(out)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    video_ms = round(float(json.loads(probe)["format"]["duration"]) * 1000)
    return _figures(video_ms, wall_s, out.stat().st_size)


async def measure(server: ServerProcess, token: str, camera_ids: list[str]) -> dict[str, Any]:
    """The export section's figures, over what the first camera has recorded so far."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=f"{server.url}/api/v1", headers=headers, timeout=TIMEOUT_S
    ) as client:
        now = int(time.time() * 1000)
        timeline = await client.get(
            f"/cameras/{camera_ids[0]}/timeline",
            params={"from_ms": now - 3_600_000, "to_ms": now},
        )
        intervals = timeline.json()["intervals"]
        span = {"from_ms": intervals[0]["start_ms"], "to_ms": intervals[-1]["end_ms"]}
        one = await _job(server, client, camera_ids[:1], span)
        several = await _job(server, client, camera_ids[:ZIP_CAMERAS], span)
        direct = await _direct(client, camera_ids[0], span)
    reference = _reference(server.data_dir / "archive", camera_ids[0], server.data_dir)
    return {"job": one, "zip": several, "direct": direct, "ffmpeg_copy": reference}
