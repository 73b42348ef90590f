"""Reading recorded frames back out of our fMP4 files, for playback, export and RTSP.

The inverse of `vigil.media.mp4`: the init segment gives the tracks (the decoder config of
the picture, and of the sound if any), and a fragment, found by the seek table, gives its
frames on the server's clock again (the file's start, from its name, plus the track time).
Only the boxes our writer makes are understood. Blocking: it runs in the storage's threads.
"""

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from vigil.media import aac, sps
from vigil.media.archive.boxes import Run, children
from vigil.media.archive.boxes import runs as read_runs
from vigil.media.archive.scan import FragmentInfo
from vigil.media.codecs import Codec, nal_type
from vigil.media.frames import AudioConfig, AudioFrame, Frame, StreamConfig
from vigil.media.mp4 import AUDIO_TRACK, TICKS_PER_MS, VIDEO_TRACK

_MAX_INIT_BYTES = 1024 * 1024
_SAMPLE_ENTRY_FIELDS = 78  # a visual sample entry's fields before its child boxes
_AUDIO_ENTRY_FIELDS = 28


class UnreadableRecording(ValueError):
    """The file is not one our writer made, or is damaged where it matters."""


@dataclass(frozen=True)
class Tracks:
    video: StreamConfig
    audio: AudioConfig | None


@dataclass(frozen=True)
class Chunk:
    """One recorded fragment's frames, on the server's clock."""

    frames: list[Frame]
    sound: list[AudioFrame]
    start_ms: int
    end_ms: int
    audio: AudioConfig | None  # the file's sound track (None: it has none)

    @property
    def keyframe(self) -> bool:
        return bool(self.frames) and self.frames[0].keyframe


def read_tracks(path: Path) -> Tracks:
    moov = _moov(path)
    if moov is None:
        raise UnreadableRecording(f"{path.name}: no init segment")
    video: StreamConfig | None = None
    audio: AudioConfig | None = None
    try:
        for kind, trak in children(moov):
            if kind != b"trak":
                continue
            entry_kind, entry = _sample_entry(trak)
            if entry_kind in (b"avc1", b"hvc1"):
                video = _video_config(entry_kind, entry)
            elif entry_kind == b"mp4a":
                audio = _audio_config(entry)
    except (IndexError, struct.error, ValueError) as err:
        raise UnreadableRecording(f"{path.name}: {err}") from err
    if video is None:
        raise UnreadableRecording(f"{path.name}: no video track")
    return Tracks(video, audio)


def _moov(path: Path) -> bytes | None:
    """The moov box's body: the top-level boxes before it are passed over by their headers."""
    with path.open("rb") as file:
        while len(header := file.read(8)) == 8:
            size, kind = struct.unpack(">I4s", header)
            if size < 8 or size > _MAX_INIT_BYTES:
                return None
            if kind == b"moov":
                body = file.read(size - 8)
                return body if len(body) == size - 8 else None
            file.seek(size - 8, 1)
    return None


def read_chunk(
    path: Path,
    tracks: Tracks,
    file_start_ms: int,
    fragment: FragmentInfo,
    keyframes_only: bool = False,
) -> Chunk:
    """The frames of one fragment (only its first picture, with `keyframes_only`: what fast
    and reverse playback show). Sound is left out with `keyframes_only`."""
    with path.open("rb") as file:
        try:
            return _read_chunk(file, tracks, file_start_ms, fragment, keyframes_only)
        except (IndexError, struct.error, ValueError) as err:
            raise UnreadableRecording(f"{path.name} at {fragment.offset}: {err}") from err


def _read_chunk(
    file: BinaryIO, tracks: Tracks, file_start_ms: int, fragment: FragmentInfo, keyframes_only: bool
) -> Chunk:
    file.seek(fragment.offset)
    size, kind = struct.unpack(">I4s", file.read(8))
    if kind != b"moof":
        raise ValueError("no fragment here")
    runs = read_runs(file.read(size - 8))
    video = next((run for run in runs if run.track == VIDEO_TRACK), None)
    if video is None or not video.samples:
        raise ValueError("a fragment with no pictures")
    if keyframes_only:
        video = Run(video.track, video.base_ticks, video.data_offset, video.samples[:1])
        runs = [video]
    # The samples of every run lie back to back in the mdat: one read covers them all.
    first = min(run.data_offset for run in runs)
    last = max(run.data_offset + sum(s.size for s in run.samples) for run in runs)
    file.seek(fragment.offset + first)
    data = file.read(last - first)
    if len(data) < last - first:
        raise ValueError("the fragment is cut short")
    frames = _pictures(video, data, video.data_offset - first, tracks.video, file_start_ms)
    sound: list[AudioFrame] = []
    audio_run = next((run for run in runs if run.track == AUDIO_TRACK), None)
    if audio_run is not None and tracks.audio is not None:
        sound = _sounds(audio_run, data, audio_run.data_offset - first, tracks.audio,
                        file_start_ms)  # fmt: skip
    end_ms = file_start_ms + fragment.end_ms
    if keyframes_only:
        duration_ticks = video.samples[0].duration
        end_ms = frames[0].time_ms + duration_ticks // TICKS_PER_MS
    end_ms = max(end_ms, frames[0].time_ms + 1)
    return Chunk(frames, sound, frames[0].time_ms, end_ms, tracks.audio)


