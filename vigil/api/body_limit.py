"""Request bodies are bounded before they are read: 413 `too_large`.

FastAPI reads a body whole, and parses it, before the permission table or the handler sees
the request, so a stranger's 100 MB to the login would be held in memory first. Here each
request's body is capped by who may send it: the endpoints anyone may call without logging in
(the login, making or joining a system) take `OPEN_BODY_BYTES`, the rest `BODY_BYTES` (a role
naming thousands of cameras is some 100 KiB of JSON). A `Content-Length` over the cap is
answered at once, unread; a body sent without one (chunked) is counted as it comes and
refused once past the cap.

Before a refusal the body is read on (and dropped) for a moment, up to `DRAIN_BYTES`: a
connection closed with data unread is reset, and a client still sending would see the reset
rather than the 413.
"""

import asyncio
import contextlib
from collections.abc import Iterable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vigil.api.errors import error_response

OPEN_BODY_BYTES = 8 * 1024
BODY_BYTES = 1024 * 1024
DRAIN_BYTES = 4 * 1024 * 1024
DRAIN_S = 2.0


class BodyLimit:
    def __init__(self, app: ASGIApp, open_endpoints: Iterable[tuple[str, str]]) -> None:
        """`open_endpoints`: (method, path) of the endpoints callable without a login."""
        self._app = app
        self._open = frozenset(open_endpoints)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        cap = OPEN_BODY_BYTES if (scope["method"], scope["path"]) in self._open else BODY_BYTES
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and not (declared.isdigit() and int(declared) <= cap):
            await _drain(receive)
            await _refusal(cap)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    # An HTTPException passes FastAPI's reading of the body as it is, and is
                    # answered by the API's error handlers (errors.py).
                    raise HTTPException(413, _message(cap))
            return message

        await self._app(scope, counted, send)


async def _drain(receive: Receive) -> None:
    """Reads and drops what comes of the body, within `DRAIN_BYTES` and `DRAIN_S`."""
    drained = 0
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(DRAIN_S):
            while drained < DRAIN_BYTES:
                message = await receive()
                drained += len(message.get("body", b""))
                if message["type"] != "http.request" or not message.get("more_body"):
                    return


def _refusal(cap: int) -> ASGIApp:
    return error_response(413, "too_large", _message(cap), {"Connection": "close"})


def _message(cap: int) -> str:
    return f"the request body is over {cap // 1024} KiB, the most this endpoint takes"
