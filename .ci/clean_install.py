"""Vigil as a user installs it: `pip install .` (no extras, not editable) into a new venv must
give a server whose API and WebSockets work.

`make test` runs from the development venv, which has every extra; a runtime dependency
missing from pyproject.toml (uvicorn without a WebSocket library answers every WebSocket with
404) only shows in an install like this one. Run by .ci/run as `python3 .ci/clean_install.py`;
it re-runs itself with the new venv's Python for the checks, which use only what the server's
own dependencies brought.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEADLINE_S = 60.0


def fail(message: str, log: Path | None = None) -> None:
    text = f"clean install: FAILED: {message}"
    if log is not None and log.exists():
        text += f"\n--- server log ---\n{log.read_text(errors='replace')}"
    print(text, file=sys.stderr)
    sys.exit(1)


def install(folder: Path) -> Path:
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    print(f"clean install: pip install {REPO} into {venv}", flush=True)
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(REPO)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        fail(f"pip install . failed:\n{result.stdout}{result.stderr}")
    return python


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def request(
    url: str, body: dict[str, Any] | None = None, token: str | None = None
) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 (loopback)
    try:
        with urllib.request.urlopen(req, timeout=10) as answer:  # noqa: S310
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def check_media_worker(url: str, token: str, log: Path) -> None:
    """A camera that is not there: a media worker of the installed package starts, tries it
    and says that it is offline, and stays up."""
    nowhere = {"name": "Nowhere", "main_url": f"rtsp://127.0.0.1:{free_port()}/stream"}
    status, camera = request(f"{url}/cameras", nowhere, token)
    if status != 201:
        fail(f"POST /api/v1/cameras answered {status}", log)
    deadline = time.monotonic() + DEADLINE_S
    while True:
        _, answer = request(f"{url}/cameras/{camera['id']}", token=token)
        if answer["streams"]["main"]["status"]["state"] == "offline":
            break
        if time.monotonic() > deadline:
            fail(f"waited {DEADLINE_S:g} s for a media worker to find the camera offline", log)
        time.sleep(0.2)
    _, media = request(f"{url}/server/media", token=token)
    running = [w for w in media["workers"] if w["pid"] is not None]
    if len(running) != 1 or running[0]["restarts"] != 0:
        fail(f"expected one media worker running, never restarted: {media}", log)


def check(folder: Path) -> None:
    """In the new venv: start its `vigil server`, make a system, log in, open a WebSocket,
    and have a media worker try a camera."""
    from websockets.sync.client import connect

    vigil = Path(sys.executable).parent / "vigil"
    port, rtsp_port = free_port(), free_port()
    url = f"http://127.0.0.1:{port}/api/v1"
    log = folder / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                *(str(vigil), "server", "--data", str(folder / "data")),
                *("--port", str(port), "--rtsp-port", str(rtsp_port)),
                *("--peer-port", str(free_port()), "--https-port", str(free_port())),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=folder,  # not the source tree: the installed package is what runs
        )
    try:
        deadline = time.monotonic() + DEADLINE_S
        while True:
            if server.poll() is not None:
                fail(f"vigil server exited at start with {server.returncode}", log)
            try:
                request(f"{url}/server")
                break
            except OSError:
                if time.monotonic() > deadline:
                    fail(f"waited {DEADLINE_S:g} s for the server to answer at {url}", log)
                time.sleep(0.2)
        status, _ = request(
            f"{url}/system",
            {
                "system_name": "Clean install",
                "server_name": "Server 1",
                "owner_name": "owner",
                "owner_password": "a long secret",
            },
        )
        if status != 201:
            fail(f"POST /api/v1/system answered {status}", log)
        status, session = request(f"{url}/login", {"name": "owner", "password": "a long secret"})
        if status != 200:
            fail(f"POST /api/v1/login answered {status}", log)
        ws_url = f"ws://127.0.0.1:{port}/api/v1/notifications"
        try:
            with connect(
                ws_url, additional_headers={"Authorization": f"Bearer {session['token']}"}
            ):
                pass
        except Exception as err:  # any failure to open it is the finding
            fail(f"the notifications WebSocket did not open: {err!r}", log)
        status, _ = request(f"{url}/openapi.json")
        if status != 200:
            fail(f"GET /api/v1/openapi.json answered {status}", log)
        check_media_worker(url, session["token"], log)
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=30)
    if code != 0:
        fail(f"vigil server exited with {code} on SIGTERM", log)
    if "WebSocket library" in log.read_text(errors="replace"):
        fail("uvicorn found no WebSocket library", log)
    print(
        "clean install: server, login, notifications WebSocket and a media worker work", flush=True
    )


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check(Path(sys.argv[2]))
        return
    with tempfile.TemporaryDirectory(prefix="vigil-clean-install-") as tmp:
        folder = Path(tmp)
        python = install(folder)
        # PYTHONPATH would let the source tree stand in for the installed package.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        result = subprocess.run(
            [str(python), __file__, "--check", str(folder)], env=env, check=False, cwd=folder
        )
        if result.returncode != 0:
            sys.exit(result.returncode)


if __name__ == "__main__":
    main()
