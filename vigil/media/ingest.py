"""One camera stream pulled into its hub: connect, reconnect, status, stats, timestamps.

The hub gets the stream's video frames and, when the camera sends AAC sound, its audio
frames, both on the server's clock (`rtptime.py` says how they are put there and kept in
step).
"""

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from vigil.cameras.address import StreamUrl
from vigil.cameras.models import Transport
from vigil.clock import Clock
from vigil.media import sps
from vigil.media.aac import AudioUnit
from vigil.media.codecs import Codec, is_parameter_set, merge_parameter_sets, nal_type
from vigil.media.depacketize import AccessUnit
from vigil.media.frames import AudioConfig, AudioFrame, Frame, StreamConfig
from vigil.media.hub import Hub
from vigil.media.rtptime import PictureTimeline, SoundTimeline
from vigil.media.rtsp.client import RtspError, RtspStream, Unauthorized
from vigil.media.rtsp.sdp import SdpError
from vigil.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

STALL_S = 10.0  # no video for this long: the connection is dropped and made again
# Over UDP, nothing at all since PLAY for this long: the packets are most likely blocked on
# the way (a firewall or NAT), which a user should hear about sooner than a stall.
UDP_SILENCE_S = 5.0
WATCH_S = 1.0  # how often a connection's silence is looked at
FIRST_RETRY_S, MAX_RETRY_S = 1.0, 30.0
STATS_FRAMES = 100


class StreamState(StrEnum):
    CONNECTING = "connecting"
    ONLINE = "online"
    OFFLINE = "offline"  # unreachable, or it stopped sending
    UNAUTHORIZED = "unauthorized"
    ERROR = "error"  # it answers, but not with a stream we can use


@dataclass(frozen=True)
class StreamStatus:
    state: StreamState
    reason: str
    since_ms: int


class StreamStats(BaseModel):
    """Live figures of an online stream, as the API shows them."""

    model_config = ConfigDict(frozen=True)

    codec: str
    transport: Transport  # how RTP comes: interleaved on the RTSP connection, or UDP
    width: int
    height: int
    fps: float
    bitrate_kbps: int
    keyframe_interval_ms: int | None
    audio: str | None  # the sound recorded with the picture, e.g. "aac 16000 Hz mono"
    lost_packets: int  # of both tracks since the stream last connected, as are the bytes
    received_bytes: int


