"""Vigil pulling GStreamer cameras the ways cameras are reached: behind Basic and Digest
authentication, RTP over TCP and over UDP, and a camera whose sessions restart (its RTP
times and sequence numbers from 0 again) while Vigil records it."""

import time
from collections.abc import Iterator

import pytest

from tests.peers.exercise import Expected, Vigil, add_camera, exercise, wait_online, wait_state
from tests.peers.gst import CAMERA_PASSWORD, CAMERA_USER, GstCamera
from vigil.media.recorder import MAX_GAP_MS

H264 = Expected("h264")


@pytest.fixture(scope="module")
def camera(vigil: Vigil) -> Iterator[GstCamera]:
    mounts = [
        {"path": "/both"},
        {"path": "/tcp-only", "transports": "tcp"},
        {"path": "/restarting", "codec": "h265", "fixed_rtp_start": True},
    ]
    with GstCamera(vigil.folder, mounts) as gst:
        yield gst.start()


@pytest.fixture(scope="module", params=["basic", "digest"])
def guarded(vigil: Vigil, request: pytest.FixtureRequest) -> Iterator[GstCamera]:
    """A camera whose stream needs its user's password, asked for with `request.param`."""
    mounts = [{"path": "/guarded", "auth": True}]
    with GstCamera(vigil.folder, mounts, auth=request.param, name=request.param) as gst:
        yield gst.start()


def test_camera_behind_its_password_is_recorded(vigil: Vigil, guarded: GstCamera) -> None:
    credentials = {"username": CAMERA_USER, "password": CAMERA_PASSWORD}
    exercise(vigil, f"Guarded {guarded.auth}", guarded.url("/guarded"), H264, credentials)


def test_wrong_password_shows_the_stream_unauthorized(vigil: Vigil, guarded: GstCamera) -> None:
    url = guarded.url("/guarded")
    fields = {"username": CAMERA_USER, "password": "wrong"}
    camera_id = add_camera(vigil.owner, f"Wrong password {guarded.auth}", url, **fields)
    status = wait_state(vigil.owner, camera_id, "unauthorized")
    assert "password" in status["reason"], status


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_camera_is_recorded_over_each_transport(
    vigil: Vigil, camera: GstCamera, transport: str
) -> None:
    url = camera.url("/both")
    exercise(vigil, f"Over {transport}", url, H264, {"transport": transport})


def test_udp_refused_by_the_camera_is_a_clear_error(vigil: Vigil, camera: GstCamera) -> None:
    camera_id = add_camera(vigil.owner, "UDP refused", camera.url("/tcp-only"), transport="udp")
    status = wait_state(vigil.owner, camera_id, "error")
    assert "UDP" in status["reason"] or "TCP" in status["reason"], status


def test_camera_restarting_its_timestamps_is_recorded_across_it(
    vigil: Vigil, camera: GstCamera
) -> None:
    def restart(camera_id: str, started_ms: int) -> None:
        dropped_ms = int(time.time() * 1000)
        camera.drop_clients()
        wait_online(vigil.owner, camera_id, since_ms=dropped_ms)

    expected = Expected("h265", away_ms=MAX_GAP_MS)
    exercise(vigil, "Restarting", camera.url("/restarting"), expected, meanwhile=restart)
