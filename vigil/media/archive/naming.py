"""Where a recording lives and what its name says: the index can be rebuilt from names alone.

    <storage>/<camera id>/<stream>/<YYYY-MM-DD>/<HH>/<start ms>_<duration ms>.mp4

Dates and hours are UTC, of the start. A file being written is `<start ms>.part.mp4`; it is
renamed with its duration when closed (or when found after a crash).
"""

import calendar
import re
import time
from dataclasses import dataclass
from pathlib import Path

CLOSED_NAME = re.compile(r"^(\d{10,16})_(\d{1,10})\.mp4$")
_OPEN = re.compile(r"^(\d{10,16})\.part\.mp4$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class RecordingName:
    camera_id: str
    stream: str
    start_ms: int
    duration_ms: int | None  # None while being written

    @property
    def end_ms(self) -> int | None:
        return None if self.duration_ms is None else self.start_ms + self.duration_ms


def folder_of(root: Path, camera_id: str, stream: str, start_ms: int) -> Path:
    day_hour = time.strftime("%Y-%m-%d/%H", time.gmtime(start_ms / 1000))
    return root / camera_id / stream / day_hour


def day_name(day_ms: int) -> str:
    """The folder name of the (UTC) day that starts at `day_ms`."""
    return time.strftime("%Y-%m-%d", time.gmtime(day_ms / 1000))


def day_start_ms(name: str) -> int | None:
    """When the day of a folder named `YYYY-MM-DD` starts; None for another name."""
    if _DAY.match(name) is None:
        return None
    try:
        return calendar.timegm(time.strptime(name, "%Y-%m-%d")) * 1000
    except ValueError:  # 2026-02-30
        return None


def part_path(root: Path, camera_id: str, stream: str, start_ms: int) -> Path:
    return folder_of(root, camera_id, stream, start_ms) / f"{start_ms}.part.mp4"


def closed_path(root: Path, camera_id: str, stream: str, start_ms: int, duration_ms: int) -> Path:
    return folder_of(root, camera_id, stream, start_ms) / f"{start_ms}_{duration_ms}.mp4"


def parse(root: Path, path: Path) -> RecordingName | None:
    """What a file's place and name say; None for anything that is not a recording."""
    try:
        camera_id, stream, _day, _hour, name = path.relative_to(root).parts
    except ValueError:
        return None
    if match := CLOSED_NAME.match(name):
        return RecordingName(camera_id, stream, int(match[1]), int(match[2]))
    if match := _OPEN.match(name):
        return RecordingName(camera_id, stream, int(match[1]), None)
    return None
