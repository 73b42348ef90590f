"""A server in this test process whose clock the test moves, for lock-out and expiry tests.

It is the same `VigilServer` that `vigil server` runs, on a real loopback port, but built with
a `ManualClock` so that thirty minutes pass in a statement instead of in thirty minutes.
"""

import asyncio
import threading
import time
from pathlib import Path
from types import TracebackType

import httpx
import uvicorn

from tests.servers import api_client, free_port
from vigil.app import VigilServer
from vigil.config import ServerConfig


class ManualClock:
    def __init__(self, start_ms: int = 1_800_000_000_000) -> None:
        self._ms = start_ms

    def now_ms(self) -> int:
        return self._ms

    def advance(self, *, seconds: float = 0, minutes: float = 0, hours: float = 0) -> None:
        self._ms += int((seconds + minutes * 60 + hours * 3600) * 1000)


class ClockedServer:
    def __init__(self, data_dir: Path) -> None:
        self.clock = ManualClock()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # No RTSP and no peer port: these tests are of the API, and a fixed port would clash
        # with parallel runs.
        self._config = ServerConfig(data_dir=data_dir, port=self.port, rtsp_port=0, peer_port=0)
        self._http: uvicorn.Server | None = None
        self._thread = threading.Thread(target=self._run, name="clocked-server", daemon=True)

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        server = await VigilServer.open(self._config, self.clock)
        try:
            self._http = uvicorn.Server(
                uvicorn.Config(
                    server.app, host="127.0.0.1", port=self.port, log_config=None, lifespan="off"
                )
            )
            await self._http.serve()
        finally:
            await server.close()

    def client(self, token: str | None = None) -> httpx.Client:
        return api_client(self.url, token)

    def __enter__(self) -> "ClockedServer":
        self._thread.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/api/v1/server", timeout=1.0)
                return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("the clocked server did not start")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._http is not None:
            self._http.should_exit = True
        self._thread.join(timeout=15)
