"""SQL of the archive index: one row per recorded file (local to this server)."""

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
]


@dataclass(frozen=True)
class Recording:
    camera_id: str
    stream: str
    path: str
    start_ms: int
    end_ms: int
    size: int


def insert(conn: sqlite3.Connection, recordings: list[Recording]) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO recordings (camera_id, stream, path, start_ms, end_ms, size) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(r.camera_id, r.stream, r.path, r.start_ms, r.end_ms, r.size) for r in recordings],
    )


def delete_paths(conn: sqlite3.Connection, paths: list[str]) -> None:
    conn.executemany("DELETE FROM recordings WHERE path = ?", [(p,) for p in paths])


def delete_all(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM recordings")


def ended_before(conn: sqlite3.Connection, camera_id: str, time_ms: int, limit: int) -> list[str]:
    """Paths of a camera's recordings (any stream) that ended before `time_ms`, oldest first."""
    rows = conn.execute(
        "SELECT path FROM recordings WHERE camera_id = ? AND start_ms < ? AND end_ms <= ? "
        "ORDER BY start_ms LIMIT ?",
        (camera_id, time_ms, time_ms, limit),
    )
    return [row[0] for row in rows]


def all_paths(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT path FROM recordings")}


# Recordings are at most a few minutes long, so those overlapping a range start at most this
# much before it; the bound lets the index answer from a range scan.
MAX_RECORDING_MS = 15 * 60 * 1000


def overlapping(
    conn: sqlite3.Connection, camera_id: str, stream: str, from_ms: int, to_ms: int
) -> list[Recording]:
    rows = conn.execute(
        "SELECT camera_id, stream, path, start_ms, end_ms, size FROM recordings "
        "WHERE camera_id = ? AND stream = ? AND start_ms >= ? AND start_ms < ? AND end_ms > ? "
        "ORDER BY start_ms",
        (camera_id, stream, from_ms - MAX_RECORDING_MS, to_ms, from_ms),
    )
    return [Recording(*row) for row in rows]
