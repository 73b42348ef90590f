"""Retention by age: recordings older than their camera's maximum age are deleted.

Each file goes in two steps, the file and then its index row; a server killed between them
leaves a row without a file, which the index drops when it next compares itself with the
disk. The file being written is never in the index, so it is never a candidate.
Space-based retention (a storage below its reserve) comes with storages.
"""

import asyncio
import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path

from vigil.clock import Clock
from vigil.media.archive import store
from vigil.media.archive.index import ArchiveIndex
from vigil.state import Database
from vigil.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

DAY_MS = 86_400_000
EVERY_S = 60.0
BATCH = 500  # files per database round trip


class Retention:
    def __init__(
        self,
        db: Database,
        index: ArchiveIndex,
        max_age_days: Callable[[], dict[str, int]],  # camera id → days, for cameras with one
        clock: Clock,
    ) -> None:
        self._db = db
        self._index = index
        self._max_age_days = max_age_days
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="retention")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.apply()
            except OSError:
                logger.exception("retention pass failed; trying again later")
            await asyncio.sleep(EVERY_S)

    async def apply(self) -> int:
        """One pass: delete what is past its age; returns how many files went."""
        deleted = 0
        now = self._clock.now_ms()
        for camera_id, days in self._max_age_days().items():
            while expired := await self._expired(camera_id, now - days * DAY_MS):
                await asyncio.to_thread(_unlink_all, self._index.root, expired)
                await self._db.transaction(partial(store.delete_paths, paths=expired))
                deleted += len(expired)
        if deleted:
            logger.info("retention deleted recordings", extra={"files": deleted})
        return deleted

    async def _expired(self, camera_id: str, cutoff_ms: int) -> list[str]:
        return await self._db.run(
            partial(store.ended_before, camera_id=camera_id, time_ms=cutoff_ms, limit=BATCH)
        )


def _unlink_all(root: Path, paths: list[str]) -> None:
    for path in paths:
        (root / path).unlink(missing_ok=True)
