"""One stream from its hub into the archive: fragmented MP4 files of about a minute.

A file starts on a keyframe with its init segment; frames are written a fragment at a time,
one fragment per GOP or per `FRAGMENT_MS` if GOPs are longer, each fragment in one write that
reaches the operating system at once: a crash of the server loses at most the fragment being
gathered. With `sync_ms`, fragments are also forced to the disk once that much video was
written since the last time, and a file before it is renamed and indexed: a power cut loses
at most that much more (see `durable.py`). A file ends at a keyframe after `FILE_MS`, when
the stream's parameters change (another resolution or codec), when its storage stops being
writable, when the stream breaks off, or when recording stops; it is then renamed with its
duration and entered in the index.

Each file goes to the storage the pool chooses when it starts. A write that fails takes that
storage out of use and abandons the file (what reached the disk stays, and is finished when
the storage is back); the next keyframe starts a file on another storage.

Frames are taken synchronously from the hub, through the recording gate (no task switch per
frame: this runs for every frame of every stream); only whole fragments go to the writer
task, which does the file work in its storage's threads, in order.

Sound: a stream whose camera sends it is recorded in files of two tracks. Whether a file has
sound is settled when its first fragment is handed over (sound may start a moment after the
picture); a change of it, or of its config, starts a new file at the next keyframe. A
fragment carries the sound of its span; as sound may come a little after the picture, a
fragment of a file with sound waits for it, up to `SOUND_WAIT_MS`.
"""

import asyncio
import contextlib
import errno
import logging
import math
import os
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol, TypeVar

from vigil.media import mp4
from vigil.media.archive import durable, naming, seek
from vigil.media.archive.index import finish_part_file
from vigil.media.archive.scan import FragmentInfo
from vigil.media.archive.store import Recording
from vigil.media.frames import AudioConfig, AudioFrame, Frame, StreamConfig
from vigil.media.hub import AnyFrame
from vigil.media.storage.pool import ActiveStorage
from vigil.tasks import Supervised

logger = logging.getLogger(__name__)

T = TypeVar("T")

FILE_MS = 60_000
FRAGMENT_MS = 2_000
MAX_GAP_MS = 3_000  # a longer silence between frames ends the file: the timeline shows a gap
IDLE_S = 2.0  # no frame for this long: what is gathered is written and the file closed
STOP_TIMEOUT_S = 30.0
WRITE_TIMEOUT_S = 20.0
MAX_UNWRITTEN_BYTES = 64 * 1024 * 1024  # a storage slower than the cameras: fragments dropped
SOUND_WAIT_MS = 1_000  # how long (of later video) a fragment waits for the sound of its span
MAX_SOUND_FRAMES = 1_000  # sound kept for fragments yet to come (a minute at 16 kHz)


class _File:
    def __init__(
        self, storage: ActiveStorage, path: Path, start_ms: int, config: StreamConfig
    ) -> None:
        self.storage = storage
        self.path = path
        self.start_ms = start_ms
        self.config = config
        self.audio: AudioConfig | None = None  # settled with the first fragment
        self.sequence = 0  # of the last fragment gathered; 0: nothing handed over yet
        self.gathered_until_ms = start_ms  # end of the last fragment handed to the writer
        self.written_until_ms = start_ms  # end of the last fragment on disk
        self.synced_until_ms = start_ms  # end of the last fragment sure to be on the disk
        self.size = 0
        self.handle: BinaryIO | None = None
        self.fragments: list[FragmentInfo] = []  # on disk, for the index's seek table
        self.failed = False
        self.renamed: Path | None = None  # closed, under its final name, not yet indexed


@dataclass(frozen=True)
class WrittenFile:
    """The file being written, as far as it is on disk, for reading while it grows."""

    storage: ActiveStorage
    path: Path
    start_ms: int
    fragments: tuple[FragmentInfo, ...]


@dataclass(frozen=True)
class _Open:
    file: _File
    init: bytes


@dataclass(frozen=True)
class _Append:
    file: _File
    fragment: mp4.Fragment


@dataclass(frozen=True)
class _Close:
    file: _File


_Operation = _Open | _Append | _Close


@dataclass(frozen=True)
class _Gathered:
    """A fragment's video, waiting for the sound of its span."""

    file: _File
    sequence: int
    frames: list[Frame]
    end_ms: int


class Rows(Protocol):
    """Where a closed file's row goes: the archive index (of the server's API process)."""

    async def add(self, recording: Recording) -> None: ...


