"""Serves the HTTP application on every camera's port from one uvicorn server."""

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator, Mapping, Sequence

import uvicorn

from vigil.clock import Clock
from vigil.ports import listen
from vigil.testcamera.camera import SimulatedCamera
from vigil.testcamera.httpapp import CameraSite, build_app
from vigil.testcamera.lpr import PlatePusher
from vigil.testcamera.onvif.endpoint import OnvifEndpoint
from vigil.testcamera.rtsp.auth import Authenticator
from vigil.testcamera.streaming import StreamingService

logger = logging.getLogger(__name__)

_STARTUP_TIMEOUT_S = 10.0


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The runner owns SIGTERM and SIGINT for all components; uvicorn must not take them.
        yield


class CameraHttpServer:
    def __init__(
        self,
        cameras: Sequence[SimulatedCamera],
        streaming: StreamingService,
        plates: Mapping[int, PlatePusher],
        clock: Clock,
    ) -> None:
        self._cameras = cameras
        self._sites = {
            camera.http_port: CameraSite(camera, OnvifEndpoint(camera, clock), _http_auth(camera))
            for camera in cameras
        }
        self._app = build_app(self._sites, streaming, plates)
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        sockets = _listen(self._cameras)
        self._server = _Server(
            uvicorn.Config(
                self._app,
                log_config=None,
                lifespan="off",
                server_header=False,
                access_log=False,
                # PullMessages may be waiting; stop() answers them first, this is the backstop.
                timeout_graceful_shutdown=5,
            )
        )
        self._task = asyncio.create_task(self._server.serve(sockets=sockets))
        async with asyncio.timeout(_STARTUP_TIMEOUT_S):
            while not self._server.started:
                if self._task.done():
                    self._task.result()  # raises why it ended
                    raise RuntimeError("the HTTP server ended while starting")
                await asyncio.sleep(0.01)
        first, last = self._cameras[0], self._cameras[-1]
        logger.info(
            "ONVIF listening",
            extra={"url": first.onvif_url, "ports": f"{first.http_port}-{last.http_port}"},
        )

    async def stop(self) -> None:
        for site in self._sites.values():
            site.onvif.close()
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        await self._task


def _http_auth(camera: SimulatedCamera) -> Authenticator | None:
    credentials = camera.credentials
    if not credentials.required or credentials.user is None:
        return None
    return Authenticator(credentials.user, credentials.password or "")


def _listen(cameras: Sequence[SimulatedCamera]) -> list[socket.socket]:
    """One listening socket per camera; all or none."""
    sockets: list[socket.socket] = []
    try:
        for camera in cameras:
            # Camera i listens on --http-port + i: the option moves them all.
            sock = listen(camera.host, camera.http_port, "--http-port")
            sockets.append(sock)
            sock.setblocking(False)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets
