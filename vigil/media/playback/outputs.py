"""What a playback session sends, in order, per camera (`camera`: the tile's index)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class TrackInit:
    """Tracks for the fragments that follow. `reset`: a new timeline (after a seek, a change
    of speed or of direction): what the client holds of this camera is to be dropped."""

    camera: int
    mime: str
    width: int
    height: int
    segment: bytes
    reset: bool


@dataclass(frozen=True)
class Fragment:
    camera: int
    data: bytes  # moof + mdat: one picture, with its sound at normal speed


@dataclass(frozen=True)
class GapOut:
    """Nothing is recorded from `from_ms` to `to_ms` (archive time)."""

    camera: int
    from_ms: int
    to_ms: int


@dataclass(frozen=True)
class End:
    """Nothing more is recorded in this direction from `time_ms` on."""

    camera: int
    time_ms: int


@dataclass(frozen=True)
class State:
    """Where the session is: archive time `time_ms` shows at media time `media_ms`."""

    time_ms: int
    media_ms: int
    speed: float
    playing: bool


Output = TrackInit | Fragment | GapOut | End | State
