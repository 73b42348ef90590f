"""Records of the system document that describe the system itself and its servers."""

from typing import Literal

from pydantic import BaseModel, ConfigDict


class SystemRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    created_ms: int
    # Failover (cameras/failover.py): a server offline this long has its cameras whose
    # priority is not "never" taken over by the online servers; `failback`: given back to it
    # when it returns.
    failover_after_s: int = 10
    failback: bool = True


class ServerRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    addresses: list[str]  # host:port of its API; the first is where peers dial it
    peer_port: int = 0  # where it answers other servers (docs/design/system.md)
    public_key: str
    hidden: bool = False


class DetachedRecord(BaseModel):
    """A server detached from the system: kept so that its peers refuse it as detached
    (and it forgets the system) rather than as unknown (which a lagging peer also says)."""

    model_config = ConfigDict(frozen=True)

    name: str
    public_key: str
    detached_ms: int


ServerState = Literal["undefined", "member"]
