"""A `python -m vigil …` child process for tests: started, watched until ready, stopped."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Self


class VigilProcess:
    """Subclasses give the command's arguments and say when the process is ready."""

    name = "vigil"

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def arguments(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        """Whether the process answers as it should once started (polled by `start`)."""
        raise NotImplementedError

    def start(self, timeout_s: float = 30.0) -> Self:
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "vigil", *self.arguments()],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start:\n{self.logs()}")
            if self.ready():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} was not ready within {timeout_s} s:\n{self.logs()}")

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("the process is not running")
        return self._process.pid

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> int | None:
        """SIGTERM, as a service manager stops it; returns the exit code."""
        return self._end(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to clean up."""
        self._end(signal.SIGKILL)

    def _end(self, sig: signal.Signals) -> int | None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return None if process is None else process.returncode
        process.send_signal(sig)
        try:
            return process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
            raise

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def open_recordings(pid: int) -> set[str]:
    """The recording files (`.mp4`) that process `pid` holds open now."""
    held = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except FileNotFoundError:
            continue  # closed meanwhile
        if target.endswith(".mp4"):
            held.add(target)
    return held


def parent_of(pid: int) -> int:
    """The parent process of `pid`, from /proc."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _status_mib(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def rss_mib(pid: int) -> float:
    return _status_mib(pid, "VmRSS")


def peak_rss_mib(pid: int) -> float:
    return _status_mib(pid, "VmHWM")
