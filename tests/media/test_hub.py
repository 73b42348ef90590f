"""The hub on its own: new consumers start at a keyframe; a slow one skips, never blocks."""

from vigil.media.frames import Frame, StreamConfig
from vigil.media.hub import FrameQueue, Hub
from vigil.media.sps import SpsInfo

CONFIG = StreamConfig("h264", (b"\x67", b"\x68"), SpsInfo(320, 240, 1, 8, 8))


def _frame(n: int, key: bool, size: int = 1000) -> Frame:
    return Frame(n * 40, key, (b"\x65" if key else b"\x41",), CONFIG, size)


def test_a_new_consumer_gets_the_last_gop_first() -> None:
    hub = Hub()
    for n in range(7):
        hub.publish(_frame(n, key=n % 5 == 0))
    seen: list[Frame] = []
    hub.subscribe(seen.append)
    hub.publish(_frame(7, key=False))
    assert [f.time_ms // 40 for f in seen] == [5, 6, 7]
    assert seen[0].keyframe


def test_a_slow_consumer_skips_to_the_next_keyframe_and_stays_bounded() -> None:
    hub = Hub()
    slow = FrameQueue(max_bytes=3500)
    fast: list[Frame] = []
    hub.subscribe(slow)
    hub.subscribe(fast.append)
    for n in range(11):
        hub.publish(_frame(n, key=n % 4 == 0))
    assert len(fast) == 11  # the others get everything
    kept = slow.take_all()
    assert kept[0].keyframe  # what the slow one keeps starts at a keyframe
    assert sum(f.size for f in kept) <= 3500
    assert [f.time_ms // 40 for f in kept] == [8, 9, 10]
    assert slow.skipped == 8
