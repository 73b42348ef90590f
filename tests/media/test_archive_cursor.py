"""Walking an archive of files forward and back: across file boundaries, gaps told with their
length, keyframes only when asked, and a file that cannot be read counted as a gap."""

from dataclasses import replace
from pathlib import Path

import pytest

from tests.media.test_mse import H264, config
from vigil.media import mp4
from vigil.media.archive import reader
from vigil.media.archive.cursor import ArchiveCursor, Gap, Segment
from vigil.media.archive.reader import Chunk
from vigil.media.archive.scan import FragmentInfo, scan
from vigil.media.frames import Frame

STREAM = config("h264", H264)
T0 = 1_800_000_000_000


class Files:
    """The cursor's source over files in a folder: as the media service, without a server."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.segments: list[Segment] = []

    def write(self, start_ms: int, fragments: list[bool]) -> None:
        """A file of 1 s fragments of 10 frames; each starts with a keyframe or not."""
        data = mp4.init_segment(STREAM)
        for n, key in enumerate(fragments):
            first = start_ms + 1000 * n
            frames = [Frame(first + 100 * k, key and k == 0, (b"\x65" if key and k == 0
                            else b"\x41",), STREAM, 1) for k in range(10)]  # fmt: skip
            data += mp4.fragment(n + 1, frames, first + 1000, start_ms).data
        path = self.folder / f"{start_ms}.mp4"
        path.write_bytes(data)
        self.segments.append(Segment("local", path, start_ms, scan(path).fragments, False))

    async def segment(
        self, camera_id: str, stream: str, time_ms: int, *, later: bool
    ) -> Segment | None:
        if later:
            return next((s for s in self.segments if s.start_ms > time_ms), None)
        return next((s for s in reversed(self.segments) if s.start_ms <= time_ms), None)

    async def read(self, segment: Segment, fragment: FragmentInfo, keyframes_only: bool) -> Chunk:
        tracks = reader.read_tracks(segment.path)
        return reader.read_chunk(segment.path, tracks, segment.start_ms, fragment, keyframes_only)


@pytest.fixture
def files(tmp_path: Path) -> Files:
    files = Files(tmp_path)
    files.write(T0, [True, False, True])  # 0-3 s: keyframes at 0 and 2 s
    files.write(T0 + 3000, [True, True, True])  # 3-6 s, joined to the first
    files.write(T0 + 20_000, [True, False, False])  # after a 14 s gap
    return files


async def _walk(cursor: ArchiveCursor, forward: bool = True, keyframes_only: bool = False) -> list:
    seen: list[tuple[int, int] | Gap] = []
    for _ in range(100):
        item = await (cursor.next(keyframes_only) if forward else cursor.previous())
        if item is None:
            return seen
        seen.append(item if isinstance(item, Gap) else (item.start_ms - T0, len(item.frames)))
    raise AssertionError("the walk does not end")


async def test_forward_from_a_seek_crosses_files_and_tells_the_gap(files: Files) -> None:
    cursor = ArchiveCursor(files, "cam", "main")
    # 1.5 s lies in a fragment without a keyframe: the cursor stands at the one before.
    assert await cursor.seek(T0 + 1500) == T0
    assert await _walk(cursor) == [
        (0, 10), (1000, 10), (2000, 10), (3000, 10), (4000, 10), (5000, 10),
        Gap(T0 + 6000, T0 + 20_000),
        (20_000, 10), (21_000, 10), (22_000, 10),
    ]  # fmt: skip


async def test_a_seek_into_a_gap_starts_at_the_next_recording_after_telling_the_gap(
    files: Files,
) -> None:
    cursor = ArchiveCursor(files, "cam", "main")
    assert await cursor.seek(T0 + 10_000) == T0 + 20_000
    assert (await _walk(cursor))[:2] == [Gap(T0 + 10_000, T0 + 20_000), (20_000, 10)]
    assert await cursor.seek(T0 + 60_000) is None  # after the end of the archive
    assert await cursor.next() is None


async def test_keyframes_only_skips_fragments_without_one(files: Files) -> None:
    cursor = ArchiveCursor(files, "cam", "main")
    await cursor.seek(T0)
    assert await _walk(cursor, keyframes_only=True) == [
        (0, 1), (2000, 1), (3000, 1), (4000, 1), (5000, 1),
        Gap(T0 + 6000, T0 + 20_000), (20_000, 1),
    ]  # fmt: skip


async def test_backward_gives_keyframes_to_the_beginning(files: Files) -> None:
    cursor = ArchiveCursor(files, "cam", "main")
    assert await cursor.seek(T0 + 22_500) == T0 + 20_000
    assert await _walk(cursor, forward=False) == [
        (20_000, 1), Gap(T0 + 6000, T0 + 20_000),
        (5000, 1), (4000, 1), (3000, 1), (2000, 1), (0, 1),
    ]  # fmt: skip


async def test_a_file_that_cannot_be_read_is_a_gap(files: Files) -> None:
    files.segments[1].path.unlink()
    cursor = ArchiveCursor(files, "cam", "main")
    await cursor.seek(T0 + 2500)
    assert await _walk(cursor) == [
        (2000, 10), Gap(T0 + 3000, T0 + 20_000), (20_000, 10), (21_000, 10), (22_000, 10),
    ]  # fmt: skip


async def test_a_file_being_written_is_read_as_it_grows(files: Files, tmp_path: Path) -> None:
    cursor = ArchiveCursor(files, "cam", "main")
    await cursor.seek(T0 + 22_000)
    assert await _walk(cursor) == [(20_000, 10), (21_000, 10), (22_000, 10)]
    files.write(T0 + 23_000, [True, False])  # the next file, joined, still being written
    files.segments[-1] = replace(files.segments[-1], writing=True)
    assert await _walk(cursor) == [(23_000, 10), (24_000, 10)]
