"""Live video of a camera that another server of the system records: relayed from it, once
per stream however many watch it here.

On the server a viewer asks (the relaying server), such a stream gets a `MirrorHub` like one
of its own workers' streams: the first viewer has the recording server (the source) start a
feed, the last one leaving stops it. The source subscribes to its own hub of the stream (so
the stream crosses from its worker once, whoever watches), sends the kept GOP, then a `fed`
mark, then each frame as it comes; the relaying hub hands the GOP to its waiting viewers at
the mark, as it would for a worker. Frames travel on the peer connection as binary messages
(a byte saying frame or mark, then `framing.py`'s form); past MAX_BEHIND_BYTES queued for a
peer, a stream's frames are dropped up to its next keyframe, so a slow link costs pictures,
never memory. When the connection ends, the relaying hubs of that source start again with
the next one. Sound waits for the picture after it and leaves with it, in one message of the
connection (which also gathers the frames of other streams that come within a picture's
time, `PeerLink`): live viewers get a picture's sound with it anyway, and a message costs
more than its bytes (docs/design/system.md).
"""

import asyncio
import itertools
import logging
import struct
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from vigil.cameras.models import StreamName
from vigil.errors import NotFound, VigilError
from vigil.media.frames import AudioConfig, Frame
from vigil.media.framing import FrameReader, FrameWriter, config_bytes, config_of
from vigil.media.hub import AnyFrame, Hub
from vigil.media.workers.mirror import MirrorHub

logger = logging.getLogger(__name__)

_FRAME, _FED = 0, 1  # the first byte of a relay message
_FED_BODY = struct.Struct(">II")  # relay key, feed number
MAX_BEHIND_BYTES = 16 * 1024 * 1024
MAX_HELD_SOUND = 64  # sound frames held for the next picture, at most (about 1.4 s)
KIND = "relay"  # the peer request that starts and stops a feed


@dataclass(frozen=True)
class PeerMedia:
    """How the media service reaches the other servers (their peer connections)."""

    ask: Callable[[str, str, dict[str, Any]], Awaitable[dict[str, Any]]]  # server, kind, body
    send: Callable[[str, list[bytes]], None]  # binary messages to a server, to leave together
    behind: Callable[[str], int]  # bytes queued for a server, not sent yet
    reachable: Callable[[str], bool]  # whether a server's connection is open
    online: Callable[[], list[str]]  # the servers whose connections are open


@dataclass
class _Relayed:
    """A stream relayed here from its source."""

    source: str
    camera_id: str
    stream: StreamName
    key: int
    hub: MirrorHub
    audio: AudioConfig | None = None  # the sound the source's camera announced, once told


@dataclass
class _Feed:
    """A stream this server feeds to a relaying peer."""

    hub: Hub
    consumer: Callable[[AnyFrame], None]
    skipping: bool = False  # dropping frames up to the next keyframe: the peer is behind
    dropped: int = 0
    sound: list[bytes] = field(default_factory=list)  # messages to go with the next picture


