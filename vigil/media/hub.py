"""One stream's frames, fanned out from its single ingest to every consumer.

The hub keeps the frames since the last keyframe, so a new consumer starts with a whole
picture at once. Consumers are called synchronously on the event loop and must not block:
each one buffers for itself and, if it falls behind, skips to a keyframe without holding up
the ingest or the others (`FrameQueue`).
"""

import asyncio
from collections import deque
from collections.abc import Callable

from vigil.media.frames import Frame

Consumer = Callable[[Frame], None]

MAX_GOP_FRAMES = 1500  # a minute at 25 fps: cameras with longer GOPs start late, not never


class Hub:
    def __init__(self) -> None:
        self._gop: list[Frame] = []
        self._consumers: list[Consumer] = []

    @property
    def last_gop(self) -> tuple[Frame, ...]:
        return tuple(self._gop)

    def publish(self, frame: Frame) -> None:
        if frame.keyframe:
            self._gop = [frame]
        elif self._gop and len(self._gop) < MAX_GOP_FRAMES:
            self._gop.append(frame)
        for consumer in self._consumers:
            consumer(frame)

    def subscribe(self, consumer: Consumer, *, from_last_keyframe: bool = True) -> None:
        if from_last_keyframe:
            for frame in self._gop:
                consumer(frame)
        self._consumers.append(consumer)

    def unsubscribe(self, consumer: Consumer) -> None:
        if consumer in self._consumers:
            self._consumers.remove(consumer)

    def clear(self) -> None:
        """The stream broke off: what is kept no longer leads to the next frame."""
        self._gop = []


class FrameQueue:
    """A consumer's buffer, bounded in bytes: past the bound it drops frames up to the next
    keyframe (counted in `skipped`), so a slow reader loses pictures, never memory."""

    def __init__(self, max_bytes: int) -> None:
        self._frames: deque[Frame] = deque()
        self._bytes = 0
        self._max_bytes = max_bytes
        self._waiting_for_key = True
        self._ready = asyncio.Event()
        self.skipped = 0

    def __call__(self, frame: Frame) -> None:
        if self._waiting_for_key and not frame.keyframe:
            self.skipped += 1
            return
        if self._bytes + frame.size > self._max_bytes:
            self.skipped += 1 + len(self._frames)
            self._frames.clear()
            self._bytes = 0
            self._waiting_for_key = not frame.keyframe
            if self._waiting_for_key:
                return
        self._waiting_for_key = False
        self._frames.append(frame)
        self._bytes += frame.size
        self._ready.set()

    async def get(self) -> Frame:
        while not self._frames:
            self._ready.clear()
            await self._ready.wait()
        frame = self._frames.popleft()
        self._bytes -= frame.size
        return frame

    def take_all(self) -> list[Frame]:
        frames = list(self._frames)
        self._frames.clear()
        self._bytes = 0
        return frames
