"""Between a stream's hub and its recorder: what the camera's recording settings let through.

Always, never, by a weekly schedule, or around events. For events the last `pre_event_s`
seconds are kept in memory, whole GOPs from a keyframe, so that when an event starts the
recording begins before it; it goes on until `post_event_s` after the event ends. When
recording stops the recorder's file is ended at once, so the timeline shows the pause.

Runs for every frame of every stream: the schedule is read at most once a minute.
"""

import math
from collections import deque

from vigil.cameras.recording import RecordingSettings, next_minute_ms
from vigil.media.frames import Frame
from vigil.media.hub import AnyFrame
from vigil.media.recorder import Recorder

# Per stream, whatever pre_event_s says: 30 s of a 4 Mbit/s stream. Released at once, it
# must also fit in what a recorder may have waiting to be written.
MAX_PRE_EVENT_BYTES = 16 * 1024 * 1024


class RecordingGate:
    def __init__(self, stream: str, recorder: Recorder, settings: RecordingSettings) -> None:
        self._stream = stream
        self._recorder = recorder
        self._settings = settings
        self._mode: str = "off"
        self._mode_until_ms = -1  # the schedule is read again from then on
        self._event_until_ms = -math.inf  # recording for events goes on until then
        self._held: deque[list[AnyFrame]] = deque()  # GOPs (and their sound) for the next event
        self._held_bytes = 0
        self.recording = False

    @property
    def settings(self) -> RecordingSettings:
        return self._settings

    @settings.setter
    def settings(self, settings: RecordingSettings) -> None:
        self._settings = settings
        self._mode_until_ms = -1

    def event(self, active: bool, now_ms: int) -> None:
        """An event of the camera began (active) or ended."""
        if active:
            self._event_until_ms = math.inf
        elif self._event_until_ms == math.inf:
            self._event_until_ms = now_ms + self._settings.post_event_s * 1000

    def __call__(self, frame: AnyFrame) -> None:
        """A frame from the hub."""
        mode = self._mode_at(frame.time_ms)
        if mode == "always" or (mode == "event" and frame.time_ms < self._event_until_ms):
            if self._held:
                self._release()
            self.recording = True
            self._recorder(frame)
            return
        if self.recording:
            self.recording = False
            self._recorder.end_file()
        if mode == "event":
            self._hold(frame)
        elif self._held:
            self._drop_held()

    @property
    def event_until_ms(self) -> float:
        return self._event_until_ms

    def _mode_at(self, time_ms: int) -> str:
        if time_ms >= self._mode_until_ms:
            settings = self._settings
            self._mode = settings.mode_at(time_ms) if settings.records(self._stream) else "off"
            self._mode_until_ms = next_minute_ms(time_ms)
        return self._mode

    def _hold(self, frame: AnyFrame) -> None:
        if isinstance(frame, Frame) and frame.keyframe:
            self._held.append([frame])
        elif self._held:
            self._held[-1].append(frame)
        else:
            return  # a GOP is only worth keeping from its keyframe
        self._held_bytes += _size(frame)
        keep_from = frame.time_ms - self._settings.pre_event_s * 1000
        # The oldest GOP goes once the next one alone reaches back far enough.
        while len(self._held) > 1 and (
            self._held[1][0].time_ms <= keep_from or self._held_bytes > MAX_PRE_EVENT_BYTES
        ):
            self._held_bytes -= sum(_size(f) for f in self._held.popleft())

    def _release(self) -> None:
        for gop in self._held:
            for frame in gop:
                self._recorder(frame)
        self._drop_held()

    def _drop_held(self) -> None:
        self._held.clear()
        self._held_bytes = 0


def paused_by(
    settings: RecordingSettings, stream: str, now_ms: int, event_until_ms: float
) -> str | None:
    """Why `settings` record nothing of `stream` at `now_ms`, for the recording state; None
    when they would record. `event_until_ms`: when recording for the last event ends."""
    if settings.mode == "off":
        return "recording is off"
    if not settings.records(stream):
        return f"only the {settings.streams} stream is recorded"
    mode = settings.mode_at(now_ms)
    if mode == "off":
        return "outside the schedule"
    if mode == "event" and now_ms >= event_until_ms:
        return "waiting for an event"
    return None


def _size(frame: AnyFrame) -> int:
    return frame.size if isinstance(frame, Frame) else len(frame.data)
