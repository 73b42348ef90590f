"""One stream's archive held in parts by several servers, walked as one.

A camera's recordings stay where they were made: after a failover, the server that stood in
holds what it recorded meanwhile; after a camera moves to another parent, the old one holds
what came before. A `MergedCursor` walks the parts (each a `Cursor`: this server's archive or
another's) as one archive: it follows one part, and where that part has a gap or ends, asks
the others whether they hold something there and goes on with the first one that does.

Where two parts overlap (both servers recorded for a moment, as at a failback), the part
taken over starts at its first keyframe at or after where the other one stopped: pictures
are never given twice or out of order, at the price of up to one keyframe interval.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from vigil.media.archive.cursor import Cursor, Gap
from vigil.media.archive.reader import Chunk
from vigil.media.archive.timeline import JOIN_MS

Item = Chunk | Gap | None


class MergedCursor:
    def __init__(self, parts: Callable[[], Awaitable[Sequence[Cursor]]]) -> None:
        self._find_parts = parts  # found at the first seek: asking the servers takes a moment
        self._parts: Sequence[Cursor] = ()
        self._found = False
        self._current: Cursor | None = None
        self._position = 0  # how far the items given have reached, in the walk's direction
        self._switched = False  # the current part was just taken over: its first gap is true
        self._from_key: int | None = None  # after a switch forward: skip to a keyframe here
        self._held: Chunk | None = None  # read, to give after the gap before it

    async def seek(self, time_ms: int, earlier: bool = False) -> int | None:
        if not self._found:
            self._parts, self._found = await self._find_parts(), True
        self._position, self._switched, self._from_key, self._held = time_ms, False, None, None
        landings = await asyncio.gather(*(part.seek(time_ms, earlier) for part in self._parts))
        found = [(landed, n) for n, landed in enumerate(landings) if landed is not None]
        if not found:
            self._current = self._parts[0] if self._parts else None
            return None
        holding = [(landed, n) for landed, n in found if landed <= time_ms]
        landed, n = max(holding) if holding else min(found)  # the nearest keyframe, or next
        self._current = self._parts[n]
        return landed

    async def next(self, keyframes_only: bool = False) -> Item:
        if self._held is not None:
            chunk, self._held = self._held, None
            self._position = max(self._position, chunk.end_ms)
            return chunk
        switches = 0
        while self._current is not None:
            item = await self._current.next(keyframes_only)
            if isinstance(item, Chunk) and self._from_key is not None:
                if not item.keyframe or item.start_ms < self._from_key:
                    continue  # the part before the switch gave these pictures already
                self._from_key = None
                if item.start_ms - self._position > JOIN_MS:
                    self._held, item = item, Gap(self._position, item.start_ms)
            if isinstance(item, Chunk):
                self._position = max(self._position, item.end_ms)
                return item
            if isinstance(item, Gap) and self._switched:  # up to the part taken over
                self._switched, self._position = False, item.to_ms
                return item
            start = item.from_ms if isinstance(item, Gap) else self._position
            other = await self._other(start, item.to_ms if isinstance(item, Gap) else None)
            switches += 1
            if other is None or switches > len(self._parts):
                if isinstance(item, Gap):
                    self._position = item.to_ms
                return item
            self._current, self._position = other, start
            self._switched, self._from_key = True, start
        return None

    async def previous(self) -> Item:
        switches = 0
        while self._current is not None:
            item = await self._current.previous()
            if isinstance(item, Chunk):
                self._switched, self._position = False, item.start_ms
                return item
            if isinstance(item, Gap) and self._switched:
                self._switched, self._position = False, item.from_ms
                return item
            end = item.to_ms if isinstance(item, Gap) else self._position
            other = await self._other(
                end, item.from_ms if isinstance(item, Gap) else None, back=True
            )
            switches += 1
            if other is None or switches > len(self._parts):
                if isinstance(item, Gap):
                    self._position = item.from_ms
                return item
            self._current, self._position, self._switched = other, end, True
        return None

    async def _other(
        self, at_ms: int, bound_ms: int | None, *, back: bool = False
    ) -> Cursor | None:
        """The part other than the current one whose recording comes first after `at_ms`,
        before `bound_ms` (`back`: ends last before `at_ms`, after `bound_ms`; None: at any
        time), standing there."""
        others = [part for part in self._parts if part is not self._current]
        landings = await asyncio.gather(*(part.seek(at_ms, earlier=back) for part in others))

        def within(landed: int) -> bool:
            return bound_ms is None or (landed > bound_ms if back else landed < bound_ms)

        found = [(landed, n) for n, landed in enumerate(landings)
                 if landed is not None and within(landed)]  # fmt: skip
        if not found:
            return None
        return others[(max if back else min)(found)[1]]
