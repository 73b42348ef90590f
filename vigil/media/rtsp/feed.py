"""One RTSP client session's video (and sound) from the Vigil server: a `Mount` of its own.

A feed takes frames from a `Source` (live from the stream's hub, or from the archive) on a
timeline of the session's own: milliseconds from its first picture, gaps in the archive left
out. It packetises each frame as it passes (`rtp`) with RTP times from that timeline, and
sends them to the session's subscribers (TCP interleaved or UDP). Each track's first packet
comes after a sender report that pairs its RTP time with the frame's time on the server's
clock, so clients learn when (in UTC) what they see happened.

The sending runs as one task from the first PLAY of a track to its PAUSE or the session's
end, owned by the RTSP service (`spawn`). A client that cannot keep up (its unsent bytes pass
`MAX_BACKLOG`) skips to the next keyframe.
"""

import asyncio
import contextlib
import secrets
from collections.abc import AsyncGenerator, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from vigil.media.codecs import is_parameter_set
from vigil.media.frames import AudioConfig, AudioFrame, Frame, StreamConfig
from vigil.media.hub import AnyFrame
from vigil.media.rtsp import rtp
from vigil.media.rtsp.describe import AudioTrack, VideoTrack, describe
from vigil.media.rtsp.messages import Response
from vigil.media.rtsp.server import JoinPoint
from vigil.media.rtsp.transports import Subscriber

MAX_BACKLOG = 4 * 1024 * 1024
SENDER_REPORT_EVERY_MS = 5_000

Spawn = Callable[[Coroutine[Any, Any, None]], "asyncio.Task[None]"]


@dataclass(frozen=True)
class Tracks:
    """What a source sends, as DESCRIBE announces it."""

    video: StreamConfig
    audio: AudioConfig | None


class Source(Protocol):
    npt_range: str  # what SDP says of the presentation's range: `now-` (live), `0-`

    async def tracks(self) -> Tracks | Response:
        """What the source will send, or why it has nothing (404, 503…)."""

    def frames(self) -> AsyncGenerator[tuple[int, AnyFrame], None]:
        """The frames to send, in order, each with its time on the session's timeline (ms),
        when they are due: a paced source sleeps until then."""

    async def seek(self, offset_ms: int) -> bool:
        """Let the next `frames` start `offset_ms` after the presentation's start; False for
        a source that cannot (live)."""

    def start_session_ms(self) -> int | None:
        """Where the presentation's start (or the point sought) falls on the session's
        timeline, if known."""


class _Sender:
    """One track's RTP header sequence, timeline and sender reports."""

    def __init__(self, clock_rate: int) -> None:
        self.ssrc = secrets.randbits(32)
        self.clock_rate = clock_rate
        self.seq = secrets.randbits(16)
        self.base = secrets.randbits(32)
        self.subscribers: list[Subscriber] = []
        self.packets = 0
        self.octets = 0
        self.last_timestamp: int | None = None
        self.last_report_ms: int | None = None  # on the session's timeline; None: none yet

    def timestamp(self, session_ms: int) -> int:
        return self.base + session_ms * self.clock_rate // 1000

    def report(self, session_ms: int, wall_ms: int) -> None:
        """A sender report pairing the RTP time of `session_ms` with `wall_ms`."""
        report = rtp.sender_report(
            self.ssrc, self.timestamp(session_ms), self.packets, self.octets, "vigil",
            wall_ms / 1000,
        )  # fmt: skip
        for subscriber in self.subscribers:
            subscriber.send_report(report)

    def send(self, payloads: list[bytes], timestamp: int, payload_type: int) -> None:
        """`payloads` of one frame at RTP time `timestamp`; the last carries the marker bit."""
        last = len(payloads) - 1
        packets = []
        for n, payload in enumerate(payloads):
            header = rtp.rtp_header(self.seq, timestamp, self.ssrc, n == last, payload_type)
            packets.append(header + payload)
            self.seq = (self.seq + 1) & 0xFFFF
            self.octets += len(payload)
        self.packets += len(packets)
        self.last_timestamp = timestamp
        for subscriber in self.subscribers:
            subscriber.send_packets(packets)

    def backlog(self) -> int:
        return max((s.backlog() for s in self.subscribers), default=0)


