"""What every ONVIF service module provides: its path and its operations by name."""

from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from vigil.testcamera.camera import SimulatedCamera
from vigil.testcamera.onvif.xmltree import Element

DEVICE_PATH = "/onvif/device_service"
MEDIA_PATH = "/onvif/media_service"
PTZ_PATH = "/onvif/ptz_service"
EVENTS_PATH = "/onvif/events_service"
PULLPOINT_PATH = "/onvif/pullpoint"  # + "/{subscription id}"

# Takes the request's operation element (the first child of the SOAP Body), returns the
# response element; raises SoapFault for anything the client got wrong.
Operation = Callable[[Element], Awaitable[Element]]


class Service(Protocol):
    def operations(self) -> Mapping[str, Operation]: ...


def service_url(camera: SimulatedCamera, path: str) -> str:
    return f"http://{camera.host}:{camera.http_port}{path}"
