"""Cost of the permission check per request: the session look-up and the rule of the route.

Builds the real server in this process, logs in, then calls the app's own authorisation
dependency on a request for `GET /api/v1/users`, many times. As a reference in the same run it
also times a whole request to an open endpoint (`GET /api/v1/server`) through the ASGI app.
Prints one JSON object. Run: `make bench` or `python -m bench.permissions`.
"""

import asyncio
import json
import tempfile
import time
from pathlib import Path

import httpx
from fastapi.routing import APIRoute
from starlette.requests import Request

from tests.servers import OWNER, OWNER_PASSWORD
from vigil.app import VigilServer
from vigil.clock import SystemClock
from vigil.config import ServerConfig

CHECKS = int(__import__("os").environ.get("CHECKS", "20000"))
REQUESTS = 2_000


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        server = await VigilServer.open(
            ServerConfig(data_dir=Path(folder), peer_port=0), SystemClock()
        )
        try:
            app = server.app
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                await client.post(
                    "/api/v1/system",
                    json={
                        "system_name": "B",
                        "server_name": "b",
                        "owner_name": OWNER,
                        "owner_password": OWNER_PASSWORD,
                    },
                )
                login = await client.post(
                    "/api/v1/login", json={"name": OWNER, "password": OWNER_PASSWORD}
                )
                token = login.json()["token"]
                start = time.perf_counter()
                for _ in range(REQUESTS):
                    await client.get("/api/v1/server")
                request_us = (time.perf_counter() - start) / REQUESTS * 1e6

            authorize = app.router.dependencies[0].dependency
            assert authorize is not None
            # The router puts the matched route in the scope; this one carries the same path.
            route = APIRoute("/api/v1/users", endpoint=lambda: None, methods=["GET"])
            scope = {
                "type": "http",
                "method": "GET",
                "path": "/api/v1/users",
                "route": route,
                "headers": [(b"authorization", f"Bearer {token}".encode())],
                "client": ("127.0.0.1", 1),
                "query_string": b"",
            }
            start = time.perf_counter()
            for _ in range(CHECKS):
                await authorize(Request(scope))
            check_us = (time.perf_counter() - start) / CHECKS * 1e6
        finally:
            await server.close()
    print(
        json.dumps(
            {
                "bench": "permissions",
                "checks": CHECKS,
                "permission_check_us": round(check_us, 1),
                "reference_whole_request_us": round(request_us, 1),
                "check_share_of_request": round(check_us / request_us, 3),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
