"""The Media service and snapshots, through onvif-zeep-async."""

import asyncio
import io

import httpx
from onvif import ONVIFCamera
from PIL import Image

from tests.testcamera.conftest import PASSWORD, USER
from tests.testcamera.process import TestCameraProcess


async def test_profiles_carry_main_and_sub_streams_with_encoder_and_ptz(
    onvif_camera: ONVIFCamera,
) -> None:
    media = await onvif_camera.create_media_service()
    profiles = await media.GetProfiles()
    assert [profile.token for profile in profiles] == ["main", "sub"]
    main, sub = (profile.VideoEncoderConfiguration for profile in profiles)
    # The profiles TestCameraProcess starts the cameras with (SMALL_MAIN, SMALL_SUB).
    assert (main.Encoding, main.Resolution.Width, main.Resolution.Height) == ("H264", 320, 240)
    assert (main.RateControl.FrameRateLimit, main.RateControl.BitrateLimit) == (25, 400)
    assert (sub.Resolution.Width, sub.Resolution.Height, sub.RateControl.FrameRateLimit) == (
        160,
        120,
        10,
    )
    assert profiles[0].PTZConfiguration.token == "ptz"
    assert profiles[0].VideoSourceConfiguration.SourceToken == "video_source"


async def test_stream_uris_are_the_cameras_rtsp_paths(
    onvif_camera: ONVIFCamera, cameras: TestCameraProcess
) -> None:
    media = await onvif_camera.create_media_service()
    uris = []
    for token in ("main", "sub"):
        answer = await media.GetStreamUri(
            {
                "ProfileToken": token,
                "StreamSetup": {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}},
            }
        )
        uris.append(answer.Uri)
    base = f"rtsp://127.0.0.1:{cameras.rtsp_port}/cam1"
    assert uris == [f"{base}/main", f"{base}/sub"]


async def test_snapshot_is_a_jpeg_of_the_stream_size(onvif_camera: ONVIFCamera) -> None:
    uri = await onvif_camera.get_snapshot_uri("sub")
    assert uri.endswith("/snapshot/sub.jpg")
    jpeg = await onvif_camera.get_snapshot("sub")
    assert jpeg is not None
    with Image.open(io.BytesIO(jpeg)) as image:
        image.load()
        assert (image.format, image.size) == ("JPEG", (160, 120))


async def test_set_encoder_configuration_changes_the_stream(onvif_camera: ONVIFCamera) -> None:
    media = await onvif_camera.create_media_service()
    configurations = await media.GetVideoEncoderConfigurations()
    assert [c.token for c in configurations] == ["encoder_main", "encoder_sub"]
    configuration = await media.GetVideoEncoderConfiguration({"ConfigurationToken": "encoder_sub"})
    configuration.Resolution.Width = 320
    configuration.Resolution.Height = 184
    configuration.RateControl.FrameRateLimit = 10
    configuration.RateControl.BitrateLimit = 256
    await media.SetVideoEncoderConfiguration(
        {"Configuration": configuration, "ForcePersistence": True}
    )
    changed = await media.GetVideoEncoderConfiguration({"ConfigurationToken": "encoder_sub"})
    assert (changed.Resolution.Width, changed.Resolution.Height) == (320, 184)
    assert (changed.RateControl.FrameRateLimit, changed.RateControl.BitrateLimit) == (10, 256)
    # The camera encodes the new loop, then serves it: its pictures change size soon after.
    sizes = []
    for _ in range(100):
        jpeg = await onvif_camera.get_snapshot("sub")
        assert jpeg is not None
        with Image.open(io.BytesIO(jpeg)) as image:
            sizes.append(image.size)
        if sizes[-1] == (320, 184):
            break
        await asyncio.sleep(0.2)
    assert sizes[-1] == (320, 184)


def test_snapshot_needs_the_cameras_credentials(cameras: TestCameraProcess) -> None:
    url = f"{cameras.url()}/snapshot/main.jpg"
    refused = httpx.get(url, timeout=10.0)
    assert refused.status_code == 401
    assert refused.headers.get_list("www-authenticate")[0].startswith("Digest ")
    for auth in (httpx.DigestAuth(USER, PASSWORD), httpx.BasicAuth(USER, PASSWORD)):
        answer = httpx.get(url, auth=auth, timeout=10.0)
        assert (answer.status_code, answer.headers["content-type"]) == (200, "image/jpeg")
    wrong = httpx.get(url, auth=httpx.DigestAuth(USER, "wrong"), timeout=10.0)
    assert wrong.status_code == 401
