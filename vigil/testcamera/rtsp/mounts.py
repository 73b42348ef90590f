"""What the test cameras' RTSP server serves: a fixed path per camera stream, the same
broadcast for every client, behind the cameras' user name and password if they have one."""

from collections.abc import Callable
from dataclasses import dataclass

from vigil.media.rtsp.describe import AudioTrack, VideoTrack, describe
from vigil.media.rtsp.messages import Request, Response
from vigil.media.rtsp.server import Connection
from vigil.testcamera.audio.encode import BIT_RATE
from vigil.testcamera.rtsp.audio_stream import LiveAudio
from vigil.testcamera.rtsp.auth import Authenticator
from vigil.testcamera.rtsp.stream import LiveStream, OnAir


@dataclass(eq=False)
class Mount:
    """What one path serves: video (track 0) and, from a camera with a microphone, sound
    (track 1)."""

    title: str
    stream: LiveStream
    online: Callable[[], bool] = lambda: True
    audio: LiveAudio | None = None

    def track(self, index: int) -> OnAir | None:
        if index == 0:
            return self.stream
        return self.audio if index == 1 else None

    async def seek(self, npt_s: float) -> float | None:
        return None  # a camera is live

    async def describe(self, host: str, session_tag: int) -> Response:
        encoded = self.stream.encoded
        profile = encoded.profile
        video = VideoTrack(
            profile.codec,
            encoded.parameters.in_order,
            profile.width,
            profile.height,
            profile.fps,
            profile.bitrate_kbps,
        )
        loop = self.audio.loop if self.audio is not None else None
        audio = (
            AudioTrack(loop.sample_rate, 1, loop.specific_config, BIT_RATE // 1000)
            if loop is not None
            else None
        )
        sdp = describe(self.title, host, session_tag, video, audio)
        return Response(200, [("Content-Type", "application/sdp")], sdp.encode())


class Mounts:
    """The server's catalog: the cameras' paths."""

    def __init__(self, mounts: dict[str, Mount], auth: Authenticator | None) -> None:
        self._mounts = mounts
        self._auth = auth

    def answers(self, request: Request) -> bool:
        mount = self._mounts.get(request.path)
        return mount is None or mount.online()  # an unplugged camera answers nothing

    async def resolve(self, request: Request, connection: Connection) -> Mount | Response:
        if self._auth is not None and not self._auth.check(
            request.method, request.headers.get("authorization")
        ):
            return Response(401, [("WWW-Authenticate", c) for c in self._auth.challenges()])
        return self._mounts.get(request.path) or Response(404)

    async def closed(self, connection: Connection) -> None:
        pass
