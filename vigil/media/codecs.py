"""What the media path needs to know of H.264 and H.265 NAL units (no decoding)."""

from collections.abc import Iterator, Sequence
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


def merge_parameter_sets(
    codec: Codec, held: Sequence[bytes], in_band: Sequence[bytes]
) -> tuple[bytes, ...]:
    """The parameter sets in force after an access unit carrying `in_band` ones: those replace
    every held set of their kinds (new SPS, new PPS), the rest stay. Cameras repeat them before
    each keyframe, some twice over (the encoder's and the packetiser's), so each is kept once."""
    kinds = {nal_type(codec, nal) for nal in in_band}
    merged = [nal for nal in held if nal_type(codec, nal) not in kinds]
    merged.extend(in_band)
    return tuple(dict.fromkeys(merged))


# Access unit delimiters: H.264 type 9, H.265 type 35.
_DELIMITER = {"h264": 9, "h265": 35}


def is_delimiter(codec: Codec, nal: bytes) -> bool:
    return nal_type(codec, nal) == _DELIMITER[codec]


def split_annexb(data: bytes) -> list[bytes]:
    """The NAL units of an Annex-B byte stream, start codes removed."""
    return list(_iter_nals(data))


def _iter_nals(data: bytes) -> Iterator[bytes]:
    starts: list[tuple[int, int]] = []  # (start code position, payload position)
    i = data.find(b"\x00\x00\x01")
    while i != -1:
        begin = i - 1 if i > 0 and data[i - 1] == 0 else i
        starts.append((begin, i + 3))
        i = data.find(b"\x00\x00\x01", i + 3)
    for n, (_, payload) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(data)
        nal = data[payload:end].rstrip(b"\x00") if n + 1 == len(starts) else data[payload:end]
        if nal:
            yield nal
