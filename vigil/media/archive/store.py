"""SQL of the archive index: one row per recorded file (local to this server).

A recording lives on one storage; its path is relative to that storage's root, so a storage
mounted elsewhere keeps its index.
"""

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from vigil.state import Migration

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
# Recordings are at most a few minutes long, so those overlapping a range start at most this
# much before it; the bound lets the index answer from a range scan. A recording touches two
# hours at most (`recorded_hours`).
MAX_RECORDING_MS = 15 * 60 * 1000


def _hours(row: str, sign: str) -> str:
    """Statements of a trigger that add (`sign` +) or take away (-) a recording's time in
    the hours it touches (`row`: NEW or OLD); taking away drops hours left with none."""
    first = f"{row}.start_ms / {HOUR_MS} * {HOUR_MS}"
    upsert = "ON CONFLICT DO UPDATE SET recorded_ms = recorded_ms + excluded.recorded_ms;"
    statements = f"""
        INSERT INTO recorded_hours
        SELECT {row}.camera_id, {row}.stream, {first},
               {sign}(MIN({row}.end_ms, {first} + {HOUR_MS}) - {row}.start_ms) WHERE true
        {upsert}
        INSERT INTO recorded_hours
        SELECT {row}.camera_id, {row}.stream, {first} + {HOUR_MS},
               {sign}({row}.end_ms - {first} - {HOUR_MS}) WHERE {row}.end_ms > {first} + {HOUR_MS}
        {upsert}"""
    if sign == "+":
        return statements
    return f"""{statements}
        DELETE FROM recorded_hours WHERE camera_id = {row}.camera_id AND stream = {row}.stream
            AND hour_ms IN ({first}, {first} + {HOUR_MS}) AND recorded_ms <= 0;"""  # noqa: S608


# While a row is in `bulk_mend`, the triggers leave the totals alone: a mend of many rows
# (`mend`, `forget_storage`) keeps them itself, by set, in the same transaction.
_NOT_BULK = "WHEN NOT EXISTS (SELECT 1 FROM bulk_mend)"


def _triggers(total: str, statements: Callable[[str, str], str], updated: str) -> str:
    """The three triggers that keep `total` in step with the rows, by `statements` (adding
    or taking away one row); an update of the `updated` columns takes away and adds."""
    return f"""
        CREATE TRIGGER {total}_insert AFTER INSERT ON recordings {_NOT_BULK} BEGIN
            {statements("NEW", "+")}
        END;
        CREATE TRIGGER {total}_delete AFTER DELETE ON recordings {_NOT_BULK} BEGIN
            {statements("OLD", "-")}
        END;
        CREATE TRIGGER {total}_update AFTER UPDATE OF {updated} ON recordings {_NOT_BULK} BEGIN
            {statements("OLD", "-")}
            {statements("NEW", "+")}
        END;"""


def _bytes(row: str, sign: str) -> str:
    """A trigger's statements adding (+) or taking away (-) a recording from its storage's
    and camera's totals; a total left with no file is dropped."""
    add = f"""
        INSERT INTO recorded_bytes VALUES ({row}.storage_id, {row}.camera_id, {sign}1,
                                           {sign}{row}.size)
        ON CONFLICT DO UPDATE SET files = files + excluded.files, bytes = bytes + excluded.bytes;"""  # noqa: S608
    if sign == "+":
        return add
    return f"""{add}
        DELETE FROM recorded_bytes
        WHERE storage_id = {row}.storage_id AND camera_id = {row}.camera_id AND files <= 0;"""  # noqa: S608


