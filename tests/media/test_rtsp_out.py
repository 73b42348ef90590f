"""The server's RTSP out, pulled by Debian's ffprobe and ffmpeg as any player would: live and
archive of a simulated camera, with its sound, behind the users' passwords and rights."""

import json
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest

from tests.media.test_recording import recording
from tests.servers import OWNER, OWNER_PASSWORD, ServerProcess, add_user
from tests.testcamera.ffmpeg import decode_errors, record, record_command
from tests.testcamera.process import TestCameraProcess
from tests.testcamera.rtsp_client import Conversation
from tests.waiting import wait_for
from vigil.testcamera.video.caption import read_caption

WAIT_S = 30.0
USER_PASSWORD = "user password 1"


def _url(server: ServerProcess, camera_id: str, *, user: str = OWNER,
         password: str = OWNER_PASSWORD, stream: str = "main", query: str = "") -> str:  # fmt: skip
    credentials = f"{user}:{password.replace(' ', '%20')}@" if user else ""
    return f"rtsp://{credentials}127.0.0.1:{server.rtsp_port}/cameras/{camera_id}/{stream}{query}"


def _probe(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries",
         "stream=codec_type,codec_name,width,height,sample_rate", "-of", "json", url],
        capture_output=True, text=True, timeout=WAIT_S, check=False,
    )  # fmt: skip


def _streams(url: str) -> list[dict[str, Any]]:
    probed = _probe(url)
    assert probed.returncode == 0, probed.stderr
    streams: list[dict[str, Any]] = json.loads(probed.stdout)["streams"]
    return streams


def _viewers(owner: httpx.Client, camera_id: str) -> int:
    viewers: int = owner.get(f"/cameras/{camera_id}").json()["streams"]["main"]["viewers"]
    return viewers


def _caption_times_ms(clip: Path) -> list[int]:
    """The camera's clock (UTC, milliseconds of the day) burned into each picture of `clip`."""
    times = []
    with av.open(str(clip)) as container:
        for frame in container.decode(video=0):
            luma = np.asarray(frame.to_ndarray(format="yuv420p"))[: frame.height]
            match = re.match(r"(\d\d):(\d\d):(\d\d)\.(\d\d\d)", read_caption(luma))
            assert match is not None, read_caption(luma)
            hours, minutes, seconds, ms = (int(part) for part in match.groups())
            times.append(((hours * 60 + minutes) * 60 + seconds) * 1000 + ms)
    return times


@pytest.fixture
def serving(
    tmp_path: Path, camera: TestCameraProcess
) -> Iterator[tuple[ServerProcess, httpx.Client, str]]:
    """A server recording the camera, its main stream online: (server, owner, camera id)."""
    server = ServerProcess(tmp_path / "server")
    with server, recording(server, camera) as (owner, camera_id):
        wait_for(
            lambda: owner.get(f"/cameras/{camera_id}").json()["streams"]["main"]["stats"],
            WAIT_S,
            "the stream to come online",
        )
        yield server, owner, camera_id


def test_live_pull_shows_the_camera_codec_size_and_sound_and_decodes(
    tmp_path: Path, serving: tuple[ServerProcess, httpx.Client, str]
) -> None:
    server, owner, camera_id = serving
    stats = owner.get(f"/cameras/{camera_id}").json()["streams"]["main"]["stats"]
    video, audio = _streams(_url(server, camera_id))
    assert (video["codec_type"], video["codec_name"]) == ("video", stats["codec"])
    assert (video["width"], video["height"]) == (stats["width"], stats["height"])
    assert (audio["codec_type"], audio["codec_name"]) == ("audio", "aac")
    assert stats["audio"].startswith(f"aac {audio['sample_rate']} Hz")
    clip = tmp_path / "live.mkv"
    record(_url(server, camera_id), clip, seconds=2)
    assert decode_errors(clip) == ""
    assert len(_caption_times_ms(clip)) >= 10
