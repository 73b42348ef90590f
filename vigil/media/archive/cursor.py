"""Walking one stream's archive, a recorded fragment at a time, forward or back, across files.

What playback, export and RTSP archive read through. A `seek` lands on the fragment holding
the keyframe at or before the time asked for (the reader decodes from there); `next` and
`previous` then give the chunks that follow or precede, with a `Gap` first wherever the
recording breaks off (camera offline, not recording, a file that can no longer be read).

The files come from a `SegmentSource` (the media service): the index's closed files and the
one being written, whose fragments grow while it is read and which is renamed when it
closes. After a change of direction, seek again.
"""

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from vigil.media.archive.reader import Chunk, Tracks, UnreadableRecording
from vigil.media.archive.scan import FragmentInfo
from vigil.media.archive.timeline import JOIN_MS

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Gap:
    """Nothing recorded from `from_ms` to `to_ms`."""

    from_ms: int
    to_ms: int


@dataclass
class Segment:
    """One file of a stream, as far as it can be read now."""

    storage_id: str
    path: Path
    start_ms: int
    fragments: list[FragmentInfo]  # empty when the file cannot be read now
    writing: bool  # being written: more fragments come, and it is renamed when it closes
    tracks: Tracks | None = field(default=None, compare=False)  # read on first use


class SegmentSource(Protocol):
    async def segment(
        self, camera_id: str, stream: str, time_ms: int, *, later: bool
    ) -> Segment | None:
        """The file starting first after `time_ms` (`later`), or last at or before it."""
        ...

    async def read(self, segment: Segment, fragment: FragmentInfo, keyframes_only: bool) -> Chunk:
        """One fragment's frames; raises OSError or UnreadableRecording."""
        ...


class Cursor(Protocol):
    """A walk through a stream's archive: this server's (`ArchiveCursor`), or another's
    (`vigil.media.archive_relay.RemoteCursor`)."""

    async def seek(self, time_ms: int, earlier: bool = False) -> int | None: ...
    async def next(self, keyframes_only: bool = False) -> Chunk | Gap | None: ...
    async def previous(self) -> Chunk | Gap | None: ...


class ArchiveCursor:
    def __init__(self, source: SegmentSource, camera_id: str, stream: str) -> None:
        self._source = source
        self._camera_id = camera_id
        self._stream = stream
        self._segment: Segment | None = None
        self._index = 0  # of the fragment `next` reads (`previous`: reads)
        self._position: int | None = None  # how far the chunks given have reached

    async def seek(self, time_ms: int, earlier: bool = False) -> int | None:
        """Stand at the keyframe at or before `time_ms`, or at the next recording when
        `time_ms` falls in a gap (`earlier`: at the end of the recording before it, to walk
        back); returns where the first chunk will start (None: nothing is recorded at or
        after `time_ms`; `earlier`: at or before it)."""
        segment = await self._near(time_ms, later=False)
        before = segment is not None and not _reaches(segment, time_ms)
        if (segment is None or before) and not earlier:
            segment, before = await self._near(time_ms, later=True), False
        self._segment = segment
        if segment is None:
            self._position = time_ms
            return None
        offset = time_ms - segment.start_ms
        keys = [n for n, f in enumerate(segment.fragments) if f.keyframe and f.start_ms <= offset]
        self._index = keys[-1] if keys else 0
        landed = segment.start_ms + (
            segment.fragments[self._index].start_ms if segment.fragments else 0
        )
        if before:  # `previous` walks back from the file's end, the gap after it first
            self._index, self._position = len(segment.fragments) - 1, time_ms
        else:
            self._position = min(time_ms, landed)  # in a gap: the gap comes first
        return landed

    async def next(self, keyframes_only: bool = False) -> Chunk | Gap | None:
        """The chunk after the last one given (a `Gap` first where the recording breaks);
        None at the end of the archive (for now: a stream being recorded goes on)."""
        while (segment := self._segment) is not None:
            if segment.writing and self._index >= len(segment.fragments):
                await self._refresh(segment)
                segment = self._segment
                assert segment is not None
            if self._index >= len(segment.fragments):
                following = await self._near(segment.start_ms, later=True)
                if following is None:
                    return None
                self._segment, self._index = following, 0
                continue
            fragment = segment.fragments[self._index]
            if keyframes_only and not fragment.keyframe:
                self._index += 1
                continue
            start = segment.start_ms + fragment.start_ms
            if self._position is not None and start - self._position > JOIN_MS:
                gap, self._position = Gap(self._position, start), start
                return gap
            chunk = await self._read(segment, fragment, keyframes_only)
            if chunk is None:
                self._index = len(segment.fragments)  # what is left of the file is lost
                continue
            self._index += 1
            self._position = max(start, segment.start_ms + fragment.end_ms)
            return chunk
        return None

    async def previous(self) -> Chunk | Gap | None:
        """The keyframe chunk before the last one given (at first: the one `seek` stood
        at), walking back; a `Gap` first where the recording breaks; None at the archive's
        beginning."""
        while (segment := self._segment) is not None:
            if self._index < 0 or not segment.fragments:
                prior = await self._near(segment.start_ms - 1, later=False)
                if prior is None:
                    return None
                self._segment, self._index = prior, len(prior.fragments) - 1
                continue
            fragment = segment.fragments[self._index]
            end = segment.start_ms + fragment.end_ms
            if self._position is not None and self._position - end > JOIN_MS:
                gap, self._position = Gap(end, self._position), end
                return gap
            if not fragment.keyframe:  # passed over, but recorded: no gap
                self._index -= 1
                self._position = segment.start_ms + fragment.start_ms
                continue
            chunk = await self._read(segment, fragment, True)
            self._index -= 1
            if chunk is None:
                self._index = -1
                continue
            self._position = segment.start_ms + fragment.start_ms
            return chunk
        return None

    async def _near(self, time_ms: int, *, later: bool) -> Segment | None:
        return await self._source.segment(self._camera_id, self._stream, time_ms, later=later)

    async def _refresh(self, segment: Segment) -> None:
        """A file being written, as it is now: more fragments, or closed and renamed."""
        now = await self._near(segment.start_ms, later=False)
        if now is not None and now.start_ms == segment.start_ms:
            self._segment = now

    async def _read(
        self, segment: Segment, fragment: FragmentInfo, keyframes_only: bool
    ) -> Chunk | None:
        try:
            return await self._source.read(segment, fragment, keyframes_only)
        except FileNotFoundError:
            if segment.writing:  # closed and renamed meanwhile: read it under its name
                await self._refresh(segment)
                renamed = self._segment
                if renamed is not None and renamed is not segment:
                    return await self._read(renamed, fragment, keyframes_only)
            logger.warning("a recording is gone", extra={"path": str(segment.path)})
        except (OSError, UnreadableRecording) as err:
            logger.warning(
                "a recording cannot be read", extra={"path": str(segment.path), "error": str(err)}
            )
        return None


def _reaches(segment: Segment, time_ms: int) -> bool:
    """Whether `segment` holds `time_ms` (or ends less than a frame's gap before it)."""
    end = segment.start_ms + (segment.fragments[-1].end_ms if segment.fragments else 0)
    return time_ms < end + JOIN_MS
