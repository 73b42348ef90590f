"""Schemathesis, the API fuzzer, run against a real server: by tests/test_fuzz.py (bounded)
and bench/fuzz.py (50,000 cases)."""

import re
import subprocess
import sys
from pathlib import Path

from tests.servers import ServerProcess

CONFIG = Path(__file__).with_name("schemathesis.toml")
SCHEMATHESIS = Path(sys.executable).with_name("st")
_COUNTS = re.compile(r"(\d+) generated, (\d+) passed")


def schemathesis(
    server: ServerProcess, token: str, examples: int, phases: str, timeout_s: float
) -> subprocess.CompletedProcess[str]:
    """Run Schemathesis on every operation of `server`'s description, `examples` cases per
    operation and phase, the same cases every run."""
    command = [
        str(SCHEMATHESIS), "--no-color", "--config-file", str(CONFIG), "run",
        f"{server.url}/api/v1/openapi.json", "-H", f"Authorization: Bearer {token}",
        "--max-examples", str(examples), "--phases", phases,
        "--generation-deterministic", "--workers", "1",
        # The session's own end: the cases after it would all be 401.
        "--exclude-path", "/api/v1/logout",
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)


def cases(report: str) -> tuple[int, int] | None:
    """(generated, passed) of a report's summary; None if it has none."""
    found = _COUNTS.search(report)
    return (int(found[1]), int(found[2])) if found else None
