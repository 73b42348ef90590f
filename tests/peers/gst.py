"""GStreamer as peers nobody here wrote, from the tests' side: cameras (`gst_camera.py`) and
a player (`gst_play.py`), both run by Debian's Python, which has GStreamer's bindings (the
tests' virtual environment has not)."""

import functools
import json
import signal
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

from tests.waiting import wait_for

SYSTEM_PYTHON = "/usr/bin/python3"
HERE = Path(__file__).parent
CAMERA_SCRIPT = HERE / "gst_camera.py"
PLAYER_SCRIPT = HERE / "gst_play.py"
CAMERA_USER = "camera"
CAMERA_PASSWORD = "camera secret"
# What the tests use of GStreamer, and the Debian package each comes from (.ci/run).
ELEMENTS = {
    "x264enc": "gstreamer1.0-plugins-ugly",
    "x265enc": "gstreamer1.0-plugins-bad",
    "voaacenc": "gstreamer1.0-plugins-bad",
    "h264parse": "gstreamer1.0-plugins-bad",
    "h265parse": "gstreamer1.0-plugins-bad",
    "rtspsrc": "gstreamer1.0-plugins-good",
    "rtph264pay": "gstreamer1.0-plugins-good",
    "rtpjpegpay": "gstreamer1.0-plugins-good",
    "qtdemux": "gstreamer1.0-plugins-good",
    "jpegenc": "gstreamer1.0-plugins-good",
    "capssetter": "gstreamer1.0-plugins-good",
    "videotestsrc": "gstreamer1.0-plugins-base",
    "decodebin": "gstreamer1.0-plugins-base",
    "avdec_h264": "gstreamer1.0-libav",
    "avdec_h265": "gstreamer1.0-libav",
}


@functools.cache
def missing() -> str | None:
    """Why GStreamer cannot serve as a peer here (None when it can)."""
    probe = (
        "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0')\n"
        "from gi.repository import Gst, GstRtspServer\n"
        "Gst.init(None)\n"
        f"print(' '.join(e for e in {sorted(ELEMENTS)!r} if Gst.ElementFactory.find(e) is None))"
    )
    try:
        found = subprocess.run(
            [SYSTEM_PYTHON, "-c", probe], capture_output=True, text=True, timeout=30, check=False
        )
    except FileNotFoundError:
        return f"no {SYSTEM_PYTHON} (Debian's Python with python3-gi)"
    if found.returncode != 0:
        lines = found.stderr.strip().splitlines()
        return (
            "GStreamer's RTSP server is not usable from Debian's Python (apt-get install "
            f"python3-gi gir1.2-gst-rtsp-server-1.0): {lines[-1] if lines else ''}"
        )
    absent = found.stdout.split()
    if absent:
        packages = sorted({ELEMENTS[name] for name in absent})
        return f"GStreamer lacks {', '.join(absent)} (apt-get install {' '.join(packages)})"
    return None


