"""How one `vigil testcamera` run is set up: cameras, their streams, where they listen."""

from dataclasses import dataclass, field
from pathlib import Path

from vigil.media.codecs import Codec
from vigil.testcamera.profiles import StreamProfile


@dataclass(frozen=True)
class TestCameraConfig:
    __test__ = False  # not a pytest test class, despite the name

    count: int = 1
    host: str = "127.0.0.1"
    rtsp_port: int = 8554
    # Camera i (0-based) answers HTTP on http_port + i, as real cameras each have an address.
    http_port: int = 8000
    codec: Codec = "h264"
    main: str = "1920x1080@25:4000k"
    sub: str = "640x360@15:512k"
    gop: int = 25
    user: str | None = None
    password: str | None = None
    caption: bool = True  # the live caption band (blank without)
    # Sound on both streams, as most cameras in the field have; clients that want only video
    # set up only the video track, and a track nobody set up costs nothing.
    audio: bool = True
    ptz: bool = True  # a pan-tilt-zoom head; without, a fixed camera
    motion_every_s: float | None = None  # motion now and then, by itself
    motion_for_s: float = 5.0
    lpr: bool = False
    lpr_url: str | None = None  # where plate reads go; also settable over the control API
    lpr_every_s: float = 10.0
    lpr_plates: Path | None = None  # a file of plates; made-up plates without one
    cache_dir: Path = field(default_factory=lambda: Path.home() / ".cache/vigil/testcamera")
    discovery: bool = True

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError("the count of cameras must be at least 1")
        for port in (self.rtsp_port, self.http_port, self.http_port + self.count - 1):
            if not 1 <= port <= 65535:
                raise ValueError(f"port {port} is outside 1 to 65535")
        if self.motion_every_s is not None and self.motion_every_s <= 0:
            raise ValueError("--motion-every must be a positive number of seconds")
        if self.lpr_every_s <= 0:
            raise ValueError("--lpr-every must be a positive number of seconds")
        if self.password is not None and self.user is None:
            raise ValueError("a password needs a user")
        # Parse now so that a bad profile stops the command before anything listens.
        self.main_profile()
        self.sub_profile()

    def main_profile(self) -> StreamProfile:
        return StreamProfile.parse(self.main, codec=self.codec, gop=self.gop)

    def sub_profile(self) -> StreamProfile:
        return StreamProfile.parse(self.sub, codec=self.codec, gop=self.gop)

    def http_port_of(self, index: int) -> int:
        return self.http_port + index
