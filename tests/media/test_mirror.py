"""A stream's mirror hub in the API process on its own: it asks its media worker for frames only
while someone watches, hands a new viewer the worker's whole GOP at once, and drops what an
earlier feed sends late. (With real workers: tests/media/test_workers.py, test_live.py.)"""

from vigil.media.frames import AudioConfig, AudioFrame, Frame, StreamConfig
from vigil.media.hub import AnyFrame
from vigil.media.sps import SpsInfo
from vigil.media.workers.mirror import MirrorHub

CONFIG = StreamConfig("h264", (b"\x67", b"\x68"), SpsInfo(320, 240, 1, 8, 8))
SOUND = AudioConfig("aac", 16_000, 1, 1024, b"\x14\x08")


def _picture(n: int, key: bool = False) -> Frame:
    return Frame(n * 40, key, (b"\x65" if key else b"\x41",), CONFIG, 1000)


def _sound(n: int) -> AudioFrame:
    return AudioFrame(n * 40 + 5, b"\x21" * 100, SOUND)


def _gop(first: int) -> list[AnyFrame]:
    return [_picture(first, key=True), _sound(first), _picture(first + 1), _sound(first + 1)]


class _Worker:
    """What the mirror asked of its worker."""

    def __init__(self) -> None:
        self.asked: list[tuple[bool, int]] = []

    def __call__(self, on: bool, number: int) -> None:
        self.asked.append((on, number))


async def test_a_viewer_gets_the_whole_gop_at_once_when_the_feed_has_sent_it() -> None:
    worker = _Worker()
    mirror = MirrorHub(worker)
    seen: list[AnyFrame] = []
    mirror.subscribe(seen.append)
    assert worker.asked == [(True, 1)]
    assert mirror.consumer_count == 1
    for frame in _gop(0):
        mirror.publish(frame)
    assert seen == []  # held until the whole GOP is here
    mirror.fed(1)
    assert seen == _gop(0)
    mirror.publish(_picture(2))
    assert seen[-1] == _picture(2)
    # A second viewer joins the running feed: the kept GOP at once, no new feed.
    later: list[AnyFrame] = []
    mirror.subscribe(later.append)
    assert later == [*_gop(0), _picture(2)]
    assert worker.asked == [(True, 1)]


async def test_the_feed_stops_with_the_last_viewer_and_late_frames_are_dropped() -> None:
    worker = _Worker()
    mirror = MirrorHub(worker)
    first: list[AnyFrame] = []
    mirror.subscribe(first.append)
    mirror.fed(1)
    for frame in _gop(0):
        mirror.publish(frame)
    mirror.unsubscribe(first.append)
    assert worker.asked == [(True, 1), (False, 1)]
    assert mirror.consumer_count == 0
    assert mirror.last_gop == ()
    # Watched again: a new feed, whose answer alone lets the viewer in; the first feed's
    # frames and answer that come late change nothing.
    second: list[AnyFrame] = []
    mirror.subscribe(second.append)
    assert worker.asked[-1] == (True, 2)
    mirror.publish(_picture(2))  # the old feed's, not a keyframe: not a start
    mirror.fed(1)
    assert second == []
    for frame in _gop(5):
        mirror.publish(frame)
    mirror.publish(_picture(4))  # older than what came: sent twice
    mirror.fed(2)
    assert second == _gop(5)


async def test_a_lost_worker_starts_a_new_feed_for_those_watching() -> None:
    worker = _Worker()
    mirror = MirrorHub(worker)
    seen: list[AnyFrame] = []
    mirror.subscribe(seen.append)
    mirror.fed(1)
    for frame in _gop(0):
        mirror.publish(frame)
    mirror.worker_lost()
    assert mirror.last_gop == ()
    mirror.worker_back()
    assert worker.asked == [(True, 1), (True, 2)]
    # The new worker's times start wherever its camera's clock is: a keyframe starts them.
    mirror.publish(_picture(100))
    mirror.publish(_picture(101, key=True))
    assert seen == [*_gop(0), _picture(101, key=True)]


async def test_a_look_at_now_when_nobody_watches_holds_the_feed_only_meanwhile() -> None:
    worker = _Worker()

    def answer(on: bool, number: int) -> None:
        worker(on, number)
        if on:  # the worker sends its GOP, then says so
            for frame in _gop(0):
                mirror.publish(frame)
            mirror.fed(number)

    mirror = MirrorHub(answer)
    assert await mirror.gop_now() == tuple(_gop(0))
    assert worker.asked == [(True, 1), (False, 1)]
    assert mirror.consumer_count == 0
