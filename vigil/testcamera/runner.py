"""Runs `vigil testcamera`: builds the cameras, starts the components, stops them on a signal.

Components start in order and stop in reverse order; "cameras ready" is logged when all have
started. SIGTERM and SIGINT end the run cleanly.
"""

import asyncio
import logging
import signal
from collections.abc import Sequence

from vigil.clock import SystemClock
from vigil.testcamera.camera import Credentials, Identity, Ptz, SimulatedCamera
from vigil.testcamera.config import TestCameraConfig
from vigil.testcamera.discovery import DiscoveryResponder
from vigil.testcamera.httpserver import CameraHttpServer
from vigil.testcamera.lpr import PlatePusher, load_plates, made_up_plates
from vigil.testcamera.motion import MotionSchedule
from vigil.testcamera.streaming import StreamingService
from vigil.testcamera.types import Component, SnapshotSource

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
            audio=config.audio,
            ptz=Ptz() if config.ptz else None,
        )
        for index in range(config.count)
    ]


def build_plate_pushers(
    config: TestCameraConfig, cameras: Sequence[SimulatedCamera], snapshots: SnapshotSource
) -> dict[int, PlatePusher]:
    if not config.lpr:
        return {}
    return {
        camera.identity.index: PlatePusher(
            camera,
            snapshots,
            load_plates(config.lpr_plates)
            if config.lpr_plates
            else made_up_plates(camera.identity.index),
            url=config.lpr_url,
            every_s=config.lpr_every_s,
        )
        for camera in cameras
    }


async def run(config: TestCameraConfig, cameras: Sequence[SimulatedCamera]) -> None:
    """Serve `cameras` until SIGTERM or SIGINT."""
    streaming = StreamingService(
        list(cameras),
        host=config.host,
        rtsp_port=config.rtsp_port,
        cache_dir=config.cache_dir,
        user=config.user,
        password=config.password,
        caption=config.caption,
    )
    plates = build_plate_pushers(config, cameras, streaming)
    # HTTP first: a taken port is reported at once, before loops are encoded. The cameras
    # then answer ONVIF while their video starts, as real ones do while booting.
    components: list[Component] = [
        CameraHttpServer(cameras, streaming, plates, SystemClock()),
        streaming,
        *plates.values(),
    ]
    if config.motion_every_s is not None:
        components.append(MotionSchedule(cameras, config.motion_every_s, config.motion_for_s))
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
