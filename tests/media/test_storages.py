"""Storages on real filesystems: watched, switched between, their space reported and kept.

A small tmpfs fills up for real; a bind mount is unplugged and plugged back in (see
tests/mounts.py). Recording goes on through both, and what reached a disk is kept.
"""

import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.media.test_recording import _add, _timeline, recording
from tests.media.test_recording_settings import _recording_state
from tests.mounts import read_only, tmpfs, unmount
from tests.servers import ServerProcess
from tests.testcamera.ffmpeg import decode_errors
from tests.testcamera.process import TestCameraProcess
from tests.waiting import wait_for
from vigil.media.archive import naming


def _storages(owner: httpx.Client) -> dict[str, dict[str, Any]]:
    answer = owner.get("/storages")
    assert answer.status_code == 200, answer.text
    return {s["name"]: s for s in answer.json()["storages"]}


def _add_storage(owner: httpx.Client, name: str, path: Path, **fields: Any) -> dict[str, Any]:
    answer = owner.post("/storages", json={"name": name, "path": str(path), **fields})
    assert answer.status_code == 201, answer.text
    storage: dict[str, Any] = answer.json()
    return storage


def _only(owner: httpx.Client, *names: str) -> None:
    """Leave only these storages enabled (the local archive is disabled, not removed)."""
    for name, storage in _storages(owner).items():
        if name not in names:
            owner.patch(f"/storages/{storage['id']}", json={"enabled": False})


def _state(owner: httpx.Client, name: str) -> str:
    state: str = _storages(owner)[name]["status"]["state"]
    return state


def _recordings(root: Path, pattern: str = "*.mp4") -> list[Path]:
    return sorted(p for p in root.rglob(pattern) if naming.parse(root, p) is not None)


def test_a_new_server_records_to_its_local_archive_and_reports_the_usage(
    tmp_path: Path, camera: TestCameraProcess
) -> None:
    with (
        ServerProcess(tmp_path / "server") as server,
        recording(server, camera) as (owner, camera_id),
    ):
        (local,) = _storages(owner).values()
        assert local["name"] == "Local archive"
        assert local["path"] == str(server.data_dir / "archive")
        assert local["status"]["state"] == "online"
        assert local["total_bytes"] > local["free_bytes"] > 0
        assert local["write_latency_ms"] is not None
        assert local["network"] is False
        assert local["reserve_mib"] is None  # automatic:
        assert 0 < local["reserve_bytes"] <= 10 * 1024**3
        archive = server.data_dir / "archive"
        wait_for(lambda: _recordings(archive, "*.part.mp4"), 30, "recording to start")
        time.sleep(2)
        owner.patch(f"/cameras/{camera_id}", json={"enabled": False})  # closes its files
        used = wait_for(
            lambda: _storages(owner)["Local archive"]["cameras"].get(camera_id),
            30,
            "the camera's recordings to count in the storage's usage",
        )
        on_disk = sum(p.stat().st_size for p in _recordings(archive))
        assert used == on_disk


