"""Snapshots drawn with Pillow: a plain frame at the stream's size with the camera's name.

Used until the video component provides decoded frames of the looped video.
"""

import asyncio
import io
import time

from PIL import Image, ImageDraw, ImageFont

from vigil.testcamera.camera import SimulatedCamera, StreamName

_BACKGROUND = (32, 48, 64)
_TEXT = (240, 240, 240)


class DrawnSnapshots:
    async def jpeg(self, camera: SimulatedCamera, stream: StreamName) -> bytes:
        # Encoding a 1080p JPEG takes tens of milliseconds: keep it off the event loop.
        return await asyncio.to_thread(_draw, camera, stream, time.time())


def _draw(camera: SimulatedCamera, stream: StreamName, now_s: float) -> bytes:
    profile = camera.streams[stream]
    image = Image.new("RGB", (profile.width, profile.height), _BACKGROUND)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(10, profile.height // 12))
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now_s))
    lines = (camera.identity.name, f"{stream} {profile.width}x{profile.height}", f"{stamp} UTC")
    draw.multiline_text(
        (profile.width // 2, profile.height // 2),
        "\n".join(lines),
        fill=_TEXT,
        font=font,
        anchor="mm",
        align="center",
    )
    output = io.BytesIO()
    image.save(output, format="JPEG", quality=80)
    return output.getvalue()
