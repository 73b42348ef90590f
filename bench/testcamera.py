"""CPU and memory of `vigil testcamera` per served stream.

Starts `vigil testcamera --count N` (main 1080p25 4 Mbit/s and sub 360p15 512 kbit/s, its
default profiles), pulls every main and sub stream over RTSP/TCP from a second process, and
reads the camera process's CPU time and peak memory from /proc. Prints one JSON object.
Target: 256 streams (128 cameras) under half a core and under 1 GiB.

Run: `python -m bench.testcamera [--count 128] [--seconds 30] [--codec h265] [--no-caption]
[--audio]`; with `--audio` the puller plays every stream's sound track too.
"""

import argparse
import asyncio
import json
import multiprocessing
import tempfile
import time
from pathlib import Path

from bench.proc import cpu_seconds, peak_rss_mib
from bench.rtsp_pull import pull_all
from tests.testcamera.process import TestCameraProcess


def _pull(
    urls: list[str], seconds: float, tracks: int, out: "multiprocessing.Queue[object]"
) -> None:
    results = asyncio.run(pull_all(urls, seconds, tracks))
    out.put([(r.packets, r.payload_bytes, r.error) for r in results])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=128)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--no-caption", action="store_true", help="pictures without the caption")
    parser.add_argument("--codec", choices=("h264", "h265"), default="h264")
    parser.add_argument("--audio", action="store_true", help="pull the sound tracks as well")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        cameras = TestCameraProcess(
            Path(folder),
            count=args.count,
            cache_dir=Path.home() / ".cache/vigil/testcamera",
            extra_args=(
                "--codec",
                args.codec,
                "--main",
                "1920x1080@25:4000k",
                "--sub",
                "640x360@15:512k",
                *(("--no-caption",) if args.no_caption else ()),
            ),
        ).start(timeout_s=600)
        try:
            pid = cameras.pid
            urls = [
                f"rtsp://127.0.0.1:{cameras.rtsp_port}/cam{n + 1}/{stream}"
                for n in range(args.count)
                for stream in ("main", "sub")
            ]
            idle_cpu_start, idle_start = cpu_seconds(pid), time.monotonic()
            time.sleep(3)
            idle_cpu = (cpu_seconds(pid) - idle_cpu_start) / (time.monotonic() - idle_start)
            results: multiprocessing.Queue[object] = multiprocessing.Queue()
            tracks = 2 if args.audio else 1
            puller = multiprocessing.Process(
                target=_pull, args=(urls, args.seconds, tracks, results)
            )
            puller.start()
            time.sleep(5)  # let every client connect and reach its first keyframe
            cpu_start, wall_start = cpu_seconds(pid), time.monotonic()
            time.sleep(args.seconds - 8)
            cpu = cpu_seconds(pid) - cpu_start
            wall = time.monotonic() - wall_start
            stats = results.get(timeout=args.seconds + 60)
            puller.join(timeout=30)
            peak_mib = peak_rss_mib(pid)
        finally:
            cameras.stop()
    assert isinstance(stats, list)
    errors = [error for _, _, error in stats if error]
    received_bits = sum(payload for _, payload, _ in stats) * 8
    print(
        json.dumps(
            {
                "bench": "testcamera",
                "cameras": args.count,
                "codec": args.codec,
                "caption": not args.no_caption,
                "audio_pulled": args.audio,
                "streams": len(urls),
                "seconds": args.seconds,
                "cpu_cores_idle": round(idle_cpu, 3),
                "cpu_cores_serving": round(cpu / wall, 3),
                "cpu_ms_per_stream_second": round(cpu / wall / len(urls) * 1000, 3),
                "peak_memory_mib": round(peak_mib, 1),
                "received_mbit_per_s": round(received_bits / args.seconds / 1e6, 1),
                "streams_with_errors": len(errors),
                "first_error": errors[0] if errors else None,
                "target": "256 streams under 0.5 core and 1024 MiB",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
