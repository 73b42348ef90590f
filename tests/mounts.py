"""Real filesystems for storage tests: a small tmpfs that fills up, goes read-only or away.

Mounting needs root (tests run as root here and in CI); elsewhere these tests are skipped
with the reason.
"""

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, timeout=10)


@contextlib.contextmanager
def tmpfs(path: Path, size_mib: int) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a test filesystem needs root")
    path.mkdir(parents=True, exist_ok=True)
    try:
        _mount("-t", "tmpfs", "-o", f"size={size_mib}m", "tmpfs", str(path))
    except (subprocess.CalledProcessError, FileNotFoundError) as err:
        pytest.skip(f"cannot mount a tmpfs here: {err}")
    try:
        yield path
    finally:
        unmount(path)


def read_only(path: Path, on: bool, *, bind: bool = False) -> None:
    """Remount read-only or writable again. Linux refuses while a file is open for writing
    there (the server's health probe holds one for a moment), so it is tried a few times."""
    options = f"remount,{'ro' if on else 'rw'}{',bind' if bind else ''}"
    for attempt in range(50):
        try:
            _mount("-o", options, str(path))
            return
        except subprocess.CalledProcessError:
            if attempt == 49:
                raise
            time.sleep(0.1)


def unmount(path: Path) -> None:
    # Lazy: a server still holding files open there must not make the test hang.
    subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=10, check=False)


def remount(path: Path, size_mib: int) -> None:
    """A fresh empty tmpfs at `path` (as when another disk is plugged in)."""
    _mount("-t", "tmpfs", "-o", f"size={size_mib}m", "tmpfs", str(path))
