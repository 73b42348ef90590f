"""Events through onvif-zeep-async's pull point manager: motion and inputs as a VMS sees them."""

import asyncio
import datetime as dt
from typing import Any

import httpx
import pytest
from onvif import ONVIFCamera
from zeep.exceptions import Fault

from tests.testcamera.process import TestCameraProcess

MOTION = "tns1:RuleEngine/CellMotionDetector/Motion"
INPUT = "tns1:Device/Trigger/DigitalInput"


def _read(message: Any) -> tuple[str, str, dict[str, str]]:
    """Topic, property operation and data items of a NotificationMessage."""
    body = message.Message._value_1  # zeep reads tt:Message with the ONVIF schema
    data = {item.Name: item.Value for item in body.Data.SimpleItem}
    return message.Topic._value_1, body.PropertyOperation, data


async def _control(cameras: TestCameraProcess, path: str, active: bool) -> None:
    async with httpx.AsyncClient(base_url=cameras.url(), timeout=5.0) as client:
        answer = await client.post(f"/control/{path}", json={"active": active})
    assert answer.status_code == 200, answer.text


async def _pull(pullpoint: Any, wait: str = "PT5S", limit: int = 10) -> list[Any]:
    """PullMessages: waits up to `wait` (a duration) for the first event."""
    answer = await pullpoint.PullMessages({"Timeout": wait, "MessageLimit": limit})
    return list(answer.NotificationMessage)


@pytest.fixture
async def pullpoint(onvif_camera: ONVIFCamera) -> Any:
    manager = await onvif_camera.create_pullpoint_manager(dt.timedelta(seconds=60), lambda: None)
    yield manager.get_service()
    await manager.shutdown()


async def test_new_subscription_gets_the_current_state_first(pullpoint: Any) -> None:
    messages = [_read(m) for m in await _pull(pullpoint)]
    assert (MOTION, "Initialized", {"IsMotion": "false"}) in messages
    assert [topic for topic, _, _ in messages].count(INPUT) == 2


async def test_motion_start_and_stop_reach_a_waiting_pull(
    pullpoint: Any, cameras: TestCameraProcess
) -> None:
    await _pull(pullpoint)  # the initial state
    waiting = asyncio.create_task(_pull(pullpoint, wait="PT10S"))
    await asyncio.sleep(0.2)
    assert not waiting.done()  # the pull waits for an event rather than answering empty
    await _control(cameras, "motion", True)
    started = [_read(m) for m in await asyncio.wait_for(waiting, 10)]
    assert started == [(MOTION, "Changed", {"IsMotion": "true"})]
    await _control(cameras, "motion", False)
    stopped = [_read(m) for m in await _pull(pullpoint)]
    assert stopped == [(MOTION, "Changed", {"IsMotion": "false"})]


async def test_message_limit_splits_the_queue_and_timeout_bounds_an_empty_pull(
    pullpoint: Any, cameras: TestCameraProcess
) -> None:
    await _pull(pullpoint)
    await _control(cameras, "input/0", True)
    await _control(cameras, "input/1", True)
    await _control(cameras, "input/1", False)
    first = await _pull(pullpoint, limit=2)
    rest = await _pull(pullpoint, limit=2)
    states = [_read(m)[2]["LogicalState"] for m in first + rest]
    assert (len(first), len(rest), states) == (2, 1, ["true", "true", "false"])
    assert await _pull(pullpoint, wait="PT0.3S") == []
    await _control(cameras, "input/0", False)


async def test_renew_extends_and_unsubscribe_ends_the_subscription(
    onvif_camera: ONVIFCamera,
) -> None:
    events = await onvif_camera.create_events_service()
    created = await events.CreatePullPointSubscription({"InitialTerminationTime": "PT30S"})
    assert created.TerminationTime - created.CurrentTime == pytest.approx(
        dt.timedelta(seconds=30), abs=dt.timedelta(seconds=1)
    )
    onvif_camera.xaddrs["http://www.onvif.org/ver10/events/wsdl/PullPointSubscription"] = (
        created.SubscriptionReference.Address._value_1
    )
    subscription = await onvif_camera.create_subscription_service("PullPointSubscription")
    renewed = await subscription.Renew("PT120S")
    assert renewed.TerminationTime - renewed.CurrentTime == pytest.approx(
        dt.timedelta(seconds=120), abs=dt.timedelta(seconds=1)
    )
    await subscription.Unsubscribe()
    pullpoint = await onvif_camera.create_pullpoint_service()
    with pytest.raises(Fault):
        await _pull(pullpoint, wait="PT1S")


async def test_event_properties_list_motion_and_inputs(onvif_camera: ONVIFCamera) -> None:
    events = await onvif_camera.create_events_service()
    properties = await events.GetEventProperties()
    assert properties.FixedTopicSet is True
    tags = {element.tag.rpartition("}")[2] for element in properties.TopicSet._value_1}
    assert tags == {"RuleEngine", "Device"}
