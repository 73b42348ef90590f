"""One camera served by an independent peer, put through what Vigil does with a stream: it
goes online with the right codec and size, is recorded, exported and served again over
RTSP, and everything Vigil makes of it is decoded by GStreamer and by FFmpeg, neither of
which shares code with Vigil."""

import base64
import json
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from tests.media.recorded_site import recorded_s
from tests.peers.gst import Played, gst_launch_errors, play, rtsp_request
from tests.servers import OWNER, OWNER_PASSWORD, ServerProcess
from tests.testcamera.ffmpeg import decode_errors
from tests.waiting import wait_for

WAIT_S = 30.0
RECORD_S = 3.0  # recorded before Vigil's output is looked at
PLAYED_PICTURES = 20  # decoded from each of Vigil's RTSP streams


@dataclass
class Vigil:
    """A one-server system the tests add cameras to; `folder` holds its data and logs."""

    server: ServerProcess
    owner: httpx.Client
    folder: Path


@dataclass(frozen=True)
class Expected:
    """What the camera sends, as Vigil should report it."""

    codec: str  # "h264" or "h265"
    width: int = 640
    height: int = 360
    fps: int = 25
    audio: str | None = None  # the stats' audio, e.g. "aac 16000 Hz mono"
    # How long the camera may be away inside one file: the recorder joins a break shorter
    # than its MAX_GAP_MS (a reconnect) into the file, the picture before it showing on.
    away_ms: int = 0

    @property
    def frame_ms(self) -> float:
        return 1000 / self.fps


def add_camera(owner: httpx.Client, name: str, url: str, **fields: Any) -> str:
    answer = owner.post("/cameras", json={"name": name, "main_url": url, **fields})
    assert answer.status_code == 201, answer.text
    camera_id: str = answer.json()["id"]
    return camera_id


def main_stream(owner: httpx.Client, camera_id: str) -> dict[str, Any]:
    answer = owner.get(f"/cameras/{camera_id}")
    assert answer.status_code == 200, answer.text
    stream: dict[str, Any] = answer.json()["streams"]["main"]
    return stream


def wait_online(owner: httpx.Client, camera_id: str, since_ms: int = 0) -> dict[str, Any]:
    """The main stream's stats, once it is online (since `since_ms`) with figures."""

    def online() -> dict[str, Any] | None:
        stream = main_stream(owner, camera_id)
        status = stream["status"]
        if status["state"] == "online" and status["since_ms"] >= since_ms and stream["stats"]:
            stats: dict[str, Any] = stream["stats"]
            return stats
        return None

    try:
        return wait_for(online, WAIT_S, "the camera's main stream online with stats")
    except AssertionError as err:
        raise AssertionError(f"{err}; it is {main_stream(owner, camera_id)['status']}") from err


def wait_state(owner: httpx.Client, camera_id: str, state: str) -> dict[str, Any]:
    """The main stream's status once it is in `state` (say, after its first attempt)."""

    def status() -> dict[str, Any] | None:
        found: dict[str, Any] = main_stream(owner, camera_id)["status"]
        return found if found["state"] == state else None

    try:
        return wait_for(status, WAIT_S, f"the camera's main stream {state}")
    except AssertionError as err:
        raise AssertionError(f"{err}; it is {main_stream(owner, camera_id)['status']}") from err


def wait_recorded(owner: httpx.Client, camera_id: str, since_ms: int, seconds: float) -> None:
    wait_for(
        lambda: recorded_s(owner, camera_id, since_ms) >= seconds,
        seconds + WAIT_S,
        f"{seconds:g} s recorded",
    )


def vigil_rtsp_url(server: ServerProcess, camera_id: str, query: str = "") -> str:
    credentials = f"{quote(OWNER)}:{quote(OWNER_PASSWORD)}@"
    return f"rtsp://{credentials}127.0.0.1:{server.rtsp_port}/cameras/{camera_id}/main{query}"


@dataclass(frozen=True)
class Probed:
    """What ffprobe decoded of a stream or file."""

    returncode: int
    errors: str
    codec: str | None
    width: int | None
    height: int | None
    pictures: int
    duration_s: float | None


