"""How long the archive index takes to rebuild from the files alone: a year of one camera.

Makes a year of one-minute recordings of one stream as empty files named as the recorder
names them (the index reads names and sizes, not contents), then times on a real SQLite
database the first mend of an empty index (every file entered), the mend of an unchanged one
and `ArchiveIndex.rebuild` (every row checked against its file). Prints one JSON object.

With `--cameras N`, N cameras each have that many days; the mend of an unchanged index (what
every start does) is timed too, and the peak memory of this process is given before and after
the index work: the walk goes a camera-day at a time, so what it adds does not grow with the
archive.

Run: `python -m bench.archive_rebuild [--days 365] [--cameras 1]`.
"""

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

from bench.proc import peak_rss_mib
from vigil.media.archive import naming
from vigil.media.archive.index import ArchiveIndex
from vigil.state import Database

MINUTE_MS = 60_000


def _make_files(root: Path, days: int, cameras: int) -> int:
    start = 1_767_225_600_000  # 2026-01-01T00:00:00Z
    count = days * 24 * 60
    folders: set[Path] = set()
    for camera in range(cameras):
        for n in range(count):
            path = naming.closed_path(root, f"camera{camera + 1}", "main",
                                      start + n * MINUTE_MS, MINUTE_MS)  # fmt: skip
            if path.parent not in folders:
                path.parent.mkdir(parents=True, exist_ok=True)
                folders.add(path.parent)
            path.touch()
    return count * cameras


async def _rebuild(root: Path, database: Path) -> tuple[float, float, float, float, int]:
    db = Database(database)
    await db.open()
    try:
        index = ArchiveIndex(db)
        await index.open()
        started = time.perf_counter()
        first = await index.reconcile("bench", root)  # an empty index: everything is added
        opened = time.perf_counter() - started
        started = time.perf_counter()
        unchanged = await index.reconcile("bench", root)
        mended = time.perf_counter() - started
        assert (unchanged.added, unchanged.removed) == (0, 0)
        started = time.perf_counter()
        again = await index.rebuild("bench", root)
        rebuilt = time.perf_counter() - started
        assert (again.added, again.removed) == (0, 0)  # every row is borne out by its file
        started = time.perf_counter()
        usage = await index.usage()  # what GET /storages reads of the index
        usage_ms = (time.perf_counter() - started) * 1000
        assert sum(usage["bench"].values()) == 0  # the files are empty
        return opened, mended, rebuilt, usage_ms, first.added
    finally:
        await db.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--cameras", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        started = time.perf_counter()
        files = _make_files(folder / "archive", args.days, args.cameras)
        made = time.perf_counter() - started
        peak_before = peak_rss_mib(os.getpid())
        opened, mended, rebuilt, usage_ms, indexed = asyncio.run(
            _rebuild(folder / "archive", folder / "db.sqlite")
        )
        peak_after = peak_rss_mib(os.getpid())
    print(
        json.dumps(
            {
                "bench": "archive_rebuild",
                "days": args.days,
                "cameras": args.cameras,
                "files": files,
                "indexed": indexed,
                "seconds_to_make_the_files": round(made, 1),
                "seconds_first_open_of_an_empty_index": round(opened, 2),
                "seconds_mend_of_an_unchanged_index": round(mended, 2),
                "seconds_rebuild": round(rebuilt, 2),
                "ms_storage_usage": round(usage_ms, 2),
                "peak_memory_mib_before_the_index_work": round(peak_before, 1),
                "peak_memory_mib_after_it": round(peak_after, 1),
                "target": "rebuild of a year of one camera <= 8 s; memory bounded, <= 200 MiB; "
                "storage usage <= 50 ms",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