class StreamIngest:
    def __init__(
        self, name: str, url: StreamUrl, transport: Transport, hub: Hub, clock: Clock,
        note: str = "",
    ) -> None:  # fmt: skip
        self.name = name  # for logs: camera and stream
        self._url = url
        self._transport = transport
        self.hub = hub
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        # `note`: why it starts, when it starts again after a fault, until it connects.
        self._status = StreamStatus(StreamState.CONNECTING, note, clock.now_ms())
        self._config: StreamConfig | None = None
        self._unusable = ""  # why the parameter sets held make no config
        self._codec: Codec = "h264"  # set from each connection's SDP
        self._parameter_sets: tuple[bytes, ...] = ()
        self._timeline: PictureTimeline | None = None
        self._sound: SoundTimeline | None = None
        self._audio: AudioConfig | None = None  # of this connection, from its SDP
        self._recent: deque[tuple[int, int]] = deque(maxlen=STATS_FRAMES)  # (ms, bytes)
        self._keyframes: deque[int] = deque(maxlen=2)
        self._stream: RtspStream | None = None

    @property
    def audio(self) -> AudioConfig | None:
        """The sound of this connection (from its SDP), whose frames the hub carries."""
        return self._audio

    @property
    def status(self) -> StreamStatus:
        return self._status

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"ingest {self.name}")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    def stats(self) -> StreamStats | None:
        config = self._config
        if config is None or self._status.state != StreamState.ONLINE or len(self._recent) < 2:
            return None
        span_ms = self._recent[-1][0] - self._recent[0][0]
        frames = len(self._recent) - 1
        bits = sum(size for _, size in list(self._recent)[1:]) * 8
        interval = self._keyframes[1] - self._keyframes[0] if len(self._keyframes) == 2 else None
        stream = self._stream
        intakes = [stream.depacketizer, stream.audio_depacketizer] if stream else []
        counted = [intake for intake in intakes if intake is not None]
        return StreamStats(
            codec=config.codec,
            transport=self._transport,
            width=config.width,
            height=config.height,
            fps=round(frames * 1000 / span_ms, 2) if span_ms > 0 else 0.0,
            bitrate_kbps=bits // span_ms if span_ms > 0 else 0,
            keyframe_interval_ms=interval,
            audio=_describe(self._audio) if self._audio else None,
            lost_packets=sum(intake.lost_packets for intake in counted),
            received_bytes=sum(intake.payload_bytes for intake in counted),
        )

    def _set(self, state: StreamState, reason: str = "") -> None:
        if (state, reason) == (self._status.state, self._status.reason):
            return
        # `since_ms` is when the state began: a new reason for the same state (offline, now
        # for a timeout rather than a refusal) keeps it.
        since_ms = self._status.since_ms if state == self._status.state else self._clock.now_ms()
        self._status = StreamStatus(state, reason, since_ms)
        logger.info("camera stream", extra={"stream": self.name, "state": state,
                                            "reason": reason})  # fmt: skip

    async def _run(self) -> None:
        retry_s = FIRST_RETRY_S
        while True:
            # A failure's state stays through the retries, until one brings video or fails
            # otherwise: "offline since …" rather than a flicker with "connecting" whose time
            # moves at every retry. Only the first connection is `connecting`.
            stream = RtspStream(self._url, self._unit, self._transport, on_audio=self._audio_unit)
            self._stream = stream
            self._timeline = self._sound = None
            try:
                info = await stream.start()
                self._config = None
                self._timeline = timeline = PictureTimeline(self._clock, info.track.clock_rate)
                self._audio = audio = info.audio
                if audio is not None:
                    self._sound = SoundTimeline(timeline, stream.sender_reports, self._clock,
                                                audio, self._publish_sound)  # fmt: skip
                self._parameter_sets = merge_parameter_sets(info.codec, (), info.parameter_sets)
                self._codec = info.codec
                await self._watch(stream)
            except Unauthorized as err:
                self._set(StreamState.UNAUTHORIZED, str(err))
            except (RtspError, SdpError) as err:
                self._set(StreamState.ERROR, str(err))
            except (OSError, TimeoutError) as err:
                self._set(StreamState.OFFLINE, _network_reason(err))
            except Exception:  # a fault of ours, not the camera's: said, and tried again
                logger.exception("ingest failed", extra={"stream": self.name})
                self._set(StreamState.ERROR, "the server failed reading it (see the server log)")
            finally:
                self.hub.clear()
                await stream.close()
            if stream.last_unit_at:  # it sent video: a new failure, not the old one again
                retry_s = FIRST_RETRY_S
            await asyncio.sleep(retry_s)
            retry_s = min(retry_s * 2, MAX_RETRY_S)

    async def _watch(self, stream: RtspStream) -> None:
        """Until the connection ends or goes quiet; raises why."""
        closed = asyncio.ensure_future(stream.closed())
        started_at = asyncio.get_running_loop().time()
        try:
            while True:
                done, _ = await asyncio.wait({closed}, timeout=WATCH_S)
                if done:
                    raise OSError(f"connection lost: {closed.result()}")
                now = asyncio.get_running_loop().time()
                quiet = now - (stream.last_unit_at or started_at)
                udp = stream.udp
                if udp is not None and udp.packets == 0 and quiet > UDP_SILENCE_S:
                    raise OSError(_udp_silence(udp.strangers, quiet))
                if quiet > STALL_S:
                    raise OSError(f"the camera sent nothing for {int(quiet)} s")
        finally:
            closed.cancel()

    def _unit(self, unit: AccessUnit) -> None:
        stream, timeline = self._stream, self._timeline
        if stream is None or timeline is None:
            return
        stream.last_unit_at = asyncio.get_running_loop().time()
        config = self._config_for(unit)
        if config is None:  # nothing can decode this
            if unit.keyframe:  # and no reason to wait for parameter sets any longer
                self._set(StreamState.ERROR, self._unusable)
            return
        if self._status.state is not StreamState.ONLINE:
            self._set(StreamState.ONLINE)  # video comes: PLAY's answer alone does not say so
        time_ms, presentation_ms = timeline.times_of(unit.rtp_timestamp, unit.keyframe)
        size = unit.size
        self._recent.append((time_ms, size))
        if unit.keyframe:
            self._keyframes.append(time_ms)
        self.hub.publish(Frame(time_ms, unit.keyframe, unit.nals, config, size,
                               presentation_ms - time_ms))  # fmt: skip

    def _audio_unit(self, unit: AudioUnit) -> None:
        if self._sound is not None:
            self._sound.push(unit)

    def _publish_sound(self, time_ms: int, unit: AudioUnit) -> None:
        if self._audio is not None:
            self.hub.publish(AudioFrame(time_ms, unit.data, self._audio))

    def _config_for(self, unit: AccessUnit) -> StreamConfig | None:
        codec = self._codec
        in_band = [nal for nal in unit.nals if is_parameter_set(codec, nal)]
        if in_band:
            self._parameter_sets = merge_parameter_sets(codec, self._parameter_sets, in_band)
        config = self._config
        if config is not None and config.parameter_sets == self._parameter_sets:
            return config
        sps_nal = next((n for n in self._parameter_sets if nal_type(codec, n) in (7, 33)), None)
        if sps_nal is None:
            self._unusable = "no SPS: none in the SDP and none in the stream before a keyframe"
            return None
        try:
            info = sps.parse(codec, sps_nal)
        except ValueError as err:
            self._unusable = f"its {codec.upper()} SPS could not be read: {err}"
            return None
        self._config = StreamConfig(codec, self._parameter_sets, info)
        return self._config


def _describe(audio: AudioConfig) -> str:
    layout = {1: "mono", 2: "stereo"}.get(audio.channels, f"{audio.channels} channels")
    return f"{audio.codec} {audio.sample_rate} Hz {layout}"


def _udp_silence(strangers: int, quiet_s: float) -> str:
    if strangers:
        return (f"no packets over UDP from the camera's address in {int(quiet_s)} s, but "
                f"{strangers} from others (address translation on the way?): use TCP")  # fmt: skip
    return f"no packets over UDP in {int(quiet_s)} s (blocked by a firewall or NAT?): use TCP"


def _network_reason(err: BaseException) -> str:
    if isinstance(err, ConnectionRefusedError):
        return "connection refused"
    if isinstance(err, TimeoutError):
        return "no answer (timed out)"
    return str(err) or type(err).__name__
