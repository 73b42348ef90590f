"""Discovery through the API: the server probes loopback and lists the simulated cameras."""

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.servers import ServerProcess, add_user
from tests.testcamera.process import TestCameraProcess
from tests.waiting import wait_for

# WS-Discovery listens on UDP 3702, one process at a time: these tests run on their own.
pytestmark = pytest.mark.udp_3702

USER = "admin"
SECRET = "discovery-s3cret-pw"


@pytest.fixture(scope="module")
def cameras(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestCameraProcess]:
    folder = tmp_path_factory.mktemp("discoverable")
    with TestCameraProcess(folder, count=2, user=USER, password=SECRET, discovery=True) as process:
        process.start(timeout_s=120)
        yield process


def _discovered(client: httpx.Client, cameras: TestCameraProcess) -> list[dict[str, Any]]:
    """What discovery lists of `cameras` (other simulators may run on this machine)."""
    answer = client.get("/cameras/discovery", params={"wait_ms": 1000})
    assert answer.status_code == 200, answer.text
    ours = [cameras.url(i) for i in range(cameras.count)]
    return [
        device
        for device in answer.json()["devices"]
        if any(
            address.startswith(f"{url}/") for url in ours for address in device["onvif_addresses"]
        )
    ]


def test_discovery_lists_the_cameras_and_marks_the_added_one(
    system_server: ServerProcess, owner: httpx.Client, cameras: TestCameraProcess
) -> None:
    before = _discovered(owner, cameras)
    assert [d["onvif_addresses"] for d in before] == [
        [f"{cameras.url(i)}/onvif/device_service"] for i in range(cameras.count)
    ]
    assert [(d["name"], d["hardware"]) for d in before] == [
        ("Camera_001", "Vigil_TestCam"),
        ("Camera_002", "Vigil_TestCam"),
    ]
    assert [(d["added"], d["camera_id"]) for d in before] == [(False, None), (False, None)]
    assert before[0]["endpoint"].startswith("urn:uuid:")

    added = owner.post(
        "/cameras",
        json={
            "onvif_address": before[1]["onvif_addresses"][0],
            "username": USER,
            "password": SECRET,
        },
    )
    assert added.status_code == 201, added.text
    after = _discovered(owner, cameras)
    assert [(d["added"], d["camera_id"]) for d in after] == [
        (False, None),
        (True, added.json()["id"]),
    ]
    assert SECRET not in system_server.logs()


def test_a_camera_the_role_may_not_see_shows_added_without_its_id(
    system_server: ServerProcess, owner: httpx.Client, cameras: TestCameraProcess
) -> None:
    hidden = owner.post(
        "/cameras", json={"onvif_address": cameras.url(0), "username": USER, "password": SECRET}
    )
    assert hidden.status_code == 201, hidden.text
    role = owner.post(
        "/roles",
        json={
            "name": "Installer",
            "functions": ["settings"],
            "operations": ["camera.add"],
            "resources": {"cameras": []},
        },
    )
    assert role.status_code == 201, role.text
    add_user(owner, "installer", role.json()["id"])
    with system_server.login("installer", "user password 1") as installer:
        first = _discovered(installer, cameras)[0]
    assert (first["added"], first["camera_id"]) == (True, None)


def test_discovery_on_another_server_s_network_and_adding_from_it(
    start_server: Callable[..., ServerProcess], cameras: TestCameraProcess
) -> None:
    """Asked of one server, probed by another (here both on loopback), and the camera added
    from what it found, read over ONVIF by that other server."""
    first, second = start_server("a"), start_server("b")
    first.create_system(server_name="A")
    assert second.join(first, "B").status_code == 201
    with second.client() as anonymous:
        second_id = anonymous.get("/server").json()["id"]
    with first.login() as owner:

        def probed_by_b() -> list[dict[str, Any]]:
            answer = owner.get("/cameras/discovery", params={"wait_ms": 1000,
                                                              "server_id": second_id})  # fmt: skip
            assert answer.status_code == 200, answer.text
            return [d for d in answer.json()["devices"]
                    if d["onvif_addresses"][0].startswith(cameras.url(0))]  # fmt: skip

        found = wait_for(probed_by_b, 15, "B's probe to answer through A")
        body = {"onvif_address": found[0]["onvif_addresses"][0], "username": USER,
                "password": SECRET, "parent_server_id": second_id}  # fmt: skip
        added = owner.post("/cameras", json=body)
        assert added.status_code == 201, added.text
        assert added.json()["name"] == "Camera_001"
        nowhere = owner.get("/cameras/discovery", params={"server_id": "nope"})
        assert (nowhere.status_code, nowhere.json()["error"]["field"]) == (404, "server_id")
