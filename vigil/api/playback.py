"""Playback over a WebSocket, for Media Source Extensions (protocol: docs/api.md, Playback)."""

import asyncio
import functools
from collections.abc import MutableMapping
from typing import Annotated, Any

from fastapi import APIRouter, Query, WebSocket
from pydantic import TypeAdapter
from starlette.websockets import WebSocketDisconnect

from vigil.api.access import CallerDep
from vigil.api.cameras import CameraIds, camera_ids, visible_camera
from vigil.api.context import ApiContext
from vigil.api.errors import error_message
from vigil.api.live import playable_codecs
from vigil.api.schemas.playback import (
    CommandIn,
    EndOut,
    GapOut,
    InitOut,
    PauseIn,
    PlayIn,
    SeekIn,
    StateOut,
)
from vigil.api.sockets import parse_command
from vigil.cameras.models import StreamName
from vigil.clock import MAX_TIME_MS
from vigil.errors import InvalidInput, VigilError
from vigil.media.playback import outputs
from vigil.media.playback.session import (
    MAX_CAMERAS,
    Command,
    Pause,
    Play,
    PlaybackSession,
    Seek,
    Step,
)
from vigil.tasks import cancel_and_wait

_COMMANDS: TypeAdapter[CommandIn] = TypeAdapter(CommandIn)


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["playback"])

    @api.websocket("/playback")
    async def playback(
        websocket: WebSocket,
        caller: CallerDep,
        cameras: CameraIds,
        time_ms: Annotated[int, Query(ge=0, le=MAX_TIME_MS)],
        stream: StreamName = "main",
        codecs: Annotated[str, Query(max_length=100)] = "h264",
        speed: float = 1.0,
    ) -> None:
        """Recorded video of one camera or many in sync: text messages (init, gap, end,
        state, error) and binaries (a camera's index byte, then fMP4)."""
        ids = camera_ids(cameras, MAX_CAMERAS)
        for camera_id in ids:
            visible_camera(ctx, caller, camera_id)
        playable = playable_codecs(codecs)
        if time_ms > ctx.clock.now_ms():
            raise InvalidInput("time_ms: not in the future", field="time_ms")
        session = PlaybackSession(
            [functools.partial(ctx.media.cursor, camera_id, stream) for camera_id in ids],
            playable,
            ctx.clock.now_ms,
            time_ms,
            speed,
        )
        await websocket.accept()
        sending = asyncio.create_task(session.run(lambda out: _send(websocket, out)))
        try:
            await _obey(websocket, session, sending)
        finally:
            await cancel_and_wait(sending)
        if sending.done() and not sending.cancelled() and sending.exception() is not None:
            error = sending.exception()
            if not isinstance(error, WebSocketDisconnect):
                raise error  # type: ignore[misc]

    return api


async def _obey(
    websocket: WebSocket, session: PlaybackSession, sending: asyncio.Task[None]
) -> None:
    """Reads commands until the client leaves or the session ends."""
    receiving: asyncio.Task[MutableMapping[str, Any]] | None = None
    try:
        while True:
            receiving = asyncio.create_task(websocket.receive())
            done, _ = await asyncio.wait({receiving, sending}, return_when=asyncio.FIRST_COMPLETED)
            if sending in done:
                return
            message = receiving.result()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            try:
                await session.command(_command(text if isinstance(text, str) else None))
            except VigilError as err:
                await websocket.send_json(error_message(err))
    finally:
        await cancel_and_wait(receiving)


def _command(text: str | None) -> Command:
    parsed = parse_command(text, _COMMANDS)
    if isinstance(parsed, SeekIn):
        return Seek(parsed.time_ms)
    if isinstance(parsed, PlayIn):
        return Play(parsed.speed)
    if isinstance(parsed, PauseIn):
        return Pause()
    return Step(forward=parsed.frames == 1)


async def _send(websocket: WebSocket, out: outputs.Output) -> None:
    if isinstance(out, outputs.Fragment):
        await websocket.send_bytes(bytes([out.camera]) + out.data)
    elif isinstance(out, outputs.TrackInit):
        init = InitOut(camera=out.camera, mime=out.mime, width=out.width, height=out.height,
                       reset=out.reset)  # fmt: skip
        await websocket.send_text(init.model_dump_json())
        await websocket.send_bytes(bytes([out.camera]) + out.segment)
    elif isinstance(out, outputs.GapOut):
        gap = GapOut(camera=out.camera, from_ms=out.from_ms, to_ms=out.to_ms,
                     length_ms=out.to_ms - out.from_ms)  # fmt: skip
        await websocket.send_text(gap.model_dump_json())
    elif isinstance(out, outputs.End):
        await websocket.send_text(EndOut(camera=out.camera, time_ms=out.time_ms).model_dump_json())
    else:
        state = StateOut(time_ms=out.time_ms, media_ms=out.media_ms, speed=out.speed,
                         playing=out.playing)  # fmt: skip
        await websocket.send_text(state.model_dump_json())
