"""One stream of one camera over a range of time, as one fragmented MP4: pure, no I/O.

`Clip` is given the archive's chunks in order (`add`, and `skip` for each gap) and turns each
into a fragment; `init` gives the init segment. The clip
- starts at the first keyframe it is given: the cursor seeks to the one at or before the
  range's start, so a clip starts up to a GOP early (`start_ms` says where);
- ends at the range's end: the last picture lasts until then, or until its recording ended;
- leaves gaps out: what follows a gap starts where what came before it ended (or as much
  later as its first picture needs to show after the last one shown: `LatestShown`), so the
  clip is shorter than the range by its gaps, which it lists (`gaps`). Chunks that join are
  stitched the same way, so the few milliseconds by which files may miss each other leave no
  hole;
- keeps the picture across a change of the stream's parameters (another resolution, say):
  keyframes of another config than the first carry their parameter sets in-band, as
  decoders expect when parameters change mid-stream;
- has sound when the stream has it: the sound track of the first file with one met (before
  the init segment is asked for, when streamed); sound of another config is left out.
"""

import itertools
from dataclasses import replace

from vigil.media import mp4
from vigil.media.archive.cursor import Gap
from vigil.media.archive.reader import Chunk
from vigil.media.frames import AudioConfig, Frame, LatestShown, StreamConfig


class Clip:
    def __init__(self, to_ms: int) -> None:
        self._to_ms = to_ms
        self.video: StreamConfig | None = None  # None: no picture yet
        self.audio: AudioConfig | None = None
        self._settled = False  # the init segment is out: no track may be added
        self.start_ms: int | None = None  # of the first picture
        self.end_ms: int | None = None  # where the last fragment ends
        self.duration_ms = 0
        self.gaps: list[Gap] = []  # within the range, left out
        self.done = False  # the range's end is reached
        self._removed_ms = 0  # of gaps (and stitches) so far
        self._shown = LatestShown()  # on the clip's time
        self._interval_ms = 1  # between pictures, as the last chunk had them
        self._sequence = 0

    def skip(self, gap: Gap) -> None:
        """Nothing was recorded for a while; only a gap within the clip is noted."""
        if self.end_ms is not None and gap.from_ms < self._to_ms:
            self.gaps.append(Gap(gap.from_ms, min(gap.to_ms, self._to_ms)))

    def add(self, chunk: Chunk) -> bytes:
        """The chunk's part of the clip as a fragment (nothing before the first keyframe)."""
        if self.done:
            return b""
        frames = [frame for frame in chunk.frames if frame.time_ms < self._to_ms]
        if not frames and chunk.frames:
            self.done = True  # the chunk starts at or after the range's end
        if self.start_ms is None or self.end_ms is None:
            first_key = next((n for n, frame in enumerate(frames) if frame.keyframe), None)
            if first_key is None:
                return b""
            frames = frames[first_key:]
            self.video = frames[0].config
            self.start_ms = self.end_ms = frames[0].time_ms
        if not frames:
            return b""
        end_ms = min(chunk.end_ms, self._to_ms)
        self.done = chunk.end_ms >= self._to_ms
        ended_ms = self.end_ms - self.start_ms - self._removed_ms  # on the clip's time
        at_ms = self._shown.resumed_at(frames[0], ended_ms, self._interval_ms)
        self._removed_ms = frames[0].time_ms - at_ms - self.start_ms
        origin_ms = self.start_ms + self._removed_ms
        if self.audio is None and not self._settled:
            self.audio = chunk.audio
        sound = [s for s in chunk.sound if s.config == self.audio and s.time_ms < end_ms]
        self._sequence += 1
        fragment = mp4.fragment(
            self._sequence,
            [self._in_band(frame) for frame in frames],
            max(end_ms, frames[-1].time_ms + 1),
            origin_ms,
            sound,
        )
        self.end_ms = fragment.end_ms
        self.duration_ms = fragment.end_ms - origin_ms
        self._shown.note(max(f.presentation_ms for f in frames) - origin_ms)
        if len(frames) > 1:
            steps = sorted(b.time_ms - a.time_ms for a, b in itertools.pairwise(frames))
            self._interval_ms = max(1, steps[(len(steps) - 1) // 2])
        return fragment.data

    def init(self, *, whole: bool) -> bytes:
        """The init segment; `whole`: the clip is complete, and its duration goes in it."""
        if self.video is None:
            raise ValueError("a clip without pictures has no init segment")
        self._settled = True
        return mp4.init_segment(self.video, self.audio, self.duration_ms if whole else None)

    def _in_band(self, frame: Frame) -> Frame:
        if frame.keyframe and frame.config != self.video:
            return replace(frame, nals=frame.config.parameter_sets + frame.nals)
        return frame
