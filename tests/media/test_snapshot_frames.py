"""Which recorded frames a snapshot decodes: from the keyframe at or before the time asked for
up to the picture showing at it, across fragments; the last picture of a recording shows on
for a frame's gap before a gap, not at the end of the archive (more may be written yet)."""

import pytest

from tests.media.test_archive_cursor import T0, Files, files
from vigil.media.archive.cursor import ArchiveCursor
from vigil.media.snapshot import NoRecording, _frames_until

__all__ = ["files"]  # the archive: 0-3 s, 3-6 s, 20-23 s, keyframes as test_archive_cursor says


async def _times(files: Files, time_ms: int) -> list[int]:
    frames = await _frames_until(ArchiveCursor(files, "cam", "main"), T0 + time_ms)
    return [frame.time_ms - T0 for frame in frames]


async def test_frames_run_from_the_keyframe_before_to_the_picture_at_the_time(files: Files) -> None:
    assert await _times(files, 2_500) == list(range(2_000, 2_600, 100))
    # The fragment at 1 s has no keyframe: from the one at 0 s.
    assert await _times(files, 1_550) == list(range(0, 1_600, 100))
    assert await _times(files, 3_000) == [3_000]  # the next file, at its first picture


async def test_the_last_picture_before_a_gap_shows_on_for_a_moment(files: Files) -> None:
    assert await _times(files, 6_500) == list(range(5_000, 6_000, 100))


@pytest.mark.parametrize("time_ms", [-1, 8_000, 19_999, 23_500])
async def test_no_frames_where_nothing_was_recorded(files: Files, time_ms: int) -> None:
    with pytest.raises(NoRecording):
        await _times(files, time_ms)
