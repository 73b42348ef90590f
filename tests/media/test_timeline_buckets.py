"""The time recorded per bucket, summed by the index: the same as counting every millisecond
of every file, for buckets shorter and longer than the files, files across bucket edges, the
range's edges and a last, shorter bucket."""

import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from vigil.media.archive import timeline
from vigil.media.archive.index import ArchiveIndex
from vigil.media.archive.store import Recording
from vigil.state import Database

START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


@pytest.fixture
async def index(tmp_path: Path) -> AsyncIterator[ArchiveIndex]:
    db = Database(tmp_path / "db.sqlite")
    await db.open()
    archive = ArchiveIndex(db)
    await archive.open()
    yield archive
    await db.close()


def _files(seed: int) -> list[tuple[int, int]]:
    """Files of 1 s to 3 min one after the other, with gaps of up to 2 min between some."""
    rng = random.Random(seed)
    files = []
    at = START_MS
    for _ in range(300):
        length = rng.randint(1_000, 180_000)
        files.append((at, at + length))
        at += length + rng.choice((0, 0, 0, rng.randint(1, 120_000)))
    return files


def _counted(files: list[tuple[int, int]], from_ms: int, to_ms: int, bucket_ms: int) -> list[int]:
    """Milliseconds recorded per bucket, the slow way: each file's overlap with each bucket."""
    edges = range(from_ms, to_ms, bucket_ms)
    return [
        sum(max(0, min(end, edge + bucket_ms, to_ms) - max(start, edge)) for start, end in files)
        for edge in edges
    ]


@pytest.mark.parametrize("bucket_ms", [1_000, 7_777, 60_000, 3_600_000, 86_400_000])
async def test_recorded_ms_per_bucket_counts_every_millisecond_of_every_file(
    index: ArchiveIndex, bucket_ms: int
) -> None:
    files = _files(bucket_ms)
    for n, (start, end) in enumerate(files):
        await index.add(Recording("disk", "cam", "main", f"f{n}", start, end, 1))
    writing = (files[-1][1], files[-1][1] + 30_000)  # the file being written, not indexed
    # From inside the first file to past the last, ending mid-bucket.
    from_ms = START_MS + 12_345
    to_ms = min(writing[1] + 45_678, from_ms + 10_000 * bucket_ms - 1)
    recorded = await index.recorded_per_bucket("cam", "main", from_ms, to_ms, bucket_ms)
    assert recorded == _counted(files, from_ms, to_ms, bucket_ms)
    with_writing = timeline.add_to_buckets(recorded, [writing], from_ms, to_ms, bucket_ms)
    assert with_writing == _counted([*files, writing], from_ms, to_ms, bucket_ms)
    # Another stream and another camera have nothing here.
    nothing = [0] * len(recorded)
    assert await index.recorded_per_bucket("cam", "sub", from_ms, to_ms, bucket_ms) == nothing
    assert await index.recorded_per_bucket("other", "main", from_ms, to_ms, bucket_ms) == nothing
