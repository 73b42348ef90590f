"""Streams that a media worker sends a relaying server of the system itself, past its API
process: on one connection of its own to that server's peer port (TLS, the certificate's key
checked against the key the system lists before anything is said), opened with the token
that server gave over its peer connection. Each stream fed is its kept GOP, the fed mark,
then each picture with its sound (`relay_feed.py`); what every stream sends is gathered into
batches (`peering/media.py`), as on the peer connection.

When the connection cannot be opened, or ends, each of its feeds ends and the API process is
told (`on_end`): it then feeds those streams over the peer connection, which a server
reachable only one way has too (`relay.py`). Why a worker feeds the relaying server itself:
the frames then cross no other process of this server (docs/design/system.md, Measurements).
"""

import asyncio
import logging
from collections.abc import Callable

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from vigil.media.framing import FrameWriter
from vigil.media.hub import Hub
from vigil.media.relay_feed import FeedFrames, fed_mark
from vigil.media.workers.messages import Destination, RelayingServer
from vigil.peering import tls
from vigil.peering.media import MEDIA_PATH, Gathering
from vigil.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

DIAL_TIMEOUT_S = 5.0
CLOSE_TIMEOUT_S = 1.0  # a stopped connection's close handshake, at most
MAX_RECEIVED_BYTES = 64 * 1024  # the relaying server sends nothing but closes and pings


class PeerSender:
    def __init__(
        self,
        server: RelayingServer,
        on_end: Callable[["PeerSender", list[Destination], str], None],
    ) -> None:
        self.server = server
        self._on_end = on_end
        self._feeds: dict[int, tuple[Destination, Hub, FeedFrames]] = {}  # by relay key
        self._writer = FrameWriter()
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._queued_bytes = 0
        self._gathering = Gathering(self._queue_batch)
        self._task: asyncio.Task[None] | None = None

    @property
    def feeding(self) -> bool:
        return bool(self._feeds)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"peer feeds {self.server.server_id}")

    async def stop(self) -> None:
        """Ended by the API process (nothing is said of it); the connection closed."""
        await cancel_and_wait(self._task)
        self._end()

    def add(self, to: Destination, hub: Hub) -> None:
        """Feed `hub`'s stream: its kept GOP at once, then the fed mark, then each frame."""
        self.remove(to.relay_key)
        self._writer.forget(to.relay_key)
        frames = FeedFrames(to.relay_key, self._writer, self._gathering.add, self._behind)
        self._feeds[to.relay_key] = (to, hub, frames)
        hub.subscribe(frames)
        self._gathering.add([fed_mark(to.relay_key, to.number)])

    def remove(self, relay_key: int) -> None:
        feed = self._feeds.pop(relay_key, None)
        if feed is not None:
            _, hub, frames = feed
            hub.unsubscribe(frames)

    def remove_hub(self, hub: Hub) -> None:
        """Its stream stopped here."""
        for relay_key in [k for k, (_, fed, _) in self._feeds.items() if fed is hub]:
            self.remove(relay_key)

    def _behind(self) -> int:
        return self._queued_bytes + self._gathering.size

    def _queue_batch(self, batch: bytes) -> None:
        self._queued_bytes += len(batch)
        self._queue.put_nowait(batch)

    def _end(self) -> list[Destination]:
        ended = [to for to, _, _ in self._feeds.values()]
        for relay_key in list(self._feeds):
            self.remove(relay_key)
        self._gathering.cancel()
        return ended

    async def _run(self) -> None:
        try:
            reason = await self._send()
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as err:
            reason = f"{type(err).__name__}: {err}"
        except Exception as err:  # a fault of ours: the API process feeds them instead
            logger.exception("feeding a relaying server failed",
                             extra={"peer": self.server.server_id})  # fmt: skip
            reason = f"{type(err).__name__}: {err}"
        self._on_end(self, self._end(), reason)

    async def _send(self) -> str:
        server = self.server
        async with connect(
            f"wss://{server.host}:{server.port}{MEDIA_PATH}",
            ssl=tls.client_context(),
            server_hostname=server.host.strip("[]"),
            open_timeout=DIAL_TIMEOUT_S,
            ping_interval=None,  # the relaying server pings; the peer connection is watched
            close_timeout=CLOSE_TIMEOUT_S,
            max_size=MAX_RECEIVED_BYTES,
            user_agent_header=None,
            compression=None,  # video, compressed already
        ) as connection:
            held = tls.peer_key(connection.transport.get_extra_info("ssl_object"))
            if held != server.peer_key:
                return "the relaying server does not hold the key the system lists for it"
            try:
                await connection.send(server.token)
                while True:
                    batch = await self._queue.get()
                    self._queued_bytes -= len(batch)
                    await connection.send(batch)
            except ConnectionClosed as closed:
                return f"the connection ended ({closed})"
