"""The media of this server: the streams of the cameras it is parent of, run by its media
workers, and what the API process serves of them.

Follows the cameras in the system document: after every change (made here or by a peer) the
streams are brought in line with it: started, stopped, or restarted when what they connect to
changed. Each camera is given, both streams together, to one of the media worker processes
(`workers/`), which pulls, records and keeps its hub; the one with the least measured load
(the bitrate of its streams) takes a new camera. Workers start when first given a camera.

Here stay the archive index (workers tell each file made), storage health (workers are told
where they may write), and one mirror of each stream's hub, fed by its worker only while
someone watches (`workers/mirror.py`). What the API asks of a stream now (status, stats,
recording state, the file being written) is what its worker last reported, a quarter of a
second old at most. Playback, export and snapshots read the files, here, in the storages'
threads (`local_archive.py`; in a system, through every server's part: `cursor`).
"""

import asyncio
import errno
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vigil.cameras.events import CameraEvents
from vigil.cameras.models import Camera, StreamName
from vigil.cameras.notifications import CameraEvent
from vigil.cameras.recording import RecordingSettings
from vigil.clock import Clock
from vigil.media.archive import naming
from vigil.media.archive.cursor import Cursor
from vigil.media.archive.index import ArchiveIndex, finish_part_file
from vigil.media.archive.merged import MergedCursor
from vigil.media.archive_relay import ArchiveFeeds, ArchiveParts
from vigil.media.frames import AudioConfig
from vigil.media.hub import AnyFrame, Hub
from vigil.media.ingest import StreamState, StreamStats, StreamStatus
from vigil.media.live import StreamNow
from vigil.media.local_archive import LocalArchive
from vigil.media.pipeline import RecordingState, recording_state
from vigil.media.relay import PeerMedia, Relays, WorkerFeeds
from vigil.media.storage.models import Storage
from vigil.media.storage.pool import StoragePool
from vigil.media.storage.retention import Retention
from vigil.media.workers import messages as m
from vigil.media.workers.link import WorkerLink
from vigil.media.workers.remote import RemoteStream, Source, Written, source_of
from vigil.tasks import Follower, Supervised

logger = logging.getLogger(__name__)

STREAMS: tuple[StreamName, ...] = ("main", "sub")
STORAGES_EVERY_S = 1.0  # how often workers hear of the storages' health when it changed
UNMEASURED_KBPS = 2_000  # a stream's load until its worker reports its bitrate