class Relays:
    def __init__(
        self,
        own_hub: Callable[[str, StreamName], Hub | None],
        own_audio: Callable[[str, StreamName], AudioConfig | None],
        peers: PeerMedia,
    ) -> None:
        self._own_hub = own_hub
        self._own_audio = own_audio
        self._ask = peers.ask
        self._send = peers.send
        self._behind = peers.behind
        self._keys = itertools.count(1)
        self._relayed: dict[tuple[str, StreamName], _Relayed] = {}
        self._by_key: dict[tuple[str, int], _Relayed] = {}
        self._readers: defaultdict[str, FrameReader] = defaultdict(FrameReader)
        self._asking: set[asyncio.Task[None]] = set()
        self._feeds: dict[tuple[str, int], _Feed] = {}
        self._writers: dict[str, FrameWriter] = {}

    # --- the relaying side -------------------------------------------------------------------

    def hub(self, source: str, camera_id: str, stream: StreamName) -> MirrorHub:
        """The hub here of a stream `source` records; made on first use."""
        relayed = self._relayed.get((camera_id, stream))
        if relayed is not None and relayed.source == source:
            return relayed.hub
        if relayed is not None:  # recorded elsewhere now (failover): its viewers start again
            relayed.hub.worker_lost()
            del self._by_key[(relayed.source, relayed.key)]
        key = next(self._keys)
        # The hub's feed asks the source for `made`, bound by the time a viewer comes.
        hub = MirrorHub(lambda on, number: self._ask_feed(made, on, number))
        made = _Relayed(source, camera_id, stream, key, hub)
        self._relayed[(camera_id, stream)] = made
        self._by_key[(source, key)] = made
        return hub

    def audio(self, camera_id: str, stream: StreamName) -> AudioConfig | None:
        relayed = self._relayed.get((camera_id, stream))
        return relayed.audio if relayed is not None else None

    def received(self, source: str, data: bytes) -> None:
        """A media message from a peer's connection."""
        kind, body = data[0], memoryview(data)[1:]
        if kind == _FED:
            key, number = _FED_BODY.unpack_from(body)
            relayed = self._by_key.get((source, key))
            if relayed is not None:
                relayed.hub.fed(number)
            return
        key, frame = self._readers[source].decode(body)
        relayed = self._by_key.get((source, key))
        if relayed is not None and frame is not None:
            relayed.hub.publish(frame)

    def connected(self, server_id: str, up: bool) -> None:
        """A peer connection opened or ended: feeds over it end; relayed hubs start again."""
        self._readers.pop(server_id, None)
        self._writers.pop(server_id, None)
        for peer, key in [k for k in self._feeds if k[0] == server_id]:
            self._stop_feed(peer, key)
        for relayed in self._relayed.values():
            if relayed.source == server_id:
                if up:
                    relayed.hub.worker_back()
                else:
                    relayed.hub.worker_lost()

    async def stop(self) -> None:
        for task in list(self._asking):
            task.cancel()
        await asyncio.gather(*self._asking, return_exceptions=True)
        for peer, key in list(self._feeds):
            self._stop_feed(peer, key)

    def _ask_feed(self, relayed: _Relayed, on: bool, number: int) -> None:
        body = {"camera_id": relayed.camera_id, "stream": relayed.stream, "key": relayed.key,
                "on": on, "number": number}  # fmt: skip
        task = asyncio.get_running_loop().create_task(self._ask_source(relayed, body))
        self._asking.add(task)
        task.add_done_callback(self._asking.discard)

    async def _ask_source(self, relayed: _Relayed, body: dict[str, Any]) -> None:
        source = relayed.source
        try:
            answer = await self._ask(source, KIND, body)
            if answer.get("audio"):
                audio = config_of(answer["audio"].encode())
                relayed.audio = audio if isinstance(audio, AudioConfig) else None
        except (VigilError, ValueError, KeyError) as err:  # fed again when it is back
            logger.info("relay: the recording server did not start the feed",
                        extra={"server": source, "camera": body["camera_id"],
                               "reason": str(err)})  # fmt: skip

    # --- the source side ---------------------------------------------------------------------

    async def answer(self, peer: str, body: dict[str, Any]) -> dict[str, Any]:
        """A peer's request to start or stop feeding it a stream this server records."""
        key, number = int(body["key"]), int(body["number"])
        self._stop_feed(peer, key)
        if not body["on"]:
            return {}
        hub = self._own_hub(body["camera_id"], body["stream"])
        if hub is None:
            raise NotFound("this server does not record that stream now")
        audio = self._own_audio(body["camera_id"], body["stream"])
        writer = self._writers.setdefault(peer, FrameWriter())
        writer.forget(key)
        feed = _Feed(hub, lambda frame: self._feed_frame(peer, key, feed, writer, frame))
        self._feeds[(peer, key)] = feed
        # The kept GOP comes to the feed at once, or as soon as the stream's frames cross
        # from its worker (which the feed's subscription starts); then live frames. The mark
        # follows the GOP, so the relaying hub hands it whole to its viewers.
        hub.subscribe(feed.consumer)
        await hub.gop_now()
        self._send(peer, [bytes((_FED,)) + _FED_BODY.pack(key, number)])
        return {"audio": config_bytes(audio).decode() if audio is not None else None}

    def _feed_frame(
        self, peer: str, key: int, feed: _Feed, writer: FrameWriter, frame: AnyFrame
    ) -> None:
        if type(frame) is Frame and frame.keyframe:
            feed.skipping = False
        if feed.skipping or self._behind(peer) > MAX_BEHIND_BYTES:
            feed.skipping = True
            feed.dropped += 1
            return
        message = b"".join([bytes((_FRAME,)), *writer.encode(key, frame)])
        if type(frame) is not Frame and len(feed.sound) < MAX_HELD_SOUND:
            feed.sound.append(message)
            return
        self._send(peer, [*feed.sound, message])
        feed.sound.clear()

    def _stop_feed(self, peer: str, key: int) -> None:
        feed = self._feeds.pop((peer, key), None)
        if feed is not None:
            feed.hub.unsubscribe(feed.consumer)
