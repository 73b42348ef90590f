"""Fragmented MP4 with sound: a camera's video and AAC, pulled over RTSP, depacketized and
written by `media/mp4.py` as the recorder will, play in FFmpeg with both tracks in step."""

import itertools
import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.testcamera.ffmpeg import decode_errors
from tests.testcamera.process import TestCameraProcess
from tests.testcamera.rtsp_client import pull_tracks
from tests.testcamera.sound import bursts, caption_clock_offset_s
from vigil.media import mp4, sps
from vigil.media.aac import AacDepacketizer, AudioUnit
from vigil.media.codecs import nal_type
from vigil.media.depacketize import AccessUnit, Depacketizer
from vigil.media.frames import AudioFrame, Frame, StreamConfig
from vigil.media.rtsp.sdp import parse_tracks
from vigil.testcamera.audio.signal import LOOP_SECONDS

FPS = 25
_NTP_EPOCH_OFFSET = 2_208_988_800


@pytest.fixture(scope="module")
def camera(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestCameraProcess]:
    with TestCameraProcess(tmp_path_factory.mktemp("mp4-audio"), count=1) as process:
        yield process.start(timeout_s=120)


def _clock(reports: list[bytes], clock_rate: int) -> Callable[[int], int]:
    """RTP time → wall clock (ms since the epoch) by the track's first sender report, as
    ingest will place both tracks of a stream on one clock."""
    report = next(r for r in reports if len(r) >= 20 and r[1] == 200)
    ntp = int.from_bytes(report[8:16], "big") / (1 << 32) - _NTP_EPOCH_OFFSET
    rtp = int.from_bytes(report[16:20], "big")

    def wall_ms(timestamp: int) -> int:
        delta = (timestamp - rtp + (1 << 31)) % (1 << 32) - (1 << 31)
        return round((ntp + delta / clock_rate) * 1000)

    return wall_ms


def _write_clip(camera: TestCameraProcess, clip: Path) -> tuple[list[Frame], list[AudioFrame]]:
    url = camera.rtsp_url("/cam1/main")
    pulled = pull_tracks(url, tracks=2, seconds=7)
    video_track, audio_track = parse_tracks(pulled.sdp, url)
    parameters = audio_track.aac_parameters()
    units: list[AccessUnit] = []
    sounds: list[AudioUnit] = []
    video = Depacketizer("h264", video_track.payload_type, units.append)
    audio = AacDepacketizer(parameters, audio_track.payload_type, sounds.append)
    for packet in pulled.packets[0]:
        video.push(packet)
    for packet in pulled.packets[2]:
        audio.push(packet)
    assert audio.lost_packets == audio.dropped_units == 0
    video_ms = _clock(pulled.packets[1], video_track.clock_rate)
    audio_ms = _clock(pulled.packets[3], audio_track.clock_rate)
    parameter_sets = tuple(video_track.parameter_sets())
    config = StreamConfig(
        "h264",
        parameter_sets,
        sps.parse("h264", next(n for n in parameter_sets if nal_type("h264", n) == 7)),
    )
    frames = [Frame(video_ms(u.rtp_timestamp), u.keyframe, u.nals, config, u.size) for u in units]
    sound = [AudioFrame(audio_ms(u.rtp_timestamp), u.data, parameters.config) for u in sounds]
    # A file as the recorder makes one: from a keyframe, a fragment a GOP, each with the sound
    # of its span.
    keys = [n for n, frame in enumerate(frames) if frame.keyframe] + [len(frames)]
    origin_ms = frames[0].time_ms
    data = mp4.init_segment(config, parameters.config)
    written: list[AudioFrame] = []
    for sequence, (first, end) in enumerate(itertools.pairwise(keys), start=1):
        gop = frames[first:end]
        end_ms = frames[end].time_ms if end < len(frames) else gop[-1].time_ms + 1000 // FPS
        span = [s for s in sound if frames[first].time_ms <= s.time_ms < end_ms]
        data += mp4.fragment(sequence, gop, end_ms, origin_ms, span).data
        written += span
    clip.write_bytes(data)
    return frames, written


def _streams(clip: Path) -> list[dict[str, str]]:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries",
         "stream=codec_name,sample_rate,channels,start_time,duration", "-of", "json", str(clip)],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    streams: list[dict[str, str]] = json.loads(result.stdout)["streams"]
    return streams


def test_video_and_aac_sound_play_from_one_file_in_step(
    camera: TestCameraProcess, tmp_path: Path
) -> None:
    clip = tmp_path / "clip.mp4"
    frames, sound = _write_clip(camera, clip)
    assert decode_errors(clip) == ""
    video, audio = _streams(clip)
    assert (video["codec_name"], audio["codec_name"]) == ("h264", "aac")
    assert (audio["sample_rate"], audio["channels"]) == ("16000", 1)
    # Durations (a track's ends where its last frame does): every picture and every sound
    # frame, nothing stretched or lost; and both tracks cover the same span.
    sound_frame_s = 1024 / 16000
    video_start, audio_start = float(video["start_time"]), float(audio["start_time"])
    video_end, audio_end = float(video["duration"]), float(audio["duration"])
    assert video_end - video_start == pytest.approx(len(frames) / FPS, abs=0.002)
    assert audio_end - audio_start == pytest.approx(len(sound) * sound_frame_s, abs=0.002)
    assert 0 <= audio_start - video_start < sound_frame_s
    assert abs(audio_end - video_end) < sound_frame_s
    # And stays in step: each second's tone burst where the caption shows that second.
    offset = caption_clock_offset_s(clip)
    heard = bursts(clip)
    assert len(heard) >= 4
    for burst in heard:
        wall_s = offset + burst.onset_s
        assert abs(wall_s - round(wall_s)) < 1 / FPS, (burst, wall_s)
        assert burst.second == round(wall_s) % LOOP_SECONDS
