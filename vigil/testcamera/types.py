"""The interfaces the parts of `vigil testcamera` meet at."""

from typing import Protocol

from vigil.testcamera.camera import SimulatedCamera, StreamName


class Component(Protocol):
    """A long-running part of the process (HTTP, discovery, video): started once, stopped once."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class SnapshotSource(Protocol):
    """Where the snapshot endpoint gets its JPEG pictures of a camera's stream."""

    async def jpeg(self, camera: SimulatedCamera, stream: StreamName) -> bytes: ...
