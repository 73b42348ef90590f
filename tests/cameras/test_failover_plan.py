"""Who records which camera when servers go: the failover's choices, on a real document."""

from pathlib import Path

import pytest

from tests.clocked import ManualClock
from vigil.cameras.balancing import MAX_CAMERAS_PER_SERVER, spread
from vigil.cameras.failover import Failover, FailoverSettings, Seen
from vigil.cameras.models import CameraRecord
from vigil.errors import Conflict
from vigil.state import Collection, Database, SystemDocument


def test_spread_gives_each_camera_to_the_server_with_the_fewest() -> None:
    moves = spread(["c1", "c2", "c3", "c4"], {"a": 2, "b": 0, "c": 1})
    assert moves == {"c1": "b", "c2": "b", "c3": "c", "c4": "a"}  # ties: by server id


def test_spread_refuses_what_does_not_fit() -> None:
    with pytest.raises(Conflict, match="room for 1"):
        spread(["c1", "c2"], {"a": MAX_CAMERAS_PER_SERVER - 1})


async def test_the_smallest_online_server_moves_cameras_by_priority_and_back(
    tmp_path: Path,
) -> None:
    db = Database(tmp_path / "s.db")
    await db.open()
    clock = ManualClock()
    document = SystemDocument(db, clock)
    await document.open()
    records = Collection(document, "cameras", CameraRecord)
    seen = {"a": Seen(True, 0), "b": Seen(True, 0), "gone": Seen(False, clock.now_ms())}
    settings = FailoverSettings(after_s=10, failback=True)

    standing_by: dict[str, tuple[set[str], int]] = {}
    deciders: dict[str, Failover] = {}

    def failover_on(server_id: str) -> Failover:
        return deciders.setdefault(server_id, Failover(
            server_id=server_id, document=document, records=records, servers=lambda: list(seen),
            seen=seen.__getitem__, settings=lambda: settings, clock=clock,
            stand_by=lambda cameras, keep_s: standing_by.update({server_id: (cameras, keep_s)}),
        ))  # fmt: skip

    async with document.change():
        for n, priority in enumerate(["never", "low", "high"]):
            records.insert(f"c{n}", CameraRecord(name=f"c{n}", parent_server_id="gone",
                                                 main_url="rtsp://x/", failover=priority,
                                                 created_ms=0))  # fmt: skip
        # "b" is full but for one place: the high priority camera gets it.
        for n in range(MAX_CAMERAS_PER_SERVER - 1):
            records.insert(f"b{n}", CameraRecord(name=f"b{n}", parent_server_id="b",
                                                 main_url="rtsp://x/", created_ms=0))  # fmt: skip
    seen["a"] = Seen(False, 0)  # only b is online: b decides, and has room for one
    clock.advance(minutes=9 / 60)
    await failover_on("b").look()
    assert records.get("c2").acting_server_id is None  # not offline long enough yet
    # … but b stands by for the camera it would take, keeping more than the wait of it.
    assert standing_by["b"] == ({"c2"}, 15)
    clock.advance(minutes=1 / 60)
    await failover_on("a").look()  # not the one to decide (it is offline to itself here)
    assert records.get("c2").acting_server_id is None
    await failover_on("b").look()
    assert [records.get(f"c{n}").acting_server_id for n in range(3)] == [None, None, "b"]
    await failover_on("b").look()
    assert standing_by["b"] == (set(), 0)  # it records the camera now

    seen["gone"] = Seen(True, clock.now_ms())  # back: failback
    await failover_on("b").look()
    assert all(records.get(f"c{n}").acting_server_id is None for n in range(3))
    await db.close()
