"""What a fuzzer does to a server: Schemathesis against a real `vigil server` (a one-server
system, logged in as its owner) for about 50,000 cases, the server's memory before, after and
at its peak, and what the fuzzer found.

Prints one JSON object. Run: `python -m bench.fuzz [--examples 1100]` (the most cases per
operation; some operations have fewer distinct inputs: 1,100 make about 50,000).
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench.proc import cpu_seconds, peak_rss_mib, rss_mib
from tests.fuzzing import cases, schemathesis
from tests.servers import ServerProcess

TIMEOUT_S = 4 * 3600.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=1100, help="per operation, at most")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        server = ServerProcess(Path(folder) / "server").start()
        try:
            server.create_system()
            with server.login() as owner:
                token = owner.headers["authorization"].removeprefix("Bearer ")
            before_mib, cpu_before = rss_mib(server.pid), cpu_seconds(server.pid)
            started = time.monotonic()
            run = schemathesis(server, token, args.examples, "fuzzing", TIMEOUT_S)
            wall_s = time.monotonic() - started
            generated, passed = cases(run.stdout) or (0, 0)
            results: dict[str, object] = {
                "bench": "fuzz",
                "examples_per_operation": args.examples,
                "cases": generated,
                "passed": passed,
                "fuzzer_exit_code": run.returncode,
                "wall_s": round(wall_s, 1),
                "cases_per_s": round(generated / wall_s, 1),
                "server_cpu_cores": round((cpu_seconds(server.pid) - cpu_before) / wall_s, 3),
                "server_rss_mib": {
                    "before": round(before_mib, 1),
                    "after": round(rss_mib(server.pid), 1),
                    # argon2id's 64 MiB while the owner's password is hashed, at the start
                    "peak": round(peak_rss_mib(server.pid), 1),
                },
            }
            # Not a login: the fuzzer may have renamed the owner (`PATCH /me`) on the way.
            with server.client() as anonymous:
                results["server_still_answers"] = anonymous.get("/server").status_code == 200
        finally:
            server.stop()
    if run.returncode != 0:
        results["report_tail"] = run.stdout[-4000:]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