def test_storage_input_is_checked_and_bad_input_changes_nothing(
    owner: httpx.Client, tmp_path: Path
) -> None:
    before = owner.get("/storages").json()
    (local,) = before["storages"]
    a_file = tmp_path / "file"
    a_file.write_text("not a folder")
    free = tmp_path / "extra"  # the server's own data folder is in tmp_path too
    free.mkdir()
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"name": "N", "path": "relative/folder"}, 422, "path"),
        ({"name": "N", "path": "/srv/../etc"}, 422, "path"),
        ({"name": "N", "path": str(tmp_path / "missing")}, 422, "path"),
        ({"name": "N", "path": str(a_file)}, 422, "path"),
        ({"name": "N", "path": local["path"] + "/inside"}, 409, "path"),
        ({"name": "Local archive", "path": str(free)}, 409, "name"),
        ({"name": "N", "path": str(free), "reserve_mib": -1}, 422, "reserve_mib"),
        ({"name": "N", "path": str(free), "reserve_mib": "10"}, 422, "reserve_mib"),
        ({"name": "N", "path": str(free), "reserve_mib": 10**9}, 422, "reserve_mib"),
        ({"name": "", "path": str(free)}, 422, "name"),
        ({"name": "N", "path": str(free), "kind": "nas"}, 422, "kind"),
        ({"name": "N", "path": str(free), "server_id": "elsewhere"}, 422, "server_id"),
    ]
    (Path(local["path"]) / "inside").mkdir()
    for body, status, field in cases:
        answer = owner.post("/storages", json=body)
        assert answer.status_code == status, (body, answer.text)
        assert answer.json()["error"]["field"] == field, body
    answer = owner.patch(f"/storages/{local['id']}", json={"path": str(free)})
    assert answer.status_code == 422
    answer = owner.delete(f"/storages/{local['id']}")
    assert answer.status_code == 409  # a server keeps at least one storage
    assert owner.get("/storages/nope").status_code == 404

    def config(answer: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
        return [(s["id"], s["name"], s["path"], s["enabled"]) for s in answer["storages"]]

    assert config(owner.get("/storages").json()) == config(before)
    assert not (free / ".vigil-storage").exists()  # no folder was claimed

    extra = _add_storage(owner, "Extra", free, reserve_mib=0)
    assert extra["status"]["state"] == "online"
    again = owner.post("/storages", json={"name": "Again", "path": str(free)})
    assert again.status_code == 409  # one folder, one storage
    changed = owner.patch(f"/storages/{extra['id']}", json={"reserve_mib": "auto"}).json()
    assert changed["reserve_mib"] is None
    assert owner.delete(f"/storages/{extra['id']}").status_code == 204
    actions = [e["action"] for e in owner.get("/audit").json()["entries"]]
    assert {"storage.add", "storage.edit", "storage.delete"} <= set(actions)


def test_recording_moves_to_another_storage_when_one_is_full(
    tmp_path: Path, camera: TestCameraProcess
) -> None:
    started_ms = int(time.time() * 1000)
    with (
        tmpfs(tmp_path / "small", size_mib=1) as small,
        tmpfs(tmp_path / "big", size_mib=64) as big,
        ServerProcess(tmp_path / "server") as server,
    ):
        server.start()
        server.create_system()
        with server.login() as owner:
            _add_storage(owner, "Small", small, reserve_mib=0)
            _only(owner, "Small")
            camera_id = _add(owner, camera)
            wait_for(lambda: _recordings(small, "*.part.mp4"), 30, "recording on Small")
            # Bigger, so it takes the next file anyway; but Small fills up first.
            _add_storage(owner, "Big", big, reserve_mib=0)
            wait_for(lambda: _state(owner, "Small") == "full", 90, "Small to fill up")
            assert "space" in _storages(owner)["Small"]["status"]["reason"]
            wait_for(lambda: _recordings(big, "*.part.mp4"), 30, "recording on Big")
            time.sleep(4)
            intervals = _timeline(owner, camera_id, started_ms)
            storages = _storages(owner)
        server.stop()
    # What reached the full disk was kept and indexed (its last, torn fragment cut off) ...
    assert storages["Small"]["cameras"][camera_id] > 0
    # ... and the switch cost at most the rest of a GOP.
    assert len(intervals) <= 2
    if len(intervals) == 2:
        assert intervals[1]["start_ms"] - intervals[0]["end_ms"] <= 5000
    assert intervals[-1]["end_ms"] - intervals[0]["start_ms"] >= 10_000
    for path in _recordings(small) + _recordings(big):
        assert decode_errors(path) == "", path


@pytest.fixture
def plugged(tmp_path: Path) -> Any:
    """A folder on the test's disk, bind-mounted at `mnt` as if it were a plugged-in disk."""
    disk, mnt = tmp_path / "disk", tmp_path / "mnt"
    disk.mkdir()
    with tmpfs(tmp_path / "probe", size_mib=1):
        pass  # skips the test where mounting is not allowed
    mnt.mkdir()
    subprocess.run(["mount", "--bind", str(disk), str(mnt)], check=True, timeout=10)
    yield disk, mnt
    unmount(mnt)


def test_an_unplugged_storage_goes_offline_and_recording_goes_on_without_loss(
    tmp_path: Path, camera: TestCameraProcess, plugged: tuple[Path, Path]
) -> None:
    disk, mnt = plugged
    started_ms = int(time.time() * 1000)
    with (
        tmpfs(tmp_path / "spare", size_mib=64) as spare,
        ServerProcess(tmp_path / "server") as server,
    ):
        server.start()
        server.create_system()
        with server.login() as owner:
            _add_storage(owner, "Removable", mnt, reserve_mib=0)
            _add_storage(owner, "Spare", spare, reserve_mib=0)
            _only(owner, "Removable", "Spare")
            camera_id = _add(owner, camera)
            # The bigger disk is written first.
            wait_for(lambda: _recordings(mnt, "*.part.mp4"), 30, "recording on Removable")
            time.sleep(3)
            unmount(mnt)
            wait_for(lambda: _state(owner, "Removable") == "offline", 30, "Removable offline")
            reason = _storages(owner)["Removable"]["status"]["reason"]
            assert "not this storage's folder" in reason
            wait_for(lambda: _recordings(spare, "*.part.mp4"), 30, "recording on Spare")
            time.sleep(3)
            subprocess.run(["mount", "--bind", str(disk), str(mnt)], check=True, timeout=10)
            wait_for(lambda: _state(owner, "Removable") == "online", 30, "Removable back")
            # The file cut off by the unplugging was finished and indexed when it came back:
            # the timeline runs on without a gap.
            intervals = _timeline(owner, camera_id, started_ms)
            assert len(intervals) == 1, intervals
            assert intervals[0]["end_ms"] - intervals[0]["start_ms"] >= 8000
            assert _storages(owner)["Removable"]["cameras"][camera_id] > 0
        server.stop()
    for path in _recordings(disk):
        assert decode_errors(path) == "", path


def _files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*.mp4") if p.is_file()]


def test_a_server_killed_while_deleting_comes_back_with_index_and_disk_in_agreement(
    tmp_path: Path,
) -> None:
    with ServerProcess(tmp_path / "server") as server:
        server.start()
        server.create_system()
        with server.login() as owner:
            answer = owner.post("/cameras", json={
                "name": "Old", "main_url": "rtsp://127.0.0.1:9/x", "retention_days": 1
            })  # fmt: skip
            camera_id = answer.json()["id"]
        server.stop()
        # A month of minute files past the camera's day of retention, and a few young ones.
        archive = server.data_dir / "archive"
        now_ms = int(time.time() * 1000)
        minute = 60_000
        old = 40_000
        for i in range(old):
            start = now_ms - 2 * 86_400_000 - i * minute
            path = naming.closed_path(archive, camera_id, "main", start, minute)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"\x01" * 64)
        young = [naming.closed_path(archive, camera_id, "sub", now_ms - i * minute, minute)
                 for i in range(1, 11)]  # fmt: skip
        for path in young:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"\x02" * 100)

        server.start()
        remaining = wait_for(
            lambda: (n := len(_files_under(archive))) < old + len(young) and n,
            60,
            "retention to start deleting",
        )
        server.kill()
        left_after_kill = len(_files_under(archive))
        assert len(young) < left_after_kill <= remaining, "the kill came too late to test"

        server.start()
        with server.login() as owner:
            # Deletion goes on where it stopped; the index never lists a file that is gone.
            wait_for(lambda: len(_files_under(archive)) == len(young), 60, "deletion to end")
            local = wait_for(
                lambda: (s := _storages(owner)["Local archive"])["recorded_bytes"] == 1000 and s,
                30,
                "the index to agree with the disk",
            )
            assert local["cameras"] == {camera_id: 1000}
            timeline = owner.get(f"/cameras/{camera_id}/timeline", params={
                "from_ms": now_ms - 86_400_000, "to_ms": now_ms, "stream": "sub"
            }).json()  # fmt: skip
            assert timeline["intervals"] == [{"start_ms": now_ms - 10 * minute, "end_ms": now_ms}]
        server.stop()
    assert sorted(_files_under(archive)) == sorted(young)


