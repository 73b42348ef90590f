"""Cameras: configuration, status and live stats."""

from dataclasses import asdict, dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from vigil.api import fanout
from vigil.api.access import Caller, CallerDep
from vigil.api.context import ApiContext
from vigil.api.schemas.cameras import (
    CameraCreate,
    CameraList,
    CameraOut,
    CameraUpdate,
    DiscoveryOut,
    Interval,
    RecordingsOut,
    RecordingStateOut,
    StreamOut,
    StreamStatusOut,
    TimelineOut,
    camera_out,
    discovered_out,
    recording_file_out,
)
from vigil.api.schemas.common import changes_of
from vigil.cameras.discovery import DiscoveredDevice
from vigil.cameras.models import Camera, StreamName
from vigil.cameras.onvif import OnvifDevice
from vigil.clock import MAX_TIME_MS
from vigil.errors import InvalidInput, NotFound
from vigil.media.service import STREAMS

MAX_TIMELINE_MS = 400 * 86_400_000
MAX_RECORDINGS_MS = 86_400_000


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(prefix="/api/v1/cameras", tags=["cameras"])

    def out(camera: Camera) -> CameraOut:
        streams: dict[str, StreamOut] = {}
        for stream in STREAMS:
            url = camera.record.url_of(stream)
            if url is not None:
                streams[stream] = _stream_out(ctx, camera, stream, url)
        return camera_out(camera, streams)

    def visible(caller: Caller, camera_id: str) -> Camera:
        return visible_camera(ctx, caller, camera_id)

    @api.get("")
    async def list_cameras(caller: CallerDep) -> CameraList:
        rights = caller.role.rights
        return CameraList(
            cameras=[out(c) for c in ctx.cameras.all() if rights.may_see_camera(c.id)]
        )

    @api.post("", status_code=201)
    async def add_camera(body: CameraCreate, caller: CallerDep) -> CameraOut:
        source = body.source()
        fields = body.model_dump(exclude={"recording"})
        if body.recording is not None:
            fields["recording"] = body.recording.settings()
        parent = fields["parent_server_id"] = fields["parent_server_id"] or ctx.system.server_id
        if source == "onvif" and parent != ctx.system.server_id and parent in ctx.system.records():
            # Read by the server that will record it: the camera is on its network.
            asked = {key: fields[key] for key in ("onvif_address", "username", "password")}
            device = OnvifDevice(**await fanout.at(ctx, parent, "onvif_read", asked))
            return out(await ctx.cameras.add_by_onvif(caller.actor, fields, device))
        if source == "onvif":
            return out(await ctx.cameras.add_by_onvif(caller.actor, fields))
        return out(await ctx.cameras.add(caller.actor, fields))

    # Before /{camera_id}, which would take "discovery" for an id.
    @api.get("/discovery")
    async def discover_cameras(
        caller: CallerDep,
        wait_ms: Annotated[int, Query(ge=200, le=10_000)] = 2000,
        server_id: Annotated[str | None, Query(max_length=64, description="on its network")] = None,
    ) -> DiscoveryOut:
        """Cameras that answer WS-Discovery on this server's network, or `server_id`'s."""
        server_id = server_id or ctx.system.server_id
        if server_id not in ctx.system.records():
            raise NotFound(f"no server {server_id!r} in this system", field="server_id")
        found = await fanout.at(ctx, server_id, "discover", {"wait_ms": wait_ms})
        devices = [DiscoveredDevice(d["endpoint"], tuple(d["addresses"]), tuple(d["scopes"]))
                   for d in found["devices"]]  # fmt: skip
        added = ctx.cameras.by_onvif_address()
        may_see = caller.role.rights.may_see_camera
        return DiscoveryOut(devices=[discovered_out(d, added, may_see) for d in devices])

    @api.get("/{camera_id}")
    async def get_camera(camera_id: str, caller: CallerDep) -> CameraOut:
        return out(visible(caller, camera_id))

    @api.patch("/{camera_id}")
    async def update_camera(camera_id: str, body: CameraUpdate, caller: CallerDep) -> CameraOut:
        visible(caller, camera_id)
        changes: dict[str, Any] = changes_of(body)
        if body.recording is not None:
            changes["recording"] = body.recording.settings().model_dump(mode="json")
        if changes.get("sub_url") == "":
            changes["sub_url"] = None
        if changes.get("retention_days") == 0:
            changes["retention_days"] = None
        return out(await ctx.cameras.update(caller.actor, camera_id, changes))

    @api.get("/{camera_id}/timeline")
    async def camera_timeline(
        camera_id: str, caller: CallerDep, span: Annotated[StreamSpan, Depends()]
    ) -> TimelineOut:
        visible(caller, camera_id)
        span.check(MAX_TIMELINE_MS)
        body = {"cameras": [camera_id], "stream": span.stream, "from_ms": span.from_ms,
                "to_ms": span.to_ms, "bucket_ms": None}  # fmt: skip
        gathered = await fanout.everywhere(ctx, "timeline", body)
        spans = [s for answer in gathered.answers.values() for s in answer["cameras"][camera_id]]
        return TimelineOut(
            camera_id=camera_id,
            stream=span.stream,
            intervals=[Interval(start_ms=start, end_ms=end) for start, end in fanout.union(spans)],
            partial=bool(gathered.missing),
            missing_servers=gathered.missing,
        )

    @api.get("/{camera_id}/recordings")
    async def camera_recordings(
        camera_id: str, caller: CallerDep, span: Annotated[StreamSpan, Depends()]
    ) -> RecordingsOut:
        """The closed files of a stream over at most a day, with their keyframes."""
        visible(caller, camera_id)
        span.check(MAX_RECORDINGS_MS)
        found = await ctx.media.local.recordings(camera_id, span.stream, span.from_ms, span.to_ms)
        return RecordingsOut(
            camera_id=camera_id,
            stream=span.stream,
            recordings=[recording_file_out(r, fragments) for r, fragments in found],
        )

    @api.delete("/{camera_id}", status_code=204)
    async def delete_camera(camera_id: str, caller: CallerDep) -> None:
        visible(caller, camera_id)
        await ctx.cameras.delete(caller.actor, camera_id)

    return api


