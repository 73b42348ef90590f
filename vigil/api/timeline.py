"""The timeline of many cameras in one call: recorded intervals, or for a zoomed-out view the
time recorded per bucket (docs/api.md, Timeline)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from vigil.api import fanout
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
        gathered = await fanout.everywhere(ctx, "timeline", {
            "cameras": ids, "stream": span.stream, "from_ms": span.from_ms,
            "to_ms": span.to_ms, "bucket_ms": bucket_ms,
        })  # fmt: skip
        found = [_merged(camera_id, bucket_ms, gathered.answers) for camera_id in ids]
        return TimelinesOut(stream=span.stream, from_ms=span.from_ms, to_ms=span.to_ms,
                            bucket_ms=bucket_ms, cameras=found, partial=bool(gathered.missing),
                            missing_servers=gathered.missing)  # fmt: skip

    return api


@fanout.answers("timeline")
async def timeline_here(ctx: ApiContext, body: dict[str, Any]) -> dict[str, Any]:
    """What this server's archive holds of the cameras: intervals, or time per bucket."""
    stream, from_ms, to_ms = body["stream"], body["from_ms"], body["to_ms"]
    bucket_ms = body["bucket_ms"]
    found: dict[str, Any] = {}
    # One camera at a time: the database serves other requests between them.
    for camera_id in body["cameras"]:
        if bucket_ms is None:
            found[camera_id] = await ctx.media.local.timeline(camera_id, stream, from_ms, to_ms)
        else:
            found[camera_id] = await ctx.media.local.recorded_ms(
                camera_id, stream, from_ms, to_ms, bucket_ms
            )
    return {"cameras": found}


def _merged(
    camera_id: str, bucket_ms: int | None, answers: dict[str, dict[str, Any]]
) -> CameraTimelineOut:
    held = {server_id: answer["cameras"].get(camera_id) or []
            for server_id, answer in answers.items()}  # fmt: skip
    recorded_by = sorted(server_id for server_id, found in held.items() if any(found))
    if bucket_ms is None:
        spans = [span for found in held.values() for span in found]
        intervals = [Interval(start_ms=s, end_ms=e) for s, e in fanout.union(spans)]
        return CameraTimelineOut(camera_id=camera_id, intervals=intervals,
                                 recorded_by=recorded_by)  # fmt: skip
    # Every server counts the same buckets; two that recorded at once count a bucket once.
    columns = zip(*(found for found in held.values() if found), strict=True)
    recorded = [min(sum(column), bucket_ms) for column in columns]
    return CameraTimelineOut(camera_id=camera_id, recorded_ms=recorded, recorded_by=recorded_by)
