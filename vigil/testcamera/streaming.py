"""The cameras' video on the air: loops loaded or encoded, streams paced, RTSP served.

Loops are shared: cameras with the same stream profile send the same encoded frames (each
stream with its own timeline, SSRC and sequence numbers), so 128 cameras cost one loop per
profile in memory, not 256; all cameras with a microphone share one sound loop.
"""

import asyncio
import logging
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from vigil.media import snapshot
from vigil.media.codecs import split_annexb
from vigil.media.rtsp.rtp import packetize
from vigil.media.rtsp.server import RtspServer
from vigil.ports import PortUnavailable
from vigil.testcamera.audio import encode as audio_encode
from vigil.testcamera.audio.signal import SAMPLE_RATE
from vigil.testcamera.camera import STREAM_NAMES, SimulatedCamera, StreamName
from vigil.testcamera.profiles import StreamProfile
from vigil.testcamera.rtsp import aac
from vigil.testcamera.rtsp.aac import AudioLoop
from vigil.testcamera.rtsp.audio_stream import LiveAudio
from vigil.testcamera.rtsp.auth import Authenticator
from vigil.testcamera.rtsp.mounts import Mount, Mounts
from vigil.testcamera.rtsp.stream import Encoded, LiveStream, Pacer
from vigil.testcamera.video.band import tint_of
from vigil.testcamera.video.bitstream import ParameterSets
from vigil.testcamera.video.caption import captioned
from vigil.testcamera.video.encode import load_or_encode

logger = logging.getLogger(__name__)


def _prepare(profile: StreamProfile, cache_dir: Path) -> Encoded:
    """Load (or encode) and packetise a loop; blocking, so run off the event loop."""
    frames = load_or_encode(profile, cache_dir).frames()
    caption = captioned(profile.codec, frames)
    frames = [
        b"".join(b"\x00\x00\x00\x01" + nal for nal in (*f.prefix, f.body)) for f in caption.frames
    ]
    parameters = ParameterSets.find(profile.codec, split_annexb(frames[0]))
    packetized = tuple(packetize(profile.codec, f) for f in frames)
    return Encoded(profile, packetized, parameters, caption)


def _prepare_audio(cache_dir: Path) -> AudioLoop:
    """Load (or encode) and packetise the sound loop; blocking, so run off the event loop."""
    encoded = audio_encode.load_or_encode(cache_dir)
    units = encoded.frames()
    return AudioLoop(
        aac.packetize(units),
        len(units),
        SAMPLE_RATE,
        audio_encode.FRAME_SAMPLES,
        encoded.config,
    )


