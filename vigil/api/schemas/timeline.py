from pydantic import BaseModel

from vigil.api.schemas.cameras import Interval


class CameraTimelineOut(BaseModel):
    camera_id: str
    # Without bucket_ms: what was recorded, merged; what lies between was not recorded.
    intervals: list[Interval] | None = None
    # With bucket_ms: the milliseconds recorded in each bucket, the first from from_ms.
    recorded_ms: list[int] | None = None


class TimelinesOut(BaseModel):
    stream: str
    from_ms: int
    to_ms: int
    bucket_ms: int | None
    cameras: list[CameraTimelineOut]  # in the order asked for
