"""Records of the system document that describe the system itself and its servers."""

from typing import Literal

from pydantic import BaseModel


class SystemRecord(BaseModel):
    id: str
    name: str
    created_ms: int


class ServerRecord(BaseModel):
    name: str
    version: str
    addresses: list[str]
    public_key: str
    hidden: bool = False


ServerState = Literal["undefined", "member"]
