"""What the media path needs to know of H.264 and H.265 NAL units (no decoding)."""

from typing import Literal

Codec = Literal["h264", "h265"]


def nal_type(codec: Codec, nal: bytes) -> int:
    return nal[0] & 0x1F if codec == "h264" else (nal[0] >> 1) & 0x3F


def is_keyframe_nal(codec: Codec, nal: bytes) -> bool:
    """An IDR picture (H.264) or any IRAP picture (H.265: BLA, IDR, CRA)."""
    kind = nal_type(codec, nal)
    return kind == 5 if codec == "h264" else 16 <= kind <= 21


def is_parameter_set(codec: Codec, nal: bytes) -> bool:
    kind = nal_type(codec, nal)
    return kind in (7, 8) if codec == "h264" else kind in (32, 33, 34)
