"""Reading a camera's session description (RFC 4566) for what ingest needs: its tracks."""

import base64
import binascii
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urljoin

from vigil.media.aac import AacParameters
from vigil.media.codecs import Codec

# RTP encoding names as SDP spells them → our codec names.
VIDEO_CODECS: dict[str, Codec] = {"H264": "h264", "H265": "h265"}


class SdpError(ValueError):
    """The description has no track we can use."""


@dataclass(frozen=True)
class Track:
    media: str  # "video", "audio", ...
    payload_type: int
    encoding: str  # as in a=rtpmap, upper-cased: "H264", "H265", "PCMU", "MPEG4-GENERIC"
    clock_rate: int
    control: str  # the URL to SETUP
    fmtp: dict[str, str] = field(default_factory=dict)

    @property
    def codec(self) -> Codec | None:
        return VIDEO_CODECS.get(self.encoding)

    @property
    def audio_codec(self) -> Literal["aac"] | None:
        """AAC (RFC 3640) is the one audio codec recorded; G.711 and others are ignored."""
        return "aac" if self.media == "audio" and self.encoding == "MPEG4-GENERIC" else None

    def aac_parameters(self) -> AacParameters:
        """The AU header sizes and AudioSpecificConfig of an AAC track (aac.AacError if the
        camera's are unusable)."""
        return AacParameters.from_fmtp(self.fmtp)

    def parameter_sets(self) -> list[bytes]:
        """The NAL units of sprop-parameter-sets (H.264) or sprop-vps/sps/pps (H.265)."""
        names = ("sprop-parameter-sets",) if self.codec == "h264" else ("sprop-vps", "sprop-sps",
                                                                        "sprop-pps")  # fmt: skip
        units = []
        for name in names:
            for part in self.fmtp.get(name, "").split(","):
                if part:
                    try:
                        units.append(base64.b64decode(part, validate=True))
                    except (binascii.Error, ValueError):
                        continue  # a camera's broken hint; in-band parameter sets still work
        return units


def parse_tracks(text: str, base_url: str) -> list[Track]:
    """The media sections of `text`; `base_url` (Content-Base, or the DESCRIBE URL) resolves
    relative control URLs."""
    base = base_url if base_url.endswith("/") else base_url + "/"
    session_control = None
    sections: list[list[str]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("m="):
            sections.append([line])
        elif sections:
            sections[-1].append(line)
        elif line.startswith("a=control:"):
            session_control = line.removeprefix("a=control:")
    if session_control not in (None, "*"):
        base = _resolve(base, session_control)
        base = base if base.endswith("/") else base + "/"
    return [t for t in (_track(section, base) for section in sections) if t is not None]


def _track(lines: list[str], base: str) -> Track | None:
    media_fields = lines[0].removeprefix("m=").split()
    if len(media_fields) < 4 or not media_fields[3].isdigit():
        return None
    payload_type = int(media_fields[3])
    encoding, clock_rate, control = "", 90_000, base.rstrip("/")
    fmtp: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name == "a=rtpmap" and value.startswith(f"{payload_type} "):
            coding = value.split(" ", 1)[1].split("/")
            encoding = coding[0].upper()
            if len(coding) > 1 and coding[1].isdigit():
                clock_rate = int(coding[1])
        elif name == "a=fmtp" and value.startswith(f"{payload_type} "):
            for item in value.split(" ", 1)[1].split(";"):
                key, _, item_value = item.strip().partition("=")
                if key:
                    fmtp[key.lower()] = item_value
        elif name == "a=control":
            control = _resolve(base, value)
    return Track(media_fields[0], payload_type, encoding, clock_rate, control, fmtp)


def _resolve(base: str, control: str) -> str:
    if control == "*":
        return base.rstrip("/")
    if "://" in control:
        return control
    return urljoin(base, control)
