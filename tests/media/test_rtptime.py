"""Sound onto the server's clock: in step with the picture by the sender reports, held back
until they come, and placed by arrival for cameras that send none."""

from vigil.media.aac import AudioUnit
from vigil.media.frames import AudioConfig
from vigil.media.rtptime import MAX_HOLD_MS, RtpTimeline, SoundTimeline
from vigil.media.rtsp.rtcp import SenderReport, TrackKind

SOUND = AudioConfig("aac", 16_000, 1, 1024, b"\x14\x08")
START_MS = 1_800_000_000_000
VIDEO_RTP, SOUND_RTP = 4_000_000_000, 123_456  # each track starts where it likes (and wraps)
CAMERA_WALL_US = 1_700_000_000_000_000  # the camera's clock need not agree with the server's


class _Clock:
    def __init__(self) -> None:
        self.ms = START_MS

    def now_ms(self) -> int:
        return self.ms


def _setup() -> tuple[_Clock, RtpTimeline, dict[TrackKind, SenderReport], SoundTimeline, list[int]]:
    clock = _Clock()
    video = RtpTimeline(clock, 90_000)
    reports: dict[TrackKind, SenderReport] = {}
    placed: list[int] = []
    sound = SoundTimeline(
        video, reports, clock, SOUND, lambda time_ms, _unit: placed.append(time_ms)
    )
    return clock, video, reports, sound, placed


def _unit(n: int) -> AudioUnit:
    return AudioUnit((SOUND_RTP + n * 1024) & 0xFFFFFFFF, b"\x21")


def test_sound_waits_for_both_reports_then_lines_up_with_the_picture() -> None:
    clock, video, reports, sound, placed = _setup()
    assert video.time_of(VIDEO_RTP) == START_MS  # the first picture arrives now
    sound.push(_unit(0))
    reports["video"] = SenderReport(VIDEO_RTP, CAMERA_WALL_US)
    sound.push(_unit(1))
    assert placed == []  # one report says nothing of how the tracks relate
    # The camera captured sound unit 0 half a second after the first picture.
    reports["audio"] = SenderReport(SOUND_RTP, CAMERA_WALL_US + 500_000)
    clock.ms += 200
    sound.push(_unit(2))
    assert placed == [START_MS + 500, START_MS + 564, START_MS + 628]  # not by arrival


def test_sound_without_reports_is_placed_by_arrival_once_waited_for() -> None:
    clock, video, _reports, sound, placed = _setup()
    video.time_of(VIDEO_RTP)
    sound.push(_unit(0))
    clock.ms += MAX_HOLD_MS + 1
    sound.push(_unit(1))
    assert placed == [clock.ms]  # what was held is too old to place: dropped
    assert sound.dropped == 1
    clock.ms += 64
    sound.push(_unit(2))
    assert placed == [clock.ms - 64, clock.ms]
