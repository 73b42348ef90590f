"""The simulated cameras the benches measure with: the streams a VMS typically pulls from an IP
camera (a 1080p25 4 Mbit/s main stream and a 360p15 512 kbit/s sub stream), with sound."""

from pathlib import Path

from tests.testcamera.process import TestCameraProcess

MAIN = "1920x1080@25:4000k"
MAIN_FPS = 25
SUB = "640x360@15:512k"
SUB_FPS = 15


def vms_cameras(folder: Path, count: int) -> TestCameraProcess:
    """`count` cameras (main 1080p25 4 Mbit/s, sub 360p15 512 kbit/s, AAC 16 kHz mono),
    started; loops cached in the user's cache across runs."""
    return TestCameraProcess(
        folder,
        count=count,
        cache_dir=Path.home() / ".cache/vigil/testcamera",
        extra_args=("--main", MAIN, "--sub", SUB),
    ).start(timeout_s=600)
