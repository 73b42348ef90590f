"""XML Schema times as ONVIF uses them: `PT10S` durations and UTC `dateTime` stamps."""

import re
from datetime import UTC, datetime

_DURATION = re.compile(
    r"^P(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration_s(text: str) -> float:
    """`PT1M30.5S` → 90.5; years and months are refused, their length in seconds is not fixed."""
    match = _DURATION.match(text.strip())
    if match is None or text.strip() in ("P", "PT"):
        raise ValueError(f"{text!r} is not a duration such as PT10S")
    parts = {key: float(value) for key, value in match.groupdict().items() if value}
    return (
        parts.get("days", 0.0) * 86400
        + parts.get("hours", 0.0) * 3600
        + parts.get("minutes", 0.0) * 60
        + parts.get("seconds", 0.0)
    )


def format_duration(seconds: float) -> str:
    return f"PT{seconds:g}S"


def format_datetime(epoch_s: float) -> str:
    """Seconds since the epoch → `2024-05-01T12:00:00.123Z`."""
    stamp = datetime.fromtimestamp(epoch_s, UTC)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_datetime(text: str) -> float:
    """A `dateTime` → seconds since the epoch; a stamp without zone is taken as UTC."""
    stamp = datetime.fromisoformat(text.strip())
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()


def parse_termination(text: str, now_s: float) -> float:
    """WS-BaseNotification termination times are either a duration from now or a dateTime."""
    text = text.strip()
    return now_s + parse_duration_s(text) if text.startswith("P") else parse_datetime(text)
