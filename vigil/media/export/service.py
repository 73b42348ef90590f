"""Export jobs: queued, made `MAX_RUNNING` at a time, followed by their users, kept a while.

A job makes one MP4 per camera from the archive (`clip.py`, through the archive cursor): the
fragments go to a file in the job's folder as they are made, and when the clip is whole its
init segment (which holds the duration) and the fragments become the MP4, or, for several
cameras, one member each of a zip. Progress (percent of the range's camera-time done, and
the time left at the pace so far) is published to the job's user on the notification hub, at
most every `PUBLISH_EVERY_S`, and at every change of state.

Jobs live in memory and their files in the server's data folder (`exports/`, a folder per
job): a restart forgets the jobs, and the folder is emptied when the service starts. A
finished job (done or failed) and its file are removed `KEEP_MS` after it finished, or when
its user deletes it, which also cancels a job that is queued or running. Starting, deleting
and downloading an export go to the audit trail.
"""

import asyncio
import logging
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vigil.auth.audit import Actor, AuditTrail
from vigil.cameras.models import StreamName
from vigil.clock import Clock
from vigil.errors import LimitReached, VigilError
from vigil.media.export import files, reading
from vigil.media.export.clip import Clip
from vigil.media.export.models import ClipOut, ExportJob, GapOut
from vigil.media.service import MediaService
from vigil.notifications import Audience, NotificationHub
from vigil.tasks import Supervised, cancel_and_wait

logger = logging.getLogger(__name__)

MAX_RUNNING = 2  # jobs made at once: each keeps about a core busy
KEEP_MS = 24 * 3600 * 1000
MAX_JOBS_PER_USER = 20  # kept at once, in any state
SWEEP_S = 60.0
PUBLISH_EVERY_S = 0.5
WRITE_BYTES = 4 * 1024 * 1024  # what a job gathers before it writes
NOTIFICATION = "export"


class NothingRecorded(VigilError):
    """Nothing of a camera's stream is recorded in the range asked for."""

    code = "nothing_recorded"


@dataclass(frozen=True)
class ExportRequest:
    user_id: str
    camera_ids: list[str]
    camera_names: list[str]  # for the file names, in the same order
    stream: StreamName
    from_ms: int
    to_ms: int


@dataclass
class _Entry:
    job: ExportJob
    clip_names: list[str]
    task: "asyncio.Task[None] | None" = None
    published_at: float = field(default=-PUBLISH_EVERY_S)  # loop time


