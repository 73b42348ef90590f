"""The archive index of one storage, kept in line with the files on it.

The files are the truth: their names say camera, stream, start and duration. At start the
index is compared with the disk and mended (files found after a crash are finished first), and
`rebuild` makes it again from the names alone, which is fast enough for years of archive.
"""

import asyncio
import logging
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from vigil.media.archive import naming, store
from vigil.media.archive.scan import scan
from vigil.media.archive.store import Recording
from vigil.state import Database

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reconciled:
    added: int
    removed: int
    recovered: int


class ArchiveIndex:
    def __init__(self, db: Database, root: Path) -> None:
        self._db = db
        self.root = root

    async def open(self) -> Reconciled:
        await self._db.migrate("archive", store.MIGRATIONS)
        return await self.reconcile()

    async def add(self, recording: Recording) -> None:
        await self._db.transaction(lambda conn: store.insert(conn, [recording]))

    async def overlapping(
        self, camera_id: str, stream: str, from_ms: int, to_ms: int
    ) -> list[Recording]:
        return await self._db.run(
            lambda conn: store.overlapping(conn, camera_id, stream, from_ms, to_ms)
        )

    async def reconcile(self) -> Reconciled:
        """Finish files left open by a crash, then add what the index lacks and drop what the
        disk lacks."""
        on_disk, recovered = await _walk(self.root)
        known = await self._db.run(store.all_paths)
        missing = [r for path, r in on_disk.items() if path not in known]
        gone = [path for path in known if path not in on_disk]

        def mend(conn: sqlite3.Connection) -> None:
            store.insert(conn, missing)
            store.delete_paths(conn, gone)

        await self._db.transaction(mend)
        if missing or gone or recovered:
            counts = {"added": len(missing), "removed": len(gone), "recovered": recovered}
            logger.info("archive index mended", extra={"root": str(self.root), **counts})
        return Reconciled(len(missing), len(gone), recovered)

    async def rebuild(self) -> Reconciled:
        """Forget the index of this storage and make it again from the files."""
        known = await self._db.run(store.all_paths)
        await self._db.transaction(lambda conn: store.delete_paths(conn, sorted(known)))
        return await self.reconcile()


async def _walk(root: Path) -> tuple[dict[str, Recording], int]:
    return await asyncio.to_thread(_walk_blocking, root)


def _walk_blocking(root: Path) -> tuple[dict[str, Recording], int]:
    found: dict[str, Recording] = {}
    recovered = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            parsed = naming.parse(root, path)
            if parsed is None:
                continue
            if parsed.duration_ms is None:
                finished = finish_part_file(root, path, parsed)
                if finished is None:
                    continue
                recovered += 1
                path, parsed = finished
            size = path.stat().st_size
            relative = str(path.relative_to(root))
            end = parsed.end_ms
            assert end is not None
            found[relative] = Recording(parsed.camera_id, parsed.stream, relative,
                                        parsed.start_ms, end, size)  # fmt: skip
    return found, recovered


def finish_part_file(
    root: Path, path: Path, name: naming.RecordingName
) -> tuple[Path, naming.RecordingName] | None:
    """A file whose writer died: cut the torn last fragment, name it with its duration.
    A file with no whole fragment is removed (it holds no video)."""
    result = scan(path)
    if not result.fragments:
        path.unlink(missing_ok=True)
        return None
    with path.open("r+b") as file:
        file.truncate(result.whole_size)
    duration = max(1, result.fragments[-1].end_ms)
    final = naming.closed_path(root, name.camera_id, name.stream, name.start_ms, duration)
    path.rename(final)
    logger.info("recovered a recording", extra={"path": str(final)})
    return final, naming.RecordingName(name.camera_id, name.stream, name.start_ms, duration)
