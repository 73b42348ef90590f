"""Adding, changing and removing storages: validation, claiming the folder, the audit trail;
and making a storage's part of the archive index again from its files.

A storage is added by the server it belongs to, which checks the folder there and then. Its
files are never deleted by removing it: the folder keeps them, and adding it again brings them
back into the index.
"""

import asyncio
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vigil.auth.audit import Actor, AuditTrail, audit_changes
from vigil.clock import Clock
from vigil.errors import Conflict, InvalidInput, NotFound, StorageFailure
from vigil.media.archive.index import ArchiveIndex, Reconciled
from vigil.media.storage import health
from vigil.media.storage.models import MIB, Storage, StorageRecord
from vigil.media.storage.pool import StoragePool
from vigil.state import Collection, SystemDocument

DEFAULT_NAME = "Local archive"


class StorageService:
    def __init__(
        self,
        document: SystemDocument,
        records: Collection[StorageRecord],
        archive: ArchiveIndex,
        audit: AuditTrail,
        clock: Clock,
        server_id: str,
    ) -> None:
        self._document = document
        self._records = records
        self._audit = audit
        self._clock = clock
        self._server_id = server_id
        # Made here because it follows this configuration (`all`): the storages at run time.
        self.pool = StoragePool(server_id, self.all, archive, clock)

    def all(self) -> list[Storage]:
        return [Storage(id=i, record=r) for i, r in self._records.items()]

    def require(self, storage_id: str) -> Storage:
        record = self._records.get(storage_id)
        if record is None:
            raise NotFound(f"no storage {storage_id!r}")
        return Storage(id=storage_id, record=record)

    async def add(self, actor: Actor, fields: dict[str, Any]) -> Storage:
        server_id = fields.setdefault("server_id", self._server_id)
        if server_id != self._server_id:
            # Checking and claiming the folder is done by its server; requests are relayed to
            # other servers once servers form systems of several.
            raise InvalidInput("a storage is added on the server it belongs to", field="server_id")
        path = Path(fields["path"])
        storage_id = uuid.uuid4().hex
        self._check_name_free(fields["name"], None)
        self._check_apart(path)
        # The folder is claimed first (file work stays out of the change); a marker left by
        # a change that then fails names no storage and does not stop a later claim.
        await asyncio.to_thread(
            _claim, path, storage_id, self._known_ids(), fields.get("reserve_mib")
        )
        async with self._document.change():
            self._check_name_free(fields["name"], None)
            self._check_apart(path)
            record = StorageRecord(**fields, created_ms=self._clock.now_ms())
            self._records.insert(storage_id, record)
        await self._audit.record(actor, "storage.add", target=storage_id,
                                 details={"after": record.model_dump()})  # fmt: skip
        return Storage(id=storage_id, record=record)

    async def prepare_default(self, server_id: str, root: Path) -> Callable[[], None]:
        """A new server's first storage, the archive folder in its data folder: claimed now,
        entered by the returned function inside the change that makes the server a member."""
        storage_id = uuid.uuid4().hex
        await asyncio.to_thread(root.mkdir, parents=True, exist_ok=True)
        await asyncio.to_thread(_claim, root, storage_id, self._known_ids(), None)
        record = StorageRecord(server_id=server_id, name=DEFAULT_NAME, path=str(root),
                               created_ms=self._clock.now_ms())  # fmt: skip
        return lambda: self._records.insert(storage_id, record)

    def prepare_leaving(self, server_id: str) -> Callable[[], None]:
        """For a server leaving the system: the writes (inside its change) that remove its
        storages from the system; their folders and recordings stay on its disks."""

        def write() -> None:
            for storage_id, record in self._records.items():
                if record.server_id == server_id:
                    self._records.delete(storage_id)

        return write

    async def update(self, actor: Actor, storage_id: str, changes: dict[str, Any]) -> Storage:
        if changes.get("reserve_mib") is not None:
            path = Path(self.require(storage_id).record.path)
            try:
                await asyncio.to_thread(_check_reserve, path, changes["reserve_mib"])
            except OSError as err:
                reason = f"the storage cannot be read to check the reserve: {err.strerror}"
                raise InvalidInput(reason, field="reserve_mib") from err
        async with self._document.change():
            before = self.require(storage_id).record
            if "name" in changes:
                self._check_name_free(changes["name"], storage_id)
            self._records.update(storage_id, changes)
        after = self.require(storage_id).record
        details = audit_changes(before.model_dump(), after.model_dump(), frozenset())
        await self._audit.record(actor, "storage.edit", target=storage_id, details=details)
        return Storage(id=storage_id, record=after)

    async def delete(self, actor: Actor, storage_id: str) -> None:
        async with self._document.change():
            before = self.require(storage_id).record
            if not any(
                other_id != storage_id and record.server_id == before.server_id
                for other_id, record in self._records.items()
            ):
                raise Conflict("a server needs a storage: add another before removing this one")
            self._records.delete(storage_id)
        await self._audit.record(actor, "storage.delete", target=storage_id,
                                 details={"before": before.model_dump()})  # fmt: skip

    async def rebuild(self, actor: Actor, storage_id: str) -> Reconciled:
        """Make the storage's part of the archive index again from its files (`pool.rebuild`)."""
        self.require(storage_id)
        active = self.pool.get(storage_id)
        if active is None or not active.writable:
            raise Conflict("the storage must be online to rebuild its index")
        try:
            result = await self.pool.rebuild(active)
        except OSError as err:
            raise StorageFailure(f"reading the storage failed: {err.strerror or err}") from err
        await self._audit.record(actor, "storage.rebuild", target=storage_id,
                                 details={"after": result.__dict__})  # fmt: skip
        return result

    def _known_ids(self) -> set[str]:
        return {storage_id for storage_id, _ in self._records.items()}

    def _check_name_free(self, name: str, storage_id: str | None) -> None:
        key = name.casefold()
        for other_id, record in self._records.items():
            same_server = record.server_id == self._server_id
            if other_id != storage_id and same_server and record.name.casefold() == key:
                raise Conflict(f"a storage is already named {name!r}", field="name")

    def _check_apart(self, path: Path) -> None:
        """Two storages in one folder tree would index the same files twice."""
        for record in self._records.all():
            if record.server_id != self._server_id:
                continue
            other = Path(record.path)
            if path == other or path.is_relative_to(other) or other.is_relative_to(path):
                raise Conflict(f"{path} overlaps the storage {record.name!r}", field="path")


def _claim(path: Path, storage_id: str, known_ids: set[str], reserve_mib: int | None) -> None:
    """Check the folder and write its marker (blocking)."""
    try:
        if not path.is_dir():
            raise InvalidInput(f"{path} is not a folder on this server", field="path")
        claimed_by = health.marker_of(path)
        if claimed_by in known_ids:
            raise Conflict(f"{path} is already a storage of this system", field="path")
        if not os.access(path, os.W_OK):
            raise InvalidInput(f"{path} is not writable", field="path")
        _check_reserve(path, reserve_mib)
        health.write_marker(path, storage_id)
    except OSError as err:
        raise InvalidInput(f"{path}: {err.strerror or err}", field="path") from err


def _check_reserve(path: Path, reserve_mib: int | None) -> None:
    """A reserve above half the storage is a typo that would delete most of its archive."""
    if reserve_mib is None:
        return
    space = os.statvfs(path)
    half_mib = space.f_blocks * space.f_frsize // 2 // MIB
    if reserve_mib > half_mib:
        raise InvalidInput(
            f"reserve_mib: at most half the storage's size ({half_mib} MiB)", field="reserve_mib"
        )
