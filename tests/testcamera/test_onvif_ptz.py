"""The PTZ service through onvif-zeep-async: moves, status and presets."""

import asyncio
from pathlib import Path

import httpx
import pytest
from onvif import ONVIFCamera
from onvif.definition import SERVICES
from onvif.exceptions import ONVIFError
from zeep.exceptions import Fault

from tests.testcamera.process import TestCameraProcess

MEDIA_NAMESPACE = SERVICES["media"]["ns"]
PTZ_NAMESPACE = SERVICES["ptz"]["ns"]


async def _position(ptz: object) -> tuple[float, float, float]:
    status = await ptz.GetStatus({"ProfileToken": "main"})  # type: ignore[attr-defined]
    position = status.Position
    return position.PanTilt.x, position.PanTilt.y, position.Zoom.x


async def test_absolute_and_relative_moves_land_where_asked(onvif_camera: ONVIFCamera) -> None:
    ptz = await onvif_camera.create_ptz_service()
    await ptz.AbsoluteMove(
        {
            "ProfileToken": "main",
            "Position": {"PanTilt": {"x": 0.5, "y": -0.25}, "Zoom": {"x": 0.2}},
        }
    )
    assert await _position(ptz) == pytest.approx((0.5, -0.25, 0.2))
    await ptz.RelativeMove(
        {"ProfileToken": "main", "Translation": {"PanTilt": {"x": -0.25, "y": 0.5}}}
    )
    assert await _position(ptz) == pytest.approx((0.25, 0.25, 0.2))


async def test_continuous_move_runs_until_stop(onvif_camera: ONVIFCamera) -> None:
    ptz = await onvif_camera.create_ptz_service()
    await ptz.AbsoluteMove(
        {"ProfileToken": "main", "Position": {"PanTilt": {"x": 0.0, "y": 0.0}, "Zoom": {"x": 0.0}}}
    )
    await ptz.ContinuousMove(
        {"ProfileToken": "main", "Velocity": {"PanTilt": {"x": 0.5, "y": 0.0}}}
    )
    moving = await ptz.GetStatus({"ProfileToken": "main"})
    assert moving.MoveStatus.PanTilt == "MOVING"
    await asyncio.sleep(0.2)
    await ptz.Stop({"ProfileToken": "main", "PanTilt": True, "Zoom": True})
    stopped = await ptz.GetStatus({"ProfileToken": "main"})
    assert stopped.MoveStatus.PanTilt == "IDLE"
    pan = stopped.Position.PanTilt.x
    assert 0.0 < pan < 1.0
    await asyncio.sleep(0.1)
    assert (await _position(ptz))[0] == pytest.approx(pan)


async def test_presets_are_set_listed_visited_and_removed(onvif_camera: ONVIFCamera) -> None:
    ptz = await onvif_camera.create_ptz_service()
    await ptz.AbsoluteMove(
        {"ProfileToken": "main", "Position": {"PanTilt": {"x": -0.5, "y": 0.5}, "Zoom": {"x": 0.5}}}
    )
    token = await ptz.SetPreset({"ProfileToken": "main", "PresetName": "gate"})
    await ptz.AbsoluteMove(
        {"ProfileToken": "main", "Position": {"PanTilt": {"x": 0.9, "y": 0.9}, "Zoom": {"x": 0.0}}}
    )
    presets = await ptz.GetPresets({"ProfileToken": "main"})
    gate = next(preset for preset in presets if preset.token == token)
    assert gate.Name == "gate"
    assert gate.PTZPosition.PanTilt.x == pytest.approx(-0.5)
    await ptz.GotoPreset({"ProfileToken": "main", "PresetToken": token})
    assert await _position(ptz) == pytest.approx((-0.5, 0.5, 0.5))
    await ptz.RemovePreset({"ProfileToken": "main", "PresetToken": token})
    remaining = await ptz.GetPresets({"ProfileToken": "main"})
    assert token not in [preset.token for preset in remaining]


async def test_a_camera_without_ptz_offers_no_ptz_service_profile_or_scope(
    tmp_path: Path,
) -> None:
    with TestCameraProcess(tmp_path, extra_args=("--no-ptz",)) as fixed:
        fixed.start()
        client = ONVIFCamera("127.0.0.1", fixed.http_port, "", "", no_cache=True)
        try:
            await client.update_xaddrs()  # from GetServices
            assert MEDIA_NAMESPACE in client.xaddrs
            assert PTZ_NAMESPACE not in client.xaddrs
            capabilities = await client.get_capabilities()  # GetCapabilities, into xaddrs too
            assert capabilities is not None
            assert capabilities["Media"]["XAddr"] == f"{fixed.url()}/onvif/media_service"
            assert capabilities["PTZ"] is None
            assert PTZ_NAMESPACE not in client.xaddrs
            with pytest.raises(ONVIFError, match="support service: ptz"):
                await client.create_ptz_service()

            media = await client.create_media_service()
            profiles = await media.GetProfiles()
            assert [profile.token for profile in profiles] == ["main", "sub"]
            assert [profile.PTZConfiguration for profile in profiles] == [None, None]
            device = await client.create_devicemgmt_service()
            scopes = [str(scope.ScopeItem) for scope in await device.GetScopes()]
            assert "onvif://www.onvif.org/type/video_encoder" in scopes
            assert "onvif://www.onvif.org/type/ptz" not in scopes

            # A client that tries the usual path anyway gets a SOAP fault, as from any
            # address the camera does not serve.
            client.xaddrs[PTZ_NAMESPACE] = f"{fixed.url()}/onvif/ptz_service"
            ptz = await client.create_ptz_service()
            with pytest.raises(Fault, match="no ONVIF service"):
                await ptz.GetPresets({"ProfileToken": "main"})
        finally:
            await client.close()
        async with httpx.AsyncClient() as http:
            status = await http.get(f"{fixed.url()}/control/status")
        assert status.json()["ptz"] is None
