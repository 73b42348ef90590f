"""The caption band's layout, the same for every codec: 16x32 character cells drawn once per
character, which cells changed, and the loop frame a band is put in front of."""

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cache
from typing import Generic, TypeVar

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from vigil.media.codecs import split_annexb

BAND_HEIGHT = 32  # two rows of 16x16 blocks (H.264 macroblocks, H.265 coding tree blocks)
CELL_WIDTH = 16
BACKGROUND = 40  # luma of the band and of the body's flat top rows
INK = 235
CHARSET = "".join(chr(c) for c in range(32, 127))

# A band's colour (Cb, Cr): each camera's own, so a tile showing the wrong camera is seen at
# once, even where the picture is too narrow for the camera's name. Luma is never tinted, so
# captions read the same in every colour; the colours are pale, so that the band's dark
# background and white characters stay within RGB's range when a browser shows them (luma
# read back from RGB, as a browser test reads the clock, would be off where they do not).
Tint = tuple[int, int]
NEUTRAL: Tint = (128, 128)
TINTS: tuple[Tint, ...] = (
    (144, 112), (112, 144), (144, 144), (112, 112), (128, 150), (150, 128), (128, 106), (106, 128)
)  # fmt: skip


def tint_of(camera_index: int) -> Tint:
    """The band colour of camera `camera_index` (0-based) of a run; eight, then again."""
    return TINTS[camera_index % len(TINTS)]


Header = TypeVar("Header")


@cache
def cell(char: str, tint: Tint = NEUTRAL) -> tuple[bytes, bytes]:
    """The samples of a character's two 16x16 blocks (top, bottom): Y 16x16, Cb 8x8, Cr 8x8."""
    image = Image.new("L", (CELL_WIDTH, BAND_HEIGHT), BACKGROUND)
    if char.strip():
        font = ImageFont.load_default(size=24)
        draw = ImageDraw.Draw(image)
        draw.text((CELL_WIDTH / 2, BAND_HEIGHT / 2), char, fill=INK, font=font, anchor="mm")
    luma = np.asarray(image, dtype=np.uint8)
    chroma = bytes([tint[0]]) * 64 + bytes([tint[1]]) * 64
    return luma[:16].tobytes() + chroma, luma[16:].tobytes() + chroma


def changed_columns(text: str, shown: str) -> list[int]:
    """The cells where `text` differs from `shown` (padded to its length); this runs for every
    frame of every stream, so only the stretch between the common ends is compared."""
    shown = shown[: len(text)].ljust(len(text))
    # commonprefix compares characters (in C), which is what is wanted here.
    first = len(os.path.commonprefix([text, shown]))  # noqa: RUF071
    end = len(text) - len(os.path.commonprefix([text[::-1], shown[::-1]]))  # noqa: RUF071
    return [c for c in range(first, end) if text[c] != shown[c]]


@dataclass(frozen=True)
class CaptionFrame(Generic[Header]):
    """One frame of the loop, ready to have a band put in front of its body slice."""

    prefix: tuple[bytes, ...]  # parameter sets and SEI, as sent before the slices
    body: bytes  # the body slice, moved below the band
    header: Header  # the body's header, whose picture-level fields the band copies


class BandedLoop(ABC, Generic[Header]):
    """A loop encoded a band short, its frames split into what goes before the band (taller
    parameter sets, SEI) and the body slice moved below it; a codec fills in the syntax."""

    def __init__(self, access_units: list[bytes]) -> None:
        self.frames: list[CaptionFrame[Header]] = []
        for unit in access_units:
            prefix: list[bytes] = []
            moved = None
            for nal in split_annexb(unit):
                if (sent := self._parameter_set(nal)) is not None:
                    prefix.append(sent)
                elif self._is_slice(nal):
                    if moved is not None:
                        raise ValueError("a frame of several slices")
                    moved = self._moved_slice(nal)
                elif not self._is_delimiter(nal):  # access unit delimiters are left out
                    prefix.append(nal)
            if moved is None:
                raise ValueError("a frame without a slice")
            self.frames.append(CaptionFrame(tuple(prefix), *moved))

    @abstractmethod
    def _parameter_set(self, nal: bytes) -> bytes | None:
        """Take note of a parameter set and return it as sent (made taller); None for any other
        NAL unit."""

    @abstractmethod
    def _is_slice(self, nal: bytes) -> bool: ...

    @abstractmethod
    def _is_delimiter(self, nal: bytes) -> bool: ...

    @abstractmethod
    def _moved_slice(self, nal: bytes) -> tuple[bytes, Header]:
        """The slice moved below the band, and its parsed header."""

    def prepare(self, tint: Tint) -> None:
        """Makes ready beforehand what bands of colour `tint` need (blocking, so off the
        event loop: a band is written for every frame sent)."""

    @abstractmethod
    def band(self, index: int, text: str, previous: str | None, tint: Tint) -> list[bytes]:
        """The band's NAL units for loop frame `index` showing `text` in colour `tint`;
        `previous` is what the frame before showed (None in key frames and whenever every cell
        must be written)."""

    def access_unit(self, index: int, text: str, tint: Tint) -> bytes:
        """Loop frame `index` whole, Annex-B, its band written in full (for snapshots)."""
        frame = self.frames[index]
        nals = [*frame.prefix, *self.band(index, text, None, tint), frame.body]
        return b"".join(b"\x00\x00\x00\x01" + nal for nal in nals)