@dataclass(frozen=True)
class WorkerInfo:
    name: str
    pid: int | None  # None: not started (no camera given to it yet)
    streams: int
    restarts: int
    last_exit: str | None
    cpu_seconds: float | None


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
        workers: int,
        log_level: str = "info",
        peers: PeerMedia | None = None,  # None: a server on its own, relaying nothing
    ) -> None:
        self._server_id = server_id
        self._cameras = cameras
        self._archive = archive
        self._storages = storages
        self._retention = retention
        self._clock = clock
        self._workers = [WorkerLink(n + 1, sync_ms, log_level, self) for n in range(workers)]
        self._remotes: dict[tuple[str, StreamName], RemoteStream] = {}
        self._by_key: dict[int, RemoteStream] = {}
        self._next_key = 1
        self._writing: dict[WorkerLink, set[tuple[str, Path]]] = {w: set() for w in self._workers}
        self._told_storages: dict[WorkerLink, m.Storages] = {}
        self._finishing: set[asyncio.Task[None]] = set()  # files a dead worker left open
        self._follower = Follower("media: follow cameras", self._sync)
        self._storage_teller = Supervised("media: tell storages", self._tell_storages)
        self._standing_by: tuple[set[str], int] = (set(), 0)  # cameras, seconds kept of them
        self._reachable = peers.reachable if peers is not None else lambda _: False
        self._peers = peers
        # This server's archive, as the index and the workers' files being written show it.
        self.local = LocalArchive(archive, storages, self._written)
        worker_feeds = WorkerFeeds(self._feed_peer, self._unfeed_peer)
        self.relays = Relays(self._own_hub, self._own_audio, peers, worker_feeds) if peers else None
        local = self.local
        self.archive_feeds = ArchiveFeeds(local.cursor, local.holds) if peers else None
        self._parts = ArchiveParts(server_id, peers, local.cursor, local.holds) if peers else None

    async def start(self) -> None:
        await self._storages.start()
        self._follower.start()
        self._storage_teller.start()
        self._retention.start()

    async def stop(self) -> None:
        if self.relays is not None:
            await self.relays.stop()
        await self._follower.stop()
        await self._storage_teller.stop()
        await self._retention.stop()
        # Workers close their files and have them indexed, through this process, first.
        await asyncio.gather(*(worker.stop() for worker in self._workers))
        await asyncio.gather(*self._finishing, return_exceptions=True)
        self._remotes.clear()
        self._by_key.clear()
        await self._storages.stop()

    @property
    def storages(self) -> StoragePool:
        return self._storages

    def workers(self) -> list[WorkerInfo]:
        streams = dict.fromkeys(self._workers, 0)
        for remote in self._remotes.values():
            streams[remote.worker] += 1
        return [
            WorkerInfo(w.name, w.pid, streams[w], w.restarts, w.last_exit, w.cpu_seconds())
            for w in self._workers
        ]

    def cameras_changed(self) -> None:
        """The system document changed; the streams are brought in line soon after."""
        self._follower.changed()

    def stand_by(self, cameras: set[str], keep_s: int) -> None:
        """Pull these cameras of other servers, which this one would record were their
        servers to stay offline, keeping their last `keep_s` seconds in memory: a takeover
        records from there (`cameras/failover.py`)."""
        self._standing_by = (cameras, keep_s)
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

    def stream_now(self, camera_id: str, stream: StreamName) -> StreamNow:
        """A stream as a live viewer needs it: its hub, whether it is online, and whether
        this server still serves it at all (a stream another server records is relayed)."""
        camera = next((c for c in self._cameras() if c.id == camera_id), None)
        gone = _not_served(camera, stream)
        if camera is not None and gone is None:
            source = camera.record.recording_server_id
            if source != self._server_id:
                return self._relayed_now(source, camera_id, stream)
        remote = self._remotes.get((camera_id, stream))
        if gone is not None or remote is None:
            return StreamNow(None, False, "connecting", gone)
        status = remote.status
        # Frames cross before the worker's next report: a stream they come from is online.
        fresh = asyncio.get_running_loop().time() - remote.hub.last_frame_s < 1.0
        online = status.state == StreamState.ONLINE or fresh
        return StreamNow(remote.hub, online, status.reason or status.state, None, remote.audio)

    def _relayed_now(self, source: str, camera_id: str, stream: StreamName) -> StreamNow:
        if self.relays is None:
            return StreamNow(None, False, "connecting", "the camera is served by another server")
        hub = self.relays.hub(source, camera_id, stream)
        # What the recording server says of the stream is known there; here, whether it is
        # reachable. A stream it cannot pull sends no frames, which the viewer sees.
        online = self._reachable(source)
        reason = "relayed from the server that records it" if online else "its server is offline"
        return StreamNow(hub, online, reason, None, self.relays.audio(camera_id, stream))

    def _own_hub(self, camera_id: str, stream: StreamName) -> Hub | None:
        remote = self._remotes.get((camera_id, stream))
        return remote.hub if remote is not None else None

    def _own_audio(self, camera_id: str, stream: StreamName) -> AudioConfig | None:
        remote = self._remotes.get((camera_id, stream))
        return remote.audio if remote is not None else None

    def cameras_online(self) -> int:
        """Cameras of this server with at least one stream online now."""
        standing_by = self._standing_by[0]
        return len({camera_id for (camera_id, _), remote in self._remotes.items()
                    if remote.status.state == StreamState.ONLINE
                    and camera_id not in standing_by})  # fmt: skip

    def viewers(self, camera_id: str, stream: StreamName) -> int | None:
        """Live viewers of a stream now (each live session and RTSP player of it, and each
        server relaying it)."""
        remote = self._remotes.get((camera_id, stream))
        return remote.hub.consumer_count + len(remote.peer_feeds) if remote is not None else None

    def _feed_peer(self, camera_id: str, stream: StreamName, to: m.Destination) -> bool:
        remote = self._remotes.get((camera_id, stream))
        if remote is None:
            return False
        remote.peer_feeds[(to.server.server_id, to.relay_key)] = to
        remote.worker.send(m.FeedPeer(remote.key, to, True))  # or when it starts, if it is not
        return True

    def _unfeed_peer(self, camera_id: str, stream: StreamName, to: m.Destination) -> None:
        remote = self._remotes.get((camera_id, stream))
        feed = (to.server.server_id, to.relay_key)
        if remote is not None and remote.peer_feeds.get(feed) == to:
            del remote.peer_feeds[feed]
            remote.worker.send(m.FeedPeer(remote.key, to, False))

    def stream_state(
        self, camera: Camera, stream: StreamName
    ) -> tuple[StreamStatus | None, StreamStats | None]:
        remote = self._remotes.get((camera.id, stream))
        if remote is None:
            return None, None
        online = remote.status.state == StreamState.ONLINE
        return remote.status, remote.stats if online else None

    def recording_state(self, camera: Camera, stream: StreamName) -> RecordingState | None:
        """What the recording of a stream does now: by the camera's settings as they are
        (a change shows at once), and what its worker last said."""
        remote = self._remotes.get((camera.id, stream))
        if remote is None:
            return None
        settings = camera.record.recording
        return recording_state(settings, stream, self._clock.now_ms(), remote.facts)

    def cursor(self, camera_id: str, stream: StreamName) -> Cursor:
        """For reading a stream's archive (playback, export, RTSP, snapshots): this
        server's, and in a system every server's that holds some of it, as one."""
        if self._parts is None:
            return self.local.cursor(camera_id, stream)
        parts = self._parts
        return MergedCursor(lambda: parts.of(camera_id, stream))

    def _written(self, camera_id: str, stream: StreamName) -> Written | None:
        remote = self._remotes.get((camera_id, stream))
        return remote.written if remote is not None else None

    def _camera_event(self, camera_id: str, active: bool) -> None:
        now = self._clock.now_ms()
        for stream in STREAMS:
            remote = self._remotes.get((camera_id, stream))
            if remote is not None:
                remote.worker.send(m.CameraEvent(remote.key, active, now))

    async def _sync(self) -> None:
        wanted: dict[tuple[str, StreamName], tuple[Source, RecordingSettings]] = {}
        standing_by, keep_s = self._standing_by
        for camera in self._cameras():
            record = camera.record
            settings = record.recording
            if record.recording_server_id != self._server_id:
                if camera.id not in standing_by:
                    continue
                # Held as for an event that has not come: the takeover's settings release it.
                settings = settings.model_copy(update={"mode": "event", "pre_event_s": keep_s})
            for stream in STREAMS:
                source = source_of(record, stream)
                served = source is not None and _not_served(camera, stream) is None
                own = record.recording_server_id == self._server_id
                if served and source is not None and (own or settings.records(stream)):
                    wanted[(camera.id, stream)] = (source, settings)
        for key, remote in list(self._remotes.items()):
            if key not in wanted or wanted[key][0] != remote.source:
                del self._remotes[key]
                del self._by_key[remote.key]
                remote.hub.worker_lost()
                await _quietly(remote.worker.call(m.Stop(remote.key)))
        for key, (source, settings) in wanted.items():
            running = self._remotes.get(key)
            if running is not None:
                if running.settings != settings:
                    running.settings = settings
                    running.worker.send(m.Settings(running.key, settings))
                continue
            camera_id, stream = key
            worker = self._worker_for(camera_id)
            remote = RemoteStream(self._next_key, camera_id, stream, source, settings, worker,
                             self._clock.now_ms())  # fmt: skip
            self._next_key += 1
            self._remotes[key] = self._by_key[remote.key] = remote
            if worker.running:
                worker.send(remote.run_message())
            else:
                await worker.start()  # it is given its streams, this one too, once started

    def _worker_for(self, camera_id: str) -> WorkerLink:
        """The worker of the camera's other stream, or the least loaded one."""
        load = dict.fromkeys(self._workers, 0)
        for remote in self._remotes.values():
            if remote.camera_id == camera_id:
                return remote.worker
            stats = remote.stats
            load[remote.worker] += stats.bitrate_kbps if stats is not None else UNMEASURED_KBPS
        return min(self._workers, key=lambda worker: (load[worker], worker.number))

    # --- what workers say (link.Handlers) ---

    def started(self, link: WorkerLink, note: str) -> None:
        self._told_storages.pop(link, None)
        self._tell_storages_to(link)
        for remote in self._remotes.values():
            if remote.worker is link:
                remote.note = note
                link.send(remote.run_message())
                remote.hub.worker_back()
                for to in remote.peer_feeds.values():
                    link.send(m.FeedPeer(remote.key, to, True))

    def exited(self, link: WorkerLink, reason: str) -> None:
        now = self._clock.now_ms()
        said = f"the media worker stopped ({reason}); starting it again"
        for remote in self._remotes.values():
            if remote.worker is link:
                remote.lost(said, now)
        left, self._writing[link] = self._writing[link], set()
        for storage_id, path in left:
            self._storage_done(storage_id, path)
            task = asyncio.create_task(self._finish_left(storage_id, path))
            self._finishing.add(task)
            task.add_done_callback(self._finishing.discard)

    def heard(self, link: WorkerLink, message: Any) -> None:
        if isinstance(message, m.Reports):
            for key, report in message.streams.items():
                remote = self._by_key.get(key)
                if remote is not None and remote.worker is link:
                    remote.take(report, message.with_stats)
        elif isinstance(message, m.Fed):
            if (remote := self._by_key.get(message.key)) is not None:
                remote.hub.fed(message.number)
        elif isinstance(message, m.PeerFeedEnded):
            if self.relays is not None:
                self.relays.worker_feed_ended(message.to, message.reason)
        elif isinstance(message, m.DoneWriting):
            self._writing[link].discard((message.storage_id, Path(message.path)))
            self._storage_done(message.storage_id, Path(message.path))
        elif isinstance(message, m.StorageFailed):
            storage = self._storages.get(message.storage_id)
            if storage is not None:
                err = OSError(message.errno or errno.EIO, message.strerror or "write failed",
                              message.filename)  # fmt: skip
                self._storages.failed(storage, err)
        else:
            kind = type(message).__name__
            logger.warning("an unknown message from a worker",
                           extra={"worker": link.name, "message": kind})  # fmt: skip

    def frame(self, key: int, frame: AnyFrame) -> None:
        remote = self._by_key.get(key)
        if remote is not None:
            remote.hub.publish(frame)

    async def answer(self, link: WorkerLink, body: Any) -> Any:
        if isinstance(body, m.BeginWriting):
            path = Path(body.path)
            storage = self._storages.get(body.storage_id)
            if storage is not None:
                storage.writing.add(path)
            self._writing[link].add((body.storage_id, path))
            return None
        if isinstance(body, m.AddRow):
            await self._archive.add(body.recording)
            return None
        raise ValueError(f"unknown call {type(body).__name__}")

    def _storage_done(self, storage_id: str, path: Path) -> None:
        storage = self._storages.get(storage_id)
        if storage is not None:
            storage.done_writing(path)

    async def _finish_left(self, storage_id: str, path: Path) -> None:
        """A file its worker was writing when it died: its whole fragments named and indexed
        (what a mend would do, for this file alone, now)."""
        storage = self._storages.get(storage_id)
        if storage is None or not storage.writable:
            return  # the storage's next mend finishes it
        name = naming.parse(storage.root, path)
        if name is None or not await storage.run(os.path.exists, path):
            return  # closed and renamed before the worker died: its row is in
        try:
            finished = await storage.run(finish_part_file, storage_id, storage.root, path, name)
        except OSError:
            logger.warning("finishing a recording left open failed", exc_info=True,
                           extra={"path": str(path)})  # fmt: skip
            return
        if finished is not None:
            await self._archive.add(finished)

    async def _tell_storages(self) -> None:
        while True:
            for link in self._workers:
                if link.running:
                    self._tell_storages_to(link)
            await asyncio.sleep(STORAGES_EVERY_S)

    def _tell_storages_to(self, link: WorkerLink) -> None:
        views = tuple(m.StorageView(Storage(id=s.id, record=s.record), s.health)
                      for s in self._storages.all())  # fmt: skip
        told = m.Storages(views)
        if self._told_storages.get(link) != told:
            self._told_storages[link] = told
            link.send(told)


async def _quietly(call: Any) -> None:
    """A call to a worker that may have died meanwhile (its streams are gone with it)."""
    try:
        await call
    except ConnectionError:
        logger.debug("a media worker did not answer", exc_info=True)


def _not_served(camera: Camera | None, stream: StreamName) -> str | None:
    """Why no server serves `stream` of `camera` (None: one does, this one or another)."""
    if camera is None:
        return "the camera was deleted"
    record = camera.record
    if not record.enabled:
        return "the camera is disabled"
    if record.url_of(stream) is None:
        return f"the camera has no {stream} stream"
    return None
