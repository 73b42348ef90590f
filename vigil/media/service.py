"""The media of this server: an ingest and a hub for each stream of the cameras it is parent of.

Follows the cameras in the system document: after every change (made here or by a peer) the
running ingests are brought in line with it: started, stopped, or restarted when what they
connect to changed.
"""

import asyncio
import errno
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from vigil.cameras.address import StreamUrl
from vigil.cameras.events import CameraEvents
from vigil.cameras.models import Camera, CameraRecord, StreamName, Transport
from vigil.cameras.notifications import CameraEvent
from vigil.cameras.recording import RecordingSettings
from vigil.clock import Clock
from vigil.media.archive import reader, seek, timeline
from vigil.media.archive.cursor import ArchiveCursor, Segment
from vigil.media.archive.index import ArchiveIndex
from vigil.media.archive.reader import Chunk
from vigil.media.archive.scan import FragmentInfo, scan
from vigil.media.archive.store import Recording
from vigil.media.gate import RecordingGate
from vigil.media.hub import Hub
from vigil.media.ingest import StreamIngest, StreamState, StreamStats, StreamStatus
from vigil.media.live import StreamNow
from vigil.media.recorder import Recorder
from vigil.media.storage.pool import StoragePool
from vigil.media.storage.retention import Retention
from vigil.tasks import Follower

logger = logging.getLogger(__name__)

STREAMS: tuple[StreamName, ...] = ("main", "sub")


@dataclass(frozen=True)
class _Source:
    """What an ingest connects to, and how: a change of any of it restarts the ingest."""

    url: str
    username: str
    password: str = field(repr=False)
    transport: Transport


def _source_of(record: CameraRecord, stream: StreamName) -> _Source | None:
    url = record.url_of(stream)
    if not url:
        return None
    return _Source(url, record.username, record.password, record.transport)


@dataclass(frozen=True)
class RecordingState:
    # recording; paused (by the settings, waiting for an event or for the stream to connect);
    # failed (the stream is offline, unauthorized or in error, or the recorder cannot write)
    state: str
    reason: str  # always given but for `recording`
    storage_id: str | None  # of the file being written


# Why nothing is recorded, by the state of a stream that has failed.
_NO_VIDEO = {
    StreamState.OFFLINE: "the stream is offline",
    StreamState.UNAUTHORIZED: "the camera refused the credentials",
    StreamState.ERROR: "the stream is in error",
}


