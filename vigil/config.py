"""How one server is started: where its data lives and where it listens."""

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ServerConfig:
    data_dir: Path
    host: str = "127.0.0.1"
    # Where other servers and clients reach this one, when not at `host` (which may be
    # 0.0.0.0, every interface): listed in its record of the system document.
    address: str | None = None
    port: int = 7001
    rtsp_port: int = 7554  # live and archive for standard players; 0: none
    peer_port: int = 7002  # where the other servers of the system connect (TLS)
    # IPv4 addresses whose interfaces WS-Discovery probes out of; empty: every interface.
    discovery_addresses: tuple[str, ...] = ()
    # Recordings are forced to the disk when this many seconds of video were written since
    # the last time, and at the end of each file: what a power cut may lose (recording.md).
    # 0: left to the operating system (storage with its own power protection).
    sync_every_s: float = 5.0
    # Processes that pull and record the cameras (docs/design/workers.md).
    media_workers: int = os.cpu_count() or 1
    log_level: str = "info"  # also of the media workers

    @property
    def database_path(self) -> Path:
        return self.data_dir / "vigil.db"
