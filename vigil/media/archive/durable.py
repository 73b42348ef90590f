"""Making what is written to a storage survive a power cut, not only a crash of the server.

A write reaches the operating system's cache; only `fdatasync` puts a file's data on the disk,
and only an `fsync` of its folder puts a new name there (a created file, a rename, a new
folder): without it a file whose data is safe may still be gone, or under its old name,
after the power comes back (docs/design/recording.md, "Power cut").
"""

import os
from pathlib import Path


def make_folders(folder: Path) -> list[Path]:
    """Create `folder` and whatever of its parents is missing; returns those created,
    outermost first (their parents' entries for them are not yet on the disk)."""
    missing: list[Path] = []
    at = folder
    while not at.exists():
        missing.append(at)
        at = at.parent
    folder.mkdir(parents=True, exist_ok=True)
    return missing[::-1]


def sync_folder(folder: Path) -> None:
    """Put the entries of `folder` (names created, renamed or removed in it) on the disk."""
    handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def sync_new_entry(path: Path, created: list[Path]) -> None:
    """After `path` was created in folders of which `created` were new: every name on the
    way to it is on the disk."""
    for folder in sorted({p.parent for p in created} | {path.parent}, key=lambda p: len(p.parts)):
        sync_folder(folder)
