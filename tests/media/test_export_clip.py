"""A clip made of archive chunks, read back with the archive's own reader: trimmed to the
range, gaps closed up, parameter changes carried in-band."""

import itertools
from pathlib import Path

from vigil.media.archive.cursor import Gap
from vigil.media.archive.reader import Chunk, read_chunk, read_tracks
from vigil.media.archive.scan import scan
from vigil.media.export.clip import Clip
from vigil.media.frames import Frame, StreamConfig
from vigil.media.sps import SpsInfo

# Parameter sets of two real encodings (x264, baseline): 320x240 and 640x360.
SMALL = StreamConfig(
    "h264",
    (
        bytes.fromhex("6742c00dd90141fb011000000300100000030320f142a480"),
        bytes.fromhex("68cb83cb20"),
    ),
    SpsInfo(320, 240, 1, 8, 8),
)
LARGE = StreamConfig(
    "h264",
    (
        bytes.fromhex("6742c01ed900a02ff97011000003000100000300320f162e48"),
        bytes.fromhex("68cb83cb20"),
    ),
    SpsInfo(640, 360, 1, 8, 8),
)


def _chunk(config: StreamConfig, start_ms: int, count: int, *, keyframe: bool = True) -> Chunk:
    """`count` pictures 40 ms apart, the first a keyframe if `keyframe`."""
    frames = [
        Frame(start_ms + 40 * n, keyframe and n == 0, (b"\x65" if n == 0 else b"\x41", b"%d" % n),
              config, 2)
        for n in range(count)
    ]  # fmt: skip
    return Chunk(frames, [], start_ms, start_ms + 40 * count, None)


def _read_back(path: Path, clip: Clip, fragments: list[bytes]) -> list[Frame]:
    path.write_bytes(clip.init(whole=True) + b"".join(fragments))
    tracks = read_tracks(path)
    return [
        frame for info in scan(path).fragments for frame in read_chunk(path, tracks, 0, info).frames
    ]


def test_a_clip_starts_at_a_keyframe_closes_gaps_and_ends_at_the_range(tmp_path: Path) -> None:
    clip = Clip(to_ms=10_500)
    pieces = [
        clip.add(_chunk(SMALL, 1_000, 10, keyframe=False)),  # nothing to start from yet
        clip.add(_chunk(SMALL, 1_400, 15)),
    ]
    clip.skip(Gap(2_000, 10_000))
    pieces.append(clip.add(_chunk(LARGE, 10_000, 25)))
    assert clip.done
    assert clip.add(_chunk(LARGE, 11_000, 25)) == b""
    frames = _read_back(tmp_path / "clip.mp4", clip, [p for p in pieces if p])
    assert pieces[0] == b""
    assert (clip.start_ms, clip.end_ms, clip.duration_ms) == (1_400, 10_500, 1_100)
    assert clip.gaps == [Gap(2_000, 10_000)]
    # 600 ms, then the 500 ms after the gap, on one timeline from 0.
    times = [frame.time_ms for frame in frames]
    assert times == [40 * n for n in range(15)] + [600 + 40 * n for n in range(13)]
    assert frames[0].keyframe
    assert frames[15].keyframe
    # The picture after the change of parameters carries them, so a decoder can follow.
    assert frames[15].nals[:2] == LARGE.parameter_sets
    assert frames[0].nals[0] == b"\x65"
    assert read_tracks(tmp_path / "clip.mp4").video == SMALL


def b_frame_group(start_ms: int, lead_ms: int) -> Chunk:
    """12 pictures 40 ms apart sent as a camera with two B-frames sends them (I P B B …),
    decoding each 40 ms after the one before, the keyframe `lead_ms` before it shows: as
    Vigil's ingest times them, 80 ms once it knows the stream, 0 for a connection's first."""
    shown = [0, 3, 1, 2, 6, 4, 5, 9, 7, 8, 11, 10]
    frames = [
        Frame(start_ms + 40 * n, n == 0, (b"\x65" if n == 0 else b"\x41", b"%d" % n), SMALL, 2,
              lead_ms + 40 * (picture - n))
        for n, picture in enumerate(shown)
    ]  # fmt: skip
    return Chunk(frames, [], start_ms, start_ms + 480, None)


def test_b_frames_after_a_closed_gap_show_after_every_picture_before_it(tmp_path: Path) -> None:
    """Closing a gap by decode times alone would show the first pictures after it among the
    last ones before (which show up to 120 ms after their group's decoding ends)."""
    clip = Clip(to_ms=20_000)
    pieces = [clip.add(b_frame_group(1_000, 80))]
    clip.skip(Gap(1_480, 5_000))  # the camera away, then connected again
    pieces += [clip.add(b_frame_group(5_000, 0)), clip.add(b_frame_group(5_480, 80))]
    frames = _read_back(tmp_path / "clip.mp4", clip, pieces)
    shown = sorted(frame.presentation_ms for frame in frames)
    assert len(set(shown)) == 36
    assert min(b - a for a, b in itertools.pairwise(shown)) == 40, shown
    assert [f.time_ms for f in frames] == sorted({f.time_ms for f in frames})
