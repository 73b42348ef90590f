"""Still pictures for previews: the picture of a stream at a recorded time, or now, as JPEG.

The one place besides analytics where video is decoded: from the keyframe at or before the
time (the archive cursor lands there; live, the hub keeps the last GOP) up to the picture
showing at it, then scaled and encoded. Decoding is blocking and costly, so it runs in
threads, and at most `MAX_DECODES` at once: 64 tiles asking together wait their turn rather
than take every core; the frames of a request are read only when its turn comes, so those
waiting hold no video.
"""

import asyncio
from collections.abc import Callable, Iterable, Iterator, Sequence
from fractions import Fraction

import av

from vigil.cameras.models import StreamName
from vigil.errors import NotFound, VigilError
from vigil.media.archive.cursor import ArchiveCursor
from vigil.media.archive.reader import Chunk
from vigil.media.archive.timeline import JOIN_MS
from vigil.media.codecs import Codec
from vigil.media.frames import Frame
from vigil.media.live import StreamNow

MAX_DECODES = 2
_DECODERS = {"h264": "h264", "h265": "hevc"}
_START_CODE = b"\x00\x00\x00\x01"


class NoRecording(VigilError):
    """Nothing of the stream was recorded at the time asked for."""

    code = "no_recording"


class NoLivePicture(VigilError):
    """The stream has no picture now (offline, connecting): there is nothing to show."""

    code = "no_live_picture"


class UndecodablePicture(VigilError):
    """The frames were there, but the decoder made no picture of them."""

    code = "undecodable_picture"


class Snapshots:
    def __init__(
        self,
        cursor: Callable[[str, StreamName], ArchiveCursor],
        stream_now: Callable[[str, StreamName], StreamNow],
    ) -> None:
        self._cursor = cursor
        self._stream_now = stream_now
        self._decoding = asyncio.Semaphore(MAX_DECODES)

    async def recorded(
        self, camera_id: str, stream: StreamName, time_ms: int, width: int | None
    ) -> bytes:
        """The recorded picture showing at `time_ms`, as JPEG at most `width` wide."""
        async with self._decoding:
            frames = await _frames_until(self._cursor(camera_id, stream), time_ms)
            return await asyncio.to_thread(_still, frames, width)

    async def live(self, camera_id: str, stream: StreamName, width: int | None) -> bytes:
        """The stream's latest picture, as JPEG at most `width` wide."""
        async with self._decoding:
            now = self._stream_now(camera_id, stream)
            if now.gone is not None:
                raise NotFound(now.gone)
            frames = [f for f in now.hub.last_gop if type(f) is Frame] if now.hub else []
            if not now.online or not frames:
                raise NoLivePicture(f"the stream has no picture now: {now.reason or 'offline'}")
            return await asyncio.to_thread(_still, frames, width)


async def _frames_until(cursor: ArchiveCursor, time_ms: int) -> list[Frame]:
    """The frames from the last keyframe at or before `time_ms` to the picture showing at it."""
    landed = await cursor.seek(time_ms)
    if landed is None or landed > time_ms:
        raise NoRecording("nothing was recorded at time_ms", field="time_ms")
    frames: list[Frame] = []
    end_ms = landed
    while isinstance(item := await cursor.next(), Chunk):
        if item.keyframe and item.start_ms <= time_ms:
            frames = []  # a later keyframe: decoding can start there
        frames += [f for f in item.frames if f.time_ms <= time_ms]
        end_ms = item.end_ms
        if end_ms > time_ms:
            break
    else:
        # The recording stops before `time_ms`. Its last picture shows on until a frame's
        # gap later when a gap follows; at the end of the archive more may yet be written.
        if item is None or time_ms >= end_ms + JOIN_MS:
            frames = []
    if not frames:  # also when the file at `time_ms` could not be read
        raise NoRecording("nothing was recorded at time_ms", field="time_ms")
    return frames


def _still(frames: Sequence[Frame], width: int | None) -> bytes:
    """Blocking: the last of `frames` (which start at a keyframe) as JPEG."""
    return jpeg(frames[0].config.codec, _access_units(frames), width)


def _access_units(frames: Sequence[Frame]) -> Iterator[bytes]:
    """Annex B, the parameter sets in band wherever they change (and first)."""
    config = None
    for frame in frames:
        nals = frame.nals
        if frame.config is not config:
            config = frame.config
            nals = config.parameter_sets + nals
        yield b"".join(_START_CODE + nal for nal in nals)


def jpeg(codec: Codec, access_units: Iterable[bytes], width: int | None = None) -> bytes:
    """Blocking: the last picture of `access_units` (Annex B, from a keyframe with its
    parameter sets), decoded, scaled down to `width` if it is wider (keeping its aspect),
    and encoded as JPEG."""
    decoder = av.CodecContext.create(_DECODERS[codec], "r")
    if not isinstance(decoder, av.VideoCodecContext):
        raise TypeError(f"the {codec} decoder is not a video decoder")
    picture: av.VideoFrame | None = None
    # Decoders hand pictures out in presentation order: the last out is the last shown.
    for unit in [*access_units, None]:
        for frame in decoder.decode(None if unit is None else av.Packet(unit)):
            picture = frame
    if picture is None:
        raise UndecodablePicture("the frames could not be decoded")
    size = (picture.width, picture.height)
    if width is not None and width < picture.width:
        # Even, as 4:2:0 pictures must be.
        size = (width, max(2, round(picture.height * width / picture.width / 2) * 2))
    encoder = av.CodecContext.create("mjpeg", "w")
    if not isinstance(encoder, av.VideoCodecContext):
        raise TypeError("the mjpeg encoder is not a video encoder")
    encoder.width, encoder.height = size
    encoder.pix_fmt = "yuvj420p"
    encoder.time_base = Fraction(1, 25)  # one picture: any time base will do
    encoder.options = {"qmin": "2", "qmax": "6"}
    scaled = picture.reformat(width=size[0], height=size[1], format="yuvj420p",
                              interpolation="AREA")  # fmt: skip
    packets = encoder.encode(scaled) + encoder.encode(None)
    return b"".join(bytes(p) for p in packets)
