"""A camera's RTP times onto the server's clock: the picture by arrival, the sound in step.

Video: RTP time is the camera's, 32 bits, and may wrap, jump or restart. Frames are put on the
server's clock instead: the first frame after (re)connecting is anchored to the server's time
of arrival and later ones advance by the RTP time elapsed; when that strays more than
`MAX_DRIFT_MS` from the server's clock (a camera clock jump or reset), the stream is anchored
again: at the time of arrival, or one frame interval after the latest time given if that is
later (frames placed by a camera's clock may run ahead of the server's), so that no picture
shows at or before one given already. So is a keyframe that would show at or before a picture
that came before it: an encoder that started again. RTP times are presentation times, which
B-frames take out of order; decode times, which only rise, are made from them as
`decode_order.py` says.

Sound: its RTP time has its own start and rate, so nothing in the packets says which video
time it goes with; the tracks' RTCP sender reports do (each pairs an RTP time with the
camera's wall clock). A sound frame's time is its wall-clock instant by the sound's report,
taken to video RTP time by the video's report and onto the server's clock by the video's
timeline: sound and picture line up as the camera captured them, whatever the network did.
Until both reports have come, sound is held back (`MAX_HOLD_MS`); a camera that sends none
by then has its sound placed by arrival, as video is, and by reports once they come.
"""

from collections import deque
from collections.abc import Callable, Mapping

from vigil.clock import Clock
from vigil.media.aac import AudioUnit
from vigil.media.decode_order import DecodeOrder
from vigil.media.frames import AudioConfig
from vigil.media.rtsp.rtcp import SenderReport, TrackKind

MAX_DRIFT_MS = 5_000
# Cameras report every 5 s or so (RFC 3550's usual minimum interval), most the first within it.
MAX_HOLD_MS = 5_000


def _signed(step: int) -> int:
    """A difference of 32-bit RTP times as the shorter way round."""
    step &= 0xFFFFFFFF
    return step - (1 << 32) if step >= 1 << 31 else step


class RtpTimeline:
    """RTP time → server time, by arrival, per the module's docstring, for frames that come
    in the order they play (sound)."""

    def __init__(self, clock: Clock, clock_rate: int) -> None:
        self._clock = clock
        self._rate = clock_rate
        self._anchored = False
        self._anchor_rtp = self._anchor_ms = 0  # an extended RTP time and its server ms
        self._last_rtp = 0
        self._extended = 0
        self._last_ms = 0
        self._latest_ms = 0  # the latest time placed

    def time_of(self, rtp_timestamp: int) -> int:
        time_ms = max(self._place(rtp_timestamp), self._last_ms + 1)
        self._last_ms = time_ms
        return time_ms

    def _place(self, rtp_timestamp: int) -> int:
        """Server ms of `rtp_timestamp`, anchoring the timeline first or again (a jump)."""
        now = self._clock.now_ms()
        if not self._anchored:
            self._anchored = True
            self._extended = self._anchor_rtp = rtp_timestamp
            self._anchor_ms = now
        else:
            self._extended += _signed(rtp_timestamp - self._last_rtp)
        self._last_rtp = rtp_timestamp
        time_ms = self._ms_of(self._extended)
        if abs(time_ms - now) > MAX_DRIFT_MS:
            time_ms = self._anchor_after(now)
        self._latest_ms = max(self._latest_ms, time_ms)
        return time_ms

    def _anchor_after(self, time_ms: int) -> int:
        """Anchor the timeline anew: the current RTP time at `time_ms`, or a frame interval
        after the latest time given if that is later."""
        self._anchor_rtp = self._extended
        self._anchor_ms = self._latest_ms = max(time_ms, self._latest_ms + self._anchored_again())
        return self._anchor_ms

    def _ms_of(self, extended: int) -> int:
        return self._anchor_ms + (extended - self._anchor_rtp) * 1000 // self._rate

    def _anchored_again(self) -> int:
        """Called when a jump of the camera's clock made the timeline anchor anew; the ms
        to leave after the latest time given."""
        return 1

    def server_us_of(self, rtp_timestamp: int) -> int | None:
        """Where the timeline puts `rtp_timestamp` as it stands (µs; None before the first
        frame), without taking it as a frame's."""
        if not self._anchored:
            return None
        extended = self._extended + _signed(rtp_timestamp - self._last_rtp)
        return self._anchor_ms * 1000 + (extended - self._anchor_rtp) * 1_000_000 // self._rate


