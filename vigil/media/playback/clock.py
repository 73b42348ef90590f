"""The clock of a playback session: which archive time is showing now, and when each recorded
frame is due on the client's timeline.

Two times: archive time (the server clock's milliseconds when the frame was recorded) and
media time (the client's timeline: the milliseconds of the fMP4 the session sends, which the
client plays at normal rate). The clock maps one onto the other by a line through an anchor
with the session's speed: at 2x two archive seconds go by per media second; in reverse, media
time still grows while archive time falls. Media time stands still while paused. Every tile
of a synchronous session takes its frames' media times from this one line, so every tile
shows the same instant.

A new timeline (`restart`: after a seek, a change of speed or direction) starts at `START_MS`
of media time: the frames before the one sought (from the keyframe it depends on) go in the
milliseconds before it.
"""

import asyncio
from collections.abc import Callable

START_MS = 250
LEAD_MS = 200  # frames go out this much media time before they are due: the client's buffer


class SessionClock:
    def __init__(self, time_ms: int, speed: float, now: Callable[[], float]) -> None:
        self._now = now  # seconds, monotonic
        self._speed = speed
        self._playing = False
        self._anchor_archive = float(time_ms)
        self._anchor_media = float(START_MS)
        self._anchor_wall = now()
        self._changed = asyncio.Event()
        self.timeline = 0  # counts restarts: a frame belongs to the timeline it was timed on

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def reverse(self) -> bool:
        return self._speed < 0

    def media_now(self) -> float:
        if not self._playing:
            return self._anchor_media
        return self._anchor_media + (self._now() - self._anchor_wall) * 1000

    def archive_now(self) -> float:
        return self._anchor_archive + (self.media_now() - self._anchor_media) * self._speed

    def media_of(self, time_ms: float) -> float:
        """The media time at which the frame recorded at `time_ms` shows."""
        return self._anchor_media + (time_ms - self._anchor_archive) / self._speed

    def wait_s(self, time_ms: float) -> float | None:
        """How long until the frame of `time_ms` should go out: 0 now, None not while paused."""
        ahead = self.media_of(time_ms) - self.media_now()
        if not self._playing:
            return 0.0 if ahead <= 0.5 else None  # the paused picture itself goes out
        return max(0.0, (ahead - LEAD_MS) / 1000)

    async def wait_due(self, time_ms: float) -> None:
        while (wait := self.wait_s(time_ms)) != 0.0:
            self._changed.clear()
            try:
                async with asyncio.timeout(wait):
                    await self._changed.wait()
            except TimeoutError:
                pass

    def restart(self, time_ms: int, speed: float, playing: bool) -> None:
        """A new timeline: `time_ms` shows at media time START_MS."""
        self._speed, self._playing = speed, playing
        self._anchor_archive, self._anchor_media = float(time_ms), float(START_MS)
        self._anchor_wall = self._now()
        self.timeline += 1
        self._changed.set()

    def pause(self) -> None:
        if self._playing:
            self._reanchor()
            self._playing = False
            self._changed.set()

    def play(self) -> None:
        if not self._playing:
            self._anchor_wall = self._now()
            self._playing = True
            self._changed.set()

    def step_to(self, time_ms: int) -> None:
        """Paused, move on to the frame of `time_ms` (on the same line: no new timeline)."""
        self._anchor_media = self.media_of(time_ms)
        self._anchor_archive = float(time_ms)
        self._changed.set()

    def jump(self, time_ms: int, media_ms: float) -> None:
        """Skip a gap every tile is in: archive time jumps to `time_ms`, which shows at
        `media_ms` (or now, if later): after what was sent ahead, so media time only grows."""
        self._reanchor()
        self._anchor_archive = float(time_ms)
        self._anchor_media = max(self._anchor_media, media_ms)
        self._changed.set()

    def _reanchor(self) -> None:
        media = self.media_now()
        self._anchor_archive = self._anchor_archive + (media - self._anchor_media) * self._speed
        self._anchor_media = media
        self._anchor_wall = self._now()
