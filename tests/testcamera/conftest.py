from collections.abc import AsyncIterator, Iterator

import pytest
from onvif import ONVIFCamera

from tests.testcamera.process import TestCameraProcess

USER = "admin"
PASSWORD = "camera password 1"


@pytest.fixture(scope="module")
def cameras(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestCameraProcess]:
    """Two cameras with credentials, shared by the tests of a module."""
    with TestCameraProcess(
        tmp_path_factory.mktemp("testcamera"), count=2, user=USER, password=PASSWORD
    ) as process:
        yield process.start()


@pytest.fixture
async def onvif_camera(cameras: TestCameraProcess) -> AsyncIterator[ONVIFCamera]:
    """An onvif-zeep-async client of the first camera, with its services' addresses known."""
    camera = ONVIFCamera("127.0.0.1", cameras.http_port, USER, PASSWORD, no_cache=True)
    try:
        await camera.update_xaddrs()
        yield camera
    finally:
        await camera.close()
