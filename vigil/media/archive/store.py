"""SQL of the archive index: one row per recorded file (local to this server).

A recording lives on one storage; its path is relative to that storage's root, so a storage
mounted elsewhere keeps its index.
"""

import sqlite3
from dataclasses import dataclass

from vigil.state import Migration

HOUR_MS = 3_600_000
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


def insert(conn: sqlite3.Connection, recordings: list[Recording]) -> None:
    conn.executemany(
        f"INSERT INTO recordings ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "  # noqa: S608
        # Not OR REPLACE: a replaced row is deleted without its triggers firing.
        "ON CONFLICT (storage_id, path) DO UPDATE SET camera_id = excluded.camera_id, "
        "stream = excluded.stream, start_ms = excluded.start_ms, end_ms = excluded.end_ms, "
        "size = excluded.size, fragments = excluded.fragments",
        [
            (
                r.storage_id,
                r.camera_id,
                r.stream,
                r.path,
                r.start_ms,
                r.end_ms,
                r.size,
                r.fragments,
            )
            for r in recordings
        ],
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


def delete_storage(conn: sqlite3.Connection, storage_id: str) -> None:
    conn.execute("DELETE FROM recordings WHERE storage_id = ?", (storage_id,))


def paths_on(conn: sqlite3.Connection, storage_id: str) -> set[str]:
    rows = conn.execute("SELECT path FROM recordings WHERE storage_id = ?", (storage_id,))
    return {row[0] for row in rows}


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
    rows = conn.execute(
        "SELECT storage_id, camera_id, SUM(size) FROM recordings GROUP BY storage_id, camera_id"
    )
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
