"""The notifications WebSocket: what components publish, as each user may see it (protocol:
docs/api.md, Notifications)."""

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from vigil.api.access import Caller, CallerDep
from vigil.api.context import ApiContext
from vigil.api.errors import close_with_error
from vigil.api.schemas.notifications import (
    LostData,
    LostOut,
    NotificationOut,
    ReadyData,
    ReadyOut,
)
from vigil.api.sockets import send_until_closed
from vigil.notifications import Audience, Listener, Notification

# How often an open socket checks that its session still holds (logout, password change,
# user disabled or deleted): it closes with 4401 soon after.
SESSION_CHECK_S = 5.0


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["notifications"])

    @api.websocket("/notifications")
    async def notifications(websocket: WebSocket, caller: CallerDep) -> None:
        """Notifications for the caller, one JSON text message each; nothing to send back."""
        await websocket.accept()
        with ctx.notifications.listen(lambda audience: _may_see(ctx, caller, audience)) as inbox:
            sending = await send_until_closed(websocket, _send(ctx, caller, inbox, websocket))
        if sending is None:
            return  # the client left
        try:
            sending.result()  # raises what ended the sending, if it failed
        except WebSocketDisconnect:
            return
        await close_with_error(websocket, 401, "unauthenticated", "the session ended: log in again")

    return api


def _may_see(ctx: ApiContext, caller: Caller, audience: Audience) -> bool:
    if audience.user_id is not None and audience.user_id != caller.user.id:
        return False
    user = ctx.users.get(caller.user.id)
    if user is None or not ctx.sessions.alive(caller.session.id):
        return False
    rights = ctx.users.role_of(user).rights  # as it is now: the role may have changed
    return all(rights.may_see_camera(camera_id) for camera_id in audience.camera_ids)


async def _send(ctx: ApiContext, caller: Caller, inbox: Listener, websocket: WebSocket) -> None:
    """Sends until the session ends (returns) or the client leaves (WebSocketDisconnect)."""
    # `inbox` listens already: a client that must not miss what follows a request of its own
    # waits for this before making it.
    ready = ReadyOut(time_ms=ctx.clock.now_ms(), data=ReadyData(user_id=caller.user.id))
    await websocket.send_text(ready.model_dump_json())
    while ctx.sessions.alive(caller.session.id):
        taken: list[Notification] = []
        lost = 0
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SESSION_CHECK_S):
                taken, lost = await inbox.take()
        if lost:
            out = LostOut(time_ms=ctx.clock.now_ms(), data=LostData(count=lost))
            await websocket.send_text(out.model_dump_json())
        for notification in taken:
            message = NotificationOut(
                type=notification.type,
                time_ms=notification.time_ms,
                data=notification.data.model_dump(mode="json"),
            )
            await websocket.send_text(message.model_dump_json())
