"""The media of this server: an ingest and a hub for each stream of the cameras it is parent of.

Follows the cameras in the system document: after every change (made here or by a peer) the
running ingests are brought in line with it: started, stopped, or restarted when what they
connect to changed.
"""

import asyncio
import logging
from collections.abc import Callable

from vigil.cameras.models import Camera, CameraRecord, StreamName
from vigil.clock import Clock
from vigil.media.hub import Hub
from vigil.media.ingest import StreamIngest, StreamStats, StreamStatus
from vigil.media.rtsp.client import StreamUrl
from vigil.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

STREAMS: tuple[StreamName, ...] = ("main", "sub")


def _connection_of(record: CameraRecord, stream: StreamName) -> tuple[str, str, str] | None:
    url = record.url_of(stream)
    return (url, record.username, record.password) if url else None


class MediaService:
    def __init__(self, server_id: str, cameras: Callable[[], list[Camera]], clock: Clock) -> None:
        self._server_id = server_id
        self._cameras = cameras
        self._clock = clock
        self._ingests: dict[tuple[str, StreamName], tuple[tuple[str, str, str], StreamIngest]] = {}
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._changed.set()
        self._task = asyncio.create_task(self._follow(), name="media: follow cameras")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        await asyncio.gather(*(ingest.stop() for _, ingest in self._ingests.values()))
        self._ingests.clear()

    def cameras_changed(self) -> None:
        """The system document changed; the ingests are brought in line soon after."""
        self._changed.set()

    def hub(self, camera_id: str, stream: StreamName) -> Hub | None:
        entry = self._ingests.get((camera_id, stream))
        return entry[1].hub if entry else None

    def stream_state(
        self, camera: Camera, stream: StreamName
    ) -> tuple[StreamStatus | None, StreamStats | None]:
        entry = self._ingests.get((camera.id, stream))
        if entry is None:
            return None, None
        return entry[1].status, entry[1].stats()

    async def _follow(self) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            await self._sync()

    async def _sync(self) -> None:
        wanted: dict[tuple[str, StreamName], tuple[str, str, str]] = {}
        for camera in self._cameras():
            record = camera.record
            if record.parent_server_id != self._server_id or not record.enabled:
                continue
            for stream in STREAMS:
                connection = _connection_of(record, stream)
                if connection is not None:
                    wanted[(camera.id, stream)] = connection
        for key, (connection, ingest) in list(self._ingests.items()):
            if wanted.get(key) != connection:
                del self._ingests[key]
                await ingest.stop()
        for key, connection in wanted.items():
            if key in self._ingests:
                continue
            url, user, password = connection
            ingest = StreamIngest(f"{key[0]}/{key[1]}", StreamUrl.parse(url, user, password),
                                  Hub(), self._clock)  # fmt: skip
            self._ingests[key] = (connection, ingest)
            ingest.start()
