"""What it costs to move a server's media from one process to another: the choice under media
worker processes (a worker's frames crossing once per stream to the process that serves
viewers).

One process sends, another receives, the frames of N cameras (a 1080p25 4 Mbit/s main and a
360p15 512 kbit/s sub stream each: 40 frames a second a camera), paced in 10 ms ticks, for a
number of seconds, by each way:
- `socket`: a Unix stream socket, each frame behind a 16-byte header (stream, time, size),
  a tick's frames in one `sendmsg`; the receiver reads into one buffer and cuts the frames
  out as views.
- `shared_memory`: a ring in `multiprocessing.shared_memory`, the frames copied in, a tick's
  headers sent over a pipe; the receiver takes views of the ring.
- `none`: the sender making the same frames and sending nothing (what the pacing costs).
Prints one JSON object: CPU seconds of each side per way, and cores at that rate.

Run: `python -m bench.crossing [--cameras 128] [--seconds 10]`.
"""

import argparse
import json
import multiprocessing
import os
import socket
import struct
import time
from multiprocessing.connection import Connection
from multiprocessing.shared_memory import SharedMemory

TICK_S = 0.01
HEADER = struct.Struct(">IQI")  # stream, time in ms, size
MAIN_BYTES, MAIN_FPS = 20_000, 25
SUB_BYTES, SUB_FPS = 4_300, 15
RING_BYTES = 64 * 1024 * 1024


def _frames_per_tick(cameras: int, ticks: int) -> list[list[tuple[int, int]]]:
    """(stream, size) of the frames due in each tick, spread evenly over the streams."""
    due: list[list[tuple[int, int]]] = [[] for _ in range(ticks)]
    for camera in range(cameras):
        for stream, fps, size in ((2 * camera, MAIN_FPS, MAIN_BYTES),
                                  (2 * camera + 1, SUB_FPS, SUB_BYTES)):  # fmt: skip
            step = 1 / fps / TICK_S
            offset = (camera * 7919) % max(1, int(step))
            n = float(offset)
            while n < ticks:
                due[int(n)].append((stream, size))
                n += step
    return due


def _cpu() -> float:
    times = os.times()
    return times.user + times.system


def _pace(tick: int, started: float) -> None:
    delay = started + (tick + 1) * TICK_S - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def _send(way: str, cameras: int, seconds: float, link: object, ring_name: str,
          result: Connection) -> None:  # fmt: skip
    ticks = int(seconds / TICK_S)
    due = _frames_per_tick(cameras, ticks)
    payload = memoryview(os.urandom(MAIN_BYTES))  # frames as views: no copy before the crossing
    ring = SharedMemory(name=ring_name) if way == "shared_memory" else None
    position = 0
    cpu, started = _cpu(), time.monotonic()
    for tick in range(ticks):
        frames = due[tick]
        if isinstance(link, socket.socket):
            parts = []
            for stream, size in frames:
                parts += (HEADER.pack(stream, tick * 10, size), payload[:size])
            link.sendmsg(parts)
        elif ring is not None and isinstance(link, Connection):
            headers = []
            for stream, size in frames:
                if position + size > RING_BYTES:
                    position = 0
                ring.buf[position : position + size] = payload[:size]
                headers.append(HEADER.pack(stream, position, size))
                position += size
            link.send_bytes(b"".join(headers))
        _pace(tick, started)
    result.send(_cpu() - cpu)
    if isinstance(link, socket.socket):
        link.close()
    elif isinstance(link, Connection):
        link.send_bytes(b"")
    if ring is not None:
        ring.close()


def _receive(link: object, ring_name: str, result: Connection) -> None:
    cpu = _cpu()
    frames = 0
    if isinstance(link, socket.socket):
        buffer = bytearray(4 * 1024 * 1024)
        view = memoryview(buffer)
        kept = 0
        while got := link.recv_into(view[kept:]):
            size, at = kept + got, 0
            while at + HEADER.size <= size:
                _, _, length = HEADER.unpack_from(buffer, at)
                if at + HEADER.size + length > size:
                    break
                frame = view[at + HEADER.size : at + HEADER.size + length]
                frame.release()  # handed on, in a server; here only cut out
                at += HEADER.size + length
                frames += 1
            view[: size - at] = view[at:size]
            kept = size - at
    elif isinstance(link, Connection):
        ring = SharedMemory(name=ring_name)
        while headers := link.recv_bytes():
            for at in range(0, len(headers), HEADER.size):
                _, position, length = HEADER.unpack_from(headers, at)
                frame = ring.buf[position : position + length]
                frame.release()
                frames += 1
        ring.close()
    result.send((_cpu() - cpu, frames))


def _measure(way: str, cameras: int, seconds: float) -> dict[str, float]:
    context = multiprocessing.get_context("spawn")
    ring = SharedMemory(create=True, size=RING_BYTES) if way == "shared_memory" else None
    ring_name = ring.name if ring is not None else ""
    links: tuple[object, object] = (None, None)
    if way == "socket":
        links = socket.socketpair()
    elif way == "shared_memory":
        links = context.Pipe()
    sent, sent_result = context.Pipe(duplex=False)
    got, got_result = context.Pipe(duplex=False)
    sending = (way, cameras, seconds, links[0], ring_name, sent_result)
    processes = [context.Process(target=_send, args=sending)]
    if way != "none":
        processes.append(context.Process(target=_receive, args=(links[1], ring_name, got_result)))
    for process in processes:
        process.start()
    for link in links:
        if isinstance(link, socket.socket):
            link.close()  # the children have their own
    sender_cpu = sent.recv()
    receiver_cpu, frames = got.recv() if way != "none" else (0.0, 0)
    for process in processes:
        process.join()
    if ring is not None:
        ring.close()
        ring.unlink()
    return {
        "sender_cpu_seconds": round(sender_cpu, 3),
        "receiver_cpu_seconds": round(receiver_cpu, 3),
        "sender_cores": round(sender_cpu / seconds, 4),
        "receiver_cores": round(receiver_cpu / seconds, 4),
        "frames": frames,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cameras", type=int, default=128)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    rate = args.cameras * (MAIN_BYTES * MAIN_FPS + SUB_BYTES * SUB_FPS)
    ways = {way: _measure(way, args.cameras, args.seconds)
            for way in ("none", "socket", "shared_memory")}  # fmt: skip
    print(json.dumps({"bench": "crossing", "cameras": args.cameras, "seconds": args.seconds,
                      "megabytes_a_second": round(rate / 1e6, 1), "ways": ways},
                     indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
