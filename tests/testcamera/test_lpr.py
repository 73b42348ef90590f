"""Plate reads pushed to a receiver, as an ANPR camera pushes them to a VMS."""

import base64
import io
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.testcamera.process import TestCameraProcess


class Receiver:
    """An HTTP endpoint on loopback that keeps every JSON body POSTed to it."""

    def __init__(self) -> None:
        self.reads: list[dict[str, object]] = []
        received = self.reads

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/plates"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def wait_for(self, count: int, timeout_s: float = 20) -> list[dict[str, object]]:
        deadline = time.monotonic() + timeout_s
        while len(self.reads) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(self.reads) >= count, f"{len(self.reads)} reads in {timeout_s} s"
        return self.reads

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


def _jpeg_size(text: object) -> tuple[int, int]:
    assert isinstance(text, str)
    with Image.open(io.BytesIO(base64.b64decode(text))) as image:
        image.load()
        assert image.format == "JPEG"
        return image.size


def test_reads_arrive_on_schedule_with_images(receiver: Receiver, tmp_path: Path) -> None:
    plates = tmp_path / "plates.txt"
    plates.write_text("# gate list\nAB12 CDE, GB\nXYZ 987,DE\n")
    with TestCameraProcess(
        tmp_path,
        count=1,
        extra_args=(
            "--lpr",
            "--lpr-url",
            receiver.url,
            "--lpr-every",
            "0.5",
            "--lpr-plates",
            str(plates),
        ),
    ) as cameras:
        cameras.start(timeout_s=120)
        reads = receiver.wait_for(2)
    first, second = reads[0], reads[1]
    assert (first["plate"], first["region"]) == ("AB12 CDE", "GB")
    assert (second["plate"], second["region"]) == ("XYZ 987", "DE")
    assert first["camera"] == {
        "name": "Camera 001",
        "serial": "VTC00000001",
        "mac": "02:56:49:00:00:00",
    }
    assert isinstance(first["confidence"], float)
    assert 0 < first["confidence"] <= 1
    assert first["direction"] in ("approaching", "leaving")
    vehicle = first["vehicle"]
    assert isinstance(vehicle, dict)
    assert vehicle["type"]
    assert vehicle["colour"]
    assert abs(int(str(first["time_ms"])) / 1000 - time.time()) < 60
    assert _jpeg_size(first["snapshot_jpeg"]) == (320, 240)
    width, height = _jpeg_size(first["plate_jpeg"])
    assert width > height


def test_a_read_on_demand_carries_the_plate_asked_for(receiver: Receiver, tmp_path: Path) -> None:
    with TestCameraProcess(
        tmp_path, count=2, extra_args=("--lpr", "--lpr-every", "3600")
    ) as cameras:
        cameras.start(timeout_s=120)
        settings = httpx.post(
            f"{cameras.url(1)}/control/lpr", json={"url": receiver.url}, timeout=5
        )
        assert settings.status_code == 200
        answer = httpx.post(
            f"{cameras.url(1)}/control/lpr/read",
            json={"plate": "vig 1l", "region": "nl"},
            timeout=10,
        )
        assert answer.status_code == 200
        reads = receiver.wait_for(1)
    assert (reads[0]["plate"], reads[0]["region"]) == ("VIG 1L", "NL")
    assert reads[0]["camera"] == answer.json()["camera"]
    assert reads[0]["sequence"] == 1


def test_an_absent_receiver_costs_reads_not_the_camera(tmp_path: Path) -> None:
    with TestCameraProcess(
        tmp_path,
        count=1,
        extra_args=("--lpr", "--lpr-url", "http://127.0.0.1:9/nobody", "--lpr-every", "0.3"),
    ) as cameras:
        cameras.start(timeout_s=120)
        deadline = time.monotonic() + 15
        status: dict[str, object] = {}
        while time.monotonic() < deadline:
            status = httpx.get(f"{cameras.url()}/control/status", timeout=5).json()
            lpr = status["lpr"]
            if isinstance(lpr, dict) and int(lpr["failed"]) >= 2:
                break
            time.sleep(0.2)
        assert isinstance(status["lpr"], dict)
        assert int(status["lpr"]["failed"]) >= 2
        assert cameras.running()
        assert "nobody" not in cameras.logs()  # the URL (it may hold credentials) is not logged
