"""A playback session: one clock, one or many cameras (synchronous playback), commands.

Commands: seek, play at a speed (-16x to 16x, not 0), pause, and step a picture forward or
back. A seek, a new speed or direction, and a step back start a new timeline (each camera's
next init says `reset`); pausing, playing on at the same speed and a step forward go on along
the same one.

Gaps: a camera in a gap waits for the clock to reach the end of it, while the others play on;
when every camera still playing is in a gap, the clock jumps to the first of them to resume.

Output goes through one bounded queue to one sender, so a slow client holds the cameras back
rather than letting memory grow.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from vigil.errors import InvalidInput
from vigil.media.archive.cursor import Cursor
from vigil.media.codecs import Codec
from vigil.media.playback.clock import SessionClock
from vigil.media.playback.outputs import Output, State
from vigil.media.playback.track import PlaybackTrack

MAX_SPEED = 16.0
MAX_CAMERAS = 64
STATE_EVERY_S = 1.0
QUEUE_MESSAGES = 256


@dataclass(frozen=True)
class Seek:
    time_ms: int


@dataclass(frozen=True)
class Play:
    speed: float


@dataclass(frozen=True)
class Pause:
    pass


@dataclass(frozen=True)
class Step:
    forward: bool


Command = Seek | Play | Pause | Step


def check_speed(speed: float) -> float:
    if not (-MAX_SPEED <= speed <= MAX_SPEED) or speed == 0:
        raise InvalidInput(
            f"speed: from -{MAX_SPEED:g} to {MAX_SPEED:g}, not 0 (pause instead)", field="speed"
        )
    return speed


class PlaybackSession:
    def __init__(
        self,
        cursors: Sequence[Callable[[], Cursor]],
        codecs: frozenset[Codec],
        now_ms: Callable[[], int],
        time_ms: int,
        speed: float,
    ) -> None:
        self._cursors = list(cursors)  # a new cursor per camera and timeline
        self._codecs = codecs
        self._now_ms = now_ms
        loop = asyncio.get_running_loop()
        self._clock = SessionClock(time_ms, check_speed(speed), loop.time)
        self._queue: asyncio.Queue[Output] = asyncio.Queue(QUEUE_MESSAGES)
        self._tracks: list[PlaybackTrack] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._start = time_ms
        self._failure: asyncio.Future[None] = loop.create_future()

    async def run(self, send: Callable[[Output], Awaitable[None]]) -> None:
        """Sends until cancelled (the client left); raises what a camera's track raised
        (UnsupportedCodec)."""
        sender = asyncio.create_task(self._send_all(send))
        try:
            self._restart(self._start, self._clock.speed, playing=True)
            while True:
                await self._put_state()
                ending = {self._failure, sender}
                done, _ = await asyncio.wait(ending, timeout=STATE_EVERY_S,
                                             return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
                for task in done:
                    task.result()  # raises what failed
        finally:
            # However they end now (a send to a client that left raises), it is over.
            ending_tasks = [*self._tasks, sender]
            for task in ending_tasks:
                task.cancel()
            await asyncio.gather(*ending_tasks, return_exceptions=True)

    async def command(self, command: Command) -> None:
        """Carries out a command; InvalidInput for one out of range (nothing changes)."""
        clock = self._clock
        if isinstance(command, Seek):
            self._check_time(command.time_ms)
            self._restart(command.time_ms, clock.speed, clock.playing)
        elif isinstance(command, Play):
            speed = check_speed(command.speed)
            if speed == clock.speed:
                clock.play()
            else:
                self._restart(round(clock.archive_now()), speed, playing=True)
        elif isinstance(command, Pause):
            self._pause()
        elif command.forward:
            self._step_forward()
        else:
            self._step_back()
        await self._put_state()

    def _pause(self) -> None:
        """Paused on the picture showing, exactly: the state's times are whole milliseconds,
        and a moment between two pictures, rounded, could name the next one (which a step
        forward would then step to again)."""
        clock = self._clock
        clock.pause()
        if self._tracks and clock.speed == 1.0:
            showing = self._tracks[0].showing_on_line(clock.archive_now())
            if showing is not None:
                clock.step_to(showing)

    def _step_forward(self) -> None:
        clock = self._clock
        clock.pause()
        if clock.speed != 1.0:  # frame by frame: every picture, forward
            self._restart(round(clock.archive_now()), 1.0, playing=False)
            return
        if not self._tracks:
            return
        first = self._tracks[0]
        # The client may hold the next picture already (pictures go out ahead of the clock).
        following = first.sent_after(clock.archive_now()) or first.upcoming_ms
        if following is not None:
            clock.step_to(following)

    def _step_back(self) -> None:
        clock = self._clock
        clock.pause()
        now = clock.archive_now()
        showing, before = self._tracks[0].sent_before(now) if self._tracks else (None, None)
        if before is not None and clock.speed == 1.0:
            clock.step_to(before)  # a picture the client holds, on the same timeline
        else:  # the picture before the one showing, from its keyframe
            self._restart((showing if showing is not None else round(now)) - 1, 1.0, False)

    def _check_time(self, time_ms: int) -> None:
        if time_ms > self._now_ms():
            raise InvalidInput("time_ms: not in the future", field="time_ms")

    def _restart(self, time_ms: int, speed: float, playing: bool) -> None:
        for task in self._tasks:
            task.cancel()
        self._clock.restart(time_ms, speed, playing)
        self._tracks = [
            PlaybackTrack(
                n, cursor(), self._clock, self._codecs, self._queue.put, self._gap, time_ms
            )
            for n, cursor in enumerate(self._cursors)
        ]
        self._tasks = [asyncio.create_task(track.run()) for track in self._tracks]
        for task in self._tasks:
            task.add_done_callback(self._failed)

    def _failed(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None and not self._failure.done():
            self._failure.set_exception(task.exception())  # type: ignore[arg-type]

    def _gap(self, track: PlaybackTrack, resume_ms: int) -> None:
        """A camera is in a gap (or has ended): if every camera playing is, jump."""
        playing = [t for t in self._tracks if not t.ended]
        waits = [t.waiting_for for t in playing]
        if not playing or None in waits:
            return
        resumes = [w for w in waits if w is not None]
        sent_until = max(t.media_end for t in self._tracks)
        self._clock.jump(max(resumes) if self._clock.reverse else min(resumes), sent_until)

    async def _put_state(self) -> None:
        clock = self._clock
        await self._queue.put(
            State(round(clock.archive_now()), round(clock.media_now()), clock.speed, clock.playing)
        )

    async def _send_all(self, send: Callable[[Output], Awaitable[None]]) -> None:
        while True:
            await send(await self._queue.get())
