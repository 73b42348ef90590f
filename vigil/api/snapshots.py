"""Still pictures of a camera as JPEG, for previews: now (live) or at a recorded time.

Two routes because they need different rights: a live picture is live view, a recorded one
is playback (docs/api.md, Snapshots).
"""

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from vigil.api import fanout
from vigil.api.access import CallerDep
from vigil.api.cameras import visible_camera
from vigil.api.context import ApiContext
from vigil.cameras.models import StreamName
from vigil.clock import MAX_TIME_MS
from vigil.errors import InvalidInput

# At most 8K wide; a picture is scaled down to `width`, never up.
Width = Annotated[int | None, Query(ge=16, le=7680)]
JPEG: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/jpeg": {}}, "description": "the picture, as JPEG"}
}
# A recorded picture never changes (the recording may go, and then so does the answer).
RECORDED_CACHE = "private, max-age=31536000, immutable"


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(prefix="/api/v1/cameras", tags=["snapshots"])

    @api.get("/{camera_id}/snapshot", response_class=Response, responses=JPEG)
    async def live_snapshot(
        camera_id: str, caller: CallerDep, stream: StreamName = "main", width: Width = None
    ) -> Response:
        """The stream's picture now."""
        visible_camera(ctx, caller, camera_id)
        picture = await ctx.snapshots.live(camera_id, stream, width)
        return Response(picture, media_type="image/jpeg", headers={"Cache-Control": "no-store"})

    @api.get("/{camera_id}/archive/snapshot", response_class=Response, responses=JPEG)
    async def recorded_snapshot(
        camera_id: str,
        caller: CallerDep,
        time_ms: Annotated[int, Query(ge=0, le=MAX_TIME_MS)],
        stream: StreamName = "main",
        width: Width = None,
    ) -> Response:
        """The recorded picture showing at `time_ms`."""
        visible_camera(ctx, caller, camera_id)
        if time_ms > ctx.clock.now_ms():
            raise InvalidInput("time_ms: not in the future", field="time_ms")
        body = {"camera_id": camera_id, "stream": stream, "time_ms": time_ms, "width": width}
        picture = await fanout.first_of(ctx, "recorded_snapshot", body)
        headers = {"Cache-Control": RECORDED_CACHE}
        return Response(base64.b64decode(picture["jpeg"]), media_type="image/jpeg",
                        headers=headers)  # fmt: skip

    return api


@fanout.answers("recorded_snapshot")
async def recorded_here(ctx: ApiContext, body: dict[str, Any]) -> dict[str, Any]:
    """The picture from this server's archive (a camera's archive may be on several servers:
    its parent's, and those that stood in for it)."""
    picture = await ctx.snapshots.recorded(
        body["camera_id"], body["stream"], body["time_ms"], body["width"]
    )
    return {"jpeg": base64.b64encode(picture).decode()}
