"""The messages of the playback WebSocket: commands from the client, JSON text from the
server (the binary ones are a camera's index byte, then fMP4)."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from vigil.api.schemas.common import EpochMs


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SeekIn(_Command):
    command: Literal["seek"]
    time_ms: EpochMs  # not in the future: checked by the session


class PlayIn(_Command):
    command: Literal["play"]
    speed: float = 1.0  # -16 to 16, not 0: checked by the session, which names the field


class PauseIn(_Command):
    command: Literal["pause"]


class StepIn(_Command):
    command: Literal["step"]
    frames: Literal[1, -1] = 1


CommandIn = Annotated[SeekIn | PlayIn | PauseIn | StepIn, Field(discriminator="command")]


class InitOut(BaseModel):
    """The next binary message of this camera is an init segment of this MIME type."""

    type: Literal["init"] = "init"
    camera: int
    mime: str
    width: int
    height: int
    reset: bool  # a new timeline: drop what is buffered of this camera


class GapOut(BaseModel):
    type: Literal["gap"] = "gap"
    camera: int
    from_ms: int
    to_ms: int
    length_ms: int


class EndOut(BaseModel):
    type: Literal["end"] = "end"
    camera: int
    time_ms: int


class StateOut(BaseModel):
    type: Literal["state"] = "state"
    time_ms: int  # archive time showing at media time `media_ms`
    media_ms: int
    speed: float
    playing: bool
