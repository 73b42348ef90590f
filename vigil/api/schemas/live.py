"""The text messages of the live WebSocket (the binary ones are fMP4: init segment, fragments)."""

from typing import Literal

from pydantic import BaseModel


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
