"""The storage pool on real folders: a change of one storage does not wait on another that
hangs, as a dead NAS does."""

import asyncio
import os
import uuid
from pathlib import Path

from tests.clocked import ManualClock
from vigil.media.archive.index import ArchiveIndex
from vigil.media.storage.health import MARKER, StorageState, write_marker
from vigil.media.storage.models import Storage, StorageRecord
from vigil.media.storage.pool import StoragePool
from vigil.state import Database


def _storage(root: Path, name: str) -> Storage:
    root.mkdir(parents=True)
    storage_id = uuid.uuid4().hex
    write_marker(root, storage_id)
    record = StorageRecord(server_id="s", name=name, path=str(root), created_ms=0)
    return Storage(id=storage_id, record=record)


async def test_looking_at_one_storage_does_not_wait_for_one_that_hangs(
    tmp_path: Path, db: Database
) -> None:
    good = _storage(tmp_path / "good", "good")
    stuck = _storage(tmp_path / "nas", "nas")
    # Reading the marker of this one blocks, as a read on a dead NAS does, until it is fed.
    marker = tmp_path / "nas" / MARKER
    marker.unlink()
    os.mkfifo(marker)
    index = ArchiveIndex(db)
    await index.open()
    pool = StoragePool("s", lambda: [good, stuck], index, ManualClock())
    try:
        everything = asyncio.create_task(pool.check())
        await pool.check(only={good.id})
        assert not everything.done()  # still waiting for the NAS
        looked = pool.get(good.id)
        assert looked is not None
        assert looked.health is not None
        assert looked.health.state == StorageState.ONLINE
        await everything  # the NAS's look gives up after its bound
        hung = pool.get(stuck.id)
        assert hung is not None
        assert hung.health is not None
        assert hung.health.state == StorageState.OFFLINE
        assert "not answering" in hung.health.reason
    finally:
        with marker.open("w") as feed:  # frees the storage's thread
            feed.write("{}")
        await pool.stop()
