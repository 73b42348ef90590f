"""Encoding a loop once with PyAV (libx264 / libx265) into the cache on disk (`cache.py`).

A cache entry is the Annex-B elementary stream, keyed by everything that changes its bytes.
"""

import hashlib
import logging
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from vigil.testcamera import cache
from vigil.testcamera.cache import EncodedFrames
from vigil.testcamera.profiles import StreamProfile
from vigil.testcamera.video.band import BACKGROUND, BAND_HEIGHT, CELL_WIDTH
from vigil.testcamera.video.render import render

logger = logging.getLogger(__name__)

# Bump when rendering or encoder settings change, so old cache entries are not reused.
FORMAT_VERSION = 4
LOOP_SECONDS = 10


# x265 settings that the H.265 caption band needs (h265.check_band_support): 16x16 coding tree
# blocks that may split to 8x8, and no in-loop filters, so band and body never filter each other.
X265_CODING = "ctu=16:min-cu-size=8:no-sao=1:no-deblock=1:aq-mode=0"


def coded_height(profile: StreamProfile) -> int:
    """Loops are encoded a caption band short; the band is added when sending."""
    return profile.height - BAND_HEIGHT


def loop_length(profile: StreamProfile) -> int:
    """Frames in the loop: about LOOP_SECONDS, a whole number of GOPs (it starts on a key)."""
    gops = max(1, round(LOOP_SECONDS * profile.fps / profile.gop))
    return gops * profile.gop


def cache_key(profile: StreamProfile) -> str:
    text = f"{FORMAT_VERSION}|{profile.codec}|{profile.width}x{profile.height}|{profile.fps}|"
    text += f"{profile.bitrate_kbps}|{profile.gop}|{loop_length(profile)}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_or_encode(profile: StreamProfile, cache_dir: Path) -> EncodedFrames:
    base = cache_dir / f"{profile.codec}-{profile.width}x{profile.height}-{cache_key(profile)}"
    cached = cache.load(base)
    if cached is not None:
        return cached
    logger.info("encoding a loop", extra={"profile": str(profile), "cache": str(cache_dir)})
    encoded = _encode(profile)
    cache.store(base, encoded)
    return encoded


def _encoder(profile: StreamProfile) -> av.VideoCodecContext:
    name = "libx264" if profile.codec == "h264" else "libx265"
    context = av.CodecContext.create(name, "w")
    assert isinstance(context, av.VideoCodecContext)
    context.width = profile.width
    context.height = coded_height(profile)
    context.pix_fmt = "yuv420p"
    context.time_base = Fraction(1, profile.fps)
    context.framerate = Fraction(profile.fps, 1)
    context.bit_rate = profile.bitrate_kbps * 1000
    context.gop_size = profile.gop
    context.max_b_frames = 0
    rate = f"vbv-maxrate={profile.bitrate_kbps}:vbv-bufsize={profile.bitrate_kbps}"
    # Fixed GOP, no B-frames (decode order is display order), parameter sets before every
    # keyframe so a client may start at any of them, one slice per picture as cameras send.
    if profile.codec == "h264":
        context.options = {
            "preset": "veryfast",
            # Baseline (CAVLC, no B-frames): what the live caption band is stitched to.
            "profile": "baseline",
            "tune": "zerolatency",
            "x264-params": f"keyint={profile.gop}:min-keyint={profile.gop}:scenecut=0:"
            f"repeat-headers=1:aud=0:sliced-threads=0:{rate}",
        }
    else:
        context.options = {
            "preset": "ultrafast",
            "tune": "zerolatency",
            "x265-params": f"keyint={profile.gop}:min-keyint={profile.gop}:scenecut=0:"
            f"bframes=0:repeat-headers=1:info=0:log-level=error:{X265_CODING}:{rate}",
        }
    return context


def _encode(profile: StreamProfile) -> EncodedFrames:
    context = _encoder(profile)
    length = loop_length(profile)
    codec_name = "H.264" if profile.codec == "h264" else "H.265"
    data = bytearray()
    offsets: list[int] = []

    def take(packets: "list[av.Packet[Any]]") -> None:
        for packet in packets:
            offsets.append(len(data))
            data.extend(bytes(packet))

    for index in range(length):
        lines = (
            f"Vigil test camera  {profile.width}x{profile.height}  {codec_name}",
            f"{profile.fps} fps  {profile.bitrate_kbps} kbit/s  GOP {profile.gop}",
            f"loop frame {index:05d} of {length}",
        )
        height = coded_height(profile)
        planes = render(profile.width, height, index, length, lines, (16, BACKGROUND))
        frame = av.VideoFrame(profile.width, height, "yuv420p")
        for plane, values in zip(frame.planes, (planes.y, planes.u, planes.v), strict=True):
            _fill(plane, values)
        frame.pts = index
        frame.time_base = context.time_base
        take(context.encode(frame))
    take(context.encode(None))
    if len(offsets) != length:
        raise RuntimeError(f"the encoder gave {len(offsets)} frames for {length}")
    return EncodedFrames(bytes(data), offsets)


def encode_h265_strips(width: int, strips: list[bytes], qp: int) -> list[bytes]:
    """Each strip `width` x 16 (Y, then Cb and Cr at half size) as a picture of its own: one
    intra slice of one row of coding tree blocks, which decodes the same as a slice of that row
    wherever it is put (see caption_h265.py)."""
    context = av.CodecContext.create("libx265", "w")
    assert isinstance(context, av.VideoCodecContext)
    context.width, context.height = width, CELL_WIDTH
    context.pix_fmt = "yuv420p"
    context.time_base = Fraction(1, 25)
    # A VBV that never binds, as the loops have one: x265 then codes QP deltas, as in them.
    # The QP is pinned and threads are off so that every process makes the same strips.
    rate = f"crf={qp}:qpmin={qp}:qpmax={qp}:vbv-maxrate=40000:vbv-bufsize=40000"
    context.options = {
        "preset": "ultrafast",
        "x265-params": f"keyint=1:{rate}:frame-threads=1:pools=none:info=0:log-level=error:"
        f"{X265_CODING}",
    }
    luma, chroma = width * CELL_WIDTH, width * CELL_WIDTH // 4
    units: list[bytes] = []
    for index, strip in enumerate(strips):
        frame = av.VideoFrame(width, CELL_WIDTH, "yuv420p")
        planes = (strip[:luma], strip[luma : luma + chroma], strip[luma + chroma :])
        for n, (plane, samples) in enumerate(zip(frame.planes, planes, strict=True)):
            shape = (CELL_WIDTH, width) if n == 0 else (CELL_WIDTH // 2, width // 2)
            _fill(plane, np.frombuffer(samples, dtype=np.uint8).reshape(shape))
        frame.pts = index
        units.extend(bytes(p) for p in context.encode(frame))
    units.extend(bytes(p) for p in context.encode(None))
    if len(units) != len(strips):
        raise RuntimeError(f"the encoder gave {len(units)} pictures for {len(strips)}")
    return units


def _fill(plane: av.video.plane.VideoPlane, values: "np.ndarray") -> None:
    """Copy a numpy plane into a frame plane whose rows may be padded (line_size > width)."""
    height, width = values.shape
    if plane.line_size == width:
        plane.update(values.tobytes())
        return
    padded = np.zeros((height, plane.line_size), dtype=np.uint8)
    padded[:, :width] = values
    plane.update(padded.tobytes())
