"""A camera's events as its subscription brings them: the state now and the last few."""

from fastapi import APIRouter

from vigil.api.access import CallerDep
from vigil.api.cameras import visible_camera
from vigil.api.context import ApiContext
from vigil.api.schemas.camera_events import CameraEventsOut, SubscriptionOut
from vigil.cameras.models import Camera


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(prefix="/api/v1/cameras", tags=["cameras"])

    @api.get("/{camera_id}/events/state")
    async def camera_events_state(camera_id: str, caller: CallerDep) -> CameraEventsOut:
        camera = visible_camera(ctx, caller, camera_id)
        state = ctx.camera_events.state(camera_id)
        if state is None:
            return CameraEventsOut(
                camera_id=camera_id,
                subscription=_not_subscribed(ctx, camera),
                motion=False,
                active=False,
                last_events=[],
            )
        status = state.subscription
        return CameraEventsOut(
            camera_id=camera_id,
            subscription=SubscriptionOut(
                state=status.state, reason=status.reason, since_ms=status.since_ms
            ),
            motion=state.motion,
            active=state.active,
            last_events=list(state.recent),
        )

    return api


def _not_subscribed(ctx: ApiContext, camera: Camera) -> SubscriptionOut:
    """Why this server has no subscription to the camera's events."""
    record = camera.record
    if not record.onvif_address:
        return SubscriptionOut(state="none", reason="added by RTSP address, without ONVIF")
    if not record.enabled:
        return SubscriptionOut(state="disabled")
    if record.recording_server_id != ctx.system.server_id:
        return SubscriptionOut(state="unknown", reason="subscribed by another server")
    # Added a moment ago: the subscriber starts as soon as the document change is seen.
    return SubscriptionOut(state="connecting")