def caption_text(camera: SimulatedCamera) -> Callable[[int], str]:
    """What the band of a camera's frames says: wall clock (UTC, ms), frame, the plate of a
    vehicle in view, PTZ (when the camera has a head), name; the most telling first, as narrow
    streams show only the start."""

    def text(frame_number: int) -> str:
        now = time.time()
        clock = time.strftime("%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}"
        plate = camera.plate_in_view
        seen = f"[{plate[0]}] " if plate is not None and time.monotonic() < plate[1] else ""
        head = ""
        if camera.ptz is not None:
            at = camera.ptz.position()
            head = f"P{at.pan:+.1f} T{at.tilt:+.1f} Z{at.zoom:.1f} "
        return f"{clock} #{frame_number % 1_000_000:06d} {seen}{head}{camera.identity.name}"

    return text


class StreamingService:
    def __init__(
        self,
        cameras: list[SimulatedCamera],
        *,
        host: str,
        rtsp_port: int,
        cache_dir: Path,
        user: str | None,
        password: str | None,
        caption: bool = True,
    ) -> None:
        self._cameras = cameras
        self._caption = caption
        self._cache_dir = cache_dir
        self._host = host
        self._rtsp_port = rtsp_port
        self._auth = Authenticator(user, password or "") if user else None
        self._encoded: dict[StreamProfile, asyncio.Future[Encoded]] = {}
        self._offline_until: dict[int, float] = {}
        self._streams: dict[tuple[int, StreamName], LiveStream] = {}
        self._pacer: Pacer | None = None
        self._mounts: dict[str, Mount] = {}
        self._server: RtspServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def encoded(self, profile: StreamProfile) -> Encoded:
        """The loop of `profile`, prepared once however many ask for it at the same time."""
        if profile not in self._encoded:
            self._encoded[profile] = asyncio.ensure_future(
                asyncio.to_thread(_prepare, profile, self._cache_dir)
            )
        try:
            return await asyncio.shield(self._encoded[profile])
        except Exception:
            self._encoded.pop(profile, None)  # let a later request try again
            raise

    def stream(self, camera: SimulatedCamera, name: StreamName) -> LiveStream:
        return self._streams[(camera.identity.index, name)]

    @property
    def rtsp(self) -> RtspServer:
        if self._server is None:
            raise RuntimeError("streaming has not started")
        return self._server

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._pacer = Pacer(loop.time)
        mounts: dict[str, Mount] = {}
        sound = None
        if any(camera.audio for camera in self._cameras):
            sound = await asyncio.to_thread(_prepare_audio, self._cache_dir)
        for camera in self._cameras:
            for name in STREAM_NAMES:
                encoded = await self.encoded(camera.streams[name])
                cname = f"{camera.identity.serial}-{name}"
                stream = LiveStream(encoded, cname, loop.time)
                stream.on_watched = self._pacer.watch
                if self._caption:
                    stream.caption_text = caption_text(camera)
                    stream.caption_tint = tint_of(camera.identity.index)
                    await asyncio.to_thread(encoded.caption.prepare, stream.caption_tint)
                self._streams[(camera.identity.index, name)] = stream
                audio = None
                if camera.audio and sound is not None:
                    # One CNAME for both tracks: how RTCP tells receivers to sync them.
                    audio = LiveAudio(sound, cname, loop.time)
                    audio.on_watched = self._pacer.watch
                mounts[camera.rtsp_path(name)] = Mount(
                    f"{camera.identity.name} {name}", stream, partial(self.online, camera), audio
                )
            camera.on_profile_change = self._profile_changer(camera)
        self._mounts = mounts
        self._server = RtspServer(
            self._host, self._rtsp_port, Mounts(mounts, self._auth), loop.time
        )
        await self._pacer.start()
        try:
            await self._server.start()
        except OSError as err:
            raise PortUnavailable(self._host, self._rtsp_port, "--rtsp-port", err) from err

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.stop()
        if self._pacer is not None:
            await self._pacer.stop()

    def online(self, camera: SimulatedCamera) -> bool:
        until = self._offline_until.get(camera.identity.index, 0.0)
        return asyncio.get_running_loop().time() >= until

    def go_offline(self, camera: SimulatedCamera, seconds: float) -> None:
        """Unplug the camera for `seconds`: its RTSP clients are cut and new ones unanswered."""
        self._offline_until[camera.identity.index] = asyncio.get_running_loop().time() + seconds
        self.drop_connections(camera)

    def drop_connections(self, camera: SimulatedCamera) -> int:
        return sum(
            self.rtsp.drop_connections(self._mounts[camera.rtsp_path(name)])
            for name in STREAM_NAMES
        )

    async def jpeg(self, camera: SimulatedCamera, stream: StreamName) -> bytes:
        """A snapshot: the stream's most recent keyframe, decoded (off the event loop)."""
        live = self.stream(camera, stream)
        encoded = live.encoded
        key = live.loop_position()
        while not encoded.frames[key].keyframe:
            key -= 1
        text = live.caption_text(live.frame_number())
        unit = encoded.caption.access_unit(key, text, live.caption_tint)
        return await asyncio.to_thread(snapshot.jpeg, encoded.profile.codec, [(unit, 0)])

    def _profile_changer(
        self, camera: SimulatedCamera
    ) -> Callable[[StreamName, StreamProfile], None]:
        """The camera's hook for SetVideoEncoderConfiguration: switch in the background."""

        def change(name: StreamName, profile: StreamProfile) -> None:
            task = asyncio.create_task(self.switch(camera, name, profile))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        return change

    async def switch(
        self, camera: SimulatedCamera, name: StreamName, profile: StreamProfile
    ) -> None:
        """Serve `profile` on the camera's stream once its loop is ready (encoded if new).

        The camera reports the new profile at once, as cameras do; if the loop cannot be
        made, it goes back to reporting the one it still serves.
        """
        stream = self.stream(camera, name)
        try:
            encoded = await self.encoded(profile)
        except Exception:
            logger.exception(
                "changing the stream profile failed",
                extra={"camera": camera.identity.name, "stream": name, "profile": str(profile)},
            )
            camera.streams[name] = stream.encoded.profile
            return
        codec_changed = encoded.profile.codec != stream.encoded.profile.codec
        stream.replace_encoded(encoded)
        if codec_changed:
            # As cameras do: the session's SDP no longer describes the stream, so its clients
            # are cut off and DESCRIBE it again.
            self.rtsp.drop_connections(self._mounts[camera.rtsp_path(name)])
        logger.info(
            "stream profile changed",
            extra={"camera": camera.identity.name, "stream": name, "profile": str(profile)},
        )
