"""One stream of one camera as a media worker runs it: its ingest, its hub, and what always
consumes it (the recorder, through its recording gate); and what the recording is doing.

The recording state is worked out where the API answers, from the camera's settings as the
system document has them now and from what the worker last said of the stream
(`RecordingFacts`): a change of settings shows at once, without waiting for the worker."""

import math
from dataclasses import dataclass

from vigil.cameras.recording import RecordingSettings
from vigil.media.gate import RecordingGate, paused_by
from vigil.media.hub import Hub
from vigil.media.ingest import StreamIngest, StreamState, StreamStatus
from vigil.media.recorder import Recorder


@dataclass(frozen=True)
class RecordingState:
    # recording; paused (by the settings, waiting for an event or for the stream to connect);
    # failed (the stream is offline, unauthorized or in error, or the recorder cannot write)
    state: str
    reason: str  # always given but for `recording`
    storage_id: str | None  # of the file being written


@dataclass(frozen=True)
class RecordingFacts:
    """What the worker knows of a stream's recording."""

    status: StreamStatus
    error: str | None = None  # why the recorder's last write failed
    gate_open: bool = False  # frames are going to the recorder
    event_until_ms: float = -math.inf  # recording for the last event goes on until then
    storage_id: str | None = None  # of the file being written


# Why nothing is recorded, by the state of a stream that has failed.
_NO_VIDEO = {
    StreamState.OFFLINE: "the stream is offline",
    StreamState.UNAUTHORIZED: "the camera refused the credentials",
    StreamState.ERROR: "the stream is in error",
}


def recording_state(
    settings: RecordingSettings, stream: str, now_ms: int, facts: RecordingFacts
) -> RecordingState:
    # The settings first: outside the schedule nothing is recorded, whatever the stream. An
    # event's recording ends when the worker's gate closes its file, not a moment before.
    event_until_ms = math.inf if facts.gate_open else facts.event_until_ms
    by_settings = paused_by(settings, stream, now_ms, event_until_ms)
    if by_settings is not None:
        return RecordingState("paused", by_settings, None)
    # The gate goes on saying it records while no frames come: the stream says better.
    status = facts.status
    if status.state == StreamState.CONNECTING:
        return RecordingState("paused", "waiting for the stream to connect", None)
    if status.state != StreamState.ONLINE:
        reason = _NO_VIDEO.get(status.state, f"the stream is {status.state}")
        said = f"{reason}: {status.reason}" if status.reason else reason
        return RecordingState("failed", said, None)
    if facts.error is not None:
        return RecordingState("failed", facts.error, facts.storage_id)
    if not facts.gate_open:
        return RecordingState("paused", "waiting for video", None)
    return RecordingState("recording", "", facts.storage_id)


class Pipeline:
    def __init__(
        self, hub: Hub, ingest: StreamIngest, gate: RecordingGate, recorder: Recorder
    ) -> None:
        self.hub = hub
        self.ingest = ingest
        self.gate = gate
        self.recorder = recorder

    def start(self) -> None:
        self.recorder.start()
        self.hub.subscribe(self.gate)
        self.ingest.start()

    async def stop(self) -> None:
        await self.ingest.stop()
        self.hub.unsubscribe(self.gate)
        await self.recorder.stop()

    def recording_facts(self) -> RecordingFacts:
        recorder = self.recorder
        return RecordingFacts(self.ingest.status, recorder.error, self.gate.recording,
                              self.gate.event_until_ms, recorder.storage_id())  # fmt: skip