class Storages(Protocol):
    """The storages a recorder writes to, and who must know which files it is writing (the
    index's mending leaves those alone)."""

    def choose(self) -> ActiveStorage | None: ...

    def failed(self, storage: ActiveStorage, err: OSError) -> None: ...

    async def begin_writing(self, storage: ActiveStorage, path: Path) -> None: ...

    def done_writing(self, storage: ActiveStorage, path: Path) -> None: ...


class Recorder:
    def __init__(
        self, camera_id: str, stream: str, index: Rows, storages: Storages, sync_ms: int
    ) -> None:
        self._camera_id = camera_id
        self._sync_ms = sync_ms  # 0: the operating system decides when data reaches the disk
        self._stream = stream
        self._index = index
        self._storages = storages
        self._file: _File | None = None
        self._on_disk: _File | None = None  # on disk, not yet in the index: see written_file
        self._pending: list[Frame] = []
        self._last: Frame | None = None
        self._sound: deque[AudioFrame] = deque(maxlen=MAX_SOUND_FRAMES)  # not yet handed over
        self._last_sound: AudioFrame | None = None
        self._waiting: deque[_Gathered | _Close] = deque()  # in order, each behind the one before
        self._frame_ms = 40  # the last interval between frames: the duration of a last frame
        self._operations: deque[_Operation] = deque()
        self._unwritten = 0
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()
        self._writer = Supervised(f"record {camera_id}/{stream}", self._write_all)
        self._idle: asyncio.TimerHandle | None = None
        self._frames_seen = 0
        self._frames_at_last_check = 0
        self.error: str | None = None  # why the last write failed, until one succeeds

    def start(self) -> None:
        self._writer.start()
        self._arm_idle()

    async def stop(self) -> None:
        """Write what is gathered and close the file (frames have stopped coming)."""
        if self._idle is not None:
            self._idle.cancel()
        self._close()
        with contextlib.suppress(TimeoutError):
            # The writer finishes what was handed to it (bounded: a storage that hangs does
            # not hold up a shutdown forever).
            await asyncio.wait_for(self._drained.wait(), STOP_TIMEOUT_S)
        await self._writer.stop()

    def end_file(self) -> None:
        """Recording pauses: the file ends with what it has."""
        self._close()

    def storage_id(self) -> str | None:
        """The storage of the file being written."""
        return self._file.storage.id if self._file is not None else None

    def written_file(self) -> WrittenFile | None:
        """The file on disk that the index does not list yet: the one being written, or the
        one just closed until its row is in."""
        file = self._on_disk
        if file is None or not file.fragments:
            return None
        path = file.renamed or file.path
        return WrittenFile(file.storage, path, file.start_ms, tuple(file.fragments))

    def __call__(self, frame: AnyFrame) -> None:
        """A frame from the hub: picture or sound."""
        if not isinstance(frame, Frame):
            self._hear(frame)
            return
        self._frames_seen += 1
        if self._waiting:
            self._release(frame.time_ms - SOUND_WAIT_MS)
        last = self._last
        if last is not None:
            gap = frame.time_ms - last.time_ms
            if gap > MAX_GAP_MS:
                self._close()
            else:
                self._frame_ms = max(1, gap)
        self._last = frame
        file = self._file
        if file is not None and file.failed:
            self._file = file = None
            self._pending = []
        if (
            file is not None
            and frame.keyframe
            and (
                frame.config is not file.config
                or frame.time_ms - file.start_ms >= FILE_MS
                or not file.storage.writable
                or (file.sequence and self._sound_config(frame.time_ms) is not file.audio)
            )
        ):
            self._close(end_ms=frame.time_ms)
            file = None
        if file is None:
            if not frame.keyframe:
                return  # a file starts with a picture that decodes on its own
            if not self._open(frame):
                return
        if self._pending and (
            frame.keyframe or frame.time_ms - self._pending[0].time_ms >= FRAGMENT_MS
        ):
            self._hand_over_pending(frame.time_ms)
        self._pending.append(frame)

    def _open(self, frame: Frame) -> bool:
        storage = self._storages.choose()
        if storage is None:
            self._report("no storage can be written to")
            return False
        path = naming.part_path(storage.root, self._camera_id, self._stream, frame.time_ms)
        self._file = _File(storage, path, frame.time_ms, frame.config)
        return True

    def _hear(self, frame: AudioFrame) -> None:
        self._sound.append(frame)
        self._last_sound = frame
        if self._waiting:
            self._release(frame.time_ms)  # sound comes in order: all before it is here

    def _sound_config(self, at_ms: int) -> AudioConfig | None:
        """The stream's sound at `at_ms`: none if none came for as long as makes a gap."""
        last = self._last_sound
        return last.config if last is not None and at_ms - last.time_ms <= MAX_GAP_MS else None

    def _hand_over_pending(self, end_ms: int) -> None:
        file = self._file
        if file is None or not self._pending:
            self._pending = []
            return
        frames, self._pending = self._pending, []
        if not file.sequence:
            file.audio = self._sound_config(end_ms)
            self._submit(_Open(file, mp4.init_segment(file.config, file.audio)))
        file.sequence += 1
        if file.audio is None:
            self._take_sound(end_ms, None)  # none for this file; the next may take what follows
            self._append(file, file.sequence, frames, end_ms, ())
            return
        self._waiting.append(_Gathered(file, file.sequence, frames, end_ms))
        last = self._last_sound
        self._release(last.time_ms if last is not None else -math.inf)

    def _release(self, sound_until_ms: float) -> None:
        """Hand over the waiting fragments that end by `sound_until_ms`: their sound is here,
        or will not come (waited for long enough, or the stream stopped)."""
        waiting = self._waiting
        while waiting:
            entry = waiting[0]
            if isinstance(entry, _Close):
                self._submit(entry)
            elif entry.end_ms <= sound_until_ms:
                sound = self._take_sound(entry.end_ms, entry.file.audio)
                self._append(entry.file, entry.sequence, entry.frames, entry.end_ms, sound)
            else:
                return
            waiting.popleft()

    def _take_sound(self, end_ms: int, config: AudioConfig | None) -> list[AudioFrame]:
        """The sound gathered from before `end_ms`, of `config` (other sound is dropped)."""
        sound, taken = self._sound, []
        while sound and sound[0].time_ms < end_ms:
            frame = sound.popleft()
            if frame.config is config:
                taken.append(frame)
        return taken

    def _append(
        self, file: _File, sequence: int, frames: list[Frame], end_ms: int,
        sound: Sequence[AudioFrame],
    ) -> None:  # fmt: skip
        fragment = mp4.fragment(sequence, frames, end_ms, file.start_ms, sound)
        if self._unwritten + len(fragment.data) > MAX_UNWRITTEN_BYTES:
            self._report("the storage is too slow: fragments were dropped")
            return
        file.gathered_until_ms = end_ms
        self._submit(_Append(file, fragment))

    def _close(self, end_ms: int | None = None) -> None:
        """Hand over what is gathered and finish the file; `end_ms` is when the next frame
        starts (unknown when the stream stops: the last frame lasts as long as the one before)."""
        file = self._file
        if file is None:
            self._pending = []
        else:
            if self._pending:
                last = self._pending[-1].time_ms
                self._hand_over_pending(end_ms if end_ms is not None else last + self._frame_ms)
            self._file = None
            if self._waiting:
                self._waiting.append(_Close(file))
            else:
                self._submit(_Close(file))
        if end_ms is None:
            self._release(math.inf)  # the stream stopped: its sound too

    def _submit(self, operation: _Operation) -> None:
        if isinstance(operation, _Append):
            self._unwritten += len(operation.fragment.data)
        self._operations.append(operation)
        self._drained.clear()
        self._wake.set()

    def _arm_idle(self) -> None:
        self._idle = asyncio.get_running_loop().call_later(IDLE_S, self._check_idle)

    def _check_idle(self) -> None:
        """Every IDLE_S: a stream that sent nothing since the last look has its file closed."""
        if self._frames_seen == self._frames_at_last_check and self._file is not None:
            self._close()
        self._frames_at_last_check = self._frames_seen
        self._arm_idle()

    async def _write_all(self) -> None:
        while True:
            while not self._operations:
                self._wake.clear()
                await self._wake.wait()
            operation = self._operations[0]
            file = operation.file
            try:
                await self._carry_out(operation)
            except OSError as err:
                file.failed = True
                self._report(f"{err.strerror or err} ({err.filename or file.storage.root})")
                self._storages.failed(file.storage, err)
                await self._salvage(file)
            except Exception:  # the writer must live on: the next file may well succeed
                file.failed = True
                logger.exception("recording a file failed", extra={"path": str(file.path)})
                self._report("recording a file failed unexpectedly (see the server log)")
            finally:
                if isinstance(operation, _Close) or file.failed:
                    self._storages.done_writing(file.storage, file.path)
                    if self._on_disk is file:
                        self._on_disk = None
                self._operations.popleft()
                if isinstance(operation, _Append):
                    self._unwritten -= len(operation.fragment.data)
                if not self._operations:
                    self._drained.set()

    async def _carry_out(self, operation: _Operation) -> None:
        file = operation.file
        if file.failed:
            return  # the storage failed under this file: what reached it stays a part file
        if isinstance(operation, _Open):
            await self._storages.begin_writing(file.storage, file.path)
            file.handle = await _on(file.storage, _create, file.path, operation.init,
                                    self._sync_ms > 0)  # fmt: skip
            self._on_disk = file
            file.size = len(operation.init)
        elif isinstance(operation, _Append):
            assert file.handle is not None
            fragment = operation.fragment
            sync = 0 < self._sync_ms <= fragment.end_ms - file.synced_until_ms
            await _on(file.storage, _append, file.handle, fragment.data, sync)
            if sync:
                file.synced_until_ms = fragment.end_ms
            start, end = fragment.start_ms - file.start_ms, fragment.end_ms - file.start_ms
            file.fragments.append(FragmentInfo(file.size, start, end, fragment.keyframe))
            file.size += len(fragment.data)
            file.written_until_ms = fragment.end_ms
            self.error = None
        else:
            await self._finish(file)

    async def _finish(self, file: _File) -> None:
        assert file.handle is not None
        duration = file.written_until_ms - file.start_ms
        root = file.storage.root
        final = naming.closed_path(root, self._camera_id, self._stream, file.start_ms, duration)
        await _on(file.storage, _finish, file.handle, file.path, final, duration > 0,
                  self._sync_ms > 0)  # fmt: skip
        file.handle = None
        file.renamed = final
        if duration > 0:
            recording = Recording(file.storage.id, self._camera_id, self._stream,
                                  str(final.relative_to(root)), file.start_ms,
                                  file.written_until_ms, file.size,
                                  seek.pack(file.fragments))  # fmt: skip
            await self._index.add(recording)

    async def _salvage(self, file: _File) -> None:
        """What reached a failing storage is kept: its whole fragments are named and indexed
        now if the storage still allows it (a full one does), else when it is back."""
        name = naming.RecordingName(self._camera_id, self._stream, file.start_ms, None)
        storage = file.storage
        try:
            if file.handle is not None:
                handle, file.handle = file.handle, None
                await _on(storage, _close_quietly, handle)
            finished = await _on(storage, finish_part_file, storage.id, storage.root,
                                 file.path, name)  # fmt: skip
        except OSError:
            return
        if finished is not None:
            await self._index.add(finished)

    def _report(self, reason: str) -> None:
        if reason != self.error:
            where = {"camera": self._camera_id, "stream": self._stream}
            logger.error("recording failed", extra={**where, "reason": reason})
        self.error = reason


