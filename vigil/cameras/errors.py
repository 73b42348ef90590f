"""What goes wrong talking to a camera before it is added: each names the field to fix."""

from vigil.errors import VigilError


class CameraError(VigilError):
    """The camera, not the request, stopped the operation; nothing was changed."""


class CameraUnreachable(CameraError):
    """Nothing answered at the address: refused, unresolvable or silent past the timeout."""

    code = "camera_unreachable"


class NotOnvif(CameraError):
    """Something answered, but not as an ONVIF camera with a video stream."""

    code = "not_onvif"


class CameraUnauthorized(CameraError):
    """The camera refused the username and password."""

    code = "camera_unauthorized"


class DiscoveryUnavailable(CameraError):
    """No network interface could send a WS-Discovery probe."""

    code = "discovery_unavailable"
