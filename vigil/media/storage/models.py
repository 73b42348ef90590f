"""A storage as stored in the system document (replicated to every server)."""

from pydantic import BaseModel, ConfigDict

MIB = 1024 * 1024
GIB = 1024 * MIB


class StorageRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    server_id: str  # the one server that writes to it
    name: str
    path: str  # absolute, on that server: a local folder or a mounted NAS share
    # Free space to keep: below it the oldest recordings on the storage are deleted.
    # None: automatic, a tenth of the capacity but at most 10 GiB.
    reserve_mib: int | None = None
    enabled: bool = True
    created_ms: int

    def reserve_bytes(self, total_bytes: int) -> int:
        if self.reserve_mib is not None:
            return self.reserve_mib * MIB
        return min(total_bytes // 10, 10 * GIB)


class Storage(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    record: StorageRecord
