"""A camera's ONVIF notification, read into a `CameraEvent`: pure parsing, no network.

Cameras word the same happening differently: the topic's levels may each carry a namespace
prefix (`tns1:RuleEngine/tns1:CellMotionDetector/...`), and motion comes as the rule engine's
cell motion detector (`IsMotion`), its motion region detector (`State`) or the video source's
motion alarm (`State`). Topics are compared without their prefixes, and the original topic is
kept in the event. Only SimpleItems are read (ElementItems carry XML trees that no rule of
ours looks at yet).
"""

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

EventKind = Literal["motion", "input", "other"]

# Topic (without prefixes) → its kind and the data item that says whether it is on.
_KNOWN: dict[str, tuple[EventKind, tuple[str, ...]]] = {
    "RuleEngine/CellMotionDetector/Motion": ("motion", ("IsMotion",)),
    "RuleEngine/MotionRegionDetector/Motion": ("motion", ("State", "IsMotion")),
    "VideoSource/MotionAlarm": ("motion", ("State",)),
    "Device/Trigger/DigitalInput": ("input", ("LogicalState",)),
}
_TRUE, _FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})


class CameraEvent(BaseModel):
    """One notification of one camera, as this server received it."""

    model_config = ConfigDict(frozen=True)

    camera_id: str
    topic: str  # as the camera wrote it, e.g. tns1:RuleEngine/CellMotionDetector/Motion
    kind: EventKind
    # For property events (motion, inputs, …): whether the property is now on; None when the
    # message does not say (a one-off event, or a data item we cannot read as true or false).
    active: bool | None
    # Initialized (the state when the subscription began), Changed or Deleted; None for
    # events that are not about a property.
    operation: str | None
    source: dict[str, str]  # which part of the camera: video source, rule, input token, …
    data: dict[str, str]
    time_ms: int  # when this server received it: the time to act and record by
    camera_time_ms: int | None  # the camera's UtcTime, on its own clock (may be off)


def parse_notification(camera_id: str, message: Any, received_ms: int) -> CameraEvent | None:
    """The event in one wsnt:NotificationMessage as zeep reads it; None when it has no topic."""
    topic = _text(getattr(getattr(message, "Topic", None), "_value_1", None))
    if not topic:
        return None
    body = getattr(getattr(message, "Message", None), "_value_1", None)
    source = _items(getattr(body, "Source", None))
    data = _items(getattr(body, "Data", None))
    operation = _text(getattr(body, "PropertyOperation", None)) or None
    kind, active = _classify(topic, data)
    return CameraEvent(
        camera_id=camera_id,
        topic=topic,
        kind=kind,
        active=active,
        operation=operation,
        source=source,
        data=data,
        time_ms=received_ms,
        camera_time_ms=_ms(getattr(body, "UtcTime", None)),
    )


def plain_topic(topic: str) -> str:
    """`tns1:A/tns1:B/C` → `A/B/C`."""
    return "/".join(level.rpartition(":")[2] for level in topic.strip().split("/"))


def _classify(topic: str, data: dict[str, str]) -> tuple[EventKind, bool | None]:
    known = _KNOWN.get(plain_topic(topic))
    if known is not None:
        kind, names = known
        value = next((data[name] for name in names if name in data), None)
        return kind, _boolean(value)
    # Another property with a single true/false item (tamper, alarm, …) still says on or off,
    # which recording "on any event" needs.
    only = next(iter(data.values())) if len(data) == 1 else None
    return "other", _boolean(only)


def _boolean(value: str | None) -> bool | None:
    text = (value or "").strip().lower()
    return True if text in _TRUE else False if text in _FALSE else None


def _items(group: Any) -> dict[str, str]:
    items = getattr(group, "SimpleItem", None) or []
    return {
        str(item.Name): _text(getattr(item, "Value", None))
        for item in items
        if getattr(item, "Name", None)
    }


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _ms(value: Any) -> int | None:
    if not isinstance(value, dt.datetime):
        return None
    if value.tzinfo is None:  # UtcTime is UTC by definition, whatever the camera wrote
        value = value.replace(tzinfo=dt.UTC)
    return int(value.timestamp() * 1000)
