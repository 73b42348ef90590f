"""Reading a camera over ONVIF: who it is, its video profiles and their RTSP stream URIs.

onvif-zeep-async does the SOAP work: it is asyncio-native (aiohttp), ships the WSDLs, signs
requests with WS-UsernameToken digests (the password never crosses the wire in clear) and can
correct for a camera clock that is off. That correction (`adjust_time`) is on: cameras without
NTP drift, then refuse every signed request, and that would look like a wrong password.
What the library leaves to its caller, this module does:
- bound the whole exchange: its own timeouts are 30 to 90 s per request, so one
  `asyncio.timeout` covers the read from the first request to the last;
- tell failures apart: aiohttp, zeep and onvif errors become CameraUnreachable, NotOnvif and
  CameraUnauthorized, each naming the request field to fix;
- keep credentials out of logs: no message here carries them, and `vigil.logs` keeps the SOAP
  libraries' debug output (whole envelopes, WS-Security tokens included) out of the log.
Two side effects of the library to know: `ONVIFCamera()` removes `http_proxy`/`https_proxy`
from the process environment (cameras are reached directly anyway), and importing it calls
`logging.basicConfig`, which `vigil.logs.configure_logging` replaces when the command starts.

The SOAP libraries (onvif, zeep, aiohttp: 42 MB of a server's memory) are imported at the
first conversation with a camera, not with the server: a server whose cameras are reached
by RTSP alone never holds them.
"""

import asyncio
import logging
import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from vigil.cameras.address import StreamUrl
from vigil.cameras.errors import CameraError, CameraUnauthorized, CameraUnreachable, NotOnvif
from vigil.cameras.models import CameraRecord
from vigil.cameras.scopes import scope_value

if TYPE_CHECKING:
    import zeep.exceptions

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 10.0
_ADDRESS = "onvif_address"
_STREAM_SETUP = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}
_PTZ_NAMESPACE = "http://www.onvif.org/ver20/ptz/wsdl"  # its service's, in camera.xaddrs
# Fault codes that mean "who are you?": ONVIF's ter:NotAuthorized and WS-Security's own.
_AUTH_FAULTS = frozenset({"NotAuthorized", "FailedAuthentication", "InvalidSecurityToken"})


@dataclass(frozen=True)
class OnvifDevice:
    name: str  # the device's own name (its name scope), else its make and model
    main_url: str  # rtsp://, of the profile with the most pixels
    sub_url: str | None  # of the profile with the fewest, when there is a second one
    ptz: bool  # it has a PTZ service and a media profile to name in PTZ requests


@dataclass(frozen=True)
class OnvifEndpoint:
    """Where an added camera's ONVIF device is and as whom to log in: a change of any of it
    makes those who keep a connection to the camera open a new one."""

    address: str  # the device service URL (vigil.cameras.address form)
    username: str
    password: str = field(repr=False)

    @classmethod
    def of(cls, record: CameraRecord) -> "OnvifEndpoint | None":
        """None for a camera added by RTSP address."""
        if not record.onvif_address:
            return None
        return cls(record.onvif_address, record.username, record.password)


class OnvifReader:
    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self._timeout_s = timeout_s

    async def read(self, address: str, username: str, password: str) -> OnvifDevice:
        """Read the camera at `address` (a device service URL in the stored form)."""
        camera = connect(address, username, password)
        doing = Step()
        try:
            async with asyncio.timeout(self._timeout_s):
                device = await _read(camera, address, doing)
        except Exception as err:
            raise camera_error(err, address, self._timeout_s, doing.operation) from err
        finally:
            await camera.close()
        logger.info(
            "camera read over ONVIF",
            extra={"address": address, "sub_stream": device.sub_url is not None},
        )
        return device


