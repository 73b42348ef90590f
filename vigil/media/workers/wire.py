"""The connection between the server's API process and one of its media workers: a Unix
stream socket (a socket pair made by the API process), carrying messages in order.

Two kinds of message:
- control messages, any picklable object (both ends are this program, and the socket pair
  is reachable by no other process), including calls that the other end answers (`call`);
- frames of a stream that someone watches, in the compact binary form of
  `vigil/media/framing.py`.

The choice of a socket over shared memory is measured in `bench/crossing.py` (the note is
docs/design/workers.md). Frames are written into the transport's buffer without waiting;
past `MAX_BUFFERED_BYTES` unsent, a stream's frames are dropped up to its next keyframe, so
a reader that falls behind costs pictures, never memory. Control messages are never dropped
(they are few and small).
"""

import asyncio
import contextlib
import itertools
import logging
import pickle
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from vigil.media.frames import Frame
from vigil.media.framing import FrameReader, FrameWriter
from vigil.media.hub import AnyFrame

logger = logging.getLogger(__name__)

MAX_BUFFERED_BYTES = 16 * 1024 * 1024
MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # a frame is at most a few MB; more is a broken peer

_MESSAGE = struct.Struct(">IB")  # size of what follows the kind, kind
_CONTROL, _FRAME = 0, 1


@dataclass(frozen=True)
class Call:
    number: int
    body: Any


@dataclass(frozen=True)
class Answer:
    number: int
    result: Any
    error: str | None  # why the call failed at the other end


class CallFailed(ConnectionError):
    """The other end could not do what was asked, or went away before answering."""


class Channel(asyncio.Protocol):
    """One end of the connection. `on_message` gets control messages, `on_frame` frames;
    `on_call` answers the other end's calls (in a task of its own, owned by the channel)."""

    def __init__(
        self,
        on_message: Callable[[Any], None],
        on_frame: Callable[[int, AnyFrame], None],
        on_call: Callable[[Any], Awaitable[Any]],
    ) -> None:
        self._on_message = on_message
        self._on_frame = on_frame
        self._on_call = on_call
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._numbers = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._answering: set[asyncio.Task[None]] = set()
        self._frames_out = FrameWriter()
        self._frames_in = FrameReader()
        self._skipping: set[int] = set()  # streams dropped up to their next keyframe
        self.closed = asyncio.get_running_loop().create_future()
        self.dropped_frames = 0

    @classmethod
    async def over(
        cls,
        sock: Any,
        on_message: Callable[[Any], None],
        on_frame: Callable[[int, AnyFrame], None],
        on_call: Callable[[Any], Awaitable[Any]],
    ) -> "Channel":
        loop = asyncio.get_running_loop()
        _, channel = await loop.connect_accepted_socket(
            lambda: cls(on_message, on_frame, on_call), sock
        )
        return channel

    # --- sending ---

    def send(self, message: Any) -> None:
        self._write(_CONTROL, [pickle.dumps(message, protocol=5)])

    async def call(self, body: Any) -> Any:
        """Ask the other end; its answer, or `CallFailed`."""
        number = next(self._numbers)
        answer = asyncio.get_running_loop().create_future()
        self._waiting[number] = answer
        try:
            self.send(Call(number, body))
            return await answer
        finally:
            self._waiting.pop(number, None)

    def send_frame(self, key: int, frame: AnyFrame) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        video = type(frame) is Frame
        if video and frame.keyframe:  # type: ignore[union-attr]
            self._skipping.discard(key)
        if key in self._skipping or transport.get_write_buffer_size() > MAX_BUFFERED_BYTES:
            self._skipping.add(key)
            self.dropped_frames += 1
            return
        self._write(_FRAME, self._frames_out.encode(key, frame))

    def forget_stream(self, key: int) -> None:
        """The stream's frames stopped (or start again): its next frame says its config."""
        self._frames_out.forget(key)
        self._frames_in.forget(key)
        self._skipping.discard(key)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def _write(self, kind: int, parts: list[bytes]) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        size = sum(map(len, parts))
        transport.writelines([_MESSAGE.pack(size, kind), *parts])

    # --- receiving ---

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        for answer in self._waiting.values():
            if not answer.done():
                answer.set_exception(CallFailed("the other process went away"))
        for task in self._answering:
            task.cancel()
        if not self.closed.done():
            self.closed.set_result(exc)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        at, end = 0, len(buffer)
        view = memoryview(buffer)
        try:
            while at + _MESSAGE.size <= end:
                size, kind = _MESSAGE.unpack_from(buffer, at)
                if size > MAX_MESSAGE_BYTES:
                    raise ValueError(f"a message of {size} bytes")
                start = at + _MESSAGE.size
                if start + size > end:
                    break
                with view[start : start + size] as body:  # released before the buffer is cut
                    if kind == _CONTROL:
                        self._received(pickle.loads(body))  # noqa: S301 (see the module's note)
                    else:
                        self._frame(body)
                at = start + size
        finally:
            view.release()
        del buffer[:at]

    def _received(self, message: Any) -> None:
        if isinstance(message, Answer):
            answer = self._waiting.get(message.number)
            if answer is not None and not answer.done():
                if message.error is None:
                    answer.set_result(message.result)
                else:
                    answer.set_exception(CallFailed(message.error))
        elif isinstance(message, Call):
            task = asyncio.create_task(self._answer(message))
            self._answering.add(task)
            task.add_done_callback(self._answering.discard)
        else:
            self._on_message(message)

    async def _answer(self, call: Call) -> None:
        try:
            result, error = await self._on_call(call.body), None
        except asyncio.CancelledError:
            raise
        except Exception as err:  # said to the caller, which decides what it means
            logger.debug("a call from the other process failed", exc_info=True)
            result, error = None, str(err) or type(err).__name__
        with contextlib.suppress(Exception):
            self.send(Answer(call.number, result, error))

    def _frame(self, body: memoryview) -> None:
        key, frame = self._frames_in.decode(body)
        if frame is not None:
            self._on_frame(key, frame)