class PictureTimeline(RtpTimeline):
    """For video, whose RTP times are presentation times that B-frames take out of order:
    each picture's decode time (rising) and presentation time on the server's clock."""

    def __init__(self, clock: Clock, clock_rate: int) -> None:
        super().__init__(clock, clock_rate)
        self._order = DecodeOrder()

    def times_of(self, rtp_timestamp: int, keyframe: bool) -> tuple[int, int]:
        """(decode ms, presentation ms) of a picture, taken in the order pictures come."""
        shown_ms = self._latest_ms
        presentation_ms = self._place(rtp_timestamp)
        if keyframe and presentation_ms <= shown_ms:
            # A keyframe shows after every picture that came before it, open group or not:
            # one that would not comes from an encoder that started again (a camera's
            # settings changed, or it was too busy), and its pictures go after those shown.
            presentation_ms = self._anchor_after(presentation_ms)
        decode = self._order.decode_time(self._extended, keyframe)
        decode_ms = max(self._ms_of(decode), self._last_ms + 1)
        self._last_ms = decode_ms
        return decode_ms, presentation_ms

    def _anchored_again(self) -> int:
        interval_ms = self._order.interval() * 1000 // self._rate
        self._order = DecodeOrder()
        return max(1, interval_ms)


class SoundTimeline:
    """Sound access units → (server ms, unit) to `deliver`, per the module's docstring."""

    def __init__(
        self,
        video: RtpTimeline,
        reports: Mapping[TrackKind, SenderReport],
        clock: Clock,
        config: AudioConfig,
        deliver: Callable[[int, AudioUnit], None],
    ) -> None:
        """`reports`: the latest sender report of each track, as they come."""
        self._video = video
        self._reports = reports
        self._clock = clock
        self._rate = config.sample_rate
        self._frame_ms = config.frame_samples * 1000 // config.sample_rate
        self._deliver = deliver
        self._by_arrival = RtpTimeline(clock, config.sample_rate)
        # Reports found to disagree with the server's clock, not to be used again.
        self._distrusted: tuple[SenderReport, SenderReport] | None = None
        self._held: deque[AudioUnit] = deque()
        self._held_since_ms = 0
        self._last_ms: int | None = None  # of the last frame delivered
        self.dropped = 0  # frames not delivered: held too long, or placed before the last

    def push(self, unit: AudioUnit) -> None:
        time_ms = self._by_reports(unit.rtp_timestamp)
        if time_ms is None:
            if self._last_ms is None and self._hold(unit):
                return
            time_ms = self._by_arrival.time_of(unit.rtp_timestamp)
        elif self._held:
            self._release_held()
        self._give(time_ms, unit)

    def _release_held(self) -> None:
        """The reports have come: what was held goes first, placed by them."""
        while self._held:
            unit = self._held.popleft()
            time_ms = self._by_reports(unit.rtp_timestamp)
            if time_ms is None:
                self.dropped += 1  # too far from the server's clock to place
            else:
                self._give(time_ms, unit)

    def _by_reports(self, rtp_timestamp: int) -> int | None:
        video, sound = self._reports.get("video"), self._reports.get("audio")
        if video is None or sound is None:
            return None
        distrusted = self._distrusted
        if distrusted is not None and (video is distrusted[0] or sound is distrusted[1]):
            return None
        video_us = self._video.server_us_of(video.rtp_timestamp)
        if video_us is None:
            return None  # no picture yet to line up with
        step_us = _signed(rtp_timestamp - sound.rtp_timestamp) * 1_000_000 // self._rate
        time_ms = (video_us + sound.wall_us + step_us - video.wall_us) // 1000
        if abs(time_ms - self._clock.now_ms()) > MAX_DRIFT_MS:
            # A report from before a camera clock jump (the video timeline was anchored
            # again): by arrival until new ones of both tracks come.
            self._distrusted = (video, sound)
            return None
        return time_ms

    def _hold(self, unit: AudioUnit) -> bool:
        """Keep `unit` until the reports come; False (and what was held dropped) once they
        have been waited for long enough."""
        now = self._clock.now_ms()
        if not self._held:
            self._held_since_ms = now
        elif now - self._held_since_ms > MAX_HOLD_MS:
            self.dropped += len(self._held)
            self._held.clear()
            return False
        self._held.append(unit)
        return True

    def _give(self, time_ms: int, unit: AudioUnit) -> None:
        last = self._last_ms
        if last is not None and time_ms < last + self._frame_ms // 2:
            self.dropped += 1  # the reports moved sound back: no frame plays twice
            return
        self._last_ms = time_ms
        self._deliver(time_ms, unit)
