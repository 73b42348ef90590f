"""The messages of the notifications WebSocket (all text, JSON)."""

from typing import Any, Literal

from pydantic import BaseModel


class NotificationOut(BaseModel):
    type: str  # e.g. `export`; says what `data` holds
    time_ms: int  # when it was published
    data: dict[str, Any]


class ReadyData(BaseModel):
    user_id: str


class ReadyOut(BaseModel):
    """The first message: the client gets every notification for it from now on."""

    type: Literal["ready"] = "ready"
    time_ms: int
    data: ReadyData


class LostData(BaseModel):
    count: int


class LostOut(BaseModel):
    """The client read too slowly: this many notifications before the next were dropped."""

    type: Literal["lost"] = "lost"
    time_ms: int
    data: LostData
