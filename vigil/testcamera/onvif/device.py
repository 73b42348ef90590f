"""ONVIF Device service: identity, capabilities, service addresses, clock, network, scopes."""

import time
from collections.abc import Mapping

from vigil.testcamera.camera import SimulatedCamera
from vigil.testcamera.onvif.service import (
    DEVICE_PATH,
    EVENTS_PATH,
    MEDIA_PATH,
    PTZ_PATH,
    Operation,
    service_url,
)
from vigil.testcamera.onvif.xmltree import NS, Element, el

# ONVIF service namespace, path, version (major, minor) as GetServices lists them.
_SERVICES = (
    (NS["tds"], DEVICE_PATH, (2, 60)),
    (NS["trt"], MEDIA_PATH, (2, 60)),
    (NS["tptz"], PTZ_PATH, (2, 60)),
    (NS["tev"], EVENTS_PATH, (2, 60)),
)


def scopes(camera: SimulatedCamera) -> list[str]:
    """The device's scopes, as GetScopes and WS-Discovery ProbeMatch both announce them."""
    identity = camera.identity
    ptz = ["onvif://www.onvif.org/type/ptz"] if camera.ptz is not None else []
    return [
        "onvif://www.onvif.org/Profile/Streaming",
        "onvif://www.onvif.org/type/video_encoder",
        *ptz,
        f"onvif://www.onvif.org/name/{identity.name.replace(' ', '_')}",
        f"onvif://www.onvif.org/hardware/{identity.model.replace(' ', '_')}",
        "onvif://www.onvif.org/location/country/simulated",
        f"onvif://www.onvif.org/serial/{identity.serial}",
        f"onvif://www.onvif.org/MAC/{identity.mac}",
    ]


def _offered(camera: SimulatedCamera, path: str) -> bool:
    """Whether the device has the service at `path`: a fixed camera has no PTZ service."""
    return path != PTZ_PATH or camera.ptz is not None


