"""Every error a client sees is JSON `{"error": {"code", "message", ...}}` with a fitting
status. Domain errors are mapped to statuses here and nowhere else: HTTP's in `STATUS`,
RTSP's in `RTSP_STATUS`.

On a WebSocket the same error is a text message `{"type": "error", "code", "message", ...}`,
then a close with code 4000 + the status (4401, 4403, 4404…) and the error's code as the
reason. The socket is accepted first even to refuse it: a browser shows a script neither the
status nor the body of a refused handshake, only that it failed.

An RTSP client is refused with the status alone (`vigil.api.rtsp`); an error without an RTSP
status is the server's failure, logged and answered 500, as over HTTP."""

import logging
from typing import Any

from fastapi import FastAPI, Request, WebSocket
from fastapi.exceptions import RequestValidationError, WebSocketRequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.routing import compile_path
from starlette.websockets import WebSocketDisconnect, WebSocketState

from vigil import errors
from vigil.cameras import errors as camera_errors
from vigil.cameras import ptz
from vigil.media import snapshot
from vigil.media.export.service import NothingRecorded
from vigil.media.live import UnsupportedCodec

logger = logging.getLogger(__name__)

STATUS: dict[type[errors.VigilError], int] = {
    errors.InvalidInput: 422,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.LimitReached: 409,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.AccountLocked: 423,
    errors.TooManyAttempts: 429,
    errors.ServerUndefined: 409,
    errors.StorageFailure: 503,
    errors.PeerUnreachable: 502,
    # The camera, not the request, failed: a bad gateway; except credentials, which are input.
    camera_errors.CameraUnreachable: 502,
    camera_errors.NotOnvif: 502,
    camera_errors.CameraUnauthorized: 422,
    camera_errors.DiscoveryUnavailable: 503,
    # A camera without PTZ: the camera as it is, not the request, rules the move out.
    ptz.PtzUnsupported: 409,
    ptz.PtzRefused: 502,
    UnsupportedCodec: 415,
    snapshot.NoRecording: 404,
    # A damaged recording: no picture there, as far as a client can tell.
    snapshot.UndecodablePicture: 404,
    # The camera's stream is down for now; asking again later may work.
    snapshot.NoLivePicture: 503,
    NothingRecorded: 404,
}
# RTSP (RFC 2326 §7.1.1) has no 409, 422 or 423, and only some classes reach an RTSP client:
# those of the login and of the rights to a camera and its archive.
RTSP_STATUS: dict[type[errors.VigilError], int] = {
    errors.InvalidInput: 400,
    errors.Unauthenticated: 401,
    # Not 401: a player would ask for the password again, and no password gets in.
    errors.AccountLocked: 403,
    errors.TooManyAttempts: 503,  # RTSP has no 429; 503 is "try again later"
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.LimitReached: 453,
    errors.StorageFailure: 503,
}
CLOSE_CODE_BASE = 4000  # WebSocket close codes 4000-4999 are the application's
INTERNAL_ERROR = "the server failed; the error is in its log"  # what a fault of ours says


def status_of(exc: errors.VigilError) -> int:
    if isinstance(exc, errors.Relayed):
        return exc.status
    return STATUS.get(type(exc), 400)


async def close_with_error(
    websocket: WebSocket, status: int, code: str, message: str, **extra: Any
) -> None:
    if websocket.application_state == WebSocketState.CONNECTING:
        await websocket.accept()
    if websocket.application_state != WebSocketState.CONNECTED:
        return
    try:
        await websocket.send_json({"type": "error", "code": code, "message": message, **extra})
        await websocket.close(CLOSE_CODE_BASE + status, reason=code)
    except WebSocketDisconnect:
        pass  # the client left first


def error_message(exc: errors.VigilError) -> dict[str, Any]:
    """A refusal that leaves a WebSocket open (a bad command): the same body as a closing one."""
    extra: dict[str, Any] = dict(exc.extra)
    if exc.field is not None:
        extra["field"] = exc.field
    return {"type": "error", "code": exc.code, "message": exc.message, **extra}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, **extra}}
    return JSONResponse(status_code=status, content=body, headers=headers)


def _field_name(loc: tuple[Any, ...]) -> str:
    # ("body", "roles", 0) → "roles.0"; the part of the request is implied by the endpoint.
    parts = loc[1:] if loc and loc[0] in ("body", "query", "path", "header", "cookie") else loc
    return ".".join(str(p) for p in parts) or str(loc[0] if loc else "body")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(errors.VigilError)
    async def vigil_error(
        connection: HTTPConnection, exc: errors.VigilError
    ) -> JSONResponse | None:
        extra: dict[str, Any] = dict(exc.extra)
        if exc.field is not None:
            extra["field"] = exc.field
        if isinstance(connection, WebSocket):
            await close_with_error(connection, status_of(exc), exc.code, exc.message, **extra)
            return None
        headers = None
        if isinstance(exc, errors.Unauthenticated):
            headers = {"WWW-Authenticate": "Bearer"}
        elif isinstance(exc, errors.TooManyAttempts):
            headers = {"Retry-After": str(exc.extra["retry_after_s"])}
        return error_response(status_of(exc), exc.code, exc.message, headers, **extra)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation_response(list(exc.errors()))

    @app.exception_handler(WebSocketRequestValidationError)
    async def websocket_validation_error(
        websocket: WebSocket, exc: WebSocketRequestValidationError
    ) -> None:
        problem = _validation_problem(list(exc.errors()))
        await close_with_error(websocket, 422, "invalid_input", **problem)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}
        headers = dict(exc.headers) if exc.headers else {}
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return error_response(
            exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail), headers
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception(
            "unhandled error",
            exc_info=exc,
            extra={"method": request.method, "path": request.url.path},
        )
        return error_response(500, "internal_error", INTERNAL_ERROR)


def _allowed_methods(request: Request) -> list[str]:
    """Every method of the path: Starlette's 405 names only the first route that matched it,
    and a path may have a route per method. The path is the first route's that matches (in
    order, as requests are routed: `/cameras/discovery` before `/cameras/{camera_id}`)."""
    template = None
    allowed: set[str] = set()
    for context in iter_route_contexts(request.app.routes):
        path = context.path
        if not (context.methods and path) or (template is not None and path != template):
            continue
        if template is not None or compile_path(path)[0].match(request.url.path):
            template = path
            allowed |= set(context.methods)
    return sorted(allowed - {"HEAD"})


def _validation_response(problems: list[dict[str, Any]]) -> JSONResponse:
    if any(p.get("type") == "json_invalid" for p in problems):
        return error_response(400, "malformed_json", "the request body is not valid JSON")
    return error_response(422, "invalid_input", **_validation_problem(problems))


def _validation_problem(problems: list[dict[str, Any]]) -> dict[str, Any]:
    """The message, field and fields of an `invalid_input` error."""
    first = problems[0] if problems else {"loc": ("body",), "msg": "invalid input"}
    field = _field_name(tuple(first.get("loc", ())))
    kind = first.get("type")
    if kind == "extra_forbidden":
        message = "unknown field"
    elif field == "body" and kind in ("model_attributes_type", "dict_type", "model_type"):
        message = "must be a JSON object, sent with Content-Type: application/json"
    else:
        message = str(first.get("msg", "")).removeprefix("Value error, ")
    return {
        "message": f"{field}: {message}",
        "field": field,
        "fields": [_field_name(tuple(p.get("loc", ()))) for p in problems],
    }
