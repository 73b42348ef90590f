"""Reading our own fragmented MP4 files back: where each fragment is and what time it covers.

For finishing a file found after a crash (keep the whole fragments, cut the torn tail) and
for the keyframe index used in seeking. Only the boxes our writer makes are understood.
"""

import os
import struct
from dataclasses import dataclass
from pathlib import Path

from vigil.media.archive.boxes import runs
from vigil.media.mp4 import TICKS_PER_MS, VIDEO_TRACK


@dataclass(frozen=True)
class FragmentInfo:
    offset: int  # of its moof in the file
    start_ms: int  # from the file's start
    end_ms: int
    keyframe: bool  # starts with a keyframe


@dataclass(frozen=True)
class FileScan:
    fragments: list[FragmentInfo]
    whole_size: int  # bytes up to the end of the last complete fragment (or the init segment)


def scan(path: Path) -> FileScan:
    """Box headers and `moof`s only: the media data is skipped, not read."""
    fragments: list[FragmentInfo] = []
    position, whole, moof = 0, 0, None
    with path.open("rb") as file:
        length = os.fstat(file.fileno()).st_size
        while position + 8 <= length:
            file.seek(position)
            size, kind = struct.unpack(">I4s", file.read(8))
            if size < 8 or position + size > length:
                break  # torn: the writer died in the middle of this box
            if kind == b"moov":
                whole = position + size
            elif kind == b"moof":
                try:
                    moof = _read_moof(file.read(size - 8), position)
                except (struct.error, IndexError, StopIteration):
                    break  # not what our writer makes: what comes before it is kept
            elif kind == b"mdat" and moof is not None:
                fragments.append(moof)
                whole = position + size
                moof = None
            position += size
    return FileScan(fragments, whole)


def _read_moof(payload: bytes, offset: int) -> FragmentInfo:
    """The fragment's span and start by its video track (the sound's run has its own
    timescale, and may start a little before or after the picture)."""
    video = next(run for run in runs(payload) if run.track == VIDEO_TRACK)
    start = video.base_ticks // TICKS_PER_MS
    duration = sum(sample.duration for sample in video.samples)
    keyframe = bool(video.samples) and video.samples[0].keyframe
    return FragmentInfo(offset, start, start + duration // TICKS_PER_MS, keyframe)
