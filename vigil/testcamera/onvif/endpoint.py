"""One camera's ONVIF endpoint: routes a SOAP request to its service and operation.

Every answer is a SOAP envelope: the operation's response, or a fault for malformed
envelopes, unknown operations, failed authentication and bad arguments. Nothing a client
sends ends in a traceback.
"""

import logging

from vigil.clock import Clock
from vigil.testcamera.camera import SimulatedCamera
from vigil.testcamera.onvif.device import DeviceService
from vigil.testcamera.onvif.events import EventsService
from vigil.testcamera.onvif.media import MediaService
from vigil.testcamera.onvif.ptz import PtzService
from vigil.testcamera.onvif.pullpoint import PullPoints
from vigil.testcamera.onvif.service import (
    DEVICE_PATH,
    EVENTS_PATH,
    MEDIA_PATH,
    PTZ_PATH,
    PULLPOINT_PATH,
    Service,
)
from vigil.testcamera.onvif.soap import (
    NonceCache,
    SoapFault,
    action_not_supported,
    authenticate,
    envelope,
    fault_envelope,
    parse_request,
    sender_fault,
)
from vigil.testcamera.onvif.xmltree import to_bytes

logger = logging.getLogger(__name__)

# Clients read the clock before they can sign anything (the digest covers a timestamp), so
# cameras answer this one without credentials.
_UNAUTHENTICATED = frozenset({"GetSystemDateAndTime"})
_INTERNAL_ERROR = SoapFault("env:Receiver", "ter:Action", "internal error", http_status=500)


class OnvifEndpoint:
    def __init__(self, camera: SimulatedCamera, clock: Clock) -> None:
        self._camera = camera
        self._clock = clock
        self._nonces = NonceCache()
        self._pull_points = PullPoints(camera.events, clock)
        self._events = EventsService(camera, self._pull_points)
        self._services: dict[str, Service] = {
            DEVICE_PATH: DeviceService(camera),
            MEDIA_PATH: MediaService(camera),
            EVENTS_PATH: self._events,
        }
        if camera.ptz is not None:  # a fixed camera answers its PTZ path as any unknown one
            self._services[PTZ_PATH] = PtzService(camera.ptz)

    async def handle(self, path: str, body: bytes) -> tuple[int, bytes]:
        """The HTTP status and SOAP envelope answering a request posted to `path`."""
        try:
            request = parse_request(body)
            if request.name not in _UNAUTHENTICATED:
                authenticate(
                    request, self._camera.credentials, self._nonces, self._clock.now_ms() / 1000
                )
            operation = self._service(path).operations().get(request.name)
            if operation is None:
                raise action_not_supported(request.name)
            response = await operation(request.operation)
        except SoapFault as fault:
            return fault.http_status, to_bytes(fault_envelope(fault))
        except Exception:
            logger.exception("ONVIF operation failed", extra={"path": path})
            return 500, to_bytes(fault_envelope(_INTERNAL_ERROR))
        answer = to_bytes(envelope(response))
        malformed = self._camera.take_malformed(request.name)
        if malformed == "empty":
            return 200, b""
        if malformed == "truncated":
            # Cut inside the response element, as a connection that ends early leaves it.
            return 200, answer[: len(answer) * 2 // 3]
        return 200, answer

    def close(self) -> None:
        """End every subscription, answering pending PullMessages at once."""
        self._pull_points.close()

    def _service(self, path: str) -> Service:
        service = self._services.get(path)
        if service is not None:
            return service
        subscription_id = path.removeprefix(f"{PULLPOINT_PATH}/")
        if subscription_id != path and "/" not in subscription_id:
            return self._events.subscription(subscription_id)
        raise sender_fault("ter:InvalidArgVal", f"no ONVIF service at {path}")
