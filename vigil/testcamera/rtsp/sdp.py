"""The session description a DESCRIBE answers (RFC 4566): the video track, and the sound's."""

from vigil.testcamera.audio.encode import BIT_RATE
from vigil.testcamera.rtsp import aac
from vigil.testcamera.rtsp.aac import AudioLoop
from vigil.testcamera.rtsp.messages import track_control
from vigil.testcamera.rtsp.rtp import CLOCK_RATE, PAYLOAD_TYPE
from vigil.testcamera.rtsp.stream import Encoded


def describe(
    encoded: Encoded, title: str, host: str, session_id: int, audio: AudioLoop | None = None
) -> str:
    profile = encoded.profile
    encoding = "H264" if profile.codec == "h264" else "H265"
    lines = [
        "v=0",
        f"o=- {session_id} 1 IN IP4 {host}",
        f"s={title}",
        "c=IN IP4 0.0.0.0",
        "t=0 0",
        "a=control:*",
        "a=range:npt=now-",
        f"m=video 0 RTP/AVP {PAYLOAD_TYPE}",
        f"b=AS:{profile.bitrate_kbps}",
        f"a=rtpmap:{PAYLOAD_TYPE} {encoding}/{CLOCK_RATE}",
        f"a=fmtp:{PAYLOAD_TYPE} {encoded.parameters.fmtp()}",
        f"a=framerate:{profile.fps}",
        f"a=x-dimensions:{profile.width},{profile.height}",
        f"a=control:{track_control(0)}",
    ]
    if audio is not None:
        lines += [
            f"m=audio 0 RTP/AVP {aac.PAYLOAD_TYPE}",
            f"b=AS:{BIT_RATE // 1000}",
            f"a=rtpmap:{aac.PAYLOAD_TYPE} MPEG4-GENERIC/{audio.sample_rate}/1",  # mono
            f"a=fmtp:{aac.PAYLOAD_TYPE} {audio.fmtp()}",
            f"a=control:{track_control(1)}",
        ]
    return "\r\n".join(lines) + "\r\n"
