"""Background tasks: each is owned by a component that starts it and stops it with this."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

logger = logging.getLogger(__name__)

# A loop that raises is started again after FIRST_BACKOFF_S, then twice as long each time it
# raises again, up to MAX_BACKOFF_S; a run that lasted HEALTHY_S starts the count again.
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 30.0
HEALTHY_S = 60.0


async def cancel_and_wait(task: "asyncio.Task[Any] | None") -> None:
    """Cancel `task` (if any) and wait until it has finished unwinding.

    The task's own cancellation ends here; the caller's does not: when the caller is cancelled
    while it waits, it still is once the task has unwound."""
    if task is None:
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise


class Supervised:
    """A background loop, started and stopped by the component that owns it. When it raises,
    the error is logged with its traceback and the loop is started again after a pause that
    grows while it keeps failing (`restarts` counts them); it never ends silently."""

    def __init__(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        self.name = name
        self.restarts = 0
        self._run = run
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name=self.name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def _supervise(self) -> None:
        loop = asyncio.get_running_loop()
        backoff_s = FIRST_BACKOFF_S
        while True:
            started = loop.time()
            try:
                await self._run()
            except Exception:
                if loop.time() - started >= HEALTHY_S:
                    backoff_s = FIRST_BACKOFF_S
                logger.exception("background task failed; restarting it",
                                 extra={"task": self.name, "after_s": backoff_s})  # fmt: skip
            else:
                logger.error("background task ended; restarting it", extra={"task": self.name})
            self.restarts += 1
            await asyncio.sleep(backoff_s)
            backoff_s = min(backoff_s * 2, MAX_BACKOFF_S)


class Follower:
    """Runs `sync` after each `changed()`, one run at a time; changes made during a run are
    caught up by one more run, however many there were. A run that raises is logged and tried
    again (after the pause of `Supervised`) even if nothing changes meanwhile."""

    def __init__(self, name: str, sync: Callable[[], Awaitable[None]]) -> None:
        self._sync = sync
        self._changed = asyncio.Event()
        self._loop = Supervised(name, self._follow)

    @property
    def restarts(self) -> int:
        return self._loop.restarts

    def start(self) -> None:
        self._changed.set()  # the first run brings things in line with how they are now
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    def changed(self) -> None:
        self._changed.set()

    async def _follow(self) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            try:
                await self._sync()
            except Exception:
                self._changed.set()  # what it failed to bring in line still is not
                raise