MIGRATIONS = [
    Migration(
        "the archive index",
        """
        CREATE TABLE recordings (
            id INTEGER PRIMARY KEY,
            camera_id TEXT NOT NULL,
            stream TEXT NOT NULL,
            path TEXT NOT NULL UNIQUE,      -- relative to the storage's root
            start_ms INTEGER NOT NULL,
            end_ms INTEGER NOT NULL,
            size INTEGER NOT NULL
        );
        CREATE INDEX recordings_by_time ON recordings (camera_id, stream, start_ms);
        """,
    ),
    # The index is made from the files alone, so the rows of the one-folder archive are
    # dropped rather than converted: the storage's first reconcile enters its files again.
    Migration(
        "recordings on several storages",
        """
        DROP TABLE recordings;
        CREATE TABLE recordings (
            id INTEGER PRIMARY KEY,
            storage_id TEXT NOT NULL,
            camera_id TEXT NOT NULL,
            stream TEXT NOT NULL,
            path TEXT NOT NULL,             -- relative to the storage's root
            start_ms INTEGER NOT NULL,
            end_ms INTEGER NOT NULL,
            size INTEGER NOT NULL,
            UNIQUE (storage_id, path)
        );
        CREATE INDEX recordings_by_time ON recordings (camera_id, stream, start_ms);
        CREATE INDEX recordings_by_age ON recordings (storage_id, start_ms);
        """,
    ),
    Migration(
        "a seek index per recording",
        """
        ALTER TABLE recordings ADD COLUMN fragments BLOB;  -- archive/seek.py; NULL: not known
        -- Retention by age asks per storage and camera, and must not scan other cameras.
        CREATE INDEX recordings_by_camera_age ON recordings (storage_id, camera_id, start_ms);
        """,
    ),
    Migration(
        "timelines from the index alone",
        """
        -- With end_ms in it the index covers what a timeline reads: a year of a camera's
        -- rows is summed without a look at the table.
        DROP INDEX recordings_by_time;
        CREATE INDEX recordings_by_time ON recordings (camera_id, stream, start_ms, end_ms);
        """,
    ),
    Migration(
        "recorded time per hour",
        f"""
        CREATE TABLE recorded_hours (
            camera_id TEXT NOT NULL,
            stream TEXT NOT NULL,
            hour_ms INTEGER NOT NULL,       -- the hour's start (UTC)
            recorded_ms INTEGER NOT NULL,   -- how much of it the recordings cover
            PRIMARY KEY (camera_id, stream, hour_ms)
        ) WITHOUT ROWID;
        CREATE TRIGGER recorded_hours_insert AFTER INSERT ON recordings BEGIN
            {_hours("NEW", "+")}
        END;
        CREATE TRIGGER recorded_hours_delete AFTER DELETE ON recordings BEGIN
            {_hours("OLD", "-")}
        END;
        CREATE TRIGGER recorded_hours_update
        AFTER UPDATE OF camera_id, stream, start_ms, end_ms ON recordings BEGIN
            {_hours("OLD", "-")}
            {_hours("NEW", "+")}
        END;
        -- What was recorded before (3600000: an hour in ms).
        WITH touched(camera_id, stream, start_ms, end_ms, hour_ms) AS (
            SELECT camera_id, stream, start_ms, end_ms, start_ms / 3600000 * 3600000
            FROM recordings
            UNION ALL
            SELECT camera_id, stream, start_ms, end_ms, start_ms / 3600000 * 3600000 + 3600000
            FROM recordings WHERE end_ms > start_ms / 3600000 * 3600000 + 3600000)
        INSERT INTO recorded_hours
        SELECT camera_id, stream, hour_ms,
               SUM(MIN(end_ms, hour_ms + 3600000) - MAX(start_ms, hour_ms))
        FROM touched GROUP BY camera_id, stream, hour_ms;
        """,  # noqa: S608
    ),
    Migration(
        "running totals, kept by set in mends",
        f"""
        CREATE TABLE bulk_mend (since_ms INTEGER NOT NULL);
        DROP TRIGGER recorded_hours_insert;
        DROP TRIGGER recorded_hours_delete;
        DROP TRIGGER recorded_hours_update;
        {_triggers("recorded_hours", _hours, "camera_id, stream, start_ms, end_ms")}
        -- What each storage holds of each camera: storage usage without a scan of the table.
        CREATE TABLE recorded_bytes (
            storage_id TEXT NOT NULL,
            camera_id TEXT NOT NULL,
            files INTEGER NOT NULL,
            bytes INTEGER NOT NULL,
            PRIMARY KEY (storage_id, camera_id)
        ) WITHOUT ROWID;
        {_triggers("recorded_bytes", _bytes, "storage_id, camera_id, size")}
        INSERT INTO recorded_bytes
        SELECT storage_id, camera_id, COUNT(*), SUM(size) FROM recordings
        GROUP BY storage_id, camera_id;
        """,  # noqa: S608
    ),
]


@dataclass(frozen=True)
class Recording:
    storage_id: str
    camera_id: str
    stream: str
    path: str
    start_ms: int
    end_ms: int
    size: int
    # Packed by archive/seek.py; None when the index was made from file names alone.
    fragments: bytes | None = None


_COLUMNS = "storage_id, camera_id, stream, path, start_ms, end_ms, size, fragments"
_PLACES = ", ".join("?" * len(_COLUMNS.split(",")))


