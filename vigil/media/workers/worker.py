"""A media worker process: the streams of its share of the cameras, pulled and recorded.

Started by the API process (`link.py`) with one end of a socket pair; runs until told to
quit (its streams stop as on a server's stop, every file closed and indexed), or until that
socket closes. It dies with the API process (the kernel's parent-death signal): a server
killed with -9 is killed whole, and its next start finishes the files left open, as after any
crash, rather than racing a worker that would still be closing them. Signals for the
terminal (Ctrl-C) are left to the API process, which stops its workers in order.

The worker keeps no state of its own: the archive index, storage health and the cameras'
settings belong to the API process, which tells the worker what to run and where it may
write, and is told of every file made and every row to enter (`messages.py`).
"""

import argparse
import asyncio
import ctypes
import gc
import logging
import os
import signal
import socket
from pathlib import Path
from typing import Any

from vigil import logs
from vigil.cameras.address import StreamUrl
from vigil.clock import Clock, SystemClock
from vigil.media.archive.store import Recording
from vigil.media.gate import RecordingGate
from vigil.media.hub import AnyFrame, Hub
from vigil.media.ingest import StreamIngest
from vigil.media.pipeline import Pipeline
from vigil.media.recorder import Recorder
from vigil.media.storage.pool import ActiveStorage
from vigil.media.workers import messages as m
from vigil.media.workers.peer_feed import PeerSender
from vigil.media.workers.wire import Channel
from vigil.tasks import Supervised

logger = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1  # linux/prctl.h
REPORT_S = 0.25
STATS_EVERY = 4  # reports: stats once a second


class _Rows:
    def __init__(self, channel: Channel) -> None:
        self._channel = channel

    async def add(self, recording: Recording) -> None:
        await self._channel.call(m.AddRow(recording))


class _Storages:
    """The server's storages as the API process last told, each with its own threads for
    the file work, as in the API process."""

    def __init__(self, channel: Channel, clock: Clock) -> None:
        self._channel = channel
        self._clock = clock
        self._active: dict[str, ActiveStorage] = {}

    def update(self, views: tuple[m.StorageView, ...]) -> None:
        wanted = {view.storage.id: view for view in views}
        for storage_id, active in list(self._active.items()):
            view = wanted.get(storage_id)
            if view is None or view.storage.record.path != active.record.path:
                del self._active[storage_id]
                active.remove(self._clock.now_ms())
        for storage_id, view in wanted.items():
            active = self._active.setdefault(storage_id, ActiveStorage(view.storage))
            active.record = view.storage.record
            local = active.health
            # A failure seen here is newer than a look the API process made before it heard.
            if local is None or view.health is None or view.health.checked_ms >= local.checked_ms:
                active.health = view.health

    def choose(self) -> ActiveStorage | None:
        writable = [s for s in self._active.values() if s.writable]
        return max(writable, key=ActiveStorage.room, default=None)

    def failed(self, storage: ActiveStorage, err: OSError) -> None:
        if storage.writable:
            storage.failed(err, self._clock.now_ms())
        filename = str(err.filename) if err.filename is not None else None
        self._channel.send(m.StorageFailed(storage.id, err.errno, err.strerror, filename))

    async def begin_writing(self, storage: ActiveStorage, path: Path) -> None:
        storage.writing.add(path)
        await self._channel.call(m.BeginWriting(storage.id, str(path)))

    def done_writing(self, storage: ActiveStorage, path: Path) -> None:
        storage.done_writing(path)
        self._channel.send(m.DoneWriting(storage.id, str(path)))

    def stop(self) -> None:
        for active in self._active.values():
            active.remove(self._clock.now_ms())
        self._active.clear()


class _Stream:
    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.forward: Any = None  # the hub's consumer sending frames to the API process
        self.reported: m.StreamReport | None = None
        self.told: tuple[str, int] | None = None  # path and fragments told of the written file


