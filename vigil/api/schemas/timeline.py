from pydantic import BaseModel

from vigil.api.schemas.cameras import Interval


class CameraTimelineOut(BaseModel):
    camera_id: str
    # Without bucket_ms: what was recorded, merged; what lies between was not recorded.
    intervals: list[Interval] | None = None
    # With bucket_ms: the milliseconds recorded in each bucket, the first from from_ms.
    recorded_ms: list[int] | None = None
    # The servers whose archives hold some of it (its parent, and any that stood in for it).
    recorded_by: list[str] = []


class TimelinesOut(BaseModel):
    stream: str
    from_ms: int
    to_ms: int
    bucket_ms: int | None
    cameras: list[CameraTimelineOut]  # in the order asked for
    partial: bool = False  # some server of the system gave no answer: see missing_servers
    missing_servers: list[str] = []
