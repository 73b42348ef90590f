"""RTSP out of the archive leaving a gap out: the pictures after it show after every picture
before it, though B-frames show after they decode and a new connection's first group of
pictures has no reorder delay yet (its keyframe shows when it decodes)."""

import asyncio
import itertools

from tests.media.test_export_clip import b_frame_group
from vigil.media.archive.cursor import Gap
from vigil.media.archive.reader import Chunk
from vigil.media.frames import Frame
from vigil.media.rtsp.sources import ArchiveSource


class _Recorded:
    """An archive as a cursor gives it: a group, a gap (the camera away), then two groups of
    the camera connected again."""

    def __init__(self) -> None:
        self._items: list[Chunk | Gap] = [
            b_frame_group(1_000, 80),
            Gap(1_480, 5_000),
            b_frame_group(5_000, 0),
            b_frame_group(5_480, 80),
        ]

    async def seek(self, time_ms: int, earlier: bool = False) -> int | None:
        return 1_000

    async def next(self, keyframes_only: bool = False) -> Chunk | Gap | None:
        return self._items.pop(0) if self._items else None

    async def previous(self) -> Chunk | Gap | None:
        return None


async def _placed() -> list[tuple[int, Frame]]:
    # Asked from after all of it: nothing is paced, every picture comes at once.
    source = ArchiveSource(_Recorded(), 60_000)
    await source.tracks()
    placed = []
    frames = source.frames()
    async for session_ms, frame in frames:
        assert isinstance(frame, Frame)
        placed.append((session_ms, frame))
        if len(placed) == 36:
            break
    await frames.aclose()
    return placed


def test_pictures_after_a_gap_show_after_every_picture_before_it() -> None:
    placed = asyncio.run(_placed())
    decoded = [session_ms for session_ms, _ in placed]
    shown = sorted(session_ms + frame.offset_ms for session_ms, frame in placed)
    assert decoded == sorted(set(decoded))
    assert min(b - a for a, b in itertools.pairwise(shown)) == 40, shown
