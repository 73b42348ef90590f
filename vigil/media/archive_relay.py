"""The archive of a camera that another server records, read through it: playback, export,
RTSP out from a time and recorded snapshots of any camera from any server.

`ArchiveParts` finds the servers whose archives hold a stream (after a failover or a move,
more than one: docs/design/system.md), as cursors a `MergedCursor` walks as one archive.

A `RemoteCursor` has the interface of `ArchiveCursor` (seek, next, previous); each call is a
request to the recording server over the peer connection (`PeerMedia.ask`), where an
`ArchiveFeeds` keeps a real cursor per remote one and answers with its chunks, frames in
`framing.py`'s form (each cursor's configs crossing once). The source keeps at most
MAX_CURSORS cursors per peer and forgets one unused for IDLE_S: a cursor has no close, as
a playback track simply stops asking. A server that cannot be reached reads as the end of
the archive (seek: nothing recorded; next: the end), which a player shows as such.
"""

import asyncio
import base64
import itertools
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from vigil.cameras.models import StreamName
from vigil.errors import VigilError
from vigil.media.archive.cursor import ArchiveCursor, Cursor, Gap
from vigil.media.archive.reader import Chunk
from vigil.media.frames import AudioConfig, AudioFrame, Frame
from vigil.media.framing import FrameReader, FrameWriter, config_bytes, config_of
from vigil.media.relay import PeerMedia

logger = logging.getLogger(__name__)

KIND = "archive"  # the peer request a remote cursor makes
MAX_CURSORS = 256
IDLE_S = 300.0
KNOWN_S = 10.0  # how long who holds a stream is taken as known (a playback seeks often)
_ids = itertools.count(1)


class RemoteCursor:
    def __init__(self, peers: PeerMedia, server_id: str, camera_id: str, stream: StreamName):
        self._peers = peers
        self._server_id = server_id
        self._body = {"cursor": next(_ids), "camera_id": camera_id, "stream": stream}
        self._reader = FrameReader()

    async def seek(self, time_ms: int, earlier: bool = False) -> int | None:
        answer = await self._ask("seek", time_ms=time_ms, earlier=earlier)
        landed: int | None = answer.get("landed") if answer else None
        return landed

    async def next(self, keyframes_only: bool = False) -> Chunk | Gap | None:
        return _item(await self._ask("next", keyframes_only=keyframes_only), self._reader)

    async def previous(self) -> Chunk | Gap | None:
        return _item(await self._ask("previous"), self._reader)

    async def _ask(self, op: str, **args: Any) -> dict[str, Any] | None:
        try:
            return await self._peers.ask(self._server_id, KIND, {**self._body, "op": op, **args})
        except VigilError as err:
            logger.info("reading another server's archive failed",
                        extra={"server": self._server_id, "reason": err.message})  # fmt: skip
            return None


class ArchiveParts:
    """The archives that hold recordings of a stream, as cursors: this server's and the
    reachable peers' that say they hold some."""

    def __init__(
        self,
        server_id: str,
        peers: PeerMedia,
        cursor: Callable[[str, StreamName], ArchiveCursor],
        holds: Callable[[str, StreamName], Awaitable[bool]],
    ) -> None:
        self._server_id = server_id
        self._peers = peers
        self._cursor = cursor
        self._holds = holds
        self._known: dict[tuple[str, StreamName], tuple[float, list[str]]] = {}

    async def of(self, camera_id: str, stream: StreamName) -> list[Cursor]:
        key = (camera_id, stream)
        known = self._known.get(key)
        if known is None or time.monotonic() - known[0] > KNOWN_S:
            known = time.monotonic(), await self._holders(camera_id, stream)
            self._known[key] = known
        return [self._cursor(camera_id, stream) if server_id == self._server_id
                else RemoteCursor(self._peers, server_id, camera_id, stream)
                for server_id in known[1]]  # fmt: skip

    async def _holders(self, camera_id: str, stream: StreamName) -> list[str]:
        servers = [self._server_id, *self._peers.online()]
        body = {"op": "holds", "camera_id": camera_id, "stream": stream}
        said = await asyncio.gather(
            self._holds(camera_id, stream),
            *(self._peers.ask(server_id, KIND, body) for server_id in servers[1:]),
            return_exceptions=True,
        )
        holding = [True if answer is True else isinstance(answer, dict) and answer.get("holds")
                   for answer in said]  # fmt: skip
        return [server_id for server_id, held in zip(servers, holding, strict=True) if held]


class ArchiveFeeds:
    """The recording server's side: real cursors for peers' remote ones."""

    def __init__(
        self,
        cursor: Callable[[str, StreamName], ArchiveCursor],
        holds: Callable[[str, StreamName], Awaitable[bool]],
    ) -> None:
        self._cursor = cursor
        self._holds = holds
        self._open: dict[str, OrderedDict[int, tuple[ArchiveCursor, FrameWriter, float]]] = {}

    async def answer(self, peer: str, body: dict[str, Any]) -> dict[str, Any]:
        if body["op"] == "holds":
            return {"holds": await self._holds(body["camera_id"], body["stream"])}
        cursors = self._open.setdefault(peer, OrderedDict())
        now = time.monotonic()
        while cursors and (
            len(cursors) >= MAX_CURSORS or now - next(iter(cursors.values()))[2] > IDLE_S
        ):
            cursors.popitem(last=False)
        key = int(body["cursor"])
        entry = cursors.pop(key, None)
        if entry is None:  # a cursor's first request: it is made here
            entry = (self._cursor(body["camera_id"], body["stream"]), FrameWriter(), now)
        cursor, writer, _ = entry
        cursors[key] = (cursor, writer, now)
        op = body["op"]
        if op == "seek":
            return {"landed": await cursor.seek(int(body["time_ms"]), bool(body.get("earlier")))}
        if op == "next":
            return _told(await cursor.next(bool(body["keyframes_only"])), writer)
        return _told(await cursor.previous(), writer)

    def connected(self, server_id: str, up: bool) -> None:
        self._open.pop(server_id, None)


def _told(item: Chunk | Gap | None, writer: FrameWriter) -> dict[str, Any]:
    if item is None:
        return {}
    if isinstance(item, Gap):
        return {"gap": [item.from_ms, item.to_ms]}

    def encoded(frame: Frame | AudioFrame) -> str:
        return base64.b64encode(b"".join(writer.encode(0, frame))).decode()

    return {
        "chunk": {
            "start_ms": item.start_ms,
            "end_ms": item.end_ms,
            "audio": config_bytes(item.audio).decode() if item.audio is not None else None,
            "frames": [encoded(frame) for frame in item.frames],
            "sound": [encoded(frame) for frame in item.sound],
        }
    }


def _item(answer: dict[str, Any] | None, reader: FrameReader) -> Chunk | Gap | None:
    if not answer:
        return None
    if "gap" in answer:
        return Gap(*answer["gap"])
    told = answer["chunk"]

    def decoded(text: str) -> Frame | AudioFrame | None:
        return reader.decode(base64.b64decode(text))[1]

    frames = [f for f in map(decoded, told["frames"]) if isinstance(f, Frame)]
    sound = [f for f in map(decoded, told["sound"]) if isinstance(f, AudioFrame)]
    audio = config_of(told["audio"].encode()) if told["audio"] else None
    return Chunk(frames, sound, told["start_ms"], told["end_ms"],
                 audio if isinstance(audio, AudioConfig) else None)  # fmt: skip
