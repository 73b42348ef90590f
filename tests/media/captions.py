"""Reading the simulated camera's burned-in caption back out of video a client was sent:
each picture's clock (when the camera sent it) tells which moment it shows."""

import io
import re
from dataclasses import dataclass
from typing import Any

import av
import numpy as np

from vigil.testcamera.video.caption import read_caption, read_caption_nearest


@dataclass(frozen=True)
class Shown:
    media_ms: int  # on the timeline of the MP4 it came in
    keyframe: bool
    clock_ms: int  # the camera's wall clock (UTC) when it sent the picture, ms of the day
    number: int = -1  # the camera's frame counter: one more for each picture it sends
    position: int = -1  # where its data starts in the MP4, in bytes


def caption_clock(frame: av.VideoFrame) -> int:
    """The clock in a decoded picture's caption, in ms of the day (UTC)."""
    luma = np.asarray(frame.to_ndarray(format="yuv420p"))[: frame.height]
    return _clock(read_caption(luma))


def jpeg_caption_clock(frame: av.VideoFrame) -> int:
    """The same for a JPEG's picture (a snapshot)."""
    return _clock(
        full_range_caption(np.asarray(frame.to_ndarray(format="yuv420p"))[: frame.height])
    )


def full_range_caption(luma: "np.ndarray[Any, np.dtype[Any]]") -> str:
    """The caption of a picture that went through lossy coding or a browser's drawing, as
    full-range luma (the caption's cells are drawn in video range): each cell is read as the
    nearest character."""
    video_range = np.rint(16 + luma.astype(np.float64) * 219 / 255).astype(np.uint8)
    return read_caption_nearest(video_range)


def clock_of(caption: str) -> int | None:
    """The clock a caption starts with, in ms of the day; None when it does not."""
    found = re.match(r"(\d\d):(\d\d):(\d\d)\.(\d{3})", caption)
    if found is None:
        return None
    hours, minutes, seconds, ms = (int(part) for part in found.groups())
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + ms


def _clock(caption: str) -> int:
    clock = clock_of(caption)
    assert clock is not None, caption
    return clock


def pictures(data: bytes) -> list[Shown]:
    """Every picture of an (f)MP4 held in memory, in order."""
    shown = []
    with av.open(io.BytesIO(bytes(data)), format="mp4") as container:
        stream = container.streams.video[0]
        for packet in container.demux(stream):
            for frame in packet.decode():
                assert isinstance(frame, av.VideoFrame)
                media = round(float(frame.pts * stream.time_base) * 1000)
                luma = np.asarray(frame.to_ndarray(format="yuv420p"))[: frame.height]
                caption = read_caption(luma)
                number = re.search(r"#(\d{6})", caption)
                shown.append(Shown(media, frame.key_frame, _clock(caption),
                                   int(number[1]) if number else -1,
                                   -1 if packet.pos is None else packet.pos))  # fmt: skip
    return shown


def of_day(time_ms: int) -> int:
    return time_ms % 86_400_000
