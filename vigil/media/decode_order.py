"""Decode times for pictures whose presentation times come out of order (B-frames).

RTP carries only presentation times, while frames arrive in decode order, and MP4 wants both:
each sample's decode time, rising, whose steps are the samples' durations, and its
presentation offset. Decode times are made in two steps:

1. Paced: a keyframe decodes when it shows; between keyframes, once a stream has shown that it
   reorders, each picture decodes one frame interval after the one before (the interval read
   off the presentation times), never after the latest picture shown so far. Every picture so
   lasts one interval, and a B-frame would show a little before it decodes.
2. Led: all of them moved earlier by the most any recent picture would show before it decodes
   (the stream's reorder delay), so that no picture shows before it decodes. Players then need
   no shift of their own: FFmpeg, for one, moves a whole track later by its most negative
   offset, which would put the picture behind its sound.

A stream that never reorders decodes each picture when it shows, as before. The pacing is
mended at every keyframe, so an odd interval or a lost picture costs at most one group of
pictures. All times are in RTP ticks of the track, extended past the 32-bit wrap.
"""

import itertools
from collections import deque

# Presentation times looked at for the frame interval: several groups of B-frames, few enough
# to follow a camera that changes its frame rate.
RECENT_PICTURES = 16
# Pictures over which the reorder delay is the largest seen: a few groups of pictures, so the
# first group (paced before the stream showed it reorders) is soon forgotten.
LEAD_PICTURES = 64


class DecodeOrder:
    def __init__(self) -> None:
        self._paced: int | None = None  # paced decode time of the picture before
        self._last: int | None = None  # decode time given for the picture before
        self._highest = 0  # latest presentation time so far
        self.reordered = False  # a picture has shown before one that came ahead of it
        self._recent: deque[int] = deque(maxlen=RECENT_PICTURES)
        self._early: deque[int] = deque(maxlen=LEAD_PICTURES)  # paced decode minus presentation

    def decode_time(self, presentation: int, keyframe: bool) -> int:
        paced = self._pace(presentation, keyframe)
        self._early.append(paced - presentation)
        decode = paced - max(0, max(self._early))
        if self._last is not None:
            decode = max(decode, self._last + 1)
        self._last = decode
        return decode

    def _pace(self, presentation: int, keyframe: bool) -> int:
        last = self._paced
        self._recent.append(presentation)
        if last is None:
            paced = self._highest = presentation
        else:
            if presentation < self._highest:
                self.reordered = True
            self._highest = max(self._highest, presentation)
            if keyframe or not self.reordered:
                paced = max(presentation, last + 1)
            else:
                # Never after the latest picture shown: that keeps an interval read too long
                # from running ahead, and brings the first group of pictures (paced before
                # the stream showed it reorders) into step.
                paced = max(last + 1, min(last + self.interval(), self._highest))
        self._paced = paced
        return paced

    def interval(self) -> int:
        """The most common step between pictures in presentation order: the lower median of
        the steps among the recent ones (lost pictures make some steps longer, never shorter)."""
        times = sorted(set(self._recent))
        steps = sorted(later - earlier for earlier, later in itertools.pairwise(times))
        return steps[(len(steps) - 1) // 2] if steps else 1
