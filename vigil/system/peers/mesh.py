"""The peer connections of this server: one to each other server of the system.

Each server dials every other while it has no connection to it (so a server reachable only
one way is still connected); when both dialled at once, both keep the connection dialled by
the server with the smaller id, so a pair has one. Dialling goes on with growing pauses
while a peer is away, and starts at once when the document lists a new server. A server
that a member refuses as detached forgets its system (`on_detached`). A peer is *online*
while its connection is open; connections are pinged, so one that went silent is closed
within the ping timeout.
"""

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from websockets.asyncio.connection import Connection
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from vigil.clock import Clock
from vigil.errors import NotFound, PeerUnreachable, VigilError
from vigil.peering import tls
from vigil.peering.media import MEDIA_PATH, is_media, unbatched
from vigil.state import SystemDocument
from vigil.system.models import ServerRecord
from vigil.system.peers import handshake, sync
from vigil.system.peers.link import CLOSE_UNREADABLE, PeerLink
from vigil.system.peers.messages import (
    Ask,
    Challenge,
    Hello,
    Joined,
    JoinRequest,
    Refused,
    Status,
    Welcome,
)
from vigil.tasks import Follower, Supervised, cancel_and_wait

logger = logging.getLogger(__name__)

STATUS_EVERY_S = 5.0
RESYNC_EVERY_S = 30.0  # SyncStep1 again: heals a change that reached only some peers
ASK_TIMEOUT_S = 10.0
FIRST_RETRY_S = 0.2
MAX_RETRY_S = 5.0
CLOSE_REFUSED = 4403
DETACHED = "detached"  # the code of the refusal a detached server gets


class Members(Protocol):
    """What the mesh needs to know of the system."""

    @property
    def server_id(self) -> str: ...
    def system_id(self) -> str | None: ...
    def records(self) -> dict[str, ServerRecord]: ...
    def detached(self, server_id: str) -> bool: ...


class Detached(Exception):
    """A member refused this server: the system detached it."""


@dataclass(frozen=True)
class Presence:
    online: bool
    since_ms: int
    status: Status | None


# The whole document and the system key for an admitted server (`Joining.admit`).
JoinHandler = Callable[[JoinRequest, str], Awaitable[tuple[bytes, bytes]]]
# Answers a peer's request: (the peer's id, the request's body) → the answer's body.
Answers = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


