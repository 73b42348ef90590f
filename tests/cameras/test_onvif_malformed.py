"""A camera whose ONVIF answers are malformed (the simulator's `malformed` fault): the error
names the operation and what was wrong with its answer, and the next good answer works."""

import httpx

from tests.cameras.onvif import SECRET, USER
from tests.testcamera.process import TestCameraProcess


def _malform(cameras: TestCameraProcess, operation: str, index: int = 0) -> None:
    answer = httpx.post(
        f"{cameras.url(index)}/control/fault/malformed", json={"operation": operation}
    )
    assert answer.status_code == 200, answer.text


def _body(cameras: TestCameraProcess, index: int) -> dict[str, str]:
    return {"onvif_address": cameras.url(index), "username": USER, "password": SECRET}


def test_adding_a_camera_whose_profiles_answer_is_malformed_names_get_profiles(
    owner: httpx.Client, cameras: TestCameraProcess
) -> None:
    _malform(cameras, "GetProfiles", index=1)
    answer = owner.post("/cameras", json=_body(cameras, 1))
    assert answer.status_code == 502, answer.text
    error = answer.json()["error"]
    assert (error["code"], error["field"], error["operation"]) == (
        "not_onvif",
        "onvif_address",
        "GetProfiles",
    )
    assert "malformed answer to GetProfiles: it is not well-formed XML" in error["message"]
    assert owner.get("/cameras").json()["cameras"] == []
    # One answer was broken: asked again, the camera is added.
    assert owner.post("/cameras", json=_body(cameras, 1)).status_code == 201


def test_a_malformed_presets_answer_names_get_presets_and_the_next_call_works(
    owner: httpx.Client, cameras: TestCameraProcess
) -> None:
    added = owner.post("/cameras", json=_body(cameras, 0))
    assert added.status_code == 201, added.text
    camera_id = added.json()["id"]
    assert owner.get(f"/cameras/{camera_id}/ptz/presets").status_code == 200
    _malform(cameras, "GetPresets")
    answer = owner.get(f"/cameras/{camera_id}/ptz/presets")
    assert answer.status_code == 502, answer.text
    error = answer.json()["error"]
    assert (error["code"], error["operation"]) == ("not_onvif", "GetPresets")
    assert "malformed answer to GetPresets: it is not well-formed XML" in error["message"], error
    assert owner.get(f"/cameras/{camera_id}/ptz/presets").status_code == 200
