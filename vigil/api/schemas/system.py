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


class MediaWorkerOut(BaseModel):
    """One of the processes that pull and record this server's cameras."""

    name: str
    pid: int | None  # None until it is first given a camera
    streams: int  # camera streams it runs
    restarts: int  # times it stopped on its own and was started again
    last_exit: str | None  # why it last stopped, e.g. "killed by SIGKILL"
    cpu_seconds: float | None  # of its process so far


class MediaWorkersOut(BaseModel):
    workers: list[MediaWorkerOut]


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
