from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt

from vigil.api.schemas.common import FolderPath, Name, Patch, Request
from vigil.media.storage.health import Health
from vigil.media.storage.models import Storage

# Up to 1 PiB; 0 turns deleting-for-space off except when the disk is full.
ReserveMib = Annotated[StrictInt, Field(ge=0, le=1024**3)]


class StorageCreate(Request):
    name: Name
    path: FolderPath
    reserve_mib: ReserveMib | None = None  # automatic when not given
    enabled: StrictBool = True
    server_id: str | None = None  # this server when not given


class StorageUpdate(Patch):
    """Only the fields given change; the path cannot: add the new folder as a storage."""

    name: Name | None = None
    # "auto" gives the reserve back to its automatic value.
    reserve_mib: ReserveMib | Literal["auto"] | None = None
    enabled: StrictBool | None = None


class StorageStatusOut(BaseModel):
    # online, offline, read_only, full, disabled; unknown (another server's storage)
    state: str
    reason: str = ""
    checked_ms: int | None = None


class StorageOut(BaseModel):
    id: str
    name: str
    server_id: str
    path: str
    enabled: bool
    reserve_mib: int | None  # as set; None: automatic
    reserve_bytes: int | None  # in effect, once the storage's size is known
    network: bool | None  # a NAS share (nfs, cifs, …), once looked at
    filesystem: str | None
    status: StorageStatusOut
    total_bytes: int | None
    free_bytes: int | None
    write_latency_ms: float | None
    recorded_bytes: int  # by this storage's recordings, as the index knows them
    cameras: dict[str, int]  # bytes recorded per camera id
    created_ms: int


class StorageList(BaseModel):
    storages: list[StorageOut]
    partial: bool = False  # some server of the system gave no answer: see missing_servers
    missing_servers: list[str] = []


class Rebuilt(BaseModel):
    added: int
    removed: int
    recovered: int


def storage_out(storage: Storage, health: Health | None, usage: dict[str, int]) -> StorageOut:
    r = storage.record
    known = health is not None and health.total_bytes > 0
    return StorageOut(
        id=storage.id,
        name=r.name,
        server_id=r.server_id,
        path=r.path,
        enabled=r.enabled,
        reserve_mib=r.reserve_mib,
        reserve_bytes=r.reserve_bytes(health.total_bytes) if health and known else None,
        network=health.network if health and health.filesystem else None,
        filesystem=health.filesystem if health and health.filesystem else None,
        status=StorageStatusOut(
            state=health.state, reason=health.reason, checked_ms=health.checked_ms
        )
        if health
        else StorageStatusOut(state="unknown"),
        total_bytes=health.total_bytes if health and known else None,
        free_bytes=health.free_bytes if health and known else None,
        write_latency_ms=health.write_latency_ms if health else None,
        recorded_bytes=sum(usage.values()),
        cameras=usage,
        created_ms=r.created_ms,
    )
