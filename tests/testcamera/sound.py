"""Reading the test cameras' sound back from a recording: where each second's tone burst
starts and which second its pitch names, and the wall clock the video caption shows."""

import itertools
import re
import statistics
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from vigil.testcamera.audio.signal import BURST_S, LOOP_SECONDS, second_of
from vigil.testcamera.video.caption import read_caption

_CLOCK = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d\d\d) ")
_WINDOW_S = 0.001
_QUIET_S = 0.5  # a burst starts after at least this much silence


@dataclass(frozen=True)
class Burst:
    onset_s: float  # on the recording's timeline
    second: int  # of the loop, from its pitch: the wall-clock second modulo the loop length


def decode_audio(clip: Path) -> tuple["np.ndarray[tuple[int], np.dtype[np.float32]]", int, float]:
    """The first audio stream's samples (mono), its sample rate, and its first sample's time."""
    with av.open(str(clip)) as container:
        stream = container.streams.audio[0]
        chunks = []
        start: float | None = None
        for frame in container.decode(stream):
            if start is None and frame.time is not None:
                start = frame.time
            chunks.append(frame.to_ndarray()[0].astype(np.float32))
        return np.concatenate(chunks), stream.rate, start or 0.0


def bursts(clip: Path) -> list[Burst]:
    samples, rate, start = decode_audio(clip)
    window = int(rate * _WINDOW_S)
    loud = np.abs(samples[: len(samples) // window * window]).reshape(-1, window).max(axis=1)
    loud = loud > 0.1
    found = []
    quiet = int(_QUIET_S / _WINDOW_S)
    for n in np.flatnonzero(loud[quiet:] & ~loud[quiet - 1 : -1]) + quiet:
        if loud[n - quiet : n].any():
            continue
        first = n * window
        tone = samples[first + int(rate * 0.01) : first + int(rate * (BURST_S - 0.01))]
        if len(tone) < rate * (BURST_S - 0.02):
            continue  # cut off by the end of the recording
        spectrum = np.abs(np.fft.rfft(tone * np.hanning(len(tone))))
        pitch = np.fft.rfftfreq(len(tone), 1 / rate)[int(np.argmax(spectrum))]
        found.append(Burst(start + first / rate, second_of(pitch)))
    return found


def caption_clock_offset_s(clip: Path) -> float:
    """What to add to a time on the recording's timeline for the wall-clock second of the day
    that the video caption shows then (median over the frames)."""
    offsets = []
    with av.open(str(clip)) as container:
        for frame in container.decode(container.streams.video[0]):
            luma = np.asarray(frame.to_ndarray(format="yuv420p"))[: frame.height]
            match = _CLOCK.match(read_caption(luma))
            if match is None or frame.time is None:
                continue
            hours, minutes, seconds, ms = (int(g) for g in match.groups())
            offsets.append(hours * 3600 + minutes * 60 + seconds + ms / 1000 - frame.time)
    if not offsets:
        raise AssertionError(f"no caption clock could be read from {clip}")
    return statistics.median(offsets)


def assert_in_step(clip: Path, *, at_least: int, within_s: float) -> None:
    """`clip`'s sound is unbroken (at least `at_least` bursts, one a second, nothing lost or
    doubled between them) and in step with its picture: each burst starts within `within_s`
    of the whole second the caption shows, and names that second."""
    heard = bursts(clip)
    assert len(heard) >= at_least, heard
    assert {round(b.onset_s - a.onset_s, 2) for a, b in itertools.pairwise(heard)} == {1.0}
    offset = caption_clock_offset_s(clip)
    for burst in heard:
        wall_s = offset + burst.onset_s
        assert abs(wall_s - round(wall_s)) < within_s, (burst, wall_s)
        assert burst.second == round(wall_s) % LOOP_SECONDS, (burst, wall_s)
