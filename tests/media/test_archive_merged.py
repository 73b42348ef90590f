"""A camera's archive in parts on two servers (a failover and the failback), walked as one:
forward and back across the parts, a seek into either, an overlap never given twice."""

from pathlib import Path

from tests.media.test_archive_cursor import T0, Files, _walk
from vigil.media.archive.cursor import ArchiveCursor, Cursor, Gap
from vigil.media.archive.merged import MergedCursor


def _merged(*parts: Files) -> MergedCursor:
    async def found() -> list[Cursor]:
        return [ArchiveCursor(files, "cam", "main") for files in parts]

    return MergedCursor(found)


def _servers(tmp_path: Path) -> tuple[Files, Files]:
    """The parent recorded 0-6 s and 20-23 s; the server standing in for it 10-14 s."""
    (tmp_path / "parent").mkdir()
    (tmp_path / "standby").mkdir()
    parent, standby = Files(tmp_path / "parent"), Files(tmp_path / "standby")
    parent.write(T0, [True, False, True, True, True, True])
    parent.write(T0 + 20_000, [True, False, False])
    standby.write(T0 + 10_000, [True, False, True, False])
    return parent, standby


async def test_forward_goes_on_in_the_other_archive_with_the_gaps_between(tmp_path: Path) -> None:
    parent, standby = _servers(tmp_path)
    cursor = _merged(parent, standby)
    assert await cursor.seek(T0 + 4500) == T0 + 4000
    assert await _walk(cursor) == [
        (4000, 10), (5000, 10), Gap(T0 + 6000, T0 + 10_000),
        (10_000, 10), (11_000, 10), (12_000, 10), (13_000, 10), Gap(T0 + 14_000, T0 + 20_000),
        (20_000, 10), (21_000, 10), (22_000, 10),
    ]  # fmt: skip


async def test_a_seek_lands_in_the_archive_that_holds_the_time(tmp_path: Path) -> None:
    parent, standby = _servers(tmp_path)
    cursor = _merged(parent, standby)
    assert await cursor.seek(T0 + 12_500) == T0 + 12_000
    assert (await _walk(cursor))[:3] == [(12_000, 10), (13_000, 10), Gap(T0 + 14_000, T0 + 20_000)]
    # In the gap between them: the next recording, whichever server holds it.
    assert await cursor.seek(T0 + 8000) == T0 + 10_000
    assert (await _walk(cursor))[:2] == [Gap(T0 + 8000, T0 + 10_000), (10_000, 10)]
    assert await cursor.seek(T0 + 30_000) is None


async def test_backward_walks_both_archives_to_the_beginning(tmp_path: Path) -> None:
    parent, standby = _servers(tmp_path)
    cursor = _merged(parent, standby)
    assert await cursor.seek(T0 + 20_500) == T0 + 20_000
    assert await _walk(cursor, forward=False) == [
        (20_000, 1), Gap(T0 + 14_000, T0 + 20_000), (12_000, 1), (10_000, 1),
        Gap(T0 + 6000, T0 + 10_000), (5000, 1), (4000, 1), (3000, 1), (2000, 1), (0, 1),
    ]  # fmt: skip


async def test_an_overlap_is_given_once_from_a_keyframe(tmp_path: Path) -> None:
    parent, standby = _servers(tmp_path)
    # The parent came back at 13 s while the stand-in still recorded: both hold 13-14 s.
    parent.segments.clear()
    parent.write(T0 + 13_000, [True, True, False])
    cursor = _merged(parent, standby)
    await cursor.seek(T0 + 10_000)
    assert await _walk(cursor) == [(10_000, 10), (11_000, 10), (12_000, 10), (13_000, 10),
                                   (14_000, 10), (15_000, 10)]  # fmt: skip
    # Its keyframe at 14 s came later: from the stand-in's end, the parent's next keyframe.
    parent.segments.clear()
    parent.write(T0 + 13_000, [True, False, True, False])
    cursor = _merged(parent, standby)
    await cursor.seek(T0 + 10_000)
    assert await _walk(cursor) == [(10_000, 10), (11_000, 10), (12_000, 10), (13_000, 10),
                                   (15_000, 10), (16_000, 10)]  # fmt: skip


async def test_one_archive_alone_walks_as_it_would_unmerged(tmp_path: Path) -> None:
    parent, _ = _servers(tmp_path)
    merged, alone = _merged(parent), ArchiveCursor(parent, "cam", "main")
    assert await merged.seek(T0 + 1500) == await alone.seek(T0 + 1500)
    assert await _walk(merged) == await _walk(alone)
    assert await _merged().seek(T0) is None
