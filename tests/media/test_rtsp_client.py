"""Our RTSP client against the simulated cameras: what it hands on decodes to the pictures sent."""

import asyncio
import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest

from tests.testcamera.process import TestCameraProcess
from vigil.cameras.address import StreamUrl
from vigil.cameras.models import Transport
from vigil.media.codecs import Codec
from vigil.media.depacketize import AccessUnit
from vigil.media.rtsp.client import RtspError, RtspStream, Unauthorized
from vigil.testcamera.video.caption import read_caption


@pytest.fixture(scope="module")
def cameras(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestCameraProcess]:
    with TestCameraProcess(tmp_path_factory.mktemp("cameras"), count=2) as process:
        process.start(timeout_s=120)
        yield process


async def _pull(
    url: StreamUrl, seconds: float, transport: Transport = "tcp"
) -> tuple[RtspStream, list[AccessUnit]]:
    units: list[AccessUnit] = []
    stream = RtspStream(url, units.append, transport)
    await stream.start()
    await asyncio.sleep(seconds)
    await stream.close()
    return stream, units


def _decode(codec: Codec, parameter_sets: list[bytes], units: list[AccessUnit]) -> list[str]:
    """Decode the units as a client would and read each picture's caption."""
    decoder = av.CodecContext.create("h264" if codec == "h264" else "hevc", "r")
    captions = []
    for n, unit in enumerate(units):
        nals = [*parameter_sets, *unit.nals] if n == 0 else list(unit.nals)
        data = b"".join(b"\x00\x00\x00\x01" + nal for nal in nals)
        for frame in decoder.decode(av.Packet(data)):
            assert isinstance(frame, av.VideoFrame)
            luma = np.asarray(frame.to_ndarray(format="yuv420p"))[: frame.height]
            captions.append(read_caption(luma))
    return captions


@pytest.mark.parametrize("codec", ["h264", "h265"])
async def test_pulled_units_decode_to_every_frame_in_order(tmp_path: Path, codec: Codec) -> None:
    with TestCameraProcess(tmp_path, count=1, extra_args=("--codec", codec)) as camera:
        camera.start(timeout_s=120)
        url = StreamUrl.parse(f"rtsp://127.0.0.1:{camera.rtsp_port}/cam1/main")
        stream, units = await _pull(url, 2.0)
    assert stream.info is not None
    assert stream.info.codec == codec
    assert units[0].keyframe  # the camera starts a client at a keyframe
    assert len(units) >= 20  # 25 fps for 2 s, less the wait (up to 1 s) for the first keyframe
    steps = {(b.rtp_timestamp - a.rtp_timestamp) % 2**32 for a, b in itertools.pairwise(units)}
    assert steps == {90_000 // 25}
    depacketizer = stream.depacketizer
    assert depacketizer is not None
    assert (depacketizer.lost_packets, depacketizer.dropped_units) == (0, 0)
    counters = [int(c.split("#")[1][:6]) for c in _decode(codec, stream.info.parameter_sets, units)]
    assert counters == list(range(counters[0], counters[0] + len(units)))


async def test_units_pulled_over_udp_decode_to_every_frame_in_order(
    cameras: TestCameraProcess,
) -> None:
    url = StreamUrl.parse(f"rtsp://127.0.0.1:{cameras.rtsp_port}/cam1/main")
    stream, units = await _pull(url, 2.5, "udp")
    assert stream.info is not None
    assert stream.udp is not None
    assert stream.udp.packets > len(units) >= 20
    assert units[0].keyframe
    depacketizer = stream.depacketizer
    assert depacketizer is not None
    assert (depacketizer.lost_packets, depacketizer.dropped_units) == (0, 0)
    captions = _decode("h264", stream.info.parameter_sets, units)
    counters = [int(c.split("#")[1][:6]) for c in captions]
    assert counters == list(range(counters[0], counters[0] + len(units)))


async def test_sub_stream_and_a_second_camera(cameras: TestCameraProcess) -> None:
    url = StreamUrl.parse(f"rtsp://127.0.0.1:{cameras.rtsp_port}/cam2/sub")
    stream, units = await _pull(url, 3.5)  # 10 fps, a keyframe every 2.5 s
    assert stream.info is not None
    assert units
    captions = _decode("h264", stream.info.parameter_sets, units)
    # 160 px wide: the caption shows its start, the wall clock to a tenth of a second.
    assert len(captions) == len(units)
    assert all(re.fullmatch(r"\d\d:\d\d:\d\d\.\d", c) for c in captions), captions[:3]


async def test_unknown_path_is_an_error_with_the_status(cameras: TestCameraProcess) -> None:
    url = StreamUrl.parse(f"rtsp://127.0.0.1:{cameras.rtsp_port}/nothing/here")
    with pytest.raises(RtspError, match="404"):
        await _pull(url, 0)


async def test_nothing_listening_is_an_os_error() -> None:
    url = StreamUrl.parse("rtsp://127.0.0.1:9/cam1/main")
    with pytest.raises(ConnectionRefusedError):
        await _pull(url, 0)


async def test_credentials_digest_and_refusal(tmp_path: Path) -> None:
    with TestCameraProcess(tmp_path, count=1, user="admin", password="s3cret") as camera:
        camera.start(timeout_s=120)
        base = f"rtsp://127.0.0.1:{camera.rtsp_port}/cam1/sub"
        with pytest.raises(Unauthorized, match="needs a user name"):
            await _pull(StreamUrl.parse(base), 0)
        with pytest.raises(Unauthorized, match="refused"):
            await _pull(StreamUrl.parse(base, "admin", "wrong"), 0)
        # Credentials in the URL work too, and are not sent in the request line.
        url = StreamUrl.parse(base.replace("rtsp://", "rtsp://admin:s3cret@"))
        assert url.url == base
        _, units = await _pull(url, 3.5)
    assert units
