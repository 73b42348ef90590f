"""A camera's ONVIF events through the API: subscription state, motion, the last events."""

import time
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


def _subscription(owner: httpx.Client, camera_id: str, state: str) -> Answer:
    """The events' state as soon as the subscription is in `state`."""

    def done(answer: Answer) -> bool:
        return answer["subscription"]["state"] == state

    return wait_for(owner, _events(camera_id), done, f"the subscription {state}")


def _recording(owner: httpx.Client, camera_id: str, state: str) -> Answer:
    """The camera as soon as its main stream's recording is in `state`."""

    def done(answer: Answer) -> bool:
        return answer["streams"]["main"]["recording"]["state"] == state

    return wait_for(owner, f"/cameras/{camera_id}", done, f"main's recording {state}")


def _motion(cameras: TestCameraProcess, active: bool, index: int = 0) -> None:
    answer = httpx.post(f"{cameras.url(index)}/control/motion", json={"active": active})
    assert answer.status_code == 200, answer.text


def _motion_events(answer: Answer) -> list[tuple[str, bool]]:
    return [(e["operation"], e["active"]) for e in answer["last_events"] if e["topic"] == MOTION]


def test_a_camera_added_by_onvif_is_subscribed_and_shows_motion_start_and_stop(
    system_server: ServerProcess, owner: httpx.Client, cameras: TestCameraProcess
) -> None:
    camera_id = _add(owner, cameras)
    _subscription(owner, camera_id, "subscribed")
    # A new subscription starts with the camera's current state.
    initial = wait_for(owner, _events(camera_id), _motion_events, "a first motion event")
    assert _motion_events(initial) == [("Initialized", False)]
    assert initial["motion"] is False
    event = next(e for e in initial["last_events"] if e["topic"] == MOTION)
    assert (event["camera_id"], event["kind"]) == (camera_id, "motion")
    assert event["data"] == {"IsMotion": "false"}

    _motion(cameras, True)
    moving = wait_for(owner, _events(camera_id), lambda a: a["motion"] is True, "motion")
    assert (moving["motion"], moving["active"]) == (True, True)
    assert _motion_events(moving)[-1] == ("Changed", True)

    _motion(cameras, False)
    still = wait_for(owner, _events(camera_id), lambda a: a["motion"] is False, "no motion")
    assert (still["motion"], still["active"]) == (False, False)
    assert _motion_events(still)[-2:] == [("Changed", True), ("Changed", False)]
    assert SECRET not in system_server.logs()


def test_wrong_credentials_show_unauthorized_until_they_are_corrected(
    system_server: ServerProcess, owner: httpx.Client, cameras: TestCameraProcess
) -> None:
    camera_id = _add(owner, cameras, index=1)
    _subscription(owner, camera_id, "subscribed")
    owner.patch(f"/cameras/{camera_id}", json={"password": WRONG}).raise_for_status()
    refused = _subscription(owner, camera_id, "unauthorized")
    assert "username and password" in refused["subscription"]["reason"]

    owner.patch(f"/cameras/{camera_id}", json={"password": SECRET}).raise_for_status()
    again = _subscription(owner, camera_id, "subscribed")
    shown = f"{refused} {again} {system_server.logs()}"
    assert WRONG not in shown
    assert SECRET not in shown


def test_a_stopped_camera_shows_unreachable_and_is_subscribed_again_when_back(
    tmp_path: Path, owner: httpx.Client
) -> None:
    with TestCameraProcess(tmp_path) as camera:
        camera.start(timeout_s=120)
        camera_id = owner.post("/cameras", json={"onvif_address": camera.url()}).json()["id"]
        assert _subscription(owner, camera_id, "subscribed")["motion"] is False
        camera.stop()
        gone = _subscription(owner, camera_id, "unreachable")
        assert "cannot reach" in gone["subscription"]["reason"]

        camera.start(timeout_s=120)
        _motion(camera, True)  # before the new subscription: its first message says so
        back = wait_for(
            owner, _events(camera_id), lambda a: a["motion"], "motion again", RECOVERY_S
        )
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
    _subscription(owner, camera_id, "disabled")
    assert owner.get(_events("no-such-camera")).status_code == 404


def test_recording_on_motion_keeps_the_seconds_before_and_after_it(
    owner: httpx.Client, cameras: TestCameraProcess, system_server: ServerProcess
) -> None:
    camera_id = _add(owner, cameras, index=1)
    settings = {"mode": "event", "pre_event_s": 3, "post_event_s": 2, "streams": "main"}
    owner.patch(f"/cameras/{camera_id}", json={"recording": settings})
    _subscription(owner, camera_id, "subscribed")
    main = wait_for(
        owner, f"/cameras/{camera_id}", lambda a: a["streams"]["main"]["stats"], "main's stats"
    )
    assert main["streams"]["main"]["recording"]["state"] == "paused"
    # The behaviour under test: for 5 s without motion nothing is written, while the pre-event
    # buffer fills.
    time.sleep(5)
    archive = system_server.data_dir / "archive" / camera_id
    assert not archive.exists()
    on_ms = int(time.time() * 1000)
    _motion(cameras, True, index=1)
    _recording(owner, camera_id, "recording")
    time.sleep(3)  # the motion lasts 3 s
    off_ms = int(time.time() * 1000)
    _motion(cameras, False, index=1)
    _recording(owner, camera_id, "paused")
    paused_ms = int(time.time() * 1000)
    timeline = owner.get(f"/cameras/{camera_id}/timeline", params={
        "from_ms": on_ms - 60_000, "to_ms": int(time.time() * 1000)
    }).json()["intervals"]  # fmt: skip
    assert len(timeline) == 1, timeline
    # From at least 3 s before the motion (to the keyframe before that) …
    assert timeline[0]["start_ms"] <= on_ms - 2000
    # … to 2 s after it ended, and no further than the pause that followed (however long the
    # event took to reach the server on a busy machine).
    assert off_ms + 1500 <= timeline[0]["end_ms"] <= paused_ms
    assert not list(archive.rglob("*.part.mp4"))  # the file was closed when recording paused
    assert not (system_server.data_dir / "archive" / camera_id / "sub").exists()
