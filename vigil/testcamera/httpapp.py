"""The one HTTP application behind every camera's port: ONVIF, snapshots and control.

Cameras are told apart by the local port a request came in on, as real cameras each have an
address of their own.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from vigil.testcamera import control
from vigil.testcamera.camera import STREAM_NAMES, SimulatedCamera
from vigil.testcamera.lpr import PlatePusher
from vigil.testcamera.onvif.endpoint import OnvifEndpoint
from vigil.testcamera.onvif.soap import CONTENT_TYPE, fault_envelope, sender_fault
from vigil.testcamera.onvif.xmltree import to_bytes
from vigil.testcamera.rtsp.auth import Authenticator
from vigil.testcamera.streaming import StreamingService

# SOAP requests are a few kilobytes; refuse to buffer more than this from anyone.
MAX_SOAP_BYTES = 256 * 1024


@dataclass(frozen=True)
class CameraSite:
    camera: SimulatedCamera
    onvif: OnvifEndpoint
    # Snapshots take HTTP Digest or Basic, as on real cameras (and as RTSP does here);
    # None when the camera has no credentials.
    http_auth: Authenticator | None


def build_app(
    sites: Mapping[int, CameraSite],
    streaming: StreamingService,
    plates: Mapping[int, PlatePusher],
) -> Starlette:
    """`sites` maps each local HTTP port to the camera behind it."""

    def site_of(request: Request) -> CameraSite:
        server = request.scope.get("server")
        site = None if server is None else sites.get(server[1])
        if site is None:
            raise HTTPException(404)
        if not streaming.online(site.camera) and not request.url.path.startswith("/control/"):
            # Unplugged: only the test rig's control API still answers.
            raise HTTPException(503)
        return site

    async def onvif(request: Request) -> Response:
        site = site_of(request)
        body = await _bounded_body(request)
        if body is None:
            fault = sender_fault("ter:WellFormed", "the request is too large")
            status, envelope = fault.http_status, to_bytes(fault_envelope(fault))
        else:
            status, envelope = await site.onvif.handle(request.url.path, body)
        return Response(envelope, status_code=status, media_type=CONTENT_TYPE)

    async def snapshot(request: Request) -> Response:
        site = site_of(request)
        stream = next((s for s in STREAM_NAMES if s == request.path_params["stream"]), None)
        if stream is None:
            raise HTTPException(404)
        if site.http_auth and not site.http_auth.check("GET", request.headers.get("authorization")):
            return _challenge(site.http_auth)
        jpeg = await streaming.jpeg(site.camera, stream)
        return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})

    return Starlette(
        routes=[
            Route("/onvif/{path:path}", onvif, methods=["POST"]),
            Route("/snapshot/{stream}.jpg", snapshot, methods=["GET"]),
            *control.routes(lambda request: site_of(request).camera, streaming, plates),
        ],
        exception_handlers={control.ControlError: control.control_error},
    )


def _challenge(auth: Authenticator) -> Response:
    response = Response("authentication required", status_code=401, media_type="text/plain")
    response.raw_headers += [(b"www-authenticate", c.encode()) for c in auth.challenges()]
    return response


async def _bounded_body(request: Request) -> bytes | None:
    """The request body, or None when it exceeds MAX_SOAP_BYTES."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_SOAP_BYTES:
            return None
    return bytes(body)
