"""Reading the simulated camera's burned-in caption back out of video a client was sent:
each picture's clock (when the camera sent it) tells which moment it shows."""

import io
import re
from dataclasses import dataclass

import av
import numpy as np

from vigil.testcamera.video.caption import read_caption


@dataclass(frozen=True)
class Shown:
    media_ms: int  # on the timeline of the MP4 it came in
    keyframe: bool
    clock_ms: int  # the camera's wall clock (UTC) when it sent the picture, ms of the day


def caption_clock(frame: av.VideoFrame) -> int:
    """The clock in a decoded picture's caption, in ms of the day (UTC)."""
    luma = np.asarray(frame.to_ndarray(format="yuv420p"))[: frame.height]
    found = re.match(r"(\d\d):(\d\d):(\d\d)\.(\d{3})", read_caption(luma))
    assert found is not None, read_caption(luma)
    hours, minutes, seconds, ms = (int(part) for part in found.groups())
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + ms


def pictures(data: bytes) -> list[Shown]:
    """Every picture of an (f)MP4 held in memory, in order."""
    shown = []
    with av.open(io.BytesIO(bytes(data)), format="mp4") as container:
        stream = container.streams.video[0]
        for packet in container.demux(stream):
            for frame in packet.decode():
                assert isinstance(frame, av.VideoFrame)
                media = round(float(frame.pts * stream.time_base) * 1000)
                shown.append(Shown(media, frame.key_frame, caption_clock(frame)))
    return shown


def of_day(time_ms: int) -> int:
    return time_ms % 86_400_000