class MediaService:
    def __init__(
        self,
        server_id: str,
        cameras: Callable[[], list[Camera]],
        archive: ArchiveIndex,
        storages: StoragePool,
        retention: Retention,
        clock: Clock,
        sync_ms: int,
    ) -> None:
        self._server_id = server_id
        self._sync_ms = sync_ms
        self._cameras = cameras
        self._archive = archive
        self._storages = storages
        self._retention = retention
        self._clock = clock
        self._ingests: dict[tuple[str, StreamName], _Pipeline] = {}
        self._follower = Follower("media: follow cameras", self._sync)

    async def start(self) -> None:
        await self._storages.start()
        self._follower.start()
        self._retention.start()

    async def stop(self) -> None:
        await self._follower.stop()
        await self._retention.stop()
        await asyncio.gather(*(pipeline.stop() for pipeline in self._ingests.values()))
        self._ingests.clear()
        await self._storages.stop()

    @property
    def storages(self) -> StoragePool:
        return self._storages

    def cameras_changed(self) -> None:
        """The system document changed; the ingests are brought in line soon after."""
        self._follower.changed()

    def record_events_of(self, events: CameraEvents) -> None:
        """Recording for events follows what the cameras' events say: it goes on while any
        of a camera's event properties is on (motion, an input…); a one-off event gives its
        post-event time."""

        def heard(event: CameraEvent) -> None:
            state = events.state(event.camera_id)
            active = state is not None and state.active
            if event.active is None and not active:
                self._camera_event(event.camera_id, True)
            self._camera_event(event.camera_id, active)

        events.listen(heard)

    def hub(self, camera_id: str, stream: StreamName) -> Hub | None:
        pipeline = self._ingests.get((camera_id, stream))
        return pipeline.hub if pipeline else None

    def stream_now(self, camera_id: str, stream: StreamName) -> StreamNow:
        """A stream as a live viewer needs it: its hub, whether it is online, and whether
        this server still serves it at all."""
        camera = next((c for c in self._cameras() if c.id == camera_id), None)
        gone = _not_served(camera, stream, self._server_id)
        pipeline = self._ingests.get((camera_id, stream))
        if gone is not None or pipeline is None:
            return StreamNow(None, False, "connecting", gone)
        status = pipeline.ingest.status
        online = status.state == StreamState.ONLINE
        reason = status.reason or status.state
        return StreamNow(pipeline.hub, online, reason, None, pipeline.ingest.audio)

    def viewers(self, camera_id: str, stream: StreamName) -> int | None:
        """Live viewers of a stream now: what its hub feeds besides the recording."""
        pipeline = self._ingests.get((camera_id, stream))
        return pipeline.viewers() if pipeline is not None else None

    def stream_state(
        self, camera: Camera, stream: StreamName
    ) -> tuple[StreamStatus | None, StreamStats | None]:
        pipeline = self._ingests.get((camera.id, stream))
        if pipeline is None:
            return None, None
        return pipeline.ingest.status, pipeline.ingest.stats()

    def recording_state(self, camera_id: str, stream: StreamName) -> RecordingState | None:
        pipeline = self._ingests.get((camera_id, stream))
        if pipeline is None:
            return None
        recorder, status = pipeline.recorder, pipeline.ingest.status
        # The settings first: outside the schedule nothing is recorded, whatever the stream.
        by_settings = pipeline.gate.paused_by_settings(self._clock.now_ms())
        if by_settings is not None:
            return RecordingState("paused", by_settings, None)
        # The gate goes on saying `recording` while no frames come: the stream says better.
        if status.state == StreamState.CONNECTING:
            return RecordingState("paused", "waiting for the stream to connect", None)
        if status.state != StreamState.ONLINE:
            reason = _NO_VIDEO.get(status.state, f"the stream is {status.state}")
            said = f"{reason}: {status.reason}" if status.reason else reason
            return RecordingState("failed", said, None)
        if recorder.error is not None:
            return RecordingState("failed", recorder.error, recorder.storage_id())
        if not pipeline.gate.recording:
            return RecordingState("paused", "waiting for video", None)
        return RecordingState("recording", "", recorder.storage_id())

    async def recordings(
        self, camera_id: str, stream: StreamName, from_ms: int, to_ms: int
    ) -> list[tuple[Recording, list[FragmentInfo] | None]]:
        """The closed files of a stream over a range, each with its fragments (None when they
        are not in the index and its storage cannot be read now)."""
        found = []
        for recording in await self._archive.overlapping(camera_id, stream, from_ms, to_ms):
            found.append((recording, await self._fragments_of(recording)))
        return found

    def cursor(self, camera_id: str, stream: StreamName) -> ArchiveCursor:
        """For reading a stream's archive (playback, export, RTSP)."""
        return ArchiveCursor(self, camera_id, stream)

    async def segment(
        self, camera_id: str, stream: str, time_ms: int, *, later: bool
    ) -> Segment | None:
        """The recorded file starting first after `time_ms` (`later`), or last at or before
        it: from the index, or the file being written (which starts after every indexed one)."""
        found = await self._archive.neighbour(camera_id, stream, time_ms, later=later)
        pipeline = self._ingests.get((camera_id, cast(StreamName, stream)))
        written = pipeline.recorder.written_file() if pipeline is not None else None
        if written is not None:
            start = written.start_ms
            on_side = start > time_ms if later else start <= time_ms
            nearer = found is None or (start < found.start_ms if later else start >= found.start_ms)
            if on_side and nearer:
                return Segment(written.storage.id, written.path, start, list(written.fragments),
                               writing=True)  # fmt: skip
        if found is None:
            return None
        storage = self._storages.get(found.storage_id)
        fragments = await self._fragments_of(found)
        path = storage.root / found.path if storage is not None else Path(found.path)
        return Segment(found.storage_id, path, found.start_ms, fragments or [], writing=False)

    async def read(self, segment: Segment, fragment: FragmentInfo, keyframes_only: bool) -> Chunk:
        """One fragment of a recorded file, read in its storage's threads."""
        storage = self._storages.get(segment.storage_id)
        if storage is None or not storage.readable:
            raise OSError(errno.ENODEV, "the storage is not online")
        if segment.tracks is None:
            segment.tracks = await storage.run(reader.read_tracks, segment.path)
        return await storage.run(reader.read_chunk, segment.path, segment.tracks,
                                 segment.start_ms, fragment, keyframes_only)  # fmt: skip

    async def _fragments_of(self, recording: Recording) -> list[FragmentInfo] | None:
        duration = recording.end_ms - recording.start_ms
        if recording.fragments is not None:
            return seek.unpack(recording.fragments, duration)
        # An index made from file names alone: the file is read once, and the table kept.
        storage = self._storages.get(recording.storage_id)
        if storage is None or not storage.readable:
            return None
        try:
            result = await storage.run(scan, storage.root / recording.path)
        except OSError:
            return None
        await self._archive.set_fragments(recording, seek.pack(result.fragments))
        return result.fragments

    async def usage(self) -> dict[str, dict[str, int]]:
        """Bytes recorded per storage, per camera."""
        return await self._archive.usage()

    async def timeline(
        self, camera_id: str, stream: StreamName, from_ms: int, to_ms: int
    ) -> list[tuple[int, int]]:
        """Recorded intervals of one stream, including the file being written."""
        spans = await self._archive.spans(camera_id, stream, from_ms, to_ms)
        writing = self._writing(camera_id, stream)
        if writing is not None:
            spans.append(writing)
        return timeline.merge(spans, from_ms, to_ms)

    async def recorded_ms(
        self, camera_id: str, stream: StreamName, from_ms: int, to_ms: int, bucket_ms: int
    ) -> list[int]:
        """Milliseconds recorded of one stream in each bucket of `bucket_ms` from `from_ms`,
        including the file being written; summed by the index, not listed."""
        recorded = await self._archive.recorded_per_bucket(
            camera_id, stream, from_ms, to_ms, bucket_ms
        )
        writing = self._writing(camera_id, stream)
        spans = [writing] if writing is not None else []
        return timeline.add_to_buckets(recorded, spans, from_ms, to_ms, bucket_ms)

    def _writing(self, camera_id: str, stream: StreamName) -> tuple[int, int] | None:
        pipeline = self._ingests.get((camera_id, stream))
        return pipeline.recorder.writing() if pipeline else None

    def _camera_event(self, camera_id: str, active: bool) -> None:
        now = self._clock.now_ms()
        for stream in STREAMS:
            pipeline = self._ingests.get((camera_id, stream))
            if pipeline is not None:
                pipeline.gate.event(active, now)

    async def _sync(self) -> None:
        wanted: dict[tuple[str, StreamName], tuple[_Source, RecordingSettings]] = {}
        for camera in self._cameras():
            record = camera.record
            for stream in STREAMS:
                source = _source_of(record, stream)
                if source is not None and _not_served(camera, stream, self._server_id) is None:
                    wanted[(camera.id, stream)] = (source, record.recording)
        for key, pipeline in list(self._ingests.items()):
            if key not in wanted or wanted[key][0] != pipeline.source:
                del self._ingests[key]
                await pipeline.stop()
        for key, (source, settings) in wanted.items():
            if key in self._ingests:
                self._ingests[key].gate.settings = settings
                continue
            camera_id, stream = key
            hub = Hub()
            url = StreamUrl.parse(source.url, source.username, source.password)
            ingest = StreamIngest(f"{camera_id}/{stream}", url, source.transport, hub,
                                  self._clock)  # fmt: skip
            recorder = Recorder(camera_id, stream, self._archive, self._storages, self._sync_ms)
            gate = RecordingGate(stream, recorder, settings)
            pipeline = _Pipeline(source, hub, ingest, gate, recorder)
            self._ingests[key] = pipeline
            pipeline.start()


def _not_served(camera: Camera | None, stream: StreamName, server_id: str) -> str | None:
    """Why this server does not run `stream` of `camera` (None: it does)."""
    if camera is None:
        return "the camera was deleted"
    record = camera.record
    if not record.enabled:
        return "the camera is disabled"
    if record.parent_server_id != server_id:
        return "the camera is served by another server"
    if record.url_of(stream) is None:
        return f"the camera has no {stream} stream"
    return None


class _Pipeline:
    """One stream of one camera: its ingest and what always consumes it (the recorder,
    through its gate)."""

    def __init__(
        self,
        source: _Source,
        hub: Hub,
        ingest: StreamIngest,
        gate: RecordingGate,
        recorder: Recorder,
    ) -> None:
        self.source = source
        self.hub = hub
        self.ingest = ingest
        self.gate = gate
        self.recorder = recorder

    def viewers(self) -> int:
        return self.hub.consumer_count - 1  # all but the recording gate

    def start(self) -> None:
        self.recorder.start()
        self.hub.subscribe(self.gate)
        self.ingest.start()

    async def stop(self) -> None:
        await self.ingest.stop()
        self.hub.unsubscribe(self.gate)
        await self.recorder.stop()
