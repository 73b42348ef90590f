"""Live delivery: how soon a new viewer sees a picture, and what live viewers cost.

Starts `vigil testcamera --count N` (`bench.cameras`: main 1080p25 4 Mbit/s, sub 360p15
512 kbit/s, with sound) and a `vigil server` recording all of them, then measures over loopback:
1. time to first frame: from opening a live WebSocket on a camera's main stream to the first
   fragment received (after the init message and segment), `--connects` times one after the
   other; p50, p95 and the worst;
2. CPU of the server and its media workers (each process told) for `--seconds` without
   viewers, then with one viewer on the sub stream of each of the N cameras (all in this
   process, reading everything); the difference is what the viewers cost, in cores;
3. the same with one RTSP viewer per camera's sub stream (RTP interleaved on TCP; a bare
   client in this process that logs in, plays the video track and reads everything);
4. added latency of one live viewer of a sub stream (its pictures' arrival against the
   camera's clock burned into them) while `--latency-viewers` other live viewers watch, from
   a process of their own; p50, p99 and the worst;
5. export speed (bench/export.py), after the live figures, once at least `--export-s` of
   video is recorded: seconds of video exported per second, as a job, a zip and a direct
   download, beside `ffmpeg -c copy` of the same camera's archive file.
Prints one JSON object. Targets: first frame <= 150 ms p95; 64 viewers <= 0.30 of
one core; export >= 100x real time.

Run: `python -m bench.delivery [--count 64] [--seconds 20] [--connects 50] [--export-s 60]
[--sections live,rtsp,latency,export] [--latency-viewers 64]`.
"""

import argparse
import asyncio
import base64
import bisect
import json
import multiprocessing
import re
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from bench import export as export_bench
from bench.cameras import vms_cameras
from bench.proc import TreeCpu
from tests.media.captions import pictures
from tests.servers import OWNER, OWNER_PASSWORD, ServerProcess
from tests.testcamera.process import TestCameraProcess
from tests.waiting import wait_for

WARM_UP_S = 8.0


def _live_url(server: ServerProcess, camera_id: str, stream: str) -> str:
    return f"ws://127.0.0.1:{server.port}/api/v1/cameras/{camera_id}/live?stream={stream}"


async def _first_frame_ms(url: str, token: str) -> float:
    started = time.perf_counter()
    headers = {"Authorization": f"Bearer {token}"}
    async with connect(url, additional_headers=headers, max_size=None) as websocket:
        binaries = 0
        while binaries < 2:  # the init segment, then the first fragment
            binaries += isinstance(await websocket.recv(), bytes)
        return (time.perf_counter() - started) * 1000


@dataclass(frozen=True)
class _Viewer:
    reading: "asyncio.Task[int]"  # gives the bytes received
    close: Callable[[], Awaitable[None]]


async def _read_all(websocket: ClientConnection) -> int:
    received = 0
    async for message in websocket:
        received += len(message)
    return received


async def live_viewer(
    server: ServerProcess, token: str, camera_id: str, stream: str = "sub"
) -> _Viewer:
    headers = {"Authorization": f"Bearer {token}"}
    url = _live_url(server, camera_id, stream)
    websocket = await connect(url, additional_headers=headers, max_size=None)
    return _Viewer(asyncio.create_task(_read_all(websocket)), websocket.close)


