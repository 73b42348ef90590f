"""The archive index: every recorded file of this server's storages, kept in line with them.

The files are the truth: their names say camera, stream, start and duration. Whenever a
storage comes online its part of the index is compared with the disk and mended (files found
after a crash are finished first), and `rebuild` makes it again from the names alone, which is
fast enough for years of archive.
"""

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Set
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, cast

from vigil.media.archive import durable, naming, seek, store
from vigil.media.archive.scan import scan
from vigil.media.archive.store import Recording
from vigil.state import Database

logger = logging.getLogger(__name__)

MEND_BATCH = 5_000  # index changes per transaction while mending


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
        await self._db.transaction(lambda conn: store.forget_storage(conn, storage_id))

    async def reconcile(
        self,
        storage_id: str,
        root: Path,
        writing: Set[Path] = frozenset(),
        run: Runner | None = None,
        *,
        every_row: bool = False,
    ) -> Reconciled:
        """Finish files left open by a crash (but not those in `writing`, still being
        written), then add what the index lacks and drop what the disk lacks; with
        `every_row`, also make again each row that its file's name and size do not bear out.
        The walk runs in `run` (the storage's threads) when given.

        One camera-day at a time, against a range query of the index: memory holds a day of
        one camera and a batch of changes, whatever the size of the archive, and recording
        goes on meanwhile."""
        walk: Runner = run or asyncio.to_thread
        mends = _Mends(self._db, storage_id)
        on_disk = await walk(_folder_names, str(root))
        listed = await self._db.run(partial(store.cameras_on, storage_id=storage_id))
        for camera_id in sorted(set(on_disk) | set(listed)):
            disk_days = await walk(_days_on_disk, str(root / camera_id))
            indexed = await self._db.run(
                partial(store.days_of, storage_id=storage_id, camera_id=camera_id)
            )
            for day_ms in sorted(disk_days | set(indexed)):
                # Known before the folders are listed: a file closed meanwhile has its row
                # added after this and must not count as gone because it was not listed.
                known = await self._db.run(
                    partial(
                        store.rows_between,
                        storage_id=storage_id,
                        camera_id=camera_id,
                        from_ms=day_ms,
                        to_ms=day_ms + store.DAY_MS,
                    )
                )
                found, recovered = cast(
                    tuple[dict[str, Recording], int],
                    await walk(_walk_day, storage_id, root, camera_id, day_ms, writing),
                )
                wrong = {
                    path
                    for path, row in known.items()
                    if every_row and path in found and row != _as_row(found[path])
                }
                await mends.add(
                    [r for path, r in found.items() if path not in known or path in wrong],
                    [path for path in known if path not in found or path in wrong],
                    recovered,
                )
        done = await mends.flush()
        if done.added or done.removed or done.recovered:
            counts = {"added": done.added, "removed": done.removed, "recovered": done.recovered}
            logger.info("archive index mended", extra={"root": str(root), **counts})
        return done

    async def rebuild(
        self,
        storage_id: str,
        root: Path,
        writing: Set[Path] = frozenset(),
        run: Runner | None = None,
    ) -> Reconciled:
        """Make the index of a storage again from its files: every row is checked against the
        name and size of its file (and made again if they differ), as well as mended."""
        return await self.reconcile(storage_id, root, writing, run, every_row=True)


class _Mends:
    """Changes to the index gathered over a walk and made in batches, each one transaction."""

    def __init__(self, db: Database, storage_id: str) -> None:
        self._db = db
        self._storage_id = storage_id
        self._adding: list[Recording] = []
        self._removing: list[str] = []
        self._counts = Reconciled(0, 0, 0)

    async def add(self, adding: list[Recording], removing: list[str], recovered: int) -> None:
        self._adding += adding
        self._removing += removing
        before = self._counts
        self._counts = Reconciled(before.added + len(adding), before.removed + len(removing),
                                  before.recovered + recovered)  # fmt: skip
        if len(self._adding) + len(self._removing) >= MEND_BATCH:
            await self.flush()

    async def flush(self) -> Reconciled:
        adding, removing = self._adding, self._removing
        self._adding, self._removing = [], []
        if adding or removing:
            await self._db.transaction(
                partial(store.mend, storage_id=self._storage_id, adding=adding, removing=removing)
            )
        return self._counts


def _as_row(recording: Recording) -> tuple[int, int, int]:
    return recording.start_ms, recording.end_ms, recording.size


def _folder_names(path: str) -> list[str]:
    return [entry.name for entry in _subfolders(path)]


def _days_on_disk(camera_folder: str) -> set[int]:
    """The days that any stream of a camera has a folder for, each by its start (UTC)."""
    days = set()
    for stream in _subfolders(camera_folder):
        for day in _subfolders(stream.path):
            start = naming.day_start_ms(day.name)
            if start is not None:
                days.add(start)
    return days


def _walk_day(
    storage_id: str, root: Path, camera_id: str, day_ms: int, writing: Set[Path]
) -> tuple[dict[str, Recording], int]:
    """The recordings of one camera-day under `root`, every stream, by path relative to it.
    Plain strings and scandir: a year of one camera is half a million files."""
    found: dict[str, Recording] = {}
    recovered = 0
    day_name = naming.day_name(day_ms)
    for stream in _subfolders(str(root / camera_id)):
        for hour in _subfolders(os.path.join(stream.path, day_name)):
            prefix = f"{camera_id}/{stream.name}/{day_name}/{hour.name}/"
            with os.scandir(hour.path) as entries:
                files = [e for e in entries if e.is_file()]
            for entry in files:
                closed = naming.CLOSED_NAME.match(entry.name)
                if closed is not None:
                    start, duration = int(closed[1]), int(closed[2])
                    if not day_ms <= start < day_ms + store.DAY_MS:
                        continue  # not where the recorder puts it: not one of ours
                    relative = prefix + entry.name
                    found[relative] = Recording(storage_id, camera_id, stream.name, relative,
                                                start, start + duration,
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
                except OSError:  # a read-only storage: finished once it can be written
                    logger.warning("cannot finish a recording", exc_info=True,
                                   extra={"path": str(path)})  # fmt: skip
                    continue
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
