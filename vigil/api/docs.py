"""The API's description: the OpenAPI schema and the Swagger UI page that shows it.

Swagger UI's script and style are served by this server from the installed package
`fastapi-offline`, which ships a copy of them, rather than from a CDN as FastAPI's own page
does: a server on a camera network often has no way out to the internet, and its page would
be blank. (fastapi-offline's own app factory is not used: it builds the FastAPI app itself and
mounts its files beside the routes, where the permission table would not see them.)

Like the web client's files these are public, and routes rather than FastAPI's built-in ones
so that they pass through the permission table (vigil/api/access.py). They are left out of
the schema: they are not part of the API they describe.
"""

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.staticfiles import StaticFiles

DOCS = "/api/v1/docs"
SCHEMA = "/api/v1/openapi.json"
ASSETS = f"{DOCS}/assets"
# fastapi-offline keeps Swagger UI's files (and ReDoc's, unused here) beside its module.
ASSET_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"


def router() -> APIRouter:
    files = StaticFiles(directory=ASSET_DIR)
    api = APIRouter(include_in_schema=False)

    @api.get(SCHEMA)
    async def schema(request: Request) -> JSONResponse:
        return JSONResponse(request.app.openapi())

    @api.get(DOCS)
    async def page(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=SCHEMA,
            title=f"{request.app.title} API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
            # Swagger UI would send the schema to its public validator for a badge.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @api.get(f"{ASSETS}/{{name}}")
    async def asset(name: str, request: Request) -> Response:
        # StaticFiles keeps the lookup inside the folder and answers conditional requests.
        return await files.get_response(name, request.scope)

    return api