def connect(address: str, username: str, password: str) -> Any:
    """A client of the camera at `address` (stored form); nothing is sent until it is used.

    Close it with `await camera.close()`.
    """
    from onvif import ONVIFCamera  # here: the first conversation loads the SOAP stack

    parts = urlsplit(address)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return ONVIFCamera(
        f"{parts.scheme}://{host}",
        port,
        # Empty strings, not None, when there are none: the library cannot sign None.
        username,
        password,
        no_cache=True,  # the WSDL cache would be a file in the user's home folder
        adjust_time=True,
    )


@dataclass
class Step:
    """The ONVIF operation a conversation with a camera is at, for its errors to name."""

    operation: str | None = None

    def at(self, operation: str) -> None:
        self.operation = operation


# The library's first requests, made by `update_xaddrs`: the camera's clock, then its services.
DISCOVERY = "GetServices"


def camera_error(
    err: Exception, address: str, timeout_s: float, operation: str | None = None
) -> CameraError:
    """What `err`, raised while talking to the camera at `address` (during `operation`, when
    known), means to a user."""
    import aiohttp
    import zeep.exceptions

    if isinstance(err, CameraError):
        return err
    if isinstance(err, TimeoutError):
        return CameraUnreachable(f"{address} did not answer within {timeout_s:g} s", field=_ADDRESS)
    if isinstance(err, aiohttp.ClientError | OSError):
        return CameraUnreachable(
            f"cannot reach {address}: {_connection_failure(err)}", field=_ADDRESS
        )
    if isinstance(err, zeep.exceptions.Fault):
        if _refuses_credentials(err):
            return _unauthorized()
        return NotOnvif(
            f"{address} answered with a fault, not as an ONVIF camera: {str(err.message)[:200]}",
            field=_ADDRESS,
        )
    if isinstance(err, zeep.exceptions.TransportError):
        if err.status_code == 401:
            return _unauthorized()
        if 200 <= err.status_code < 300:  # zeep's word for a success it could not parse
            return _malformed_answer(err, address, operation)
        return NotOnvif(
            f"{address} is not an ONVIF device: it answered HTTP {err.status_code}",
            field=_ADDRESS,
        )
    # Past the cases above, zeep fails on what it cannot read with whatever its parser hits
    # (AttributeError for a JSON body), as the onvif layer and this package do on answers
    # that lack a part they must have: the operation and what was wrong tell a technician
    # where to look.
    return _malformed_answer(err, address, operation)


def _malformed_answer(err: Exception, address: str, operation: str | None) -> NotOnvif:
    logger.debug("unreadable ONVIF answer", exc_info=err,
                 extra={"address": address, "operation": operation})  # fmt: skip
    to = f" to {operation}" if operation else ""
    return NotOnvif(
        f"{address} sent a malformed answer{to}: {_malformed(err)}",
        field=_ADDRESS,
        operation=operation,
    )


def _malformed(err: Exception) -> str:
    """What was wrong with an answer that could not be read, in a line."""
    import zeep.exceptions

    text = err.message if isinstance(err, zeep.exceptions.Error) else str(err)
    # zeep appends the answer itself ("Content: …"): not for a message, however long it is.
    detail = " ".join(str(text).partition("Content:")[0].split()).rstrip(".")[:160]
    if isinstance(err, zeep.exceptions.TransportError):
        return f"it is not well-formed XML ({detail})"
    if isinstance(err, zeep.exceptions.XMLSyntaxError):
        return f"it is not well-formed XML ({detail})" if detail else "it is not well-formed XML"
    if isinstance(err, zeep.exceptions.XMLParseError | zeep.exceptions.ValidationError):
        return f"it does not fit the ONVIF schema ({detail})"
    if isinstance(err, ValueError) and re.match(r"Invalid tag name '\w+:", str(err)):
        # lxml's word, in the lenient parse onvif-zeep-async asks for, for an element whose
        # prefix no xmlns declares (as in "<tptz:Preset>" without xmlns:tptz).
        return f"it uses an XML namespace prefix it does not declare ({detail})"
    if isinstance(err, AttributeError | TypeError | ValueError | KeyError | IndexError):
        return f"a part it must have is missing or of the wrong type ({detail})"
    return f"it could not be read ({type(err).__name__}: {detail})"


