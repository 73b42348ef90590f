"""What the app offers: its HTTP endpoints and its WebSocket endpoints, as one list.

OpenAPI has no place for WebSockets, so the app's schema lists them under `x-websockets`:
clients and the permission walk (tests/test_permissions.py) find them there.
"""

import sys
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts

from vigil.api import openapi_errors

WEBSOCKET = "WS"  # the method of a WebSocket endpoint in the permission table

# FastAPI asks of every route's types whether they are pydantic.v1 models by importing
# pydantic.v1: 2 MB of the server's memory for a module Vigil never uses. Marked as not
# importable, FastAPI's own fallback answers "no".
sys.modules.setdefault("pydantic.v1", None)  # type: ignore[arg-type]


def websocket_paths(app: FastAPI) -> list[str]:
    return sorted(
        context.path
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIWebSocketRoute) and context.path
    )


def endpoints(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every endpoint, those the description leaves out included;
    WebSockets have the method `WS`. Read from the routes: the description is built only
    when a client asks for it (it holds a megabyte of the server's memory)."""
    http = [
        (method, context.path_format)
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute) and context.path_format
        for method in sorted(context.original_route.methods or ())
    ]
    return http + [(WEBSOCKET, path) for path in websocket_paths(app)]


class VigilApi(FastAPI):
    def __init__(self, *, login_needed: dict[tuple[str, str], bool], **settings: Any) -> None:
        """`login_needed`: whether each (method, path) needs a session (the permission
        table's), for the error responses the description lists."""
        super().__init__(**settings)
        self._login_needed = login_needed

    def openapi(self) -> dict[str, Any]:
        schema = super().openapi()
        schema["x-websockets"] = websocket_paths(self)
        openapi_errors.describe(schema, self._login_needed)
        return schema