def ffprobe_count(
    location: str | Path, *, seconds: float | None = None, transport: str = "tcp"
) -> Probed:
    """Decode the video of `location` with ffprobe (`-count_frames`): all of a file, or
    `seconds` of a stream."""
    command = ["ffprobe", "-v", "error"]
    if str(location).startswith("rtsp://"):
        command += ["-rtsp_transport", transport]
    if seconds is not None:
        command += ["-read_intervals", f"%+{seconds:g}"]
    command += [
        "-select_streams",
        "v:0",
        "-count_frames",
        "-show_entries",
        "stream=codec_name,width,height,nb_read_frames,duration",
        "-of",
        "json",
        str(location),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=WAIT_S + 30, check=False)
    streams = json.loads(done.stdout or "{}").get("streams") or [{}]
    stream = streams[0]
    duration = stream.get("duration")
    return Probed(
        done.returncode,
        done.stderr.strip(),
        stream.get("codec_name"),
        stream.get("width"),
        stream.get("height"),
        int(stream.get("nb_read_frames") or 0),
        float(duration) if duration not in (None, "N/A") else None,
    )


def _assert_played(what: str, played: Played, expected: Expected) -> None:
    assert not played.errors, f"GStreamer on {what}: {played.errors}"
    assert played.pictures > 0, f"GStreamer decoded no picture of {what}: {played}"
    assert (played.caps_field("width"), played.caps_field("height")) == (
        str(expected.width),
        str(expected.height),
    ), f"GStreamer on {what}: {played.caps}"


def _assert_probed(what: str, probed: Probed, expected: Expected) -> None:
    assert probed.returncode == 0, f"ffprobe on {what}: {probed}"
    assert probed.errors == "", f"ffprobe on {what}: {probed}"
    assert probed.pictures > 0, f"ffprobe decoded no picture of {what}: {probed}"
    assert (probed.codec, probed.width, probed.height) == (
        expected.codec.replace("h265", "hevc"),
        expected.width,
        expected.height,
    ), f"ffprobe on {what}: {probed}"


def _assert_decodes(what: str, clip: Path) -> None:
    """`ffmpeg -v error -i CLIP -f null -` and `gst-launch-1.0 … qtdemux ! decodebin …` both
    decode `clip` with nothing to say."""
    said = decode_errors(clip)
    assert said == "", f"ffmpeg on {what}: {said}"
    said = gst_launch_errors(clip)
    assert said == "", f"gst-launch on {what}: {said}"


def check_rtsp_out(
    server: ServerProcess, camera_id: str, expected: Expected, query: str = ""
) -> None:
    """Vigil's RTSP out of the camera (live, or the archive with `query` ?start=…) as
    GStreamer's rtspsrc and ffprobe play it: pictures decoded, no error."""
    url = vigil_rtsp_url(server, camera_id, query)
    what = f"Vigil's RTSP out {'(archive)' if query else '(live)'}"
    described = rtsp_request(url, "DESCRIBE")
    assert described.status == 401, described  # then the players log in with Basic
    with ThreadPoolExecutor(2) as pool:
        gst = pool.submit(play, url, pictures=PLAYED_PICTURES, timeout_s=WAIT_S)
        ffprobe = pool.submit(ffprobe_count, url, seconds=1.5)
        _assert_played(what, gst.result(), expected)
        _assert_probed(what, ffprobe.result(), expected)


def check_described(server: ServerProcess, camera_id: str, expected: Expected) -> None:
    """RTSP out's DESCRIBE answers 200 with the camera's codec and its parameter sets (even
    when the camera sends them in band only)."""
    token = base64.b64encode(f"{OWNER}:{OWNER_PASSWORD}".encode()).decode()
    url = vigil_rtsp_url(server, camera_id).replace(f"{quote(OWNER)}:{quote(OWNER_PASSWORD)}@", "")
    described = rtsp_request(url, "DESCRIBE", {"Authorization": f"Basic {token}"})
    assert described.status == 200, described
    encoding = "H264" if expected.codec == "h264" else "H265"
    assert f" {encoding}/90000" in described.body, described.body
    sprop = "sprop-parameter-sets=" if expected.codec == "h264" else "sprop-sps="
    assert sprop in described.body, described.body


def check_export(
    owner: httpx.Client, camera_id: str, from_ms: int, folder: Path, expected: Expected
) -> None:
    """A direct download of what was recorded decodes in FFmpeg and in GStreamer."""
    to_ms = int(time.time() * 1000)
    clip = folder / f"export-{camera_id}.mp4"
    answer = owner.get(f"/cameras/{camera_id}/export", params={"from_ms": from_ms, "to_ms": to_ms})
    assert answer.status_code == 200, answer.text
    clip.write_bytes(answer.content)
    _assert_decodes("the export", clip)
    _assert_played("the export", play(clip, timeout_s=WAIT_S), expected)