class Worker:
    def __init__(self, channel_socket: socket.socket, clock: Clock, sync_ms: int) -> None:
        self._socket = channel_socket
        self._clock = clock
        self._sync_ms = sync_ms
        self._streams: dict[int, _Stream] = {}
        self._reporter = Supervised("media worker: report", self._report_all)
        self._channel: Channel | None = None
        self._storages: _Storages | None = None
        self._quit = asyncio.Event()
        self._senders: dict[str, PeerSender] = {}  # to relaying servers, by server id
        self._senders_stopping: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        channel = await Channel.over(self._socket, self._heard, self._forward_frame_never,
                                     self._answer)  # fmt: skip
        self._channel = channel
        self._storages = _Storages(channel, self._clock)
        self._reporter.start()
        closed = asyncio.ensure_future(asyncio.shield(channel.closed))
        quitting = asyncio.ensure_future(self._quit.wait())
        await asyncio.wait({closed, quitting}, return_when=asyncio.FIRST_COMPLETED)
        quitting.cancel()
        await self._stop_all()
        await self._reporter.stop()
        self._storages.stop()
        channel.close()

    def _forward_frame_never(self, key: int, frame: AnyFrame) -> None:
        logger.warning("a frame from the API process was ignored", extra={"key": key})

    def _heard(self, message: Any) -> None:
        assert self._storages is not None
        if isinstance(message, m.Run):
            self._run(message)
        elif isinstance(message, m.Settings):
            if (stream := self._streams.get(message.key)) is not None:
                stream.pipeline.gate.settings = message.settings
        elif isinstance(message, m.CameraEvent):
            if (stream := self._streams.get(message.key)) is not None:
                stream.pipeline.gate.event(message.active, message.now_ms)
        elif isinstance(message, m.Feed):
            self._feed(message)
        elif isinstance(message, m.FeedPeer):
            self._feed_peer(message)
        elif isinstance(message, m.Storages):
            self._storages.update(message.storages)
        else:
            logger.warning("an unknown message", extra={"message": type(message).__name__})

    async def _answer(self, body: Any) -> None:
        if isinstance(body, m.Stop):
            stream = self._streams.pop(body.key, None)
            if stream is not None:
                self._unfeed(body.key, stream)
                for sender in list(self._senders.values()):
                    sender.remove_hub(stream.pipeline.hub)
                    self._stop_if_idle(sender)
                await stream.pipeline.stop()
        elif isinstance(body, m.Quit):
            await self._stop_all()
            self._quit.set()
        else:
            raise ValueError(f"unknown call {type(body).__name__}")

    def _run(self, run: m.Run) -> None:
        assert self._channel is not None
        assert self._storages is not None
        if run.key in self._streams:
            return
        name = f"{run.camera_id}/{run.stream}"
        hub = Hub()
        url = StreamUrl.parse(run.url, run.username, run.password)
        ingest = StreamIngest(name, url, run.transport, hub, self._clock, note=run.note)
        recorder = Recorder(run.camera_id, run.stream, _Rows(self._channel), self._storages,
                            self._sync_ms)  # fmt: skip
        pipeline = Pipeline(hub, ingest, RecordingGate(run.stream, recorder, run.settings),
                            recorder)  # fmt: skip
        self._streams[run.key] = _Stream(pipeline)
        pipeline.start()

    def _feed(self, feed: m.Feed) -> None:
        key = feed.key
        stream = self._streams.get(key)
        channel = self._channel
        if stream is None or channel is None:
            return
        if not feed.on:
            self._unfeed(key, stream)
            return
        if stream.forward is None:
            channel.forget_stream(key)

            def forward(frame: AnyFrame) -> None:
                channel.send_frame(key, frame)

            stream.forward = forward
            stream.pipeline.hub.subscribe(forward)  # the kept GOP first, at once
        channel.send(m.Fed(key, feed.number))

    def _feed_peer(self, order: m.FeedPeer) -> None:
        to = order.to
        sender = self._senders.get(to.server.server_id)
        if not order.on:
            if sender is not None and sender.server == to.server:
                sender.remove(to.relay_key)
                self._stop_if_idle(sender)
            return
        stream = self._streams.get(order.key)
        if stream is None:
            return
        if sender is not None and sender.server != to.server:
            self._stop_sender(sender)  # of an earlier peer connection: its token is void
            sender = None
        if sender is None:
            sender = PeerSender(to.server, self._peer_feeds_ended)
            self._senders[to.server.server_id] = sender
            sender.start()
        sender.add(to, stream.pipeline.hub)

    def _stop_if_idle(self, sender: PeerSender) -> None:
        if not sender.feeding:
            self._stop_sender(sender)

    def _stop_sender(self, sender: PeerSender) -> None:
        if self._senders.get(sender.server.server_id) is sender:
            del self._senders[sender.server.server_id]
        stopping = asyncio.ensure_future(sender.stop())
        self._senders_stopping.add(stopping)
        stopping.add_done_callback(self._senders_stopping.discard)

    def _peer_feeds_ended(
        self, sender: PeerSender, ended: list[m.Destination], reason: str
    ) -> None:
        if self._senders.get(sender.server.server_id) is sender:
            del self._senders[sender.server.server_id]
        if self._channel is not None:
            for to in ended:
                self._channel.send(m.PeerFeedEnded(to, reason))

    def _unfeed(self, key: int, stream: _Stream) -> None:
        if stream.forward is not None:
            stream.pipeline.hub.unsubscribe(stream.forward)
            stream.forward = None
            if self._channel is not None:
                self._channel.forget_stream(key)

    async def _stop_all(self) -> None:
        streams, self._streams = self._streams, {}
        for key, stream in streams.items():
            self._unfeed(key, stream)
        for sender in list(self._senders.values()):
            self._stop_sender(sender)
        await asyncio.gather(*self._senders_stopping)
        await asyncio.gather(*(stream.pipeline.stop() for stream in streams.values()))

    async def _report_all(self) -> None:
        reports = 0
        while True:
            await asyncio.sleep(REPORT_S)
            reports += 1
            with_stats = reports % STATS_EVERY == 0
            changed = {}
            for key, stream in self._streams.items():
                report = self._report_of(stream, with_stats)
                if with_stats or report != stream.reported:
                    changed[key] = report
                    stream.reported = report
            if changed and self._channel is not None:
                self._channel.send(m.Reports(changed, with_stats))

    def _report_of(self, stream: _Stream, with_stats: bool) -> m.StreamReport:
        pipeline = stream.pipeline
        ingest, recorder = pipeline.ingest, pipeline.recorder
        written = recorder.written_file()
        told = None
        if written is not None:
            path = str(written.path)
            known = stream.told[1] if stream.told is not None and stream.told[0] == path else 0
            told = m.WrittenFile(written.storage.id, path, written.start_ms, known,
                                 written.fragments[known:])  # fmt: skip
            stream.told = (path, len(written.fragments))
        else:
            stream.told = None
        return m.StreamReport(
            facts=pipeline.recording_facts(),
            audio=ingest.audio,
            written=told,
            gop_bytes=pipeline.hub.last_gop_bytes if with_stats else 0,
            stats=ingest.stats() if with_stats else None,
        )


def _die_with_parent(parent: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # it died before the signal was asked for
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(prog="vigil media worker")
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--sync-ms", type=int, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--parent", type=int, required=True)
    args = parser.parse_args()
    _die_with_parent(args.parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the API process stops its workers
    logs.configure_logging(args.log_level, worker=args.name)
    channel_socket = socket.socket(fileno=args.fd)
    os.set_blocking(channel_socket.fileno(), False)
    gc.freeze()  # the modules, for good: full collections walk only what the streams make
    asyncio.run(Worker(channel_socket, SystemClock(), args.sync_ms).run())


if __name__ == "__main__":
    main()
