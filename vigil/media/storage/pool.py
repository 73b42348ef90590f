"""The storages of this server at run time: their health, and where the next file goes.

Follows the storages in the system document. Every `CHECK_S`, and at once after a change or a
failed write, each storage is looked at (`health.check`); a storage that comes online is used
at once, and its part of the archive index is mended beside the recording (files left open by
a crash or an unplugging are finished), which takes minutes for years of archive. New files
go to the writable storage with the most room beyond its reserve, so when one fails,
recording goes on on another from the next keyframe.

Each storage has its own threads for its file work: a NAS that hangs holds up only the
recordings on it, not the whole server.
"""

import asyncio
import contextlib
import errno
import logging
from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import ParamSpec, TypeVar

from vigil.clock import Clock
from vigil.media.archive.index import ArchiveIndex, Reconciled
from vigil.media.storage import health
from vigil.media.storage.health import Health, StorageState
from vigil.media.storage.models import Storage
from vigil.tasks import Supervised, cancel_and_wait

logger = logging.getLogger(__name__)

CHECK_S = 10.0
CHECK_TIMEOUT_S = 5.0
THREADS_PER_STORAGE = 8

# Read from in these states; mended in the first two (a read-only one cannot finish files).
_READABLE = (StorageState.ONLINE, StorageState.FULL, StorageState.READ_ONLY)
_MENDABLE = (StorageState.ONLINE, StorageState.FULL)

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
        self.mending: asyncio.Task[None] | None = None
        self.writing: set[Path] = set()  # files being recorded: not for mending
        self._executor = ThreadPoolExecutor(THREADS_PER_STORAGE, f"storage-{storage.id[:8]}")
        self._check: Future[Health] | None = None
        self._removed = False

    @property
    def writable(self) -> bool:
        return self.health is not None and self.health.writable

    @property
    def readable(self) -> bool:
        return self.health is not None and self.health.state in _READABLE

    def room(self) -> int:
        """Bytes free beyond what must stay free (negative below it)."""
        if self.health is None:
            return 0
        return self.health.free_bytes - self.keep_free()

    def keep_free(self) -> int:
        """The reserve in effect. A reserve of 0 keeps nothing free (retention never deletes
        for space); any other is at least half as much again as the space under which the
        storage counts as full, so that retention always gets it out of that."""
        total = self.health.total_bytes if self.health else 0
        reserve = self.record.reserve_bytes(total)
        return max(reserve, health.full_below(total) * 3 // 2) if reserve else 0

    async def run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Blocking file work on this storage, in its threads."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, partial(function, *args, **kwargs))
        except RuntimeError as err:  # its threads were shut down
            raise OSError(errno.ENODEV, "the storage was removed") from err

    def done_writing(self, path: Path) -> None:
        self.writing.discard(path)
        if self._removed and not self.writing:
            self._shut_down()

    async def look(self, now_ms: int) -> Health:
        if self._removed:
            return Health(StorageState.OFFLINE, "removed from the configuration", now_ms)
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
        """A write failed while recording: take the storage out of use until it checks well,
        and mend its index then (the failed file is finished by it)."""
        state, reason = health.failure_of(err)
        before = self.health
        total, free = (before.total_bytes, before.free_bytes) if before else (0, 0)
        self.health = Health(state, reason, now_ms, total, free)
        self.indexed = False

    def remove(self, now_ms: int) -> None:
        """The storage left the configuration: recorders leave it at their next keyframe;
        its threads go once the last file on it is closed."""
        self._removed = True
        self.health = Health(StorageState.OFFLINE, "removed from the configuration", now_ms)
        if not self.writing:
            self._shut_down()

    def _shut_down(self) -> None:
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
        self._checking = asyncio.Lock()  # one check at a time, whoever asks
        self._watcher = Supervised("storages", self._watch)

    async def start(self) -> None:
        await self.check()
        self._watcher.start()

    async def stop(self) -> None:
        await self._watcher.stop()
        for storage in self._active.values():
            await cancel_and_wait(storage.mending)
        for storage in self._active.values():
            storage.remove(self._clock.now_ms())
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

    async def check(self, only: Collection[str] | None = None) -> None:
        """Bring the storages in line with the document and look at each of them (or at
        those of `only`): a change of one storage waits for its own look alone, not for one
        of a NAS that hangs. Looks at one storage at once share one look."""
        async with self._checking:
            await self._follow_document()
        looked_at = [s for s in self._active.values() if only is None or s.id in only]
        await asyncio.gather(*(self._look_at(s) for s in looked_at))

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
                active.remove(self._clock.now_ms())
                await cancel_and_wait(active.mending)  # or it would enter rows again
                await self._index.forget(storage_id)
            else:
                active.record = storage.record
        for storage_id, storage in wanted.items():
            if storage_id not in self._active:
                self._active[storage_id] = ActiveStorage(storage)

    async def _look_at(self, storage: ActiveStorage) -> None:
        before = storage.health
        try:
            after = await storage.look(self._clock.now_ms())
        except Exception as err:  # one sick storage must not stop the others being watched
            logger.exception("looking at a storage failed", extra={"storage": storage.record.name})
            after = Health(StorageState.OFFLINE, f"looking at it failed: {err}",
                           self._clock.now_ms())  # fmt: skip
        if storage.health is not None and storage.health.checked_ms > after.checked_ms:
            return  # a write failed while this look was under way: that is newer
        if after.state not in _MENDABLE:
            storage.indexed = False
            await cancel_and_wait(storage.mending)  # started again when it is back
        storage.health = after
        if after.state in _MENDABLE and not storage.indexed and storage.mending is None:
            storage.mending = asyncio.create_task(self._mend_index(storage),
                                                  name=f"mend {storage.record.name}")  # fmt: skip
        if before is None or before.state != after.state:
            where = {"storage": storage.record.name, "state": after.state.value}
            if after.state == StorageState.ONLINE:
                logger.info("storage online", extra=where)
            else:
                logger.warning("storage unusable", extra={**where, "reason": after.reason})

    async def rebuild(self, storage: ActiveStorage) -> Reconciled:
        """Make a storage's part of the index again from its files (a mend under way is
        stopped first: the rebuild does all it would)."""
        await cancel_and_wait(storage.mending)
        result = await self._index.rebuild(storage.id, storage.root, storage.writing, storage.run)
        storage.indexed = True
        return result

    async def until_mended(self) -> None:
        """Until the mends under way have ended (however they ended)."""
        mending = [s.mending for s in self._active.values() if s.mending is not None]
        await asyncio.gather(*mending, return_exceptions=True)

    async def _mend_index(self, storage: ActiveStorage) -> None:
        """Owned by the storage's entry (cancelled when it goes, or when the pool stops); a
        failure is logged and the next look starts it again."""
        try:
            await self._index.reconcile(storage.id, storage.root, storage.writing, storage.run)
            storage.indexed = True
        except Exception:
            logger.exception("mending the archive index failed; trying again at the next look",
                             extra={"storage": storage.record.name})  # fmt: skip
        finally:
            storage.mending = None
