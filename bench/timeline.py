"""How long the timeline of many cameras takes over a long archive: 64 cameras, a year each.

Fills a real archive index (SQLite, the server's schema and migrations) with one row per
one-minute recording, as the recorder leaves them: 525,600 rows a camera-year. Rows are
inserted directly (making and indexing 33 million files, as bench/archive_rebuild.py does
for one camera, would take hours and say nothing more here), and the two indexes retention
reads are dropped first to keep the build short: the timeline does not use them. Then times
what `GET /api/v1/timeline` runs for each camera (the media service's `recorded_ms` and
`timeline`, minus HTTP): a year in days (UTC, and local days half an hour off UTC) and in
hours, 6 days in minutes, a day and a week of intervals. Each twice: the first right after
the build, then again. Prints one JSON object.

Run: `python -m bench.timeline [--cameras 64] [--days 365]`.
"""

import argparse
import asyncio
import json
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vigil.media.archive import timeline
from vigil.media.archive.index import ArchiveIndex
from vigil.media.archive.store import Recording, insert
from vigil.state import Database

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
BATCH = 200_000


def _rows(camera_id: str, days: int, first_path: int) -> Iterator[Recording]:
    for n in range(days * 24 * 60):
        start = START_MS + n * MINUTE_MS
        # Short paths: the timeline reads only its own index, not the paths.
        yield Recording("bench", camera_id, "main", str(first_path + n), start,
                        start + MINUTE_MS, 8_000_000)  # fmt: skip


def _fill(conn: sqlite3.Connection, cameras: list[str], days: int) -> int:
    conn.execute("DROP INDEX recordings_by_age")
    conn.execute("DROP INDEX recordings_by_camera_age")
    count = 0
    for camera_id in cameras:
        batch: list[Recording] = []
        for row in _rows(camera_id, days, count):
            batch.append(row)
            if len(batch) == BATCH:
                _insert(conn, batch)
                count += len(batch)
                batch = []
        _insert(conn, batch)
        count += len(batch)
    return count


def _insert(conn: sqlite3.Connection, rows: list[Recording]) -> None:
    conn.execute("BEGIN")
    insert(conn, rows)
    conn.execute("COMMIT")


async def _buckets(
    index: ArchiveIndex, cameras: list[str], span_ms: int, bucket_ms: int, offset_ms: int = 0
) -> int:
    """The bucketed timeline of every camera, as the API asks for it: one camera at a time."""
    from_ms = START_MS + offset_ms
    to_ms = from_ms + span_ms
    total = 0
    for camera_id in cameras:
        recorded = await index.recorded_per_bucket(camera_id, "main", from_ms, to_ms, bucket_ms)
        total += len(timeline.add_to_buckets(recorded, [], from_ms, to_ms, bucket_ms))
    return total


async def _intervals(index: ArchiveIndex, cameras: list[str], span_ms: int) -> int:
    to_ms = START_MS + span_ms
    total = 0
    for camera_id in cameras:
        spans = await index.spans(camera_id, "main", START_MS, to_ms)
        total += len(timeline.merge(spans, START_MS, to_ms))
    return total


async def _measure(database: Path, camera_count: int, days: int) -> dict[str, Any]:
    db = Database(database)
    await db.open()
    try:
        index = ArchiveIndex(db)
        await index.open()
        cameras = [uuid.uuid4().hex for _ in range(camera_count)]
        started = time.perf_counter()
        rows = await db.run(lambda conn: _fill(conn, cameras, days))
        built = time.perf_counter() - started
        year_ms = days * DAY_MS
        asks = {
            f"{days} days in 1-day buckets": lambda: _buckets(index, cameras, year_ms, DAY_MS),
            f"{days} days in 1-hour buckets": lambda: _buckets(index, cameras, year_ms, HOUR_MS),
            # Days of a time zone half an hour off UTC: every bucket cuts two hours.
            f"{days} days in 1-day buckets from XX:30": lambda: _buckets(
                index, cameras, year_ms, DAY_MS, HOUR_MS // 2
            ),
            "6 days in 1-minute buckets": lambda: _buckets(index, cameras, 6 * DAY_MS, MINUTE_MS),
            "1 day of intervals": lambda: _intervals(index, cameras, DAY_MS),
            "7 days of intervals": lambda: _intervals(index, cameras, 7 * DAY_MS),
        }
        seconds: dict[str, list[float]] = {}
        for name, ask in asks.items():
            for _ in range(2):
                started = time.perf_counter()
                await ask()
                seconds.setdefault(name, []).append(round(time.perf_counter() - started, 3))
        return {"rows": rows, "seconds_to_build": round(built, 1), "seconds": seconds}
    finally:
        await db.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cameras", type=int, default=64)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        database = Path(name) / "db.sqlite"
        result = asyncio.run(_measure(database, args.cameras, args.days))
        size_mb = round(database.stat().st_size / 1e6)
    print(
        json.dumps(
            {
                "bench": "timeline",
                "cameras": args.cameras,
                "days": args.days,
                "database_mb": size_mb,
                **result,
                "note": "each figure is all cameras, one after the other, first and second run",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
