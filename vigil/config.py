"""How one server is started: where its data lives and where it listens."""

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ServerConfig:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 7001
    rtsp_port: int = 7554  # live and archive for standard players; 0: none
    # IPv4 addresses whose interfaces WS-Discovery probes out of; empty: every interface.
    discovery_addresses: tuple[str, ...] = ()

    @property
    def database_path(self) -> Path:
        return self.data_dir / "vigil.db"
