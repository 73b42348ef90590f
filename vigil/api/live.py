"""Live video over a WebSocket, for Media Source Extensions (protocol: docs/api.md, Live)."""

import contextlib
from typing import Annotated, Literal

from fastapi import APIRouter, Query, WebSocket
from starlette.websockets import WebSocketDisconnect

from vigil.api.access import CallerDep
from vigil.api.cameras import visible_camera
from vigil.api.context import ApiContext
from vigil.api.schemas.live import InitOut, StatusOut
from vigil.api.sockets import send_until_closed
from vigil.cameras.models import StreamName
from vigil.errors import InvalidInput, NotFound
from vigil.media.codecs import Codec
from vigil.media.live import Init, LiveSession, Output, Status

CODECS: dict[str, Codec] = {"h264": "h264", "h265": "h265"}
NORMAL_CLOSURE = 1000


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(prefix="/api/v1/cameras", tags=["live"])

    @api.websocket("/{camera_id}/live")
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

    return api


def playable_codecs(codecs: str) -> frozenset[Codec]:
    """The client's `codecs` query: the codecs it can play, e.g. `h264,h265`."""
    names = {name.strip().lower() for name in codecs.split(",") if name.strip()}
    unknown = names - CODECS.keys()
    if unknown or not names:
        known = ", ".join(CODECS)
        raise InvalidInput(f"codecs: a comma-separated list of {known}", field="codecs")
    return frozenset(CODECS[name] for name in names)


async def _send(websocket: WebSocket, out: Output) -> None:
    if isinstance(out, Init):
        init = InitOut(mime=out.mime, width=out.width, height=out.height)
        await websocket.send_text(init.model_dump_json())
        await websocket.send_bytes(out.segment)
    elif isinstance(out, Status):
        state: Literal["online", "offline"] = "online" if out.online else "offline"
        await websocket.send_text(StatusOut(state=state, reason=out.reason).model_dump_json())
    else:
        await websocket.send_bytes(out)
