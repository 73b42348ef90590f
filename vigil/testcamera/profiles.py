"""Stream profiles as the command line writes them: `1920x1080@25:4000k`."""

import re
from dataclasses import dataclass

from vigil.media.codecs import Codec

# 4K UHD at most: the loop of every profile is rendered and encoded on this machine.
MAX_WIDTH, MAX_HEIGHT, MIN_SIDE = 3840, 2160, 64

_PROFILE = re.compile(r"^(\d{2,5})x(\d{2,5})@(\d{1,3})(?::(\d{2,6})k)?$")


@dataclass(frozen=True)
class StreamProfile:
    codec: Codec
    width: int
    height: int
    fps: int
    bitrate_kbps: int
    gop: int

    @classmethod
    def parse(cls, text: str, *, codec: Codec, gop: int) -> "StreamProfile":
        match = _PROFILE.match(text.strip())
        if match is None:
            raise ValueError(f"{text!r} is not WIDTHxHEIGHT@FPS:BITRATEk, e.g. 1920x1080@25:4000k")
        width, height, fps = int(match[1]), int(match[2]), int(match[3])
        bitrate = int(match[4]) if match[4] else max(64, width * height * fps // 13_000)
        if width % 16 or height % 8:
            raise ValueError(f"{width}x{height}: width must be a multiple of 16, height of 8")
        if not (MIN_SIDE <= width <= MAX_WIDTH and MIN_SIDE <= height <= MAX_HEIGHT):
            raise ValueError(
                f"{width}x{height}: from {MIN_SIDE}x{MIN_SIDE} to {MAX_WIDTH}x{MAX_HEIGHT}"
            )
        if not 16 <= bitrate <= 50_000:
            raise ValueError(f"{bitrate}k: the bitrate must be 16 to 50000 kbit/s")
        if not 1 <= fps <= 60:
            raise ValueError(f"{fps} fps: the frame rate must be 1 to 60")
        if gop < 1:
            raise ValueError("the GOP must be at least 1 frame")
        return cls(codec, width, height, fps, bitrate, gop)

    def __str__(self) -> str:
        return f"{self.codec} {self.width}x{self.height}@{self.fps}:{self.bitrate_kbps}k/{self.gop}"
