from typing import Literal

from pydantic import BaseModel

from vigil.api.schemas.common import Name, Password, Request


class SystemRef(BaseModel):
    id: str
    name: str


class ServerInfo(BaseModel):
    """What a login screen needs to know about the server it talks to."""

    id: str
    name: str
    version: str
    state: Literal["undefined", "member"]
    system: SystemRef | None


class ServerOut(BaseModel):
    id: str
    name: str
    version: str
    addresses: list[str]
    public_key: str


class SystemOut(BaseModel):
    id: str
    name: str
    created_ms: int
    servers: list[ServerOut]


class SystemCreate(Request):
    system_name: Name
    server_name: Name
    owner_name: Name
    owner_password: Password


class SystemUpdate(Request):
    name: Name


class SystemCreated(BaseModel):
    system: SystemRef
    owner_id: str
