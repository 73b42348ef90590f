"""The storages of this server at run time: their health, and where the next file goes.

Follows the storages in the system document. Every `CHECK_S`, and at once after a change or a
failed write, each storage is looked at (`health.check`); a storage that comes online has its
part of the archive index mended first (files left open by a crash or an unplugging are
finished). New files go to the writable storage with the most room beyond its reserve, so
when one fails, recording goes on on another from the next keyframe.

Each storage has its own threads for its file work: a NAS that hangs holds up only the
recordings on it, not the whole server.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import ParamSpec, TypeVar

from vigil.clock import Clock
from vigil.media.archive.index import ArchiveIndex
from vigil.media.storage import health
from vigil.media.storage.health import Health, StorageState
from vigil.media.storage.models import Storage
from vigil.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

CHECK_S = 10.0
CHECK_TIMEOUT_S = 5.0
THREADS_PER_STORAGE = 8

P = ParamSpec("P")
T = TypeVar("T")


class ActiveStorage:
    """One storage of this server, as it is now."""

    def __init__(self, storage: Storage) -> None:
        self.id = storage.id
        self.record = storage.record
        self.root = Path(storage.record.path)
        self.health: Health | None = None  # None until first looked at
        self.indexed = False  # its part of the index was mended since it came online
        self.writing: set[Path] = set()  # files being recorded: not for mending
        self._executor = ThreadPoolExecutor(THREADS_PER_STORAGE, f"storage-{storage.id[:8]}")
        self._check: Future[Health] | None = None

    @property
    def writable(self) -> bool:
        return self.health is not None and self.health.writable

    def room(self) -> int:
        """Bytes free beyond the reserve (negative below it)."""
        if self.health is None:
            return 0
        return self.health.free_bytes - self.record.reserve_bytes(self.health.total_bytes)

    async def run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Blocking file work on this storage, in its threads."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(function, *args, **kwargs))

    async def look(self, now_ms: int) -> Health:
        if not self.record.enabled:
            return Health(StorageState.DISABLED, "disabled", now_ms)
        # A look still under way (another caller's, or one hanging on a dead NAS) is waited
        # for rather than doubled.
        if self._check is None or self._check.done():
            self._check = self._executor.submit(health.check, self.root, self.id, now_ms)
        waiting = asyncio.shield(asyncio.wrap_future(self._check))
        try:
            return await asyncio.wait_for(waiting, CHECK_TIMEOUT_S)
        except TimeoutError:
            return self._unanswered(now_ms)

    def _unanswered(self, now_ms: int) -> Health:
        reason = f"not answering within {CHECK_TIMEOUT_S:g} s"
        return Health(StorageState.OFFLINE, reason, now_ms)

    def failed(self, err: OSError, now_ms: int) -> None:
        """A write failed while recording: take the storage out of use until it checks well."""
        state, reason = health.failure_of(err)
        before = self.health
        total, free = (before.total_bytes, before.free_bytes) if before else (0, 0)
        self.health = Health(state, reason, now_ms, total, free)

    def close(self) -> None:
        # Threads stuck on a dead NAS cannot be joined; they end when the call returns.
        self._executor.shutdown(wait=False, cancel_futures=True)


class StoragePool:
    def __init__(
        self,
        server_id: str,
        storages: Callable[[], list[Storage]],
        index: ArchiveIndex,
        clock: Clock,
    ) -> None:
        self._server_id = server_id
        self._storages = storages
        self._index = index
        self._clock = clock
        self._active: dict[str, ActiveStorage] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.check()
        self._task = asyncio.create_task(self._watch(), name="storages")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        for storage in self._active.values():
            storage.close()
        self._active.clear()

    def changed(self) -> None:
        """The system document changed: storages may have come or gone."""
        self._wake.set()

    def all(self) -> list[ActiveStorage]:
        return list(self._active.values())

    def get(self, storage_id: str) -> ActiveStorage | None:
        return self._active.get(storage_id)

    def choose(self) -> ActiveStorage | None:
        """Where a new recording goes: the writable storage with the most room."""
        writable = [s for s in self._active.values() if s.writable]
        return max(writable, key=ActiveStorage.room, default=None)

    def failed(self, storage: ActiveStorage, err: OSError) -> None:
        if storage.writable:
            storage.failed(err, self._clock.now_ms())
            reason = storage.health.reason if storage.health else ""
            logger.error("storage failed while recording",
                         extra={"storage": storage.record.name, "reason": reason})  # fmt: skip
        self._wake.set()

    async def check(self) -> None:
        """Bring the storages in line with the document and look at each of them."""
        await self._follow_document()
        await asyncio.gather(*(self._look_at(s) for s in list(self._active.values())))

    async def _watch(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), CHECK_S)
            self._wake.clear()
            await self.check()

    async def _follow_document(self) -> None:
        wanted = {s.id: s for s in self._storages() if s.record.server_id == self._server_id}
        for storage_id, active in list(self._active.items()):
            storage = wanted.get(storage_id)
            if storage is None or storage.record.path != active.record.path:
                del self._active[storage_id]
                active.close()
                await self._index.forget(storage_id)
            else:
                active.record = storage.record
        for storage_id, storage in wanted.items():
            if storage_id not in self._active:
                self._active[storage_id] = ActiveStorage(storage)

    async def _look_at(self, storage: ActiveStorage) -> None:
        before = storage.health
        after = await storage.look(self._clock.now_ms())
        if after.state != StorageState.ONLINE:
            storage.indexed = False
        elif not storage.indexed:
            try:
                await self._index.reconcile(storage.id, storage.root, storage.writing)
            except OSError as err:
                after = Health(StorageState.OFFLINE, f"reading it failed: {err.strerror}",
                               after.checked_ms)  # fmt: skip
            else:
                storage.indexed = True
        storage.health = after
        if before is None or before.state != after.state:
            where = {"storage": storage.record.name, "state": after.state.value}
            if after.state == StorageState.ONLINE:
                logger.info("storage online", extra=where)
            else:
                logger.warning("storage unusable", extra={**where, "reason": after.reason})
