"""Where an RTSP feed's frames come from: the stream's hub (live) or its archive.

Both give frames on the session's timeline: milliseconds since its first picture, which is a
keyframe. Live frames go out as they come, starting with the hub's last GOP (the first
picture at once); the archive is paced at real time from the time asked for (what lies
between the keyframe before it and it goes at once, to decode from), across files, and at a
gap it skips ahead: the timeline goes on one frame interval after the last picture.
"""

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable

from vigil.media.archive.cursor import Cursor, Gap
from vigil.media.archive.reader import Chunk
from vigil.media.frames import AudioFrame, Frame, LatestShown
from vigil.media.hub import AnyFrame, FrameQueue, Hub, viewer_queue
from vigil.media.live import CHECK_S, FIRST_FRAME_MS, StreamNow
from vigil.media.rtsp.feed import Tracks
from vigil.media.rtsp.messages import Response

# At the end of what is recorded, how often to look whether more has been written since.
ARCHIVE_POLL_S = 0.5


class LiveSource:
    npt_range = "now-"

    def __init__(self, look: Callable[[], StreamNow]) -> None:
        self._look = look
        self._origin_ms: int | None = None

    async def seek(self, offset_ms: int) -> bool:
        return False

    def start_session_ms(self) -> int | None:
        return None

    async def tracks(self) -> Tracks | Response:
        now = self._look()
        if now.gone is not None:
            return Response(404)
        gop = await now.hub.gop_now() if now.hub is not None else ()
        now = self._look()  # again: a relayed stream learns of its sound as its feed starts
        if not now.online or not gop or type(gop[0]) is not Frame:
            return Response(503)  # offline, or no keyframe yet: nothing to describe
        # The camera's word for the sound, not the GOP's frames: a GOP may not have any yet,
        # and DESCRIBE and SETUP must agree on the tracks.
        return Tracks(gop[0].config, now.audio)

    async def frames(self) -> AsyncGenerator[tuple[int, AnyFrame], None]:
        """Until the stream is no longer served here; follows a hub that is replaced."""
        loop = asyncio.get_running_loop()
        hub: Hub | None = None
        queue: FrameQueue | None = None
        try:
            while (now := self._look()).gone is None:
                if now.hub is not hub:
                    if hub is not None and queue is not None:
                        hub.unsubscribe(queue)
                    hub, queue = now.hub, viewer_queue(now.hub) if now.hub else None
                if queue is None:
                    await asyncio.sleep(CHECK_S)
                    continue
                deadline = loop.time() + CHECK_S
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout_at(deadline):
                        while True:
                            frame = await queue.get()
                            if self._origin_ms is None:
                                self._origin_ms = frame.time_ms  # a queue starts at a keyframe
                            yield frame.time_ms - self._origin_ms, frame
        finally:
            if hub is not None and queue is not None:
                hub.unsubscribe(queue)


