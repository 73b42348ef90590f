"""The events of this server's cameras: one pull point subscriber per camera, and who listens.

Follows the cameras in the system document, as the media service does: after every change
(made here or by a peer) the subscribers are brought in line with it. A camera gets one when
it was added by ONVIF, is enabled and this server is its parent; a change of its address or
credentials replaces it.

Consumers (the recorder's event mode now, the event bus and its rules later) either `listen`
to every event as it arrives or read a camera's `state`: its subscription, whether motion or
any other property is on now, and its last events. A property's state is the camera's last
word on it: when the subscription is lost it stays as it was, and the state's subscription
says it may be stale; a new subscription starts with the camera's current state of each.
"""

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from vigil.cameras.models import Camera
from vigil.cameras.notifications import CameraEvent, plain_topic
from vigil.cameras.onvif import OnvifEndpoint
from vigil.cameras.pullpoint import PullPointSubscriber, SubscriptionStatus
from vigil.clock import Clock
from vigil.tasks import Follower

logger = logging.getLogger(__name__)

RECENT_EVENTS = 20
EventListener = Callable[[CameraEvent], None]


@dataclass(frozen=True)
class CameraEventState:
    subscription: SubscriptionStatus
    motion: bool  # some motion property of the camera is on
    active: bool  # some property is on: motion, an input, or another that says true or false
    recent: tuple[CameraEvent, ...]  # oldest first, at most RECENT_EVENTS


class _Camera:
    """One camera's subscriber and what it has said."""

    def __init__(self, subscriber: PullPointSubscriber) -> None:
        self.subscriber = subscriber
        self.recent: deque[CameraEvent] = deque(maxlen=RECENT_EVENTS)
        # (kind, topic, source) → on: one entry per property the camera reports.
        self.properties: dict[tuple[str, str, tuple[tuple[str, str], ...]], bool] = {}

    def record(self, event: CameraEvent) -> None:
        self.recent.append(event)
        key = (event.kind, plain_topic(event.topic), tuple(sorted(event.source.items())))
        if event.operation == "Deleted":
            self.properties.pop(key, None)
        elif event.active is not None and (event.operation or event.kind != "other"):
            # Motion and inputs are properties even from cameras that leave out the
            # operation; another topic is one only when the camera says so.
            self.properties[key] = event.active

    def state(self) -> CameraEventState:
        on = [kind for (kind, _, _), active in self.properties.items() if active]
        return CameraEventState(
            subscription=self.subscriber.status,
            motion="motion" in on,
            active=bool(on),
            recent=tuple(self.recent),
        )


class CameraEvents:
    def __init__(self, server_id: str, cameras: Callable[[], list[Camera]], clock: Clock) -> None:
        self._server_id = server_id
        self._cameras = cameras
        self._clock = clock
        self._watched: dict[str, _Camera] = {}
        self._listeners: list[EventListener] = []
        self._follower = Follower("events: follow cameras", self._sync)

    async def start(self) -> None:
        self._follower.start()

    async def stop(self) -> None:
        await self._follower.stop()
        await asyncio.gather(*(camera.subscriber.stop() for camera in self._watched.values()))
        self._watched.clear()

    def cameras_changed(self) -> None:
        """The system document changed; the subscribers are brought in line soon after."""
        self._follower.changed()

    def listen(self, listener: EventListener) -> Callable[[], None]:
        """Call `listener` with every event of every camera of this server, on the event loop,
        as it arrives; it must not block. Returns the function that stops the calls."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def state(self, camera_id: str) -> CameraEventState | None:
        """None when this server does not subscribe to the camera's events."""
        camera = self._watched.get(camera_id)
        return camera.state() if camera is not None else None

    async def _sync(self) -> None:
        wanted: dict[str, OnvifEndpoint] = {}
        for camera in self._cameras():
            record = camera.record
            endpoint = OnvifEndpoint.of(record)
            if record.recording_server_id == self._server_id and record.enabled and endpoint:
                wanted[camera.id] = endpoint
        for camera_id, watched in list(self._watched.items()):
            if wanted.get(camera_id) != watched.subscriber.endpoint:
                del self._watched[camera_id]
                await watched.subscriber.stop()
        for camera_id, endpoint in wanted.items():
            if camera_id not in self._watched:
                subscriber = PullPointSubscriber(camera_id, endpoint, self._deliver, self._clock)
                self._watched[camera_id] = _Camera(subscriber)
                subscriber.start()

    def _deliver(self, event: CameraEvent) -> None:
        camera = self._watched.get(event.camera_id)
        if camera is None:
            return  # its subscriber is being stopped
        camera.record(event)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                logger.exception("event listener failed", extra={"camera_id": event.camera_id})
