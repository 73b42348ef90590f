"""How one server is started: where its data lives and where it listens."""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

# What the HTTP port does: serve the API and client as HTTPS does, send every request to
# HTTPS (308), or nothing (not listened on).
HttpMode = Literal["serve", "redirect", "off"]


@dataclass(frozen=True)
class ServerConfig:
    data_dir: Path
    host: str = "127.0.0.1"
    # Where other servers and clients reach this one, when not at `host` (which may be
    # 0.0.0.0, every interface): listed in its record of the system document.
    address: str | None = None
    port: int = 7001
    http: HttpMode = "serve"
    https_port: int = 7443  # 0: none
    # The administrator's certificate and key (PEM); without them the server makes its own.
    tls_cert: Path | None = None
    tls_key: Path | None = None
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

    def __post_init__(self) -> None:
        if self.http == "off" and not self.https_port:
            raise ValueError("--http off needs an --https-port: the server would have no port")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("give --tls-cert and --tls-key together")

    @property
    def database_path(self) -> Path:
        return self.data_dir / "vigil.db"
