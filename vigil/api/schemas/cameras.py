from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StrictBool, StrictInt

from vigil.api.schemas.common import Name, Patch, Request, Secret, Url
from vigil.api.schemas.recording import RecordingIn, RecordingOut, recording_out
from vigil.cameras.address import StreamUrl, device_service_url
from vigil.cameras.discovery import DiscoveredDevice
from vigil.cameras.models import Camera, FailoverPriority, Transport
from vigil.cameras.scopes import scope_value
from vigil.errors import InvalidInput
from vigil.media.archive.scan import FragmentInfo
from vigil.media.archive.store import Recording
from vigil.media.ingest import StreamStats


def _rtsp_url(value: str) -> str:
    StreamUrl.parse(value)  # ValueError says what is wrong
    return value


RtspUrl = Annotated[Url, AfterValidator(_rtsp_url)]
# host[:port] or http(s)://host[:port][/onvif/device_service], kept as the device service URL
OnvifAddress = Annotated[Url, AfterValidator(device_service_url)]


class StreamStatusOut(BaseModel):
    # connecting, online, offline, unauthorized, error; disabled; unknown (another server's)
    state: str
    reason: str = ""
    since_ms: int | None = None


class RecordingStateOut(BaseModel):
    # recording; paused (by the settings, until an event, until the stream connects); failed
    # (no video from the stream, or the recorder cannot write). Every pause and failure says why.
    state: str
    reason: str = ""
    storage_id: str | None = None  # where the file being written is


class StreamOut(BaseModel):
    url: str
    status: StreamStatusOut
    stats: StreamStats | None  # while online
    recording: RecordingStateOut | None = None  # on the camera's own server, while enabled
    viewers: int | None = None  # live viewers now, on the camera's own server, while enabled


RetentionDays = Annotated[StrictInt, Field(ge=1, le=3650)]


class CameraOut(BaseModel):
    id: str
    name: str
    parent_server_id: str
    acting_server_id: str | None  # who records it while its parent is offline (failover)
    failover: FailoverPriority
    enabled: bool
    transport: Transport
    retention_days: int | None
    recording: RecordingOut
    has_credentials: bool  # the credentials themselves are never sent back
    onvif_address: str | None  # when added by ONVIF
    ptz: bool  # the camera offered PTZ when added by ONVIF
    streams: dict[str, StreamOut]
    created_ms: int


class CameraList(BaseModel):
    cameras: list[CameraOut]


class CameraCreate(Request):
    """A camera by its RTSP URLs, or by its ONVIF address (see `source`)."""

    name: Name | None = None  # required with main_url; with onvif_address, the camera's own
    main_url: RtspUrl | None = None
    sub_url: RtspUrl | None = None
    onvif_address: OnvifAddress | None = None
    username: Secret = ""
    password: Secret = ""
    transport: Transport = "tcp"
    enabled: StrictBool = True
    retention_days: RetentionDays | None = None
    recording: RecordingIn | None = None  # always, both streams, when not given
    parent_server_id: str | None = None  # this server when not given
    failover: FailoverPriority = "never"

    def source(self) -> Literal["rtsp", "onvif"]:
        """Where the streams come from: exactly one of `main_url` and `onvif_address`."""
        if self.onvif_address is not None:
            for field in ("main_url", "sub_url"):
                if getattr(self, field) is not None:
                    raise InvalidInput(
                        f"{field}: leave it out with onvif_address; the camera names its streams",
                        field=field,
                    )
            return "onvif"
        if self.main_url is None:
            raise InvalidInput("main_url: give main_url or onvif_address", field="main_url")
        if self.name is None:
            raise InvalidInput("name: required with main_url", field="name")
        return "rtsp"


class CameraUpdate(Patch):
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
    recording: RecordingIn | None = None  # replaces the settings whole
    parent_server_id: str | None = None
    failover: FailoverPriority | None = None


def camera_out(camera: Camera, streams: dict[str, StreamOut]) -> CameraOut:
    r = camera.record
    return CameraOut(
        id=camera.id,
        name=r.name,
        parent_server_id=r.parent_server_id,
        acting_server_id=r.acting_server_id,
        failover=r.failover,
        enabled=r.enabled,
        transport=r.transport,
        retention_days=r.retention_days,
        recording=recording_out(r.recording),
        has_credentials=bool(r.username or r.password),
        onvif_address=r.onvif_address,
        ptz=r.ptz,
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
    intervals: list[Interval]  # from every server's archive that holds some of it
    partial: bool = False  # some server of the system gave no answer: see missing_servers
    missing_servers: list[str] = []


class RecordingFileOut(BaseModel):
    storage_id: str
    start_ms: int
    end_ms: int
    size: int
    # When each keyframe fragment starts, for seeking; null while the file's storage is away.
    keyframes_ms: list[int] | None


class RecordingsOut(BaseModel):
    camera_id: str
    stream: str
    recordings: list[RecordingFileOut]


def recording_file_out(
    recording: Recording, fragments: list[FragmentInfo] | None
) -> RecordingFileOut:
    keyframes = None
    if fragments is not None:
        keyframes = [recording.start_ms + f.start_ms for f in fragments if f.keyframe]
    return RecordingFileOut(
        storage_id=recording.storage_id,
        start_ms=recording.start_ms,
        end_ms=recording.end_ms,
        size=recording.size,
        keyframes_ms=keyframes,
    )


class DiscoveredOut(BaseModel):
    endpoint: str  # the device's stable id, usually urn:uuid:...
    onvif_addresses: list[str]  # each can be given as onvif_address to add the camera
    name: str | None  # as its scopes say
    hardware: str | None
    scopes: list[str]
    added: bool  # a camera of the system has one of these addresses
    camera_id: str | None  # that camera, when the caller's role may see it


class DiscoveryOut(BaseModel):
    devices: list[DiscoveredOut]


def discovered_out(
    device: DiscoveredDevice, added: dict[str, Camera], may_see: Callable[[str], bool]
) -> DiscoveredOut:
    camera = next((added[a] for a in device.addresses if a in added), None)
    return DiscoveredOut(
        endpoint=device.endpoint,
        onvif_addresses=list(device.addresses),
        name=scope_value(device.scopes, "name"),
        hardware=scope_value(device.scopes, "hardware"),
        scopes=list(device.scopes),
        added=camera is not None,
        camera_id=camera.id if camera is not None and may_see(camera.id) else None,
    )
