from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import httpx
import pytest

from tests.servers import ServerProcess


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start servers with fresh data folders; all are stopped after the test."""
    started: list[ServerProcess] = []

    def start(
        name: str = "server", port: int | None = None, options: Sequence[str] = ()
    ) -> ServerProcess:
        server = ServerProcess(tmp_path / name, port, options=options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def undefined_server(start_server: Callable[..., ServerProcess]) -> ServerProcess:
    return start_server()


@pytest.fixture
def system_server(start_server: Callable[..., ServerProcess]) -> ServerProcess:
    """A one-server system whose owner is tests.servers.OWNER."""
    server = start_server()
    server.create_system()
    return server


@pytest.fixture
def owner(system_server: ServerProcess) -> Iterator[httpx.Client]:
    with system_server.login() as client:
        yield client
