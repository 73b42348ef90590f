from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.testcamera.process import TestCameraProcess


@pytest.fixture
def camera(tmp_path: Path) -> Iterator[TestCameraProcess]:
    """One simulated camera (cam1, small streams), running for the test."""
    with TestCameraProcess(tmp_path, count=1) as process:
        process.start(timeout_s=120)
        yield process
