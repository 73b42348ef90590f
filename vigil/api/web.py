"""The browser client's files (vigil/web): the page at `/`, its modules under `/app/`.

They are public: markup and code with no data in them (what the page shows comes from the API,
under the API's rules). They are served by routes rather than a mount so that, like every
endpoint, they pass through the permission table, which names them as open.
"""

from pathlib import Path

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
# What the client's files are served as (what the API's description lists for them).
FILE_TYPES = ("text/javascript", "text/css", "text/html", "image/svg+xml")
# The page loads and connects to nothing but this server ("nothing loaded from outside"); its
# videos play Media Source Extensions' blob: URLs; no inline script, no framing. Inline styles
# are let in: the modules place tiles and bars by style attributes (dom.js), and a style
# runs no code.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' blob: data:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def router() -> APIRouter:
    # StaticFiles keeps requests inside the folder, looks files up off the event loop and
    # answers conditional requests.
    files = StaticFiles(directory=WEB_DIR)
    api = APIRouter(tags=["web client"])

    async def serve(path: str, request: Request) -> Response:
        response = await files.get_response(path, request.scope)
        # The modules have no versioned names (there is no build step): the browser asks
        # again each time, and an unchanged file costs a 304.
        response.headers["Cache-Control"] = "no-cache"
        return response

    @api.get("/", response_class=HTMLResponse)
    async def page(request: Request) -> Response:
        """The web client's page."""
        response = await serve("index.html", request)
        response.headers["Content-Security-Policy"] = PAGE_POLICY
        return response

    @api.get("/app/{path:path}", responses={200: {"content": {kind: {} for kind in FILE_TYPES}}})
    async def module(path: str, request: Request) -> Response:
        """The web client's modules and other files."""
        return await serve(path, request)

    return api