def closed_files(server: ServerProcess, camera_id: str) -> list[Path]:
    return sorted(
        p
        for p in (server.data_dir / "archive" / camera_id / "main").rglob("*.mp4")
        if not p.name.endswith(".part.mp4")
    )


def close_recordings(
    owner: httpx.Client, server: ServerProcess, camera_id: str, since_ms: int
) -> list[Path]:
    """Disable the camera (which closes its file) and return its closed files, as listed by
    GET recordings."""
    answer = owner.patch(f"/cameras/{camera_id}", json={"enabled": False})
    assert answer.status_code == 200, answer.text

    def listed() -> list[dict[str, Any]] | None:
        params = {"from_ms": since_ms, "to_ms": int(time.time() * 1000)}
        got = owner.get(f"/cameras/{camera_id}/recordings", params=params)
        assert got.status_code == 200, got.text
        recordings: list[dict[str, Any]] = got.json()["recordings"]
        files = closed_files(server, camera_id)
        return recordings if recordings and len(files) == len(recordings) else None

    recordings = wait_for(listed, WAIT_S, "the camera's closed files listed by GET recordings")
    files = closed_files(server, camera_id)
    assert [int(p.stem.split("_")[0]) for p in files] == [r["start_ms"] for r in recordings]
    return files


def check_archive_file(path: Path, expected: Expected) -> None:
    """A recorded file decodes cleanly in FFmpeg and GStreamer, both decode the same number
    of pictures, and that many pictures last as long as the file says."""
    what = f"the archive file {path.name}"
    _assert_decodes(what, path)
    probed = ffprobe_count(path)
    _assert_probed(what, probed, expected)
    played = play(path, timeout_s=WAIT_S)
    _assert_played(what, played, expected)
    assert played.eos, f"GStreamer did not reach the end of {what}: {played}"
    assert played.pictures == probed.pictures, (what, played, probed)
    duration_ms = int(path.stem.split("_")[1])
    pictures_ms = probed.pictures * expected.frame_ms
    # The name's duration runs from the first picture to the end of the last one.
    slack_ms = max(3 * expected.frame_ms, 0.03 * duration_ms)
    assert -slack_ms <= duration_ms - pictures_ms <= slack_ms + expected.away_ms, (
        f"{what}: {probed.pictures} pictures of {expected.frame_ms:g} ms, but it lasts "
        f"{duration_ms} ms"
    )


def exercise(
    vigil: Vigil,
    name: str,
    url: str,
    expected: Expected,
    camera: dict[str, Any] | None = None,
    meanwhile: Callable[[str, int], None] | None = None,
) -> str:
    """Add the camera at `url` (with the `camera` fields: credentials, transport) and check
    everything above; returns its id. `meanwhile(camera_id, started_ms)` runs once the first
    seconds are recorded, before Vigil's output is looked at. What does not depend on each
    other runs side by side (the players are processes of their own)."""
    server, owner, fields = vigil.server, vigil.owner, camera or {}
    started_ms = int(time.time() * 1000)
    camera_id = add_camera(owner, name, url, **fields)
    stats = wait_online(owner, camera_id)
    assert (stats["codec"], stats["width"], stats["height"]) == (
        expected.codec,
        expected.width,
        expected.height,
    ), stats
    assert stats["transport"] == fields.get("transport", "tcp"), stats
    with ThreadPoolExecutor(3) as pool:
        live = pool.submit(check_rtsp_out, server, camera_id, expected)
        wait_recorded(owner, camera_id, started_ms, RECORD_S)
        if meanwhile is not None:
            live.result()
            meanwhile(camera_id, started_ms)
        stats = main_stream(owner, camera_id)["stats"]
        assert stats["audio"] == expected.audio, stats
        assert stats["lost_packets"] == 0, stats
        check_described(server, camera_id, expected)
        archive = pool.submit(check_rtsp_out, server, camera_id, expected, f"?start={started_ms}")
        export = pool.submit(check_export, owner, camera_id, started_ms, vigil.folder, expected)
        for done in (live, archive, export):
            done.result()
    files = close_recordings(owner, server, camera_id, started_ms)
    with ThreadPoolExecutor(2) as pool:
        for checked in [pool.submit(check_archive_file, path, expected) for path in files]:
            checked.result()
    return camera_id
