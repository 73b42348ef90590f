"""Retention on real folders and a real index: old files go, then the oldest when space runs
short, and nothing else does."""

import uuid
from pathlib import Path

import httpx

from tests.clocked import ManualClock
from tests.mounts import tmpfs
from vigil.media.archive import naming
from vigil.media.archive.index import ArchiveIndex
from vigil.media.storage.health import write_marker
from vigil.media.storage.models import MIB, Storage, StorageRecord
from vigil.media.storage.pool import StoragePool
from vigil.media.storage.retention import DAY_MS, Retention
from vigil.state import Database

MINUTE_MS = 60_000


def _recording(root: Path, camera_id: str, start_ms: int, size: int = 100) -> Path:
    path = naming.closed_path(root, camera_id, "main", start_ms, MINUTE_MS)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x01" * size)
    return path


class _Archive:
    """One storage at `root`, its index and its pool, as a server has them."""

    def __init__(self, db: Database, root: Path, clock: ManualClock, reserve_mib: int) -> None:
        self.id = uuid.uuid4().hex
        write_marker(root, self.id)
        record = StorageRecord(server_id="s", name="disk", path=str(root),
                               reserve_mib=reserve_mib, created_ms=0)  # fmt: skip
        self.index = ArchiveIndex(db)
        self.pool = StoragePool("s", lambda: [Storage(id=self.id, record=record)],
                                self.index, clock)  # fmt: skip


async def _opened(db: Database, root: Path, clock: ManualClock, reserve_mib: int) -> _Archive:
    archive = _Archive(db, root, clock, reserve_mib)
    await archive.index.open()
    await archive.pool.check()  # the storage comes online: its files are indexed beside
    await archive.pool.until_mended()
    return archive


async def test_files_past_their_cameras_age_are_deleted_with_their_index_rows(
    tmp_path: Path, db: Database
) -> None:
    clock = ManualClock()
    now = clock.now_ms()
    root = tmp_path / "archive"
    old = [_recording(root, "a", now - days * DAY_MS) for days in (5, 3)]
    young = _recording(root, "a", now - DAY_MS)
    other = _recording(root, "b", now - 10 * DAY_MS)  # camera b keeps everything
    archive = await _opened(db, root, clock, reserve_mib=0)
    retention = Retention(archive.index, archive.pool, lambda: {"a": 2}, clock)
    assert await retention.apply() == 2
    assert [p.exists() for p in old] == [False, False]
    assert young.exists()
    assert other.exists()
    spans = await archive.index.overlapping("a", "main", now - 30 * DAY_MS, now)
    assert [r.start_ms for r in spans] == [now - DAY_MS]
    assert await retention.apply() == 0
    clock.advance(hours=25)  # a day later the young one is past two days too
    assert await retention.apply() == 1
    assert not young.exists()
    assert (await archive.index.reconcile(archive.id, root)).removed == 0  # they agree
    await archive.pool.stop()


async def test_below_its_reserve_a_storage_loses_its_oldest_files_across_cameras(
    tmp_path: Path, db: Database
) -> None:
    clock = ManualClock()
    now = clock.now_ms()
    with tmpfs(tmp_path / "disk", size_mib=16) as root:
        # Twelve files of 1 MiB, three cameras interleaved in time, oldest first.
        files = [
            _recording(root, "abc"[i % 3], now - (12 - i) * MINUTE_MS, size=MIB) for i in range(12)
        ]
        # 16 MiB with 12 used leaves about 4 free: a reserve of 7 needs 3 MiB back.
        archive = await _opened(db, root, clock, reserve_mib=7)
        retention = Retention(archive.index, archive.pool, dict, clock)
        deleted = await retention.apply()
        assert deleted in (3, 4)  # 3 MiB plus what the folders take
        assert [p.exists() for p in files] == [False] * deleted + [True] * (12 - deleted)
        storage = archive.pool.get(archive.id)
        assert storage is not None
        assert storage.room() >= 0  # back above the reserve
        assert await retention.apply() == 0
        usage = await archive.index.usage()
        assert sum(usage[archive.id].values()) == (12 - deleted) * MIB
        await archive.pool.stop()


def test_retention_days_are_validated_and_zero_removes_the_limit(owner: httpx.Client) -> None:
    base = {"name": "R", "main_url": "rtsp://127.0.0.1:9/x"}
    for bad in (0, -1, 3651, "7"):
        answer = owner.post("/cameras", json={**base, "retention_days": bad})
        assert answer.status_code == 422, bad
        assert answer.json()["error"]["field"] == "retention_days"
    camera = owner.post("/cameras", json={**base, "retention_days": 30}).json()
    assert camera["retention_days"] == 30
    changed = owner.patch(f"/cameras/{camera['id']}", json={"retention_days": 0}).json()
    assert changed["retention_days"] is None
