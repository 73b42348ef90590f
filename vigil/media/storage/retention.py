"""Retention: recordings older than their camera's maximum age go, and when a storage has
less free space than its reserve, its oldest recordings go, whatever their camera.

Each file goes in two steps, the file and then its index row; a server killed between them
leaves a row without a file, which the index drops when it next compares itself with the
disk (whenever the storage comes online, so at every start). The file being written is never
in the index, so it is never a candidate.
"""

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from vigil.clock import Clock
from vigil.media.archive.index import ArchiveIndex
from vigil.media.archive.store import Recording
from vigil.media.storage.health import StorageState
from vigil.media.storage.pool import ActiveStorage, StoragePool
from vigil.tasks import Supervised

logger = logging.getLogger(__name__)

DAY_MS = 86_400_000
EVERY_S = 10.0
BATCH = 500  # files per database round trip


class Retention:
    def __init__(
        self,
        index: ArchiveIndex,
        storages: StoragePool,
        max_age_days: Callable[[], dict[str, int]],  # camera id → days, for cameras with one
        clock: Clock,
    ) -> None:
        self._index = index
        self._storages = storages
        self._max_age_days = max_age_days
        self._clock = clock
        self._loop = Supervised("retention", self._run)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _run(self) -> None:
        while True:
            await self.apply()
            await asyncio.sleep(EVERY_S)

    async def apply(self) -> int:
        """One pass, by age and then by space; returns how many files went."""
        deleted = 0
        for rule in (self._by_age, self._by_space):
            try:  # a failure of one (a database error) must not stop the other
                deleted += await rule()
            except Exception:
                logger.exception("retention pass failed; trying again later")
        if deleted:
            logger.info("retention deleted recordings", extra={"files": deleted})
        return deleted

    async def _by_age(self) -> int:
        deleted = 0
        now = self._clock.now_ms()
        for storage in self._deletable():
            for camera_id, days in self._max_age_days().items():
                cutoff = now - days * DAY_MS
                while expired := await self._index.ended_before(
                    storage.id, camera_id, cutoff, BATCH
                ):
                    gone = await self._delete(storage, expired)
                    deleted += gone
                    if gone < len(expired):
                        break  # some cannot be deleted: tried again next pass
        return deleted

    async def _by_space(self) -> int:
        deleted = 0
        for storage in self._deletable():
            lacking = -storage.room()
            while lacking > 0:
                chosen: list[Recording] = []
                for recording in await self._index.oldest_on(storage.id, BATCH):
                    if lacking <= 0:
                        break
                    chosen.append(recording)
                    lacking -= recording.size
                if not chosen:
                    break
                gone = await self._delete(storage, chosen)
                deleted += gone
                if gone < len(chosen):
                    break
        if deleted:
            await self._storages.check()  # their free space as it is now
        return deleted

    def _deletable(self) -> list[ActiveStorage]:
        deletable = (StorageState.ONLINE, StorageState.FULL)
        return [s for s in self._storages.all() if s.health and s.health.state in deletable]

    async def _delete(self, storage: ActiveStorage, recordings: list[Recording]) -> int:
        """Delete files, then the rows of those that went; returns how many went."""
        try:
            gone = await storage.run(_unlink_all, storage.root, [r.path for r in recordings])
        except OSError:
            logger.exception("deleting recordings failed", extra={"storage": storage.record.name})
            return 0
        await self._index.remove(storage.id, gone)
        return len(gone)


def _unlink_all(root: Path, paths: list[str]) -> list[str]:
    """The paths that are gone now; one that cannot be deleted is logged and left."""
    gone = []
    for path in paths:
        try:
            (root / path).unlink(missing_ok=True)
        except OSError as err:
            logger.warning("a recording could not be deleted",
                           extra={"path": path, "reason": err.strerror})  # fmt: skip
        else:
            gone.append(path)
    return gone
