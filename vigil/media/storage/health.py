"""What a storage can do right now: is it there, is it writable, how fast, how much room.

Checks run in the storage's own threads and are bounded by a timeout, because a NAS that
stops answering makes file calls hang rather than fail.

A storage folder holds a marker file naming its storage. A NAS share that is not mounted, or
a disk that was pulled, leaves an empty folder (or another disk) at the same path: without the
marker, recordings would silently go to the wrong disk, often the system disk. So a folder
without its marker is offline, never written to.
"""

import errno
import json
import os
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

MARKER = ".vigil-storage"
_PROBE = ".vigil-probe"
_PROBE_BYTES = b"\0" * 4096
# Filesystems reached over the network: their mounts are shown as NAS.
_NETWORK_FILESYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "glusterfs", "ceph", "9p"}
)


class StorageState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"  # missing, not mounted, not answering
    READ_ONLY = "read_only"
    FULL = "full"  # (almost) no room left
    DISABLED = "disabled"


@dataclass(frozen=True)
class Health:
    state: StorageState
    reason: str
    checked_ms: int
    total_bytes: int = 0
    free_bytes: int = 0
    write_latency_ms: float | None = None
    filesystem: str = ""

    @property
    def network(self) -> bool:
        return self.filesystem in _NETWORK_FILESYSTEMS

    @property
    def writable(self) -> bool:
        return self.state == StorageState.ONLINE


def write_marker(root: Path, storage_id: str) -> None:
    """Claim a folder for a storage (on adding it)."""
    (root / MARKER).write_text(json.dumps({"storage_id": storage_id}) + "\n")


def marker_of(root: Path) -> str | None:
    """The storage a folder was claimed for, if any."""
    try:
        content = json.loads((root / MARKER).read_text())
    except (OSError, ValueError):
        return None
    storage_id = content.get("storage_id") if isinstance(content, dict) else None
    return storage_id if isinstance(storage_id, str) else None


def check(root: Path, storage_id: str, now_ms: int) -> Health:
    """Look at a storage (blocking: run it in the storage's thread)."""
    try:
        return _check(root, storage_id, now_ms)
    except OSError as err:  # a stale NFS handle, a dead FUSE mount, no permission …
        return Health(StorageState.OFFLINE, f"{root}: {err.strerror or err}", now_ms)


def _check(root: Path, storage_id: str, now_ms: int) -> Health:
    if not root.is_dir():
        return Health(StorageState.OFFLINE, f"the folder {root} is missing", now_ms)
    if marker_of(root) != storage_id:
        reason = f"{root} is not this storage's folder (not mounted, or another disk)"
        return Health(StorageState.OFFLINE, reason, now_ms)
    space = os.statvfs(root)
    total, free = space.f_blocks * space.f_frsize, space.f_bavail * space.f_frsize
    filesystem = filesystem_of(root)
    started = time.perf_counter()
    try:
        _probe(root / _PROBE)
    except OSError as err:
        state, reason = failure_of(err)
        return Health(state, reason, now_ms, total, free, None, filesystem)
    latency = round((time.perf_counter() - started) * 1000, 2)
    if free < full_below(total):
        reason = f"no space left: {free // 1024} KiB free"
        return Health(StorageState.FULL, reason, now_ms, total, free, latency, filesystem)
    return Health(StorageState.ONLINE, "", now_ms, total, free, latency, filesystem)


def full_below(total_bytes: int) -> int:
    """Free space under which a storage takes no new recordings: room for the files being
    written to close, whatever the reserve says (a reserve of 0 turns only retention off)."""
    return min(total_bytes // 8, 256 * 1024 * 1024)


def _probe(path: Path) -> None:
    """Write, sync and remove a small file: what recording needs, end to end."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(descriptor, _PROBE_BYTES)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
        path.unlink(missing_ok=True)


def failure_of(err: OSError) -> tuple[StorageState, str]:
    """What a write error says of a storage's state (from a probe, or from recording)."""
    if err.errno == errno.ENOSPC:
        return StorageState.FULL, "no space left"
    if err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return StorageState.READ_ONLY, f"not writable: {err.strerror}"
    return StorageState.OFFLINE, f"writing failed: {err.strerror or err}"


def filesystem_of(path: Path) -> str:
    """The type of the filesystem mounted closest above `path` (ext4, nfs4, tmpfs, …)."""
    resolved = str(path.resolve())
    best, kind = "", ""
    try:
        with open("/proc/self/mounts") as mounts:
            for line in mounts:
                fields = line.split()
                if len(fields) < 3:
                    continue
                point = fields[1].replace("\\040", " ")
                inside = resolved == point or resolved.startswith(point.rstrip("/") + "/")
                if inside and len(point) > len(best):
                    best, kind = point, fields[2]
    except OSError:
        return ""
    return kind
