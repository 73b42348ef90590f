"""A stream's hub in the API process: the frames of the worker's hub, while anyone watches.

Live viewers and RTSP out subscribe here as to any hub. The first subscriber asks the
worker to feed the stream; the last one leaving stops it: a stream nobody watches never
crosses, and one that is watched crosses once, whatever the number of viewers. A feed starts
with the worker's kept GOP; subscribers that come before it is all here wait for it and are
then handed it at once, as a hub in the same process would, so a viewer's first batch holds a
whole GOP with its sound (a live session decides its tracks from it). Frames that come late
from an earlier feed, or twice (the worker's GOP again after a quick stop and start), are
dropped by their times, which rise in a stream.
"""

import asyncio
import contextlib
import math
from collections.abc import Callable

from vigil.media.frames import Frame
from vigil.media.hub import AnyFrame, Consumer, Hub

FEED_WAIT_S = 2.0  # for the worker's kept GOP, when a picture of now is asked for


class MirrorHub(Hub):
    def __init__(self, feed: Callable[[bool, int], None]) -> None:
        """`feed(on, number)` asks the worker to start (or stop) feed `number`."""
        super().__init__()
        self._feed = feed
        self._feeds = 0  # the number of the current feed
        self._fed = asyncio.Event()  # the current feed's kept GOP has come
        self._waiting: list[tuple[Consumer, bool]] = []  # subscribed before it came
        self._last_video_ms = -math.inf
        self._last_sound_ms = -math.inf
        self._wait_for_key = True
        self.told_gop_bytes = 0  # the worker's kept GOP, as last reported
        self.last_frame_s = -math.inf  # when a frame last came (the loop's time)

    @property
    def last_gop_bytes(self) -> int:
        return max(super().last_gop_bytes, self.told_gop_bytes)

    @property
    def consumer_count(self) -> int:
        return super().consumer_count + len(self._waiting)

    def subscribe(self, consumer: Consumer, *, from_last_keyframe: bool = True) -> None:
        first = not self.consumer_count
        if self._fed.is_set():
            super().subscribe(consumer, from_last_keyframe=from_last_keyframe)
        else:
            self._waiting.append((consumer, from_last_keyframe))
        if first:
            self._start_feed()

    def unsubscribe(self, consumer: Consumer) -> None:
        had = self.consumer_count
        super().unsubscribe(consumer)
        self._waiting = [(c, from_key) for c, from_key in self._waiting if c is not consumer]
        if had and not self.consumer_count:
            self._feed(False, self._feeds)
            self._forget()

    def publish(self, frame: AnyFrame) -> None:
        if not self.consumer_count:
            return
        if type(frame) is Frame:
            if self._wait_for_key and not frame.keyframe:
                return
            if frame.time_ms <= self._last_video_ms:
                return
            self._wait_for_key = False
            self._last_video_ms = frame.time_ms
        else:
            if self._wait_for_key or frame.time_ms <= self._last_sound_ms:
                return
            self._last_sound_ms = frame.time_ms
        self.last_frame_s = asyncio.get_running_loop().time()
        super().publish(frame)  # kept in the GOP, and to those already fed

    def fed(self, number: int) -> None:
        """The worker sent its kept GOP for feed `number`: what follows is live."""
        if number != self._feeds or self._fed.is_set():
            return  # the answer to an earlier feed
        self._fed.set()
        waiting, self._waiting = self._waiting, []
        for consumer, from_last_keyframe in waiting:
            super().subscribe(consumer, from_last_keyframe=from_last_keyframe)

    def worker_lost(self) -> None:
        """The worker went away: its frames start again with the next one's feed."""
        self._forget()

    def worker_back(self) -> None:
        """A new worker runs the stream: its watchers are fed again."""
        if self.consumer_count:
            self._start_feed()

    async def gop_now(self) -> tuple[AnyFrame, ...]:
        if self._fed.is_set():
            return self.last_gop

        def keep(frame: AnyFrame) -> None:
            pass  # the hub keeps the GOP; this consumer only holds the feed open

        self.subscribe(keep)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._fed.wait(), FEED_WAIT_S)
            return self.last_gop
        finally:
            self.unsubscribe(keep)

    def _start_feed(self) -> None:
        self._forget()
        self._feeds += 1
        self._feed(True, self._feeds)

    def _forget(self) -> None:
        self.clear()
        self._fed.clear()
        self._wait_for_key = True
        self._last_video_ms = self._last_sound_ms = -math.inf