class DeviceService:
    def __init__(self, camera: SimulatedCamera) -> None:
        self._camera = camera

    def operations(self) -> Mapping[str, Operation]:
        return {
            "GetDeviceInformation": self.get_device_information,
            "GetCapabilities": self.get_capabilities,
            "GetServices": self.get_services,
            "GetSystemDateAndTime": self.get_system_date_and_time,
            "GetNetworkInterfaces": self.get_network_interfaces,
            "GetScopes": self.get_scopes,
        }

    async def get_device_information(self, request: Element) -> Element:
        identity = self._camera.identity
        return el(
            "tds:GetDeviceInformationResponse",
            el("tds:Manufacturer", identity.manufacturer),
            el("tds:Model", identity.model),
            el("tds:FirmwareVersion", identity.firmware),
            el("tds:SerialNumber", identity.serial),
            el("tds:HardwareId", identity.model.replace(" ", "-")),
        )

    async def get_capabilities(self, request: Element) -> Element:
        # Categories are not filtered: clients ask for "All" and every camera we imitate
        # answers the whole set whatever was asked.
        url = self._url
        return el(
            "tds:GetCapabilitiesResponse",
            el(
                "tds:Capabilities",
                el(
                    "tt:Device",
                    el("tt:XAddr", url(DEVICE_PATH)),
                    el(
                        "tt:Network",
                        el("tt:IPFilter", "false"),
                        el("tt:ZeroConfiguration", "false"),
                        el("tt:IPVersion6", "false"),
                        el("tt:DynDNS", "false"),
                    ),
                    el(
                        "tt:System",
                        el("tt:DiscoveryResolve", "false"),
                        el("tt:DiscoveryBye", "false"),
                        el("tt:RemoteDiscovery", "false"),
                        el("tt:SystemBackup", "false"),
                        el("tt:SystemLogging", "false"),
                        el("tt:FirmwareUpgrade", "false"),
                        el("tt:SupportedVersions", el("tt:Major", "2"), el("tt:Minor", "60")),
                    ),
                    el("tt:IO", el("tt:InputConnectors", "2"), el("tt:RelayOutputs", "0")),
                    el(
                        "tt:Security",
                        el("tt:TLS1.1", "false"),
                        el("tt:TLS1.2", "false"),
                        el("tt:OnboardKeyGeneration", "false"),
                        el("tt:AccessPolicyConfig", "false"),
                        el("tt:X.509Token", "false"),
                        el("tt:SAMLToken", "false"),
                        el("tt:KerberosToken", "false"),
                        el("tt:RELToken", "false"),
                    ),
                ),
                el(
                    "tt:Events",
                    el("tt:XAddr", url(EVENTS_PATH)),
                    el("tt:WSSubscriptionPolicySupport", "false"),
                    el("tt:WSPullPointSupport", "true"),
                    el("tt:WSPausableSubscriptionManagerInterfaceSupport", "false"),
                ),
                el(
                    "tt:Media",
                    el("tt:XAddr", url(MEDIA_PATH)),
                    el(
                        "tt:StreamingCapabilities",
                        el("tt:RTPMulticast", "false"),
                        el("tt:RTP_TCP", "true"),
                        el("tt:RTP_RTSP_TCP", "true"),
                    ),
                ),
                el("tt:PTZ", el("tt:XAddr", url(PTZ_PATH)))
                if _offered(self._camera, PTZ_PATH)
                else None,
            ),
        )

    async def get_services(self, request: Element) -> Element:
        return el(
            "tds:GetServicesResponse",
            *(
                el(
                    "tds:Service",
                    el("tds:Namespace", namespace),
                    el("tds:XAddr", self._url(path)),
                    el("tds:Version", el("tt:Major", str(major)), el("tt:Minor", str(minor))),
                )
                for namespace, path, (major, minor) in _SERVICES
                if _offered(self._camera, path)
            ),
        )

    async def get_system_date_and_time(self, request: Element) -> Element:
        now = time.gmtime()
        return el(
            "tds:GetSystemDateAndTimeResponse",
            el(
                "tds:SystemDateAndTime",
                el("tt:DateTimeType", "NTP"),
                el("tt:DaylightSavings", "false"),
                el("tt:TimeZone", el("tt:TZ", "UTC0")),
                el(
                    "tt:UTCDateTime",
                    el(
                        "tt:Time",
                        el("tt:Hour", str(now.tm_hour)),
                        el("tt:Minute", str(now.tm_min)),
                        el("tt:Second", str(now.tm_sec)),
                    ),
                    el(
                        "tt:Date",
                        el("tt:Year", str(now.tm_year)),
                        el("tt:Month", str(now.tm_mon)),
                        el("tt:Day", str(now.tm_mday)),
                    ),
                ),
            ),
        )

    async def get_network_interfaces(self, request: Element) -> Element:
        return el(
            "tds:GetNetworkInterfacesResponse",
            el(
                "tds:NetworkInterfaces",
                el("tt:Enabled", "true"),
                el(
                    "tt:Info",
                    el("tt:Name", "eth0"),
                    el("tt:HwAddress", self._camera.identity.mac),
                    el("tt:MTU", "1500"),
                ),
                el(
                    "tt:IPv4",
                    el("tt:Enabled", "true"),
                    el(
                        "tt:Config",
                        el(
                            "tt:Manual",
                            el("tt:Address", self._camera.host),
                            el("tt:PrefixLength", "24"),
                        ),
                        el("tt:DHCP", "false"),
                    ),
                ),
                token="eth0",  # noqa: S106 (an ONVIF reference token, not a secret)
            ),
        )

    async def get_scopes(self, request: Element) -> Element:
        return el(
            "tds:GetScopesResponse",
            *(
                el("tds:Scopes", el("tt:ScopeDef", "Fixed"), el("tt:ScopeItem", scope))
                for scope in scopes(self._camera)
            ),
        )

    def _url(self, path: str) -> str:
        return service_url(self._camera, path)