@fanout.answers("onvif_read")
async def onvif_read_here(ctx: ApiContext, body: dict[str, Any]) -> dict[str, Any]:
    device = await ctx.cameras.read_onvif(body["onvif_address"], body["username"],
                                          body["password"])  # fmt: skip
    return asdict(device)


@fanout.answers("discover")
async def discover_here(ctx: ApiContext, body: dict[str, Any]) -> dict[str, Any]:
    devices = await ctx.discovery.probe(body["wait_ms"] / 1000)
    return {"devices": [asdict(device) for device in devices]}


@dataclass
class StreamSpan:
    """A stream of a camera over a range of time, as query parameters."""

    from_ms: Annotated[int, Query(ge=0, le=MAX_TIME_MS)]
    to_ms: Annotated[int, Query(ge=0, le=MAX_TIME_MS)]
    stream: StreamName = "main"

    def check(self, longest_ms: int) -> None:
        check_span(self.from_ms, self.to_ms, longest_ms)


def check_span(from_ms: int, to_ms: int, longest_ms: int) -> None:
    """A range of time asked for: `to_ms` after `from_ms`, at most `longest_ms` long."""
    if to_ms <= from_ms:
        raise InvalidInput("to_ms must be after from_ms", field="to_ms")
    if to_ms - from_ms > longest_ms:
        days, hours = longest_ms / 86_400_000, longest_ms / 3_600_000
        longest = f"{days:g} days" if days >= 2 else f"{hours:g} hours"
        raise InvalidInput(f"ask for at most {longest} at a time", field="to_ms")


# A comma-separated list of up to 64 camera ids (`camera_ids` checks it).
CameraIds = Annotated[str, Query(min_length=1, max_length=64 * 65)]


def camera_ids(cameras: str, most: int) -> list[str]:
    """The ids of a `cameras` query: 1 to `most`, each once."""
    ids = [part.strip() for part in cameras.split(",") if part.strip()]
    if not ids or len(ids) > most or len(set(ids)) != len(ids):
        raise InvalidInput(
            f"cameras: a comma-separated list of 1 to {most} different camera ids",
            field="cameras",
        )
    return ids


def visible_camera(ctx: ApiContext, caller: Caller, camera_id: str) -> Camera:
    # A camera the role may not see answers as if it did not exist.
    if not caller.role.rights.may_see_camera(camera_id):
        raise NotFound(f"no camera {camera_id!r}")
    return ctx.cameras.require(camera_id)


def _stream_out(ctx: ApiContext, camera: Camera, stream: StreamName, url: str) -> StreamOut:
    """The stream's status and stats as this server knows them."""
    record = camera.record
    if not record.enabled:
        return StreamOut(url=url, status=StreamStatusOut(state="disabled"), stats=None)
    if record.recording_server_id != ctx.system.server_id:
        remote = StreamStatusOut(state="unknown", reason="recorded by another server")
        return StreamOut(url=url, status=remote, stats=None)
    status, stats = ctx.media.stream_state(camera, stream)
    state = ctx.media.recording_state(camera, stream)
    recording = RecordingStateOut(**asdict(state)) if state is not None else None
    viewers = ctx.media.viewers(camera.id, stream)
    if status is None:
        connecting = StreamStatusOut(state="connecting")
        return StreamOut(url=url, status=connecting, stats=None, recording=recording,
                         viewers=viewers)  # fmt: skip
    return StreamOut(
        url=url,
        status=StreamStatusOut(state=status.state, reason=status.reason, since_ms=status.since_ms),
        stats=stats,
        recording=recording,
        viewers=viewers,
    )
