"""The session description a DESCRIBE answers (RFC 4566): a video track and, with sound, an
AAC track; track 0 and track 1 as `messages.track_control` names them."""

from dataclasses import dataclass

from vigil.media.codecs import Codec
from vigil.media.rtsp import rtp
from vigil.media.rtsp.messages import track_control


@dataclass(frozen=True)
class VideoTrack:
    codec: Codec
    parameter_sets: tuple[bytes, ...]  # as `rtp.video_fmtp` takes them
    width: int
    height: int
    fps: int | None = None
    bitrate_kbps: int | None = None


@dataclass(frozen=True)
class AudioTrack:
    sample_rate: int  # also the RTP clock rate
    channels: int
    specific_config: bytes
    bitrate_kbps: int | None = None


def describe(
    title: str,
    host: str,
    session_id: int,
    video: VideoTrack,
    audio: AudioTrack | None = None,
    npt_range: str = "now-",
) -> str:
    encoding = "H264" if video.codec == "h264" else "H265"
    pt = rtp.PAYLOAD_TYPE
    lines = [
        "v=0",
        f"o=- {session_id} 1 IN IP4 {host}",
        f"s={title}",
        "c=IN IP4 0.0.0.0",
        "t=0 0",
        "a=control:*",
        f"a=range:npt={npt_range}",
        f"m=video 0 RTP/AVP {pt}",
        *([f"b=AS:{video.bitrate_kbps}"] if video.bitrate_kbps else []),
        f"a=rtpmap:{pt} {encoding}/{rtp.CLOCK_RATE}",
        f"a=fmtp:{pt} {rtp.video_fmtp(video.codec, video.parameter_sets)}",
        *([f"a=framerate:{video.fps}"] if video.fps else []),
        f"a=x-dimensions:{video.width},{video.height}",
        f"a=control:{track_control(0)}",
    ]
    if audio is not None:
        pt = rtp.AAC_PAYLOAD_TYPE
        lines += [
            f"m=audio 0 RTP/AVP {pt}",
            *([f"b=AS:{audio.bitrate_kbps}"] if audio.bitrate_kbps else []),
            f"a=rtpmap:{pt} MPEG4-GENERIC/{audio.sample_rate}/{audio.channels}",
            f"a=fmtp:{pt} {rtp.aac_fmtp(audio.specific_config)}",
            f"a=control:{track_control(1)}",
        ]
    return "\r\n".join(lines) + "\r\n"
