"""One camera's ONVIF events, pulled: subscribe, pull, renew, and subscribe again after failures.

PullPoint rather than Basic Notification: the server asks and the camera answers, so no
connection ever goes from the camera to the server, and a camera behind NAT or a firewall
delivers events as long as its video reaches us. Every topic is subscribed (no filter):
recording "on any event" needs them all, and some cameras refuse filters they do not know.

The loop, per connection: read the camera's services (`update_xaddrs`, which also measures
its clock offset so signed requests are not refused), CreatePullPointSubscription, then
PullMessages (the camera holds each up to `PULL_WAIT_S` until something happens), renewing
when half of the subscription's lifetime has passed. Any failure ends the connection; the
next one comes after a backoff that doubles up to `MAX_RETRY_S` and starts again from
`FIRST_RETRY_S` after a connection that pulled. Every request has its own deadline, as the
library's own timeouts are 30 to 90 s. Stopping unsubscribes, within a deadline too.
"""

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from vigil.cameras.errors import CameraError, CameraUnauthorized, CameraUnreachable
from vigil.cameras.notifications import CameraEvent, parse_notification
from vigil.cameras.onvif import OnvifEndpoint, camera_error, connect
from vigil.clock import Clock
from vigil.tasks import cancel_and_wait

if TYPE_CHECKING:
    import zeep.exceptions

logger = logging.getLogger(__name__)

LIFETIME = dt.timedelta(seconds=60)  # asked for at each subscribe and renewal
MIN_RENEW_S = 5.0  # however short a lifetime the camera grants
PULL_WAIT_S = 10  # how long the camera may hold a PullMessages open
MESSAGE_LIMIT = 100
REQUEST_S = 10.0  # a request's deadline, beyond any wait the request asks for
UNSUBSCRIBE_S = 2.0
FIRST_RETRY_S, MAX_RETRY_S = 1.0, 30.0
_PULLPOINT_PORT = "http://www.onvif.org/ver10/events/wsdl/PullPointSubscription"


class SubscriptionState(StrEnum):
    CONNECTING = "connecting"
    SUBSCRIBED = "subscribed"
    UNREACHABLE = "unreachable"
    UNAUTHORIZED = "unauthorized"
    UNSUPPORTED = "unsupported"  # an ONVIF camera without pull point events
    ERROR = "error"  # it answers, but not as it should


@dataclass(frozen=True)
class SubscriptionStatus:
    state: SubscriptionState
    reason: str
    since_ms: int


class EventsUnsupported(CameraError):
    code = "events_unsupported"


class SubscriptionEnded(CameraError):
    """The camera no longer knows the subscription: it restarted, or let it expire."""

    code = "subscription_ended"


# What a camera (or the way to it) does to a subscription; anything else is looked into.
_EXPECTED = (CameraUnreachable, CameraUnauthorized, EventsUnsupported, SubscriptionEnded)


class PullPointSubscriber:
    def __init__(
        self,
        camera_id: str,
        endpoint: OnvifEndpoint,
        on_event: Callable[[CameraEvent], None],
        clock: Clock,
    ) -> None:
        self.camera_id = camera_id
        self.endpoint = endpoint
        self._on_event = on_event
        self._clock = clock
        self._status = SubscriptionStatus(SubscriptionState.CONNECTING, "", clock.now_ms())
        self._task: asyncio.Task[None] | None = None

    @property
    def status(self) -> SubscriptionStatus:
        return self._status

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"events {self.camera_id}")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    def _set(self, state: SubscriptionState, reason: str = "") -> None:
        if (state, reason) == (self._status.state, self._status.reason):
            return
        self._status = SubscriptionStatus(state, reason, self._clock.now_ms())
        logger.info("camera events", extra={"camera_id": self.camera_id, "state": state,
                                            "reason": reason})  # fmt: skip

    async def _run(self) -> None:
        retry_s = FIRST_RETRY_S
        while True:
            # A failure's state stays through the retries, until one succeeds or fails
            # otherwise: "unauthorized since …" rather than a flicker with "connecting".
            connection = _Connection(self.endpoint)
            try:
                await connection.subscribe()
                self._set(SubscriptionState.SUBSCRIBED)
                while True:
                    for message in await connection.pull():
                        self._deliver(message)
            except Exception as err:
                failure = camera_error(err, self.endpoint.address, REQUEST_S)
                if not isinstance(failure, _EXPECTED):
                    logger.warning("camera events failed", exc_info=err,
                                   extra={"camera_id": self.camera_id})  # fmt: skip
                self._failed(failure)
            finally:
                await connection.close()
            if connection.pulled:  # it worked for a while: a new failure, not the old one
                retry_s = FIRST_RETRY_S
            await asyncio.sleep(retry_s)
            retry_s = min(retry_s * 2, MAX_RETRY_S)

    def _deliver(self, message: Any) -> None:
        event = parse_notification(self.camera_id, message, self._clock.now_ms())
        if event is not None:
            self._on_event(event)

    def _failed(self, err: CameraError) -> None:
        if isinstance(err, CameraUnreachable):
            self._set(SubscriptionState.UNREACHABLE, err.message)
        elif isinstance(err, CameraUnauthorized):
            self._set(SubscriptionState.UNAUTHORIZED, err.message)
        elif isinstance(err, EventsUnsupported):
            self._set(SubscriptionState.UNSUPPORTED, err.message)
        elif isinstance(err, SubscriptionEnded):
            self._set(SubscriptionState.CONNECTING, err.message)
        else:
            self._set(SubscriptionState.ERROR, err.message)


