"""Recorded intervals: files (and the one being written) merged into what a timeline draws."""

from collections.abc import Iterable

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


def add_to_buckets(
    recorded: list[int],
    spans: Iterable[tuple[int, int]],
    from_ms: int,
    to_ms: int,
    bucket_ms: int,
) -> list[int]:
    """`recorded` (milliseconds in each bucket of `bucket_ms` from `from_ms`, the last one
    ending at `to_ms`) with `spans` added."""
    recorded = list(recorded)
    for start, end in spans:
        start, end = max(start, from_ms), min(end, to_ms)
        for n in range((start - from_ms) // bucket_ms, -(-(end - from_ms) // bucket_ms)):
            edge = from_ms + n * bucket_ms
            recorded[n] += min(end, edge + bucket_ms) - max(start, edge)
    for n in range(len(recorded)):
        # A file that has just closed may be in the index and still among `spans` for a moment.
        recorded[n] = min(recorded[n], bucket_ms, to_ms - from_ms - n * bucket_ms)
    return recorded
