"""The live caption band put above every loop frame sent, and reading it back from a picture.

`caption_h264` and `caption_h265` write the band for their codec; both draw the same cells
(`band`). The band is written without encoding anything at serve time.
"""

from functools import cache
from typing import Any

import av
import numpy as np

from vigil.media.codecs import Codec
from vigil.testcamera.video.band import (
    BAND_HEIGHT,
    CELL_WIDTH,
    CHARSET,
    NEUTRAL,
    TINTS,
    BandedLoop,
    cell,
)
from vigil.testcamera.video.caption_h264 import H264Caption
from vigil.testcamera.video.caption_h265 import H265Caption, glyphs

# A loop ready for its band, whatever the codec.
Caption = BandedLoop[Any]


def captioned(codec: Codec, access_units: list[bytes]) -> Caption:
    """The loop's frames made ready for a band (a loop encoded a band short, see encode.py)."""
    return H264Caption(access_units) if codec == "h264" else H265Caption(access_units)


@cache
def _cell_lookup() -> dict[bytes, str]:
    """Every character's cell as it decodes: raw samples in H.264; in H.265, the blocks x265
    made, decoded, in every band colour (x265 weighs chroma in its choices, so a colour's
    blocks decode to slightly other luma)."""
    lookup = {cell(c)[0][:256] + cell(c)[1][:256]: c for c in CHARSET}
    for tint in (NEUTRAL, *TINTS):
        lumas = _decoded_lumas(glyphs(tint).access_units)
        for n, char in enumerate(CHARSET):
            lookup.setdefault(lumas[2 * n] + lumas[2 * n + 1], char)
    return lookup


def _decoded_lumas(access_units: tuple[bytes, ...]) -> list[bytes]:
    decoder = av.CodecContext.create("hevc", "r")
    blocks = []
    for unit in access_units:
        for packet in decoder.parse(unit):
            blocks.extend(decoder.decode(packet))
    for packet in decoder.parse(None):
        blocks.extend(decoder.decode(packet))
    blocks.extend(decoder.decode(None))
    # The luma plane as decoded ("gray" would rescale it to full range).
    return [b.to_ndarray(format="yuv420p")[:CELL_WIDTH].tobytes() for b in blocks]


def read_caption(luma: "np.ndarray[tuple[int, int], np.dtype[np.uint8]]") -> str:
    """The text of a decoded picture's band (its top 32 rows of luma), '?' for what is not a
    character: the band decodes exactly as its cells were made."""
    lookup = _cell_lookup()
    chars = []
    for left in range(0, luma.shape[1] - CELL_WIDTH + 1, CELL_WIDTH):
        cell_samples = luma[:BAND_HEIGHT, left : left + CELL_WIDTH]
        key = cell_samples[:16].tobytes() + cell_samples[16:].tobytes()
        chars.append(lookup.get(key, "?"))
    return "".join(chars).rstrip()


# Mean difference per sample of a cell from its character's, at most, after lossy coding.
NEAR = 6


def read_caption_nearest(luma: "np.ndarray[tuple[int, int], np.dtype[np.uint8]]") -> str:
    """As `read_caption`, for a picture that went through lossy coding since (a JPEG): each
    cell is the character whose cell it is nearest to, '?' when it is near none."""
    lookup = _cell_lookup()
    chars = list(lookup.values())
    cells = np.frombuffer(b"".join(lookup), dtype=np.uint8).reshape(len(lookup), -1)
    cells = cells.astype(np.int32)
    found = []
    for left in range(0, luma.shape[1] - CELL_WIDTH + 1, CELL_WIDTH):
        cell_samples = luma[:BAND_HEIGHT, left : left + CELL_WIDTH].astype(np.int32).reshape(-1)
        distances = np.abs(cells - cell_samples).mean(axis=1)
        best = int(np.argmin(distances))
        found.append(chars[best] if distances[best] <= NEAR else "?")
    return "".join(found).rstrip()
