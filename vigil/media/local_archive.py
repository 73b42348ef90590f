"""This server's archive, as playback, export, RTSP out, snapshots and timelines read it:
the files the index lists, and the one a media worker is writing (which the index lists only
once it is closed), read in the storages' threads. It is the `SegmentSource` of this server's
archive cursors; in a system, the media service walks every server's part (`service.py`).
"""

import errno
from collections.abc import Callable
from pathlib import Path
from typing import cast

from vigil.cameras.models import StreamName
from vigil.media.archive import reader, seek, timeline
from vigil.media.archive.cursor import ArchiveCursor, Segment
from vigil.media.archive.index import ArchiveIndex
from vigil.media.archive.reader import Chunk
from vigil.media.archive.scan import FragmentInfo, scan
from vigil.media.archive.store import Recording
from vigil.media.storage.pool import StoragePool
from vigil.media.workers.remote import Written


class LocalArchive:
    def __init__(
        self,
        archive: ArchiveIndex,
        storages: StoragePool,
        written: Callable[[str, StreamName], Written | None],  # a stream's unindexed file
    ) -> None:
        self._archive = archive
        self._storages = storages
        self._written = written

    async def recordings(
        self, camera_id: str, stream: StreamName, from_ms: int, to_ms: int
    ) -> list[tuple[Recording, list[FragmentInfo] | None]]:
        """The closed files of a stream over a range, each with its fragments (None when they
        are not in the index and its storage cannot be read now)."""
        found = []
        for recording in await self._archive.overlapping(camera_id, stream, from_ms, to_ms):
            found.append((recording, await self._fragments_of(recording)))
        return found

    async def holds(self, camera_id: str, stream: StreamName) -> bool:
        """Whether this server's archive holds recordings of the stream."""
        if self._written(camera_id, stream) is not None:
            return True
        return await self._archive.neighbour(camera_id, stream, 0, later=True) is not None

    def cursor(self, camera_id: str, stream: StreamName) -> ArchiveCursor:
        return ArchiveCursor(self, camera_id, stream)

    async def segment(
        self, camera_id: str, stream: str, time_ms: int, *, later: bool
    ) -> Segment | None:
        """The recorded file starting first after `time_ms` (`later`), or last at or before
        it: from the index, or the file being written (which starts after every indexed one)."""
        found = await self._archive.neighbour(camera_id, stream, time_ms, later=later)
        written = self._written(camera_id, cast(StreamName, stream))
        if written is not None and written.fragments:
            start = written.start_ms
            on_side = start > time_ms if later else start <= time_ms
            nearer = found is None or (start < found.start_ms if later else start >= found.start_ms)
            if on_side and nearer:
                return Segment(written.storage_id, Path(written.path), start,
                               list(written.fragments), writing=True)  # fmt: skip
        if found is None:
            return None
        storage = self._storages.get(found.storage_id)
        fragments = await self._fragments_of(found)
        path = storage.root / found.path if storage is not None else Path(found.path)
        return Segment(found.storage_id, path, found.start_ms, fragments or [], writing=False)

    async def read(self, segment: Segment, fragment: FragmentInfo, keyframes_only: bool) -> Chunk:
        """One fragment of a recorded file, read in its storage's threads."""
        storage = self._storages.get(segment.storage_id)
        if storage is None or not storage.readable:
            raise OSError(errno.ENODEV, "the storage is not online")
        if segment.tracks is None:
            segment.tracks = await storage.run(reader.read_tracks, segment.path)
        return await storage.run(reader.read_chunk, segment.path, segment.tracks,
                                 segment.start_ms, fragment, keyframes_only)  # fmt: skip

    async def _fragments_of(self, recording: Recording) -> list[FragmentInfo] | None:
        duration = recording.end_ms - recording.start_ms
        if recording.fragments is not None:
            return seek.unpack(recording.fragments, duration)
        # An index made from file names alone: the file is read once, and the table kept.
        storage = self._storages.get(recording.storage_id)
        if storage is None or not storage.readable:
            return None
        try:
            result = await storage.run(scan, storage.root / recording.path)
        except OSError:
            return None
        await self._archive.set_fragments(recording, seek.pack(result.fragments))
        return result.fragments

    async def usage(self) -> dict[str, dict[str, int]]:
        """Bytes recorded per storage, per camera."""
        return await self._archive.usage()

    async def timeline(
        self, camera_id: str, stream: StreamName, from_ms: int, to_ms: int
    ) -> list[tuple[int, int]]:
        """Recorded intervals of one stream, including the file being written."""
        spans = await self._archive.spans(camera_id, stream, from_ms, to_ms)
        writing = self._writing_span(camera_id, stream)
        if writing is not None:
            spans.append(writing)
        return timeline.merge(spans, from_ms, to_ms)

    async def recorded_ms(
        self, camera_id: str, stream: StreamName, from_ms: int, to_ms: int, bucket_ms: int
    ) -> list[int]:
        """Milliseconds recorded of one stream in each bucket of `bucket_ms` from `from_ms`,
        including the file being written; summed by the index, not listed."""
        recorded = await self._archive.recorded_per_bucket(
            camera_id, stream, from_ms, to_ms, bucket_ms
        )
        writing = self._writing_span(camera_id, stream)
        spans = [writing] if writing is not None else []
        return timeline.add_to_buckets(recorded, spans, from_ms, to_ms, bucket_ms)

    def _writing_span(self, camera_id: str, stream: StreamName) -> tuple[int, int] | None:
        """The span on disk of the stream's file that the index does not list yet: the one
        being written, or the one just closed until its row is in."""
        written = self._written(camera_id, stream)
        return written.span if written is not None else None
