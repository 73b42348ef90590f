"""Pure byte parsing of H.264 / H.265 Annex-B elementary streams; no framework imports."""

from dataclasses import dataclass

from vigil.media.codecs import Codec, nal_type

# H.264: 7 = SPS, 8 = PPS. H.265: 32 = VPS, 33 = SPS, 34 = PPS.
_PARAMETER_SETS = {"h264": (7, 8), "h265": (32, 33, 34)}


@dataclass(frozen=True)
class ParameterSets:
    """SPS/PPS (and VPS for H.265), which the SDP of a stream announces."""

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

    @property
    def in_order(self) -> tuple[bytes, ...]:
        """As SDP lists them: SPS, PPS (H.264); VPS, SPS, PPS (H.265)."""
        return (self.sps, self.pps) if self.vps is None else (self.vps, self.sps, self.pps)
