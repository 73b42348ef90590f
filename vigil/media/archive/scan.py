"""Reading our own fragmented MP4 files back: where each fragment is and what time it covers.

For finishing a file found after a crash (keep the whole fragments, cut the torn tail) and
for the keyframe index used in seeking. Only the boxes our writer makes are understood.
"""

import os
import struct
from dataclasses import dataclass
from pathlib import Path

from vigil.media.mp4 import TICKS_PER_MS, VIDEO_TRACK

_KEY_FLAGS_MASK = 0x00010000  # sample_is_non_sync_sample


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
                except (struct.error, IndexError):
                    break  # not what our writer makes: what comes before it is kept
            elif kind == b"mdat" and moof is not None:
                fragments.append(moof)
                whole = position + size
                moof = None
            position += size
    return FileScan(fragments, whole)


def _read_moof(payload: bytes, offset: int) -> FragmentInfo | None:
    """The fragment's span and start by its video track (the sound's `traf` has its own
    timescale, and may start a little before or after the picture)."""
    base = duration = 0
    keyframe = False
    for kind, body in _children(payload):
        if kind != b"traf" or _track_of(body) != VIDEO_TRACK:
            continue  # the sound's track has its own timescale; fragments follow the picture
        for inner, content in _children(body):
            if inner == b"tfdt":
                version = content[0]
                base = struct.unpack_from(">Q" if version else ">I", content, 4)[0]
            elif inner == b"trun":
                flags = int.from_bytes(content[1:4], "big")
                count = struct.unpack_from(">I", content, 4)[0]
                at = 8 + (4 if flags & 0x1 else 0) + (4 if flags & 0x4 else 0)
                entry = 4 * bin(flags & 0xF00).count("1")
                for n in range(count):
                    if flags & 0x100:
                        duration += struct.unpack_from(">I", content, at + n * entry)[0]
                    if n == 0 and flags & 0x400:
                        position = at + (4 if flags & 0x100 else 0) + (4 if flags & 0x200 else 0)
                        sample_flags = struct.unpack_from(">I", content, position)[0]
                        keyframe = not sample_flags & _KEY_FLAGS_MASK
    start = base // TICKS_PER_MS
    return FragmentInfo(offset, start, start + duration // TICKS_PER_MS, keyframe)


def _track_of(traf: bytes) -> int | None:
    for kind, content in _children(traf):
        if kind == b"tfhd":
            track: int = struct.unpack_from(">I", content, 4)[0]
            return track
    return None


def _children(payload: bytes) -> list[tuple[bytes, bytes]]:
    boxes, position = [], 0
    while position + 8 <= len(payload):
        size, kind = struct.unpack_from(">I4s", payload, position)
        if size < 8:
            break
        boxes.append((kind, payload[position + 8 : position + size]))
        position += size
    return boxes