def _values(r: Recording) -> tuple[Any, ...]:
    return (r.storage_id, r.camera_id, r.stream, r.path, r.start_ms, r.end_ms, r.size,
            r.fragments)  # fmt: skip


def insert(conn: sqlite3.Connection, recordings: list[Recording]) -> None:
    conn.executemany(
        f"INSERT INTO recordings ({_COLUMNS}) VALUES ({_PLACES}) "  # noqa: S608
        # Not OR REPLACE: a replaced row is deleted without its triggers firing.
        "ON CONFLICT (storage_id, path) DO UPDATE SET camera_id = excluded.camera_id, "
        "stream = excluded.stream, start_ms = excluded.start_ms, end_ms = excluded.end_ms, "
        "size = excluded.size, fragments = excluded.fragments",
        [_values(r) for r in recordings],
    )


def set_fragments(conn: sqlite3.Connection, storage_id: str, path: str, packed: bytes) -> None:
    conn.execute(
        "UPDATE recordings SET fragments = ? WHERE storage_id = ? AND path = ?",
        (packed, storage_id, path),
    )


def delete_paths(conn: sqlite3.Connection, storage_id: str, paths: list[str]) -> None:
    conn.executemany(
        "DELETE FROM recordings WHERE storage_id = ? AND path = ?",
        [(storage_id, p) for p in paths],
    )


def _change_totals(conn: sqlite3.Connection, source: str, sign: str, params: Sequence[Any]) -> None:
    """Add (`sign` +) or take away (-) the recordings that `source` selects (camera_id,
    stream, start_ms, end_ms, storage_id, size) from the per-hour and per-storage totals."""
    hour = HOUR_MS
    conn.execute(
        f"""
        WITH chosen AS ({source}),
        touched(camera_id, stream, start_ms, end_ms, hour_ms) AS (
            SELECT camera_id, stream, start_ms, end_ms, start_ms / {hour} * {hour} FROM chosen
            UNION ALL
            SELECT camera_id, stream, start_ms, end_ms, start_ms / {hour} * {hour} + {hour}
            FROM chosen WHERE end_ms > start_ms / {hour} * {hour} + {hour})
        INSERT INTO recorded_hours
        SELECT camera_id, stream, hour_ms,
               {sign}SUM(MIN(end_ms, hour_ms + {hour}) - MAX(start_ms, hour_ms))
        FROM touched WHERE true GROUP BY camera_id, stream, hour_ms
        ON CONFLICT DO UPDATE SET recorded_ms = recorded_ms + excluded.recorded_ms""",  # noqa: S608
        params,
    )
    conn.execute(
        f"""
        WITH chosen AS ({source})
        INSERT INTO recorded_bytes
        SELECT storage_id, camera_id, {sign}COUNT(*), {sign}SUM(size) FROM chosen
        WHERE true GROUP BY storage_id, camera_id
        ON CONFLICT DO UPDATE SET files = files + excluded.files, bytes = bytes + excluded.bytes
        """,  # noqa: S608
        params,
    )
    if sign == "-":  # totals left with nothing go, among those of the streams touched
        conn.execute(
            f"""
            WITH chosen AS ({source})
            DELETE FROM recorded_hours WHERE recorded_ms <= 0
            AND (camera_id, stream) IN (SELECT camera_id, stream FROM chosen)""",  # noqa: S608
            params,
        )
        conn.execute("DELETE FROM recorded_bytes WHERE files <= 0")


_TOTALLED = "camera_id, stream, start_ms, end_ms, storage_id, size"


def mend(
    conn: sqlite3.Connection, storage_id: str, adding: list[Recording], removing: list[str]
) -> None:
    """Many rows of one storage in (those not yet there) and out (by path) at once, inside
    the caller's transaction: the totals are kept by set, not by a trigger for each row."""
    conn.execute("INSERT INTO bulk_mend VALUES (0)")
    try:
        if removing:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS unstaged (path TEXT PRIMARY KEY)")
            conn.execute("DELETE FROM temp.unstaged")
            conn.executemany("INSERT OR IGNORE INTO temp.unstaged VALUES (?)",
                             [(p,) for p in removing])  # fmt: skip
            where = "storage_id = ? AND path IN (SELECT path FROM temp.unstaged)"
            leaving = f"SELECT {_TOTALLED} FROM recordings WHERE {where}"  # noqa: S608
            _change_totals(conn, leaving, "-", (storage_id,))
            conn.execute(f"DELETE FROM recordings WHERE {where}", (storage_id,))  # noqa: S608
        if adding:
            conn.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS staged ({_COLUMNS}, UNIQUE (storage_id, path))"
            )
            conn.execute("DELETE FROM temp.staged")
            staging = f"INSERT OR IGNORE INTO temp.staged VALUES ({_PLACES})"  # noqa: S608
            conn.executemany(staging, [_values(r) for r in adding])
            # A row entered meanwhile by its recorder is already counted.
            conn.execute(
                "DELETE FROM temp.staged WHERE EXISTS (SELECT 1 FROM recordings r "
                "WHERE r.storage_id = staged.storage_id AND r.path = staged.path)"
            )
            conn.execute(
                f"INSERT INTO recordings ({_COLUMNS}) SELECT {_COLUMNS} FROM temp.staged"  # noqa: S608
            )
            _change_totals(conn, f"SELECT {_TOTALLED} FROM temp.staged", "+", ())  # noqa: S608
    finally:
        conn.execute("DELETE FROM bulk_mend")


