"""The control API: what a test does to a camera that a person would do in front of it.

Plain JSON over HTTP on each camera's own port, without authentication: it is meant for test
rigs on loopback, not for the clients a real camera serves. Errors are
`{"error": {"code": ..., "message": ...}}` as in Vigil's own API.
"""

import json
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from vigil.testcamera.camera import INPUT_COUNT, SimulatedCamera

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


def routes(camera_of: CameraOf) -> list[Route]:
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

    return [
        Route("/control/motion", motion, methods=["POST"]),
        Route("/control/input/{number:int}", digital_input, methods=["POST"]),
    ]


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
