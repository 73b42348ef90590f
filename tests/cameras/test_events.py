"""A camera's ONVIF events through the API: subscription state, motion, the last events."""

import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.cameras.onvif import SECRET, USER
from tests.cameras.polling import Answer, wait_for
from tests.servers import ServerProcess
from tests.testcamera.process import TestCameraProcess

WRONG = "wrong-events-pw"
MOTION = "tns1:RuleEngine/CellMotionDetector/Motion"
# Subscribing again after a failure waits at most 30 s (the backoff's cap).
RECOVERY_S = 60


def _add(owner: httpx.Client, cameras: TestCameraProcess, index: int = 0) -> str:
    answer = owner.post(
        "/cameras",
        json={"onvif_address": cameras.url(index), "username": USER, "password": SECRET},
    )
    assert answer.status_code == 201, answer.text
    camera_id: str = answer.json()["id"]
    return camera_id


def _events(camera_id: str) -> str:
    return f"/cameras/{camera_id}/events/state"


def _in_state(state: str) -> Callable[[Answer], bool]:
    return lambda answer: answer["subscription"]["state"] == state


def _motion(cameras: TestCameraProcess, active: bool, index: int = 0) -> None:
    answer = httpx.post(f"{cameras.url(index)}/control/motion", json={"active": active})
    assert answer.status_code == 200, answer.text


def _motion_events(answer: Answer) -> list[tuple[str, bool]]:
    return [(e["operation"], e["active"]) for e in answer["last_events"] if e["topic"] == MOTION]


def test_a_camera_added_by_onvif_is_subscribed_and_shows_motion_start_and_stop(
    system_server: ServerProcess, owner: httpx.Client, cameras: TestCameraProcess
) -> None:
    camera_id = _add(owner, cameras)
    subscribed = wait_for(owner, _events(camera_id), _in_state("subscribed"))
    assert subscribed["subscription"]["state"] == "subscribed", subscribed
    # A new subscription starts with the camera's current state.
    initial = wait_for(owner, _events(camera_id), lambda a: bool(_motion_events(a)))
    assert _motion_events(initial) == [("Initialized", False)]
    assert initial["motion"] is False
    event = next(e for e in initial["last_events"] if e["topic"] == MOTION)
    assert (event["camera_id"], event["kind"]) == (camera_id, "motion")
    assert event["data"] == {"IsMotion": "false"}

    _motion(cameras, True)
    moving = wait_for(owner, _events(camera_id), lambda a: a["motion"] is True)
    assert (moving["motion"], moving["active"]) == (True, True)
    assert _motion_events(moving)[-1] == ("Changed", True)

    _motion(cameras, False)
    still = wait_for(owner, _events(camera_id), lambda a: a["motion"] is False)
    assert (still["motion"], still["active"]) == (False, False)
    assert _motion_events(still)[-2:] == [("Changed", True), ("Changed", False)]
    assert SECRET not in system_server.logs()


def test_wrong_credentials_show_unauthorized_until_they_are_corrected(
    system_server: ServerProcess, owner: httpx.Client, cameras: TestCameraProcess
) -> None:
    camera_id = _add(owner, cameras, index=1)
    wait_for(owner, _events(camera_id), _in_state("subscribed"))
    owner.patch(f"/cameras/{camera_id}", json={"password": WRONG}).raise_for_status()
    refused = wait_for(owner, _events(camera_id), _in_state("unauthorized"))
    assert refused["subscription"]["state"] == "unauthorized", refused
    assert "username and password" in refused["subscription"]["reason"]

    owner.patch(f"/cameras/{camera_id}", json={"password": SECRET}).raise_for_status()
    again = wait_for(owner, _events(camera_id), _in_state("subscribed"))
    assert again["subscription"]["state"] == "subscribed", again
    shown = f"{refused} {again} {system_server.logs()}"
    assert WRONG not in shown
    assert SECRET not in shown


