"""The boxes of our fMP4 files, read back: a box's children, and a fragment's sample runs.

Shared by the scan (where each fragment is) and the reader (what a fragment holds).
"""

import struct
from dataclasses import dataclass
from typing import NamedTuple

_NON_SYNC = 0x00010000  # sample_is_non_sync_sample


def children(payload: bytes) -> list[tuple[bytes, bytes]]:
    """The boxes in `payload`, as (kind, body); a torn or broken box ends the list."""
    boxes, position = [], 0
    while position + 8 <= len(payload):
        size, kind = struct.unpack_from(">I4s", payload, position)
        if size < 8:
            break
        boxes.append((kind, payload[position + 8 : position + size]))
        position += size
    return boxes


class Sample(NamedTuple):
    duration: int  # ticks, to the next sample's decode time
    size: int
    keyframe: bool
    offset: int  # ticks from decode to presentation time, signed (B-frames)


@dataclass(frozen=True)
class Run:
    """A track's samples in one fragment."""

    track: int
    base_ticks: int  # decode time of the first sample
    data_offset: int  # from the start of the moof
    samples: list[Sample]


def runs(moof: bytes) -> list[Run]:
    runs = []
    for kind, traf in children(moof):
        if kind != b"traf":
            continue
        track = base = 0
        default_duration = default_size = default_flags = 0
        for inner, content in children(traf):
            if inner == b"tfhd":
                flags = int.from_bytes(content[1:4], "big")
                track = struct.unpack_from(">I", content, 4)[0]
                at = 8 + (8 if flags & 0x1 else 0) + (4 if flags & 0x2 else 0)
                if flags & 0x8:
                    default_duration = struct.unpack_from(">I", content, at)[0]
                    at += 4
                if flags & 0x10:
                    default_size = struct.unpack_from(">I", content, at)[0]
                    at += 4
                if flags & 0x20:
                    default_flags = struct.unpack_from(">I", content, at)[0]
            elif inner == b"tfdt":
                base = struct.unpack_from(">Q" if content[0] else ">I", content, 4)[0]
            elif inner == b"trun":
                defaults = (default_duration, default_size, default_flags)
                runs.append(_trun(track, base, content, defaults))
    return runs


def _trun(track: int, base: int, content: bytes, defaults: tuple[int, int, int]) -> Run:
    flags = int.from_bytes(content[1:4], "big")
    count, data_offset = struct.unpack_from(">I", content, 4)[0], 0
    at = 8
    if flags & 0x1:
        data_offset = struct.unpack_from(">i", content, at)[0]
        at += 4
    first_flags = None
    if flags & 0x4:
        first_flags = struct.unpack_from(">I", content, at)[0]
        at += 4
    samples = []
    duration, size, sample_flags = defaults
    offset = 0
    # Version 1 offsets are signed (a B-frame may show before it decodes); version 0 ones not.
    offset_format = ">i" if content[0] else ">I"
    for n in range(count):
        if flags & 0x100:
            duration = struct.unpack_from(">I", content, at)[0]
            at += 4
        if flags & 0x200:
            size = struct.unpack_from(">I", content, at)[0]
            at += 4
        if flags & 0x400:
            sample_flags = struct.unpack_from(">I", content, at)[0]
            at += 4
        if flags & 0x800:
            offset = struct.unpack_from(offset_format, content, at)[0]
            at += 4
        effective = first_flags if n == 0 and first_flags is not None else sample_flags
        samples.append(Sample(duration, size, not effective & _NON_SYNC, offset))
    return Run(track, base, data_offset, samples)
