"""The archive index: every recorded file of this server's storages, kept in line with them.

The files are the truth: their names say camera, stream, start and duration. Whenever a
storage comes online its part of the index is compared with the disk and mended (files found
after a crash are finished first), and `rebuild` makes it again from the names alone, which is
fast enough for years of archive.
"""

import asyncio
import logging
import os
import sqlite3
from collections.abc import Awaitable, Callable, Set
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from vigil.media.archive import durable, naming, seek, store
from vigil.media.archive.scan import scan
from vigil.media.archive.store import Recording
from vigil.state import Database

logger = logging.getLogger(__name__)


# Runs blocking work elsewhere: ActiveStorage.run, in a storage's own threads.
Runner = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Reconciled:
    added: int
    removed: int
    recovered: int


class ArchiveIndex:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def open(self) -> None:
        await self._db.migrate("archive", store.MIGRATIONS)

    async def add(self, recording: Recording) -> None:
        await self._db.transaction(lambda conn: store.insert(conn, [recording]))

    async def overlapping(
        self, camera_id: str, stream: str, from_ms: int, to_ms: int
    ) -> list[Recording]:
        return await self._db.run(
            lambda conn: store.overlapping(conn, camera_id, stream, from_ms, to_ms)
        )

    async def spans(
        self, camera_id: str, stream: str, from_ms: int, to_ms: int
    ) -> list[tuple[int, int]]:
        """(start_ms, end_ms) of the files overlapping a range."""
        return await self._db.run(lambda conn: store.spans(conn, camera_id, stream, from_ms, to_ms))

    async def recorded_per_bucket(
        self, camera_id: str, stream: str, from_ms: int, to_ms: int, bucket_ms: int
    ) -> list[int]:
        """Milliseconds recorded in each bucket (`store.recorded_per_bucket`)."""
        return await self._db.run(
            lambda conn: store.recorded_per_bucket(
                conn, camera_id, stream, from_ms, to_ms, bucket_ms
            )
        )

    async def neighbour(
        self, camera_id: str, stream: str, time_ms: int, *, later: bool
    ) -> Recording | None:
        """The recording starting first after `time_ms` (`later`), or last at or before it."""
        return await self._db.run(
            lambda conn: store.neighbour(conn, camera_id, stream, time_ms, later=later)
        )

    async def set_fragments(self, recording: Recording, packed: bytes) -> None:
        await self._db.transaction(
            lambda conn: store.set_fragments(conn, recording.storage_id, recording.path, packed)
        )

    async def usage(self) -> dict[str, dict[str, int]]:
        """Bytes recorded per storage, per camera."""
        return await self._db.run(store.usage)

    async def ended_before(
        self, storage_id: str, camera_id: str, time_ms: int, limit: int
    ) -> list[Recording]:
        return await self._db.run(
            lambda conn: store.ended_before(conn, storage_id, camera_id, time_ms, limit)
        )

    async def oldest_on(self, storage_id: str, limit: int) -> list[Recording]:
        return await self._db.run(lambda conn: store.oldest_on(conn, storage_id, limit))

    async def remove(self, storage_id: str, paths: list[str]) -> None:
        await self._db.transaction(lambda conn: store.delete_paths(conn, storage_id, paths))

    async def forget(self, storage_id: str) -> None:
        """A storage left the configuration: its files stay, the index no longer lists them."""
        await self._db.transaction(lambda conn: store.delete_storage(conn, storage_id))

    async def reconcile(
        self,
        storage_id: str,
        root: Path,
        writing: Set[Path] = frozenset(),
        run: Runner | None = None,
    ) -> Reconciled:
        """Finish files left open by a crash (but not those in `writing`, still being
        written), then add what the index lacks and drop what the disk lacks. The walk runs
        in `run` (the storage's threads) when given."""
        # Known before the walk: a file closed meanwhile has its row added after this and
        # must not count as gone because the walk passed its folder too early.
        known = await self._db.run(lambda conn: store.paths_on(conn, storage_id))
        walking = (
            run(_walk, storage_id, root, writing)
            if run
            else asyncio.to_thread(_walk, storage_id, root, writing)
        )
        on_disk, recovered = cast(tuple[dict[str, Recording], int], await walking)
        missing = [r for path, r in on_disk.items() if path not in known]
        gone = [path for path in known if path not in on_disk]

        def mend(conn: sqlite3.Connection) -> None:
            store.insert(conn, missing)
            store.delete_paths(conn, storage_id, gone)

        await self._db.transaction(mend)
        if missing or gone or recovered:
            counts = {"added": len(missing), "removed": len(gone), "recovered": recovered}
            logger.info("archive index mended", extra={"root": str(root), **counts})
        return Reconciled(len(missing), len(gone), recovered)

    async def rebuild(
        self,
        storage_id: str,
        root: Path,
        writing: Set[Path] = frozenset(),
        run: Runner | None = None,
    ) -> Reconciled:
        """Forget the index of a storage and make it again from the files."""
        await self.forget(storage_id)
        return await self.reconcile(storage_id, root, writing, run)


def _walk(storage_id: str, root: Path, writing: Set[Path]) -> tuple[dict[str, Recording], int]:
    """Every recording under `root`, by path relative to it. Plain strings and scandir: a
    year of one camera is half a million files."""
    found: dict[str, Recording] = {}
    recovered = 0
    for camera in _subfolders(str(root)):
        for stream in _subfolders(camera.path):
            for day in _subfolders(stream.path):
                for hour in _subfolders(day.path):
                    prefix = f"{camera.name}/{stream.name}/{day.name}/{hour.name}/"
                    with os.scandir(hour.path) as entries:
                        files = [e for e in entries if e.is_file()]
                    for entry in files:
                        closed = naming.CLOSED_NAME.match(entry.name)
                        if closed is not None:
                            start, duration = int(closed[1]), int(closed[2])
                            relative = prefix + entry.name
                            found[relative] = Recording(storage_id, camera.name, stream.name,
                                                        relative, start, start + duration,
                                                        entry.stat().st_size)  # fmt: skip
                            continue
                        path = Path(entry.path)
                        if path in writing:
                            continue
                        parsed = naming.parse(root, path)
                        if parsed is None or parsed.duration_ms is not None:
                            continue
                        try:
                            finished = finish_part_file(storage_id, root, path, parsed)
                        except FileNotFoundError:
                            continue  # closed by its recorder since the folder was listed
                        if finished is not None:
                            recovered += 1
                            found[finished.path] = finished
    return found, recovered


def _subfolders(path: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(path) as entries:
            return [entry for entry in entries if entry.is_dir()]
    except FileNotFoundError:
        return []


def finish_part_file(
    storage_id: str, root: Path, path: Path, name: naming.RecordingName
) -> Recording | None:
    """A file whose writer died: cut the torn last fragment, name it with its duration.
    A file with no whole fragment is removed (it holds no video)."""
    result = scan(path)
    if not result.fragments:
        path.unlink(missing_ok=True)
        return None
    with path.open("r+b") as file:
        file.truncate(result.whole_size)
        os.fdatasync(file.fileno())
    duration = max(1, result.fragments[-1].end_ms)
    final = naming.closed_path(root, name.camera_id, name.stream, name.start_ms, duration)
    path.rename(final)
    durable.sync_folder(final.parent)  # before the caller's index row names it
    logger.info("recovered a recording", extra={"path": str(final)})
    return Recording(storage_id, name.camera_id, name.stream, str(final.relative_to(root)),
                     name.start_ms, name.start_ms + duration, result.whole_size,
                     seek.pack(result.fragments))  # fmt: skip
