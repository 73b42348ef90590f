"""Live video of a camera that another server records: relayed from it, once per stream
however many watch it here.

On the server a viewer asks (the relaying server), such a stream gets a `MirrorHub` like one of
its own workers' streams: the first viewer has the recording server (the source) start a feed,
the last one leaving stops it. The source's media worker that runs the stream sends it itself,
on a connection of its own to the relaying server's peer port, opened with the token the
relaying server gives with its requests, one per peer connection (`workers/peer_feed.py`): the
frames pass none of the source's other processes. When the worker cannot reach the relaying
server (a server reachable only one way), or its connection ends, the source's API process
feeds the stream instead, over the peer connection: it subscribes to its own hub of the stream
(so the stream crosses from its worker once, whoever watches there). Either way the feed is the
kept GOP, then a `fed` mark, then each frame as it comes (`relay_feed.py`); the relaying hub
hands the GOP to its waiting viewers at the mark, as it would for a worker. When the peer
connection ends, the relaying hubs of that source start again with the next one.
"""

import asyncio
import itertools
import logging
import secrets
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from vigil.cameras.models import StreamName
from vigil.errors import NotFound, VigilError
from vigil.media.frames import AudioConfig
from vigil.media.framing import FrameReader, FrameWriter, config_bytes, config_of
from vigil.media.hub import Hub
from vigil.media.relay_feed import FED, FED_BODY, FeedFrames, fed_mark
from vigil.media.workers.messages import Destination, RelayingServer
from vigil.media.workers.mirror import MirrorHub

logger = logging.getLogger(__name__)

KIND = "relay"  # the peer request that starts and stops a feed


@dataclass(frozen=True)
class PeerMedia:
    """How the media service reaches the other servers (their peer connections)."""

    ask: Callable[[str, str, dict[str, Any]], Awaitable[dict[str, Any]]]  # server, kind, body
    send: Callable[[str, list[bytes]], None]  # binary messages to a server, to leave together
    behind: Callable[[str], int]  # bytes queued for a server, not sent yet
    reachable: Callable[[str], bool]  # whether a server's connection is open
    online: Callable[[], list[str]]  # the servers whose connections are open
    # Where a server's peer port is and the key its certificate holds; None if not listed.
    dial_target: Callable[[str], tuple[str, int, bytes] | None]


@dataclass(frozen=True)
class WorkerFeeds:
    """How the relays have the media workers feed relaying servers themselves."""

    # Start a stream's feed to `Destination` in the worker that runs it; False if none does.
    start: Callable[[str, StreamName, Destination], bool]
    stop: Callable[[str, StreamName, Destination], None]


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
    """A stream this server feeds to a relaying peer: by its worker (`direct`), or from its
    hub here (`frames` subscribed to `hub`)."""

    camera_id: str
    stream: StreamName
    direct: Destination | None = None
    hub: Hub | None = None
    frames: FeedFrames | None = None


