"""Snapshots: the picture a stream shows, decoded from its loop and encoded as JPEG."""

from collections.abc import Sequence
from fractions import Fraction

import av

from vigil.media.codecs import Codec


def decode_jpeg(codec: Codec, access_units: Sequence[bytes]) -> bytes:
    """Decode `access_units` (a keyframe first) and return the last picture as JPEG."""
    decoder = av.CodecContext.create("h264" if codec == "h264" else "hevc", "r")
    picture: av.VideoFrame | None = None
    for unit in [*access_units, None]:
        for frame in decoder.decode(None if unit is None else av.Packet(unit)):
            if isinstance(frame, av.VideoFrame):
                picture = frame
    if picture is None:
        raise ValueError("the access units held no picture")
    encoder = av.CodecContext.create("mjpeg", "w")
    if not isinstance(encoder, av.VideoCodecContext):
        raise TypeError("the mjpeg encoder is not a video encoder")
    encoder.width = picture.width
    encoder.height = picture.height
    encoder.pix_fmt = "yuvj420p"
    encoder.time_base = Fraction(1, 25)  # one picture: any time base will do
    encoder.options = {"qmin": "2", "qmax": "6"}
    packets = encoder.encode(picture.reformat(format="yuvj420p"))
    packets += encoder.encode(None)
    return b"".join(bytes(p) for p in packets)
