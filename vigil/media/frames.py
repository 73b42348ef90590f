"""What flows from ingest through the hub to its consumers: frames on the server's clock."""

from dataclasses import dataclass
from typing import Literal

from vigil.media.codecs import Codec
from vigil.media.sps import SpsInfo


@dataclass(frozen=True)
class StreamConfig:
    """What a decoder needs before the first frame. A new object whenever it changes (new
    parameter sets: another resolution or codec), so consumers compare by identity."""

    codec: Codec
    parameter_sets: tuple[bytes, ...]  # H.264: SPS, PPS; H.265: VPS, SPS, PPS
    sps: SpsInfo

    @property
    def width(self) -> int:
        return self.sps.width

    @property
    def height(self) -> int:
        return self.sps.height


@dataclass(frozen=True, slots=True)
class Frame:
    """One picture's NAL units. Frames come in decode order, which is not the order they show
    in when a camera sends B-frames: `time_ms` is the decode time, what every queue, file and
    pacing goes by; `offset_ms` takes it to the picture's presentation time."""

    time_ms: int  # decode time on the server's clock (ms since the epoch), rising in a stream
    keyframe: bool
    nals: tuple[bytes, ...]
    config: StreamConfig
    size: int
    offset_ms: int = 0  # presentation time minus decode time; below 0 for some B-frames

    @property
    def presentation_ms(self) -> int:
        return self.time_ms + self.offset_ms


class LatestShown:
    """For what plays or exports the archive leaving its gaps out: where the pictures after a
    gap start. Where the pictures before it ended, or later if the first of them (a keyframe)
    would then show less than a frame interval after the latest picture shown: B-frames show
    after they decode, the last of a group well after, and a connection's first group has no
    reorder delay yet."""

    def __init__(self) -> None:
        self._shown_ms: int | None = None  # on the timeline that leaves the gaps out

    def note(self, presentation_ms: int) -> None:
        """A picture given, showing at `presentation_ms`."""
        if self._shown_ms is None or presentation_ms > self._shown_ms:
            self._shown_ms = presentation_ms

    def resumed_at(self, first: Frame, ended_ms: int, interval_ms: int) -> int:
        """The decode time of `first`, the first picture after a gap, the pictures before it
        having ended at `ended_ms`."""
        if self._shown_ms is None:
            return ended_ms
        return max(ended_ms, self._shown_ms + interval_ms - first.offset_ms)


@dataclass(frozen=True)
class AudioConfig:
    """What an audio decoder needs before the first frame; like StreamConfig, a new object
    whenever it changes, so consumers compare by identity."""

    codec: Literal["aac"]
    sample_rate: int  # Hz; also the MP4 track's timescale
    channels: int
    frame_samples: int  # samples per channel in one frame (AAC: 1024, or 960)
    specific_config: bytes  # AAC: the AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1)

    @property
    def frame_ms(self) -> float:
        return self.frame_samples * 1000 / self.sample_rate


@dataclass(frozen=True, slots=True)
class AudioFrame:
    """One coded audio frame (an AAC access unit) on the server's clock, as `Frame` is for
    video: both tracks of a stream share that clock, which is what keeps them in sync."""

    time_ms: int  # when its first sample plays
    data: bytes
    config: AudioConfig
