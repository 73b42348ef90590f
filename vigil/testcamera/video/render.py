"""Pictures of the test cameras' loops: a moving pattern and readable text, as YUV 4:2:0.

The motion is periodic with the loop's length so the loop has no visible seam. Everything is
drawn straight into the Y, U and V planes with numpy; text is drawn with Pillow's built-in
font, so no font file is needed.
"""

from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

Plane = NDArray[np.uint8]


@dataclass(frozen=True)
class Planes:
    y: Plane
    u: Plane
    v: Plane


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def text_mask(lines: tuple[str, ...], size: int) -> Plane:
    """White text on black, one line under another, as an 8-bit mask."""
    font = _font(size)
    widths = [int(font.getlength(line)) for line in lines]
    line_height = int(size * 1.25)
    image = Image.new("L", (max(widths) + size, line_height * len(lines) + size // 2), 0)
    draw = ImageDraw.Draw(image)
    for n, line in enumerate(lines):
        draw.text((size // 2, size // 4 + n * line_height), line, fill=255, font=font)
    return np.asarray(image, dtype=np.uint8)


def render(
    width: int,
    height: int,
    index: int,
    period: int,
    lines: tuple[str, ...],
    flat_top: tuple[int, int] = (0, 0),
) -> Planes:
    """Frame `index` of a loop of `period` frames; `flat_top` (rows, luma) makes the top rows
    one flat grey, under the caption band (see caption_h264.py)."""
    phase = index / period
    ys, xs = np.mgrid[0:height, 0:width]
    # Diagonal bands that move one full period per loop: motion everywhere, for the encoder
    # and for people checking that the picture is live.
    bands = ((xs + ys + phase * (width + height)) % 128) * 2
    y = (bands * 0.5 + 40).astype(np.uint8)
    # A square that circles the picture, so order and smoothness are easy to see.
    side = max(16, min(width, height) // 6)
    cx = int((width - side) * (0.5 + 0.4 * np.cos(2 * np.pi * phase)))
    cy = int((height - side) * (0.5 + 0.4 * np.sin(2 * np.pi * phase)))
    y[cy : cy + side, cx : cx + side] = 235
    u = np.full((height // 2, width // 2), 128, dtype=np.uint8)
    v = np.full((height // 2, width // 2), 128, dtype=np.uint8)
    u[:, :] = (96 + (np.arange(width // 2) * 64 // max(1, width // 2))).astype(np.uint8)
    v[:, :] = (160 - (np.arange(height // 2) * 64 // max(1, height // 2)))[:, None].astype(np.uint8)
    rows, luma = flat_top
    _stamp(y[rows:], u[rows // 2 :], v[rows // 2 :], text_mask(lines, max(12, height // 24)))
    y[:rows] = luma
    u[: rows // 2] = 128
    v[: rows // 2] = 128
    return Planes(y, u, v)


def _stamp(y: Plane, u: Plane, v: Plane, mask: Plane) -> None:
    """Draw `mask` as white text on a dark box in the top-left corner."""
    h = min(mask.shape[0], y.shape[0]) & ~1
    w = min(mask.shape[1], y.shape[1]) & ~1
    region = mask[:h, :w]
    y[:h, :w] = np.where(region > 127, 235, 16)
    u[: h // 2, : w // 2] = 128
    v[: h // 2, : w // 2] = 128
