"""Runs `vigil testcamera`: builds the cameras, starts the components, stops them on a signal.

Components start in order (video first, so that what the servers announce can be served) and
stop in reverse order. SIGTERM and SIGINT end the run cleanly.
"""

import asyncio
import logging
import signal
from collections.abc import Sequence

from vigil.clock import SystemClock
from vigil.testcamera.camera import Credentials, Identity, SimulatedCamera
from vigil.testcamera.config import TestCameraConfig
from vigil.testcamera.discovery import DiscoveryResponder
from vigil.testcamera.httpserver import CameraHttpServer
from vigil.testcamera.types import Component, SnapshotSource

__all__ = ["Component", "SnapshotSource", "build_cameras", "run"]

logger = logging.getLogger(__name__)


def build_cameras(config: TestCameraConfig) -> list[SimulatedCamera]:
    return [
        SimulatedCamera(
            identity=Identity.number(index),
            streams={"main": config.main_profile(), "sub": config.sub_profile()},
            credentials=Credentials(config.user, config.password),
            rtsp_port=config.rtsp_port,
            http_port=config.http_port_of(index),
            host=config.host,
        )
        for index in range(config.count)
    ]


async def run(
    config: TestCameraConfig,
    cameras: Sequence[SimulatedCamera],
    *,
    snapshots: SnapshotSource,
    extra: Sequence[Component] = (),
) -> None:
    """Serve `cameras` until SIGTERM or SIGINT; `extra` components start first, stop last."""
    components: list[Component] = [
        *extra,
        CameraHttpServer(cameras, snapshots, SystemClock()),
    ]
    if config.discovery:
        components.append(DiscoveryResponder(config.host, cameras))

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    started: list[Component] = []
    try:
        for component in components:
            await component.start()
            started.append(component)
        logger.info("cameras ready", extra={"count": len(cameras)})
        await stopping.wait()
        logger.info("stopping")
    finally:
        for component in reversed(started):
            try:
                await component.stop()
            except Exception:
                logger.exception("a component failed to stop", extra={"component": component})
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
