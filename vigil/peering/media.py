"""Relayed media between servers: batches of messages in one WebSocket message, on the peer
connection or on a connection of its own that a media worker opens to the relaying server.

A batch is the byte MEDIA, then each message with its length. On the peer connection, that
first byte tells media from document sync (whose messages start with y-protocols' type, 0).
A worker's connection asks for MEDIA_PATH and says first, once it has checked the relaying
server's key, the token that server gave over the peer connection: the token, not a key, is
what the worker holds.

Media leaves a connection at most once per GATHER_S, what came meanwhile in one batch: per
message, the WebSocket and TLS layers on both sides cost more than the frames' bytes. A
message after a quiet window leaves at once, so one relayed stream waits for nothing; with
several, a frame waits up to one picture's time (25 fps) for the others' frames of that time
(docs/design/system.md, Measurements).
"""

import asyncio
import math
import struct
from collections.abc import Callable
from typing import TypeGuard

MEDIA = b"\x80"
MEDIA_PATH = "/media"  # what a media worker's connection asks for
GATHER_S = 0.04
_LENGTH = struct.Struct(">I")


def framed_size(messages: list[bytes]) -> int:
    """What `messages` add to a batch."""
    return sum(_LENGTH.size + len(data) for data in messages)


def is_media(frame: str | bytes) -> TypeGuard[bytes]:
    return isinstance(frame, bytes) and frame[:1] == MEDIA


def unbatched(batch: bytes) -> list[bytes]:
    """The messages of a batch; ValueError if it is broken."""
    found, at = [], len(MEDIA)
    while at < len(batch):
        if at + _LENGTH.size > len(batch):
            raise ValueError("a media batch cut inside a length")
        (size,) = _LENGTH.unpack_from(batch, at)
        at += _LENGTH.size
        if at + size > len(batch):
            raise ValueError("a media batch shorter than its lengths say")
        found.append(batch[at : at + size])
        at += size
    return found


class Gathering:
    """One connection's media on its way into batches: `ready(batch)` gets each, at most
    once per GATHER_S, and at once after a quiet window."""

    def __init__(self, ready: Callable[[bytes], None]) -> None:
        self._ready = ready
        self._parts: list[bytes] = [MEDIA]
        self._sending: asyncio.TimerHandle | None = None
        self._sent_at = -math.inf  # the loop's time
        self.size = 0  # of what is gathered, not handed on yet

    def add(self, messages: list[bytes]) -> None:
        """`messages` in order, and in one batch."""
        for data in messages:
            self._parts += (_LENGTH.pack(len(data)), data)
        self.size += framed_size(messages)
        if self._sending is not None:
            return
        loop = asyncio.get_running_loop()
        wait_s = self._sent_at + GATHER_S - loop.time()
        if wait_s <= 0:
            self._hand_on()
        else:
            self._sending = loop.call_later(wait_s, self._hand_on)

    def cancel(self) -> None:
        """What is gathered is dropped (the connection ended)."""
        if self._sending is not None:
            self._sending.cancel()
            self._sending = None
        self._parts = [MEDIA]
        self.size = 0

    def _hand_on(self) -> None:
        self._sending = None
        self._sent_at = asyncio.get_running_loop().time()
        batch = b"".join(self._parts)
        self._parts = [MEDIA]
        self.size = 0
        self._ready(batch)
