"""Export files: their names, and how a clip's parts become an MP4 or a zip of MP4s (blocking;
run in a thread)."""

import datetime as dt
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

_UNSAFE = re.compile(r"[^\w.-]+")  # \w is Unicode: names in any script stay readable


@dataclass(frozen=True)
class Part:
    """One camera's clip: its init segment, and a file holding its fragments in order."""

    name: str  # of the MP4
    init: bytes
    fragments: Path


def stamp(time_ms: int) -> str:
    """A UTC time as it reads in a file name."""
    return dt.datetime.fromtimestamp(time_ms / 1000, dt.UTC).strftime("%Y-%m-%d_%H-%M-%S")


def clip_names(camera_names: list[str], from_ms: int) -> list[str]:
    """One MP4 name per camera, distinct even when names differ only in what is replaced."""
    names: list[str] = []
    for camera_name in camera_names:
        base = _UNSAFE.sub("_", camera_name).strip("._") or "camera"
        name, n = f"{base}_{stamp(from_ms)}.mp4", 1
        while name in names:
            n += 1
            name = f"{base}_{stamp(from_ms)}_{n}.mp4"
        names.append(name)
    return names


def write_mp4(path: Path, part: Part) -> int:
    """The init segment then the fragments; returns the file's size."""
    with path.open("wb") as out, part.fragments.open("rb") as fragments:
        out.write(part.init)
        shutil.copyfileobj(fragments, out, 1024 * 1024)
    return path.stat().st_size


def write_zip(path: Path, parts: list[Part]) -> int:
    """One MP4 per part, stored (video does not compress); returns the file's size."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for part in parts:
            with (
                archive.open(part.name, "w", force_zip64=True) as member,
                part.fragments.open("rb") as fragments,
            ):
                member.write(part.init)
                shutil.copyfileobj(fragments, member, 1024 * 1024)
    return path.stat().st_size
