"""Pure byte parsing of H.264 / H.265 Annex-B elementary streams; no framework imports."""

import base64
from collections.abc import Iterator
from dataclasses import dataclass

from vigil.media.codecs import Codec, nal_type


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


# H.264: 5 = IDR slice, 7 = SPS, 8 = PPS, 9 = access unit delimiter.
# H.265: 16..21 = IRAP slices, 32 = VPS, 33 = SPS, 34 = PPS, 35 = access unit delimiter.
_PARAMETER_SETS = {"h264": (7, 8), "h265": (32, 33, 34)}
_DELIMITER = {"h264": 9, "h265": 35}


def is_delimiter(codec: Codec, nal: bytes) -> bool:
    return nal_type(codec, nal) == _DELIMITER[codec]


@dataclass(frozen=True)
class ParameterSets:
    """SPS/PPS (and VPS for H.265) as the SDP of a stream announces them."""

    codec: Codec
    vps: bytes | None
    sps: bytes
    pps: bytes

    @classmethod
    def find(cls, codec: Codec, nals: list[bytes]) -> "ParameterSets":
        found: dict[int, bytes] = {}
        for nal in nals:
            kind = nal_type(codec, nal)
            if kind in _PARAMETER_SETS[codec]:
                found.setdefault(kind, nal)
        if codec == "h264":
            if 7 not in found or 8 not in found:
                raise ValueError("the H.264 stream has no SPS/PPS")
            return cls(codec, None, found[7], found[8])
        if not {32, 33, 34} <= found.keys():
            raise ValueError("the H.265 stream has no VPS/SPS/PPS")
        return cls(codec, found[32], found[33], found[34])

    def fmtp(self) -> str:
        """The SDP `a=fmtp` parameters (RFC 6184 §8.1, RFC 7798 §7.1)."""

        def b64(nal: bytes) -> str:
            return base64.b64encode(nal).decode()

        if self.codec == "h264":
            return (
                f"packetization-mode=1;profile-level-id={self.sps[1:4].hex()};"
                f"sprop-parameter-sets={b64(self.sps)},{b64(self.pps)}"
            )
        vps = self.vps or b""
        return f"sprop-vps={b64(vps)};sprop-sps={b64(self.sps)};sprop-pps={b64(self.pps)}"
