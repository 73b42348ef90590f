"""What the app offers: its HTTP endpoints and its WebSocket endpoints, as one list.

OpenAPI has no place for WebSockets, so the app's schema lists them under `x-websockets`:
clients and the permission walk (tests/test_permissions.py) find them there.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIWebSocketRoute, iter_route_contexts

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
    def openapi(self) -> dict[str, Any]:
        schema = super().openapi()
        schema["x-websockets"] = websocket_paths(self)
        return schema
