"""The server's RTSP service: every camera it serves, live and from the archive, for standard
players (VLC, ffplay, ffmpeg, NVR software).

URLs: `rtsp://HOST:PORT/cameras/{camera_id}/{main|sub}` live, from the stream's last
keyframe; with `?start=` (milliseconds since the epoch, or ISO 8601 with a time zone) from
the archive, paced at real time. Each client session gets a `Feed` of its own. Who may see
what is the `Gate`'s to say (the API's permission table); this module only speaks RTSP.
"""

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from vigil.cameras.models import StreamName
from vigil.clock import MAX_TIME_MS
from vigil.media.rtsp.feed import Feed, Source
from vigil.media.rtsp.messages import Request, Response
from vigil.media.rtsp.server import Connection, RtspServer
from vigil.media.rtsp.sources import ArchiveSource, LiveSource
from vigil.media.service import STREAMS, MediaService

logger = logging.getLogger(__name__)

REALM = "Vigil"


class RtspUnavailable(Exception):
    """The RTSP port cannot be listened on (taken by another program, say)."""


class Refused(Exception):
    """The gate turns a request away with this RTSP status (401 asks for credentials)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"refused with RTSP status {status}")
        self.status = status


@dataclass(frozen=True)
class Target:
    """What an RTSP URL names."""

    camera_id: str
    stream: StreamName
    start_ms: int | None  # None: live


class Gate(Protocol):
    """Who may pull what: the client's credentials checked, and its rights to `target`."""

    async def admit(self, client: Connection, authorization: str | None, target: Target) -> None:
        """Raises Refused; any other exception is a failure, answered 500."""

    async def forget(self, client: Connection) -> None:
        """The client's connection ended: its login ends with it."""


class RtspService:
    def __init__(self, host: str, port: int, media: MediaService, gate: Gate) -> None:
        self._media = media
        self._gate = gate
        self._port = port
        self._server = RtspServer(host, port, self)
        self._feeds: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        return self._server.port

    async def start(self) -> None:
        try:
            await self._server.start()
        except OSError as err:
            raise RtspUnavailable(f"cannot serve RTSP on port {self._port}: {err}") from err

    async def stop(self) -> None:
        await self._server.stop()
        tasks = list(self._feeds)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> "asyncio.Task[None]":
        task = asyncio.create_task(work, name="rtsp-feed")
        self._feeds.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: "asyncio.Task[None]") -> None:
        self._feeds.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("an rtsp feed failed", exc_info=task.exception())

    # --- the catalog ----------------------------------------------------------------
    def answers(self, request: Request) -> bool:
        return True

    async def resolve(self, request: Request, connection: Connection) -> Feed | Response:
        target = _target(request)
        if isinstance(target, Response):
            return target
        try:
            await self._gate.admit(connection, request.headers.get("authorization"), target)
        except Refused as refusal:
            status = refusal.status
            challenge = [("WWW-Authenticate", f'Basic realm="{REALM}"')] if status == 401 else []
            return Response(status, challenge)
        title = f"{target.camera_id}/{target.stream}"
        feed = Feed(self._source(target), title, self._spawn, self._server.drop_connections)
        if request.method == "DESCRIBE" or (
            request.method == "SETUP" and "session" not in request.headers
        ):
            described = await feed.prepare()
            if isinstance(described, Response):
                return described
        return feed

    def _source(self, target: Target) -> Source:
        camera_id, stream = target.camera_id, target.stream
        if target.start_ms is None:
            return LiveSource(lambda: self._media.stream_now(camera_id, stream))
        return ArchiveSource(self._media.cursor(camera_id, stream), target.start_ms)

    async def closed(self, connection: Connection) -> None:
        await self._gate.forget(connection)


def _target(request: Request) -> Target | Response:
    parts = request.path.strip("/").split("/")
    if len(parts) != 3 or parts[0] != "cameras" or parts[2] not in STREAMS:
        return Response(404)
    stream: StreamName = "main" if parts[2] == "main" else "sub"
    start = request.query.get("start")
    if start is None:
        return Target(parts[1], stream, None)
    start_ms = _time_ms(start)
    return Target(parts[1], stream, start_ms) if start_ms is not None else Response(400)


def _time_ms(text: str) -> int | None:
    """Milliseconds since the epoch, or an ISO 8601 time with its time zone, from 1970 to
    `MAX_TIME_MS` as the API takes them; None for anything else."""
    if text.isascii() and text.isdigit():
        return int(text) if len(text) <= 16 and int(text) <= MAX_TIME_MS else None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        return None  # a time without a zone means a different instant on every server
    time_ms = int(when.timestamp() * 1000)
    return time_ms if 0 <= time_ms <= MAX_TIME_MS else None
