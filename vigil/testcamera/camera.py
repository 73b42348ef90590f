"""One simulated camera's state: identity, stream settings, PTZ and event sources.

The RTSP server, the ONVIF services and the control API all act on these objects; none of
them keeps camera state of its own.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from vigil.testcamera.profiles import StreamProfile

StreamName = Literal["main", "sub"]
STREAM_NAMES: tuple[StreamName, ...] = ("main", "sub")


@dataclass(frozen=True)
class Identity:
    index: int
    name: str
    serial: str
    mac: str
    manufacturer: str = "Vigil"
    model: str = "Vigil TestCam"
    firmware: str = "1.0"

    @classmethod
    def number(cls, index: int) -> "Identity":
        """Camera `index` (0-based) of a run: distinct name, serial and MAC-like id."""
        return cls(
            index=index,
            name=f"Camera {index + 1:03d}",
            serial=f"VTC{index + 1:08d}",
            mac=":".join(f"{b:02x}" for b in (2, 0x56, 0x49, *index.to_bytes(3, "big"))),
        )


@dataclass(frozen=True)
class PtzPosition:
    """Pan and tilt in [-1, 1], zoom in [0, 1]: ONVIF's generic normalised spaces."""

    pan: float = 0.0
    tilt: float = 0.0
    zoom: float = 0.0

    def clamped(self) -> "PtzPosition":
        return PtzPosition(
            pan=min(1.0, max(-1.0, self.pan)),
            tilt=min(1.0, max(-1.0, self.tilt)),
            zoom=min(1.0, max(0.0, self.zoom)),
        )

    def moved(self, pan: float, tilt: float, zoom: float) -> "PtzPosition":
        return PtzPosition(self.pan + pan, self.tilt + tilt, self.zoom + zoom).clamped()


@dataclass(frozen=True)
class Preset:
    token: str
    name: str
    position: PtzPosition


class Ptz:
    """A pan-tilt-zoom head: continuous moves run at a speed until stopped or timed out."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._now = monotonic
        self._anchor = PtzPosition()
        self._anchor_time = self._now()
        self._velocity = (0.0, 0.0, 0.0)
        self._move_until: float | None = None
        self._presets: dict[str, Preset] = {}
        self._next_preset = 1

    def position(self) -> PtzPosition:
        now = self._now()
        end = now if self._move_until is None else min(now, self._move_until)
        elapsed = max(0.0, end - self._anchor_time)
        vx, vy, vz = self._velocity
        return self._anchor.moved(vx * elapsed, vy * elapsed, vz * elapsed)

    def moving(self) -> bool:
        if self._velocity == (0.0, 0.0, 0.0):
            return False
        return self._move_until is None or self._now() < self._move_until

    def continuous_move(
        self, pan: float, tilt: float, zoom: float, timeout_s: float | None = None
    ) -> None:
        self._rebase()
        self._velocity = (pan, tilt, zoom)
        self._move_until = None if timeout_s is None else self._now() + timeout_s

    def stop(self) -> None:
        self._rebase()
        self._velocity = (0.0, 0.0, 0.0)
        self._move_until = None

    def absolute_move(self, target: PtzPosition) -> None:
        self.stop()
        self._anchor = target.clamped()

    def relative_move(self, pan: float, tilt: float, zoom: float) -> None:
        self.stop()
        self._anchor = self._anchor.moved(pan, tilt, zoom)

    def presets(self) -> list[Preset]:
        return list(self._presets.values())

    def set_preset(self, name: str | None = None, token: str | None = None) -> Preset:
        if token is None:
            token = f"preset{self._next_preset}"
            self._next_preset += 1
        preset = Preset(token, name or token, self.position())
        self._presets[token] = preset
        return preset

    def goto_preset(self, token: str) -> bool:
        preset = self._presets.get(token)
        if preset is None:
            return False
        self.absolute_move(preset.position)
        return True

    def remove_preset(self, token: str) -> bool:
        return self._presets.pop(token, None) is not None

    def _rebase(self) -> None:
        self._anchor = self.position()
        self._anchor_time = self._now()


@dataclass(frozen=True)
class CameraEvent:
    """A change of one of the camera's event sources, as ONVIF notifications carry it."""

    topic: str  # e.g. "tns1:RuleEngine/CellMotionDetector/Motion"
    time: float  # wall clock, seconds since the epoch
    source: dict[str, str]  # e.g. {"VideoSourceConfigurationToken": "video_src"}
    data: dict[str, str]  # e.g. {"IsMotion": "true"}
    operation: Literal["Initialized", "Changed", "Deleted"] = "Changed"


