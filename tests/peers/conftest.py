"""Vigil against peers nobody here wrote: GStreamer's RTSP server as the cameras, GStreamer
and FFmpeg as the players and decoders (docs/design/peers.md)."""

from collections.abc import Iterator

import pytest

from tests.peers.exercise import Vigil
from tests.peers.gst import missing
from tests.servers import ServerProcess


@pytest.fixture(scope="session", autouse=True)
def gstreamer() -> None:
    """Skip the peer tests only where Debian's GStreamer packages are not installed (CI
    installs them: .ci/run)."""
    reason = missing()
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def vigil(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vigil]:
    """A one-server system shared by a module's tests, each adding cameras of its own."""
    folder = tmp_path_factory.mktemp("peers")
    with ServerProcess(folder / "server") as server:
        server.start()
        server.create_system()
        with server.login() as owner:
            yield Vigil(server, owner, folder)
