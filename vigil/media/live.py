"""A live viewer: one stream's frames, from its hub, as fMP4 for Media Source Extensions.

The session subscribes a bounded `FrameQueue` to the stream's hub, which first hands it the
last GOP: the viewer's first picture is the hub's last keyframe, at once. What is taken from
the queue at once goes out at once, as one fragment (with the sound heard since the one
before): the GOP at the start is one append for the player rather than one per picture (64
tiles starting together are 64 appends, not 1,600), and a picture that comes alone is its own
fragment, so nothing waits for the next frame. The last picture of a fragment lasts as long as
the interval before it; within a batch each lasts until the next. Times are the server
clock's, counted from the session's first picture.

What goes out, in order (`Output`): an `Init` (MIME type and init segment) before the first
fragment and again whenever the tracks change at a keyframe (another resolution or codec, or
sound starting or stopping); `Status` when the stream goes offline and when it is back; the
fragments. After anything that breaks the chain of pictures (offline, a queue that
overflowed, a gap in the stream) the next fragment starts at a keyframe.

The session looks at the stream (`StreamNow`) every `CHECK_S`: it follows a hub that was
replaced (the camera's address changed), says when the stream is offline, and ends when the
stream is gone (camera deleted, disabled, moved to another server).

Memory per viewer is bounded: by the queue (which skips to the next keyframe past its bound)
and by the sender, which does not take from the queue while the transport pushes back.
"""

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from vigil.errors import VigilError
from vigil.media import mp4, mse
from vigil.media.codecs import Codec
from vigil.media.frames import AudioConfig, AudioFrame, Frame, StreamConfig
from vigil.media.hub import AnyFrame, FrameQueue, Hub, viewer_queue

CHECK_S = 1.0
# The ingest waits at least a second before connecting again: a longer gap between pictures
# (and more than two intervals, for cameras slower than 1 fps) may be a new connection, whose
# first picture need not be a keyframe.
BREAK_MS = 1_000
SOUND_GAP_MS = 3_000  # no sound for this long: the next init segment has no audio track
MAX_SOUND_FRAMES = 200  # sound held while no picture goes out (seconds of it)
FIRST_FRAME_MS = 40  # how long a first picture lasts when nothing says otherwise


class UnsupportedCodec(VigilError):
    """The stream's codec is not one the client said it plays (there is no transcoding)."""

    code = "unsupported_codec"


@dataclass(frozen=True)
class StreamNow:
    """A stream as the media service sees it at one moment."""

    hub: Hub | None  # None while no ingest runs for it
    online: bool
    reason: str  # why it is not online
    gone: str | None  # why it is no longer served here (deleted, disabled…): the session ends
    audio: AudioConfig | None = None  # the sound the camera announced, if any


@dataclass(frozen=True)
class Init:
    mime: str  # `video/mp4; codecs="…"`
    width: int
    height: int
    segment: bytes  # ftyp + moov


@dataclass(frozen=True)
class Status:
    online: bool
    reason: str


Output = Init | Status | bytes  # bytes: one fragment (moof + mdat)
Send = Callable[[Output], Awaitable[None]]


@dataclass(frozen=True)
class _Tracks:
    video: StreamConfig
    audio: AudioConfig | None


