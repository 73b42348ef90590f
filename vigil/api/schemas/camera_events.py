from pydantic import BaseModel

from vigil.cameras.notifications import CameraEvent


class SubscriptionOut(BaseModel):
    # connecting, subscribed, unreachable, unauthorized, unsupported, error; none (not added
    # by ONVIF), disabled; unknown (another server's camera)
    state: str
    reason: str = ""
    since_ms: int | None = None


class CameraEventsOut(BaseModel):
    """What the camera's events say now, as its parent server heard them."""

    camera_id: str
    subscription: SubscriptionOut
    motion: bool  # the camera reports motion
    active: bool  # the camera reports some property on: motion, an input, …
    last_events: list[CameraEvent]  # oldest first
