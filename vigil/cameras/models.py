"""A camera as stored in the system document (replicated to every server)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from vigil.cameras.recording import RecordingSettings

Transport = Literal["tcp", "udp"]
StreamName = Literal["main", "sub"]
# Which cameras other servers take over first when the parent is offline (never: none).
FailoverPriority = Literal["never", "low", "medium", "high"]


class CameraRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    parent_server_id: str  # the one server that pulls and records it
    # While the parent is offline, the server that stands in for it (cameras/failover.py).
    acting_server_id: str | None = None
    failover: FailoverPriority = "never"
    enabled: bool = True
    main_url: str  # rtsp://, without credentials
    sub_url: str | None = None
    # Where the camera's ONVIF device service is (vigil.cameras.address form), when it was
    # added by ONVIF: PTZ and events reach it there.
    onvif_address: str | None = None
    # Whether the camera offered PTZ when it was added by ONVIF (a PTZ service and a profile to
    # move by); a hint for clients, as PTZ requests ask the camera itself.
    ptz: bool = False
    # Credentials (RTSP and ONVIF alike) are needed in clear to log in to the camera; they never
    # leave the servers (API answers say only whether they are set, logs never carry them).
    username: str = ""
    password: str = Field(default="", repr=False)
    transport: Transport = "tcp"
    # Recordings older than this many days are deleted; None keeps them until space runs out.
    retention_days: int | None = None
    recording: RecordingSettings = RecordingSettings()
    created_ms: int

    @property
    def recording_server_id(self) -> str:
        """The server that pulls and records it now: its parent, or who stands in for it."""
        return self.acting_server_id or self.parent_server_id

    def url_of(self, stream: StreamName) -> str | None:
        return self.main_url if stream == "main" else self.sub_url


class Camera(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    record: CameraRecord
