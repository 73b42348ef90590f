"""A real `vigil testcamera` process on free loopback ports, for tests to talk to."""

import tempfile
from pathlib import Path

import httpx

from tests.ports import free_port_block
from tests.processes import VigilProcess

READY = 'msg="cameras ready"'


# Loops encoded by one test are reused by the next, and by the next run on this machine.
SHARED_CACHE = Path(tempfile.gettempdir()) / "vigil-test-loops"
SMALL_MAIN = "320x240@25:400k"
SMALL_SUB = "160x120@10:100k"


class TestCameraProcess(VigilProcess):
    """`python -m vigil testcamera` with its log in `log_dir`; start, stop, look at it."""

    __test__ = False  # a helper, not a test class
    name = "testcamera"

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
        http_port: int | None = None,
        rtsp_port: int | None = None,
    ) -> None:
        self.count = count
        self.user = user
        self.password = password
        self.http_port = http_port or free_port_block(count)
        self.rtsp_port = rtsp_port or free_port_block(1)
        super().__init__(log_dir / f"testcamera-{self.http_port}.log")
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

    def url(self, index: int = 0) -> str:
        return f"http://127.0.0.1:{self.http_port + index}"

    def rtsp_url(self, path: str) -> str:
        """The URL of a stream, e.g. `/cam1/main`, without credentials."""
        return f"rtsp://127.0.0.1:{self.rtsp_port}{path}"

    def arguments(self) -> list[str]:
        return ["--log-level", "debug", "testcamera", *self._args]

    def ready(self) -> bool:
        try:
            # Any HTTP answer means the server is up; the ONVIF path only takes POST.
            httpx.get(f"{self.url(self.count - 1)}/onvif/device_service", timeout=1.0)
        except httpx.TransportError:
            return False
        # Discovery and video start after HTTP; the log says when every component is up.
        return READY in self.logs()
