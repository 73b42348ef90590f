"""A camera nobody here wrote: IPyCam (PyPI `ipycam`, a virtual ONVIF camera in Python with
its own RTSP server), added to a real `vigil server` by its ONVIF address.

IPyCam listens on every interface and announces itself by WS-Discovery multicast when it
starts, with no option to stay on loopback; so the whole exchange runs inside a network
namespace of its own with only a loopback interface (`unshare --net`, as root), where nothing
can leave the machine. This module is run there by its own `__main__` (the peer script), and
the test reads what the script found. Without ipycam, ffmpeg or the right to make a network
namespace the test is skipped.

Found so far: adding works (name, both profiles, both streams online); its PTZ answers use
namespace prefixes (`ptz:`, `tptz:`) that its envelope never declares, which Vigil reports
naming the operation.
"""

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

OWNER_PASSWORD = "a long secret"
DEADLINE_S = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait(look: Any, what: str, timeout_s: float = DEADLINE_S) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            found = look()
        except httpx.TransportError:
            found = None
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout_s:g} s for {what}")
        time.sleep(0.25)


def _peer(folder: Path) -> dict[str, Any]:
    """Inside the namespace: IPyCam and a Vigil server on loopback, the camera added by ONVIF;
    what the API said."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    clip = folder / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10",
         "-t", "20", "-pix_fmt", "yuv420p", str(clip)],
        check=True,
    )  # fmt: skip
    onvif_port, rtsp_port = _free_port(), _free_port()
    config = {
        "local_ip": "127.0.0.1",
        "onvif_port": onvif_port,
        "rtsp_port": rtsp_port,
        # go2rtc is looked for on these; nothing answers, so IPyCam serves RTSP itself.
        "go2rtc_api_port": _free_port(),
        "rtmp_port": _free_port(),
        "web_port": _free_port(),
        **{"main_width": 320, "main_height": 240, "main_fps": 10},
        **{"sub_width": 160, "sub_height": 120, "sub_fps": 10, "hw_accel": "cpu"},
    }
    (folder / "ipycam.json").write_text(json.dumps(config))
    http_port = _free_port()
    api = f"http://127.0.0.1:{http_port}/api/v1"
    with (
        (folder / "ipycam.log").open("wb") as camera_log,
        (folder / "server.log").open("wb") as server_log,
    ):
        camera = subprocess.Popen(
            [sys.executable, "-m", "ipycam", "--config", "ipycam.json", "--source", str(clip),
             "--hw", "cpu"],
            cwd=folder, stdout=camera_log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        server = subprocess.Popen(
            [sys.executable, "-m", "vigil", "server", "--data", str(folder / "data"),
             "--port", str(http_port), "--rtsp-port", "0", "--peer-port", "0", "--https-port", "0",
             "--discovery-address", "127.0.0.1"],
            stdout=server_log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            _wait(lambda: httpx.get(f"{api}/server").status_code == 200, "the Vigil server")
            owner = {"owner_name": "owner", "owner_password": OWNER_PASSWORD}
            httpx.post(f"{api}/system", json={"system_name": "s", "server_name": "s", **owner})
            login = {"name": "owner", "password": OWNER_PASSWORD}
            token = httpx.post(f"{api}/login", json=login).json()["token"]
            client = httpx.Client(
                base_url=api, headers={"Authorization": f"Bearer {token}"}, timeout=20
            )
            _wait(
                lambda: httpx.get(f"http://127.0.0.1:{onvif_port}/", timeout=2).status_code < 500,
                "IPyCam's HTTP server",
            )
            added = client.post("/cameras", json={"onvif_address": f"127.0.0.1:{onvif_port}"})
            result: dict[str, Any] = {"added": added.status_code, "camera": added.json()}
            if added.status_code == 201:
                camera_id = added.json()["id"]

                def online() -> Any:
                    streams = client.get(f"/cameras/{camera_id}").json()["streams"]
                    # Online with figures: stats come once a few pictures have.
                    ready = all(
                        s["status"]["state"] == "online" and s["stats"] for s in streams.values()
                    )
                    return streams if ready else None

                result["streams"] = _wait(online, "IPyCam's streams to be online")
                presets = client.get(f"/cameras/{camera_id}/ptz/presets")
                result["presets"] = {"status": presets.status_code, "body": presets.json()}
            return result
        finally:
            for process in (server, camera):
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()


def _can_isolate() -> str | None:
    """Why this machine cannot run the peer, or None."""
    if importlib.util.find_spec("ipycam") is None:
        return "ipycam is not installed (the dev extra has it)"
    for tool in ("unshare", "ip", "ffmpeg"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        return "no right to make a network namespace (unshare --net)"
    return None


def test_ipycam_is_added_by_onvif_and_its_malformed_ptz_answers_are_named(
    tmp_path: Path,
) -> None:
    why_not = _can_isolate()
    if why_not is not None:
        pytest.skip(why_not)
    out = tmp_path / "result.json"
    ran = subprocess.run(
        ["unshare", "--net", sys.executable, __file__, str(tmp_path), str(out)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    logs = "".join(
        f"\n--- {log.name} ---\n{log.read_text(errors='replace')[-3000:]}"
        for log in (tmp_path / "ipycam.log", tmp_path / "server.log")
        if log.exists()
    )
    assert ran.returncode == 0, f"{ran.stdout}\n{ran.stderr}{logs}"
    result = json.loads(out.read_text())
    assert result["added"] == 201, result
    camera = result["camera"]
    assert camera["name"] == "Virtual Camera"
    assert camera["ptz"] is True
    streams = result["streams"]
    assert (streams["main"]["stats"]["codec"], streams["main"]["stats"]["width"]) == ("h264", 320)
    assert streams["sub"]["stats"]["width"] == 160
    presets = result["presets"]
    assert presets["status"] == 502, presets
    error = presets["body"]["error"]
    assert (error["code"], error["operation"]) == ("not_onvif", "GetPresets")
    assert "namespace prefix it does not declare" in error["message"], error


if __name__ == "__main__":
    folder, out = Path(sys.argv[1]), Path(sys.argv[2])
    tempfile.tempdir = str(folder)
    out.write_text(json.dumps(_peer(folder)))
