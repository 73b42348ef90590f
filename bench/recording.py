"""Recording cost: Vigil against one `ffmpeg -c copy -f segment` per stream, same cameras.

Starts `vigil testcamera --count N` (`bench.cameras`: main 1080p25 4 Mbit/s, sub 360p15
512 kbit/s, each with AAC sound), then, one after the other on the same streams:
1. a `vigil server` recording every stream of the N cameras;
2. one `ffmpeg -rtsp_transport tcp -i URL -c copy -f segment -segment_time 60` per stream
   (how Frigate records).
For each: CPU seconds over the measured window (Vigil's: the server and its media workers,
each process with its busiest thread), peak memory, packets lost, bytes written per byte
received. Prints one JSON object. Targets: Vigil's CPU at most half the ffmpeg
processes'; 128 cameras with no packet lost; written at most 1.02 x received.

With `--transport udp` both take RTP over UDP instead (Vigil's cameras set to `udp`, ffmpeg
with `-rtsp_transport udp`). With `--b-frames SHARE` that share of the cameras have as main
stream one 1080p25 4 Mbit/s H.264 stream with two B-frames from GStreamer's RTSP server (one
shared encoder, tests/peers/gst_camera.py), a camera nobody here wrote.

With `--media-workers N` Vigil runs N media workers (default: one per core).

With `--sync-every S [S ...]` Vigil records once with each of those `vigil server
--sync-every` periods (0: no forced writes), one after the other, for the cost of what a
power cut may lose (docs/design/recording.md); the first is reported as `vigil`.

Run: `python -m bench.recording [--count 128] [--seconds 60] [--transport tcp|udp]
[--b-frames 0.25] [--media-workers 2] [--sync-every 5 0]`.
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

from bench.cameras import vms_cameras
from bench.proc import TreeCpu, cpu_seconds, peak_rss_mib, process_tree, rss_mib
from tests.peers.gst import GstCamera
from tests.servers import ServerProcess
from tests.testcamera.process import TestCameraProcess

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
WARM_UP_S = 8.0


def _bytes_under(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


B_FRAMES_MOUNT = {
    "path": "/b-frames", "codec": "h264", "profile": "high", "bframes": 2, "width": 1920,
    "height": 1080, "bitrate_kbps": 4000, "preset": "ultrafast", "shared": True,
}  # fmt: skip


def _streams(
    cameras: TestCameraProcess, count: int, b_frames: GstCamera | None, b_count: int
) -> list[tuple[str, str]]:
    """(main, sub) URL of each camera: the first `b_count` have the B-frame main stream."""
    urls = []
    for n in range(count):
        main = f"rtsp://127.0.0.1:{cameras.rtsp_port}/cam{n + 1}/main"
        if b_frames is not None and n < b_count:
            main = b_frames.url(str(B_FRAMES_MOUNT["path"]))
        urls.append((main, f"rtsp://127.0.0.1:{cameras.rtsp_port}/cam{n + 1}/sub"))
    return urls


def _vigil(
    streams: list[tuple[str, str]],
    seconds: float,
    transport: str,
    folder: Path,
    sync_every: float,
    workers: int | None,
) -> dict[str, Any]:
    options = ["--sync-every", f"{sync_every:g}"]
    if workers is not None:
        options += ["--media-workers", str(workers)]
    folder.mkdir(exist_ok=True)
    with ServerProcess(folder / "server", options=options) as server:
        server.start()
        server.create_system()
        with server.login() as owner:
            for n, (main, sub) in enumerate(streams):
                answer = owner.post(
                    "/cameras",
                    json={
                        "name": f"Camera {n + 1}",
                        "main_url": main,
                        "sub_url": sub,
                        "transport": transport,
                    },
                )
                answer.raise_for_status()
            time.sleep(WARM_UP_S)
            tree = TreeCpu(server.pid)  # the server and its media workers
            wall_start = time.monotonic()
            time.sleep(seconds)
            wall = time.monotonic() - wall_start
            used = tree.measure(wall)
            peak = sum(map(peak_rss_mib, process_tree(server.pid)))
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
        "sync_every_s": sync_every,
        "cpu_seconds": round(float(used["cores"]) * wall, 2),  # type: ignore[arg-type]
        "cpu_cores": used["cores"],
        "busiest_process_cores": used["busiest_process_cores"],
        "processes": used["processes"],
        "peak_memory_mib_sum_of_processes": round(peak, 1),
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
    parser.add_argument("--b-frames", type=float, default=0.0, help="share of the cameras")
    parser.add_argument("--media-workers", type=int, default=None, metavar="N")
    parser.add_argument("--sync-every", type=float, nargs="+", default=[5.0], metavar="S")
    args = parser.parse_args()
    b_count = round(args.count * args.b_frames)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        cameras = vms_cameras(folder, args.count)  # with sound: both sides record it
        b_frames = GstCamera(folder, [B_FRAMES_MOUNT]).start() if b_count else None
        try:
            streams = _streams(cameras, args.count, b_frames, b_count)
            vigils = [
                _vigil(
                    streams,
                    args.seconds,
                    args.transport,
                    folder / f"sync-{n}",
                    sync_every,
                    args.media_workers,
                )
                for n, sync_every in enumerate(args.sync_every)
            ]
            vigil = vigils[0]
            urls = [url for pair in streams for url in pair]
            ffmpeg = _ffmpeg(urls, args.seconds, args.transport, folder)
        finally:
            cameras.stop()
            if b_frames is not None:
                b_frames.stop()
    print(
        json.dumps(
            {
                "bench": "recording",
                "cameras": args.count,
                "streams": 2 * args.count,
                "seconds": args.seconds,
                "transport": args.transport,
                "media_workers": args.media_workers or os.cpu_count(),
                "b_frame_main_streams": b_count,
                "vigil": vigil,
                **({"vigil_by_sync_every": vigils} if len(vigils) > 1 else {}),
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
