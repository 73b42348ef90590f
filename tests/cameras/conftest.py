from collections.abc import Iterator

import pytest

from tests.cameras.onvif import SECRET, USER
from tests.testcamera.process import TestCameraProcess


@pytest.fixture(scope="module")
def cameras(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestCameraProcess]:
    """Two simulated cameras that want USER and SECRET, shared by the tests of a module."""
    folder = tmp_path_factory.mktemp("onvif-cameras")
    with TestCameraProcess(folder, count=2, user=USER, password=SECRET) as process:
        process.start(timeout_s=120)
        yield process