async def _read(camera: Any, address: str, doing: Step) -> OnvifDevice:
    doing.at(DISCOVERY)
    await camera.update_xaddrs()
    management = await camera.create_devicemgmt_service()
    doing.at("GetDeviceInformation")
    info = await management.GetDeviceInformation()
    doing.at("GetScopes")
    scopes = [str(scope.ScopeItem) for scope in await management.GetScopes() or []]
    media = await camera.create_media_service()
    doing.at("GetProfiles")
    every_profile = await media.GetProfiles() or []
    profiles = sorted((p for p in every_profile if _pixels(p)), key=_pixels, reverse=True)
    if not profiles:
        raise NotOnvif(f"{address} offers no video profile", field=_ADDRESS)
    # Known from the answers above at no extra cost; PTZ requests still ask the camera itself.
    ptz = _PTZ_NAMESPACE in camera.xaddrs and ptz_profile(every_profile) is not None
    doing.at("GetStreamUri")
    main_url = await _stream_uri(media, profiles[0], address)
    sub_url = await _stream_uri(media, profiles[-1], address) if len(profiles) > 1 else None
    return OnvifDevice(name=_name(info, scopes), main_url=main_url, sub_url=sub_url, ptz=ptz)


def ptz_profile(profiles: list[Any]) -> str | None:
    """The token of the first media profile with a PTZ configuration, which PTZ requests name."""
    return next((str(p.token) for p in profiles if p.PTZConfiguration is not None), None)


def _pixels(profile: Any) -> int:
    encoder = profile.VideoEncoderConfiguration
    resolution = encoder.Resolution if encoder is not None else None
    return int(resolution.Width) * int(resolution.Height) if resolution is not None else 0


async def _stream_uri(media: Any, profile: Any, address: str) -> str:
    answer = await media.GetStreamUri({"ProfileToken": profile.token, "StreamSetup": _STREAM_SETUP})
    uri = str(answer.Uri or "")
    try:
        StreamUrl.parse(uri)
    except ValueError as err:
        # The URI is not repeated: cameras sometimes write their credentials into it.
        raise NotOnvif(
            f"{address} gave a stream address that is not an rtsp:// URL", field=_ADDRESS
        ) from err
    return uri


def _name(info: Any, scopes: list[str]) -> str:
    """A name for the camera from what it says of itself, in printable characters."""
    for candidate in (scope_value(scopes, "name"), f"{info.Manufacturer or ''} {info.Model or ''}"):
        name = "".join(c for c in candidate or "" if c.isprintable()).strip()
        if name:
            return name
    return "ONVIF camera"


def fault_codes(fault: "zeep.exceptions.Fault") -> set[str]:
    """The local names of a fault's code and subcodes, e.g. {"Sender", "InvalidArgVal"}."""
    codes = [str(fault.code or ""), *(str(code) for code in fault.subcodes or [])]
    # Codes come as "{namespace}Local" or "prefix:Local".
    return {code.rpartition("}")[2].rpartition(":")[2] for code in codes}


def _refuses_credentials(fault: "zeep.exceptions.Fault") -> bool:
    return bool(fault_codes(fault) & _AUTH_FAULTS) or "not authorized" in str(fault.message).lower()


def _unauthorized() -> CameraUnauthorized:
    return CameraUnauthorized("the camera refused the username and password", field="password")


def _connection_failure(err: Exception) -> str:
    import aiohttp

    if isinstance(err, aiohttp.ClientConnectorDNSError):
        return "its host name does not resolve"
    cause = err.os_error if isinstance(err, aiohttp.ClientConnectorError) else err
    if isinstance(cause, OSError) and cause.errno:
        return os.strerror(cause.errno).lower()
    return "the connection failed"