class PeerMesh:
    def __init__(
        self,
        *,
        key: Ed25519PrivateKey,
        members: Members,
        document: SystemDocument,
        clock: Clock,
        host: str,
        port: int,
        folder: Path,
        status: Callable[[], Status],
        on_join: JoinHandler,
        on_detached: Callable[[], None],
    ) -> None:
        self._key = key
        self._members = members
        self._document = document
        self._clock = clock
        self._host = host
        self._port = port
        self._folder = folder
        self._status = status
        self._on_join = on_join
        self._on_detached = on_detached
        self._server: Server | None = None
        self._links: dict[str, PeerLink] = {}
        self._presence: dict[str, Presence] = {}
        self._dialers: dict[str, asyncio.Task[None]] = {}
        self._answerers: dict[str, Answers] = {}
        self._media_listeners: list[Callable[[str, bytes], None]] = []
        self._media_source: Callable[[str], str | None] = lambda token: None
        self._connection_listeners: list[Callable[[str, bool], None]] = []
        self._started_ms = clock.now_ms()
        self._follower = Follower("peer mesh", self._follow_members)
        self._heartbeat = Supervised("peer status", self._send_status)

    # --- what others ask --------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    def presence(self, server_id: str) -> Presence:
        """Whether the server is reachable now, since when, and what it last said."""
        if server_id == self._members.server_id:
            return Presence(True, self._started_ms, self._status())
        link = self._links.get(server_id)
        known = self._presence.get(server_id)
        if known is not None:
            return Presence(link is not None, known.since_ms, link.status if link else known.status)
        return Presence(False, self._started_ms, None)

    def answer(self, kind: str, answerer: Answers) -> None:
        """Answer peers' requests of `kind` with `answerer(peer id, body)`."""
        self._answerers[kind] = answerer

    async def ask(
        self, server_id: str, kind: str, body: dict[str, Any], timeout_s: float = ASK_TIMEOUT_S
    ) -> dict[str, Any]:
        """Ask another server; PeerUnreachable when it is offline or does not answer."""
        link = self._links.get(server_id)
        if link is None:
            raise PeerUnreachable("the server is offline")
        return await link.ask(kind, body, timeout_s)

    async def ask_all(
        self, servers: list[str], kind: str, body: dict[str, Any]
    ) -> tuple[dict[str, dict[str, Any]], list[str]]:
        """Ask `servers` at once: the answers by server, and the servers that gave none."""
        asked = await asyncio.gather(
            *(self.ask(server_id, kind, body) for server_id in servers), return_exceptions=True
        )
        answers = {s: a for s, a in zip(servers, asked, strict=True) if isinstance(a, dict)}
        for server_id, failed in zip(servers, asked, strict=True):
            if isinstance(failed, BaseException) and not isinstance(failed, VigilError):
                said = {"peer": server_id, "kind": kind, "error": repr(failed)}
                logger.warning("asking a peer failed", extra=said)
        return answers, [s for s in servers if s not in answers]

    async def _answer_ask(self, peer: str, ask: Ask) -> dict[str, Any]:
        answerer = self._answerers.get(ask.kind)
        if answerer is None:
            raise NotFound(f"this server does not answer {ask.kind!r} (an older version?)")
        return await answerer(peer, ask.body)

    def reachable(self, server_id: str) -> bool:
        return server_id in self._links

    def online(self) -> list[str]:
        """The other servers connected now."""
        return list(self._links)

    def send_media(self, server_id: str, messages: list[bytes]) -> None:
        """Binary messages for a peer's media listener, to leave together; dropped if it is
        not connected."""
        link = self._links.get(server_id)
        if link is not None:
            link.send_media(messages)

    def behind(self, server_id: str) -> int:
        """Bytes queued for a peer and not sent yet."""
        link = self._links.get(server_id)
        return link.queued_bytes if link is not None else 0

    def on_media(self, listener: Callable[[str, bytes], None]) -> None:
        """`listener(peer id, message)` for each binary media message a peer sends."""
        self._media_listeners.append(listener)

    def accept_media(self, source_of: Callable[[str], str | None]) -> None:
        """Take media connections of other servers' media workers: `source_of(token)` names
        the server a token was given to, while it is good; their media goes to the media
        listeners as if it came on that server's peer connection."""
        self._media_source = source_of

    def dial_target(self, server_id: str) -> tuple[str, int, bytes] | None:
        """Where a server's peer port is, and the key its certificate must hold."""
        record = self._members.records().get(server_id)
        if record is None or not record.peer_port or not record.addresses:
            return None
        host = record.addresses[0].rsplit(":", 1)[0]
        return host, record.peer_port, handshake.raw_key(record.public_key)

    def on_connection(self, listener: Callable[[str, bool], None]) -> None:
        """`listener(peer id, up)` when a peer's connection opens or ends."""
        self._connection_listeners.append(listener)

    def _media_heard(self, peer: str, data: bytes) -> None:
        for listener in self._media_listeners:
            listener(peer, data)

    def members_changed(self) -> None:
        self._follower.changed()

    def broadcast(self, update: bytes) -> None:
        """A local change, for every connected peer."""
        frame = sync.update(self._document, update)
        for link in self._links.values():
            link.send(frame)

    # --- life -------------------------------------------------------------------------------

    async def start(self) -> None:
        # Writes the key to a file for the moment `ssl` reads it: off the event loop.
        context = await asyncio.to_thread(
            tls.server_context, self._key, self._members.server_id, self._folder
        )
        self._server = await serve(
            self._answer,
            self._host,
            self._port,
            ssl=context,
            max_size=handshake.MAX_FRAME_BYTES,
            ping_interval=handshake.PING_INTERVAL_S,
            ping_timeout=handshake.PING_TIMEOUT_S,
            open_timeout=handshake.TIMEOUT_S,
            server_header=None,
            compression=None,  # what crosses is mostly video, compressed already
        )
        self._follower.start()
        self._heartbeat.start()

    async def stop(self) -> None:
        await self._heartbeat.stop()
        await self._follower.stop()
        for task in list(self._dialers.values()):
            await cancel_and_wait(task)
        self._dialers.clear()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    # --- dialling ---------------------------------------------------------------------------

    async def _follow_members(self) -> None:
        records = self._members.records() if self._members.system_id() else {}
        wanted = set(records) - {self._members.server_id}
        for server_id in set(self._dialers) - wanted:
            await cancel_and_wait(self._dialers.pop(server_id))
        for server_id in wanted - set(self._dialers):
            self._dialers[server_id] = asyncio.create_task(
                self._dial_forever(server_id), name=f"peer dial {server_id}"
            )
        for server_id, link in list(self._links.items()):
            if server_id not in records:  # detached: refused from now on
                await link.close(CLOSE_REFUSED, "not a member of this system", flush=True)

    async def _dial_forever(self, server_id: str) -> None:
        """Both servers of a pair dial while they have no connection; `_run_link` keeps one."""
        loop = asyncio.get_running_loop()
        pause = FIRST_RETRY_S
        complaint = ""
        while True:
            link = self._links.get(server_id)
            if link is not None:
                await link.ended.wait()
            started = loop.time()
            try:
                await self._dial(server_id)
                complaint = ""
            except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake, InvalidURI) as err:
                said = f"{type(err).__name__}: {err}"
                if said != complaint:  # once per kind of failure, not once per retry
                    logger.info("peer unreachable", extra={"peer": server_id, "reason": said})
                complaint = said
            except Detached:
                logger.warning("a peer says this server was detached", extra={"peer": server_id})
                self._on_detached()
                return
            except handshake.HandshakeFailed as err:
                if str(err) != complaint:
                    logger.warning("peer refused", extra={"peer": server_id, "reason": str(err)})
                complaint = str(err)
            except Exception:
                logger.exception("dialling a peer failed", extra={"peer": server_id})
            if loop.time() - started > 10 * MAX_RETRY_S:
                pause = FIRST_RETRY_S
            await asyncio.sleep(pause)
            pause = min(pause * 2, MAX_RETRY_S)

    async def _dial(self, server_id: str) -> None:
        target = self.dial_target(server_id)
        system_id = self._members.system_id()
        if target is None or system_id is None:
            raise handshake.HandshakeFailed("the system lists no peer address for it")
        host, port, key = target
        async with handshake.dial(host, port) as connection:
            if handshake.key_of(connection) != key:
                raise handshake.HandshakeFailed("it does not hold the key the system lists")
            challenge = await handshake.receive(connection)
            if not isinstance(challenge, Challenge) or challenge.server_id != server_id:
                raise handshake.HandshakeFailed("it answered as another server")
            me = self._members.server_id
            signature = handshake.sign(self._key, system_id, server_id, me, challenge.nonce)
            await connection.send(
                Hello(server_id=me, system_id=system_id, signature=signature).model_dump_json()
            )
            answer = await handshake.receive(connection)
            if isinstance(answer, Refused) and answer.code == DETACHED:
                raise Detached()  # said by a server this one authenticated (its key pinned)
            if isinstance(answer, Refused):
                raise handshake.HandshakeFailed(answer.message)
            if not isinstance(answer, Welcome):
                raise handshake.HandshakeFailed("it did not answer the hello")
            await self._run_link(server_id, connection, dialer=me)

    # --- answering --------------------------------------------------------------------------

    async def _answer(self, connection: ServerConnection) -> None:
        nonce = handshake.nonce()
        me = self._members.server_id
        system_id = self._members.system_id()
        address = str(connection.remote_address[0]) if connection.remote_address else "unknown"
        if connection.request is not None and connection.request.path == MEDIA_PATH:
            await self._take_media(connection, address)
            return
        try:
            await connection.send(
                Challenge(server_id=me, system_id=system_id, nonce=nonce).model_dump_json()
            )
            first = await handshake.receive(connection)
            if isinstance(first, JoinRequest):
                await self._answer_join(connection, first, address, nonce)
                return
            if not isinstance(first, Hello):
                raise handshake.HandshakeFailed("a peer must begin with a hello")
            record = self._members.records().get(first.server_id)
            if system_id is None or first.system_id != system_id:
                raise handshake.HandshakeFailed("not a member of this system")
            if record is None and self._members.detached(first.server_id):
                # Said without proof of who asks: it only tells what anyone may know, and
                # the dialler believes it only from a server whose key it checked.
                await _refuse(connection, DETACHED, "this server was detached from the system")
                return
            if record is None:
                raise handshake.HandshakeFailed("not a member of this system")
            handshake.verify(
                record.public_key, first.signature, system_id, me, first.server_id, nonce
            )
        except handshake.HandshakeFailed as err:
            logger.warning("peer refused", extra={"address": address, "reason": str(err)})
            await _refuse(connection, "forbidden", str(err))
            return
        except (ConnectionClosed, TimeoutError):
            return
        await connection.send(Welcome().model_dump_json())
        await self._run_link(first.server_id, connection, dialer=first.server_id)

    async def _answer_join(
        self, connection: ServerConnection, request: JoinRequest, address: str, nonce: str
    ) -> None:
        system_id = self._members.system_id()
        if system_id is None:
            await _refuse(connection, "server_undefined", "this server is not part of a system")
            return
        handshake.verify(
            request.public_key, request.signature, system_id, self._members.server_id,
            request.server_id, nonce,
        )  # fmt: skip
        try:
            document, key = await self._on_join(request, address)
        except VigilError as err:
            await _refuse(connection, err.code, err.message, err.field, err.extra)
            return
        joined = Joined(
            document=base64.b64encode(document).decode(), system_key=base64.b64encode(key).decode()
        )
        await connection.send(joined.model_dump_json())
        await connection.close()

    async def _take_media(self, connection: ServerConnection, address: str) -> None:
        """A media worker's connection: its token first, then its server's media while the
        token is good."""
        try:
            said = await asyncio.wait_for(connection.recv(), handshake.TIMEOUT_S)
            token = said if isinstance(said, str) else ""
            source = self._media_source(token) if token else None
            if source is None:
                refused = {"address": address, "reason": "media without a good token"}
                logger.warning("peer refused", extra=refused)
                await connection.close(CLOSE_REFUSED, "not a token of this server")
                return
            async for frame in connection:
                if self._media_source(token) != source:
                    await connection.close(1000, "the token is void")
                    return
                if not is_media(frame):
                    raise ValueError("not media")
                for data in unbatched(frame):
                    self._media_heard(source, data)
        except (ConnectionClosed, TimeoutError):
            return
        except ValueError as err:
            logger.warning("a peer's media worker sent what could not be read",
                           extra={"address": address, "reason": str(err)})  # fmt: skip
            await connection.close(CLOSE_UNREADABLE, "unreadable frame")

    # --- a connection's life ----------------------------------------------------------------

    async def _run_link(self, server_id: str, connection: Connection, dialer: str) -> None:
        """Sync and talk over a new connection until it ends. When both servers dialled at
        once, both keep the connection the server with the smaller id dialled."""
        old = self._links.get(server_id)
        if old is not None:
            if old.dialer == min(server_id, self._members.server_id) != dialer:
                await connection.close(1000, "a connection is open already")
                return
            await old.close(1000, "replaced by a new connection")
        link = PeerLink(server_id, connection, self._document, dialer, self._answer_ask,
                        self._media_heard)  # fmt: skip
        self._links[server_id] = link
        self._presence[server_id] = Presence(True, self._clock.now_ms(), None)
        logger.info("peer connected", extra={"peer": server_id})
        for listener in self._connection_listeners:
            listener(server_id, True)
        link.send_message(self._status())
        try:
            await link.run()
        finally:
            if self._links.get(server_id) is link:
                del self._links[server_id]
                self._presence[server_id] = Presence(False, self._clock.now_ms(), link.status)
                logger.info("peer disconnected", extra={"peer": server_id})
                for listener in self._connection_listeners:
                    listener(server_id, False)
            link.ended.set()

    async def _send_status(self) -> None:
        resync_in = RESYNC_EVERY_S
        while True:
            await asyncio.sleep(STATUS_EVERY_S)
            status = self._status()
            resync_in -= STATUS_EVERY_S
            step1 = sync.step1(self._document) if resync_in <= 0 else None
            if step1 is not None:
                resync_in = RESYNC_EVERY_S
            for link in list(self._links.values()):
                link.send_message(status)
                if step1 is not None:
                    link.send(step1)


async def _refuse(
    connection: Connection,
    code: str,
    message: str,
    field: str | None = None,
    extra: dict[str, object] | None = None,
) -> None:
    refused = Refused(code=code, message=message, field=field, extra=extra or {})
    try:
        await connection.send(refused.model_dump_json())
        await connection.close(CLOSE_REFUSED, message[:120])
    except ConnectionClosed:
        pass
