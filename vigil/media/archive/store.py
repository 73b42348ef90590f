"""SQL of the archive index: one row per recorded file (local to this server).

A recording lives on one storage; its path is relative to that storage's root, so a storage
mounted elsewhere keeps its index.
"""

import sqlite3
from dataclasses import dataclass

from vigil.state import Migration

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
        f"INSERT OR REPLACE INTO recordings ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
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


# Recordings are at most a few minutes long, so those overlapping a range start at most this
# much before it; the bound lets the index answer from a range scan.
MAX_RECORDING_MS = 15 * 60 * 1000


def overlapping(
    conn: sqlite3.Connection, camera_id: str, stream: str, from_ms: int, to_ms: int
) -> list[Recording]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM recordings "  # noqa: S608
        "WHERE camera_id = ? AND stream = ? AND start_ms >= ? AND start_ms < ? AND end_ms > ? "
        "ORDER BY start_ms",
        (camera_id, stream, from_ms - MAX_RECORDING_MS, to_ms, from_ms),
    )
    return [Recording(*row) for row in rows]
