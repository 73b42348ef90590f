"""Background tasks: each is owned by a component that starts it and stops it with this."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any


async def cancel_and_wait(task: "asyncio.Task[Any] | None") -> None:
    """Cancel `task` (if any) and wait until it has finished unwinding."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


class Follower:
    """Runs `sync` after each `changed()`, one run at a time; changes made during a run are
    caught up by one more run, however many there were."""

    def __init__(self, name: str, sync: Callable[[], Awaitable[None]]) -> None:
        self._name = name
        self._sync = sync
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._changed.set()  # the first run brings things in line with how they are now
        self._task = asyncio.create_task(self._follow(), name=self._name)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    def changed(self) -> None:
        self._changed.set()

    async def _follow(self) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            await self._sync()