def test_a_stopped_camera_shows_unreachable_and_is_subscribed_again_when_back(
    tmp_path: Path, owner: httpx.Client
) -> None:
    with TestCameraProcess(tmp_path) as camera:
        camera.start(timeout_s=120)
        camera_id = owner.post("/cameras", json={"onvif_address": camera.url()}).json()["id"]
        assert wait_for(owner, _events(camera_id), _in_state("subscribed"))["motion"] is False
        camera.stop()
        gone = wait_for(owner, _events(camera_id), _in_state("unreachable"))
        assert gone["subscription"]["state"] == "unreachable", gone
        assert "cannot reach" in gone["subscription"]["reason"]

        camera.start(timeout_s=120)
        _motion(camera, True)  # before the new subscription: its first message says so
        back = wait_for(owner, _events(camera_id), lambda a: a["motion"], timeout_s=RECOVERY_S)
        assert (back["subscription"]["state"], back["motion"]) == ("subscribed", True), back


def test_cameras_without_an_event_subscription_say_why(
    owner: httpx.Client, cameras: TestCameraProcess
) -> None:
    rtsp = f"rtsp://127.0.0.1:{cameras.rtsp_port}/cam1/main"
    plain = owner.post("/cameras", json={"name": "Plain", "main_url": rtsp}).json()["id"]
    answer = owner.get(_events(plain)).json()
    assert (answer["subscription"]["state"], answer["last_events"]) == ("none", [])

    camera_id = _add(owner, cameras)
    owner.patch(f"/cameras/{camera_id}", json={"enabled": False}).raise_for_status()
    disabled = wait_for(owner, _events(camera_id), _in_state("disabled"))
    assert disabled["subscription"]["state"] == "disabled", disabled
    assert owner.get(_events("no-such-camera")).status_code == 404


def test_recording_on_motion_keeps_the_seconds_before_and_after_it(
    owner: httpx.Client, cameras: TestCameraProcess, system_server: ServerProcess
) -> None:
    camera_id = _add(owner, cameras, index=1)
    settings = {"mode": "event", "pre_event_s": 3, "post_event_s": 2, "streams": "main"}
    owner.patch(f"/cameras/{camera_id}", json={"recording": settings})
    wait_for(owner, _events(camera_id), _in_state("subscribed"))
    main = wait_for(owner, f"/cameras/{camera_id}", lambda a: a["streams"]["main"]["stats"])
    assert main["streams"]["main"]["recording"]["state"] == "paused"
    time.sleep(5)  # the pre-event buffer fills; nothing is written
    archive = system_server.data_dir / "archive" / camera_id
    assert not archive.exists()
    on_ms = int(time.time() * 1000)
    _motion(cameras, True, index=1)
    wait_for(owner, f"/cameras/{camera_id}",
             lambda a: a["streams"]["main"]["recording"]["state"] == "recording")  # fmt: skip
    time.sleep(3)
    off_ms = int(time.time() * 1000)
    _motion(cameras, False, index=1)
    paused = wait_for(owner, f"/cameras/{camera_id}",
                      lambda a: a["streams"]["main"]["recording"]["state"] == "paused")  # fmt: skip
    assert paused["streams"]["main"]["recording"]["state"] == "paused"
    timeline = owner.get(f"/cameras/{camera_id}/timeline", params={
        "from_ms": on_ms - 60_000, "to_ms": int(time.time() * 1000)
    }).json()["intervals"]  # fmt: skip
    assert len(timeline) == 1, timeline
    # From at least 3 s before the motion (to the keyframe before that) …
    assert timeline[0]["start_ms"] <= on_ms - 2000
    # … to 2 s after it ended (the event reaches the server within a moment).
    assert off_ms + 1500 <= timeline[0]["end_ms"] <= off_ms + 6000
    assert not list(archive.rglob("*.part.mp4"))  # the file was closed when recording paused
    assert not (system_server.data_dir / "archive" / camera_id / "sub").exists()
