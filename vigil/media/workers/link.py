"""One media worker as the API process runs it: started when it is first given a stream,
watched, and started again when it dies.

A worker that dies (killed, out of memory, a fault of ours) is started again at once, and
its streams are given to it again (`Handlers.started`), so its cameras record again within
about a second, losing at most the fragment each was gathering; the files it left open are
finished by the API process meanwhile. One that keeps dying is started again after growing
delays (`tasks.Supervised`'s), so a fault that kills every worker does not spin a core.
"""

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import time
from typing import Any, Protocol

from vigil.media.hub import AnyFrame
from vigil.media.workers import messages
from vigil.media.workers.wire import CallFailed, Channel
from vigil.tasks import Supervised

logger = logging.getLogger(__name__)

QUIT_TIMEOUT_S = 40.0  # a worker closes its files on a stop; a recorder's stop is bounded at 30 s
KILL_WAIT_S = 5.0
STEADY_S = 10.0  # a worker that ran this long and died is started again without delay


class Handlers(Protocol):
    """What the media service does with what a worker says."""

    def heard(self, link: "WorkerLink", message: Any) -> None: ...

    def frame(self, key: int, frame: AnyFrame) -> None: ...

    async def answer(self, link: "WorkerLink", body: Any) -> Any: ...

    def started(self, link: "WorkerLink", note: str) -> None: ...

    def exited(self, link: "WorkerLink", reason: str) -> None: ...


class WorkerLink:
    def __init__(self, number: int, sync_ms: int, log_level: str, handlers: Handlers) -> None:
        self.number = number
        self.name = f"media-{number}"
        self._sync_ms = sync_ms
        self._log_level = log_level
        self._handlers = handlers
        self._process: asyncio.subprocess.Process | None = None
        self._channel: Channel | None = None
        self._watcher = Supervised(f"media worker {number}", self._watch)
        self._stopping = False
        self._started_at = 0.0
        self._quick_deaths = 0  # in a row, each soon after its start
        self.restarts = 0
        self.last_exit: str | None = None  # why it last stopped on its own

    @property
    def running(self) -> bool:
        return self._channel is not None

    @property
    def pid(self) -> int | None:
        """The running process's; None between its end and the next start (a dead process's
        number may soon be another's)."""
        process = self._process
        return process.pid if process is not None and process.returncode is None else None

    async def start(self) -> None:
        """Start the process now (its streams follow), and watch it from then on."""
        await self._spawn()
        self._watcher.start()

    async def stop(self) -> None:
        """Every stream stopped, files closed and indexed, then the process ends."""
        self._stopping = True
        await self._watcher.stop()
        channel, process = self._channel, self._process
        if channel is not None:
            with contextlib.suppress(CallFailed, TimeoutError):
                await asyncio.wait_for(channel.call(messages.Quit()), QUIT_TIMEOUT_S)
            channel.close()
        if process is not None:
            try:
                await asyncio.wait_for(process.wait(), KILL_WAIT_S)
            except TimeoutError:
                process.kill()
                await process.wait()
        self._channel = self._process = None

    def send(self, message: Any) -> None:
        """Dropped while the worker is not running: it is told all again when it starts."""
        if self._channel is not None:
            self._channel.send(message)

    async def call(self, body: Any) -> Any:
        if self._channel is None:
            raise CallFailed("the media worker is not running")
        return await self._channel.call(body)

    def cpu_seconds(self) -> float | None:
        """User and system time of the process so far, from /proc (None once it is gone)."""
        pid = self.pid
        if pid is None:
            return None
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def _spawn(self) -> None:
        mine, theirs = socket.socketpair()
        try:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "vigil.media.workers.worker",
                "--fd", str(theirs.fileno()), "--sync-ms", str(self._sync_ms),
                "--name", self.name, "--log-level", self._log_level,
                "--parent", str(os.getpid()),
                pass_fds=(theirs.fileno(),), stdin=asyncio.subprocess.DEVNULL,
                # Not in the terminal's process group: a Ctrl-C reaches the API process,
                # which stops its workers in order.
                start_new_session=True,
            )  # fmt: skip
        finally:
            theirs.close()
        handlers = self._handlers
        self._channel = await Channel.over(
            mine,
            lambda message: handlers.heard(self, message),
            handlers.frame,
            lambda body: handlers.answer(self, body),
        )
        self._started_at = time.monotonic()
        logger.info("media worker started", extra={"worker": self.name, "pid": self.pid})

    async def _watch(self) -> None:
        note = ""
        while True:
            if self._process is None or self._process.returncode is not None:
                await self._spawn()
            if self._channel is not None:
                self._handlers.started(self, note)
            assert self._process is not None
            code = await self._process.wait()
            if self._channel is not None:
                # What it said before it died is still read (a row to enter, a file done).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(self._channel.closed), KILL_WAIT_S)
                self._channel.close()
            self._channel = None
            reason = _exit_reason(code)
            self.restarts += 1
            self.last_exit = reason
            logger.error("media worker stopped", extra={"worker": self.name, "reason": reason})
            self._handlers.exited(self, reason)
            note = f"the media worker restarted after it stopped ({reason})"
            steady = time.monotonic() - self._started_at >= STEADY_S
            self._quick_deaths = 0 if steady else self._quick_deaths + 1
            if self._quick_deaths > 1:
                await asyncio.sleep(min(30.0, 0.5 * 2 ** min(self._quick_deaths, 6)))


def _exit_reason(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    return f"exit code {code}"
