"""Where clients reach the API and the web client: the HTTP and HTTPS ports.

Each is a uvicorn server over the same app (uvicorn takes one TLS setting per server). HTTPS
answers with the administrator's certificate or the server's own (`https.py`); the HTTP port
serves as HTTPS does, redirects every request to HTTPS (308, method and body kept), or is not
listened on (`--http`). The ports are bound before the data folder is opened, so a taken port
stops the server before it starts any camera.
"""

import asyncio
import re
import socket
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from vigil.config import ServerConfig
from vigil.http_connections import BoundedHttp
from vigil.https import CertificateFiles
from vigil.ports import listen

# A client's WebSocket messages are commands of at most 1 KiB of text (api/sockets.py): 4 KiB
# of UTF-8 holds the longest; a larger one closes the socket (1009).
MAX_WS_MESSAGE_BYTES = 4 * 1024

_HOST = re.compile(r"^([A-Za-z0-9._-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])$")


@dataclass
class Listeners:
    http: socket.socket | None
    https: socket.socket | None

    def close(self) -> None:
        for sock in (self.http, self.https):
            if sock is not None:
                sock.close()


def bind(config: ServerConfig) -> Listeners:
    http = listen(config.host, config.port, "--port") if config.http != "off" else None
    try:
        https = (
            listen(config.host, config.https_port, "--https-port") if config.https_port else None
        )
    except BaseException:
        if http is not None:
            http.close()
        raise
    return Listeners(http, https)


def urls(config: ServerConfig) -> list[str]:
    found = [f"http://{config.host}:{config.port}"] if config.http != "off" else []
    return found + ([f"https://{config.host}:{config.https_port}"] if config.https_port else [])


async def serve(
    app: ASGIApp, config: ServerConfig, listeners: Listeners, tls: CertificateFiles | None
) -> None:
    """Until a stop signal (or one of the servers ends): then every one stops."""
    servers: list[tuple[uvicorn.Server, socket.socket]] = []
    if listeners.http is not None:
        plain = _Redirect(config.https_port) if config.http == "redirect" else app
        servers.append((uvicorn.Server(_config(plain)), listeners.http))
    if listeners.https is not None and tls is not None:
        secure = _config(app, ssl_certfile=str(tls.cert), ssl_keyfile=str(tls.key))
        servers.append((uvicorn.Server(secure), listeners.https))
    tasks = [asyncio.create_task(server.serve(sockets=[sock])) for server, sock in servers]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for server, _ in servers:
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)


def _config(app: ASGIApp, **tls: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_config=None,
        lifespan="off",
        server_header=False,
        # Video is compressed already: deflating each fragment for a browser that offers it
        # spent CPU for nothing (docs/design/live.md).
        ws_per_message_deflate=False,
        http=BoundedHttp,
        ws_max_size=MAX_WS_MESSAGE_BYTES,
        **tls,
    )


class _Redirect:
    """Every HTTP request sent to the same host and path over HTTPS; a WebSocket refused."""

    def __init__(self, https_port: int) -> None:
        self._https_port = https_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            return
        host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if not _HOST.match(name):  # nothing unchecked goes back in the Location
            name = scope["server"][0]
        query = scope["query_string"].decode("latin-1")
        target = f"https://{name}:{self._https_port}{scope['raw_path'].decode('latin-1')}"
        response = RedirectResponse(target + (f"?{query}" if query else ""), status_code=308)
        await response(scope, receive, send)
