"""Pull point subscriptions: each queues the camera's events until the client pulls them.

A subscription ends when the client unsubscribes or when its termination time passes without
a renewal; expired ones are swept whenever subscriptions are touched, so no task is needed.
"""

import asyncio
import secrets
from collections import deque
from collections.abc import Callable

from vigil.clock import Clock
from vigil.testcamera.camera import CameraEvent, EventSources

# Beyond these the oldest unread events are dropped, and new subscriptions are refused, as a
# camera with bounded memory does.
QUEUE_LIMIT = 1000
SUBSCRIPTION_LIMIT = 64


class SubscriptionLimitReached(Exception):
    pass


class PullPoint:
    def __init__(
        self,
        subscription_id: str,
        events: EventSources,
        accepts: Callable[[str], bool],
        termination_s: float,
    ) -> None:
        self.id = subscription_id
        self.termination_s = termination_s
        self._accepts = accepts
        self._queue: deque[CameraEvent] = deque(maxlen=QUEUE_LIMIT)
        self._arrived = asyncio.Event()
        self._closed = False
        self._events = events
        self._stop_listening = events.listen(self._offer)
        self.synchronize()

    def synchronize(self) -> None:
        """Queue the state of every source, as after subscribing (SetSynchronizationPoint)."""
        for event in self._events.current():
            self._offer(event)

    async def pull(self, limit: int, timeout_s: float) -> list[CameraEvent]:
        """Up to `limit` events; waits up to `timeout_s` for the first if none is queued."""
        if not self._queue and not self._closed:
            self._arrived.clear()
            try:
                async with asyncio.timeout(timeout_s):
                    await self._arrived.wait()
            except TimeoutError:
                pass
        count = min(limit, len(self._queue))
        return [self._queue.popleft() for _ in range(count)]

    def close(self) -> None:
        self._closed = True
        self._stop_listening()
        self._arrived.set()  # wakes a pending pull, which answers with what it has

    def _offer(self, event: CameraEvent) -> None:
        if self._accepts(event.topic):
            self._queue.append(event)
            self._arrived.set()


class PullPoints:
    """The live subscriptions of one camera, by id."""

    def __init__(self, events: EventSources, clock: Clock) -> None:
        self._events = events
        self._clock = clock
        self._subscriptions: dict[str, PullPoint] = {}

    def now_s(self) -> float:
        return self._clock.now_ms() / 1000

    def create(self, accepts: Callable[[str], bool], termination_s: float) -> PullPoint:
        self._sweep()
        if len(self._subscriptions) >= SUBSCRIPTION_LIMIT:
            raise SubscriptionLimitReached
        subscription = PullPoint(secrets.token_hex(8), self._events, accepts, termination_s)
        self._subscriptions[subscription.id] = subscription
        return subscription

    def get(self, subscription_id: str) -> PullPoint | None:
        self._sweep()
        return self._subscriptions.get(subscription_id)

    def remove(self, subscription_id: str) -> None:
        subscription = self._subscriptions.pop(subscription_id, None)
        if subscription is not None:
            subscription.close()

    def close(self) -> None:
        for subscription_id in list(self._subscriptions):
            self.remove(subscription_id)

    def _sweep(self) -> None:
        now_s = self.now_s()
        for subscription in list(self._subscriptions.values()):
            if subscription.termination_s <= now_s:
                self.remove(subscription.id)
