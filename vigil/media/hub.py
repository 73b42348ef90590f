"""One stream's frames, fanned out from its single ingest to every consumer.

The hub carries the stream's video frames and, when the camera sends sound, its audio frames,
in the order they arrive (each on the server's clock; sound may run a little ahead of or
behind the picture). It keeps the frames since the last keyframe, with the sound of that span
(bounded: a GOP past `MAX_GOP_BYTES` is not kept), so a new consumer starts with a whole
picture at once. Consumers are called synchronously on
the event loop and must not block: each one buffers for itself and, if it falls behind, skips
to a keyframe without holding up the ingest or the others (`FrameQueue`).
"""

import asyncio
from collections import deque
from collections.abc import Callable

from vigil.media.frames import AudioFrame, Frame

AnyFrame = Frame | AudioFrame
Consumer = Callable[[AnyFrame], None]

# What is kept of the last GOP, at most: a minute of 25 fps video with 48 kHz sound, and 32 MiB
# (a minute at 4 Mbit/s). A longer GOP is not kept at all (part of one would not decode): its
# viewers start at the next keyframe, late but whole.
MAX_GOP_FRAMES = 4500
MAX_GOP_BYTES = 32 * 1024 * 1024
# A viewer's queue holds twice the hub's last GOP (the burst it starts with, and as much
# again), within these bounds.
MIN_QUEUE_BYTES = 1024 * 1024
MAX_QUEUE_BYTES = 16 * 1024 * 1024


class Hub:
    def __init__(self) -> None:
        self._gop: list[AnyFrame] = []
        self._gop_bytes = 0
        self._consumers: list[Consumer] = []

    @property
    def last_gop(self) -> tuple[AnyFrame, ...]:
        return tuple(self._gop)

    @property
    def last_gop_bytes(self) -> int:
        return self._gop_bytes

    async def gop_now(self) -> tuple[AnyFrame, ...]:
        """The kept GOP, for a look at the stream now without following it (a hub fed from
        another process fetches it first)."""
        return self.last_gop

    @property
    def consumer_count(self) -> int:
        return len(self._consumers)

    def publish(self, frame: AnyFrame) -> None:
        if type(frame) is Frame and frame.keyframe:
            # Sound that came ahead of this picture belongs to its span.
            start = frame.time_ms
            ahead = [f for f in self._gop if type(f) is AudioFrame and f.time_ms >= start]
            self._gop = [frame, *ahead]
            self._gop_bytes = sum(map(frame_size, self._gop))
        elif self._gop:
            self._gop_bytes += frame_size(frame)
            if len(self._gop) < MAX_GOP_FRAMES and self._gop_bytes <= MAX_GOP_BYTES:
                self._gop.append(frame)
            else:
                self.clear()
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
        self._gop_bytes = 0


def frame_size(frame: AnyFrame) -> int:
    return frame.size if isinstance(frame, Frame) else len(frame.data)


class FrameQueue:
    """A consumer's buffer, bounded in bytes: past the bound it drops frames up to the next
    keyframe (counted in `skipped`), so a slow reader loses pictures, never memory. The sound
    of what is dropped goes with it: what is kept starts with a picture, and plays in step."""

    def __init__(self, max_bytes: int) -> None:
        self._frames: deque[AnyFrame] = deque()
        self._bytes = 0
        self._max_bytes = max_bytes
        self._waiting_for_key = True
        self._ready = asyncio.Event()
        self.skipped = 0

    def __call__(self, frame: AnyFrame) -> None:
        key = type(frame) is Frame and frame.keyframe
        if self._waiting_for_key and not key:
            self.skipped += 1
            return
        size = frame_size(frame)
        if self._bytes + size > self._max_bytes:
            self.skipped += 1 + len(self._frames)
            self._frames.clear()
            self._bytes = 0
            self._waiting_for_key = not key
            if self._waiting_for_key:
                return
        self._waiting_for_key = False
        self._frames.append(frame)
        self._bytes += size
        self._ready.set()

    async def get(self) -> AnyFrame:
        while not self._frames:
            self._ready.clear()
            await self._ready.wait()
        frame = self._frames.popleft()
        self._bytes -= frame_size(frame)
        return frame

    def take_all(self) -> list[AnyFrame]:
        frames = list(self._frames)
        self._frames.clear()
        self._bytes = 0
        return frames


def viewer_queue(hub: Hub) -> FrameQueue:
    """A new viewer's queue, subscribed to `hub` from its last keyframe."""
    queue = FrameQueue(min(MAX_QUEUE_BYTES, max(MIN_QUEUE_BYTES, 2 * hub.last_gop_bytes)))
    hub.subscribe(queue)
    return queue