def rtsp_answers(port: int, timeout_s: float = 2.0) -> bool:
    """Whether an RTSP server on 127.0.0.1:`port` answers OPTIONS with 200."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
            sock.sendall(f"OPTIONS rtsp://127.0.0.1:{port}/ RTSP/1.0\r\nCSeq: 1\r\n\r\n".encode())
            return sock.recv(4096).startswith(b"RTSP/1.0 200")
    except OSError:
        return False


@dataclass(frozen=True)
class RtspAnswer:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: str


def rtsp_request(
    url: str,
    method: str = "DESCRIBE",
    headers: dict[str, str] | None = None,
    timeout_s: float = 10.0,
) -> RtspAnswer:
    """One raw RTSP request to `url` (rtsp://127.0.0.1:PORT/…) and its answer."""
    port = int(url.split("/")[2].rpartition(":")[2])
    lines = [f"{method} {url} RTSP/1.0", "CSeq: 1", "Accept: application/sdp"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode(errors="replace").split("\r\n")
        found = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            found[name.strip().lower()] = value.strip()
        length = int(found.get("content-length", "0"))
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    return RtspAnswer(int(status_line.split()[1]), found, body.decode(errors="replace"))


class GstCamera:
    """A GStreamer RTSP camera with the given mounts (dicts of gst_camera.Mount's keys) on
    a port of its own choosing; `auth` ("basic" or "digest") guards mounts with `auth`."""

    def __init__(
        self,
        folder: Path,
        mounts: list[dict[str, Any]],
        auth: str | None = None,
        name: str = "gst-camera",
    ) -> None:
        self.folder = folder
        self.mounts = mounts
        self.auth = auth
        self.name = name
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def _ready_path(self) -> Path:
        return self.folder / f"{self.name}.ready"

    @property
    def log_path(self) -> Path:
        return self.folder / f"{self.name}.log"

    def start(self, timeout_s: float = 20.0) -> Self:
        reason = missing()
        if reason is not None:
            raise RuntimeError(reason)
        command = [SYSTEM_PYTHON, str(CAMERA_SCRIPT), "--port", str(self.port)]
        for mount in self.mounts:
            command += ["--mount", json.dumps(mount)]
        if self.auth:
            command += ["--auth", self.auth, "--user", CAMERA_USER, "--password", CAMERA_PASSWORD]
        self._ready_path.unlink(missing_ok=True)
        with self._ready_path.open("wb") as ready, self.log_path.open("ab") as log:
            self._process = subprocess.Popen(command, stdout=ready, stderr=log)
        process = self._process

        def ready() -> dict[str, Any] | None:
            if process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start:\n{self.logs()}")
            line = self._ready_path.read_text().strip()
            return json.loads(line) if line else None

        self.port = wait_for(ready, timeout_s, f"{self.name}'s ready line")["port"]
        wait_for(lambda: rtsp_answers(self.port), timeout_s, f"{self.name} answering OPTIONS")
        return self

    def url(self, path: str, *, user: str = "", password: str = "") -> str:
        credentials = f"{quote(user)}:{quote(password)}@" if user else ""
        return f"rtsp://{credentials}127.0.0.1:{self.port}{path}"

    def drop_clients(self) -> None:
        """Every client's session ends at once, as when a camera restarts its streaming."""
        if self._process is None:
            raise RuntimeError(f"{self.name} is not running")
        self._process.send_signal(signal.SIGUSR1)

    def stop(self) -> int | None:
        process, self._process = self._process, None
        if process is None:
            return None
        if process.poll() is None:
            process.terminate()
            try:
                return process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
                raise
        return process.returncode

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@dataclass(frozen=True)
class Played:
    """What GStreamer's player made of a stream or file (gst_play.py's report)."""

    pictures: int
    sound: int
    caps: str | None
    errors: list[str]
    warnings: list[str]
    eos: bool
    timed_out: bool

    def caps_field(self, name: str) -> str | None:
        for part in (self.caps or "").split(", "):
            key, _, value = part.partition("=")
            if key == name:
                return value.partition(")")[2] if value.startswith("(") else value
        return None


def play(
    location: str | Path, *, transport: str = "tcp", pictures: int = 0, timeout_s: float = 20.0
) -> Played:
    """Play `location` (an rtsp:// URL or a file) with GStreamer until `pictures` were
    decoded (a file: to its end), at most `timeout_s`."""
    command = [
        SYSTEM_PYTHON,
        str(PLAYER_SCRIPT),
        str(location),
        "--transport",
        transport,
        "--pictures",
        str(pictures),
        "--timeout",
        str(timeout_s),
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout_s + 20, check=False
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise AssertionError(
            f"gst_play.py failed ({done.returncode}) on {location}:\n{done.stderr[-2000:]}"
        )
    return Played(**json.loads(lines[-1]))


def gst_launch_errors(clip: Path) -> str:
    """What `gst-launch-1.0 filesrc ! qtdemux ! decodebin ! fakesink` says is wrong with
    `clip` ('' when it plays to its end without an error)."""
    done = subprocess.run(
        [
            "gst-launch-1.0",
            "-q",
            "filesrc",
            f"location={clip}",
            "!",
            "qtdemux",
            "!",
            "decodebin",
            "!",
            "fakesink",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    said = (done.stdout + done.stderr).strip()
    if done.returncode != 0 or "ERROR" in said:
        return f"exit code {done.returncode}: {said}"
    return ""
