"""Background work that fails is said and started again; stopping it keeps the caller's
cancellation; a server that fails to start leaves nothing running."""

import asyncio
import logging
import socket
from pathlib import Path

import pytest

from vigil import tasks
from vigil.app import VigilServer
from vigil.clock import SystemClock
from vigil.config import ServerConfig
from vigil.media.rtsp.service import RtspUnavailable
from vigil.tasks import Follower, Supervised, cancel_and_wait


@pytest.fixture(autouse=True)
def short_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tasks, "FIRST_BACKOFF_S", 0.01)


class Counted:
    """Counts what a test's loop did, and lets the test wait until it reaches a number."""

    def __init__(self) -> None:
        self.count = 0
        self._changed = asyncio.Event()

    def add(self) -> int:
        self.count += 1
        self._changed.set()
        return self.count

    async def reach(self, wanted: int, what: str, timeout_s: float = 5.0) -> None:
        async def until() -> None:
            while self.count < wanted:
                self._changed.clear()
                await self._changed.wait()

        try:
            await asyncio.wait_for(until(), timeout_s)
        except TimeoutError:
            raise AssertionError(f"waited {timeout_s:g} s for {what}") from None


async def test_a_loop_that_raises_is_logged_with_its_traceback_and_started_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs = Counted()

    async def fails_twice() -> None:
        run = runs.add()
        if run <= 2:
            raise ValueError(f"broken run {run}")
        await asyncio.Event().wait()

    loop = Supervised("test loop", fails_twice)
    with caplog.at_level(logging.ERROR, logger="vigil.tasks"):
        loop.start()
        await runs.reach(3, "the third run")
    assert loop.running
    assert loop.restarts == 2
    failures = [r for r in caplog.records if r.exc_info]
    assert [str(r.exc_info[1]) for r in failures if r.exc_info] == ["broken run 1", "broken run 2"]
    assert all(getattr(r, "task", None) == "test loop" for r in failures)
    await loop.stop()
    assert not loop.running


async def test_a_follower_whose_sync_raises_tries_again_and_goes_on_following() -> None:
    attempts = Counted()
    seen: list[int] = []
    version = 1
    broken = True

    async def sync() -> None:
        attempts.add()
        if broken:
            raise OSError("the database is locked")
        seen.append(version)

    follower = Follower("test follower", sync)
    follower.start()
    await attempts.reach(2, "two failed syncs")
    broken = False  # nothing changed, yet what failed is brought in line
    await attempts.reach(3, "the sync that failed, done again")
    assert seen == [1]
    version = 2
    follower.changed()
    await attempts.reach(4, "a later change followed")
    assert seen == [1, 2]
    await follower.stop()


async def test_stopping_a_task_keeps_the_callers_own_cancellation() -> None:
    unwinding = asyncio.Event()
    release = asyncio.Event()

    async def slow_to_stop() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            unwinding.set()
            await release.wait()

    worker = asyncio.create_task(slow_to_stop())
    await asyncio.sleep(0)
    after_stop: list[str] = []

    async def caller() -> None:
        await cancel_and_wait(worker)
        after_stop.append("went on as if not cancelled")

    stopping = asyncio.create_task(caller())
    await unwinding.wait()
    stopping.cancel()  # e.g. the server shuts down while a component stops a task
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await stopping
    assert worker.cancelled()
    assert after_stop == []


async def test_a_server_that_fails_to_start_stops_what_it_had_started(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        before = asyncio.all_tasks()
        # RTSP starts last: media, events and exports had started
        config = ServerConfig(data_dir=tmp_path, port=1, rtsp_port=taken.getsockname()[1],
                              peer_port=0)  # fmt: skip
        with pytest.raises(RtspUnavailable):
            await VigilServer.open(config, SystemClock())
    left = {t.get_name() for t in asyncio.all_tasks() - before}
    assert left == set(), f"still running after the failed start: {left}"
    # The data folder is free again: its lock and database were closed.
    config = ServerConfig(data_dir=tmp_path, port=1, rtsp_port=0, peer_port=0)
    server = await VigilServer.open(config, SystemClock())
    await server.close()