class LiveSession:
    def __init__(self, look: Callable[[], StreamNow], codecs: Iterable[Codec]) -> None:
        self._look = look
        self._codecs = frozenset(codecs)
        self._hub: Hub | None = None
        self._queue: FrameQueue | None = None
        self._tracks: _Tracks | None = None
        self._origin_ms: int | None = None
        self._sequence = 0
        self._need_key = True
        self._last_picture_ms: int | None = None
        self._interval_ms = FIRST_FRAME_MS
        self._sound: list[AudioFrame] = []  # for the next fragment
        self._run: list[Frame] = []  # pictures of the batch for the next fragment
        self._last_sound: AudioFrame | None = None
        self._silent_ms = 0  # of pictures passed on since the last sound
        self._said_online = True

    async def run(self, send: Send) -> str:
        """Until the stream is gone; returns why. Raises UnsupportedCodec for a stream the
        client cannot play. However it ends, the hub is left."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                now = self._look()
                if now.gone is not None:
                    return now.gone
                self._follow(now.hub)
                if not now.online:
                    self._need_key = True
                    if self._said_online:
                        self._said_online = False
                        await send(Status(False, now.reason))
                await self._pump(send, loop.time() + CHECK_S)
        finally:
            self._follow(None)

    def _follow(self, hub: Hub | None) -> None:
        if hub is self._hub:
            return
        if self._hub is not None and self._queue is not None:
            self._hub.unsubscribe(self._queue)
        self._hub, self._queue = hub, None
        self._need_key = True
        if hub is not None:
            self._queue = viewer_queue(hub)

    async def _pump(self, send: Send, deadline: float) -> None:
        """Send what comes until `deadline`."""
        queue = self._queue
        if queue is None:
            await asyncio.sleep(max(0.0, deadline - asyncio.get_running_loop().time()))
            return
        while True:
            frames = queue.take_all()
            if not frames:
                try:
                    async with asyncio.timeout_at(deadline):
                        first = await queue.get()
                    # With what came beside it: a GOP handed over at once (a mirror hub's,
                    # when its worker's feed starts) is one batch, its sound included.
                    frames = [first, *queue.take_all()]
                except TimeoutError:
                    return
            await self._send_all(frames, send)
            if asyncio.get_running_loop().time() >= deadline:
                return

    async def _send_all(self, frames: list[AnyFrame], send: Send) -> None:
        """A batch: its pictures that go out together as one fragment (a GOP handed over at
        once is one append for the player, not one per picture), split where something else
        goes out between them or the chain of pictures breaks."""
        sounds = [frame for frame in frames if type(frame) is AudioFrame]
        ahead = sounds[-1] if sounds else None
        for frame in frames:
            if type(frame) is AudioFrame:
                self._hear(frame)
            elif type(frame) is Frame:
                await self._take_picture(frame, ahead, send)
        if self._run:
            await self._flush(self._run[-1].time_ms + self._interval_ms, send)

    def _hear(self, frame: AudioFrame) -> None:
        self._last_sound = frame
        self._silent_ms = 0
        tracks = self._tracks
        if tracks is not None and frame.config == tracks.audio:
            self._sound.append(frame)
            del self._sound[:-MAX_SOUND_FRAMES]

    async def _take_picture(self, frame: Frame, ahead: AudioFrame | None, send: Send) -> None:
        """Adds the picture to the fragment being made, or sends that fragment first (ending
        where this picture starts) when the picture cannot follow it."""
        self._note_interval(frame.time_ms)
        tracks = self._tracks
        if self._need_key and not frame.keyframe:
            await self._flush(frame.time_ms, send)
            self._sound.clear()  # the sound of a picture not shown goes with it
            return
        if frame.keyframe:
            wanted = _Tracks(frame.config, self._sound_config(ahead))
            if wanted != tracks:
                await self._flush(frame.time_ms, send)
                await self._start_tracks(wanted, send)
            self._need_key = False
        elif tracks is None or frame.config != tracks.video:
            self._need_key = True  # new parameter sets take effect at a keyframe
            await self._flush(frame.time_ms, send)
            return
        if not self._said_online:
            self._said_online = True
            await self._flush(frame.time_ms, send)
            await send(Status(True, ""))
        if self._origin_ms is None:
            self._origin_ms = frame.time_ms
        self._run.append(frame)

    async def _flush(self, end_ms: int, send: Send) -> None:
        """Sends the pictures taken since the last fragment, the last lasting until `end_ms`,
        with the sound heard meanwhile."""
        run, self._run = self._run, []
        if not run or self._origin_ms is None:
            return
        sound, self._sound = self._sound, []
        self._sequence += 1
        fragment = mp4.fragment(self._sequence, run, max(end_ms, run[-1].time_ms + 1),
                                self._origin_ms, sound)  # fmt: skip
        await send(fragment.data)

    def _note_interval(self, time_ms: int) -> None:
        last, self._last_picture_ms = self._last_picture_ms, time_ms
        if last is None:
            return
        gap = time_ms - last
        if gap >= BREAK_MS and gap > 2 * self._interval_ms:
            self._need_key = True  # and what was lost is no sign of silence
        elif gap > 0:
            self._interval_ms = gap
            self._silent_ms += gap

    def _sound_config(self, ahead: AudioFrame | None) -> AudioConfig | None:
        """The stream's sound now: what is about to be heard (in this batch), else what was
        last heard, unless the pictures since have gone on long enough without any (pictures
        skipped or lost do not count: their sound went with them)."""
        if ahead is not None:
            return ahead.config
        last = self._last_sound
        return last.config if last is not None and self._silent_ms <= SOUND_GAP_MS else None

    async def _start_tracks(self, tracks: _Tracks, send: Send) -> None:
        video = tracks.video
        if video.codec not in self._codecs:
            accepted = ", ".join(sorted(self._codecs))
            raise UnsupportedCodec(
                f"the camera sends {video.codec.upper()}, which this client does not play "
                f"(it said: {accepted}); live video is not transcoded",
                codec=video.codec,
            )
        self._tracks = tracks
        self._sound = [f for f in self._sound if f.config == tracks.audio]
        init = mp4.init_segment(video, tracks.audio)
        await send(Init(mse.mime_type(video, tracks.audio), video.width, video.height, init))
