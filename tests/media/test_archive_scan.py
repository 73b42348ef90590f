"""Reading our own files back after a crash: a file with sound keeps the span of its picture."""

from pathlib import Path

from vigil.media import mp4
from vigil.media.archive.scan import scan
from vigil.media.frames import AudioConfig, AudioFrame, Frame, StreamConfig
from vigil.media.sps import SpsInfo

CONFIG = StreamConfig(
    "h264",
    (bytes.fromhex("6742c01e"), bytes.fromhex("68ce3c80")),
    SpsInfo(320, 240, 1, 8, 8),
)
SOUND = AudioConfig("aac", 16_000, 1, 1024, b"\x14\x08")
START_MS = 1_800_000_000_000


def _gop(first_ms: int) -> list[Frame]:
    return [Frame(first_ms + 40 * n, n == 0, (b"\x65" if n == 0 else b"\x41",), CONFIG, 1)
            for n in range(25)]  # fmt: skip


def test_a_torn_file_with_sound_keeps_the_span_of_its_whole_fragments(tmp_path: Path) -> None:
    data = mp4.init_segment(CONFIG, SOUND)
    for sequence, start_ms in enumerate((START_MS, START_MS + 1000), start=1):
        # The sound starts a little before the fragment's picture and ends after it.
        sound = [AudioFrame(start_ms - 20 + 64 * n, b"\x21" * 10, SOUND) for n in range(17)]
        fragment = mp4.fragment(sequence, _gop(start_ms), start_ms + 1000, START_MS, sound)
        data += fragment.data
    path = tmp_path / "torn.mp4"
    path.write_bytes(data + b"\x00\x00\x10\x00moof")  # the writer died in the next fragment
    scanned = scan(path)
    assert [(f.start_ms, f.end_ms, f.keyframe) for f in scanned.fragments] == [
        (0, 1000, True),
        (1000, 2000, True),
    ]
    assert scanned.whole_size == len(data)
