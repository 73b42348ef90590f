"""Adding cameras by their ONVIF address, against simulated cameras and things that are not."""

import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cameras.onvif import SECRET, USER
from tests.cameras.polling import streaming, wait_for_camera
from tests.servers import ServerProcess, free_port
from tests.testcamera.process import SMALL_MAIN, SMALL_SUB, TestCameraProcess

WRONG = "wrong-pass-w0rd"
URL_SECRET = "in-url-s3cret"


def _device_service(cameras: TestCameraProcess, index: int) -> str:
    return f"{cameras.url(index)}/onvif/device_service"


def _rtsp(cameras: TestCameraProcess, n: int, stream: str) -> str:
    return f"rtsp://127.0.0.1:{cameras.rtsp_port}/cam{n}/{stream}"


def test_a_camera_added_by_onvif_streams_what_its_profiles_name_and_goes_online(
    system_server: ServerProcess, owner: httpx.Client, cameras: TestCameraProcess
) -> None:
    answer = owner.post(
        "/cameras",
        # host:port is enough: ONVIF fixes the device service's path.
        json={
            "onvif_address": f"127.0.0.1:{cameras.http_port}",
            "username": USER,
            "password": SECRET,
        },
    )
    assert answer.status_code == 201, answer.text
    added = answer.json()
    assert added["name"] == "Camera_001"  # the device's own name, from its scopes
    assert added["onvif_address"] == _device_service(cameras, 0)
    assert added["has_credentials"] is True
    assert added["streams"]["main"]["url"] == _rtsp(cameras, 1, "main")
    assert added["streams"]["sub"]["url"] == _rtsp(cameras, 1, "sub")
    camera = wait_for_camera(owner, added["id"], streaming, "both streams online")
    main, sub = camera["streams"]["main"], camera["streams"]["sub"]
    assert (main["status"]["state"], sub["status"]["state"]) == ("online", "online")
    assert (main["stats"]["width"], sub["stats"]["width"]) == (320, 160)

    again = owner.post(
        "/cameras",
        json={"onvif_address": _device_service(cameras, 0), "username": USER, "password": SECRET},
    )
    assert again.status_code == 409, again.text
    assert again.json()["error"]["field"] == "onvif_address"

    audit = owner.get("/audit", params={"action": "camera.add"}).text
    assert _device_service(cameras, 0) in audit
    answers = (owner.get("/cameras").text, owner.get(f"/cameras/{added['id']}").text, audit)
    for text in (*answers, answer.text, system_server.logs()):
        assert SECRET not in text


def test_a_given_name_wins_and_a_taken_default_name_gets_a_number(
    owner: httpx.Client, cameras: TestCameraProcess
) -> None:
    def add(index: int, **extra: str) -> dict[str, Any]:
        body = {"onvif_address": cameras.url(index), "username": USER, "password": SECRET}
        answer = owner.post("/cameras", json={**body, **extra})
        assert answer.status_code == 201, answer.text
        camera: dict[str, Any] = answer.json()
        return camera

    assert add(0, name="Gate")["name"] == "Gate"
    owner.post("/cameras", json={"name": "camera_002", "main_url": _rtsp(cameras, 2, "main")})
    assert add(1)["name"] == "Camera_002 (2)"


def test_main_is_the_largest_profile_whatever_its_token(
    tmp_path: Path, owner: httpx.Client
) -> None:
    # The profile called "main" is the small one here; the larger one is what to record.
    swapped = ("--main", SMALL_SUB, "--sub", SMALL_MAIN)
    with TestCameraProcess(tmp_path, extra_args=swapped) as process:
        process.start(timeout_s=120)
        added = owner.post("/cameras", json={"onvif_address": process.url(0)}).json()
    assert added["streams"]["main"]["url"].endswith("/cam1/sub")
    assert added["streams"]["sub"]["url"].endswith("/cam1/main")


def test_a_wrong_password_is_refused_and_adds_nothing(
    system_server: ServerProcess, owner: httpx.Client, cameras: TestCameraProcess
) -> None:
    answer = owner.post(
        "/cameras",
        json={"onvif_address": cameras.url(1), "username": USER, "password": WRONG},
    )
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert (error["code"], error["field"]) == ("camera_unauthorized", "password")
    assert owner.get("/cameras").json()["cameras"] == []
    assert owner.get("/audit", params={"action": "camera.add"}).json()["entries"] == []
    assert WRONG not in system_server.logs()


def test_addresses_where_no_onvif_camera_answers_say_why(
    system_server: ServerProcess, owner: httpx.Client
) -> None:
    def refusal(address: str) -> tuple[int, str, str]:
        answer = owner.post("/cameras", json={"onvif_address": address})
        error = answer.json()["error"]
        return answer.status_code, error["code"], error["field"]

    nothing = f"127.0.0.1:{free_port()}"
    assert refusal(nothing) == (502, "camera_unreachable", "onvif_address")
    # Vigil's own HTTP port answers, but not as an ONVIF device.
    assert refusal(f"127.0.0.1:{system_server.port}") == (502, "not_onvif", "onvif_address")
    with socket.socket() as silent:  # takes connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        assert refusal(f"127.0.0.1:{port}") == (502, "camera_unreachable", "onvif_address")
    assert owner.get("/cameras").json()["cameras"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"onvif_address": "10.0.0.9", "main_url": "rtsp://10.0.0.9/a"}, "main_url"),
        ({"onvif_address": "10.0.0.9", "sub_url": "rtsp://10.0.0.9/b"}, "sub_url"),
        ({"name": "No source"}, "main_url"),
        ({"main_url": "rtsp://10.0.0.9/a"}, "name"),
        ({"onvif_address": f"http://admin:{URL_SECRET}@10.0.0.9"}, "onvif_address"),
        ({"onvif_address": "http://10.0.0.9/somewhere/else"}, "onvif_address"),
        ({"onvif_address": "ftp://10.0.0.9"}, "onvif_address"),
    ],
)
def test_bad_sources_are_refused_naming_the_field(
    owner: httpx.Client, body: dict[str, Any], field: str
) -> None:
    answer = owner.post("/cameras", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field
    assert URL_SECRET not in answer.text
