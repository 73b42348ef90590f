"""Pictures that decode in another order than they show (B-frames): decode times made from
the camera's presentation times, written to fMP4 with signed offsets and read back, and the
files decoding in FFmpeg with every picture at the time the camera gave it."""

import itertools
import json
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import pytest

from vigil.media import mp4, sps
from vigil.media.archive.reader import read_chunk, read_tracks
from vigil.media.archive.scan import scan
from vigil.media.codecs import Codec, is_parameter_set, merge_parameter_sets, nal_type, split_annexb
from vigil.media.decode_order import DecodeOrder
from vigil.media.frames import Frame, StreamConfig
from vigil.media.rtptime import PictureTimeline

START_MS = 1_800_000_000_000
FRAME_TICKS = 3600  # 25 pictures a second at 90 kHz
_ENCODERS = {"h264": "libx264", "h265": "libx265"}


class _Clock:
    def __init__(self) -> None:
        self.ms = START_MS

    def now_ms(self) -> int:
        return self.ms


def _sent_order(groups: int) -> list[int]:
    """Picture numbers in the order a camera sends groups of 12 with two B-frames (the P-frame
    first, then the two that show before it), as x264 makes them."""
    order = []
    for group in range(groups):
        first = group * 12
        order += [first, first + 3, first + 1, first + 2, first + 6, first + 4, first + 5,
                  first + 9, first + 7, first + 8, first + 11, first + 10]  # fmt: skip
    return order


def test_decode_times_rise_by_one_interval_and_no_picture_shows_before_it_decodes() -> None:
    shown = _sent_order(8)
    order = DecodeOrder()
    decoded = [order.decode_time(n * FRAME_TICKS, n % 12 == 0) for n in shown]
    assert order.reordered
    assert all(later > earlier for earlier, later in itertools.pairwise(decoded))
    # Past the first group (decoded before the stream showed that it reorders), no picture
    # shows before it decodes.
    offsets = [n * FRAME_TICKS - d for n, d in zip(shown, decoded, strict=True)]
    assert min(offsets[12:]) >= 0
    # Once settled: each picture decodes one interval after the one before, a keyframe one
    # interval before it shows (the reorder delay of two B-frames).
    settled = shown.index(72)
    assert {b - a for a, b in itertools.pairwise(decoded[settled:])} == {FRAME_TICKS}
    assert offsets[settled] == FRAME_TICKS


def test_a_stream_in_order_decodes_each_picture_when_it_shows() -> None:
    order = DecodeOrder()
    shown = [0, 1, 2, 4, 5, 6, 9]  # two pictures lost on the way
    assert [order.decode_time(n * FRAME_TICKS, n == 0) for n in shown] == [
        n * FRAME_TICKS for n in shown
    ]
    assert not order.reordered


def test_a_jump_of_the_cameras_clock_shows_no_picture_at_or_before_one_shown_already() -> None:
    """Pictures placed by the camera's clock run ahead of the server's when the first one came
    late (a busy camera): anchored again at a jump, the next group starts a frame interval
    after the latest picture shown, not at its arrival, which would be among those shown."""
    clock = _Clock()
    timeline = PictureTimeline(clock, 90_000)
    shown = _sent_order(4)
    times = []
    for n in shown[:24]:
        clock.ms = START_MS + n * 40 + (200 if n == 0 else 0)  # the first came 200 ms late
        times.append(timeline.times_of(n * FRAME_TICKS, n % 12 == 0))
    for n in shown[24:]:  # the camera's clock jumps a minute ahead
        clock.ms = START_MS + n * 40
        times.append(timeline.times_of((n + 1500) * FRAME_TICKS, n % 12 == 0))
    decoded = [d for d, _ in times]
    presented = [p for _, p in times]
    assert all(later > earlier for earlier, later in itertools.pairwise(decoded))
    before, after = presented[:24], presented[24:]
    assert min(after) == max(before) + 40, (max(before), min(after))
    assert sorted(after) == [min(after) + 40 * k for k in range(24)]


def test_a_keyframe_from_an_encoder_started_again_shows_after_every_picture_before_it() -> None:
    """A busy camera's encoder starts again mid-group: its keyframe comes with the time of a
    picture already shown (and a B-frame never comes). The new group goes after it."""
    clock = _Clock()
    timeline = PictureTimeline(clock, 90_000)
    sent = [(n, n % 12 == 0) for n in _sent_order(2)]  # two groups: 0, 3, 1, 2, 6, 4, 5, …
    sent += [(15, True)] + [(15 + n, False) for n in (3, 1, 2, 6, 4, 5)]  # after 14: a new 15
    shown = []
    for n, keyframe in sent:
        clock.ms = START_MS + n * 40
        shown.append(timeline.times_of(n * FRAME_TICKS, keyframe)[1])
    restart = len(_sent_order(2))
    assert len(set(shown)) == len(shown), shown
    assert shown[restart] == max(shown[:restart]) + 40
    assert sorted(shown[restart:]) == [shown[restart] + 40 * k for k in range(7)]


