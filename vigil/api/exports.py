"""Exports: MP4 clips of the archive, as jobs with progress or as a download made on the fly
(docs/api.md, Exports)."""

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Response
from fastapi.responses import FileResponse, StreamingResponse

from vigil.api.access import Caller, CallerDep
from vigil.api.cameras import StreamSpan, check_span, visible_camera
from vigil.api.context import ApiContext
from vigil.api.schemas.exports import ExportCreate, ExportList
from vigil.cameras.models import Camera, StreamName
from vigil.errors import Conflict, InvalidInput, NotFound
from vigil.media.export import files
from vigil.media.export.models import ExportJob
from vigil.media.export.service import ExportRequest, NothingRecorded

MAX_EXPORT_MS = 24 * 3600 * 1000
MP4 = "video/mp4"


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["exports"])

    def own_job(caller: Caller, export_id: str) -> ExportJob:
        """A job of the caller's (others' answer as if they did not exist)."""
        job = ctx.exports.get(export_id)
        if job is None or job.user_id != caller.user.id:
            raise NotFound(f"no export {export_id!r}")
        return job

    async def recorded(camera_id: str, stream: StreamName, from_ms: int, to_ms: int) -> bool:
        return bool(await ctx.media.local.timeline(camera_id, stream, from_ms, to_ms))

    @api.post("/exports", status_code=202)
    async def create_export(body: ExportCreate, caller: CallerDep, response: Response) -> ExportJob:
        """Queues an export; it is followed by GET or on the notifications WebSocket."""
        check_span(body.from_ms, body.to_ms, MAX_EXPORT_MS)
        if len(set(body.cameras)) != len(body.cameras):
            raise InvalidInput("cameras: each camera may be named once", field="cameras")
        cameras: list[Camera] = []
        for n, camera_id in enumerate(body.cameras):
            camera = _listed_camera(ctx, caller, camera_id, f"cameras.{n}")
            if not await recorded(camera_id, body.stream, body.from_ms, body.to_ms):
                raise _nothing(camera, body.stream, f"cameras.{n}")
            cameras.append(camera)
        job = await ctx.exports.create(
            caller.actor,
            ExportRequest(
                user_id=caller.user.id,
                camera_ids=body.cameras,
                camera_names=[camera.record.name for camera in cameras],
                stream=body.stream,
                from_ms=body.from_ms,
                to_ms=body.to_ms,
            ),
        )
        response.headers["Location"] = f"/api/v1/exports/{job.id}"
        return job

    @api.get("/exports")
    async def list_exports(caller: CallerDep) -> ExportList:
        """The caller's exports, oldest first."""
        return ExportList(exports=ctx.exports.jobs_of(caller.user.id))

    @api.get("/exports/{export_id}")
    async def get_export(export_id: str, caller: CallerDep) -> ExportJob:
        return own_job(caller, export_id)

    @api.get(
        "/exports/{export_id}/file",
        response_class=FileResponse,
        responses={200: {"content": {MP4: {}, "application/zip": {}}}},
    )
    async def export_file(export_id: str, caller: CallerDep) -> FileResponse:
        """The finished export: an MP4, or a zip of one MP4 per camera."""
        job = own_job(caller, export_id)
        for camera_id in job.cameras:  # rights may have changed since it was made
            visible_camera(ctx, caller, camera_id)
        if job.state != "done":
            raise Conflict(f"the export is {job.state}, not done", state=job.state)
        media_type = MP4 if job.file_name.endswith(".mp4") else "application/zip"
        return FileResponse(ctx.exports.file_of(job), media_type=media_type,
                            filename=job.file_name)  # fmt: skip

    @api.delete("/exports/{export_id}", status_code=204)
    async def delete_export(export_id: str, caller: CallerDep) -> None:
        """Cancels the export if it is not finished; removes it and its file."""
        await ctx.exports.delete(caller.actor, own_job(caller, export_id).id)

    @api.get(
        "/cameras/{camera_id}/export",
        response_class=StreamingResponse,
        responses={200: {"content": {MP4: {}}}},
    )
    async def download_export(
        camera_id: str, caller: CallerDep, span: Annotated[StreamSpan, Depends()]
    ) -> StreamingResponse:
        """One camera's MP4, sent as it is made (fragmented; no job, no progress)."""
        camera = visible_camera(ctx, caller, camera_id)
        span.check(MAX_EXPORT_MS)
        pieces = await ctx.exports.stream(
            caller.actor, camera_id, span.stream, span.from_ms, span.to_ms
        )
        if pieces is None:
            raise _nothing(camera, span.stream, "from_ms")
        (name,) = files.clip_names([camera.record.name], span.from_ms)
        return StreamingResponse(pieces, media_type=MP4, headers=_attachment(name))

    return api


def _listed_camera(ctx: ApiContext, caller: Caller, camera_id: str, field: str) -> Camera:
    """A camera named in a body: one the caller may see (others answer as if missing)."""
    try:
        return visible_camera(ctx, caller, camera_id)
    except NotFound as err:
        raise NotFound(err.message, field=field) from err


def _attachment(name: str) -> dict[str, str]:
    """Content-Disposition for a file name in any script (RFC 6266's filename*)."""
    quoted = quote(name)
    if quoted == name:
        return {"Content-Disposition": f'attachment; filename="{name}"'}
    return {"Content-Disposition": f"attachment; filename*=utf-8''{quoted}"}


def _nothing(camera: Camera, stream: StreamName, field: str) -> NothingRecorded:
    return NothingRecorded(
        f"nothing of {camera.record.name!r} ({stream} stream) is recorded in the range",
        field=field,
        camera_id=camera.id,
    )
