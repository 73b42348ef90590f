"""A real `vigil testcamera` process on free loopback ports, for tests to talk to."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import httpx

READY = 'msg="cameras ready"'


# Loops encoded by one test are reused by the next, and by the next run on this machine.
SHARED_CACHE = Path(tempfile.gettempdir()) / "vigil-test-loops"
SMALL_MAIN = "320x240@25:400k"
SMALL_SUB = "160x120@10:100k"


def free_port_block(count: int) -> int:
    """The first of `count` consecutive TCP ports that are free on loopback right now."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first: int = probe.getsockname()[1]
        if first + count > 65535:
            continue
        held: list[socket.socket] = []
        try:
            for port in range(first, first + count):
                sock = socket.socket()
                held.append(sock)
                sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for sock in held:
                sock.close()
    raise RuntimeError(f"no block of {count} free ports found")


class TestCameraProcess:
    """`python -m vigil testcamera` with its log in `log_dir`; start, stop, look at it."""

    __test__ = False  # a helper, not a test class

    def __init__(
        self,
        log_dir: Path,
        *,
        count: int = 1,
        user: str | None = None,
        password: str | None = None,
        discovery: bool = False,
        cache_dir: Path = SHARED_CACHE,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.count = count
        self.user = user
        self.password = password
        self.http_port = free_port_block(count)
        self.rtsp_port = free_port_block(1)
        self.log_path = log_dir / f"testcamera-{self.http_port}.log"
        self._args = [
            "--count",
            str(count),
            "--host",
            "127.0.0.1",
            "--http-port",
            str(self.http_port),
            "--rtsp-port",
            str(self.rtsp_port),
            "--cache",
            str(cache_dir),
            # Small pictures unless a test asks for others: encoding them takes a second.
            *(() if "--main" in extra_args else ("--main", SMALL_MAIN)),
            *(() if "--sub" in extra_args else ("--sub", SMALL_SUB)),
            *(("--user", user) if user else ()),
            *(("--password", password) if password else ()),
            *(() if discovery else ("--no-discovery",)),
            *extra_args,
        ]
        self._process: subprocess.Popen[bytes] | None = None

    def url(self, index: int = 0) -> str:
        return f"http://127.0.0.1:{self.http_port + index}"

    def start(self, timeout_s: float = 30.0) -> "TestCameraProcess":
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "vigil", "--log-level", "debug", "testcamera", *self._args],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"testcamera exited at start:\n{self.logs()}")
            try:
                # Any HTTP answer means the server is up; the ONVIF path only takes POST.
                httpx.get(f"{self.url(self.count - 1)}/onvif/device_service", timeout=1.0)
            except httpx.TransportError:
                time.sleep(0.05)
                continue
            # Discovery starts after HTTP; the log says when every component is up.
            if READY in self.logs():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"testcamera did not answer within {timeout_s} s:\n{self.logs()}")

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("the process is not running")
        return self._process.pid

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> int | None:
        """SIGTERM, as a service manager stops it; returns the exit code."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return None if process is None else process.returncode
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
            raise

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> "TestCameraProcess":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