def forget_storage(conn: sqlite3.Connection, storage_id: str) -> None:
    """Every row of a storage out, the totals kept by set."""
    conn.execute("INSERT INTO bulk_mend VALUES (0)")
    try:
        source = f"SELECT {_TOTALLED} FROM recordings WHERE storage_id = ?"  # noqa: S608
        _change_totals(conn, source, "-", (storage_id,))
        conn.execute("DELETE FROM recordings WHERE storage_id = ?", (storage_id,))
    finally:
        conn.execute("DELETE FROM bulk_mend")


def cameras_on(conn: sqlite3.Connection, storage_id: str) -> list[str]:
    """The cameras a storage has rows of, one index search each (not a scan of its rows)."""
    cameras: list[str] = []
    while True:
        row = conn.execute(
            "SELECT MIN(camera_id) FROM recordings WHERE storage_id = ? AND camera_id > ?",
            (storage_id, cameras[-1] if cameras else ""),
        ).fetchone()
        if row[0] is None:
            return cameras
        cameras.append(row[0])


def days_of(conn: sqlite3.Connection, storage_id: str, camera_id: str) -> list[int]:
    """The (UTC) days that a camera has rows of on a storage, each by its start: one index
    search per day."""
    days: list[int] = []
    after = 0
    while True:
        row = conn.execute(
            "SELECT MIN(start_ms) FROM recordings "
            "WHERE storage_id = ? AND camera_id = ? AND start_ms >= ?",
            (storage_id, camera_id, after),
        ).fetchone()
        if row[0] is None:
            return days
        day = row[0] // DAY_MS * DAY_MS
        days.append(day)
        after = day + DAY_MS


def rows_between(
    conn: sqlite3.Connection, storage_id: str, camera_id: str, from_ms: int, to_ms: int
) -> dict[str, tuple[int, int, int]]:
    """(start_ms, end_ms, size) of a camera's rows on a storage starting in [from_ms, to_ms),
    any stream, by path."""
    rows = conn.execute(
        "SELECT path, start_ms, end_ms, size FROM recordings "
        "WHERE storage_id = ? AND camera_id = ? AND start_ms >= ? AND start_ms < ?",
        (storage_id, camera_id, from_ms, to_ms),
    )
    return {path: (start, end, size) for path, start, end, size in rows}


def ended_before(
    conn: sqlite3.Connection, storage_id: str, camera_id: str, time_ms: int, limit: int
) -> list[Recording]:
    """A camera's recordings on a storage (any stream) that ended before `time_ms`, oldest
    first."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM recordings "  # noqa: S608
        "WHERE camera_id = ? AND start_ms < ? AND end_ms <= ? AND storage_id = ? "
        "ORDER BY start_ms LIMIT ?",
        (camera_id, time_ms, time_ms, storage_id, limit),
    )
    return [Recording(*row) for row in rows]


def neighbour(
    conn: sqlite3.Connection, camera_id: str, stream: str, time_ms: int, *, later: bool
) -> Recording | None:
    """The recording of a stream that starts first after `time_ms` (`later`), or last at or
    before it."""
    condition, order = ("start_ms > ?", "ASC") if later else ("start_ms <= ?", "DESC")
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM recordings "  # noqa: S608
        f"WHERE camera_id = ? AND stream = ? AND {condition} ORDER BY start_ms {order} LIMIT 1",
        (camera_id, stream, time_ms),
    ).fetchone()
    return Recording(*row) if row is not None else None


def oldest_on(conn: sqlite3.Connection, storage_id: str, limit: int) -> list[Recording]:
    """The oldest recordings of a storage, of all its cameras."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM recordings "  # noqa: S608
        "WHERE storage_id = ? ORDER BY start_ms LIMIT ?",
        (storage_id, limit),
    )
    return [Recording(*row) for row in rows]


