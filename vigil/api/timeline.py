"""The timeline of many cameras in one call: recorded intervals, or for a zoomed-out view the
time recorded per bucket (docs/api.md, Timeline)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from vigil.api.access import CallerDep
from vigil.api.cameras import MAX_TIMELINE_MS, CameraIds, StreamSpan, camera_ids, visible_camera
from vigil.api.context import ApiContext
from vigil.api.schemas.cameras import Interval
from vigil.api.schemas.timeline import CameraTimelineOut, TimelinesOut
from vigil.errors import InvalidInput
from vigil.media.playback.session import MAX_CAMERAS  # the timeline under a playback grid

# Intervals are listed from the index's rows (about one a minute of archive per camera);
# further out, buckets are summed by the index instead.
MAX_INTERVALS_MS = 7 * 86_400_000
MAX_BUCKETS = 10_000
MIN_BUCKET_MS = 1_000


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["cameras"])

    @api.get("/timeline")
    async def timeline(
        caller: CallerDep,
        cameras: CameraIds,
        span: Annotated[StreamSpan, Depends()],
        bucket_ms: Annotated[int | None, Query(ge=MIN_BUCKET_MS, le=MAX_TIMELINE_MS)] = None,
    ) -> TimelinesOut:
        """What each camera recorded over a range: intervals (at most 7 days), or with
        `bucket_ms` the milliseconds recorded per bucket (at most 400 days, 10,000 buckets)."""
        ids = camera_ids(cameras, MAX_CAMERAS)
        for camera_id in ids:
            visible_camera(ctx, caller, camera_id)
        if bucket_ms is None:
            span.check(MAX_INTERVALS_MS)
        else:
            span.check(MAX_TIMELINE_MS)
            if -(-(span.to_ms - span.from_ms) // bucket_ms) > MAX_BUCKETS:
                raise InvalidInput(
                    f"bucket_ms: at most {MAX_BUCKETS} buckets per request; make them longer",
                    field="bucket_ms",
                )
        found = []
        # One camera at a time: the database serves other requests between them.
        for camera_id in ids:
            if bucket_ms is None:
                spans = await ctx.media.timeline(camera_id, span.stream, span.from_ms, span.to_ms)
                intervals = [Interval(start_ms=start, end_ms=end) for start, end in spans]
                found.append(CameraTimelineOut(camera_id=camera_id, intervals=intervals))
            else:
                recorded = await ctx.media.recorded_ms(
                    camera_id, span.stream, span.from_ms, span.to_ms, bucket_ms
                )
                found.append(CameraTimelineOut(camera_id=camera_id, recorded_ms=recorded))
        return TimelinesOut(stream=span.stream, from_ms=span.from_ms, to_ms=span.to_ms,
                            bucket_ms=bucket_ms, cameras=found)  # fmt: skip

    return api