MOTION_TOPIC = "tns1:RuleEngine/CellMotionDetector/Motion"
INPUT_TOPIC = "tns1:Device/Trigger/DigitalInput"
INPUT_COUNT = 2


class EventSources:
    """Motion and digital inputs. Listeners (ONVIF pull points) get every change."""

    def __init__(self) -> None:
        self.motion = False
        self.inputs = [False] * INPUT_COUNT
        self._listeners: set[Callable[[CameraEvent], None]] = set()

    def listen(self, listener: Callable[[CameraEvent], None]) -> Callable[[], None]:
        """Call `listener` on each change; returns the function that stops it."""
        self._listeners.add(listener)
        return lambda: self._listeners.discard(listener)

    def current(self) -> list[CameraEvent]:
        """The state of every source, as the 'Initialized' messages a new subscriber gets."""
        return [
            replace(event, operation="Initialized")
            for event in (self._motion_event(), *map(self._input_event, range(INPUT_COUNT)))
        ]

    def set_motion(self, active: bool) -> None:
        if active != self.motion:
            self.motion = active
            self._emit(self._motion_event())

    def set_input(self, number: int, active: bool) -> None:
        if not 0 <= number < INPUT_COUNT:
            raise ValueError(f"the camera has digital inputs 0 to {INPUT_COUNT - 1}")
        if active != self.inputs[number]:
            self.inputs[number] = active
            self._emit(self._input_event(number))

    def _motion_event(self) -> CameraEvent:
        return CameraEvent(
            topic=MOTION_TOPIC,
            time=time.time(),
            source={
                "VideoSourceConfigurationToken": "video_source",
                "VideoAnalyticsConfigurationToken": "analytics",
                "Rule": "MotionRule",
            },
            data={"IsMotion": "true" if self.motion else "false"},
        )

    def _input_event(self, number: int) -> CameraEvent:
        return CameraEvent(
            topic=INPUT_TOPIC,
            time=time.time(),
            source={"InputToken": f"input{number}"},
            data={"LogicalState": "true" if self.inputs[number] else "false"},
        )

    def _emit(self, event: CameraEvent) -> None:
        for listener in list(self._listeners):
            listener(event)


@dataclass
class Credentials:
    user: str | None
    password: str | None

    @property
    def required(self) -> bool:
        return bool(self.user)


@dataclass
class SimulatedCamera:
    identity: Identity
    streams: dict[StreamName, StreamProfile]
    credentials: Credentials
    rtsp_port: int
    http_port: int
    host: str = "127.0.0.1"
    ptz: Ptz | None = field(default_factory=Ptz)  # None: a fixed camera, no PTZ head
    events: EventSources = field(default_factory=EventSources)
    # Called when ONVIF SetVideoEncoderConfiguration changes a stream's profile; the video
    # service switches what it serves.
    on_profile_change: Callable[[StreamName, StreamProfile], None] | None = None
    # The plate of the last read and until when (time.monotonic()) the caption shows it.
    plate_in_view: tuple[str, float] | None = None
    # A microphone: both streams carry sound (AAC) as well as video.
    audio: bool = False
    # ONVIF operation name -> (how, count): its next `count` answers are malformed, `empty`
    # or `truncated` (the control API's `malformed` fault): a camera whose firmware writes
    # broken answers.
    malformed_answers: dict[str, tuple[str, int]] = field(default_factory=dict)

    def take_malformed(self, operation: str) -> str | None:
        """How this answer to `operation` is to be malformed (one fewer remain), or None."""
        how, left = self.malformed_answers.get(operation, ("", 0))
        if left <= 0:
            return None
        self.malformed_answers[operation] = (how, left - 1)
        return how

    def rtsp_path(self, stream: StreamName) -> str:
        return f"/cam{self.identity.index + 1}/{stream}"

    def rtsp_url(self, stream: StreamName) -> str:
        return f"rtsp://{self.host}:{self.rtsp_port}{self.rtsp_path(stream)}"

    @property
    def onvif_url(self) -> str:
        return f"http://{self.host}:{self.http_port}/onvif/device_service"

    def snapshot_url(self, stream: StreamName = "main") -> str:
        return f"http://{self.host}:{self.http_port}/snapshot/{stream}.jpg"

    def change_profile(self, stream: StreamName, profile: StreamProfile) -> None:
        self.streams[stream] = profile
        if self.on_profile_change is not None:
            self.on_profile_change(stream, profile)
