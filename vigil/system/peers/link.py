"""One authenticated connection to another server of the system, either end alike.

It carries document sync (binary frames, `sync.py`) and JSON messages (`messages.py`). What
is sent goes through a queue drained by one writer, so a caller never waits on the network;
a peer that falls more than MAX_QUEUED_BYTES behind is disconnected, and catches up by
state vectors when it connects again. Media (relayed frames) is gathered into batches
(`peering/media.py`).
"""

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.connection import Connection
from websockets.exceptions import ConnectionClosed

from vigil.errors import PeerUnreachable, VigilError
from vigil.peering.media import Gathering, framed_size, is_media, unbatched
from vigil.state import SystemDocument
from vigil.system.peers import sync
from vigil.system.peers.failures import error_of, failure_of
from vigil.system.peers.messages import MESSAGE, Answer, Ask, Failure, Status
from vigil.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

MAX_QUEUED_BYTES = 64 * 1024 * 1024
CLOSE_BEHIND = 4408  # the peer read too slowly
FLUSH_S = 1.0
MAX_ANSWERING = 64  # requests of one peer answered at once; more are refused as busy
# What a server does with a peer's request: its answer's body, or a VigilError.
Answerer = Callable[[str, Ask], Awaitable[dict[str, Any]]]
CLOSE_UNREADABLE = 1007  # RFC 6455: data inconsistent with the message's type


class PeerLink:
    def __init__(
        self,
        peer_id: str,
        connection: Connection,
        document: SystemDocument,
        dialer: str,
        answerer: Answerer,
        on_media: Callable[[str, bytes], None],
    ) -> None:
        self.peer_id = peer_id
        self.dialer = dialer  # the id of the server that dialled
        self.ended = asyncio.Event()
        self.status: Status | None = None
        self._connection = connection
        self._document = document
        self._queue: asyncio.Queue[str | bytes] = asyncio.Queue()
        self._queued_bytes = 0
        self._answerer = answerer
        self._on_media = on_media
        self._asked: dict[int, asyncio.Future[Answer]] = {}
        self._ask_ids = itertools.count(1)
        self._answering: set[asyncio.Task[None]] = set()
        self._closing: asyncio.Task[None] | None = None  # the close of a peer too far behind
        self._media = Gathering(self._send_batch)

    @property
    def queued_bytes(self) -> int:
        """Not sent yet: in the writer's queue, and media still being gathered."""
        return self._queued_bytes + self._media.size

    def send_media(self, messages: list[bytes]) -> None:
        """`messages` in order and in one batch, with what else comes meanwhile."""
        if self._room_for(framed_size(messages)):
            self._media.add(messages)

    def send(self, frame: str | bytes) -> None:
        if self._room_for(len(frame)):
            self._queued_bytes += len(frame)
            self._queue.put_nowait(frame)

    def _send_batch(self, batch: bytes) -> None:
        self._queued_bytes += len(batch)
        self._queue.put_nowait(batch)

    def _room_for(self, size: int) -> bool:
        if self.queued_bytes + size <= MAX_QUEUED_BYTES:
            return True
        if self._closing is None:
            logger.warning("peer is too far behind; disconnecting it",
                           extra={"peer": self.peer_id})  # fmt: skip
            self._closing = asyncio.get_running_loop().create_task(
                self._connection.close(CLOSE_BEHIND, "too far behind")
            )
        return False

    def send_message(self, message: Status | Ask | Answer) -> None:
        self.send(message.model_dump_json())

    async def ask(self, kind: str, body: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        """The peer's answer to a request; its error raised here as it was there."""
        ask_id = next(self._ask_ids)
        answered: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._asked[ask_id] = answered
        try:
            self.send_message(Ask(id=ask_id, kind=kind, body=body))
            async with asyncio.timeout(timeout_s):
                answer = await answered
        except (TimeoutError, ConnectionError) as err:
            raise PeerUnreachable(f"the server did not answer ({kind})") from err
        finally:
            self._asked.pop(ask_id, None)
        if answer.failure is not None:
            raise error_of(answer.failure)
        return answer.body or {}

    async def close(self, code: int = 1000, reason: str = "", *, flush: bool = False) -> None:
        """End the connection; `flush`: send what is queued first (for at most a second),
        such as the change that removed the peer from the system."""
        if flush:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(FLUSH_S):
                    await self._queue.join()
        await self._connection.close(code, reason)

    async def run(self) -> None:
        """Sync the document and exchange messages until the connection ends."""
        writer = asyncio.create_task(self._write(), name=f"peer writer {self.peer_id}")
        try:
            self.send(sync.step1(self._document))
            async for frame in self._connection:
                if is_media(frame):
                    for data in unbatched(frame):
                        self._on_media(self.peer_id, data)
                elif isinstance(frame, bytes):
                    answer = await sync.handle(self._document, frame, self.peer_id)
                    if answer is not None:
                        self.send(answer)
                else:
                    message = MESSAGE.validate_json(frame)
                    if isinstance(message, Status):
                        self.status = message
                    elif isinstance(message, Ask):
                        self._start_answering(message)
                    elif isinstance(message, Answer):
                        asked = self._asked.get(message.id)
                        if asked is not None and not asked.done():
                            asked.set_result(message)
        except ConnectionClosed:
            pass
        except Exception:
            # A frame that cannot be merged or read: the peer's state is not to be trusted
            # until it connects again and syncs afresh.
            logger.exception("a peer sent what could not be read; disconnecting it",
                             extra={"peer": self.peer_id})  # fmt: skip
            await self._connection.close(CLOSE_UNREADABLE, "unreadable frame")
        finally:
            for asked in self._asked.values():
                if not asked.done():
                    asked.set_exception(ConnectionError("the connection ended"))
            for task in list(self._answering):
                await cancel_and_wait(task)
            await cancel_and_wait(writer)
            await cancel_and_wait(self._closing)
            self._media.cancel()

    def _start_answering(self, ask: Ask) -> None:
        if len(self._answering) >= MAX_ANSWERING:
            busy = Failure(code=PeerUnreachable.code, message="the server is busy; ask again")
            self.send_message(Answer(id=ask.id, failure=busy))
            return
        task = asyncio.create_task(self._answer(ask), name=f"peer answer {ask.kind}")
        self._answering.add(task)
        task.add_done_callback(self._answering.discard)

    async def _answer(self, ask: Ask) -> None:
        try:
            body = await self._answerer(self.peer_id, ask)
        except VigilError as err:
            self.send_message(Answer(id=ask.id, failure=failure_of(err)))
        except Exception:
            logger.exception("answering a peer failed", extra={"peer": self.peer_id,
                                                                "kind": ask.kind})  # fmt: skip
            failed = Failure(code=PeerUnreachable.code, message="the server failed to answer")
            self.send_message(Answer(id=ask.id, failure=failed))
        else:
            self.send_message(Answer(id=ask.id, body=body))

    async def _write(self) -> None:
        while True:
            frame = await self._queue.get()
            try:
                await self._connection.send(frame)
            except ConnectionClosed:
                return
            finally:
                self._queued_bytes -= len(frame)
                self._queue.task_done()
