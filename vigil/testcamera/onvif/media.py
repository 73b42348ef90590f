"""ONVIF Media service: the main and sub profiles, their stream and snapshot URIs and encoders.

Profile `main` and `sub` carry the stream of the same name; each has one video encoder
configuration (`encoder_main`, `encoder_sub`) that SetVideoEncoderConfiguration changes, which
changes what the camera serves.
"""

from collections.abc import Mapping

from vigil.media.codecs import Codec
from vigil.testcamera.camera import STREAM_NAMES, SimulatedCamera, StreamName
from vigil.testcamera.onvif.ptz import ptz_configuration
from vigil.testcamera.onvif.service import Operation
from vigil.testcamera.onvif.soap import invalid_argument, sender_fault
from vigil.testcamera.onvif.xmltree import Element, el, find, text
from vigil.testcamera.profiles import StreamProfile

VIDEO_SOURCE_TOKEN = "video_source"  # noqa: S105 (a reference token, not a secret)
_ENCODER_PREFIX = "encoder_"
# Media (version 1) names H.264 only among the codecs we serve; cameras that stream H.265 put
# "H265" in the same field, and clients read it that way.
_ENCODINGS: dict[Codec, str] = {"h264": "H264", "h265": "H265"}
_CODECS = {name: codec for codec, name in _ENCODINGS.items()}


def encoder_token(stream: StreamName) -> str:
    return f"{_ENCODER_PREFIX}{stream}"


class MediaService:
    def __init__(self, camera: SimulatedCamera) -> None:
        self._camera = camera

    def operations(self) -> Mapping[str, Operation]:
        return {
            "GetProfiles": self.get_profiles,
            "GetProfile": self.get_profile,
            "GetStreamUri": self.get_stream_uri,
            "GetSnapshotUri": self.get_snapshot_uri,
            "GetVideoEncoderConfigurations": self.get_video_encoder_configurations,
            "GetVideoEncoderConfiguration": self.get_video_encoder_configuration,
            "SetVideoEncoderConfiguration": self.set_video_encoder_configuration,
        }

    async def get_profiles(self, request: Element) -> Element:
        return el(
            "trt:GetProfilesResponse",
            *(self._profile("trt:Profiles", stream) for stream in STREAM_NAMES),
        )

    async def get_profile(self, request: Element) -> Element:
        stream = self._stream_of_profile(request)
        return el("trt:GetProfileResponse", self._profile("trt:Profile", stream))

    async def get_stream_uri(self, request: Element) -> Element:
        stream = self._stream_of_profile(request)
        transport = text(request, "trt:StreamSetup/tt:Transport/tt:Protocol") or "RTSP"
        if transport not in ("RTSP", "TCP", "UDP"):
            raise invalid_argument(f"transport {transport} is not offered; use RTSP")
        return el("trt:GetStreamUriResponse", _media_uri(self._camera.rtsp_url(stream)))

    async def get_snapshot_uri(self, request: Element) -> Element:
        stream = self._stream_of_profile(request)
        return el("trt:GetSnapshotUriResponse", _media_uri(self._camera.snapshot_url(stream)))

    async def get_video_encoder_configurations(self, request: Element) -> Element:
        return el(
            "trt:GetVideoEncoderConfigurationsResponse",
            *(self._encoder("trt:Configurations", stream) for stream in STREAM_NAMES),
        )

    async def get_video_encoder_configuration(self, request: Element) -> Element:
        stream = self._stream_of_encoder(text(request, "trt:ConfigurationToken"))
        return el(
            "trt:GetVideoEncoderConfigurationResponse",
            self._encoder("trt:Configuration", stream),
        )

    async def set_video_encoder_configuration(self, request: Element) -> Element:
        configuration = find(request, "trt:Configuration")
        if configuration is None:
            raise invalid_argument("Configuration is missing")
        stream = self._stream_of_encoder(configuration.get("token"))
        self._camera.change_profile(stream, _changed(self._camera.streams[stream], configuration))
        return el("trt:SetVideoEncoderConfigurationResponse")

    def _profile(self, tag: str, stream: StreamName) -> Element:
        # The sensor's size is the main stream's; the sub stream is scaled down from it.
        source = self._camera.streams["main"]
        return el(
            tag,
            el("tt:Name", stream),
            el(
                "tt:VideoSourceConfiguration",
                el("tt:Name", "Video source"),
                el("tt:UseCount", str(len(STREAM_NAMES))),
                el("tt:SourceToken", VIDEO_SOURCE_TOKEN),
                el(
                    "tt:Bounds",
                    x="0",
                    y="0",
                    width=str(source.width),
                    height=str(source.height),
                ),
                token=VIDEO_SOURCE_TOKEN,
            ),
            self._encoder("tt:VideoEncoderConfiguration", stream),
            ptz_configuration("tt:PTZConfiguration") if self._camera.ptz is not None else None,
            token=stream,
            fixed="true",
        )

    def _encoder(self, tag: str, stream: StreamName) -> Element:
        profile = self._camera.streams[stream]
        encoding = _ENCODINGS[profile.codec]
        return el(
            tag,
            el("tt:Name", f"{stream} encoder"),
            el("tt:UseCount", "1"),
            el("tt:Encoding", encoding),
            el(
                "tt:Resolution",
                el("tt:Width", str(profile.width)),
                el("tt:Height", str(profile.height)),
            ),
            el("tt:Quality", "5"),
            el(
                "tt:RateControl",
                el("tt:FrameRateLimit", str(profile.fps)),
                el("tt:EncodingInterval", "1"),
                el("tt:BitrateLimit", str(profile.bitrate_kbps)),
            ),
            el("tt:H264", el("tt:GovLength", str(profile.gop)), el("tt:H264Profile", "Main")),
            el(
                "tt:Multicast",
                el("tt:Address", el("tt:Type", "IPv4"), el("tt:IPv4Address", "0.0.0.0")),  # noqa: S104
                el("tt:Port", "0"),
                el("tt:TTL", "1"),
                el("tt:AutoStart", "false"),
            ),
            el("tt:SessionTimeout", "PT60S"),
            token=encoder_token(stream),
        )

    def _stream_of_profile(self, request: Element) -> StreamName:
        token = text(request, "trt:ProfileToken")
        for stream in STREAM_NAMES:
            if token == stream:
                return stream
        raise sender_fault("ter:InvalidArgVal/ter:NoProfile", f"no profile {token!r}")

    def _stream_of_encoder(self, token: str | None) -> StreamName:
        for stream in STREAM_NAMES:
            if token == encoder_token(stream):
                return stream
        raise sender_fault("ter:InvalidArgVal/ter:NoConfig", f"no encoder configuration {token!r}")


