"""Notifications to connected clients: components publish, each client gets what it may see.

One hub per server. A component publishes a typed `Notification` (a `type` such as `export`,
a pydantic model as its data, and an `Audience`: who may see it); every listener whose
`may_see` accepts the audience gets it. Publishing never waits: each listener keeps at most
`MAX_PENDING` notifications, and one that is not read fast enough loses its oldest and is told
how many (`Listener.take` returns the count), so a slow client never holds up the server or
grows its memory. The protocol over the WebSocket is in docs/api.md (Notifications).
"""

import asyncio
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pydantic import BaseModel

from vigil.clock import Clock

MAX_PENDING = 256


@dataclass(frozen=True)
class Audience:
    """Who may see a notification: all of what is set must hold (nothing set: every user)."""

    user_id: str | None = None  # only this user (e.g. the one who started an export)
    camera_ids: frozenset[str] = frozenset()  # only users who may see all these cameras


@dataclass(frozen=True)
class Notification:
    type: str  # what it is about, e.g. `export`; the data's shape follows from it
    data: BaseModel
    time_ms: int
    audience: Audience


MaySee = Callable[[Audience], bool]


class Listener:
    """One client's notifications, bounded: the oldest are dropped when it falls behind."""

    def __init__(self, may_see: MaySee, bound: int = MAX_PENDING) -> None:
        self._may_see = may_see
        self._pending: deque[Notification] = deque(maxlen=bound)
        self._lost = 0
        self._ready = asyncio.Event()

    def offer(self, notification: Notification) -> None:
        if not self._may_see(notification.audience):
            return
        if len(self._pending) == self._pending.maxlen:
            self._lost += 1
        self._pending.append(notification)
        self._ready.set()

    async def take(self) -> tuple[list[Notification], int]:
        """What came since the last take (waiting for something), and how many were lost."""
        await self._ready.wait()
        self._ready.clear()
        taken, lost = list(self._pending), self._lost
        self._pending.clear()
        self._lost = 0
        return taken, lost


class NotificationHub:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._listeners: list[Listener] = []

    def publish(self, type_: str, data: BaseModel, audience: Audience) -> None:
        notification = Notification(type_, data, self._clock.now_ms(), audience)
        for listener in self._listeners:
            listener.offer(notification)

    @contextmanager
    def listen(self, may_see: MaySee, bound: int = MAX_PENDING) -> Iterator[Listener]:
        listener = Listener(may_see, bound)
        self._listeners.append(listener)
        try:
            yield listener
        finally:
            self._listeners.remove(listener)
