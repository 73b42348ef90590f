"""Recorded intervals: files (and the one being written) merged into what a timeline draws."""

from collections.abc import Iterable

from vigil.media.archive.store import BucketGroup

# Files of one stream follow each other with a frame's length between them at most; anything
# longer is a gap a user should see (camera offline, not recording).
JOIN_MS = 1_000


def merge(spans: Iterable[tuple[int, int]], from_ms: int, to_ms: int) -> list[tuple[int, int]]:
    """The spans within [from_ms, to_ms), clipped, sorted, and joined across small gaps."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        start, end = max(start, from_ms), min(end, to_ms)
        if start >= end:
            continue
        if merged and start - merged[-1][1] <= JOIN_MS:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def buckets(
    groups: Iterable[BucketGroup],
    spans: Iterable[tuple[int, int]],
    from_ms: int,
    to_ms: int,
    bucket_ms: int,
) -> list[int]:
    """Milliseconds recorded in each bucket of `bucket_ms` from `from_ms` (the last one ends
    at `to_ms`), from the index's groups (`store.bucket_groups`) and further spans."""
    count = -(-(to_ms - from_ms) // bucket_ms)
    recorded = [0] * count
    # Buckets covered whole, as differences: +n where a run of them starts, -n past its end.
    whole = [0] * (count + 1)

    def add(first: int, last: int, n: int, starts: int, ends: int) -> None:
        if first == last:
            recorded[first] += ends - starts
            return
        recorded[first] += n * (from_ms + (first + 1) * bucket_ms) - starts
        recorded[last] += ends - n * (from_ms + last * bucket_ms)
        whole[first + 1] += n
        whole[last] -= n

    for group in groups:
        add(*group)
    for start, end in spans:
        start, end = max(start, from_ms), min(end, to_ms)
        if start < end:
            add((start - from_ms) // bucket_ms, (end - 1 - from_ms) // bucket_ms, 1, start, end)
    running = 0
    for n in range(count):
        running += whole[n]
        length = min(bucket_ms, to_ms - from_ms - n * bucket_ms)
        # A file that has just closed may be in the index and still in `spans` for a moment.
        recorded[n] = min(recorded[n] + running * bucket_ms, length)
    return recorded
