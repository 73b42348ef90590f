"""`vigil testcamera` as a command: its options, its refusals, its clean stop."""

import socket
import subprocess
import sys
from pathlib import Path

from tests.servers import free_port
from tests.testcamera.process import SHARED_CACHE, TestCameraProcess


def _vigil(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vigil", *args], capture_output=True, text=True, timeout=30
    )


def test_help_names_every_option() -> None:
    result = _vigil("testcamera", "--help")
    assert result.returncode == 0
    for option in (
        "--count",
        "--rtsp-port",
        "--http-port",
        "--codec",
        "--main",
        "--sub",
        "--gop",
        "--user",
        "--password",
        "--lpr",
        "--host",
        "--cache",
        "--no-discovery",
    ):
        assert option in result.stdout


def test_bad_profile_is_refused_before_anything_listens() -> None:
    result = _vigil("testcamera", "--main", "1920x1080", "--no-discovery")
    assert result.returncode == 2
    assert "WIDTHxHEIGHT@FPS" in result.stderr


def test_taken_http_port_is_reported(tmp_path: Path) -> None:
    with TestCameraProcess(tmp_path) as first:
        first.start()
        result = _vigil(
            "testcamera",
            "--http-port",
            str(first.http_port),
            "--no-discovery",
            "--count",
            "1",
            "--rtsp-port",
            str(first.rtsp_port + 1),
            "--cache",
            str(SHARED_CACHE),
        )
    assert result.returncode == 1
    assert f"port {first.http_port} is in use: choose another with --http-port" in result.stderr
    assert "Traceback" not in result.stderr


def test_taken_rtsp_port_is_reported_before_encoding(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _vigil(
            "testcamera",
            "--rtsp-port",
            str(port),
            "--http-port",
            str(free_port()),
            "--no-discovery",
            "--count",
            "1",
            # An empty cache: the port is checked before any loop is encoded.
            "--cache",
            str(tmp_path / "cache"),
        )
    assert result.returncode == 1
    assert f"port {port} is in use: choose another with --rtsp-port" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "cache").exists()


def test_sigterm_stops_cleanly(tmp_path: Path) -> None:
    process = TestCameraProcess(tmp_path, count=3).start()
    assert process.stop() == 0
    assert "msg=stopping" in process.logs()
    assert "Traceback" not in process.logs()