def _pictures(
    run: Run, data: bytes, at: int, config: StreamConfig, file_start_ms: int
) -> list[Frame]:
    frames = []
    ticks = run.base_ticks
    for duration, size, keyframe, offset in run.samples:
        sample = data[at : at + size]
        frames.append(Frame(file_start_ms + ticks // TICKS_PER_MS, keyframe, _nals(sample),
                            config, size, offset // TICKS_PER_MS))  # fmt: skip
        ticks += duration
        at += size
    return frames


def _sounds(
    run: Run, data: bytes, at: int, config: AudioConfig, file_start_ms: int
) -> list[AudioFrame]:
    sounds = []
    ticks = run.base_ticks
    for duration, size, _, _ in run.samples:
        time_ms = file_start_ms + ticks * 1000 // config.sample_rate
        sounds.append(AudioFrame(time_ms, data[at : at + size], config))
        ticks += duration
        at += size
    return sounds


def _nals(sample: bytes) -> tuple[bytes, ...]:
    nals = []
    at = 0
    while at + 4 <= len(sample):
        length = int.from_bytes(sample[at : at + 4], "big")
        if length == 0:
            break  # damaged (zeroed) data: no NAL unit is empty, and the rest is not read
        nals.append(sample[at + 4 : at + 4 + length])
        at += 4 + length
    return tuple(nals)


def _sample_entry(trak: bytes) -> tuple[bytes, bytes]:
    """The first sample entry of a track (kind and body), from trak/mdia/minf/stbl/stsd."""
    body = trak
    for step in (b"mdia", b"minf", b"stbl", b"stsd"):
        body = next(content for kind, content in children(body) if kind == step)
    entries = children(body[8:])  # version, flags and the entry count come first
    return entries[0]


def _video_config(kind: bytes, entry: bytes) -> StreamConfig:
    codec: Codec = "h264" if kind == b"avc1" else "h265"
    wanted = b"avcC" if codec == "h264" else b"hvcC"
    config = next(body for name, body in children(entry[_SAMPLE_ENTRY_FIELDS:]) if name == wanted)
    parameter_sets = _avc_sets(config) if codec == "h264" else _hevc_sets(config)
    sps_type = 7 if codec == "h264" else 33
    sps_nal = next(n for n in parameter_sets if nal_type(codec, n) == sps_type)
    return StreamConfig(codec, tuple(parameter_sets), sps.parse(codec, sps_nal))


def _avc_sets(config: bytes) -> list[bytes]:
    sets: list[bytes] = []
    at = 5
    for _ in range(2):  # the SPS list, then the PPS list
        count = config[at] & 0x1F if not sets else config[at]
        at += 1
        for _ in range(count):
            length = struct.unpack_from(">H", config, at)[0]
            sets.append(config[at + 2 : at + 2 + length])
            at += 2 + length
    return sets


def _hevc_sets(config: bytes) -> list[bytes]:
    sets: list[bytes] = []
    at = 23
    for _ in range(config[22]):
        count = struct.unpack_from(">H", config, at + 1)[0]
        at += 3
        for _ in range(count):
            length = struct.unpack_from(">H", config, at)[0]
            sets.append(config[at + 2 : at + 2 + length])
            at += 2 + length
    return sets


def _audio_config(entry: bytes) -> AudioConfig:
    esds = next(body for name, body in children(entry[_AUDIO_ENTRY_FIELDS:]) if name == b"esds")
    specific = _descriptor(esds[4:], (3, 4, 5))
    return aac.parse_config(specific)


def _descriptor(data: bytes, path: tuple[int, ...]) -> bytes:
    """The payload of the descriptor reached through the tags of `path` (ISO/IEC 14496-1
    §8.3.3: tag, a size of up to four 7-bit bytes, payload); fields before a nested
    descriptor are skipped by its tag's layout."""
    tag, *rest = path
    at = 0
    while at < len(data):
        kind = data[at]
        size, at = _descriptor_size(data, at + 1)
        payload = data[at : at + size]
        if kind == tag:
            if not rest:
                return payload
            skip = {3: 3, 4: 13}.get(kind, 0)  # ES_ID and flags; DecoderConfig's fields
            return _descriptor(payload[skip:], tuple(rest))
        at += size
    raise ValueError(f"no descriptor {tag}")


def _descriptor_size(data: bytes, at: int) -> tuple[int, int]:
    size = 0
    for _ in range(4):
        byte = data[at]
        at += 1
        size = size << 7 | (byte & 0x7F)
        if not byte & 0x80:
            break
    return size, at