def _media_uri(uri: str) -> Element:
    return el(
        "trt:MediaUri",
        el("tt:Uri", uri),
        el("tt:InvalidAfterConnect", "false"),
        el("tt:InvalidAfterReboot", "false"),
        el("tt:Timeout", "PT0S"),
    )


def _changed(current: StreamProfile, configuration: Element) -> StreamProfile:
    """The stream profile that `configuration` asks for; absent fields keep their value."""
    encoding = text(configuration, "tt:Encoding") or _ENCODINGS[current.codec]
    codec = _CODECS.get(encoding)
    if codec is None:
        raise invalid_argument(f"encoding {encoding} is not offered; use H264 or H265")
    fields = {
        "width": text(configuration, "tt:Resolution/tt:Width") or str(current.width),
        "height": text(configuration, "tt:Resolution/tt:Height") or str(current.height),
        "fps": text(configuration, "tt:RateControl/tt:FrameRateLimit") or str(current.fps),
        "bitrate": text(configuration, "tt:RateControl/tt:BitrateLimit")
        or str(current.bitrate_kbps),
        "gop": text(configuration, "tt:H264/tt:GovLength") or str(current.gop),
    }
    if not all(value.isdigit() for value in fields.values()):
        raise invalid_argument("resolution, frame rate, bitrate and GOP must be whole numbers")
    try:
        return StreamProfile.parse(
            f"{fields['width']}x{fields['height']}@{fields['fps']}:{fields['bitrate']}k",
            codec=codec,
            gop=int(fields["gop"]),
        )
    except ValueError as err:
        raise sender_fault("ter:InvalidArgVal/ter:ConfigModify", str(err)) from err