def _encoded(codec: Codec, count: int) -> tuple[list[tuple[bytes, int, bool]], StreamConfig]:
    """`count` pictures from FFmpeg's own encoder with two B-frames: (Annex B access unit,
    presentation time in 90 kHz ticks, keyframe) in decode order, as a camera sends them."""
    encoder = av.CodecContext.create(_ENCODERS[codec], "w")
    assert isinstance(encoder, av.VideoCodecContext)
    encoder.width, encoder.height, encoder.pix_fmt = 320, 240, "yuv420p"
    encoder.time_base = Fraction(1, 90_000)
    encoder.framerate = Fraction(25)
    encoder.gop_size = 25
    encoder.max_b_frames = 2
    encoder.options = (
        {"x264-params": "bframes=2:b-adapt=0:scenecut=0:keyint=25:min-keyint=25"}
        if codec == "h264"
        else {"x265-params": "bframes=2:b-adapt=0:scenecut=0:keyint=25:min-keyint=25:"
              "open-gop=0:log-level=error"}
    )  # fmt: skip
    units: list[tuple[bytes, int, bool]] = []
    for n in range(count):
        picture = av.VideoFrame(320, 240, "yuv420p")
        for plane in picture.planes:
            plane.update(bytes([(n * 7 + plane.line_size) % 256]) * plane.buffer_size)
        picture.pts = n * FRAME_TICKS
        units += [(bytes(p), int(p.pts or 0), p.is_keyframe) for p in encoder.encode(picture)]
    units += [(bytes(p), int(p.pts or 0), p.is_keyframe) for p in encoder.encode(None)]
    sets: tuple[bytes, ...] = ()
    for unit, _, _ in units:
        sets = merge_parameter_sets(
            codec, sets, [nal for nal in split_annexb(unit) if is_parameter_set(codec, nal)]
        )
    sps_nal = next(nal for nal in sets if nal_type(codec, nal) in (7, 33))
    return units, StreamConfig(codec, sets, sps.parse(codec, sps_nal))


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="needs FFmpeg's ffprobe")
@pytest.mark.parametrize("codec", ["h264", "h265"])
def test_a_b_frame_stream_records_with_every_picture_at_its_time(
    tmp_path: Path, codec: Codec
) -> None:
    units, config = _encoded(codec, 50)
    assert any(b < a for (_, a, _), (_, b, _) in itertools.pairwise(units)), (
        "the encoder made no B-frames"
    )
    clock = _Clock()
    timeline = PictureTimeline(clock, 90_000)
    frames = []
    for n, (unit, pts, key) in enumerate(units):
        clock.ms = START_MS + n * 40 + n % 3  # arrival, with a little jitter
        decode_ms, shown_ms = timeline.times_of(pts, key)
        nals = tuple(split_annexb(unit))
        frames.append(Frame(decode_ms, key, nals, config, len(unit), shown_ms - decode_ms))
    keys = [n for n, f in enumerate(frames) if f.keyframe] + [len(frames)]
    data = mp4.init_segment(config)
    for sequence, (start, end) in enumerate(itertools.pairwise(keys), start=1):
        end_ms = frames[end].time_ms if end < len(frames) else frames[-1].time_ms + 40
        data += mp4.fragment(sequence, frames[start:end], end_ms, frames[0].time_ms).data
    path = tmp_path / "b-frames.mp4"
    path.write_bytes(data)

    # Read back: each picture's decode and presentation times as written.
    tracks = read_tracks(path)
    read = [
        f
        for fragment in scan(path).fragments
        for f in read_chunk(path, tracks, frames[0].time_ms, fragment).frames
    ]
    assert [(f.time_ms, f.offset_ms) for f in read] == [(f.time_ms, f.offset_ms) for f in frames]

    # FFmpeg decodes it without a complaint, every picture at the camera's time.
    decoded = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "null", "-"],
                             capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert decoded.returncode == 0
    assert decoded.stderr == ""
    if shutil.which("gst-launch-1.0"):  # and GStreamer, another demuxer and decoder
        gst = subprocess.run(
            ["gst-launch-1.0", "-q", "filesrc", f"location={path}", "!", "qtdemux", "!",
             "decodebin", "!", "fakesink"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert gst.returncode == 0, gst.stderr + gst.stdout
        assert "ERROR" not in gst.stderr + gst.stdout
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
         "frame=pts_time:stream=nb_frames,duration", "-of", "json", str(path)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    shown = [round(float(f["pts_time"]) * 1000) for f in json.loads(probe.stdout)["frames"]]
    camera = sorted(round(pts / 90) for _, pts, _ in units)
    assert len(shown) == len(units)
    assert [t - shown[0] for t in shown] == [t - camera[0] for t in camera]
    # The pictures show for their count times the frame interval, and the file lasts as long,
    # less at most the reorder delay of its first group (decoded before the stream showed
    # that it reorders, so a few pictures last a moment each).
    assert shown[-1] + 40 - shown[0] == len(units) * 40
    duration_ms = (frames[-1].time_ms + 40) - frames[0].time_ms
    assert len(units) * 40 - 2 * 40 - 2 <= duration_ms <= len(units) * 40
