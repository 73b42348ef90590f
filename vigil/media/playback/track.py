"""One camera of a playback session, along one timeline: recorded frames out as fMP4 fragments,
each when the session clock says it is due.

Forward at under 4x, every picture goes, with its sound at 1x; at 4x and above, and in
reverse, only keyframes (one per recorded fragment). A timeline starts at the keyframe the
sought frame depends on: the pictures before the sought one go out at once, squeezed into
the last milliseconds before the clock's `START_MS` (decoded, barely shown), so the sought
picture is on screen at once even while paused.

A picture is held until the next one is read, which gives its duration; it goes out when due.
"""

from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from vigil.media import mp4, mse
from vigil.media.archive.cursor import Cursor, Gap
from vigil.media.archive.reader import Chunk
from vigil.media.codecs import Codec
from vigil.media.frames import AudioConfig, AudioFrame, Frame, StreamConfig
from vigil.media.live import UnsupportedCodec
from vigil.media.playback.clock import START_MS, SessionClock
from vigil.media.playback.outputs import End, Fragment, GapOut, Output, TrackInit

FAST = 4.0  # from this speed on, keyframes only
MAX_PREROLL = 1_000  # pictures before the sought one (a GOP of 40 s at 25 fps)
FIRST_FRAME_MS = 40  # how long a picture lasts when nothing follows it
SENT_KEPT = 256  # the last pictures sent: a step to one of them sends nothing again

Send = Callable[[Output], Awaitable[None]]
GapHandler = Callable[["PlaybackTrack", int], None]


@dataclass(frozen=True)
class _Tracks:
    video: StreamConfig
    audio: AudioConfig | None


