"""The recording gate on its own: what each recording setting lets through to the recorder."""

import time
from typing import Any

from vigil.cameras.recording import RecordingSettings, ScheduleSlot
from vigil.media.frames import Frame, StreamConfig
from vigil.media.gate import RecordingGate
from vigil.media.sps import SpsInfo

CONFIG = StreamConfig("h264", (b"\x67", b"\x68"), SpsInfo(320, 240, 1, 8, 8))
FPS = 25
START_MS = 1_699_999_980_000  # a whole minute


class _Taken:
    """Stands in for the recorder: what reached it, and where files ended."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self.ends: list[int] = []  # after how many frames a file was ended

    def __call__(self, frame: Frame) -> None:
        self.frames.append(frame)

    def end_file(self) -> None:
        self.ends.append(len(self.frames))

    def seconds(self) -> list[float]:
        return [(f.time_ms - START_MS) / 1000 for f in self.frames]


def _gate(settings: RecordingSettings, stream: str = "main") -> tuple[RecordingGate, _Taken]:
    taken = _Taken()
    recorder: Any = taken
    return RecordingGate(stream, recorder, settings), taken


def _frames(from_s: float, to_s: float) -> list[Frame]:
    """25 fps, a keyframe at every whole second."""
    first, last = round(from_s * FPS), round(to_s * FPS)
    return [
        Frame(START_MS + n * 1000 // FPS, n % FPS == 0, (b"\x65",), CONFIG, 1000)
        for n in range(first, last)
    ]


def _feed(gate: RecordingGate, frames: list[Frame]) -> None:
    for frame in frames:
        gate(frame)


def test_always_passes_every_frame_and_off_none() -> None:
    always, taken = _gate(RecordingSettings())
    _feed(always, _frames(0, 4))
    assert len(taken.frames) == 4 * FPS
    off, nothing = _gate(RecordingSettings(mode="off"))
    _feed(off, _frames(0, 4))
    assert nothing.frames == []


def test_an_event_is_recorded_from_before_it_to_after_its_end() -> None:
    gate, taken = _gate(RecordingSettings(mode="event", pre_event_s=2, post_event_s=3))
    _feed(gate, _frames(0, 10.5))
    assert taken.frames == []  # nothing happened yet
    gate.event(True, START_MS + 10_500)
    _feed(gate, _frames(10.5, 12.5))
    gate.event(False, START_MS + 12_500)
    _feed(gate, _frames(12.5, 20))
    seconds = taken.seconds()
    # From the keyframe at least 2 s before the event (8.0 ≤ 10.5 - 2) to 3 s after its end.
    assert seconds[0] == 8.0
    assert taken.frames[0].keyframe
    assert seconds[-1] == 15.48
    assert len(seconds) == round((15.5 - 8.0) * FPS)  # not one frame missing in between
    assert taken.ends == [len(seconds)]  # the file ended when the post-event time was over


def test_events_that_overlap_make_one_recording() -> None:
    gate, taken = _gate(RecordingSettings(mode="event", pre_event_s=0, post_event_s=2))
    _feed(gate, _frames(0, 3))
    gate.event(True, START_MS + 3000)
    _feed(gate, _frames(3, 4))
    gate.event(False, START_MS + 4000)
    _feed(gate, _frames(4, 5))
    gate.event(True, START_MS + 5000)  # again before the first one's post time ran out
    _feed(gate, _frames(5, 6))
    gate.event(False, START_MS + 6000)
    _feed(gate, _frames(6, 12))
    # With no pre-event time a recording still starts at the keyframe before the event: a
    # file begins with a picture that decodes on its own.
    assert taken.seconds()[0] == 2.0
    assert taken.seconds()[-1] == 7.96
    assert len(taken.frames) == 6 * FPS
    assert len(taken.ends) == 1


def test_a_schedule_records_inside_its_slots_only() -> None:
    start = time.localtime(START_MS / 1000)
    minute = start.tm_hour * 60 + start.tm_min
    slot = ScheduleSlot(days=(start.tm_wday,), start_minute=minute + 1,
                        end_minute=minute + 2, mode="always")  # fmt: skip
    gate, taken = _gate(RecordingSettings(mode="schedule", schedule=(slot,)))
    _feed(gate, _frames(0, 180))
    assert taken.seconds()[0] == 60.0
    assert taken.seconds()[-1] == 119.96
    assert taken.ends == [60 * FPS]
    other_day = slot.model_copy(update={"days": ((start.tm_wday + 1) % 7,)})
    gate, taken = _gate(RecordingSettings(mode="schedule", schedule=(other_day,)))
    _feed(gate, _frames(0, 180))
    assert taken.frames == []


def test_a_stream_left_out_of_the_settings_is_not_recorded() -> None:
    gate, taken = _gate(RecordingSettings(streams="main"), stream="sub")
    _feed(gate, _frames(0, 2))
    assert taken.frames == []
    gate.settings = RecordingSettings(streams="both")
    _feed(gate, _frames(2, 4))
    assert taken.seconds()[0] == 2.0
