"""Headers that tell browsers what not to do with the server's answers.

Every answer: no framing by other pages (clickjacking of the operator's session), no guessing
of content types, no Referer to other sites (URLs carry camera ids and times). The web
client's page adds a content security policy that lets it load and connect to nothing but the
server itself (`api/web.py`).
"""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADERS = (
    ("Content-Security-Policy", "frame-ancestors 'none'"),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS:
                    headers.setdefault(name, value)  # a route's own policy stays
            await send(message)

        await self._app(scope, receive, send_with_headers)