class _Connection:
    """One subscription on one client of the camera."""

    def __init__(self, endpoint: OnvifEndpoint) -> None:
        self._address = endpoint.address
        self._camera = connect(endpoint.address, endpoint.username, endpoint.password)
        self._manager: Any = None  # the subscription's Renew and Unsubscribe
        self._pullpoint: Any = None
        self._renew_at = 0.0
        self.pulled = False

    async def subscribe(self) -> None:
        import zeep.exceptions  # loaded with the SOAP stack (cameras/onvif.py)
        from onvif.exceptions import ONVIFError

        camera = self._camera
        async with asyncio.timeout(REQUEST_S):
            await camera.update_xaddrs()
        try:
            events = await camera.create_events_service()
        except ONVIFError as err:
            raise EventsUnsupported(f"{self._address} offers no events service") from err
        try:
            async with asyncio.timeout(REQUEST_S):
                created = await events.CreatePullPointSubscription(
                    {"InitialTerminationTime": camera.get_next_termination_time(LIFETIME)}
                )
        except zeep.exceptions.Fault as err:
            _raise_if_unauthorized(err, self._address)
            raise EventsUnsupported(
                f"{self._address} refused a pull point subscription: {str(err.message)[:200]}"
            ) from err
        camera.xaddrs[_PULLPOINT_PORT] = camera.rewrite_url(
            created.SubscriptionReference.Address._value_1
        )
        self._manager = await camera.create_subscription_service("PullPointSubscription")
        self._pullpoint = await camera.create_pullpoint_service()
        if camera.has_broken_relative_time(LIFETIME, created.CurrentTime, created.TerminationTime):
            # It took "PT60S" wrongly; the library now words lifetimes as absolute times.
            await self._renew()
        else:
            self._schedule_renewal(created)

    async def pull(self) -> list[Any]:
        """The next messages: waits up to PULL_WAIT_S for the first; renews when due."""
        import zeep.exceptions

        try:
            if asyncio.get_running_loop().time() >= self._renew_at:
                await self._renew()
            async with asyncio.timeout(PULL_WAIT_S + REQUEST_S):
                answer = await self._pullpoint.PullMessages(
                    {"Timeout": f"PT{PULL_WAIT_S}S", "MessageLimit": MESSAGE_LIMIT}
                )
        except zeep.exceptions.Fault as err:
            _raise_if_unauthorized(err, self._address)
            raise SubscriptionEnded(
                f"the camera ended the subscription: {str(err.message)[:200]}"
            ) from err
        self.pulled = True
        return list(answer.NotificationMessage or [])

    async def close(self) -> None:
        """Unsubscribe as a courtesy (the camera forgets it at its termination time anyway)."""
        try:
            if self._manager is not None:
                async with asyncio.timeout(UNSUBSCRIBE_S):
                    await self._manager.Unsubscribe()
        except Exception as err:
            logger.debug("unsubscribe failed", extra={"address": self._address,
                                                      "error": type(err).__name__})  # fmt: skip
        finally:
            await self._camera.close()

    async def _renew(self) -> None:
        async with asyncio.timeout(REQUEST_S):
            renewed = await self._manager.Renew(self._camera.get_next_termination_time(LIFETIME))
        self._schedule_renewal(renewed)

    def _schedule_renewal(self, answer: Any) -> None:
        current, termination = answer.CurrentTime, answer.TerminationTime
        lifetime_s = (
            (termination - current).total_seconds()
            if current is not None and termination is not None
            else LIFETIME.total_seconds()
        )
        self._renew_at = asyncio.get_running_loop().time() + max(lifetime_s / 2, MIN_RENEW_S)


def _raise_if_unauthorized(fault: "zeep.exceptions.Fault", address: str) -> None:
    failure = camera_error(fault, address, REQUEST_S)
    if isinstance(failure, CameraUnauthorized):
        raise failure from fault
