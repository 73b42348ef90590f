from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.media.recorded_site import Site, recording_site
from tests.testcamera.process import TestCameraProcess
from vigil.state import Database


@pytest.fixture
def camera(tmp_path: Path) -> Iterator[TestCameraProcess]:
    """One simulated camera (cam1, small streams), running for the test."""
    with TestCameraProcess(tmp_path, count=1) as process:
        process.start(timeout_s=120)
        yield process


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A server recording two simulated cameras, one per test module (tests/media/recorded_site)."""
    with recording_site(tmp_path_factory.mktemp("recorded")) as recording:
        yield recording


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A server's database, open, empty."""
    database = Database(tmp_path / "db.sqlite")
    await database.open()
    yield database
    await database.close()
