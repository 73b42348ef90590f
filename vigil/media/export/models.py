"""An export job as its user sees it: over the API and in its notifications."""

from typing import Literal

from pydantic import BaseModel, ConfigDict

from vigil.cameras.models import StreamName

ExportState = Literal["queued", "running", "done", "failed", "cancelled"]


class GapOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    from_ms: int
    to_ms: int


class ClipOut(BaseModel):
    """What one camera's MP4 holds: from its first keyframe on, without the gaps."""

    model_config = ConfigDict(frozen=True)

    camera_id: str
    file_name: str  # in the zip, for several cameras
    start_ms: int | None  # the keyframe at or before the range's start; None: nothing found
    end_ms: int | None
    duration_ms: int  # of the video: shorter than end - start by the gaps
    gaps: list[GapOut]


class ExportJob(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    user_id: str
    state: ExportState
    cameras: list[str]
    stream: StreamName
    from_ms: int
    to_ms: int
    percent: float  # 0 to 100
    eta_s: int | None  # time left, estimated while running
    bytes: int  # written so far; the file's size when done
    error: str | None
    file_name: str  # an MP4 for one camera, a zip of one MP4 per camera for several
    clips: list[ClipOut]  # per camera, as far as done
    created_ms: int
    started_ms: int | None
    finished_ms: int | None
    expires_ms: int | None  # when a finished job and its file are removed