class ArchiveSource:
    npt_range = "0-"  # from the time asked for

    def __init__(self, cursor: Cursor, start_ms: int) -> None:
        self._cursor = cursor
        self._asked_ms = start_ms  # the presentation's start: PLAY's npt counts from it
        self._start_ms = start_ms  # where playing (and pacing) starts
        self._ahead: list[Chunk] = []  # read to describe, not yet sent
        self._origin_ms: int | None = None
        self._skipped_ms = 0  # of gaps left out of the timeline
        self._last_picture_ms: int | None = None
        self._shown = LatestShown()  # on the session's time
        self._interval_ms = FIRST_FRAME_MS
        self._after_gap = False
        self._anchor: float | None = None  # the loop's time at the timeline's 0, once paced

    async def tracks(self) -> Tracks | Response:
        if not self._ahead:
            if await self._cursor.seek(self._start_ms) is None:
                return Response(404)  # nothing recorded at or after the time asked for
            chunk = await self._next_chunk()
            if chunk is None:
                return Response(404)
            self._ahead.append(chunk)
        first = self._ahead[0]
        return Tracks(first.frames[0].config, first.sound[0].config if first.sound else None)

    async def _next_chunk(self) -> Chunk | None:
        """The next chunk with pictures (None at the end of the archive), noting gaps."""
        while (item := await self._cursor.next()) is not None:
            if isinstance(item, Gap):
                self._after_gap = True
            elif item.frames:
                return item
        return None

    async def seek(self, offset_ms: int) -> bool:
        start_ms = self._asked_ms + offset_ms
        if start_ms == self._start_ms and self._origin_ms is None and self._ahead:
            return True  # there already (described), and nothing sent yet
        self._start_ms, self._ahead = start_ms, []
        # The timeline goes on from the last picture sent, as after a gap.
        self._after_gap = self._last_picture_ms is not None
        if await self._cursor.seek(start_ms) is not None:
            chunk = await self._next_chunk()
            if chunk is not None:
                self._ahead.append(chunk)
        return True

    def start_session_ms(self) -> int | None:
        """Where the time playing starts from (asked for, or sought) falls on the session's
        timeline: PLAY's RTP-Info pairs it with the Range's start. None when not known (no
        chunk read ahead)."""
        if not self._ahead:
            return None
        first = self._ahead[0].frames[0]
        origin, last = self._origin_ms, self._last_picture_ms
        if origin is None or last is None:
            first_session_ms = 0
        elif self._after_gap:
            first_session_ms = self._resumed_ms(first, last, origin)
        else:
            first_session_ms = first.time_ms - origin - self._skipped_ms
        return first_session_ms + self._start_ms - first.time_ms

    async def frames(self) -> AsyncGenerator[tuple[int, AnyFrame], None]:
        loop = asyncio.get_running_loop()
        self._anchor = None  # after a PAUSE, on at real time from where it stopped
        while True:
            chunk = self._ahead.pop(0) if self._ahead else await self._next_chunk()
            if chunk is None:  # the end, for now: the stream may still be recording
                await asyncio.sleep(ARCHIVE_POLL_S)
                continue
            # Pictures before sound of the same instant: a session starts with a picture.
            ordered: list[AnyFrame] = sorted(
                [*chunk.frames, *chunk.sound], key=lambda f: (f.time_ms, type(f) is AudioFrame)
            )
            for frame in ordered:
                session_ms = self._place(frame)
                if session_ms is None:
                    continue
                if frame.time_ms >= self._start_ms:
                    if self._anchor is None:
                        self._anchor = loop.time() - session_ms / 1000
                    delay = self._anchor + session_ms / 1000 - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                yield session_ms, frame

    def _place(self, frame: AnyFrame) -> int | None:
        """`frame`'s time on the session's timeline; None for sound with no picture yet to
        place it by (at the start, or after a gap)."""
        if not isinstance(frame, Frame):
            if self._origin_ms is None or self._after_gap:
                return None
            return frame.time_ms - self._origin_ms - self._skipped_ms
        if self._origin_ms is None:
            self._origin_ms = frame.time_ms
        origin = self._origin_ms
        last = self._last_picture_ms
        if last is not None and self._after_gap:
            self._skipped_ms = frame.time_ms - origin - self._resumed_ms(frame, last, origin)
        elif last is not None and frame.time_ms > last:
            self._interval_ms = frame.time_ms - last
        self._after_gap = False
        self._last_picture_ms = frame.time_ms
        self._shown.note(frame.presentation_ms - origin - self._skipped_ms)
        return frame.time_ms - origin - self._skipped_ms

    def _resumed_ms(self, first: Frame, last_ms: int, origin_ms: int) -> int:
        """The session time of `first`, the first picture after a gap left out."""
        ended_ms = last_ms - origin_ms - self._skipped_ms + self._interval_ms
        return self._shown.resumed_at(first, ended_ms, self._interval_ms)
