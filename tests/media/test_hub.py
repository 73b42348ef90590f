"""The hub on its own: new consumers start at a keyframe; a slow one skips, never blocks."""

import pytest

from vigil.media import hub as hub_module
from vigil.media.frames import AudioConfig, AudioFrame, Frame, StreamConfig
from vigil.media.hub import AnyFrame, FrameQueue, Hub
from vigil.media.sps import SpsInfo

CONFIG = StreamConfig("h264", (b"\x67", b"\x68"), SpsInfo(320, 240, 1, 8, 8))
SOUND = AudioConfig("aac", 16_000, 1, 1024, b"\x14\x08")


def _frame(n: int, key: bool, size: int = 1000) -> Frame:
    return Frame(n * 40, key, (b"\x65" if key else b"\x41",), CONFIG, size)


def test_a_new_consumer_gets_the_last_gop_first() -> None:
    hub = Hub()
    for n in range(7):
        hub.publish(_frame(n, key=n % 5 == 0))
    seen: list[AnyFrame] = []
    hub.subscribe(seen.append)
    hub.publish(_frame(7, key=False))
    assert [f.time_ms // 40 for f in seen] == [5, 6, 7]
    assert isinstance(seen[0], Frame)
    assert seen[0].keyframe


def test_a_slow_consumer_skips_to_the_next_keyframe_and_stays_bounded() -> None:
    hub = Hub()
    slow = FrameQueue(max_bytes=3500)
    fast: list[AnyFrame] = []
    hub.subscribe(slow)
    hub.subscribe(fast.append)
    for n in range(11):
        hub.publish(_frame(n, key=n % 4 == 0))
    assert len(fast) == 11  # the others get everything
    kept = [f for f in slow.take_all() if isinstance(f, Frame)]  # pictures alone were sent
    assert kept[0].keyframe  # what the slow one keeps starts at a keyframe
    assert sum(f.size for f in kept) <= 3500
    assert [f.time_ms // 40 for f in kept] == [8, 9, 10]
    assert slow.skipped == 8


def _sound(time_ms: int, size: int = 100) -> AudioFrame:
    return AudioFrame(time_ms, bytes(size), SOUND)


def test_a_new_consumer_gets_the_sound_of_the_last_gop_with_it() -> None:
    hub = Hub()
    hub.publish(_frame(0, key=True))
    hub.publish(_sound(10))
    hub.publish(_sound(130))  # sound a little ahead of the picture
    hub.publish(_frame(1, key=False))
    hub.publish(_frame(2, key=False))
    hub.publish(_frame(3, key=True))  # at 120 ms: a new GOP, with the sound ahead of it
    hub.publish(_sound(194))
    seen: list[AnyFrame] = []
    hub.subscribe(seen.append)
    assert [(type(f).__name__, f.time_ms) for f in seen] == [
        ("Frame", 120),
        ("AudioFrame", 130),
        ("AudioFrame", 194),
    ]


def test_a_slow_consumer_loses_the_sound_of_the_pictures_it_skips() -> None:
    slow = FrameQueue(max_bytes=2500)
    slow(_sound(0))  # before any picture: nothing to play it with
    slow(_frame(0, key=True))
    slow(_sound(10))
    slow(_frame(1, key=False))
    slow(_frame(2, key=False))  # past the bound: dropped up to the next keyframe
    slow(_sound(74))
    slow(_frame(3, key=True))
    slow(_sound(138))
    assert [(type(f).__name__, f.time_ms) for f in slow.take_all()] == [
        ("Frame", 120),
        ("AudioFrame", 138),
    ]


def test_a_gop_too_big_to_keep_is_not_kept_in_part(monkeypatch: pytest.MonkeyPatch) -> None:
    """Part of a GOP would not decode: a new viewer of a stream whose GOP outgrew the bound
    starts at the next keyframe, and memory stays bounded meanwhile."""
    monkeypatch.setattr(hub_module, "MAX_GOP_BYTES", 5_500)
    hub = Hub()
    for n in range(8):  # a keyframe, then 7 more: 8,000 bytes
        hub.publish(_frame(n, key=n == 0))
    assert hub.last_gop == ()
    assert hub.last_gop_bytes == 0
    seen: list[AnyFrame] = []
    hub.subscribe(seen.append)
    hub.publish(_frame(8, key=True))
    hub.publish(_frame(9, key=False))
    assert [f.time_ms // 40 for f in seen] == [8, 9]
    assert [f.time_ms // 40 for f in hub.last_gop] == [8, 9]
    assert hub.last_gop_bytes == 2_000