def test_a_read_only_storage_says_so_and_is_used_again_when_writable(
    owner: httpx.Client, plugged: tuple[Path, Path]
) -> None:
    _, mnt = plugged
    storage = _add_storage(owner, "Shelf", mnt, reserve_mib=0)
    assert storage["status"]["state"] == "online"
    read_only(mnt, True, bind=True)
    wait_for(lambda: _state(owner, "Shelf") == "read_only", 30, "Shelf to show read-only")
    assert "Read-only file system" in _storages(owner)["Shelf"]["status"]["reason"]
    read_only(mnt, False, bind=True)
    wait_for(lambda: _state(owner, "Shelf") == "online", 30, "Shelf writable again")


def test_removing_a_storage_while_it_records_moves_recording_to_another(
    tmp_path: Path, camera: TestCameraProcess
) -> None:
    with (
        tmpfs(tmp_path / "first", size_mib=64) as first,
        tmpfs(tmp_path / "second", size_mib=32) as second,
        ServerProcess(tmp_path / "server") as server,
    ):
        server.start()
        server.create_system()
        with server.login() as owner:
            removed = _add_storage(owner, "First", first, reserve_mib=0)
            _add_storage(owner, "Second", second, reserve_mib=0)
            _only(owner, "First", "Second")
            camera_id = _add(owner, camera)
            wait_for(lambda: _recordings(first, "*.part.mp4"), 30, "recording on First")
            assert owner.delete(f"/storages/{removed['id']}").status_code == 204
            wait_for(lambda: _recordings(second, "*.part.mp4"), 30, "recording on Second")
            # The file on the removed storage was closed whole, not abandoned.
            wait_for(lambda: not _recordings(first, "*.part.mp4"), 30, "First's file closed")
            assert _recordings(first)
            # The server still follows changes: recording pauses when told to.
            owner.patch(f"/cameras/{camera_id}", json={"recording": {"mode": "off"}})
            wait_for(lambda: _recording_state(owner, camera_id)["state"] == "paused", 20, "a pause")
        server.stop()
        assert "Traceback" not in server.logs()
    for path in _recordings(first) + _recordings(second):
        assert decode_errors(path) == "", path
