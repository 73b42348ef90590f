"""How long the archive index takes to rebuild from the files alone: a year of one camera.

Makes a year of one-minute recordings of one stream as empty files named as the recorder
names them (the rebuild reads names, not contents), then times `ArchiveIndex.rebuild` on a
real SQLite database. Prints one JSON object. Target: seconds for the year, not minutes.

Run: `python -m bench.archive_rebuild [--days 365]`.
"""

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from vigil.media.archive import naming
from vigil.media.archive.index import ArchiveIndex
from vigil.state import Database

MINUTE_MS = 60_000


def _make_files(root: Path, days: int) -> int:
    start = 1_767_225_600_000  # 2026-01-01T00:00:00Z
    count = days * 24 * 60
    folders: set[Path] = set()
    for n in range(count):
        path = naming.closed_path(root, "camera1", "main", start + n * MINUTE_MS, MINUTE_MS)
        if path.parent not in folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            folders.add(path.parent)
        path.touch()
    return count


async def _rebuild(root: Path, database: Path) -> tuple[float, float, int]:
    db = Database(database)
    await db.open()
    try:
        index = ArchiveIndex(db)
        await index.open()
        started = time.perf_counter()
        first = await index.reconcile("bench", root)  # an empty index: everything is added
        opened = time.perf_counter() - started
        started = time.perf_counter()
        again = await index.rebuild("bench", root)
        rebuilt = time.perf_counter() - started
        assert first.added == again.added
        return opened, rebuilt, again.added
    finally:
        await db.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        started = time.perf_counter()
        files = _make_files(folder / "archive", args.days)
        made = time.perf_counter() - started
        opened, rebuilt, indexed = asyncio.run(_rebuild(folder / "archive", folder / "db.sqlite"))
    print(
        json.dumps(
            {
                "bench": "archive_rebuild",
                "days": args.days,
                "files": files,
                "indexed": indexed,
                "seconds_to_make_the_files": round(made, 1),
                "seconds_first_open_of_an_empty_index": round(opened, 2),
                "seconds_rebuild": round(rebuilt, 2),
                "target": "a year of one camera in seconds",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