class Relays:
    def __init__(
        self,
        own_hub: Callable[[str, StreamName], Hub | None],
        own_audio: Callable[[str, StreamName], AudioConfig | None],
        peers: PeerMedia,
        workers: WorkerFeeds,
    ) -> None:
        self._own_hub = own_hub
        self._own_audio = own_audio
        self._ask = peers.ask
        self._send = peers.send
        self._behind = peers.behind
        self._dial_target = peers.dial_target
        self._workers = workers
        self._keys = itertools.count(1)
        self._relayed: dict[tuple[str, StreamName], _Relayed] = {}
        self._by_key: dict[tuple[str, int], _Relayed] = {}
        # For the sources' workers to connect with, while their peer connections last.
        self._tokens: dict[str, str] = {}  # token → source
        self._token_of: dict[str, str] = {}  # source → token
        self._readers: defaultdict[str, FrameReader] = defaultdict(FrameReader)
        self._tasks: set[asyncio.Task[None]] = set()  # requests to sources, feeds starting
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

    def source_of_token(self, token: str) -> str | None:
        """The server a token was given to, while its peer connection lasts."""
        return self._tokens.get(token)

    def received(self, source: str, data: bytes) -> None:
        """A media message from a peer: on its connection, or from its media worker.
        ValueError if it is broken."""
        if not data:
            raise ValueError("an empty relay message")
        kind, body = data[0], memoryview(data)[1:]
        if kind == FED:
            if len(body) != FED_BODY.size:
                raise ValueError("a broken fed mark")
            key, number = FED_BODY.unpack(body)
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
        self._tokens.pop(self._token_of.pop(server_id, ""), None)
        for peer, key in [k for k in self._feeds if k[0] == server_id]:
            self._stop_feed(peer, key)
        for relayed in self._relayed.values():
            if relayed.source == server_id:
                if up:
                    relayed.hub.worker_back()
                else:
                    relayed.hub.worker_lost()

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for peer, key in list(self._feeds):
            self._stop_feed(peer, key)

    def _ask_feed(self, relayed: _Relayed, on: bool, number: int) -> None:
        body: dict[str, Any] = {"camera_id": relayed.camera_id, "stream": relayed.stream,
                                "key": relayed.key, "on": on, "number": number}  # fmt: skip
        if on:
            body["token"] = self._token_for(relayed.source)
        self._own_task(self._ask_source(relayed, body))

    def _token_for(self, source: str) -> str:
        token = self._token_of.get(source)
        if token is None:
            token = self._token_of[source] = secrets.token_urlsafe(24)
            self._tokens[token] = source
        return token

    def _own_task(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

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
        camera_id, stream = body["camera_id"], body["stream"]
        hub = self._own_hub(camera_id, stream)
        if hub is None:
            raise NotFound("this server does not record that stream now")
        audio = self._own_audio(camera_id, stream)
        answer = {"audio": config_bytes(audio).decode() if audio is not None else None}
        token, target = body.get("token"), self._dial_target(peer)
        if isinstance(token, str) and target is not None:
            to = Destination(RelayingServer(peer, *target, token), key, number)
            if self._workers.start(camera_id, stream, to):
                self._feeds[(peer, key)] = _Feed(camera_id, stream, direct=to)
                return answer
        await self._feed_here(peer, key, number, camera_id, stream, hub)
        return answer

    def worker_feed_ended(self, to: Destination, reason: str) -> None:
        """A worker's feed to a relaying server could not start, or its connection ended:
        if the feed still stands, it goes on from here, over the peer connection."""
        peer = to.server.server_id
        feed = self._feeds.get((peer, to.relay_key))
        if feed is None or feed.direct != to:
            return
        self._stop_feed(peer, to.relay_key)
        hub = self._own_hub(feed.camera_id, feed.stream)
        logger.info("relay: the media worker's feed ended; feeding it over the peer connection",
                    extra={"server": peer, "camera": feed.camera_id, "reason": reason,
                           "recording": hub is not None})  # fmt: skip
        if hub is not None:
            self._own_task(self._feed_here(peer, to.relay_key, to.number, feed.camera_id,
                                           feed.stream, hub))  # fmt: skip

    def _feed_here(
        self, peer: str, key: int, number: int, camera_id: str, stream: StreamName, hub: Hub
    ) -> Awaitable[None]:
        """Feed the stream from its hub here, at once; what is returned sends the mark."""
        writer = self._writers.setdefault(peer, FrameWriter())
        writer.forget(key)
        frames = FeedFrames(
            key, writer, lambda messages: self._send(peer, messages), lambda: self._behind(peer)
        )
        self._feeds[(peer, key)] = _Feed(camera_id, stream, hub=hub, frames=frames)
        # The kept GOP comes to the feed at once, or as soon as the stream's frames cross
        # from its worker (which the feed's subscription starts); then live frames. The mark
        # follows the GOP, so the relaying hub hands it whole to its viewers.
        hub.subscribe(frames)
        return self._mark_fed(peer, key, number, hub)

    async def _mark_fed(self, peer: str, key: int, number: int, hub: Hub) -> None:
        await hub.gop_now()
        self._send(peer, [fed_mark(key, number)])

    def _stop_feed(self, peer: str, key: int) -> None:
        feed = self._feeds.pop((peer, key), None)
        if feed is None:
            return
        if feed.direct is not None:
            self._workers.stop(feed.camera_id, feed.stream, feed.direct)
        if feed.hub is not None and feed.frames is not None:
            feed.hub.unsubscribe(feed.frames)
