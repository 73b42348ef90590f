"""Live video over WebSockets, for Media Source Extensions (protocol: docs/api.md, Live): one
camera per socket, or many on one socket, each in a slot.

A browser opens one WebSocket to a host at a time (RFC 6455 §4.1: the others wait for its
handshake), so a 64-tile grid of sockets of their own starts tile after tile; on one socket
every tile starts at once."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, WebSocket
from pydantic import TypeAdapter
from starlette.websockets import WebSocketDisconnect

from vigil.api.access import Caller, CallerDep
from vigil.api.cameras import visible_camera
from vigil.api.context import ApiContext
from vigil.api.errors import INTERNAL_ERROR, error_message, status_of
from vigil.api.schemas.live import (
    InitOut,
    ReadyOut,
    SlotCommandIn,
    StatusOut,
    WatchIn,
)
from vigil.api.sockets import parse_command, send_until_closed
from vigil.cameras.models import StreamName
from vigil.errors import InvalidInput, NotFound, VigilError
from vigil.media.codecs import Codec
from vigil.media.live import Init, LiveSession, Output, Status, StreamNow
from vigil.tasks import cancel_and_wait

CODECS: dict[str, Codec] = {"h264": "h264", "h265": "h265"}
NORMAL_CLOSURE = 1000


logger = logging.getLogger(__name__)
_SLOT_COMMANDS: TypeAdapter[SlotCommandIn] = TypeAdapter(SlotCommandIn)


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["live"])

    @api.websocket("/cameras/{camera_id}/live")
    async def live(
        websocket: WebSocket,
        camera_id: str,
        caller: CallerDep,
        stream: StreamName = "main",
        codecs: Annotated[str, Query(max_length=100)] = "h264",
    ) -> None:
        """A stream's live video: text messages (init, status, error) and fMP4 binaries."""
        visible_camera(ctx, caller, camera_id)
        playable = playable_codecs(codecs)
        now = ctx.media.stream_now(camera_id, stream)
        if now.gone is not None:
            raise NotFound(now.gone)
        await websocket.accept()
        session = LiveSession(lambda: ctx.media.stream_now(camera_id, stream), playable)
        sending = await send_until_closed(websocket, session.run(lambda out: _send(websocket, out)))
        if sending is None:
            return  # the client left
        try:
            reason = sending.result()  # raises what ended the session, if it failed
        except WebSocketDisconnect:
            return
        with contextlib.suppress(WebSocketDisconnect):
            await websocket.send_text(StatusOut(state="ended", reason=reason).model_dump_json())
            await websocket.close(NORMAL_CLOSURE, reason="ended")

    @api.websocket("/live")
    async def live_many(
        websocket: WebSocket,
        caller: CallerDep,
        codecs: Annotated[str, Query(max_length=100)] = "h264",
    ) -> None:
        """Many cameras' live video on one socket: `watch` and `unwatch` commands per slot,
        text messages with their `slot`, binaries behind their slot's byte."""
        playable = playable_codecs(codecs)
        await websocket.accept()
        slots = _Slots(ctx, caller, websocket, playable)
        try:
            await slots.send_json(ReadyOut().model_dump())
            await slots.obey()
        except WebSocketDisconnect:
            pass
        finally:
            await slots.close()

    return api


class _Slots:
    """The sessions of one socket of many cameras: one `LiveSession` per slot, their messages
    sent one at a time."""

    def __init__(
        self, ctx: ApiContext, caller: Caller, websocket: WebSocket, playable: frozenset[Codec]
    ) -> None:
        self._ctx = ctx
        self._caller = caller
        self._websocket = websocket
        self._playable = playable
        self._sending = asyncio.Lock()
        self._tasks: dict[int, asyncio.Task[None]] = {}

    async def obey(self) -> None:
        """Reads commands until the client leaves."""
        while (message := await self._websocket.receive())["type"] != "websocket.disconnect":
            text = message.get("text")
            try:
                command = parse_command(text if isinstance(text, str) else None, _SLOT_COMMANDS)
            except VigilError as err:
                await self.send_json(error_message(err))
                continue
            await cancel_and_wait(self._tasks.pop(command.slot, None))
            if isinstance(command, WatchIn):
                self._tasks[command.slot] = asyncio.create_task(self._watch(command))
            else:  # nothing of the slot's last camera comes after this: it may be used again
                await self.send_json({"slot": command.slot, "type": "unwatched"})

    async def close(self) -> None:
        for task in list(self._tasks.values()):
            await cancel_and_wait(task)
        self._tasks.clear()

    async def send_json(self, message: dict[str, Any]) -> None:
        async with self._sending:
            await self._websocket.send_json(message)

    async def _watch(self, command: WatchIn) -> None:
        """The slot's camera until its session ends, or why it may not be shown (then the
        slot is free again, as a socket of its own would close)."""
        slot, camera_id, stream = command.slot, command.camera_id, command.stream
        ctx = self._ctx

        def now() -> StreamNow:
            return ctx.media.stream_now(camera_id, stream)

        try:
            visible_camera(ctx, self._caller, camera_id)
            gone = now().gone
            if gone is not None:
                raise NotFound(gone)
            reason = await LiveSession(now, self._playable).run(self._sender(slot))
            ended = StatusOut(state="ended", reason=reason).model_dump()
            await self.send_json({"slot": slot, **ended})
            return
        except VigilError as err:
            refused = {"slot": slot, **error_message(err), "status": status_of(err)}
        except WebSocketDisconnect:
            return
        except Exception:  # a fault of ours: said in the log, the slot ends, the others go on
            logger.exception("live slot failed", extra={"camera": camera_id})
            refused = {"slot": slot, "type": "error", "code": "internal_error",
                       "message": INTERNAL_ERROR, "status": 500}  # fmt: skip
        with contextlib.suppress(WebSocketDisconnect):
            await self.send_json(refused)

    def _sender(self, slot: int) -> Callable[[Output], Awaitable[None]]:
        async def send(out: Output) -> None:
            async with self._sending:  # an init and its segment go out together
                await _send(self._websocket, out, slot)

        return send


def playable_codecs(codecs: str) -> frozenset[Codec]:
    """The client's `codecs` query: the codecs it can play, e.g. `h264,h265`."""
    names = {name.strip().lower() for name in codecs.split(",") if name.strip()}
    unknown = names - CODECS.keys()
    if unknown or not names:
        known = ", ".join(CODECS)
        raise InvalidInput(f"codecs: a comma-separated list of {known}", field="codecs")
    return frozenset(CODECS[name] for name in names)


async def _send(websocket: WebSocket, out: Output, slot: int | None = None) -> None:
    """One session's output; in a `slot` (the socket of many cameras), its text messages
    name the slot and its binaries start with the slot's byte."""
    named = {} if slot is None else {"slot": slot}

    def binary(data: bytes) -> bytes:
        return data if slot is None else bytes([slot]) + data

    if isinstance(out, Init):
        init = InitOut(mime=out.mime, width=out.width, height=out.height)
        await websocket.send_json({**named, **init.model_dump()})
        await websocket.send_bytes(binary(out.segment))
    elif isinstance(out, Status):
        state: Literal["online", "offline"] = "online" if out.online else "offline"
        status = StatusOut(state=state, reason=out.reason)
        await websocket.send_json({**named, **status.model_dump()})
    else:
        await websocket.send_bytes(binary(out))