async def _rtsp_viewer(server: ServerProcess, camera_id: str) -> _Viewer:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.rtsp_port)
    credentials = base64.b64encode(f"{OWNER}:{OWNER_PASSWORD}".encode()).decode()

    async def ask(lines: str) -> str:
        writer.write(f"{lines}Authorization: Basic {credentials}\r\n\r\n".encode())
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        if not head.startswith("RTSP/1.0 200"):
            raise RuntimeError(head.splitlines()[0])
        if length := re.search(r"Content-Length: (\d+)", head):
            await reader.readexactly(int(length[1]))
        return head

    url = f"rtsp://127.0.0.1:{server.rtsp_port}/cameras/{camera_id}/sub"
    await ask(f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\n")
    setup = await ask(f"SETUP {url}/trackID=0 RTSP/1.0\r\nCSeq: 2\r\n"
                      "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n")  # fmt: skip
    session = re.search(r"Session: ([^;\r]+)", setup)
    assert session is not None
    await ask(f"PLAY {url} RTSP/1.0\r\nCSeq: 3\r\nSession: {session[1]}\r\n")

    async def read_all() -> int:
        received = 0
        while chunk := await reader.read(65536):
            received += len(chunk)
        return received

    async def close() -> None:
        writer.close()
        await writer.wait_closed()

    return _Viewer(asyncio.create_task(read_all()), close)


async def _cores(pid: int, seconds: float) -> dict[str, Any]:
    """CPU of the server and its media workers over `seconds`: the total and each process."""
    tree = TreeCpu(pid)
    await asyncio.sleep(seconds)
    return tree.measure(seconds)


async def _viewers_cost(
    pid: int, idle: dict[str, Any], viewers: list[_Viewer], seconds: float
) -> dict[str, Any]:
    """Server CPU with `viewers`, against `idle` (its CPU without any)."""
    try:
        await asyncio.sleep(2.0)  # past every viewer's first burst
        viewing = await _cores(pid, seconds)
    finally:
        for viewer in viewers:
            await viewer.close()
        received = await asyncio.gather(*(v.reading for v in viewers), return_exceptions=True)
    return {
        "viewers": len(viewers),
        "server_cores_without_viewers": idle["cores"],
        "server_cores_with_viewers": viewing["cores"],
        "viewers_cores": round(viewing["cores"] - idle["cores"], 3),
        "processes_without_viewers": idle["processes"],
        "processes_with_viewers": viewing["processes"],
        "received_mib": round(sum(r for r in received if isinstance(r, int)) / 2**20, 1),
    }


async def _measure(
    server: ServerProcess, token: str, camera_ids: list[str], seconds: float, connects: int
) -> dict[str, Any]:
    times = []
    for n in range(connects):
        url = _live_url(server, camera_ids[n % len(camera_ids)], "main")
        times.append(await _first_frame_ms(url, token))
    times.sort()
    first_frame = {
        "connects": connects,
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
        "max_ms": round(times[-1], 1),
    }
    idle = await _cores(server.pid, seconds)
    live = [await live_viewer(server, token, c) for c in camera_ids]
    return {"first_frame": first_frame, **await _viewers_cost(server.pid, idle, live, seconds)}


async def _rtsp_cost(
    server: ServerProcess, camera_ids: list[str], seconds: float
) -> dict[str, Any]:
    idle = await _cores(server.pid, seconds)
    viewers = [await _rtsp_viewer(server, c) for c in camera_ids]
    return await _viewers_cost(server.pid, idle, viewers, seconds)


def serve(
    server: ServerProcess, cameras: TestCameraProcess, count: int, recorded: int | None = None
) -> tuple[str, list[str]]:
    """The server recording the cameras (the first `recorded` of them; None: all), all online:
    the owner's token and the camera ids, in the order the cameras were added."""
    server.start()
    server.create_system()
    ids = []
    with server.login() as owner:
        for n in range(count):
            stream = f"rtsp://127.0.0.1:{cameras.rtsp_port}/cam{n + 1}"
            mode = "always" if recorded is None or n < recorded else "off"
            answer = owner.post("/cameras", json={"name": f"Camera {n + 1}",
                                                  "main_url": f"{stream}/main",
                                                  "sub_url": f"{stream}/sub",
                                                  "recording": {"mode": mode}})  # fmt: skip
            answer.raise_for_status()
            ids.append(answer.json()["id"])

        def all_online() -> bool:
            found = owner.get("/cameras").json()["cameras"]
            return all(s["stats"] for c in found for s in c["streams"].values())

        wait_for(all_online, 120, "every stream online")
        time.sleep(WARM_UP_S)  # sound started, GOPs kept
        token = owner.headers["authorization"].removeprefix("Bearer ")
        return token, ids


def _watch_in_process(url: str, token: str, camera_ids: list[str], stop: Event) -> None:
    """A child process's work: a live viewer on each camera's sub stream, until `stop`."""

    async def watch() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        sockets = [
            await connect(f"{url}/api/v1/cameras/{c}/live?stream=sub",
                          additional_headers=headers, max_size=None)
            for c in camera_ids
        ]  # fmt: skip
        readers = [asyncio.create_task(_read_all(w)) for w in sockets]
        await asyncio.to_thread(stop.wait)
        for websocket in sockets:
            await websocket.close()
        await asyncio.gather(*readers, return_exceptions=True)

    asyncio.run(watch())


async def _latency(
    server: ServerProcess, token: str, camera_ids: list[str], seconds: float, viewers: int
) -> dict[str, Any]:
    """Added latency: when each live picture arrives here, against the camera's clock burned
    into it when the camera sent it (both clocks are this machine's). Everything on the way
    is counted: the camera's sending, RTSP in, the server, the WebSocket, this client. Meanwhile
    `viewers` other live viewers (sub streams), in a process of their own so that their
    reading does not delay this one's."""
    stop = multiprocessing.Event()
    watched = (camera_ids * viewers)[:viewers]
    others = multiprocessing.Process(
        target=_watch_in_process, args=(server.url.replace("http", "ws"), token, watched, stop)
    )
    others.start()
    try:
        await asyncio.sleep(3.0)  # every other viewer connected and past its first burst
        measured = await live_latency(server, token, camera_ids[0], seconds)
    finally:
        stop.set()
        others.join(timeout=30)
    return {"other_viewers": viewers, **measured}


async def live_latency(
    server: ServerProcess, token: str, camera_id: str, seconds: float
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    data = bytearray()
    ends_at: list[int] = []  # where each message ends in `data`
    arrivals: list[float] = []  # when it came
    async with connect(_live_url(server, camera_id, "sub"), additional_headers=headers,
                       max_size=None) as websocket:  # fmt: skip
        ends = time.monotonic() + seconds
        while time.monotonic() < ends:
            message = await websocket.recv()
            if isinstance(message, bytes):
                data += message
                ends_at.append(len(data))
                arrivals.append(time.time())
    shown = pictures(bytes(data))
    # A message may hold several pictures; each arrived with the message its data is in.
    # The first GOP comes from the hub's memory at once: old pictures, not a delay.
    delays = sorted(
        (arrivals[bisect.bisect_right(ends_at, picture.position)] * 1000) % 86_400_000
        - picture.clock_ms
        for picture in shown[len(shown) // 10 :]
    )
    return {
        "pictures": len(delays),
        "p50_ms": round(statistics.median(delays), 1),
        "p99_ms": round(delays[max(0, int(len(delays) * 0.99) - 1)], 1),
        "max_ms": round(delays[-1], 1),
    }


async def _sections(
    server: ServerProcess, token: str, camera_ids: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    sections = set(args.sections.split(","))
    started = time.monotonic()
    figures: dict[str, Any] = {}
    if "live" in sections:
        figures |= await _measure(server, token, camera_ids, args.seconds, args.connects)
    if "rtsp" in sections:
        figures["rtsp"] = await _rtsp_cost(server, camera_ids, args.seconds)
    if "latency" in sections:
        figures["latency"] = await _latency(server, token, camera_ids, args.seconds,
                                            args.latency_viewers)  # fmt: skip
    if "export" in sections:
        await asyncio.sleep(max(0.0, args.export_s - WARM_UP_S - (time.monotonic() - started)))
        figures["export"] = await export_bench.measure(server, token, camera_ids)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--connects", type=int, default=50)
    parser.add_argument("--export-s", type=float, default=60.0)
    parser.add_argument("--sections", default="live,rtsp,latency,export")
    parser.add_argument("--latency-viewers", type=int, default=64, metavar="N")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        cameras = vms_cameras(folder, args.count)
        try:
            with ServerProcess(folder / "server") as server:
                token, camera_ids = serve(server, cameras, args.count)
                figures = asyncio.run(_sections(server, token, camera_ids, args))
                # Printed before the server stops: stopping 2N recordings may take long.
                _print(args, figures)
        finally:
            cameras.stop()


def _print(args: argparse.Namespace, figures: dict[str, Any]) -> None:
    print(
        json.dumps(
            {
                "bench": "delivery",
                "cameras": args.count,
                "seconds": args.seconds,
                **figures,
                "targets": "first frame p95 <= 150 ms; 64 viewers <= 0.30 cores; "
                "added latency p99 <= 20 ms; export >= 100x real time",
            },
            indent=2,
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
