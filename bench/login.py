"""Login latency and throughput of a real `vigil server`, with its argon2id parameters.

Prints one JSON object. Run: `make bench` or `python -m bench.login`.
"""

import json
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.servers import OWNER, OWNER_PASSWORD, ServerProcess
from vigil.auth import passwords

SEQUENTIAL = 60
CONCURRENT_CLIENTS = 8
CONCURRENT_LOGINS = 120


def _login(url: str) -> float:
    start = time.perf_counter()
    answer = httpx.post(
        f"{url}/api/v1/login", json={"name": OWNER, "password": OWNER_PASSWORD}, timeout=60
    )
    elapsed = time.perf_counter() - start
    answer.raise_for_status()
    return elapsed


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        server = ServerProcess(Path(folder) / "server").start()
        try:
            server.create_system()
            _login(server.url)  # warm up
            latencies = [_login(server.url) for _ in range(SEQUENTIAL)]
            start = time.perf_counter()
            with ThreadPoolExecutor(CONCURRENT_CLIENTS) as pool:
                concurrent = list(pool.map(lambda _: _login(server.url), range(CONCURRENT_LOGINS)))
            wall = time.perf_counter() - start
        finally:
            server.stop()
    print(
        json.dumps(
            {
                "bench": "login",
                "argon2id": {
                    "time_cost": passwords.TIME_COST,
                    "memory_kib": passwords.MEMORY_COST_KIB,
                    "parallelism": passwords.PARALLELISM,
                },
                "sequential_logins": SEQUENTIAL,
                "latency_ms_p50": round(statistics.median(latencies) * 1000, 1),
                "latency_ms_p95": round(_percentile(latencies, 0.95) * 1000, 1),
                "concurrent_clients": CONCURRENT_CLIENTS,
                "concurrent_logins": CONCURRENT_LOGINS,
                "throughput_logins_per_s": round(CONCURRENT_LOGINS / wall, 1),
                "concurrent_latency_ms_p95": round(_percentile(concurrent, 0.95) * 1000, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