class PlaybackTrack:
    def __init__(
        self,
        index: int,
        cursor: Cursor,
        clock: SessionClock,
        codecs: frozenset[Codec],
        send: Send,
        on_gap: GapHandler,
        target_ms: int,
    ) -> None:
        self.index = index
        self._target_ms = target_ms
        self._cursor = cursor
        self._clock = clock
        self._codecs = codecs
        self._send = send
        self._on_gap = on_gap
        self.upcoming_ms: int | None = None  # the next picture, not yet sent (for a step)
        # The last pictures sent, for steps: archive time, and whether it is on the clock's
        # line (the pictures before the one sought are squeezed in before it).
        self._sent: deque[tuple[int, bool]] = deque(maxlen=SENT_KEPT)
        self.waiting_for: int | None = None  # in a gap: archive time where it resumes
        self.ended = False
        self.media_end = 0  # where the last fragment sent ends on the media line
        self._tracks: _Tracks | None = None
        self._reset = True  # the first init of a timeline
        self._sequence = 0
        self._interval = FIRST_FRAME_MS
        self._sound: deque[AudioFrame] = deque()
        self._with_sound = clock.speed == 1.0
        self._all_pictures = not clock.reverse and abs(clock.speed) < FAST
        self._squeezed: deque[int] = deque()
        self._squeezed_shown: dict[int, int] = {}  # a squeezed picture's id: where it shows

    async def run(self) -> None:
        """Along the clock's timeline from the target, until the archive ends."""
        target_ms = self._target_ms
        fast = not self._all_pictures
        if await self._cursor.seek(target_ms) is None:
            return await self._end(target_ms)
        items = self._items(fast)
        head = [] if fast else await self._preroll(items, target_ms)
        preroll = [f for c in head if isinstance(c, Chunk) for f in c.frames
                   if f.time_ms < target_ms]  # fmt: skip
        self._squeezed = _squeezed(len(preroll))
        # Those of them that show by the target take the last places, in the order they show
        # (with B-frames not the order they come), so the one showing at the target is last.
        shown = sorted((f for f in preroll if f.presentation_ms <= target_ms),
                       key=lambda f: f.presentation_ms)  # fmt: skip
        places = list(self._squeezed)[len(self._squeezed) - len(shown) :]
        self._squeezed_shown = {id(f): place for f, place in zip(shown, places, strict=True)}
        held: tuple[Frame, AudioConfig | None] | None = None
        async for item in _chain(head, items):
            if isinstance(item, Gap):
                if held is not None:
                    await self._out(*held, None)
                    held = None
                await self._gap(item)
                continue
            if self._with_sound:
                self._sound.extend(item.sound)
            for frame in item.frames:
                if held is not None:
                    await self._out(*held, frame.time_ms)
                held = (frame, item.audio)
                self.upcoming_ms = frame.time_ms
        if held is not None:
            await self._out(*held, None)
        self.upcoming_ms = None
        return await self._end(self._sent[-1][0] if self._sent else target_ms)

    def sent_after(self, time_ms: float) -> int | None:
        """The first picture sent after `time_ms` (the client holds it)."""
        return min((t for t, _ in self._sent if t > time_ms), default=None)

    def sent_before(self, time_ms: float) -> tuple[int | None, int | None]:
        """The picture showing at `time_ms` and, if the client holds it on the clock's line,
        the one sent before it."""
        earlier = self._sent_until(time_ms)
        if not earlier:
            return None, None
        showing = earlier[-1][0]
        before = earlier[-2] if len(earlier) > 1 else None
        return showing, before[0] if before is not None and before[1] else None

    def showing_on_line(self, time_ms: float) -> int | None:
        """The picture showing at `time_ms` if it shows on the clock's line (those before the
        time sought are squeezed in ahead of it)."""
        earlier = self._sent_until(time_ms)
        return earlier[-1][0] if earlier and earlier[-1][1] else None

    def _sent_until(self, time_ms: float) -> list[tuple[int, bool]]:
        return sorted((t, on_line) for t, on_line in self._sent if t <= time_ms)

    async def _items(self, fast: bool) -> AsyncIterator[Chunk | Gap]:
        while True:
            item = await (self._cursor.previous() if self._clock.reverse
                          else self._cursor.next(keyframes_only=fast))  # fmt: skip
            if item is None:
                return
            yield item

    async def _preroll(
        self, items: AsyncIterator[Chunk | Gap], target_ms: int
    ) -> list[Chunk | Gap]:
        """The chunks up to the one holding the sought picture."""
        head: list[Chunk | Gap] = []
        count = 0
        async for item in items:
            head.append(item)
            if isinstance(item, Gap) or item.frames[-1].time_ms >= target_ms:
                break
            count += len(item.frames)
            if count >= MAX_PREROLL:
                break
        return head

    async def _out(self, frame: Frame, audio: AudioConfig | None, next_ms: int | None) -> None:
        clock = self._clock
        squeezed = self._squeezed
        before_target = bool(squeezed)
        if before_target:
            start = squeezed.popleft()
            if squeezed:
                end = squeezed[0]
            else:  # the picture showing at the target: until the next one is due
                end = START_MS if next_ms is None else max(START_MS, round(clock.media_of(next_ms)))
        else:
            await clock.wait_due(frame.time_ms)
            start = max(0, round(clock.media_of(frame.time_ms)))
            if next_ms is not None:
                self._interval = max(1, abs(next_ms - frame.time_ms))
                end = round(clock.media_of(next_ms))
            else:
                end = round(clock.media_of(frame.time_ms + self._interval * _sign(clock.speed)))
        if frame.keyframe:
            wanted = _Tracks(frame.config, audio if self._with_sound else None)
            if wanted != self._tracks:
                await self._start_tracks(wanted)
        elif self._tracks is None or frame.config != self._tracks.video:
            return  # not decodable without its keyframe
        sound = self._sound_until(next_ms) if self._with_sound else []
        if before_target:
            sound = []  # heard before the time sought
        self._sequence += 1
        # B-frames show in another order than they decode: forward, with every picture sent,
        # the offset moves with the media line; keyframes on their own (fast, reverse) show
        # in the order they come.
        offset = 0
        if before_target:
            # One that shows after the target (a picture B-frames need) shows on the line.
            shown = self._squeezed_shown.get(id(frame))
            offset = (shown if shown is not None
                      else round(clock.media_of(frame.presentation_ms))) - start  # fmt: skip
        elif frame.offset_ms and self._all_pictures:
            offset = round(clock.media_of(frame.presentation_ms)) - start
        timed = Frame(start, frame.keyframe, frame.nals, frame.config, frame.size, offset)
        end = max(end, start + 1)
        fragment = mp4.fragment(self._sequence, [timed], end, 0, sound)
        self.media_end = max(self.media_end, end)
        self.waiting_for = None
        # Steps go by the time each picture shows at (presentation order, with B-frames).
        self._sent.append((frame.presentation_ms if offset else frame.time_ms, not before_target))
        await self._send(Fragment(self.index, fragment.data))

    def _sound_until(self, next_ms: int | None) -> list[AudioFrame]:
        """The sound heard until the next picture (all that is left, at the last), timed on
        the media line (1x: the same milliseconds, moved)."""
        clock, sound, taken = self._clock, self._sound, []
        while sound and (next_ms is None or sound[0].time_ms < next_ms):
            frame = sound.popleft()
            if self._tracks is not None and frame.config == self._tracks.audio:
                media_ms = round(clock.media_of(frame.time_ms))
                taken.append(AudioFrame(media_ms, frame.data, frame.config))
        return taken

    async def _start_tracks(self, tracks: _Tracks) -> None:
        video = tracks.video
        if video.codec not in self._codecs:
            raise UnsupportedCodec(
                f"camera {self.index}'s recording is {video.codec.upper()}, which this client "
                "does not play; recordings are not transcoded",
                codec=video.codec,
            )
        self._tracks = tracks
        segment = mp4.init_segment(video, tracks.audio)
        mime = mse.mime_type(video, tracks.audio)
        reset, self._reset = self._reset, False
        await self._send(TrackInit(self.index, mime, video.width, video.height, segment, reset))

    async def _gap(self, gap: Gap) -> None:
        await self._send(GapOut(self.index, gap.from_ms, gap.to_ms))
        resume = gap.from_ms if self._clock.reverse else gap.to_ms
        self.waiting_for = resume
        self._sound.clear()
        self._on_gap(self, resume)

    async def _end(self, time_ms: int) -> None:
        self.ended = True
        self.waiting_for = None
        self._on_gap(self, time_ms)  # the others may be waiting for this one
        await self._send(End(self.index, time_ms))


def _squeezed(count: int) -> deque[int]:
    """Media times for `count` pictures before START_MS: a millisecond each, closer when
    there are more of them than milliseconds."""
    if count <= START_MS:
        return deque(range(START_MS - count, START_MS))
    return deque(n * START_MS // count for n in range(count))


def _sign(value: float) -> int:
    return -1 if value < 0 else 1


async def _chain(
    head: list[Chunk | Gap], rest: AsyncIterator[Chunk | Gap]
) -> AsyncIterator[Chunk | Gap]:
    for item in head:
        yield item
    async for item in rest:
        yield item
