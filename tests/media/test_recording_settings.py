"""Recording settings through the API: checked, shown back, and obeyed by a recording server."""

import time
from pathlib import Path
from typing import Any

import httpx

from tests.media.test_recording import _timeline, recording
from tests.servers import ServerProcess
from tests.testcamera.process import TestCameraProcess
from tests.waiting import wait_for


def test_recording_settings_are_checked_and_shown_back(owner: httpx.Client) -> None:
    camera = owner.post("/cameras", json={"name": "S", "main_url": "rtsp://127.0.0.1:9/x"})
    camera_id = camera.json()["id"]
    assert camera.json()["recording"] == {"mode": "always", "streams": "both", "schedule": [],
                                          "pre_event_s": 5, "post_event_s": 10}  # fmt: skip
    slot = {"days": [0, 1, 2, 3, 4], "start": "08:00", "end": "18:30", "mode": "event"}
    bad: list[tuple[dict[str, Any], str]] = [
        ({"mode": "sometimes"}, "recording.mode"),
        ({"mode": "schedule"}, "recording"),
        ({"streams": "third"}, "recording.streams"),
        ({"pre_event_s": 31}, "recording.pre_event_s"),
        ({"post_event_s": -1}, "recording.post_event_s"),
        ({"mode": "schedule", "schedule": [{**slot, "end": "07:00"}]}, "recording.schedule.0"),
        ({"mode": "schedule", "schedule": [{**slot, "start": "25:00"}]},
         "recording.schedule.0.start"),
        ({"mode": "schedule", "schedule": [{**slot, "days": [7]}]},
         "recording.schedule.0.days.0"),
        ({"mode": "schedule", "schedule": [{**slot, "days": []}]}, "recording.schedule.0.days"),
        ({"every": "day"}, "recording.every"),
    ]  # fmt: skip
    for settings, field in bad:
        answer = owner.patch(f"/cameras/{camera_id}", json={"recording": settings})
        assert answer.status_code == 422, settings
        assert answer.json()["error"]["field"] == field, settings
    assert owner.get(f"/cameras/{camera_id}").json()["recording"]["mode"] == "always"

    weekend = {"days": [6, 5], "start": "00:00", "end": "24:00", "mode": "always"}
    settings = {"mode": "schedule", "schedule": [slot, weekend], "streams": "main"}
    answer = owner.patch(f"/cameras/{camera_id}", json={"recording": settings})
    assert answer.status_code == 200, answer.text
    shown = answer.json()["recording"]
    assert shown["schedule"] == [slot, {**weekend, "days": [5, 6]}]
    assert (shown["mode"], shown["streams"], shown["pre_event_s"]) == ("schedule", "main", 5)
    assert owner.get(f"/cameras/{camera_id}").json()["recording"] == shown


def _recording_state(owner: httpx.Client, camera_id: str) -> dict[str, Any]:
    state: dict[str, Any] = owner.get(f"/cameras/{camera_id}").json()["streams"]["main"][
        "recording"
    ]
    return state


def test_turning_recording_off_ends_the_file_and_on_again_starts_the_next(
    tmp_path: Path, camera: TestCameraProcess
) -> None:
    started_ms = int(time.time() * 1000)
    with (
        ServerProcess(tmp_path / "server") as server,
        recording(server, camera) as (owner, camera_id),
    ):
        state = wait_for(
            lambda: (s := _recording_state(owner, camera_id))["state"] == "recording" and s,
            30,
            "recording to start",
        )
        (local,) = owner.get("/storages").json()["storages"]
        assert state["storage_id"] == local["id"]
        time.sleep(3)
        owner.patch(f"/cameras/{camera_id}", json={"recording": {"mode": "off"}})
        wait_for(lambda: _recording_state(owner, camera_id)["state"] == "paused", 10, "pause")
        archive = server.data_dir / "archive"
        wait_for(lambda: not list(archive.rglob("*.part.mp4")), 10, "the files to be closed")
        time.sleep(3)
        owner.patch(f"/cameras/{camera_id}", json={"recording": {"mode": "always"}})
        wait_for(lambda: len(_timeline(owner, camera_id, started_ms)) == 2, 30, "a second span")
        first, second = _timeline(owner, camera_id, started_ms)
        assert second["start_ms"] - first["end_ms"] >= 2500  # the pause shows as a gap
