"""Free loopback ports for the servers and cameras tests start.

They are taken below the kernel's ephemeral range: a port from within it (what binding port 0
gives) may be handed to some process's outgoing connection between the probe and the child
process binding it, and on a busy machine with many tests connecting that happens. A port is
free when probed, but only taken when the child process binds it, a second or so later: so
each pytest-xdist worker draws from its own share of the range (two workers never pick the
same port in that window), and a process never hands out a port twice within a while.
"""

import os
import random
import socket
import time
from pathlib import Path

LOWEST = 10_000
REUSE_AFTER_S = 120.0
_handed_out: dict[int, float] = {}  # port → when this process last handed it out


def _ephemeral_low() -> int:
    """The first port of the kernel's ephemeral range (Linux's default when unreadable)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def free_port_block(count: int = 1) -> int:
    """The first of `count` consecutive TCP ports that are free on loopback right now, below
    the ephemeral range; chosen at random, so that test workers rarely pick the same."""
    lowest, highest = _share(LOWEST, _ephemeral_low() - count)
    now = time.monotonic()
    for _ in range(100):
        first = random.randint(lowest, highest)
        if any(now - _handed_out.get(p, -REUSE_AFTER_S) < REUSE_AFTER_S
               for p in range(first, first + count)):  # fmt: skip
            continue
        held: list[socket.socket] = []
        try:
            for port in range(first, first + count):
                sock = socket.socket()
                held.append(sock)
                sock.bind(("127.0.0.1", port))
            for port in range(first, first + count):
                _handed_out[port] = now
            return first
        except OSError:
            continue
        finally:
            for sock in held:
                sock.close()
    raise RuntimeError(f"no block of {count} free ports found")


def free_port() -> int:
    """A TCP port free on loopback right now, below the ephemeral range."""
    return free_port_block(1)


def _share(lowest: int, highest: int) -> tuple[int, int]:
    """This test worker's part of [lowest, highest]: all of it outside pytest-xdist."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if not worker.startswith("gw") or workers < 2:
        return lowest, highest
    size = (highest - lowest) // workers
    start = lowest + int(worker[2:]) * size
    return start, start + size - 1