class ExportService:
    def __init__(
        self,
        media: MediaService,
        folder: Path,
        notifications: NotificationHub,
        audit: AuditTrail,
        clock: Clock,
    ) -> None:
        self._media = media
        self._folder = folder
        self._notifications = notifications
        self._audit = audit
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._loops = [
            *(Supervised(f"export: worker {n}", self._work) for n in range(MAX_RUNNING)),
            Supervised("export: sweep", self._sweep),
        ]

    async def start(self) -> None:
        await asyncio.to_thread(_empty, self._folder)
        for loop in self._loops:
            loop.start()

    async def stop(self) -> None:
        for loop in self._loops:
            await loop.stop()

    async def create(self, actor: Actor, request: ExportRequest) -> ExportJob:
        """Queues a job (the caller has checked the cameras and the range)."""
        mine = [e for e in self._entries.values() if e.job.user_id == request.user_id]
        if len(mine) >= MAX_JOBS_PER_USER:
            raise LimitReached(
                f"at most {MAX_JOBS_PER_USER} exports are kept per user: delete some first"
            )
        names = files.clip_names(request.camera_names, request.from_ms)
        several = len(names) > 1
        job = ExportJob(
            id=uuid.uuid4().hex,
            user_id=request.user_id,
            state="queued",
            cameras=request.camera_ids,
            stream=request.stream,
            from_ms=request.from_ms,
            to_ms=request.to_ms,
            percent=0.0,
            eta_s=None,
            bytes=0,
            error=None,
            file_name=f"export_{files.stamp(request.from_ms)}.zip" if several else names[0],
            clips=[],
            created_ms=self._clock.now_ms(),
            started_ms=None,
            finished_ms=None,
            expires_ms=None,
        )
        self._entries[job.id] = _Entry(job, names)
        self._queue.put_nowait(job.id)
        self._publish(self._entries[job.id])
        details = {
            "cameras": job.cameras,
            "stream": job.stream,
            "from_ms": job.from_ms,
            "to_ms": job.to_ms,
        }
        await self._audit.record(actor, "export.start", target=job.id, details=details)
        return job

    def jobs_of(self, user_id: str) -> list[ExportJob]:
        return [e.job for e in self._entries.values() if e.job.user_id == user_id]

    def get(self, job_id: str) -> ExportJob | None:
        entry = self._entries.get(job_id)
        return entry.job if entry else None

    def file_of(self, job: ExportJob) -> Path:
        return self._folder / job.id / job.file_name

    async def stream(
        self, actor: Actor, camera_id: str, stream: StreamName, from_ms: int, to_ms: int
    ) -> AsyncIterator[bytes] | None:
        """A camera's clip made as it is read, without a job (see `reading.streamed`)."""
        pieces = await reading.streamed(self._media, camera_id, stream, from_ms, to_ms)
        if pieces is not None:
            details = {"stream": stream, "from_ms": from_ms, "to_ms": to_ms}
            await self._audit.record(actor, "export.download", target=camera_id, details=details)
        return pieces

    async def delete(self, actor: Actor, job_id: str) -> None:
        """A user's deletion: as `_remove`, in the audit trail with the state the job was in."""
        entry = self._entries.get(job_id)
        if entry is None:
            return
        state = entry.job.state
        await self._remove(job_id)
        await self._audit.record(actor, "export.delete", target=job_id, details={"state": state})

    async def _remove(self, job_id: str) -> None:
        """Cancels the job if it is not finished, and removes it and its files."""
        entry = self._entries.pop(job_id, None)
        if entry is None:
            return
        await cancel_and_wait(entry.task)
        await asyncio.to_thread(shutil.rmtree, self._folder / job_id, True)
        if entry.job.state in ("queued", "running"):
            self._set(entry, state="cancelled", eta_s=None)

    async def _work(self) -> None:
        while True:
            entry = self._entries.get(await self._queue.get())
            if entry is None or entry.job.state != "queued":
                continue  # deleted while queued
            entry.task = asyncio.create_task(self._run(entry), name=f"export {entry.job.id}")
            try:
                # Waiting does not pass a cancelled job's CancelledError on to the worker.
                await asyncio.wait({entry.task})
            finally:
                await cancel_and_wait(entry.task)  # when the worker itself is stopped
                entry.task = None

    async def _run(self, entry: _Entry) -> None:
        folder = self._folder / entry.job.id
        try:
            await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
            self._set(entry, state="running", started_ms=self._clock.now_ms())
            size, clips = await self._make(entry, folder)
        except NothingRecorded as err:
            await self._fail(entry, folder, err.message)
        except OSError as err:
            await self._fail(entry, folder, f"the export could not be written: {err.strerror}")
        except Exception:
            logger.exception("export failed", extra={"job": entry.job.id})
            await self._fail(entry, folder, "the export failed; the error is in the server's log")
        else:
            now = self._clock.now_ms()
            self._set(entry, state="done", percent=100.0, eta_s=0, bytes=size, clips=clips,
                      finished_ms=now, expires_ms=now + KEEP_MS)  # fmt: skip

    async def _make(self, entry: _Entry, folder: Path) -> tuple[int, list[ClipOut]]:
        """The job's file, from each camera's clip; its size and the clips."""
        job = entry.job
        span_ms = job.to_ms - job.from_ms
        total_ms = span_ms * len(job.cameras)
        started = asyncio.get_running_loop().time()
        parts: list[files.Part] = []
        clips: list[ClipOut] = []
        written = 0
        for n, (camera_id, name) in enumerate(zip(job.cameras, entry.clip_names, strict=True)):
            clip = Clip(job.to_ms)
            path = folder / f"{n}.fragments"
            out = await asyncio.to_thread(path.open, "wb")
            gathered: list[bytes] = []  # written a few MiB at a time: a thread hop each
            flushed = written
            try:
                async for data in reading.fragments(
                    self._media, camera_id, job.stream, job.from_ms, clip
                ):
                    gathered.append(data)
                    written += len(data)
                    if written - flushed >= WRITE_BYTES:
                        await asyncio.to_thread(out.writelines, gathered)
                        gathered, flushed = [], written
                    reached = min(span_ms, max(0, (clip.end_ms or job.from_ms) - job.from_ms))
                    self._progress(entry, (n * span_ms + reached) / total_ms, started, written)
                await asyncio.to_thread(out.writelines, gathered)
            finally:
                await asyncio.to_thread(out.close)
            if clip.video is None:
                raise NothingRecorded(f"nothing of camera {camera_id} is recorded in the range")
            parts.append(files.Part(name, clip.init(whole=True), path))
            clips.append(_clip_out(camera_id, name, clip))
        target = self.file_of(job)
        if len(parts) == 1:
            size = await asyncio.to_thread(files.write_mp4, target, parts[0])
        else:
            size = await asyncio.to_thread(files.write_zip, target, parts)
        for part in parts:
            await asyncio.to_thread(part.fragments.unlink)
        return size, clips

    def _progress(self, entry: _Entry, fraction: float, started: float, written: int) -> None:
        now = asyncio.get_running_loop().time()
        percent = round(fraction * 100, 1)
        # At most a hundred steps, and a word on bytes and time left now and then.
        if percent < entry.job.percent + 1 and now - entry.published_at < PUBLISH_EVERY_S:
            return
        elapsed = now - started
        eta_s = round(elapsed * (1 - fraction) / fraction) if fraction > 0 else None
        self._set(entry, percent=percent, eta_s=eta_s, bytes=written)

    async def _fail(self, entry: _Entry, folder: Path, error: str) -> None:
        await asyncio.to_thread(shutil.rmtree, folder, True)
        now = self._clock.now_ms()
        self._set(entry, state="failed", error=error, eta_s=None, finished_ms=now,
                  expires_ms=now + KEEP_MS)  # fmt: skip

    def _set(self, entry: _Entry, **changes: Any) -> None:
        entry.job = entry.job.model_copy(update=changes)
        self._publish(entry)

    def _publish(self, entry: _Entry) -> None:
        entry.published_at = asyncio.get_running_loop().time()
        job = entry.job
        audience = Audience(user_id=job.user_id, camera_ids=frozenset(job.cameras))
        self._notifications.publish(NOTIFICATION, job, audience)

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_S)
            now = self._clock.now_ms()
            for job_id, entry in list(self._entries.items()):
                expires_ms = entry.job.expires_ms
                if expires_ms is not None and now >= expires_ms:
                    await self._remove(job_id)


def _clip_out(camera_id: str, name: str, clip: Clip) -> ClipOut:
    return ClipOut(
        camera_id=camera_id,
        file_name=name,
        start_ms=clip.start_ms,
        end_ms=clip.end_ms,
        duration_ms=clip.duration_ms,
        gaps=[GapOut(from_ms=gap.from_ms, to_ms=gap.to_ms) for gap in clip.gaps],
    )


def _empty(folder: Path) -> None:
    """Job files left by the last run: no job refers to them any more."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
