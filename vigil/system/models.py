"""Records of the system document that describe the system itself and its servers."""

from typing import Literal

from pydantic import BaseModel, ConfigDict


class SystemRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    created_ms: int


class ServerRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    addresses: list[str]
    public_key: str
    hidden: bool = False


ServerState = Literal["undefined", "member"]
