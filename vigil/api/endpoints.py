"""What the app offers: its HTTP endpoints and its WebSocket endpoints, as one list.

OpenAPI has no place for WebSockets, so the app's schema lists them under `x-websockets`:
clients and the permission walk (tests/test_permissions.py) find them there.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIWebSocketRoute, iter_route_contexts

from vigil.api import openapi_errors

WEBSOCKET = "WS"  # the method of a WebSocket endpoint in the permission table


def websocket_paths(app: FastAPI) -> list[str]:
    return sorted(
        context.path
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIWebSocketRoute) and context.path
    )


def endpoints(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every endpoint; WebSockets have the method `WS`."""
    http = [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
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
