"""The notification hub: each listener gets what its audience check lets through, bounded."""

import asyncio

import pytest
from pydantic import BaseModel

from tests.clocked import ManualClock
from vigil.notifications import Audience, NotificationHub


class Tick(BaseModel):
    n: int


async def test_each_listener_gets_only_what_it_may_see() -> None:
    hub = NotificationHub(ManualClock())
    with (
        hub.listen(lambda a: a.user_id in (None, "ann") and a.camera_ids <= {"c1"}) as ann,
        hub.listen(lambda a: a.user_id in (None, "bob") and a.camera_ids <= {"c1", "c2"}) as bob,
    ):
        hub.publish("tick", Tick(n=1), Audience())
        hub.publish("tick", Tick(n=2), Audience(user_id="ann"))
        hub.publish("tick", Tick(n=3), Audience(camera_ids=frozenset({"c2"})))
        hub.publish("tick", Tick(n=4), Audience(user_id="bob", camera_ids=frozenset({"c1"})))
        anns, _ = await ann.take()
        bobs, _ = await bob.take()
    assert [n.data for n in anns] == [Tick(n=1), Tick(n=2)]
    assert [n.data for n in bobs] == [Tick(n=1), Tick(n=3), Tick(n=4)]


async def test_a_slow_listener_loses_the_oldest_and_is_told_how_many() -> None:
    hub = NotificationHub(ManualClock())
    with hub.listen(lambda _: True, bound=10) as slow:
        for n in range(25):
            hub.publish("tick", Tick(n=n), Audience())  # never waits for the listener
        taken, lost = await slow.take()
        hub.publish("tick", Tick(n=25), Audience())
        after, lost_after = await slow.take()
    assert [n.data.n for n in taken] == list(range(15, 25))
    assert lost == 15
    assert [n.data.n for n in after] == [25]
    assert lost_after == 0


async def test_a_listener_that_left_gets_nothing_more() -> None:
    hub = NotificationHub(ManualClock())
    with hub.listen(lambda _: True) as gone:
        pass
    hub.publish("tick", Tick(n=1), Audience())
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.1):
            await gone.take()
