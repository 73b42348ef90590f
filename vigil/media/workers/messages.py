"""What the API process and a media worker say to each other (control messages, pickled)."""

from dataclasses import dataclass, field

from vigil.cameras.models import Transport
from vigil.cameras.recording import RecordingSettings
from vigil.media.archive.scan import FragmentInfo
from vigil.media.archive.store import Recording
from vigil.media.frames import AudioConfig
from vigil.media.ingest import StreamStats
from vigil.media.pipeline import RecordingFacts
from vigil.media.storage.health import Health
from vigil.media.storage.models import Storage

# --- from the API process ---


@dataclass(frozen=True)
class Run:
    """Pull one stream and record it; `key` names it in every message after."""

    key: int
    camera_id: str
    stream: str
    url: str
    username: str
    password: str = field(repr=False)
    transport: Transport
    settings: RecordingSettings
    note: str  # why it (re)starts, for its status until it connects: "" on a first start


@dataclass(frozen=True)
class Stop:
    """A call: stop the stream, its file closed and indexed, before the answer."""

    key: int


@dataclass(frozen=True)
class Settings:
    key: int
    settings: RecordingSettings


@dataclass(frozen=True)
class CameraEvent:
    key: int
    active: bool
    now_ms: int


@dataclass(frozen=True)
class Feed:
    """Send this stream's frames (its kept GOP first), or stop sending them; `number` names
    the feed in the `Fed` that answers it."""

    key: int
    on: bool
    number: int


@dataclass(frozen=True)
class RelayingServer:
    """A server of the system that a worker feeds streams to itself: reached at its peer
    port, whose certificate must hold `peer_key` (the Ed25519 key the system lists for it),
    with `token`, which it gave this server over their peer connection (good while that
    connection lasts). One connection carries every stream a worker feeds it."""

    server_id: str
    host: str
    port: int
    peer_key: bytes
    token: str = field(repr=False)


@dataclass(frozen=True)
class Destination:
    """Where a worker feeds a stream: a relaying server, the stream's key on that
    connection's frames, and the feed's number, said in the fed mark after the kept GOP."""

    server: RelayingServer
    relay_key: int
    number: int


@dataclass(frozen=True)
class FeedPeer:
    """Send this stream to `to` (its kept GOP first), or stop sending it."""

    key: int
    to: Destination
    on: bool


@dataclass(frozen=True)
class StorageView:
    storage: Storage
    health: Health | None


@dataclass(frozen=True)
class Storages:
    """The server's storages as its pool sees them now: where recordings may go."""

    storages: tuple[StorageView, ...]


@dataclass(frozen=True)
class Quit:
    """A call: stop every stream, files closed and indexed, before the answer."""


# --- from a worker ---


@dataclass(frozen=True)
class Fed:
    """The stream's kept GOP was sent for feed `number`: what follows is live."""

    key: int
    number: int


@dataclass(frozen=True)
class PeerFeedEnded:
    """A feed to a relaying server could not start, or its connection ended."""

    to: Destination
    reason: str


@dataclass(frozen=True)
class BeginWriting:
    """A call: a recording file is about to be made (the index's mending leaves it alone)."""

    storage_id: str
    path: str


@dataclass(frozen=True)
class DoneWriting:
    storage_id: str
    path: str


@dataclass(frozen=True)
class AddRow:
    """A call: a closed file's row, answered once it is in the index."""

    recording: Recording


@dataclass(frozen=True)
class StorageFailed:
    storage_id: str
    errno: int | None
    strerror: str | None
    filename: str | None


@dataclass(frozen=True)
class WrittenFile:
    """The file of a stream on disk that the index does not list yet (being written, or
    closed until its row is in); `fragments` are those after the first `known` ones already
    told for the same path."""

    storage_id: str
    path: str
    start_ms: int
    known: int
    fragments: tuple[FragmentInfo, ...]


@dataclass(frozen=True)
class StreamReport:
    facts: RecordingFacts  # the stream's status among them
    audio: AudioConfig | None  # the sound the camera announced
    written: WrittenFile | None
    # Given once a second (`Reports.with_stats`), else 0 and None: the kept GOP's size (a
    # viewer's queue is sized by it) and the stream's figures.
    gop_bytes: int
    stats: StreamStats | None


@dataclass(frozen=True)
class Reports:
    """What changed of the worker's streams since its last reports."""

    streams: dict[int, StreamReport]
    with_stats: bool
