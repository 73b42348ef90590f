from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StrictBool, StrictInt

from vigil.api.schemas.common import Name, Request, Secret, Url
from vigil.cameras.models import Camera, Transport
from vigil.media.ingest import StreamStats
from vigil.media.rtsp.client import StreamUrl


def _rtsp_url(value: str) -> str:
    StreamUrl.parse(value)  # ValueError says what is wrong
    return value


RtspUrl = Annotated[Url, AfterValidator(_rtsp_url)]


class StreamStatusOut(BaseModel):
    # connecting, online, offline, unauthorized, error; disabled; unknown (another server's)
    state: str
    reason: str = ""
    since_ms: int | None = None


class StreamOut(BaseModel):
    url: str
    status: StreamStatusOut
    stats: StreamStats | None  # while online


RetentionDays = Annotated[StrictInt, Field(ge=1, le=3650)]


class CameraOut(BaseModel):
    id: str
    name: str
    parent_server_id: str
    enabled: bool
    transport: Transport
    retention_days: int | None
    has_credentials: bool  # the credentials themselves are never sent back
    streams: dict[str, StreamOut]
    created_ms: int


class CameraList(BaseModel):
    cameras: list[CameraOut]


class CameraCreate(Request):
    name: Name
    main_url: RtspUrl
    sub_url: RtspUrl | None = None
    username: Secret = ""
    password: Secret = ""
    transport: Transport = "tcp"
    enabled: StrictBool = True
    retention_days: RetentionDays | None = None
    parent_server_id: str | None = None  # this server when not given


class CameraUpdate(Request):
    """Only the fields given change; `sub_url: ""` removes the sub stream."""

    name: Name | None = None
    main_url: RtspUrl | None = None
    sub_url: RtspUrl | Literal[""] | None = None
    username: Secret | None = None
    password: Secret | None = None
    transport: Transport | None = None
    enabled: StrictBool | None = None
    # 0 removes the limit (recordings are kept until space runs out).
    retention_days: RetentionDays | Literal[0] | None = None
    parent_server_id: str | None = None


def camera_out(camera: Camera, streams: dict[str, StreamOut]) -> CameraOut:
    r = camera.record
    return CameraOut(
        id=camera.id,
        name=r.name,
        parent_server_id=r.parent_server_id,
        enabled=r.enabled,
        transport=r.transport,
        retention_days=r.retention_days,
        has_credentials=bool(r.username or r.password),
        streams=streams,
        created_ms=r.created_ms,
    )


class Interval(BaseModel):
    start_ms: int
    end_ms: int


class TimelineOut(BaseModel):
    """Recorded intervals, merged; what lies between them was not recorded."""

    camera_id: str
    stream: str
    intervals: list[Interval]
