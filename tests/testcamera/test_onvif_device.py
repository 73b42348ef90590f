"""The Device service as onvif-zeep-async, a client nobody here wrote, sees it."""

from onvif import ONVIFCamera

from tests.testcamera.process import TestCameraProcess


async def test_device_information_names_the_camera(onvif_camera: ONVIFCamera) -> None:
    device = await onvif_camera.create_devicemgmt_service()
    info = await device.GetDeviceInformation()
    assert info.Manufacturer == "Vigil"
    assert info.Model == "Vigil TestCam"
    assert info.SerialNumber == "VTC00000001"


async def test_each_camera_has_its_own_identity_on_its_own_port(
    cameras: TestCameraProcess,
) -> None:
    serials = []
    for index in range(cameras.count):
        client = ONVIFCamera(
            "127.0.0.1",
            cameras.http_port + index,
            cameras.user,
            cameras.password,
            no_cache=True,
        )
        try:
            await client.update_xaddrs()
            device = await client.create_devicemgmt_service()
            serials.append((await device.GetDeviceInformation()).SerialNumber)
        finally:
            await client.close()
    assert serials == ["VTC00000001", "VTC00000002"]


async def test_services_and_capabilities_point_at_the_camera_port(
    onvif_camera: ONVIFCamera, cameras: TestCameraProcess
) -> None:
    base = cameras.url()
    assert onvif_camera.xaddrs["http://www.onvif.org/ver10/media/wsdl"] == (
        f"{base}/onvif/media_service"
    )
    assert onvif_camera.xaddrs["http://www.onvif.org/ver20/ptz/wsdl"] == f"{base}/onvif/ptz_service"
    capabilities = await onvif_camera.get_capabilities()
    assert capabilities is not None
    assert capabilities["Events"]["WSPullPointSupport"] is True
    assert capabilities["Media"]["XAddr"] == f"{base}/onvif/media_service"


async def test_scopes_network_and_clock(onvif_camera: ONVIFCamera) -> None:
    device = await onvif_camera.create_devicemgmt_service()
    scopes = [scope.ScopeItem for scope in await device.GetScopes()]
    assert "onvif://www.onvif.org/name/Camera_001" in scopes
    assert any(scope.startswith("onvif://www.onvif.org/hardware/") for scope in scopes)
    interfaces = await device.GetNetworkInterfaces()
    assert interfaces[0].Info.HwAddress == "02:56:49:00:00:00"
    clock = await device.GetSystemDateAndTime()
    assert clock.UTCDateTime.Date.Year >= 2024
