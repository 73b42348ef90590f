"""Plate reads pushed like ANPR cameras push them: JSON over HTTP POST, with JPEG images.

Each camera with `--lpr` sends a read to its push URL every `every_s` seconds, cycling
through a list of plates (from a file, or made up deterministically per camera), and on demand
through the control API. The format is documented in docs/testcamera-lpr.md.
"""

import asyncio
import base64
import io
import logging
import random
import string
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from PIL import Image, ImageDraw, ImageFont

from vigil.tasks import cancel_and_wait
from vigil.testcamera.camera import SimulatedCamera
from vigil.testcamera.types import SnapshotSource

logger = logging.getLogger(__name__)

VEHICLE_TYPES = ("car", "van", "truck", "bus", "motorcycle")
COLOURS = ("white", "black", "silver", "grey", "blue", "red", "green", "yellow")
DIRECTIONS = ("approaching", "leaving")
PUSH_TIMEOUT_S = 5.0
PLATE_IN_VIEW_S = 5.0


@dataclass(frozen=True)
class PlateSpec:
    plate: str
    region: str


def load_plates(path: Path) -> list[PlateSpec]:
    """A file of plates: one a line, `PLATE` or `PLATE,REGION`; `#` starts a comment."""
    plates = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        plate, _, region = (part.strip() for part in line.partition(","))
        if not plate or len(plate) > 16 or not plate.replace(" ", "").replace("-", "").isalnum():
            raise ValueError(f"{path}:{number}: {plate!r} is not a plate")
        plates.append(PlateSpec(plate.upper(), region.upper() or "EU"))
    if not plates:
        raise ValueError(f"{path} holds no plates")
    return plates


def made_up_plates(seed: int, count: int = 20) -> list[PlateSpec]:
    chooser = random.Random(seed)
    letters = string.ascii_uppercase
    return [
        PlateSpec(
            "".join(chooser.choices(letters, k=2))
            + "".join(chooser.choices(string.digits, k=2))
            + " "
            + "".join(chooser.choices(letters, k=3)),
            "GB",
        )
        for _ in range(count)
    ]


def plate_crop_jpeg(plate: str) -> bytes:
    """A picture of the plate as an ANPR camera crops it: dark characters on a light plate."""
    font = ImageFont.load_default(size=40)
    width = int(font.getlength(plate)) + 40
    image = Image.new("RGB", (width, 64), (250, 210, 40))
    draw = ImageDraw.Draw(image)
    draw.rectangle((1, 1, width - 2, 62), outline=(20, 20, 20), width=2)
    draw.text((20, 10), plate, fill=(15, 15, 15), font=font)
    output = io.BytesIO()
    image.save(output, format="JPEG", quality=85)
    return output.getvalue()


class PlatePusher:
    """One camera's plate reads: a schedule and on-demand reads, POSTed to `url`."""

    def __init__(
        self,
        camera: SimulatedCamera,
        snapshots: SnapshotSource,
        plates: Sequence[PlateSpec],
        *,
        url: str | None,
        every_s: float,
    ) -> None:
        self.camera = camera
        self.url = url
        self.every_s = every_s
        self._snapshots = snapshots
        self._plates = list(plates)
        self._chooser = random.Random(camera.identity.index)
        self._sequence = 0
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None
        self.sent = 0
        self.failed = 0

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=PUSH_TIMEOUT_S)
        self._task = asyncio.create_task(self._schedule(), name=f"lpr-{self.camera.identity.name}")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        if self._client is not None:
            await self._client.aclose()

    async def _schedule(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            if not self.url:
                continue
            try:
                await self.read()
            except Exception:
                # One failed read (a snapshot that could not be made) must not end the schedule.
                logger.exception(
                    "making a plate read failed", extra={"camera": self.camera.identity.name}
                )

    async def read(self, plate: PlateSpec | None = None) -> dict[str, object]:
        """Make one read (of `plate`, or the next of the list) and push it; returns it."""
        spec = plate or self._plates[self._sequence % len(self._plates)]
        self._sequence += 1
        # The vehicle is in view: the caption shows its plate, in the snapshot too.
        self.camera.plate_in_view = (spec.plate, time.monotonic() + PLATE_IN_VIEW_S)
        snapshot = await self._snapshots.jpeg(self.camera, "main")
        crop = await asyncio.to_thread(plate_crop_jpeg, spec.plate)
        identity = self.camera.identity
        body: dict[str, object] = {
            "camera": {"name": identity.name, "serial": identity.serial, "mac": identity.mac},
            "sequence": self._sequence,
            "time_ms": time.time_ns() // 1_000_000,
            "plate": spec.plate,
            "region": spec.region,
            "confidence": round(self._chooser.uniform(0.80, 0.99), 2),
            "direction": self._chooser.choice(DIRECTIONS),
            "vehicle": {
                "type": self._chooser.choice(VEHICLE_TYPES),
                "colour": self._chooser.choice(COLOURS),
            },
            "plate_jpeg": base64.b64encode(crop).decode(),
            "snapshot_jpeg": base64.b64encode(snapshot).decode(),
        }
        await self._push(body)
        return body

    async def _push(self, body: dict[str, object]) -> None:
        if not self.url or self._client is None:
            return
        try:
            answer = await self._client.post(self.url, json=body)
            answer.raise_for_status()
            self.sent += 1
        except httpx.HTTPError as err:
            # A camera whose receiver is away drops the read, as real ones do after a while.
            # The reason names the error's kind only: the URL may carry credentials.
            self.failed += 1
            logger.warning(
                "plate read not delivered",
                extra={"camera": self.camera.identity.name, "reason": type(err).__name__},
            )
