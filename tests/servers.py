"""Real `vigil server` processes on free loopback ports, for tests (and later issues) to use."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

OWNER = "owner"
OWNER_PASSWORD = "owner password 1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def api_client(url: str, token: str | None = None) -> httpx.Client:
    """An HTTP client for the API of the server at `url`, with a session token if given."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=f"{url}/api/v1", headers=headers, timeout=20.0)


class ServerProcess:
    """One `vigil server` with its own data folder; start, stop, kill and start again."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir.parent / f"{data_dir.name}.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 20.0) -> "ServerProcess":
        log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vigil",
                "server",
                "--data",
                str(self.data_dir),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"server exited at start:\n{self.logs()}")
            try:
                httpx.get(f"{self.url}/api/v1/server", timeout=1.0)
                return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError(f"server did not answer within {timeout_s} s:\n{self.logs()}")

    def stop(self) -> int | None:
        """SIGTERM, as a service manager stops it; returns the exit code."""
        return self._end(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL: the server gets no chance to clean up."""
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

    def client(self, token: str | None = None) -> httpx.Client:
        return api_client(self.url, token)

    def create_system(self, **overrides: Any) -> dict[str, Any]:
        body = {
            "system_name": "Test system",
            "server_name": "Server 1",
            "owner_name": OWNER,
            "owner_password": OWNER_PASSWORD,
            **overrides,
        }
        with self.client() as client:
            answer = client.post("/system", json=body)
        assert answer.status_code == 201, answer.text
        created: dict[str, Any] = answer.json()
        return created

    def login(self, name: str = OWNER, password: str = OWNER_PASSWORD) -> httpx.Client:
        """A client carrying a fresh session's bearer token."""
        with self.client() as anonymous:
            answer = anonymous.post("/login", json={"name": name, "password": password})
        assert answer.status_code == 200, answer.text
        return self.client(answer.json()["token"])

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def add_user(
    owner: httpx.Client, name: str, role_id: str, password: str = "user password 1"
) -> str:
    """Create a user through the API (as `owner`, any client allowed to) and return its id."""
    answer = owner.post("/users", json={"name": name, "password": password, "role_id": role_id})
    assert answer.status_code == 201, answer.text
    user_id: str = answer.json()["id"]
    return user_id
