"""The session description a DESCRIBE answers (RFC 4566), one video track."""

from vigil.testcamera.rtsp.messages import TRACK
from vigil.testcamera.rtsp.rtp import CLOCK_RATE, PAYLOAD_TYPE
from vigil.testcamera.rtsp.stream import Encoded


def describe(encoded: Encoded, title: str, host: str, session_id: int) -> str:
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
        f"a=control:{TRACK}",
    ]
    return "\r\n".join(lines) + "\r\n"
