"""Recording cost: Vigil against one `ffmpeg -c copy -f segment` per stream, same cameras.

Starts `vigil testcamera --count N` (main 1080p25 4 Mbit/s, sub 360p15 512 kbit/s, as issue 4
asks, each with AAC sound), then, one after the other on the same streams:
1. a `vigil server` recording every stream of the N cameras;
2. one `ffmpeg -rtsp_transport tcp -i URL -c copy -f segment -segment_time 60` per stream
   (how Frigate records).
For each: CPU seconds over the measured window, peak memory, packets lost, bytes written per
byte received. Prints one JSON object. Targets (issue 4): Vigil's CPU at most half the ffmpeg
processes'; 128 cameras with no packet lost; written at most 1.02 x received.

With `--transport udp` both take RTP over UDP instead (Vigil's cameras set to `udp`, ffmpeg
with `-rtsp_transport udp`).

Run: `python -m bench.recording [--count 128] [--seconds 60] [--transport tcp|udp]`.
"""

import argparse
import json
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.cameras import issue4_cameras
from bench.proc import cpu_seconds, peak_rss_mib, rss_mib
from tests.servers import ServerProcess
from tests.testcamera.process import TestCameraProcess

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
WARM_UP_S = 8.0


def _bytes_under(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _urls(cameras: TestCameraProcess, count: int) -> list[str]:
    return [
        f"rtsp://127.0.0.1:{cameras.rtsp_port}/cam{n + 1}/{stream}"
        for n in range(count)
        for stream in ("main", "sub")
    ]


def _vigil(
    cameras: TestCameraProcess, count: int, seconds: float, transport: str, folder: Path
) -> dict[str, Any]:
    with ServerProcess(folder / "server") as server:
        server.start()
        server.create_system()
        with server.login() as owner:
            for n in range(count):
                answer = owner.post(
                    "/cameras",
                    json={
                        "name": f"Camera {n + 1}",
                        "main_url": f"rtsp://127.0.0.1:{cameras.rtsp_port}/cam{n + 1}/main",
                        "sub_url": f"rtsp://127.0.0.1:{cameras.rtsp_port}/cam{n + 1}/sub",
                        "transport": transport,
                    },
                )
                answer.raise_for_status()
            time.sleep(WARM_UP_S)
            pid = server.pid
            cpu_start, wall_start = cpu_seconds(pid), time.monotonic()
            time.sleep(seconds)
            cpu = cpu_seconds(pid) - cpu_start
            wall = time.monotonic() - wall_start
            peak = peak_rss_mib(pid)
            streams = [
                stream
                for camera in owner.get("/cameras").json()["cameras"]
                for stream in camera["streams"].values()
            ]
        server.stop()  # closes the files being written
    stats = [s["stats"] for s in streams if s["stats"]]
    received = sum(s["received_bytes"] for s in stats)
    written = _bytes_under(folder / "server" / "archive")
    return {
        "cpu_seconds": round(cpu, 2),
        "cpu_cores": round(cpu / wall, 3),
        "peak_memory_mib": round(peak, 1),
        "streams_online": len(stats),
        "packets_lost": sum(s["lost_packets"] for s in stats),
        "received_bytes": received,
        "written_bytes": written,
        # Received counts from each stream's connection, written from its first keyframe.
        "written_per_received": round(written / received, 4) if received else None,
    }


def _ffmpeg(urls: list[str], seconds: float, transport: str, folder: Path) -> dict[str, Any]:
    processes = []
    logs = []
    for n, url in enumerate(urls):
        out = folder / "ffmpeg" / str(n)
        out.mkdir(parents=True)
        log = (folder / "ffmpeg" / f"{n}.log").open("w")
        logs.append(log)
        processes.append(
            subprocess.Popen(
                [
                    "ffmpeg",
                    "-nostdin",
                    "-v",
                    "warning",
                    "-rtsp_transport",
                    transport,
                    "-i",
                    url,
                    "-c",
                    "copy",
                    "-f",
                    "segment",
                    "-segment_time",
                    "60",
                    str(out / "%05d.mp4"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        )
    time.sleep(WARM_UP_S)
    pids = [p.pid for p in processes]
    cpu_start, wall_start = sum(map(cpu_seconds, pids)), time.monotonic()
    time.sleep(seconds)
    cpu = sum(map(cpu_seconds, pids)) - cpu_start
    wall = time.monotonic() - wall_start
    memory = sum(map(rss_mib, pids))
    for process in processes:
        process.send_signal(signal.SIGINT)
    for process in processes:
        process.wait(timeout=30)
    for log in logs:
        log.close()
    text = "".join(p.read_text() for p in (folder / "ffmpeg").glob("*.log"))
    return {
        "cpu_seconds": round(cpu, 2),
        "cpu_cores": round(cpu / wall, 3),
        "memory_mib_sum_of_processes": round(memory, 1),
        "processes": len(processes),
        "missed_packet_reports": text.count("missed"),
        "written_bytes": _bytes_under(folder / "ffmpeg"),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=128)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--transport", choices=("tcp", "udp"), default="tcp")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        cameras = issue4_cameras(folder, args.count)  # with sound: both sides record it
        try:
            vigil = _vigil(cameras, args.count, args.seconds, args.transport, folder)
            ffmpeg = _ffmpeg(_urls(cameras, args.count), args.seconds, args.transport, folder)
        finally:
            cameras.stop()
    print(
        json.dumps(
            {
                "bench": "recording",
                "cameras": args.count,
                "streams": 2 * args.count,
                "seconds": args.seconds,
                "transport": args.transport,
                "vigil": vigil,
                "ffmpeg_per_stream": ffmpeg,
                "vigil_cpu_over_ffmpeg": round(vigil["cpu_seconds"] / ffmpeg["cpu_seconds"], 3)
                if ffmpeg["cpu_seconds"]
                else None,
                "targets": "cpu ratio <= 0.5; no packet lost; written/received <= 1.02",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
