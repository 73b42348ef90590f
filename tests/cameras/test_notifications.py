"""Notification messages as different cameras word them, read into events."""

import datetime as dt
from types import SimpleNamespace as Node

import pytest

from vigil.cameras.notifications import CameraEvent, parse_notification

RECEIVED_MS = 1_700_000_000_000


def _message(
    topic: str | None, data: dict[str, str], operation: str | None = "Changed", **body: object
) -> Node:
    """A wsnt:NotificationMessage shaped as zeep reads it."""
    items = [Node(Name=name, Value=value) for name, value in data.items()]
    message = Node(
        Source=Node(SimpleItem=[Node(Name="Token", Value="src")]),
        Data=Node(SimpleItem=items),
        PropertyOperation=operation,
        UtcTime=body.get("utc", dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)),
    )
    return Node(Topic=Node(_value_1=topic), Message=Node(_value_1=message))


def _parse(message: Node) -> CameraEvent:
    event = parse_notification("cam", message, RECEIVED_MS)
    assert event is not None
    return event


@pytest.mark.parametrize(
    ("topic", "data", "kind", "active"),
    [
        ("tns1:RuleEngine/CellMotionDetector/Motion", {"IsMotion": "true"}, "motion", True),
        # Each level prefixed, as some cameras write it.
        ("tns1:RuleEngine/tns1:CellMotionDetector/tns1:Motion", {"IsMotion": "0"}, "motion", False),
        ("tns1:VideoSource/MotionAlarm", {"State": "true"}, "motion", True),
        ("tns1:RuleEngine/MotionRegionDetector/Motion", {"State": "false"}, "motion", False),
        ("tns1:Device/Trigger/DigitalInput", {"LogicalState": "true"}, "input", True),
        ("tns1:VideoSource/GlobalSceneChange/ImagingService", {"State": "true"}, "other", True),
        ("tnsvendor:Audio/Level", {"Level": "37", "Peak": "40"}, "other", None),
        ("tns1:RuleEngine/CellMotionDetector/Motion", {"IsMotion": "maybe"}, "motion", None),
    ],
)
def test_topics_are_read_into_kinds_and_whether_they_are_on(
    topic: str, data: dict[str, str], kind: str, active: bool | None
) -> None:
    event = _parse(_message(topic, data))
    assert (event.topic, event.kind, event.active, event.data) == (topic, kind, active, data)
    assert (event.source, event.operation) == ({"Token": "src"}, "Changed")


def test_the_server_time_is_the_event_time_and_the_camera_time_is_kept() -> None:
    event = _parse(_message("tns1:Device/Trigger/DigitalInput", {"LogicalState": "true"}))
    assert event.time_ms == RECEIVED_MS
    assert event.camera_time_ms == 1_704_164_645_000  # 2024-01-02T03:04:05Z
    # UtcTime without a zone is UTC all the same; a missing one is no time at all.
    naive = _parse(_message("tns1:X", {}, utc=dt.datetime(2024, 1, 2, 3, 4, 5)))
    assert naive.camera_time_ms == event.camera_time_ms
    assert _parse(_message("tns1:X", {}, utc=None)).camera_time_ms is None


def test_a_message_without_a_topic_is_skipped_and_one_without_a_body_is_read() -> None:
    assert parse_notification("cam", _message(None, {}), RECEIVED_MS) is None
    bare = _parse(Node(Topic=Node(_value_1="tns1:Something"), Message=None))
    assert (bare.kind, bare.active, bare.source, bare.data, bare.operation) == (
        "other",
        None,
        {},
        {},
        None,
    )
