"""A power cut loses little: recordings are forced to the disk every few seconds, and a file
before its name and its index row say it is whole (docs/design/recording.md, "Power cut").

A test cannot empty the kernel's cache as a power cut does; it watches instead what the server
asks of the kernel, with strace (a tracer nobody here wrote) attached to a real `vigil server`:
which files and folders are synced, and in which order with the renames."""

import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.media.test_recording import _add, _files, wait_recorded
from tests.servers import ServerProcess
from tests.testcamera.process import TestCameraProcess
from tests.waiting import wait_for

STRACE = shutil.which("strace")
pytestmark = pytest.mark.skipif(STRACE is None, reason="needs strace (apt-get install strace)")

SYNC_EVERY_S = 2.0  # short, so that a few seconds of recording show periodic syncs


@dataclass(frozen=True)
class Call:
    name: str  # fdatasync, fsync or rename
    paths: tuple[str, ...]  # the synced file or folder; a rename's old and new names


# `1234 fsync(7</data/archive/cam/main>) = 0`, `1234 rename("/a.part.mp4", "/a_1.mp4") = 0`
# (renameat and renameat2 name the same two paths); a call interrupted by another thread's
# line is written as `<unfinished ...>` and ends on a `resumed` line, which adds nothing here.
_CALL = re.compile(r"^\d+\s+(fdatasync|fsync|rename|renameat2?)\((.*)")
_SYNCED = re.compile(r"^\d+<(.*?)>")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _calls(log: Path) -> list[Call]:
    calls = []
    for line in log.read_text().splitlines():
        match = _CALL.match(line)
        if match is None:
            continue
        name, rest = match.groups()
        if name.startswith("rename"):
            calls.append(Call("rename", tuple(_QUOTED.findall(rest)[:2])))
        elif synced := _SYNCED.match(rest):
            calls.append(Call(name, (synced.group(1),)))
    return calls


@contextmanager
def traced(pid: int, folder: Path) -> Iterator[Path]:
    """strace attached to every thread of `pid` until the block ends and the process has
    exited; yields the log, complete once the block is over."""
    assert STRACE is not None
    log, said = folder / "strace.log", folder / "strace.err"
    calls = "trace=fdatasync,fsync,rename,renameat,renameat2"
    with said.open("wb") as errors:
        tracer = subprocess.Popen(
            [STRACE, "-f", "-y", "-e", calls, "-e", "signal=none", "-o", str(log), "-p", str(pid)],
            stderr=errors,
        )
    try:
        wait_for(lambda: "attached" in said.read_text(), 20, "strace to attach to the server")
        yield log
        tracer.wait(timeout=30)  # it ends with the server, having written all it saw
    finally:
        if tracer.poll() is None:
            tracer.send_signal(signal.SIGINT)
            tracer.wait(timeout=10)


def _record_traced(tmp_path: Path, sync_every: str) -> tuple[list[Call], list[Path], Path]:
    """Records the testcamera for a while with strace watching, then stops the server (which
    ends its files); the calls on the archive's camera folder and the files made."""
    options = ["--sync-every", sync_every]
    with (
        TestCameraProcess(tmp_path, count=1) as camera,
        ServerProcess(tmp_path / "server", options=options) as server,
    ):
        camera.start(timeout_s=120)
        server.start()
        server.create_system()
        with traced(server.pid, tmp_path) as log, server.login() as owner:
            since_ms = int(time.time() * 1000)
            camera_id = _add(owner, camera)
            wait_recorded(owner, camera_id, since_ms, 3 * SYNC_EVERY_S)
            assert server.stop() == 0
    root = server.data_dir / "archive"
    camera_folder = root / camera_id

    def mine(path: str) -> bool:  # not the database's, nor the storage check's
        return path in (str(root), str(camera_folder)) or path.startswith(f"{camera_folder}/")

    calls = [c for c in _calls(log) if any(mine(p) for p in c.paths)]
    return calls, _files(server.data_dir, "*_*.mp4"), camera_folder


def test_recordings_are_synced_before_they_are_named_and_indexed(tmp_path: Path) -> None:
    calls, files, camera_folder = _record_traced(tmp_path, str(SYNC_EVERY_S))
    assert files, "no recording was made"
    for final in files:
        renames = [
            i for i, c in enumerate(calls) if c.name == "rename" and c.paths[1] == str(final)
        ]
        assert len(renames) == 1, f"{final.name} was not renamed once: {calls}"
        at = renames[0]
        part = calls[at].paths[0]
        assert part.endswith(".part.mp4")
        synced = [i for i, c in enumerate(calls) if c.name == "fdatasync" and c.paths == (part,)]
        # Every few seconds while it is written, and once more just before the rename.
        assert len(synced) >= 2, f"{part} synced {len(synced)} times: {calls}"
        assert synced[-1] < at, f"{part} renamed before its data was synced"
        folder_synced = [i for i, c in enumerate(calls) if c.name == "fsync"
                         and c.paths == (str(final.parent),)]  # fmt: skip
        assert any(i > at for i in folder_synced), f"{final.parent} not synced after the rename"
        # Its name was on the disk before its data was: both survive a cut.
        assert any(i < synced[0] for i in folder_synced), f"{part}'s name not synced first"
    # The folders that a new camera's first file made (camera, stream, day, hour) are in
    # their parents on the disk, the archive's own folder the first of them.
    hour = files[0].parent
    for folder in (camera_folder, hour.parent.parent, hour.parent, hour):
        assert Call("fsync", (str(folder.parent),)) in calls, f"{folder} not synced in its parent"


def test_with_syncing_off_the_operating_system_decides(tmp_path: Path) -> None:
    calls, files, _ = _record_traced(tmp_path, "0")
    assert files, "no recording was made"
    renamed = {c.paths[1] for c in calls if c.name == "rename"}
    assert renamed == {str(f) for f in files}
    assert [c for c in calls if c.name != "rename"] == []
