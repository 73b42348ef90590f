"""Motion on a schedule: each camera sees motion for a while, now and then, like a gate."""

import asyncio
import random
from collections.abc import Sequence

from vigil.tasks import cancel_and_wait
from vigil.testcamera.camera import SimulatedCamera


class MotionSchedule:
    """Every `every_s` seconds (spread per camera) motion starts and lasts `duration_s`."""

    def __init__(
        self, cameras: Sequence[SimulatedCamera], every_s: float, duration_s: float
    ) -> None:
        self._cameras = cameras
        self._every_s = every_s
        self._duration_s = min(duration_s, every_s / 2)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="motion-schedule")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        # Each camera gets its own phase, so 128 cameras do not all fire at once.
        phases = [random.Random(c.identity.index).uniform(0, self._every_s) for c in self._cameras]
        while True:
            elapsed = loop.time() - start
            next_change = self._every_s
            for camera, phase in zip(self._cameras, phases, strict=True):
                position = (elapsed - phase) % self._every_s
                camera.events.set_motion(elapsed >= phase and position < self._duration_s)
                until = (
                    self._duration_s - position
                    if position < self._duration_s
                    else (self._every_s - position)
                )
                next_change = min(next_change, until)
            await asyncio.sleep(max(0.05, next_change))
