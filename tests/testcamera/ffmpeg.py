"""Debian's ffmpeg as the RTSP client nobody here wrote: record with `-c copy`, then decode."""

import subprocess
from pathlib import Path


def record_command(url: str, clip: Path, seconds: float, transport: str = "tcp") -> list[str]:
    return [
        "ffmpeg",
        "-v",
        "error",
        "-rtsp_transport",
        transport,
        "-i",
        url,
        "-t",
        str(seconds),
        "-c",
        "copy",
        "-y",
        str(clip),
    ]


def record(url: str, clip: Path, seconds: float, transport: str = "tcp") -> None:
    """Record `seconds` of `url` into `clip` without re-encoding, as Frigate-like recorders do."""
    subprocess.run(
        record_command(url, clip, seconds, transport),
        capture_output=True,
        text=True,
        timeout=seconds + 40,
        check=True,
    )


def decode_errors(clip: Path) -> str:
    """What ffmpeg's decoder says about every frame of `clip` ('' when it decodes cleanly)."""
    return subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(clip), "-f", "null", "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    ).stderr.strip()
