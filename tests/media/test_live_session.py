"""A live session on its own, fed by a hub: what it sends, in which order, and that it leaves."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.media.test_mse import H264, H265, config
from vigil.media.archive.scan import scan
from vigil.media.frames import AudioConfig, AudioFrame, Frame, StreamConfig
from vigil.media.hub import Hub
from vigil.media.live import Init, LiveSession, Output, Status, StreamNow, UnsupportedCodec

AVC = config("h264", H264)
HEVC = config("h265", H265)
SOUND = AudioConfig("aac", 16_000, 1, 1024, bytes.fromhex("1408"))
WAIT_S = 10.0


def picture(n: int, key: bool, stream: StreamConfig = AVC) -> Frame:
    nal = bytes([0x65 if key else 0x41]) + n.to_bytes(4, "big")
    return Frame(1_000_000 + n * 40, key, (nal,), stream, len(nal))


@dataclass
class Viewer:
    """A session run as the endpoint runs it, its output gathered."""

    hub: Hub
    now: StreamNow
    out: list[Output] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, output: Output) -> None:
        self.out.append(output)
        self.arrived.set()

    async def until(self, check: Callable[[list[Output]], bool]) -> list[Output]:
        async with asyncio.timeout(WAIT_S):
            while not check(self.out):
                self.arrived.clear()
                await self.arrived.wait()
        return self.out

    def fragments(self) -> list[bytes]:
        return [o for o in self.out if isinstance(o, bytes)]


@asynccontextmanager
async def viewing(hub: Hub, codecs: tuple[str, ...] = ("h264",)) -> AsyncIterator[Viewer]:
    viewer = Viewer(hub, StreamNow(hub, True, "", None))
    session = LiveSession(lambda: viewer.now, codecs)  # type: ignore[arg-type]
    task = asyncio.create_task(session.run(viewer.send))
    try:
        yield viewer
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def _samples(fragment: bytes) -> int:
    """How many pictures a fragment holds (its video track run's sample count)."""
    trun = fragment.index(b"trun")
    return int.from_bytes(fragment[trun + 8 : trun + 12], "big")


def fragment_spans(tmp_path: Path, outputs: list[Output]) -> list[tuple[int, int, bool]]:
    """(start, end, keyframe) of each fragment, read back as a file of them."""
    path = tmp_path / "live.mp4"
    init = next(o for o in outputs if isinstance(o, Init))
    path.write_bytes(init.segment + b"".join(o for o in outputs if isinstance(o, bytes)))
    return [(f.start_ms, f.end_ms, f.keyframe) for f in scan(path).fragments]


async def test_a_viewer_gets_the_last_gop_at_once_then_what_comes_as_it_comes(
    tmp_path: Path,
) -> None:
    hub = Hub()
    for n in range(8):
        hub.publish(picture(n, key=n % 5 == 0))  # the GOP kept starts at 5
    async with viewing(hub) as viewer:
        await viewer.until(lambda out: len(out) == 2)
        hub.publish(picture(8, key=False))
        hub.publish(picture(10, key=False))  # one frame lost on the way
        await viewer.until(lambda out: len(out) == 3)
        hub.publish(picture(12, key=False))
        out = await viewer.until(lambda out: len(out) == 4)
    init = out[0]
    assert isinstance(init, Init)
    assert (init.mime, init.width, init.height) == ('video/mp4; codecs="avc1.64001e"', 640, 480)
    # From the session's first picture. The GOP is one fragment (one append for the player),
    # and so are 8 and 10, which came together: within one each picture lasts until the
    # next, and the last (nothing waits for the next frame) as long as the interval before
    # it; 12, alone, is a fragment of its own.
    assert fragment_spans(tmp_path, out) == [(0, 120, True), (120, 280, False), (280, 360, False)]
    assert [_samples(fragment) for fragment in viewer.fragments()] == [3, 2, 1]


async def test_new_parameter_sets_bring_a_new_init_segment_at_their_keyframe() -> None:
    hub = Hub()
    hub.publish(picture(0, key=True))
    wider = config("h264", (H264[0][:-1] + b"\x97", H264[1]))  # another SPS
    async with viewing(hub) as viewer:
        await viewer.until(lambda out: len(out) == 2)
        hub.publish(picture(1, key=False, stream=wider))  # cannot decode before its keyframe
        hub.publish(picture(2, key=True, stream=wider))
        out = await viewer.until(lambda out: len(out) == 4)
    kinds = [type(o).__name__ for o in out]
    assert kinds == ["Init", "bytes", "Init", "bytes"]
    second = out[2]
    assert isinstance(second, Init)
    assert second.segment != out[0].segment  # type: ignore[union-attr]


async def test_sound_in_the_gop_gives_an_audio_track_and_goes_with_the_pictures() -> None:
    hub = Hub()
    hub.publish(picture(0, key=True))
    hub.publish(AudioFrame(1_000_010, b"\x21" * 50, SOUND))
    hub.publish(picture(1, key=False))
    async with viewing(hub) as viewer:
        out = await viewer.until(lambda out: len(out) == 2)
        hub.publish(AudioFrame(1_000_050, b"\x22" * 50, SOUND))
        hub.publish(picture(2, key=False))
        out = await viewer.until(lambda out: len(out) == 3)
    init = out[0]
    assert isinstance(init, Init)
    assert init.mime == 'video/mp4; codecs="avc1.64001e,mp4a.40.2"'
    first, second = viewer.fragments()
    assert b"\x21" * 50 in first  # the GOP's, with its pictures
    assert b"\x22" * 50 in second  # heard after them, sent with the next picture


async def test_a_codec_the_client_cannot_play_ends_the_session() -> None:
    hub = Hub()
    hub.publish(picture(0, key=True, stream=HEVC))
    session = LiveSession(lambda: StreamNow(hub, True, "", None), ["h264"])
    sent: list[Output] = []

    async def send(output: Output) -> None:
        sent.append(output)

    with pytest.raises(UnsupportedCodec, match="H265"):
        await asyncio.wait_for(session.run(send), WAIT_S)
    assert sent == []
    assert hub.consumer_count == 0


async def test_h265_goes_out_to_a_client_that_plays_it() -> None:
    hub = Hub()
    hub.publish(picture(0, key=True, stream=HEVC))
    async with viewing(hub, ("h264", "h265")) as viewer:
        out = await viewer.until(lambda out: len(out) == 2)
    assert isinstance(out[0], Init)
    assert out[0].mime == 'video/mp4; codecs="hvc1.1.6.L60.90"'


async def test_offline_is_said_and_the_view_resumes_at_a_keyframe() -> None:
    hub = Hub()
    hub.publish(picture(0, key=True))
    async with viewing(hub) as viewer:
        await viewer.until(lambda out: len(out) == 2)
        viewer.now = StreamNow(hub, False, "connection refused", None)
        await viewer.until(lambda out: len(out) == 3)
        viewer.now = StreamNow(hub, True, "", None)
        hub.publish(picture(100, key=False))  # the camera is back mid-GOP: not decodable
        hub.publish(picture(101, key=True))
        out = await viewer.until(lambda out: len(out) == 5)
    assert out[2] == Status(False, "connection refused")
    assert out[3] == Status(True, "")
    assert isinstance(out[4], bytes)
    assert len(viewer.fragments()) == 2  # the first picture and the keyframe after the return


async def test_the_session_ends_when_the_stream_is_gone_and_leaves_the_hub() -> None:
    hub = Hub()
    hub.publish(picture(0, key=True))
    now = StreamNow(hub, True, "", None)
    session = LiveSession(lambda: now, ["h264"])
    sent: list[Output] = []

    async def send(output: Output) -> None:
        nonlocal now
        sent.append(output)
        now = StreamNow(None, False, "", "the camera was deleted")

    assert await asyncio.wait_for(session.run(send), WAIT_S) == "the camera was deleted"
    assert hub.consumer_count == 0


async def test_a_viewer_that_leaves_leaves_no_consumer_on_the_hub() -> None:
    hub = Hub()
    hub.publish(picture(0, key=True))
    async with viewing(hub) as viewer:
        await viewer.until(lambda out: len(out) == 2)
        assert hub.consumer_count == 1
    assert hub.consumer_count == 0
