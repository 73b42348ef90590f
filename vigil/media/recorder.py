"""One stream from its hub into the archive: fragmented MP4 files of about a minute.

A file starts on a keyframe with its init segment; frames are written a fragment at a time,
one fragment per GOP or per `FRAGMENT_MS` if GOPs are longer, each fragment in one write that
reaches the operating system at once: a crash of the server loses at most the fragment being
gathered. A file ends at a keyframe after `FILE_MS`, when the stream's parameters change
(another resolution or codec), when the stream breaks off, or when recording stops; it is
then renamed with its duration and entered in the index.
"""

import asyncio
import logging
from pathlib import Path
from typing import BinaryIO

from vigil.media import mp4
from vigil.media.archive import naming
from vigil.media.archive.index import ArchiveIndex
from vigil.media.archive.store import Recording
from vigil.media.frames import Frame, StreamConfig
from vigil.media.hub import FrameQueue, Hub
from vigil.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

FILE_MS = 60_000
FRAGMENT_MS = 2_000
MAX_GAP_MS = 3_000  # a longer silence between frames ends the file: the timeline shows a gap
IDLE_S = 2.0  # no frame for this long: what is gathered is written and the file closed
QUEUE_BYTES = 64 * 1024 * 1024


class _OpenFile:
    def __init__(self, path: Path, handle: BinaryIO, start_ms: int, config: StreamConfig) -> None:
        self.path = path
        self.handle = handle
        self.start_ms = start_ms
        self.config = config
        self.sequence = 0
        self.size = 0
        self.written_until_ms = start_ms


class Recorder:
    def __init__(self, camera_id: str, stream: str, hub: Hub, index: ArchiveIndex) -> None:
        self._camera_id = camera_id
        self._stream = stream
        self._hub = hub
        self._index = index
        self._queue = FrameQueue(QUEUE_BYTES)
        self._task: asyncio.Task[None] | None = None
        self._file: _OpenFile | None = None
        self._pending: list[Frame] = []
        self._last: Frame | None = None
        self._frame_ms = 40  # the last interval between frames: the duration of a last frame
        self.error: str | None = None  # why the last write failed, until one succeeds

    def start(self) -> None:
        self._hub.subscribe(self._queue)
        self._task = asyncio.create_task(self._run(), name=f"record {self._camera_id}")

    async def stop(self) -> None:
        self._hub.unsubscribe(self._queue)
        await cancel_and_wait(self._task)
        self._task = None
        for frame in self._queue.take_all():
            await self._take(frame)
        await self._close()

    def writing(self) -> tuple[int, int] | None:
        """The span of the file being written, as far as it is on disk."""
        file = self._file
        if file is None or file.written_until_ms <= file.start_ms:
            return None
        return file.start_ms, file.written_until_ms

    async def _run(self) -> None:
        while True:
            try:
                frame = await asyncio.wait_for(self._queue.get(), IDLE_S)
            except TimeoutError:
                await self._close()
                continue
            await self._take(frame)

    async def _take(self, frame: Frame) -> None:
        last = self._last
        if last is not None:
            gap = frame.time_ms - last.time_ms
            if gap > MAX_GAP_MS:
                await self._close()
            else:
                self._frame_ms = max(1, gap)
        self._last = frame
        file = self._file
        if (
            file is not None
            and frame.keyframe
            and (frame.config is not file.config or frame.time_ms - file.start_ms >= FILE_MS)
        ):
            await self._close(end_ms=frame.time_ms)
            file = None
        if file is None:
            if not frame.keyframe:
                return  # a file starts with a picture that decodes on its own
            if not await self._open(frame):
                return
        if self._pending and (
            frame.keyframe or frame.time_ms - self._pending[0].time_ms >= FRAGMENT_MS
        ):
            await self._write_pending(frame.time_ms)
        self._pending.append(frame)

    async def _open(self, frame: Frame) -> bool:
        path = naming.part_path(self._index.root, self._camera_id, self._stream, frame.time_ms)
        init = mp4.init_segment(frame.config)
        try:
            handle = await asyncio.to_thread(_create, path, init)
        except OSError as err:
            self._failed(err)
            return False
        self._file = _OpenFile(path, handle, frame.time_ms, frame.config)
        self._file.size = len(init)
        return True

    async def _write_pending(self, end_ms: int) -> None:
        file = self._file
        if file is None or not self._pending:
            self._pending = []
            return
        file.sequence += 1
        fragment = mp4.fragment(file.sequence, self._pending, end_ms, file.start_ms)
        self._pending = []
        try:
            await asyncio.to_thread(_append, file.handle, fragment.data)
        except OSError as err:
            self._failed(err)
            await self._abandon(file)
            return
        file.size += len(fragment.data)
        file.written_until_ms = end_ms
        self.error = None

    async def _close(self, end_ms: int | None = None) -> None:
        """Write what is gathered and finish the file; `end_ms` is when the next frame starts
        (unknown when the stream stops: the last frame lasts as long as the one before)."""
        file = self._file
        if file is None:
            self._pending = []
            return
        if self._pending:
            last = self._pending[-1].time_ms
            await self._write_pending(end_ms if end_ms is not None else last + self._frame_ms)
        if self._file is not file:
            return  # the write failed and the file was given up
        self._file = None
        duration = file.written_until_ms - file.start_ms
        final = naming.closed_path(self._index.root, self._camera_id, self._stream,
                                   file.start_ms, duration)  # fmt: skip
        try:
            await asyncio.to_thread(_finish, file.handle, file.path, final, duration > 0)
        except OSError as err:
            self._failed(err)
            return
        if duration > 0:
            relative = str(final.relative_to(self._index.root))
            recording = Recording(self._camera_id, self._stream, relative, file.start_ms,
                                  file.written_until_ms, file.size)  # fmt: skip
            await self._index.add(recording)

    async def _abandon(self, file: _OpenFile) -> None:
        """The storage failed under the file: stop writing it; what reached the disk stays
        there as a part file, which the index finishes when it next looks."""
        self._file = None
        self._pending = []
        await asyncio.to_thread(_close_quietly, file.handle)

    def _failed(self, err: OSError) -> None:
        reason = f"{err.strerror or err} ({err.filename or self._index.root})"
        if reason != self.error:
            where = {"camera": self._camera_id, "stream": self._stream}
            logger.error("recording failed", extra={**where, "reason": reason})
        self.error = reason


def _create(path: Path, init: bytes) -> BinaryIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("xb")
    _append(handle, init)
    return handle


def _append(handle: BinaryIO, data: bytes) -> None:
    handle.write(data)
    handle.flush()  # to the operating system: a killed server loses nothing written


def _finish(handle: BinaryIO, part: Path, final: Path, keep: bool) -> None:
    handle.close()
    if keep:
        part.rename(final)
    else:
        part.unlink(missing_ok=True)


def _close_quietly(handle: BinaryIO) -> None:
    try:
        handle.close()
    except OSError:
        logger.debug("closing a failed recording", exc_info=True)
