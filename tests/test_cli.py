"""`vigil` as a command: its options, and its refusals when it cannot start."""

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import free_port


def test_help_lists_the_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vigil", "--help"], capture_output=True, text=True, check=True
    )
    assert "server" in result.stdout


def test_server_help_names_its_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vigil", "server", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for option in ("--data", "--host", "--port"):
        assert option in result.stdout


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port another program listens on."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def _server(data: Path, port: int, rtsp_port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *(sys.executable, "-m", "vigil", "server", "--data", str(data)),
            *("--port", str(port), "--rtsp-port", str(rtsp_port)),
            *("--peer-port", str(free_port()), "--https-port", str(free_port())),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_taken_http_port_stops_the_server_with_one_clear_line(
    tmp_path: Path, taken_port: int
) -> None:
    result = _server(tmp_path / "data", taken_port, free_port())
    assert result.returncode == 1
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert f"port {taken_port} is in use: choose another with --port" in lines[0]
    # Nothing was started, not even the data folder.
    assert not (tmp_path / "data").exists()


def test_taken_rtsp_port_stops_the_server_with_one_clear_line(
    tmp_path: Path, taken_port: int
) -> None:
    result = _server(tmp_path / "data", free_port(), taken_port)
    assert result.returncode == 1
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert f"port {taken_port} is in use: choose another with --rtsp-port" in lines[0]


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--rtsp-port", "70000", "not a port"),
        ("--sync-every", "-1", "not a number of seconds"),
        ("--sync-every", "nan", "not a number of seconds"),
        ("--sync-every", "soon", "not a number of seconds"),
    ],
)
def test_a_value_out_of_range_is_refused(option: str, value: str, said: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vigil", "server", option, value],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert said in result.stderr
    assert option in result.stderr
