"""Reading recorded frames back: what the recorder's writer put in a file comes out again,
on the server's clock, for H.264 and H.265, with and without sound."""

from pathlib import Path

import pytest

from tests.media.test_mse import H264, H265, config
from vigil.media import mp4
from vigil.media.archive.reader import UnreadableRecording, read_chunk, read_tracks
from vigil.media.archive.scan import scan
from vigil.media.codecs import Codec
from vigil.media.frames import AudioConfig, AudioFrame, Frame, StreamConfig

SOUND = AudioConfig("aac", 16_000, 1, 1024, bytes.fromhex("1408"))
START_MS = 1_800_000_000_000


def _gop(stream: StreamConfig, first_ms: int) -> list[Frame]:
    key_nal, delta_nal = (b"\x65\x88", b"\x41\x9a") if stream.codec == "h264" else (
        b"\x26\x01\xaf", b"\x02\x01\xd0")  # fmt: skip
    return [
        Frame(first_ms + 40 * n, n == 0, (key_nal + bytes([n]) * n, delta_nal), stream, 10 + n)
        for n in range(25)
    ]


def _write(path: Path, stream: StreamConfig, audio: AudioConfig | None) -> list[list[Frame]]:
    data = mp4.init_segment(stream, audio)
    gops = []
    for sequence, start_ms in enumerate((START_MS, START_MS + 1000, START_MS + 2000), start=1):
        gop = _gop(stream, start_ms)
        sound = [AudioFrame(start_ms + 64 * n, bytes([0x21, n]), SOUND) for n in range(16)]
        data += mp4.fragment(sequence, gop, start_ms + 1000, START_MS,
                             sound if audio else ()).data  # fmt: skip
        gops.append(gop)
    path.write_bytes(data)
    return gops


@pytest.mark.parametrize(("codec", "sets"), [("h264", H264), ("h265", H265)])
def test_a_fragment_reads_back_as_the_frames_written(
    tmp_path: Path, codec: Codec, sets: tuple[bytes, ...]
) -> None:
    stream = config(codec, sets)
    path = tmp_path / "file.mp4"
    gops = _write(path, stream, SOUND)
    tracks = read_tracks(path)
    assert tracks.video == stream
    assert tracks.audio == SOUND
    fragments = scan(path).fragments
    chunk = read_chunk(path, tracks, START_MS, fragments[1])
    written = gops[1]
    assert [(f.time_ms, f.keyframe, f.nals) for f in chunk.frames] == [
        (f.time_ms, f.keyframe, f.nals) for f in written
    ]
    assert (chunk.start_ms, chunk.end_ms) == (START_MS + 1000, START_MS + 2000)
    assert [s.data for s in chunk.sound] == [bytes([0x21, n]) for n in range(16)]
    # Sound times go through the track's sample clock: each within a millisecond.
    assert all(abs(s.time_ms - (START_MS + 1000 + 64 * n)) <= 1 for n, s in enumerate(chunk.sound))


def test_keyframes_only_gives_the_first_picture_and_no_sound(tmp_path: Path) -> None:
    path = tmp_path / "file.mp4"
    gops = _write(path, config("h264", H264), SOUND)
    tracks = read_tracks(path)
    chunk = read_chunk(path, tracks, START_MS, scan(path).fragments[2], keyframes_only=True)
    assert [f.nals for f in chunk.frames] == [gops[2][0].nals]
    assert chunk.sound == []
    assert chunk.keyframe


def test_a_file_without_sound_has_no_audio_track(tmp_path: Path) -> None:
    path = tmp_path / "file.mp4"
    _write(path, config("h264", H264), None)
    tracks = read_tracks(path)
    assert tracks.audio is None
    chunk = read_chunk(path, tracks, START_MS, scan(path).fragments[0])
    assert len(chunk.frames) == 25
    assert chunk.sound == []


def test_a_damaged_file_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "file.mp4"
    _write(path, config("h264", H264), None)
    fragment = scan(path).fragments[1]
    path.write_bytes(path.read_bytes()[: fragment.offset + 200])  # cut inside the fragment
    with pytest.raises(UnreadableRecording):
        read_chunk(path, read_tracks(path), START_MS, fragment)
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(UnreadableRecording):
        read_tracks(tmp_path / "empty.mp4")
