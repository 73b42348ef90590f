"""Free loopback ports for the servers and cameras tests start.

They are taken below the kernel's ephemeral range: a port from within it (what binding port 0
gives) may be handed to some process's outgoing connection between the probe and the child
process binding it, and on a busy machine with many tests connecting that happens.
"""

import random
import socket
from pathlib import Path

LOWEST = 10_000


def _ephemeral_low() -> int:
    """The first port of the kernel's ephemeral range (Linux's default when unreadable)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def free_port_block(count: int = 1) -> int:
    """The first of `count` consecutive TCP ports that are free on loopback right now, below
    the ephemeral range; chosen at random, so that test workers rarely pick the same."""
    highest = _ephemeral_low() - count
    for _ in range(100):
        first = random.randint(LOWEST, highest)
        held: list[socket.socket] = []
        try:
            for port in range(first, first + count):
                sock = socket.socket()
                held.append(sock)
                sock.bind(("127.0.0.1", port))
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
