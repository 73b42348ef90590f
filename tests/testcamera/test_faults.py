"""Faults on demand, through the control API, as a recorder under test meets them."""

import itertools
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.testcamera.ffmpeg import decode_errors, record_command
from tests.testcamera.process import TestCameraProcess
from tests.testcamera.rtsp_client import RtpReader


@pytest.fixture(scope="module")
def cameras(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestCameraProcess]:
    with TestCameraProcess(tmp_path_factory.mktemp("faults"), count=2) as process:
        yield process.start(timeout_s=120)


def _rtsp(cameras: TestCameraProcess, path: str) -> str:
    return f"rtsp://127.0.0.1:{cameras.rtsp_port}{path}"


def _fault(
    cameras: TestCameraProcess, kind: str, camera: int = 0, **body: object
) -> dict[str, object]:
    answer = httpx.post(f"{cameras.url(camera)}/control/fault/{kind}", json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    result: dict[str, object] = answer.json()
    return result


def test_stall_stops_the_packets_and_the_stream_resumes_at_that_moment(
    cameras: TestCameraProcess,
) -> None:
    with RtpReader(_rtsp(cameras, "/cam1/main")) as reader:
        frames = reader.frames(seconds=20)
        before = [next(frames) for _ in range(3)]
        _fault(cameras, "stall", stream="main", seconds=2)
        after = list(itertools.islice(frames, 60))
    resumed = max(
        itertools.pairwise([before[-1], *after]), key=lambda p: p[1].arrived - p[0].arrived
    )
    # Nothing came for about the stall; the RTP clock then jumped by about as much.
    assert resumed[1].arrived - resumed[0].arrived > 1.5
    assert (resumed[1].rtp_time - resumed[0].rtp_time) & 0xFFFFFFFF > 1.5 * 90_000


def test_reset_timestamps_jumps_the_rtp_clock(cameras: TestCameraProcess) -> None:
    with RtpReader(_rtsp(cameras, "/cam1/sub")) as reader:
        frames = reader.frames(seconds=20)
        before = [next(frames) for _ in range(3)]
        _fault(cameras, "reset-timestamps", stream="sub")
        after = list(itertools.islice(frames, 5))
    steps = [
        (b.rtp_time - a.rtp_time) & 0xFFFFFFFF for a, b in itertools.pairwise([*before, *after])
    ]
    assert sum(step != 9_000 for step in steps) == 1  # 10 fps: 9,000 ticks a frame, but once
    # Only the clock jumped: the sequence numbers go on counting packets.
    frames_seen = [*before, *after]
    assert all(0 < (b.seq - a.seq) & 0xFFFF < 100 for a, b in itertools.pairwise(frames_seen))


def test_drop_cuts_the_connections_and_new_ones_work(cameras: TestCameraProcess) -> None:
    with RtpReader(_rtsp(cameras, "/cam2/sub")) as reader:
        frames = reader.frames(seconds=30)
        next(frames)
        assert _fault(cameras, "drop", camera=1)["dropped"] == 1
        started = time.monotonic()
        remaining = list(frames)  # ends when the server closes the connection
        assert time.monotonic() - started < 20
        assert len(remaining) < 100
    with RtpReader(_rtsp(cameras, "/cam2/sub")) as again:
        assert len(list(itertools.islice(again.frames(seconds=10), 3))) == 3


def test_offline_camera_answers_nothing_then_comes_back(cameras: TestCameraProcess) -> None:
    _fault(cameras, "offline", camera=1, seconds=3)
    assert (
        httpx.post(f"{cameras.url(1)}/onvif/device_service", content=b"", timeout=5).status_code
        == 503
    )
    with pytest.raises(ConnectionError):
        RtpReader(_rtsp(cameras, "/cam2/main"))
    # The other camera is not affected.
    with RtpReader(_rtsp(cameras, "/cam1/sub")) as other:
        next(other.frames(seconds=10))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with RtpReader(_rtsp(cameras, "/cam2/main")) as back:
                next(back.frames(seconds=10))
                return
        except ConnectionError:
            time.sleep(0.5)
    pytest.fail("the camera did not come back")


def test_corrupt_packets_reach_the_decoder_as_errors(
    cameras: TestCameraProcess, tmp_path: Path
) -> None:
    clip = tmp_path / "corrupt.mp4"
    recorder = subprocess.Popen(
        record_command(_rtsp(cameras, "/cam1/main"), clip, seconds=6),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(3)
    _fault(cameras, "corrupt", stream="main", packets=20)
    assert recorder.wait(timeout=40) == 0
    assert decode_errors(clip) != ""  # the decoder noticed
    status = httpx.get(f"{cameras.url()}/control/status", timeout=5).json()
    assert status["online"] is True


def test_resolution_change_mid_stream(cameras: TestCameraProcess) -> None:
    answer = httpx.post(
        f"{cameras.url(1)}/control/resolution",
        json={"stream": "main", "profile": "256x144@25:300k"},
        timeout=10,
    )
    assert answer.status_code == 200
    deadline = time.monotonic() + 30
    size = None
    while time.monotonic() < deadline and size != (256, 144):
        probe = subprocess.run(
            [
                "ffprobe",
                "-v",
                "error",
                "-rtsp_transport",
                "tcp",
                "-show_entries",
                "stream=width,height",
                "-of",
                "json",
                _rtsp(cameras, "/cam2/main"),
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        stream = json.loads(probe.stdout)["streams"][0]
        size = (stream["width"], stream["height"])
    assert size == (256, 144)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/control/fault/explode", {}),
        ("/control/fault/stall", {"seconds": "long"}),
        ("/control/fault/stall", {"seconds": 5, "stream": "third"}),
        ("/control/fault/offline", {"seconds": -1}),
        ("/control/fault/corrupt", {"packets": 0}),
        ("/control/resolution", {"profile": "big"}),
        ("/control/resolution", {"stream": "main"}),
        ("/control/codec", {"stream": "main", "codec": "vp8"}),
        ("/control/codec", {"stream": "sub"}),
        ("/control/lpr/read", {}),
    ],
)
def test_bad_control_requests_are_refused_and_change_nothing(
    cameras: TestCameraProcess, path: str, body: dict[str, object]
) -> None:
    before = httpx.get(f"{cameras.url()}/control/status", timeout=5).json()
    answer = httpx.post(f"{cameras.url()}{path}", json=body, timeout=5)
    assert 400 <= answer.status_code < 500
    assert "error" in answer.json()
    assert httpx.get(f"{cameras.url()}/control/status", timeout=5).json() == before


def test_motion_on_a_schedule_comes_and_goes(tmp_path: Path) -> None:
    with TestCameraProcess(
        tmp_path, count=1, extra_args=("--motion-every", "1", "--motion-for", "0.4")
    ) as cameras:
        cameras.start(timeout_s=120)
        seen = set()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and seen != {True, False}:
            seen.add(httpx.get(f"{cameras.url()}/control/status", timeout=5).json()["motion"])
            time.sleep(0.05)
    assert seen == {True, False}
