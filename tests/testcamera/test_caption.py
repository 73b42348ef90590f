"""The live caption burnt into the pictures: read back from frames a real client recorded."""

import asyncio
import itertools
import re
import time
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from onvif import ONVIFCamera

from tests.testcamera.ffmpeg import decode_errors, record
from tests.testcamera.process import TestCameraProcess
from vigil.testcamera.video.band import BAND_HEIGHT, tint_of
from vigil.testcamera.video.caption import read_caption

CAPTION = re.compile(
    r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) #(\d{6}) P([+-]\d\.\d) T([+-]\d\.\d) Z(\d\.\d) (.+)$"
)


def _band_colours(clip: Path) -> list[tuple[float, float]]:
    """The mean (Cb, Cr) of each picture's band."""
    with av.open(str(clip)) as container:
        colours = []
        for frame in container.decode(video=0):
            planes = np.asarray(frame.to_ndarray(format="yuv420p"))
            height, width = frame.height, frame.width
            cb = planes[height : height + BAND_HEIGHT // 8].reshape(-1)[: width * BAND_HEIGHT // 4]
            cr_start = height + height // 4
            cr = planes[cr_start : cr_start + BAND_HEIGHT // 8].reshape(-1)
            colours.append((float(cb.mean()), float(cr[: width * BAND_HEIGHT // 4].mean())))
        return colours


def _captions(clip: Path) -> list[str]:
    with av.open(str(clip)) as container:
        return [
            read_caption(np.asarray(frame.to_ndarray(format="yuv420p"))[: frame.height])
            for frame in container.decode(video=0)
        ]


@pytest.mark.parametrize("codec", ["h264", "h265"])
def test_pictures_carry_the_wall_clock_frame_counter_ptz_name_and_the_camera_s_colour(
    tmp_path: Path, codec: str
) -> None:
    arguments = ("--main", "960x544@25:800k", "--codec", codec)
    with TestCameraProcess(tmp_path, count=2, extra_args=arguments) as cameras:
        cameras.start(timeout_s=120)
        clip = tmp_path / "caption.mp4"
        started = time.time()
        record(f"rtsp://127.0.0.1:{cameras.rtsp_port}/cam2/main", clip, seconds=3)
    assert decode_errors(clip) == ""
    captions = [CAPTION.match(text) for text in _captions(clip)]
    assert len(captions) >= 50
    assert all(captions), [c for c in _captions(clip) if not CAPTION.match(c)][:3]
    parsed = [m for m in captions if m]
    assert {m[9] for m in parsed} == {"Camera 002"}
    assert {(m[6], m[7], m[8]) for m in parsed} == {("+0.0", "+0.0", "0.0")}
    frames = [int(m[5]) for m in parsed]
    assert frames == list(range(frames[0], frames[0] + len(frames)))
    clock_ms = [((int(m[1]) * 60 + int(m[2])) * 60 + int(m[3])) * 1000 + int(m[4]) for m in parsed]
    assert all(b > a for a, b in itertools.pairwise(clock_ms)), [m[0] for m in parsed]
    day_ms = int(started * 1000) % 86_400_000
    assert abs(clock_ms[0] - day_ms) < 30_000  # UTC wall clock of when it was sent
    # The band is the second camera's colour, whatever its text.
    cb, cr = tint_of(1)
    colours = _band_colours(clip)
    assert all(abs(b - cb) < 3 and abs(r - cr) < 3 for b, r in colours), (cb, cr, colours[:3])


def test_a_plate_read_shows_the_plate_in_the_caption(tmp_path: Path) -> None:
    with TestCameraProcess(
        tmp_path, count=1, extra_args=("--main", "960x544@25:800k", "--lpr", "--lpr-every", "3600")
    ) as cameras:
        cameras.start(timeout_s=120)
        answer = httpx.post(
            f"{cameras.url()}/control/lpr/read", json={"plate": "VIG 42"}, timeout=10
        )
        assert answer.status_code == 200
        clip = tmp_path / "plate.mp4"
        record(f"rtsp://127.0.0.1:{cameras.rtsp_port}/cam1/main", clip, seconds=1)
    captions = _captions(clip)
    assert captions
    assert all("#" in text and " [VIG 42] P+0.0" in text for text in captions), captions[:2]


async def test_a_ptz_move_shows_in_the_picture(tmp_path: Path) -> None:
    with TestCameraProcess(tmp_path, count=1, extra_args=("--main", "960x544@25:800k")) as cameras:
        cameras.start(timeout_s=120)
        onvif = ONVIFCamera("127.0.0.1", cameras.http_port, "any", "any", no_cache=True)
        try:
            await onvif.update_xaddrs()
            ptz = await onvif.create_ptz_service()
            await ptz.AbsoluteMove(
                {
                    "ProfileToken": "main",
                    "Position": {"PanTilt": {"x": 0.5, "y": -0.3}, "Zoom": {"x": 0.8}},
                }
            )
        finally:
            await onvif.close()
        clip = tmp_path / "ptz.mp4"
        await asyncio.to_thread(record, f"rtsp://127.0.0.1:{cameras.rtsp_port}/cam1/main", clip, 1)
    captions = _captions(clip)
    assert captions
    assert all(" P+0.5 T-0.3 Z0.8 Camera 001" in text for text in captions), captions[:2]


def test_without_caption_the_band_is_blank_and_pictures_decode(tmp_path: Path) -> None:
    with TestCameraProcess(tmp_path, count=1, extra_args=("--no-caption",)) as cameras:
        cameras.start(timeout_s=120)
        clip = tmp_path / "blank.mp4"
        record(f"rtsp://127.0.0.1:{cameras.rtsp_port}/cam1/main", clip, seconds=2)
    assert decode_errors(clip) == ""
    captions = _captions(clip)
    assert len(captions) >= 25
    assert set(captions) == {""}
