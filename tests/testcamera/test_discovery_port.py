"""A machine where UDP 3702 is taken still runs the cameras, without discovery."""

import socket
from pathlib import Path

import pytest

from tests.testcamera.process import TestCameraProcess

# WS-Discovery listens on UDP 3702, one process at a time: these tests run on their own.
pytestmark = pytest.mark.udp_3702


def test_a_taken_discovery_port_leaves_the_cameras_running(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("127.0.0.1", 3702))  # without SO_REUSEADDR: nobody can share it
        with TestCameraProcess(tmp_path, discovery=True) as process:
            process.start()
            assert process.running()
            assert "WS-Discovery is off" in process.logs()
