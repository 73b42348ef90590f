"""A camera stream on the air: its loop played at the frame rate, fanned out to clients.

Like a real camera, a stream's clock runs whether anyone watches or not: frame n of its
timeline is due `n / fps` seconds after it went on the air, shows loop frame `n % len(loop)`,
and carries RTP time `base + n * 90000 / fps`, so timestamps rise without a break across loop
turns. Only watched streams cost anything: the `Pacer` wakes for them alone.

A new client starts at the next keyframe. A client that cannot keep up (its send buffer passes
`MAX_BACKLOG`) skips to the next keyframe instead of slowing the stream or the other clients.
"""

import asyncio
import contextlib
import heapq
import logging
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from vigil.media.rtsp.rtp import (
    CLOCK_RATE,
    RtpFrame,
    packetize_nals,
    rtp_header,
    sender_report,
)
from vigil.media.rtsp.server import JoinPoint, Track
from vigil.media.rtsp.transports import Subscriber
from vigil.tasks import cancel_and_wait
from vigil.testcamera.profiles import StreamProfile
from vigil.testcamera.video.band import NEUTRAL, Tint
from vigil.testcamera.video.bitstream import ParameterSets
from vigil.testcamera.video.caption import Caption

logger = logging.getLogger(__name__)

MAX_BACKLOG = 4 * 1024 * 1024
SENDER_REPORT_EVERY_S = 5.0
# After a stall (the process was starved, or a fault), frames older than this are dropped
# rather than sent late in a burst.
MAX_CATCH_UP_S = 1.0
BATCH_S = 0.004


class OnAir(Track, Protocol):
    """A track on the air (video or sound), as the RTSP server and the pacer see it."""

    cname: str

    @property
    def watched(self) -> bool: ...

    def next_due(self) -> float: ...

    def send_due(self, now: float) -> None: ...


class ReportCounter:
    """What a source's RTCP sender reports say: its packets and payload octets so far."""

    def __init__(self, ssrc: int, cname: str) -> None:
        self._ssrc = ssrc
        self._cname = cname
        self._packets = 0
        self._octets = 0

    def count(self, packets: int, octets: int) -> None:
        self._packets += packets
        self._octets += octets

    def report(self, rtp_timestamp: int) -> bytes:
        """A report pairing `rtp_timestamp` with the wall clock now."""
        return sender_report(
            self._ssrc, rtp_timestamp, self._packets, self._octets, self._cname, time.time()
        )


@dataclass(frozen=True)
class Encoded:
    """A stream's loop, ready to send: packetised frames and the parameters SDP announces."""

    profile: StreamProfile
    frames: tuple[RtpFrame, ...]
    parameters: ParameterSets
    # Every frame sent gets a live caption band (clock, frame, name, PTZ; blank without one).
    caption: Caption


class Broadcast:
    """A track's clients, as every track on the air keeps them: sending starts where the
    first client joined, and the pacer is told when someone starts watching."""

    def __init__(self) -> None:
        self._next = 0  # the next frame (video) or packet (sound) of the timeline to send
        # subscriber → yet to start (video: waiting for a keyframe; sound: for its first report)
        self._clients: dict[Subscriber, bool] = {}
        self.on_watched: Callable[[OnAir], None] | None = None

    def add(self, subscriber: Subscriber, join: JoinPoint) -> None:
        """Start sending to `subscriber` from `join` (from `join_point()`, just before)."""
        if not self._clients:
            self._next = join.frame
        self._clients[subscriber] = True
        if len(self._clients) == 1 and self.on_watched is not None:
            self.on_watched(self)  # type: ignore[arg-type]  # subclasses are OnAir

    def remove(self, subscriber: Subscriber) -> None:
        self._clients.pop(subscriber, None)

    @property
    def watched(self) -> bool:
        return bool(self._clients)


