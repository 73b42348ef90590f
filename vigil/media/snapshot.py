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

from vigil.cameras.models import StreamName
from vigil.errors import NotFound, VigilError
from vigil.media.archive.cursor import Cursor
from vigil.media.archive.reader import Chunk
from vigil.media.archive.timeline import JOIN_MS
from vigil.media.codecs import Codec
from vigil.media.frames import Frame
from vigil.media.live import StreamNow

MAX_DECODES = 2
# How far past the time asked for a picture showing at it may come, with B-frames: they come
# after the pictures they depend on, which show later.
REORDER_MS = 1_000
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
        cursor: Callable[[str, StreamName], Cursor],
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
            return await asyncio.to_thread(_still, frames, width, time_ms)

    async def live(self, camera_id: str, stream: StreamName, width: int | None) -> bytes:
        """The stream's latest picture, as JPEG at most `width` wide."""
        async with self._decoding:
            now = self._stream_now(camera_id, stream)
            if now.gone is not None:
                raise NotFound(now.gone)
            gop = await now.hub.gop_now() if now.hub is not None else ()
            frames = [f for f in gop if type(f) is Frame]
            if not now.online or not frames:
                raise NoLivePicture(f"the stream has no picture now: {now.reason or 'offline'}")
            return await asyncio.to_thread(_still, frames, width)


async def _frames_until(cursor: Cursor, time_ms: int) -> list[Frame]:
    """The frames from the last keyframe at or before `time_ms` to the picture showing at it
    (and, with B-frames, those that come after it but show before it)."""
    landed = await cursor.seek(time_ms)
    if landed is None or landed > time_ms:
        raise NoRecording("nothing was recorded at time_ms", field="time_ms")
    frames: list[Frame] = []
    end_ms = landed
    reach_ms = time_ms
    while isinstance(item := await cursor.next(), Chunk):
        if item.keyframe and item.start_ms <= time_ms:
            frames = []  # a later keyframe: decoding can start there
        if any(f.offset_ms for f in item.frames):
            reach_ms = time_ms + REORDER_MS
        frames += [f for f in item.frames if f.time_ms <= reach_ms]
        end_ms = item.end_ms
        if end_ms > reach_ms:
            break
    else:
        # The recording stops before `time_ms`. Its last picture shows on until a frame's
        # gap later when a gap follows; at the end of the archive more may yet be written.
        if item is None or time_ms >= end_ms + JOIN_MS:
            frames = []
    if not frames:  # also when the file at `time_ms` could not be read
        raise NoRecording("nothing was recorded at time_ms", field="time_ms")
    return frames


def _still(frames: Sequence[Frame], width: int | None, time_ms: int | None = None) -> bytes:
    """Blocking: the picture of `frames` (which start at a keyframe) showing at `time_ms`, or
    the last one shown, as JPEG."""
    shown = [frame.presentation_ms for frame in frames]
    return jpeg(frames[0].config.codec, zip(_access_units(frames), shown, strict=True), width,
                time_ms)  # fmt: skip


def _access_units(frames: Sequence[Frame]) -> Iterator[bytes]:
    """Annex B, the parameter sets in band wherever they change (and first)."""
    config = None
    for frame in frames:
        nals = frame.nals
        if frame.config is not config:
            config = frame.config
            nals = config.parameter_sets + nals
        yield b"".join(_START_CODE + nal for nal in nals)


def jpeg(
    codec: Codec,
    access_units: Iterable[tuple[bytes, int]],
    width: int | None = None,
    time_ms: int | None = None,
) -> bytes:
    """Blocking: the picture of `access_units` (Annex B, from a keyframe with its parameter
    sets, each with its presentation time) showing at `time_ms`, or the last one shown,
    decoded, scaled down to `width` if it is wider (keeping its aspect), and encoded as
    JPEG."""
    import av  # here: a server that never makes a snapshot does without its 22 MB

    decoder = av.CodecContext.create(_DECODERS[codec], "r")
    if not isinstance(decoder, av.VideoCodecContext):
        raise TypeError(f"the {codec} decoder is not a video decoder")
    picture: av.VideoFrame | None = None
    # Decoders hand pictures out in presentation order, each with its packet's time.
    for unit, shown_ms in [*access_units, (None, None)]:
        packet = None if unit is None else av.Packet(unit)
        if packet is not None:
            packet.pts = shown_ms
        for frame in decoder.decode(packet):
            if picture is None or time_ms is None or (frame.pts or 0) <= time_ms:
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
