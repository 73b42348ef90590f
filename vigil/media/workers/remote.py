"""A stream as the API process knows it: what it connects to, which worker runs it, and what
that worker last said of it (status, figures, the file on disk the index does not list yet).
The media service keeps one for each stream it runs."""

from dataclasses import dataclass, field

from vigil.cameras.models import CameraRecord, StreamName, Transport
from vigil.cameras.recording import RecordingSettings
from vigil.media.archive.scan import FragmentInfo
from vigil.media.frames import AudioConfig
from vigil.media.ingest import StreamState, StreamStats, StreamStatus
from vigil.media.pipeline import RecordingFacts
from vigil.media.workers import messages as m
from vigil.media.workers.link import WorkerLink
from vigil.media.workers.mirror import MirrorHub


@dataclass(frozen=True)
class Source:
    """What a stream connects to, and how: a change of any of it restarts the stream."""

    url: str
    username: str
    password: str = field(repr=False)
    transport: Transport


def source_of(record: CameraRecord, stream: StreamName) -> Source | None:
    url = record.url_of(stream)
    if not url:
        return None
    return Source(url, record.username, record.password, record.transport)


@dataclass
class Written:
    """The stream's file on disk that the index does not list yet: the one being written,
    or the one just closed until its row is in."""

    storage_id: str
    path: str
    start_ms: int
    fragments: list[FragmentInfo]

    @property
    def span(self) -> tuple[int, int] | None:
        if not self.fragments:
            return None
        return self.start_ms, self.start_ms + self.fragments[-1].end_ms


class RemoteStream:
    def __init__(
        self, key: int, camera_id: str, stream: StreamName, source: Source,
        settings: RecordingSettings, worker: WorkerLink, since_ms: int,
    ) -> None:  # fmt: skip
        self.key = key
        self.camera_id = camera_id
        self.stream = stream
        self.source = source
        self.settings = settings
        self.worker = worker
        self.hub = MirrorHub(lambda on, number: worker.send(m.Feed(key, on, number)))
        # Relaying servers its worker feeds itself, by (server, relay key).
        self.peer_feeds: dict[tuple[str, int], m.Destination] = {}
        self.facts = RecordingFacts(StreamStatus(StreamState.CONNECTING, "", since_ms))
        self.stats: StreamStats | None = None
        self.audio: AudioConfig | None = None
        self.written: Written | None = None
        self.note = ""  # why its worker started again, for its next start

    def run_message(self) -> m.Run:
        source = self.source
        return m.Run(self.key, self.camera_id, self.stream, source.url, source.username,
                     source.password, source.transport, self.settings, self.note)  # fmt: skip

    @property
    def status(self) -> StreamStatus:
        return self.facts.status

    def take(self, report: m.StreamReport, with_stats: bool) -> None:
        self.facts = report.facts
        if report.audio != self.audio:  # the same sound keeps its object
            self.audio = report.audio
        if with_stats:
            self.stats = report.stats
            self.hub.told_gop_bytes = report.gop_bytes
        told = report.written
        if told is None:
            self.written = None
            return
        if self.written is None or self.written.path != told.path:
            self.written = Written(told.storage_id, told.path, told.start_ms, [])
        fragments = self.written.fragments
        del fragments[told.known :]
        fragments.extend(told.fragments)

    def lost(self, said: str, now_ms: int) -> None:
        """Its worker died: offline, with why, until the next one reports."""
        self.hub.worker_lost()
        self.facts = RecordingFacts(StreamStatus(StreamState.OFFLINE, said, now_ms))
        self.written = None
