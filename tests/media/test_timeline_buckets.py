"""The time recorded per bucket, summed by the index (whole hours from its summary, the rest
from the recordings): the same as counting every millisecond of every file, for buckets
shorter and longer than the files and than an hour, aligned to hours or not, files across
bucket edges, a last shorter bucket; after files are removed or written again, and for those
indexed before the summary existed."""

import random

import pytest

from vigil.media.archive import store, timeline
from vigil.media.archive.index import ArchiveIndex
from vigil.media.archive.store import Recording
from vigil.state import Database

START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
HOUR_MS = 3_600_000


def _files(seed: int) -> list[Recording]:
    """Files of 1 s to 3 min one after the other, with gaps of up to 2 min between some."""
    rng = random.Random(seed)
    files = []
    at = START_MS + rng.randint(0, HOUR_MS)
    for n in range(1_000):
        length = rng.randint(1_000, 180_000)
        files.append(Recording("disk", "cam", "main", f"f{n}", at, at + length, 1))
        at += length + rng.choice((0, 0, 0, rng.randint(1, 120_000)))
    return files


def _counted(spans: list[tuple[int, int]], from_ms: int, to_ms: int, bucket_ms: int) -> list[int]:
    """Milliseconds recorded per bucket, the slow way: each file's overlap with each bucket."""
    edges = range(from_ms, to_ms, bucket_ms)
    spans = [(start, end) for start, end in spans if start < to_ms and end > from_ms]
    return [
        sum(max(0, min(end, edge + bucket_ms, to_ms) - max(start, edge)) for start, end in spans)
        for edge in edges
    ]


@pytest.mark.parametrize("offset_ms", [0, 12_345])
@pytest.mark.parametrize("bucket_ms", [1_000, 7_777, 60_000, HOUR_MS, 2 * HOUR_MS + 1, 86_400_000])
async def test_recorded_ms_per_bucket_counts_every_millisecond_of_every_file(
    db: Database, bucket_ms: int, offset_ms: int
) -> None:
    files = _files(bucket_ms + offset_ms)
    # Half the files indexed before the summary by hour existed, half after.
    await db.migrate("archive", store.MIGRATIONS[:-1])
    await db.transaction(lambda conn: store.insert(conn, files[:500]))
    index = ArchiveIndex(db)
    await index.open()
    for recording in files[500:]:
        await index.add(recording)
    # Some go (retention), one is written again longer (a recovered file).
    await index.remove("disk", [f"f{n}" for n in range(100, 700, 3)])
    longer = Recording("disk", "cam", "main", "f800", files[800].start_ms, files[801].start_ms, 1)
    await index.add(longer)
    kept = [(r.start_ms, r.end_ms) for n, r in enumerate(files)
            if not (100 <= n < 700 and (n - 100) % 3 == 0) and n != 800]  # fmt: skip
    kept.append((longer.start_ms, longer.end_ms))
    writing = (files[-1].end_ms, files[-1].end_ms + 30_000)  # the file being written

    from_ms = START_MS + offset_ms
    to_ms = min(writing[1] + 45_678, from_ms + 3_000 * bucket_ms - 1)
    recorded = await index.recorded_per_bucket("cam", "main", from_ms, to_ms, bucket_ms)
    assert recorded == _counted(kept, from_ms, to_ms, bucket_ms)
    with_writing = timeline.add_to_buckets(recorded, [writing], from_ms, to_ms, bucket_ms)
    assert with_writing == _counted([*kept, writing], from_ms, to_ms, bucket_ms)
    # Another stream and another camera have nothing here.
    nothing = [0] * len(recorded)
    assert await index.recorded_per_bucket("cam", "sub", from_ms, to_ms, bucket_ms) == nothing
    assert await index.recorded_per_bucket("other", "main", from_ms, to_ms, bucket_ms) == nothing