async def _on(storage: ActiveStorage, function: Callable[..., T], *args: Any) -> T:
    """File work on a storage, bounded: a NAS that hangs fails the file instead of holding
    up the stream's recording (the stuck thread is left to the storage)."""
    try:
        return await asyncio.wait_for(storage.run(function, *args), WRITE_TIMEOUT_S)
    except TimeoutError as err:
        reason = f"the storage did not answer within {WRITE_TIMEOUT_S:g} s"
        raise OSError(errno.ETIMEDOUT, reason) from err


def _create(path: Path, init: bytes, sync: bool) -> BinaryIO:
    created = durable.make_folders(path.parent)
    handle = path.open("xb")
    _append(handle, init, False)
    if sync:  # the name, so that the data synced later is found under it
        durable.sync_new_entry(path, created)
    return handle


def _append(handle: BinaryIO, data: bytes, sync: bool) -> None:
    handle.write(data)
    handle.flush()  # to the operating system: a killed server loses nothing written
    if sync:
        os.fdatasync(handle.fileno())


def _finish(handle: BinaryIO, part: Path, final: Path, keep: bool, sync: bool) -> None:
    # Data, then name, then (by the caller) the index row: a row never names a file that a
    # power cut could take away or leave shorter than the row says.
    if sync and keep:
        os.fdatasync(handle.fileno())
    handle.close()
    if keep:
        part.rename(final)
    else:
        part.unlink(missing_ok=True)
    if sync:
        durable.sync_folder(part.parent)


def _close_quietly(handle: BinaryIO) -> None:
    try:
        handle.close()
    except OSError:
        logger.debug("closing a failed recording", exc_info=True)
