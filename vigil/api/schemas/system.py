from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StrictBool

from vigil.api.schemas.common import LoginText, Name, Password, Request


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
    peer_port: int  # where other servers connect (0: none); a joining server asks for it
    # Whether the request carries a live session (its cookie or token): a page asks for
    # /me only then, rather than have the browser log a refusal.
    logged_in: bool = False


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
    """A server of the system as the server answering sees it now."""

    id: str
    name: str
    version: str
    addresses: list[str]
    public_key: str
    connected: bool  # the server answering this request (the client's "master server")
    online: bool
    since_ms: int  # online, or offline, since then (offline: since this server last saw it)
    cameras: int | None  # whose parent it is (None: never heard from it)
    cameras_online: int | None
    load: float | None  # its machine's load average per core


class ServersOut(BaseModel):
    servers: list[ServerOut]


class SystemOut(BaseModel):
    id: str
    name: str
    created_ms: int
    failover_after_s: int  # an offline server's cameras are taken over after this long
    failback: bool  # and given back when it returns
    servers: list[ServerOut]


class SystemCreate(Request):
    system_name: Name
    server_name: Name
    owner_name: Name
    owner_password: Password


class ConflictOut(BaseModel):
    """A value of a server that a concurrent write on another server overwrote."""

    lost_on: str  # the server whose value was overwritten, which logged it
    id: int  # in that server's log
    at_ms: int  # when that server merged the other's write
    kind: str  # the kind of record: cameras, users, roles, storages, servers, system
    record_id: str
    field: str  # "": the whole record, deleted (kept is null) or replaced by the other server
    overwritten: Any  # what this server had
    kept: Any  # what the system has now
    server_id: str  # the server whose write was kept


class ConflictsOut(BaseModel):
    conflicts: list[ConflictOut]
    partial: bool = False  # some server of the system gave no answer: see missing_servers
    missing_servers: list[str] = []


class SystemJoin(Request):
    """Join this undefined server to the system of the server at `address`."""

    # host:port, the host a name or an address in ASCII (the same in every regex dialect).
    address: Annotated[
        str, Field(min_length=3, max_length=300, pattern=r"^[A-Za-z0-9._\-\[\]:]+:[0-9]{1,5}$")
    ]
    owner_name: LoginText
    owner_password: LoginText
    server_name: Name


class SystemJoined(BaseModel):
    system: SystemRef
    server_id: str


class ServerDetach(Request):
    """What happens to the detached server's cameras: removed from the system, or kept and
    given to the online servers, those with the fewest cameras first."""

    cameras: Literal["remove", "keep"]


class SystemUpdate(Request):
    name: Name | None = None
    failover_after_s: Annotated[int, Field(ge=5, le=3600)] | None = None
    failback: StrictBool | None = None


class SystemCreated(BaseModel):
    system: SystemRef
    owner_id: str
