"""What the defences cost: logins while an attacker guesses, and HTTPS against HTTP.

1. `login`: a legitimate user's login latency while an attacker from another address sends
   wrong passwords for another account as fast as it can, with the per-address throttle and
   (the reference) without it. In process, on the login's real parts (argon2id, SQLite, the
   document): a loopback test has one client address, and the throttle is per address.
2. `https`: a real `vigil server` with one simulated 1080p camera: API latency (`GET /me`,
   keep-alive) over HTTP and HTTPS, and the server's CPU with N live WebSocket viewers of the
   main stream over `ws:` and over `wss:`.

Prints one JSON object. Run: `python -m bench.security [--sections login,https]`.
"""

import argparse
import asyncio
import json
import ssl
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

from bench.cameras import vms_cameras
from bench.delivery import serve
from bench.proc import TreeCpu
from tests.clocked import ManualClock
from tests.login_parts import login_parts
from tests.servers import ServerProcess
from vigil.auth import throttle
from vigil.auth.login import LoginService
from vigil.errors import VigilError
from vigil.state import Database

PASSWORD = "the right password"
ATTACKERS = 4
ATTACK_PAUSE_S = 0.002  # each attacker: at most 500 attempts a second


def _percentiles(values: list[float]) -> dict[str, float]:
    """p50, p95 and max of times in ms."""
    ordered = sorted(values)

    def at(fraction: float) -> float:
        return round(ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))], 2)

    return {"p50": at(0.5), "p95": at(0.95), "max": round(ordered[-1], 2)}


async def _login_service(folder: Path, free_failures: int) -> tuple[LoginService, Database]:
    clock = ManualClock(int(time.time() * 1000))
    throttling = throttle.LoginThrottle(clock, free_failures=free_failures)
    parts = await login_parts(folder, clock, PASSWORD, throttling)
    return parts.service, parts.db


async def _logins_under_attack(
    folder: Path, logins: int, free_failures: int = throttle.FREE_FAILURES
) -> dict[str, Any]:
    service, db = await _login_service(folder, free_failures)
    attempts = 0
    stop = asyncio.Event()

    async def attacker() -> None:
        nonlocal attempts
        n = 0
        while not stop.is_set():
            n += 1
            try:  # a new name each time: no account locks, only the address is slowed
                await service.login(f"name {n}", "a guess", "192.0.2.66")
            except VigilError:
                attempts += 1
            # About what one client's HTTP requests can carry; without a pause the attacker's
            # coroutines would only measure this process's event loop.
            await asyncio.sleep(ATTACK_PAUSE_S)

    attacking = [asyncio.create_task(attacker()) for _ in range(ATTACKERS)]
    latencies = []
    started = time.perf_counter()
    try:
        for _ in range(logins):
            start = time.perf_counter()
            await service.login("owner", PASSWORD, "10.1.2.3")
            latencies.append((time.perf_counter() - start) * 1000)
    finally:
        stop.set()
        await asyncio.gather(*attacking)
        await db.close()
    wall = time.perf_counter() - started
    return {
        "login_ms": _percentiles(latencies),
        "attacker_attempts_per_s": round(attempts / wall, 1),
    }


def _login_section(logins: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as name:
        figures["no_attack"] = asyncio.run(_quiet(Path(name) / "quiet", logins))
        figures["attack_throttled"] = asyncio.run(
            _logins_under_attack(_made(Path(name) / "a"), logins)
        )
        # The reference: the same attack with the throttle out of the way.
        figures["attack_unthrottled"] = asyncio.run(
            _logins_under_attack(_made(Path(name) / "b"), logins, free_failures=10**9)
        )
    return figures


def _made(folder: Path) -> Path:
    folder.mkdir(parents=True)
    return folder


async def _quiet(folder: Path, logins: int) -> dict[str, Any]:
    service, db = await _login_service(_made(folder), throttle.FREE_FAILURES)
    latencies = []
    for _ in range(logins):
        start = time.perf_counter()
        await service.login("owner", PASSWORD, "10.1.2.3")
        latencies.append((time.perf_counter() - start) * 1000)
    await db.close()
    return {"login_ms": _percentiles(latencies)}


def _api_latency(url: str, token: str, verify: ssl.SSLContext | bool, requests: int) -> Any:
    with httpx.Client(base_url=url, verify=verify,
                      headers={"Authorization": f"Bearer {token}"}) as client:  # fmt: skip
        client.get("/api/v1/me").raise_for_status()  # the connection (and TLS) made
        latencies = []
        for _ in range(requests):
            start = time.perf_counter()
            client.get("/api/v1/me").raise_for_status()
            latencies.append((time.perf_counter() - start) * 1000)
    return _percentiles(latencies)


async def _viewers(url: str, token: str, count: int, seconds: float, pid: int,
                   tls: ssl.SSLContext | None) -> dict[str, Any]:  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    sockets = [await connect(url, additional_headers=headers, max_size=None, ssl=tls)
               for _ in range(count)]  # fmt: skip
    received = [0] * count

    async def read(n: int) -> None:
        async for message in sockets[n]:
            received[n] += len(message)

    readers = [asyncio.create_task(read(n)) for n in range(count)]
    await asyncio.sleep(2)  # past the first GOPs
    before = sum(received)
    cpu = TreeCpu(pid)
    await asyncio.sleep(seconds)
    used = cpu.measure(seconds)
    rate = (sum(received) - before) * 8 / seconds / 1e6
    for websocket in sockets:
        await websocket.close()
    await asyncio.gather(*readers, return_exceptions=True)
    return {"viewers": count, "server_cores": used["cores"],
            "server_cores_per_viewer": round(float(used["cores"]) / count, 4),  # type: ignore[arg-type]
            "mbit_per_s": round(rate, 1)}  # fmt: skip


def _https_section(viewers: int, seconds: float, requests: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        cameras = vms_cameras(folder, 1)
        try:
            server = ServerProcess(folder / "server")
            token, (camera_id,) = serve(server, cameras, 1, recorded=0)
            trust = ssl.create_default_context(cafile=str(server.certificate))
            figures: dict[str, Any] = {
                "api_ms": {
                    "http": _api_latency(server.url, token, True, requests),
                    "https": _api_latency(server.https_url, token, trust, requests),
                }
            }
            path = f"/api/v1/cameras/{camera_id}/live?stream=main"
            plain = f"ws://127.0.0.1:{server.port}{path}"
            secure = f"wss://127.0.0.1:{server.https_port}{path}"
            figures["live"] = {
                "ws": asyncio.run(_viewers(plain, token, viewers, seconds, server.pid, None)),
                "wss": asyncio.run(_viewers(secure, token, viewers, seconds, server.pid, trust)),
            }
            server.stop()
        finally:
            cameras.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sections", default="login,https")
    parser.add_argument("--logins", type=int, default=30)
    parser.add_argument("--viewers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    sections = args.sections.split(",")
    figures: dict[str, Any] = {"bench": "security"}
    if "login" in sections:
        figures["login"] = _login_section(args.logins)
    if "https" in sections:
        figures["https"] = _https_section(args.viewers, args.seconds, args.requests)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
