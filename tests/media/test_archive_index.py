"""The archive index against real folders and a real database: mends by camera-day, totals kept
by set that stay exact, and a walk that recording goes on beside."""

import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.clocked import ManualClock
from vigil.media.archive import naming
from vigil.media.archive.index import ArchiveIndex, _walk_day
from vigil.media.archive.store import Recording
from vigil.media.storage.health import write_marker
from vigil.media.storage.models import Storage, StorageRecord
from vigil.media.storage.pool import StoragePool
from vigil.state import Database

DAY_MS = 86_400_000
START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
TEN_MINUTES_MS = 600_000


def _file(root: Path, camera: str, stream: str, start_ms: int, size: int = 10) -> Path:
    path = naming.closed_path(root, camera, stream, start_ms, TEN_MINUTES_MS)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x00" * size)
    return path


def _archive(root: Path) -> list[Path]:
    """Two cameras, two streams, three days; files of 10 min every 25 min, so that some
    cross the hour."""
    return [
        _file(root, camera, stream, START_MS + day * DAY_MS + n * 1_500_000, size=n + 1)
        for camera in ("cam-a", "cam-b")
        for stream in ("main", "sub")
        for day in (0, 1, 5)
        for n in range(20)
    ]


def _totals(conn: sqlite3.Connection) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """The running totals as kept, and as a sum over every row would make them."""
    hours = conn.execute(
        "SELECT camera_id, stream, hour_ms, recorded_ms FROM recorded_hours ORDER BY 1, 2, 3"
    ).fetchall()
    summed_hours = conn.execute(
        """WITH RECURSIVE touched(camera_id, stream, start_ms, end_ms, hour_ms) AS (
            SELECT camera_id, stream, start_ms, end_ms, start_ms / 3600000 * 3600000
            FROM recordings
            UNION ALL
            SELECT camera_id, stream, start_ms, end_ms, hour_ms + 3600000 FROM touched
            WHERE end_ms > hour_ms + 3600000)
        SELECT camera_id, stream, hour_ms,
               SUM(MIN(end_ms, hour_ms + 3600000) - MAX(start_ms, hour_ms))
        FROM touched GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"""
    ).fetchall()
    kept_bytes = conn.execute(
        "SELECT storage_id, camera_id, files, bytes FROM recorded_bytes ORDER BY 1, 2"
    ).fetchall()
    summed_bytes = conn.execute(
        "SELECT storage_id, camera_id, COUNT(*), SUM(size) FROM recordings "
        "GROUP BY 1, 2 ORDER BY 1, 2"
    ).fetchall()
    return hours, summed_hours, kept_bytes, summed_bytes


async def _assert_totals_exact(db: Database) -> None:
    hours, summed_hours, kept_bytes, summed_bytes = await db.run(_totals)
    assert hours == summed_hours
    assert kept_bytes == summed_bytes


async def test_mends_rebuilds_and_forgets_keep_the_totals_exact(
    tmp_path: Path, db: Database
) -> None:
    root = tmp_path / "archive"
    files = _archive(root)
    index = ArchiveIndex(db)
    await index.open()
    first = await index.reconcile("disk", root)
    assert (first.added, first.removed) == (len(files), 0)
    await _assert_totals_exact(db)
    usage = await index.usage()
    assert usage["disk"]["cam-a"] == 2 * 3 * sum(range(1, 21))
    # Files gone from one day, a day gone whole, a new day: mended both ways.
    for path in files[:5] + [f for f in files if "2026-01-06" in str(f) and "cam-b" in str(f)]:
        path.unlink()
    _file(root, "cam-a", "main", START_MS + 9 * DAY_MS, size=7)
    again = await index.reconcile("disk", root)
    assert (again.added, again.removed) == (1, 5 + 40)
    await _assert_totals_exact(db)
    # The recorder's and retention's own rows go through the triggers, as before.
    later = START_MS + 20 * DAY_MS
    extra = _file(root, "cam-b", "sub", later, size=3)
    relative = str(extra.relative_to(root))
    await index.add(Recording("disk", "cam-b", "sub", relative, later, later + 600_000, 3))
    await index.remove("disk", [str(files[10].relative_to(root))])
    await _assert_totals_exact(db)
    # A rebuild checks every row against its file: files[10] is on the disk without its row,
    # and files[20] grew since it was indexed; a mend at a start looks at names only.
    files[20].write_bytes(b"\x00" * 500)
    mended = await index.reconcile("disk", root)
    assert (mended.added, mended.removed) == (1, 0)
    await index.remove("disk", [str(files[10].relative_to(root))])
    rebuilt = await index.rebuild("disk", root)
    assert (rebuilt.added, rebuilt.removed) == (2, 1)
    await _assert_totals_exact(db)
    (grown,) = [r for r in await index.overlapping("cam-a", "main", START_MS, START_MS + 2 * DAY_MS)
                if r.path == str(files[20].relative_to(root))]  # fmt: skip
    assert grown.size == 500
    await index.forget("disk")
    await _assert_totals_exact(db)
    assert await index.usage() == {}


async def test_a_file_closed_while_its_day_is_walked_keeps_its_row(
    tmp_path: Path, db: Database
) -> None:
    """The recorder renames and indexes a file just after the walk listed its folder: the
    row was not known before the listing, so it is not taken for one whose file is gone."""
    root = tmp_path / "archive"
    _file(root, "cam-a", "main", START_MS)
    part = naming.part_path(root, "cam-a", "main", START_MS + TEN_MINUTES_MS)
    part.write_bytes(b"")
    index = ArchiveIndex(db)
    await index.open()
    closed: list[str] = []

    async def walk(function: Callable[..., Any], *args: Any) -> Any:
        result = function(*args)
        if function is _walk_day and not closed:  # the recorder closes its file now
            final = naming.closed_path(root, "cam-a", "main", START_MS + TEN_MINUTES_MS, 5_000)
            part.rename(final)
            relative = str(final.relative_to(root))
            await index.add(Recording("disk", "cam-a", "main", relative,
                                      START_MS + TEN_MINUTES_MS,
                                      START_MS + TEN_MINUTES_MS + 5_000, 0))  # fmt: skip
            closed.append(relative)
        return result

    result = await index.reconcile("disk", root, writing={part}, run=walk)
    assert (result.added, result.removed, result.recovered) == (1, 0, 0)
    rows = await index.overlapping("cam-a", "main", START_MS, START_MS + DAY_MS)
    assert [r.path for r in rows][1:] == closed
    await _assert_totals_exact(db)


async def test_a_storage_takes_recordings_before_its_index_is_mended(
    tmp_path: Path, db: Database
) -> None:
    root = tmp_path / "archive"
    files = _archive(root)
    storage_id = uuid.uuid4().hex
    write_marker(root, storage_id)
    record = StorageRecord(server_id="s", name="disk", path=str(root), created_ms=0)
    index = ArchiveIndex(db)
    await index.open()
    pool = StoragePool("s", lambda: [Storage(id=storage_id, record=record)], index, ManualClock())
    await pool.check()  # as at a start: the storage is online, its mend just begun
    chosen = pool.choose()
    assert chosen is not None
    assert chosen.id == storage_id
    assert not chosen.indexed
    await pool.until_mended()
    assert chosen.indexed
    assert (await index.usage())[storage_id]["cam-a"] > 0
    assert len(await index.overlapping("cam-b", "sub", START_MS, START_MS + 6 * DAY_MS)) == len(
        [f for f in files if "cam-b/sub" in str(f)]
    )
    await pool.stop()
