"""Retention by age on a real archive folder and index: old files go, nothing else does."""

from pathlib import Path

import httpx

from tests.clocked import ManualClock
from vigil.media.archive import naming
from vigil.media.archive.index import ArchiveIndex
from vigil.media.archive.retention import DAY_MS, Retention
from vigil.state import Database

MINUTE_MS = 60_000


def _recording(root: Path, camera_id: str, start_ms: int) -> Path:
    path = naming.closed_path(root, camera_id, "main", start_ms, MINUTE_MS)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x00" * 100)
    return path


async def test_files_past_their_cameras_age_are_deleted_with_their_index_rows(
    tmp_path: Path,
) -> None:
    clock = ManualClock()
    now = clock.now_ms()
    root = tmp_path / "archive"
    old = [_recording(root, "a", now - days * DAY_MS) for days in (5, 3)]
    young = _recording(root, "a", now - DAY_MS)
    other = _recording(root, "b", now - 10 * DAY_MS)  # camera b keeps everything
    db = Database(tmp_path / "db.sqlite")
    await db.open()
    try:
        index = ArchiveIndex(db, root)
        await index.open()
        retention = Retention(db, index, lambda: {"a": 2}, clock)
        assert await retention.apply() == 2
        assert [p.exists() for p in old] == [False, False]
        assert young.exists()
        assert other.exists()
        spans = await index.overlapping("a", "main", now - 30 * DAY_MS, now)
        assert [r.start_ms for r in spans] == [now - DAY_MS]
        assert await retention.apply() == 0
        clock.advance(hours=25)  # a day later the young one is past two days too
        assert await retention.apply() == 1
        assert not young.exists()
        assert (await index.reconcile()).removed == 0  # index and disk agree
    finally:
        await db.close()


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
