"""The text messages of the live WebSockets (the binary ones are fMP4: init segment, fragments;
on the socket of many cameras, behind their slot's byte)."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from vigil.auth.rights import ResourceId
from vigil.cameras.models import StreamName

MAX_SLOTS = 64  # cameras on one socket: a full layout
Slot = Annotated[int, Field(ge=0, lt=MAX_SLOTS)]


class InitOut(BaseModel):
    """The next binary message is an init segment of this MIME type."""

    type: Literal["init"] = "init"
    mime: str  # e.g. video/mp4; codecs="avc1.64001f,mp4a.40.2"
    width: int
    height: int


class StatusOut(BaseModel):
    type: Literal["status"] = "status"
    state: Literal["online", "offline", "ended"]
    reason: str = ""


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WatchIn(_Command):
    """Show this camera's stream in `slot` (what the slot showed stops)."""

    command: Literal["watch"]
    slot: Slot
    camera_id: ResourceId
    stream: StreamName = "main"


class UnwatchIn(_Command):
    command: Literal["unwatch"]
    slot: Slot


SlotCommandIn = Annotated[WatchIn | UnwatchIn, Field(discriminator="command")]


class ReadyOut(BaseModel):
    """The socket of many cameras is open: slots may be watched."""

    type: Literal["ready"] = "ready"
    slots: int = MAX_SLOTS
