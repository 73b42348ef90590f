"""What Vigil cannot record, served by GStreamer cameras: the stream says why in its status
(`error`, naming what the camera offers), and nothing Vigil answers about it is a 500."""

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.peers.exercise import Vigil, add_camera, main_stream, vigil_rtsp_url, wait_state
from tests.peers.gst import GstCamera, rtsp_request

# path → (the camera's mount, what the reason must name)
CASES: dict[str, tuple[dict[str, Any], str]] = {
    "mjpeg": ({"codec": "jpeg"}, "video JPEG"),
    "sound-only": ({"video": False}, "audio MPEG4-GENERIC"),
}


@pytest.fixture(scope="module")
def camera(vigil: Vigil) -> Iterator[GstCamera]:
    mounts = [{"path": f"/{path}", **mount} for path, (mount, _) in CASES.items()]
    with GstCamera(vigil.folder, mounts) as gst:
        yield gst.start()


@pytest.mark.parametrize("path", list(CASES))
def test_unsupported_stream_is_an_error_naming_it(
    vigil: Vigil, camera: GstCamera, path: str
) -> None:
    owner = vigil.owner
    started_ms = int(time.time() * 1000)
    camera_id = add_camera(owner, path, camera.url(f"/{path}"))
    status = wait_state(owner, camera_id, "error")
    assert CASES[path][1] in status["reason"], status
    assert "H.264 or H.265" in status["reason"], status
    span = {"from_ms": started_ms, "to_ms": int(time.time() * 1000)}
    answers = {
        "camera": owner.get(f"/cameras/{camera_id}"),
        "snapshot": owner.get(f"/cameras/{camera_id}/snapshot"),
        "timeline": owner.get(f"/cameras/{camera_id}/timeline", params=span),
        "recordings": owner.get(f"/cameras/{camera_id}/recordings", params=span),
        "export": owner.get(f"/cameras/{camera_id}/export", params=span),
        "live WebSocket page": owner.get(f"/cameras/{camera_id}/live"),
    }
    statuses = {what: answer.status_code for what, answer in answers.items()}
    assert statuses["camera"] == 200
    assert main_stream(owner, camera_id)["stats"] is None
    assert statuses["snapshot"] == 503, answers["snapshot"].text
    assert answers["timeline"].json()["intervals"] == []
    assert answers["recordings"].json()["recordings"] == []
    assert statuses["export"] == 404, answers["export"].text
    assert all(code < 500 or code == 503 for code in statuses.values()), statuses
    described = rtsp_request(vigil_rtsp_url(vigil.server, camera_id), "DESCRIBE")
    assert described.status in (401, 503), described
