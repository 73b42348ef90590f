"""The README's examples, run as a reader runs them: each ```sh block in bash, in order, against
a server and simulated cameras on the ports the README names.

Those ports are fixed (7001, 7554, 8554, 8000-8003) and the cameras answer WS-Discovery, so
this runs in `make test`'s second pass, one test at a time, with the WS-Discovery tests.
What cannot run here is changed, and only that:
- the `make run` / `make test` block is skipped: the test starts the server and the cameras
  itself (the server's discovery kept to loopback, as every test's is);
- `ffplay` needs a screen: `ffprobe` opens the same URL instead;
- the NAS path does not exist on a test machine: a temporary folder stands in for it.
Between blocks the test waits only where the text tells the reader to wait.
"""

import re
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.servers import ServerProcess, api_client
from tests.testcamera.process import TestCameraProcess
from tests.waiting import wait_for

pytestmark = pytest.mark.udp_3702

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.DOTALL | re.MULTILINE)
ASSIGNED = re.compile(r"^([A-Z][A-Z_]*)=", re.MULTILINE)
SAVED = re.compile(r'^declare -\S* ([A-Z][A-Z_]*)="(.*)"$', re.MULTILINE)
NAS_PATH = "/mnt/nas1/vigil"
BLOCK_TIMEOUT_S = 120.0


def readme_blocks() -> list[tuple[int, str]]:
    """(line number, commands) of every ```sh block."""
    text = README.read_text()
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in BLOCK.finditer(text)]


def _runnable(commands: str, nas: Path) -> str | None:
    if re.search(r"^make ", commands, re.MULTILINE):
        return None
    commands = re.sub(r"^ffplay ", "ffprobe -v error -rtsp_transport tcp ", commands, flags=re.M)
    return commands.replace(NAS_PATH, str(nas))


def _saved(work: Path) -> dict[str, str]:
    """The variables the blocks so far set (TOKEN, CAMERA, NOW…), as the next block sees them."""
    state = work / "state.sh"
    return dict(SAVED.findall(state.read_text())) if state.exists() else {}


def _recorded_until_ms(url: str, saved: dict[str, str]) -> int:
    with api_client(url, saved["TOKEN"]) as client:
        now_ms = int(time.time() * 1000)
        answer = client.get(
            f"/cameras/{saved['CAMERA']}/timeline",
            params={"from_ms": now_ms - 3_600_000, "to_ms": now_ms},
        )
    intervals: list[dict[str, Any]] = answer.json().get("intervals", [])
    return max((i["end_ms"] for i in intervals), default=0)


def _wait_as_the_text_says(commands: str, url: str, work: Path) -> None:
    if "archive/snapshot" in commands:
        # "at any recorded time (a few seconds after adding it)": NOW+5 s must be recorded.
        saved = _saved(work)
        wanted_ms = int(saved["NOW"]) + 5000
        wait_for(
            lambda: _recorded_until_ms(url, saved) > wanted_ms,
            60,
            "the camera to have recorded past NOW + 5 s",
        )


def _run(line: int, commands: str, names: list[str], work: Path) -> str:
    script = "\n".join(
        [
            "set -eo pipefail",
            "trap 'echo \"README command failed: $BASH_COMMAND\" >&2' ERR",
            "[ -f state.sh ] && source state.sh",
            "set -x",
            commands,
            "set +x",
            # What this block set, for the next ones (each block runs in a bash of its own).
            *(f"declare -p {name} 2>/dev/null >> state.next || true" for name in names),
            "mv -f state.next state.sh 2>/dev/null || true",
        ]
    )
    try:
        ran = subprocess.run(
            ["bash", "-c", script],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=BLOCK_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        raise AssertionError(
            f"README block at line {line} ran past {BLOCK_TIMEOUT_S:g} s:\n{commands}\n"
            f"--- output ---\n{err.stdout!r}\n{err.stderr!r}"
        ) from err
    report = (
        f"README block at line {line}:\n{commands}\n--- stdout ---\n{ran.stdout}\n"
        f"--- stderr (commands as run) ---\n{ran.stderr}"
    )
    assert ran.returncode == 0, f"exit code {ran.returncode}: {report}"
    # `curl -s` succeeds on an HTTP error; the API's error body says it failed.
    assert '"error":{' not in ran.stdout, f"the API answered an error: {report}"
    return ran.stdout


def test_every_readme_example_works_as_written(tmp_path: Path) -> None:
    work, nas = tmp_path / "work", tmp_path / "nas1"
    work.mkdir()
    nas.mkdir()
    blocks = readme_blocks()
    assert len(blocks) > 10, "the README's examples were not found"
    with (
        TestCameraProcess(
            tmp_path, count=4, http_port=8000, rtsp_port=8554, discovery=True
        ) as cameras,
        ServerProcess(tmp_path / "data", port=7001, rtsp_port=7554) as server,
    ):
        cameras.start(timeout_s=120)
        server.start()
        names: list[str] = []
        ran = 0
        for line, text in blocks:
            commands = _runnable(text, nas)
            if commands is None:
                continue
            names += [n for n in ASSIGNED.findall(commands) if n not in names]
            _wait_as_the_text_says(commands, server.url, work)
            _run(line, commands, names, work)
            ran += 1
        assert ran == len(blocks) - 1
        # What the examples saved is what they say it is.
        for picture in ("now.jpg", "then.jpg"):
            assert (work / picture).read_bytes()[:2] == b"\xff\xd8", picture
        assert (work / "gate.mp4").read_bytes()[4:8] == b"ftyp"
        exported = [p for p in work.glob("*.mp4") if p.name != "gate.mp4"]
        assert exported, "the export job's file was not saved"
        saved = _saved(work)
        with httpx.Client(base_url=f"{server.url}/api/v1", timeout=20) as client:
            headers = {"Authorization": f"Bearer {saved['TOKEN']}"}
            storages = client.get("/storages", headers=headers).json()["storages"]
        assert str(nas) in {s["path"] for s in storages}
