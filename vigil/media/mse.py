"""The MIME type of our fMP4 as Media Source Extensions want it: `video/mp4; codecs="…"`.

A browser decides from this string alone whether it can play a stream
(`MediaSource.isTypeSupported`), so each codec is named with its profile and level as RFC
6381 and ISO/IEC 14496-15 Annex E spell them, read from the parameter sets we send in the
init segment (the two always agree).
"""

from vigil.media import aac
from vigil.media.codecs import nal_type
from vigil.media.frames import AudioConfig, StreamConfig
from vigil.media.sps import h265_profile_tier_level

_PROFILE_SPACES = ("", "A", "B", "C")


def video_codec(config: StreamConfig) -> str:
    """`avc1.PPCCLL` (profile, constraint flags, level of the SPS) or `hvc1.…` for H.265."""
    sps_type = 7 if config.codec == "h264" else 33
    sps = next(n for n in config.parameter_sets if nal_type(config.codec, n) == sps_type)
    if config.codec == "h264":
        return f"avc1.{sps[1:4].hex()}"
    return _hvc1(h265_profile_tier_level(sps))


def _hvc1(general: bytes) -> str:
    """hvc1.[space]profile.compatibility.tier+level[.constraint bytes] (Annex E.3): the
    compatibility flags bit-reversed in hex, trailing zero constraint bytes left out."""
    space, tier, profile = general[0] >> 6, (general[0] >> 5) & 1, general[0] & 0x1F
    flags = int.from_bytes(general[1:5], "big")
    reversed_flags = int(f"{flags:032b}"[::-1], 2)
    constraints = general[5:11].rstrip(b"\x00")
    parts = [
        "hvc1",
        f"{_PROFILE_SPACES[space]}{profile}",
        f"{reversed_flags:X}",
        f"{'H' if tier else 'L'}{general[11]}",
        *(f"{byte:X}" for byte in constraints),
    ]
    return ".".join(parts)


def audio_codec(config: AudioConfig) -> str:
    """`mp4a.40.N`: MPEG-4 audio (object type indication 0x40), N its audio object type."""
    return f"mp4a.40.{aac.object_type(config.specific_config)}"


def mime_type(video: StreamConfig, audio: AudioConfig | None) -> str:
    codecs = [video_codec(video)] + ([audio_codec(audio)] if audio is not None else [])
    return f'video/mp4; codecs="{",".join(codecs)}"'
