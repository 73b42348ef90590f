"""The control API: what a test does to a camera that a person would do in front of it.

Plain JSON over HTTP on each camera's own port, without authentication: it is meant for test
rigs on loopback, not for the clients a real camera serves. Errors are
`{"error": {"code": ..., "message": ...}}` as in Vigil's own API.
"""

import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from vigil.testcamera.camera import INPUT_COUNT, STREAM_NAMES, SimulatedCamera, StreamName
from vigil.testcamera.lpr import PlatePusher, PlateSpec
from vigil.testcamera.profiles import StreamProfile
from vigil.testcamera.streaming import StreamingService

CameraOf = Callable[[Request], SimulatedCamera]


class ControlError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


async def control_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ControlError)  # registered for ControlError only
    body = {"error": {"code": exc.code, "message": exc.message}}
    return JSONResponse(body, status_code=exc.status)


def routes(
    camera_of: CameraOf, streaming: StreamingService, plates: Mapping[int, PlatePusher]
) -> list[Route]:
    async def motion(request: Request) -> Response:
        active = await _active(request)
        camera_of(request).events.set_motion(active)
        return JSONResponse({"motion": active})

    async def digital_input(request: Request) -> Response:
        number: int = request.path_params["number"]
        if not 0 <= number < INPUT_COUNT:
            raise ControlError(404, "not_found", f"the camera has inputs 0 to {INPUT_COUNT - 1}")
        active = await _active(request)
        camera_of(request).events.set_input(number, active)
        return JSONResponse({"input": number, "active": active})

    async def status(request: Request) -> Response:
        camera = camera_of(request)
        position = None if camera.ptz is None else camera.ptz.position()
        pusher = plates.get(camera.identity.index)
        return JSONResponse(
            {
                "name": camera.identity.name,
                "online": streaming.online(camera),
                "streams": {name: str(profile) for name, profile in camera.streams.items()},
                "motion": camera.events.motion,
                "inputs": camera.events.inputs,
                "ptz": None
                if position is None
                else {"pan": position.pan, "tilt": position.tilt, "zoom": position.zoom},
                "lpr": None
                if pusher is None
                else {
                    "url_set": bool(pusher.url),
                    "every_s": pusher.every_s,
                    "sent": pusher.sent,
                    "failed": pusher.failed,
                },
            }
        )

    async def fault(request: Request) -> Response:
        camera = camera_of(request)
        kind: str = request.path_params["kind"]
        body = await _json_object(request)
        if kind == "drop":
            return JSONResponse({"dropped": streaming.drop_connections(camera)})
        if kind == "offline":
            seconds = _number(body, "seconds", 0.1, 3600)
            streaming.go_offline(camera, seconds)
            return JSONResponse({"offline_s": seconds})
        if kind == "malformed":
            operation = body.get("operation")
            if not isinstance(operation, str) or not operation.isidentifier():
                raise ControlError(400, "invalid_input", "operation: an ONVIF operation name")
            how = body.get("how", "empty")
            if how not in MALFORMED:
                raise ControlError(400, "invalid_input", f"how: one of {', '.join(MALFORMED)}")
            answers = int(_number(body, "answers", 1, 1000)) if "answers" in body else 1
            camera.malformed_answers[operation] = (how, answers)
            return JSONResponse({"operation": operation, "how": how, "answers": answers})
        stream = streaming.stream(camera, _stream(body))
        if kind == "stall":
            seconds = _number(body, "seconds", 0.1, 3600)
            stream.stall(seconds)
            return JSONResponse({"stalled_s": seconds})
        if kind == "corrupt":
            packets = int(_number(body, "packets", 1, 100_000))
            stream.corrupt(packets)
            return JSONResponse({"corrupt_packets": packets})
        if kind == "reset-timestamps":
            stream.reset_timestamps()
            return JSONResponse({"reset": True})
        raise ControlError(404, "not_found", f"no fault {kind!r}: {', '.join(FAULTS)}")

    async def resolution(request: Request) -> Response:
        camera = camera_of(request)
        body = await _json_object(request)
        name = _stream(body)
        current = camera.streams[name]
        text = body.get("profile")
        if not isinstance(text, str):
            raise ControlError(400, "invalid_input", 'give "profile": "WxH@FPS:KBPSk"')
        try:
            profile = StreamProfile.parse(text, codec=current.codec, gop=current.gop)
        except ValueError as err:
            raise ControlError(400, "invalid_input", str(err)) from err
        camera.change_profile(name, profile)
        return JSONResponse({"stream": name, "profile": str(profile)})

    async def codec(request: Request) -> Response:
        camera = camera_of(request)
        body = await _json_object(request)
        name = _stream(body)
        value = body.get("codec")
        if value not in ("h264", "h265"):
            raise ControlError(400, "invalid_input", 'give "codec": "h264" or "h265"')
        profile = replace(camera.streams[name], codec="h264" if value == "h264" else "h265")
        camera.change_profile(name, profile)
        return JSONResponse({"stream": name, "profile": str(profile)})

    async def lpr_settings(request: Request) -> Response:
        pusher = _pusher(request)
        body = await _json_object(request)
        if "url" in body:
            url = body["url"]
            if url is not None and not (
                isinstance(url, str) and url.startswith(("http://", "https://"))
            ):
                raise ControlError(400, "invalid_input", "url must be an http(s) URL or null")
            pusher.url = url
        if "every_s" in body:
            pusher.every_s = _number(body, "every_s", 0.1, 86_400)
        return JSONResponse({"url_set": bool(pusher.url), "every_s": pusher.every_s})

    async def lpr_read(request: Request) -> Response:
        pusher = _pusher(request)
        body = await _json_object(request)
        plate = body.get("plate")
        spec = None
        if plate is not None:
            if not isinstance(plate, str) or not 1 <= len(plate) <= 16:
                raise ControlError(400, "invalid_input", "plate must be 1 to 16 characters")
            region = body.get("region", "EU")
            spec = PlateSpec(plate.upper(), str(region).upper())
        read = await pusher.read(spec)
        return JSONResponse({k: v for k, v in read.items() if not k.endswith("_jpeg")})

    def _pusher(request: Request) -> PlatePusher:
        pusher = plates.get(camera_of(request).identity.index)
        if pusher is None:
            raise ControlError(409, "lpr_off", "the cameras run without --lpr")
        return pusher

    return [
        Route("/control/status", status, methods=["GET"]),
        Route("/control/motion", motion, methods=["POST"]),
        Route("/control/input/{number:int}", digital_input, methods=["POST"]),
        Route("/control/fault/{kind}", fault, methods=["POST"]),
        Route("/control/resolution", resolution, methods=["POST"]),
        Route("/control/codec", codec, methods=["POST"]),
        Route("/control/lpr", lpr_settings, methods=["POST"]),
        Route("/control/lpr/read", lpr_read, methods=["POST"]),
    ]


FAULTS = ("drop", "offline", "stall", "corrupt", "reset-timestamps", "malformed")
MALFORMED = ("empty", "truncated")


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ControlError(400, "invalid_input", "the body is not JSON") from err
    if not isinstance(body, dict):
        raise ControlError(400, "invalid_input", "the body must be a JSON object")
    return body


def _number(body: dict[str, Any], key: str, low: float, high: float) -> float:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ControlError(400, "invalid_input", f"{key} must be a number from {low} to {high}")
    return float(value)


def _stream(body: dict[str, Any]) -> StreamName:
    name = body.get("stream", "main")
    for stream in STREAM_NAMES:
        if name == stream:
            return stream
    raise ControlError(400, "invalid_input", 'stream must be "main" or "sub"')


async def _active(request: Request) -> bool:
    """The flag of a `{"active": true}` body."""
    try:
        body = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ControlError(400, "invalid_input", "the body is not JSON") from err
    if not isinstance(body, dict) or not isinstance(body.get("active"), bool):
        raise ControlError(400, "invalid_input", 'the body must be {"active": true|false}')
    active: bool = body["active"]
    return active
