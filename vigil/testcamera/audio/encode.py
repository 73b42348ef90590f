"""Encoding the sound loop once with PyAV's AAC encoder into the cache on disk (`cache.py`).

AAC frames overlap their neighbours (MDCT), so a loop cut from a one-off encode would click
at the seam and start with the encoder's priming. The periodic signal is encoded three times
over and the middle period kept: its first frame was encoded after the end of the period
before, which is exactly what precedes it when the loop wraps.
"""

import hashlib
import itertools
import logging
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from vigil.testcamera import cache
from vigil.testcamera.audio.signal import LOOP_SECONDS, SAMPLE_RATE, render
from vigil.testcamera.cache import EncodedFrames

logger = logging.getLogger(__name__)

# Bump when the signal or encoder settings change, so old cache entries are not reused.
FORMAT_VERSION = 1
BIT_RATE = 32_000
FRAME_SAMPLES = 1024  # AAC-LC


def load_or_encode(cache_dir: Path) -> EncodedFrames:
    """The loop's AAC frames (raw access units) and its AudioSpecificConfig."""
    text = f"{FORMAT_VERSION}|aac|{SAMPLE_RATE}|mono|{BIT_RATE}|{LOOP_SECONDS}"
    base = cache_dir / f"aac-{SAMPLE_RATE}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"
    cached = cache.load(base)
    if cached is not None:
        return cached
    logger.info("encoding the sound loop", extra={"cache": str(cache_dir)})
    encoded = _encode()
    cache.store(base, encoded)
    return encoded


def _encode() -> EncodedFrames:
    context = av.CodecContext.create("aac", "w")
    assert isinstance(context, av.AudioCodecContext)
    context.sample_rate = SAMPLE_RATE
    context.layout = "mono"
    context.format = "fltp"
    context.bit_rate = BIT_RATE
    context.time_base = Fraction(1, SAMPLE_RATE)
    context.open()
    period = render()
    length = len(period)
    kept: dict[int, bytes] = {}

    def take(packets: "list[av.Packet[Any]]") -> None:
        for packet in packets:
            if packet.pts is not None and length <= packet.pts < 2 * length:
                kept[packet.pts - length] = bytes(packet)

    for start in range(0, 3 * length, FRAME_SAMPLES):
        offset = start % length
        frame = av.AudioFrame.from_ndarray(
            period[None, offset : offset + FRAME_SAMPLES], format="fltp", layout="mono"
        )
        frame.sample_rate = SAMPLE_RATE
        frame.pts = start
        take(context.encode(frame))
    take(context.encode(None))
    units = [kept[pts] for pts in range(0, length, FRAME_SAMPLES) if pts in kept]
    if len(units) != length // FRAME_SAMPLES:
        raise RuntimeError(f"the encoder gave {len(units)} frames for {length // FRAME_SAMPLES}")
    offsets = [0, *itertools.accumulate(len(unit) for unit in units[:-1])]
    return EncodedFrames(b"".join(units), offsets, bytes(context.extradata or b""))