class Feed:
    """A session's mount: track 0 the video, track 1 the sound (when the source has any)."""

    def __init__(
        self, source: Source, title: str, spawn: Spawn, on_end: Callable[["Feed"], object]
    ) -> None:
        self._source = source
        self._title = title
        self._spawn = spawn
        self._on_end = on_end  # the source has no more: the session ends
        self._tracks: Tracks | None = None
        self._video = _Sender(rtp.CLOCK_RATE)
        self._audio: _Sender | None = None
        self._task: asyncio.Task[None] | None = None
        self._need_key = True
        # The server's clock at the timeline's 0, for sender reports.
        self._wall_origin_ms: int | None = None
        self._run_start_ms: int | None = None  # where the current run of sending starts

    async def describe(self, host: str, session_tag: int) -> Response:
        tracks = await self.prepare()
        if isinstance(tracks, Response):
            return tracks
        video = tracks.video
        sdp = describe(
            self._title,
            host,
            session_tag,
            VideoTrack(video.codec, video.parameter_sets, video.width, video.height),
            _audio_track(tracks.audio),
            self._source.npt_range,
        )
        return Response(200, [("Content-Type", "application/sdp")], sdp.encode())

    async def prepare(self) -> Tracks | Response:
        """Learn the source's tracks (once): SETUP needs to know which there are."""
        if self._tracks is None:
            tracks = await self._source.tracks()
            if isinstance(tracks, Response):
                return tracks
            self._tracks = tracks
            if tracks.audio is not None:
                self._audio = _Sender(tracks.audio.sample_rate)
        return self._tracks

    async def seek(self, npt_s: float) -> float | None:
        return npt_s if await self._source.seek(round(npt_s * 1000)) else None

    def start_session_ms(self) -> int | None:
        return self._source.start_session_ms()

    def track(self, index: int) -> "FeedTrack | None":
        if index == 0:
            return FeedTrack(self, self._video)
        if index == 1 and self._audio is not None:
            return FeedTrack(self, self._audio)
        return None

    # --- called by its tracks -----------------------------------------------------------
    def started(self) -> None:
        if self._task is None or self._task.done():
            self._need_key = True
            self._task = self._spawn(self._run())

    def stopped(self) -> None:
        senders = [self._video, *([self._audio] if self._audio else [])]
        if not any(sender.subscribers for sender in senders) and self._task is not None:
            self._task.cancel()  # the service's task set awaits it
            self._task = None

    # --- sending ------------------------------------------------------------------------
    async def _run(self) -> None:
        self._run_start_ms = self._source.start_session_ms()
        for sender in (self._video, self._audio):
            if sender is not None:
                sender.last_report_ms = None
        async with contextlib.aclosing(self._source.frames()) as frames:
            async for session_ms, frame in frames:
                if type(frame) is Frame:
                    self._send_picture(session_ms, frame)
                elif type(frame) is AudioFrame:
                    self._send_sound(session_ms, frame)
        self._on_end(self)

    def _send_picture(self, session_ms: int, frame: Frame) -> None:
        tracks = self._tracks
        if tracks is None or frame.config.codec != tracks.video.codec:
            return  # another codec than announced: nothing the client could decode
        if self._video.backlog() > MAX_BACKLOG:
            self._need_key = True
        if self._need_key and not frame.keyframe:
            return
        self._need_key = False
        nals = frame.nals
        codec = frame.config.codec
        if frame.keyframe and not any(is_parameter_set(codec, nal) for nal in nals):
            # In band too, for clients that ignore the SDP's, and after a resolution change.
            nals = (*frame.config.parameter_sets, *nals)
        payloads = list(rtp.packetize_units(codec, nals).payloads)
        if self._wall_origin_ms is None:
            self._wall_origin_ms = frame.time_ms - session_ms
        self._report_if_due(self._video, session_ms, self._wall_origin_ms)
        # RTP carries when a picture shows, not when it decodes (they differ for B-frames).
        timestamp = self._video.timestamp(session_ms + frame.offset_ms)
        self._video.send(payloads, timestamp, rtp.PAYLOAD_TYPE)

    def _send_sound(self, session_ms: int, frame: AudioFrame) -> None:
        audio, tracks = self._audio, self._tracks
        if audio is None or tracks is None or frame.config != tracks.audio:
            return
        wall_origin_ms = self._wall_origin_ms
        if self._need_key or wall_origin_ms is None or session_ms < 0:
            return  # no sound ahead of the first picture
        if audio.backlog() > MAX_BACKLOG:
            return
        timestamp = audio.timestamp(session_ms)
        follows = audio.last_timestamp
        if follows is not None and abs(timestamp - follows - frame.config.frame_samples) < (
            frame.config.frame_samples // 2
        ):
            # Right after the one before: exactly one frame later, not the server clock's
            # rounding of it.
            timestamp = follows + frame.config.frame_samples
        self._report_if_due(audio, session_ms, wall_origin_ms)
        audio.send([rtp.aac_payload([frame.data])], timestamp, rtp.AAC_PAYLOAD_TYPE)

    def _report_if_due(self, sender: _Sender, session_ms: int, wall_origin_ms: int) -> None:
        """A sender report before a run's first packet and every SENDER_REPORT_EVERY_MS.

        Its times run on the session's timeline (the server's clock, less the gaps the
        archive skips), or clients would put the gaps back. The first of a run is of where
        playing starts, as PLAY's RTP-Info is: ffmpeg places what it gets by the report."""
        last = sender.last_report_ms
        if last is not None and session_ms - last < SENDER_REPORT_EVERY_MS:
            return
        at_ms = (
            self._run_start_ms if last is None and self._run_start_ms is not None else session_ms
        )
        sender.report(at_ms, wall_origin_ms + at_ms)
        sender.last_report_ms = session_ms


class FeedTrack:
    """One track of a feed, as the RTSP server sees it."""

    def __init__(self, feed: Feed, sender: _Sender) -> None:
        self._feed = feed
        self._sender = sender
        self.ssrc = sender.ssrc

    def join_point(self) -> JoinPoint:
        """The next sequence number, and the RTP time of where playing starts (RFC 2326
        §12.33: of the Range's start), as far as it is known: where the archive starts, or
        the first picture (0 on the timeline) or where the last left off."""
        sender = self._sender
        start_ms = self._feed.start_session_ms()
        if start_ms is not None:
            timestamp = sender.timestamp(start_ms)
        elif sender.last_timestamp is not None:
            timestamp = sender.last_timestamp
        else:
            timestamp = sender.base
        return JoinPoint(0, sender.seq, timestamp & 0xFFFFFFFF)

    def add(self, subscriber: Subscriber, join: JoinPoint) -> None:
        self._sender.subscribers.append(subscriber)
        self._feed.started()

    def remove(self, subscriber: Subscriber) -> None:
        if subscriber in self._sender.subscribers:
            self._sender.subscribers.remove(subscriber)
        self._feed.stopped()


def _audio_track(config: AudioConfig | None) -> AudioTrack | None:
    if config is None:
        return None
    return AudioTrack(config.sample_rate, config.channels, config.specific_config)