class LiveStream(Broadcast):
    def __init__(self, encoded: Encoded, cname: str, clock: Callable[[], float]) -> None:
        super().__init__()
        self.encoded = encoded
        self.cname = cname
        self.ssrc = secrets.randbits(32)
        self._clock = clock
        self._on_air = clock()
        self._timestamp_base = secrets.randbits(32)
        self._seq = secrets.randbits(16)
        self._reports = ReportCounter(self.ssrc, cname)
        self._last_report = -math.inf
        self._stalled_until = -math.inf
        self._corrupt_packets = 0
        # The caption of timeline frame n; set by whoever knows the camera. A loop made for a
        # caption always gets a band (blank without one): its pictures are a band taller.
        self.caption_text: Callable[[int], str] = _no_caption
        self.caption_tint: Tint = NEUTRAL  # the band's colour, the camera's own
        self._caption_shown: str | None = None  # the band of the last frame sent

    @property
    def fps(self) -> int:
        return self.encoded.profile.fps

    def _frame_due_at(self, frame_number: int) -> float:
        return self._on_air + frame_number / self.fps

    def next_due(self) -> float:
        return self._frame_due_at(self._next)

    def rtp_timestamp(self, frame_number: int) -> int:
        return (self._timestamp_base + frame_number * CLOCK_RATE // self.fps) & 0xFFFFFFFF

    def frame_number(self) -> int:
        """The timeline frame on the air now."""
        return int((self._clock() - self._on_air) * self.fps)

    def loop_position(self) -> int:
        """The loop frame on the air now."""
        return self.frame_number() % len(self.encoded.frames)

    def join_point(self) -> JoinPoint:
        """Where a client that starts playing now joins: the next keyframe.

        PLAY's RTP-Info must name the sequence number and RTP time of the first packet the
        client will get, or clients such as ffmpeg wait for the packets "missing" before it.
        """
        frames = self.encoded.frames
        if self.watched:
            frame, seq = self._next, self._seq
            while not frames[frame % len(frames)].keyframe:
                seq += len(frames[frame % len(frames)].payloads)
                frame += 1
        else:  # nothing is sent until the first client's keyframe
            frame, seq = math.ceil((self._clock() - self._on_air) * self.fps), self._seq
            while not frames[frame % len(frames)].keyframe:
                frame += 1
        return JoinPoint(frame, seq & 0xFFFF, self.rtp_timestamp(frame))

    def replace_encoded(self, encoded: Encoded) -> None:
        """Serve another loop from the next frame on (a new resolution or codec setting)."""
        now = self._clock()
        frame = math.ceil((now - self._on_air) * self.fps)
        timestamp = self.rtp_timestamp(frame)
        self.encoded = encoded
        self._caption_shown = None
        # A new timeline starting now, continuing the RTP time where the old one was.
        self._on_air = now
        self._timestamp_base = timestamp
        self._next = 0
        for subscriber in self._clients:
            self._clients[subscriber] = True

    # --- faults on demand -------------------------------------------------------------
    def stall(self, seconds: float) -> None:
        """Send nothing for `seconds`, then go on with the frames of that moment."""
        self._stalled_until = self._clock() + seconds

    def corrupt(self, packets: int) -> None:
        """Garble the payload of the next `packets` RTP packets (headers stay valid)."""
        self._corrupt_packets = packets

    def reset_timestamps(self) -> None:
        """Jump the RTP clock to a random value, as a camera that rebooted its encoder."""
        self._timestamp_base = secrets.randbits(32)

    # --- sending ----------------------------------------------------------------------
    def send_due(self, now: float) -> None:
        """Send every frame due by `now`, skipping those too late to matter."""
        if now < self._stalled_until:
            # Skip the stalled frames; the pacer wakes again when the stall ends.
            self._next = math.ceil((self._stalled_until - self._on_air) * self.fps)
            for subscriber in self._clients:
                self._clients[subscriber] = True
            return
        late_by = now - self.next_due()
        if late_by > MAX_CATCH_UP_S:
            self._next += int(late_by * self.fps)
            for subscriber in self._clients:
                self._clients[subscriber] = True
        while self.next_due() <= now:
            self._send_frame()
        if now - self._last_report >= SENDER_REPORT_EVERY_S:
            self._send_report(now)

    def _send_frame(self) -> None:
        frames = self.encoded.frames
        index = self._next % len(frames)
        frame = frames[index]
        timestamp = self.rtp_timestamp(self._next)
        payloads = frame.payloads
        text = self.caption_text(self._next)
        band = self.encoded.caption.band(
            index, text, None if frame.keyframe else self._caption_shown, self.caption_tint
        )
        self._caption_shown = text
        start = frame.slice_start
        band_payloads = packetize_nals(self.encoded.profile.codec, band)
        payloads = (*payloads[:start], *band_payloads, *payloads[start:])
        self._next += 1
        last = len(payloads) - 1
        packets = []
        octets = 0
        for n, payload in enumerate(payloads):
            if self._corrupt_packets > 0:
                self._corrupt_packets -= 1
                payload = _garbled(payload)
            packets.append(rtp_header(self._seq, timestamp, self.ssrc, n == last) + payload)
            self._seq += 1
            octets += len(payload)
        self._reports.count(len(packets), octets)
        for subscriber, waiting in list(self._clients.items()):
            if subscriber.backlog() > MAX_BACKLOG:
                self._clients[subscriber] = True
                continue
            if waiting:
                if not frame.keyframe:
                    continue
                self._clients[subscriber] = False
                # A sender report ahead of the first frame pairs RTP time with the wall clock,
                # so clients (ffmpeg among them) need not re-base their clock later.
                subscriber.send_report(self._report_now())
            subscriber.send_packets(packets)

    def _send_report(self, now: float) -> None:
        self._last_report = now
        report = self._report_now()
        for subscriber in self._clients:
            subscriber.send_report(report)

    def _report_now(self) -> bytes:
        # The RTP time of this very instant (not of a frame sent a little early or late) with
        # the wall clock: every report must pair them alike, or clients that place tracks by
        # the reports (ffmpeg with sound and video) see time step back and forth.
        return self._reports.report(
            self._timestamp_base + round((self._clock() - self._on_air) * CLOCK_RATE)
        )


def _no_caption(_frame_number: int) -> str:
    return ""


def _garbled(payload: bytes) -> bytes:
    """The payload with its NAL/FU headers kept and the rest of its bytes inverted."""
    keep = 3
    return payload[:keep] + bytes(b ^ 0xFF for b in payload[keep:])


class Pacer:
    """Sends every watched stream's frames (and sound) on time, from one task for all."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._heap: list[tuple[float, int, OnAir]] = []
        self._order = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def watch(self, stream: OnAir) -> None:
        """Start pacing `stream` (it calls this when its first client arrives)."""
        if any(entry[2] is stream for entry in self._heap):
            return
        self._order += 1
        heapq.heappush(self._heap, (stream.next_due(), self._order, stream))
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="rtsp-pacer")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            if not self._heap:
                await self._wake.wait()
                continue
            delay = self._heap[0][0] - self._clock()
            if delay > BATCH_S:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
                continue
            # Everything due within the batch window goes now: a few milliseconds early is
            # harmless, and one wake-up serves many streams.
            horizon = self._clock() + BATCH_S
            while self._heap and self._heap[0][0] <= horizon:
                _, order, stream = self._heap[0]
                if not stream.watched:
                    heapq.heappop(self._heap)
                    continue
                try:
                    stream.send_due(horizon)
                except Exception:
                    logger.exception("sending a frame failed", extra={"stream": stream.cname})
                heapq.heapreplace(self._heap, (stream.next_due(), order, stream))
            await asyncio.sleep(0)