def usage(conn: sqlite3.Connection) -> dict[str, dict[str, int]]:
    """Bytes recorded per storage, per camera."""
    rows = conn.execute("SELECT storage_id, camera_id, bytes FROM recorded_bytes")
    result: dict[str, dict[str, int]] = {}
    for storage_id, camera_id, size in rows:
        result.setdefault(storage_id, {})[camera_id] = size
    return result


# Those of a stream overlapping [from_ms, to_ms): parameters `_overlap(...)`.
_OVERLAPPING = "camera_id = ? AND stream = ? AND start_ms >= ? AND start_ms < ? AND end_ms > ?"


def _overlap(
    camera_id: str, stream: str, from_ms: int, to_ms: int
) -> tuple[str, str, int, int, int]:
    return camera_id, stream, from_ms - MAX_RECORDING_MS, to_ms, from_ms


def overlapping(
    conn: sqlite3.Connection, camera_id: str, stream: str, from_ms: int, to_ms: int
) -> list[Recording]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM recordings WHERE {_OVERLAPPING} ORDER BY start_ms",  # noqa: S608
        _overlap(camera_id, stream, from_ms, to_ms),
    )
    return [Recording(*row) for row in rows]


def spans(
    conn: sqlite3.Connection, camera_id: str, stream: str, from_ms: int, to_ms: int
) -> list[tuple[int, int]]:
    """(start_ms, end_ms) of the recordings overlapping a range, from the index alone."""
    rows = conn.execute(
        f"SELECT start_ms, end_ms FROM recordings WHERE {_OVERLAPPING}",  # noqa: S608
        _overlap(camera_id, stream, from_ms, to_ms),
    )
    return rows.fetchall()


# For each bucket [s, e) of the range, the time recorded in it: the whole hours within it
# [hs, he) from `recorded_hours`, the rest before and after them summed from the recordings
# (an index search each, skipped when the part is empty; covering: no look at the table).
_PER_BUCKET = f"""
WITH RECURSIVE numbers(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM numbers WHERE n + 1 < :count),
buckets(n, s, e) AS (
    SELECT n, :from + n * :bucket, MIN(:from + (n + 1) * :bucket, :to) FROM numbers),
hours(n, s, e, hs) AS (
    SELECT n, s, e, MIN(e, (s + {HOUR_MS - 1}) / {HOUR_MS} * {HOUR_MS}) FROM buckets),
parts(n, s, e, hs, he) AS (SELECT n, s, e, hs, MAX(hs, e / {HOUR_MS} * {HOUR_MS}) FROM hours)
SELECT n,
    (SELECT COALESCE(SUM(recorded_ms), 0) FROM recorded_hours
     WHERE hs < he AND camera_id = :camera AND stream = :stream
       AND hour_ms >= hs AND hour_ms < he)
    + (SELECT COALESCE(SUM(MIN(end_ms, hs) - MAX(start_ms, s)), 0) FROM recordings
       WHERE s < hs AND camera_id = :camera AND stream = :stream
         AND start_ms >= s - {MAX_RECORDING_MS} AND start_ms < hs AND end_ms > s)
    + (SELECT COALESCE(SUM(MIN(end_ms, e) - MAX(start_ms, he)), 0) FROM recordings
       WHERE he < e AND camera_id = :camera AND stream = :stream
         AND start_ms >= he - {MAX_RECORDING_MS} AND start_ms < e AND end_ms > he)
FROM parts
"""  # noqa: S608


def recorded_per_bucket(
    conn: sqlite3.Connection,
    camera_id: str,
    stream: str,
    from_ms: int,
    to_ms: int,
    bucket_ms: int,
) -> list[int]:
    """Milliseconds recorded in each bucket of `bucket_ms` from `from_ms` (the last one ends
    at `to_ms`), in one statement: a year of a camera is half a million recordings, but 8,760
    hours."""
    count = -(-(to_ms - from_ms) // bucket_ms)
    recorded = [0] * count
    query = {"count": count, "from": from_ms, "to": to_ms, "bucket": bucket_ms,
             "camera": camera_id, "stream": stream}  # fmt: skip
    for n, ms in conn.execute(_PER_BUCKET, query):
        recorded[n] = ms
    return recorded
