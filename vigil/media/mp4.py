"""Fragmented MP4 (ISO/IEC 14496-12, -14, -15): an init segment, then fragments, of one video
track and optionally one AAC audio track.

Written by us rather than through a muxer because the recorder, live view and playback all
need fragment-level control: where each fragment starts (the archive index keeps its offset),
and fragments of any size down to one frame (live). The boxes are the few that players need.
Each fragment holds both tracks' samples of its span (a `traf` each, one `mdat`), so the
file interleaves them by time at fragment granularity.
"""

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from vigil.media.codecs import nal_type
from vigil.media.frames import AudioConfig, AudioFrame, Frame, StreamConfig
from vigil.media.sps import h265_profile_tier_level

TIMESCALE = 90_000  # ticks per second of the video track; audio's is its sample rate
VIDEO_TRACK, AUDIO_TRACK = 1, 2
TICKS_PER_MS = TIMESCALE // 1000
_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
_KEY_FLAGS = 0x02000000  # depends on no other sample
_DELTA_FLAGS = 0x01010000  # depends on others, not a sync sample
_LENGTH = struct.Struct(">I")


def box(kind: bytes, *payload: bytes) -> bytes:
    return struct.pack(">I", 8 + sum(len(p) for p in payload)) + kind + b"".join(payload)


def full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags), *payload)


def init_segment(
    config: StreamConfig, audio: AudioConfig | None = None, duration_ms: int | None = None
) -> bytes:
    """ftyp and moov: what a player needs before the first fragment. `duration_ms`, when the
    whole is known (a finished file), goes in `mvhd` and `mehd`: players that do not read
    every fragment first take the duration from there."""
    codec_brand = b"avc1" if config.codec == "h264" else b"hvc1"
    ftyp = box(b"ftyp", b"iso5", struct.pack(">I", 512), b"iso5", b"iso6", b"mp41", codec_brand)
    width, height = config.width, config.height
    next_track = AUDIO_TRACK + 1 if audio is not None else VIDEO_TRACK + 1
    mvhd = full_box(
        b"mvhd", 0, 0,
        struct.pack(">IIIIIH", 0, 0, 1000, duration_ms or 0, 0x10000, 0x100), bytes(10),
        _MATRIX, bytes(24),
        struct.pack(">I", next_track),
    )  # fmt: skip
    video = _track(VIDEO_TRACK, TIMESCALE, b"vide", full_box(b"vmhd", 0, 1, bytes(8)),
                   _sample_entry(config), size=(width, height))  # fmt: skip
    extends = [full_box(b"trex", 0, 0, struct.pack(">IIIII", VIDEO_TRACK, 1, 0, 0, 0))]
    tracks = [video]
    if audio is not None:
        smhd = full_box(b"smhd", 0, 0, bytes(4))
        tracks.append(_track(AUDIO_TRACK, audio.sample_rate, b"soun", smhd, _mp4a(audio)))
        # Every AAC frame decodes on its own: sync samples by default.
        extends.append(full_box(b"trex", 0, 0, struct.pack(">IIIII", AUDIO_TRACK, 1, 0, 0, 0)))
    if duration_ms is not None:  # in the movie's timescale: milliseconds
        extends.insert(0, full_box(b"mehd", 0, 0, struct.pack(">I", duration_ms)))
    return ftyp + box(b"moov", mvhd, *tracks, box(b"mvex", *extends))


def _track(
    track_id: int,
    timescale: int,
    handler: bytes,
    media_header: bytes,
    sample_entry: bytes,
    size: tuple[int, int] = (0, 0),
) -> bytes:
    """A trak with no samples of its own (they come in fragments)."""
    volume = 0x100 if handler == b"soun" else 0
    tkhd = full_box(
        b"tkhd", 0, 3,
        struct.pack(">IIIII", 0, 0, track_id, 0, 0), bytes(8),
        struct.pack(">HHHH", 0, 0, volume, 0), _MATRIX,
        struct.pack(">II", size[0] << 16, size[1] << 16),
    )  # fmt: skip
    mdhd = full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, timescale, 0, 0x55C4, 0))
    hdlr = full_box(b"hdlr", 0, 0, bytes(4), handler, bytes(12), b"Vigil\x00")
    dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1)))
    stbl = box(
        b"stbl",
        full_box(b"stsd", 0, 0, struct.pack(">I", 1), sample_entry),
        full_box(b"stts", 0, 0, bytes(4)),
        full_box(b"stsc", 0, 0, bytes(4)),
        full_box(b"stsz", 0, 0, bytes(8)),
        full_box(b"stco", 0, 0, bytes(4)),
    )
    return box(b"trak", tkhd, box(b"mdia", mdhd, hdlr, box(b"minf", media_header, dinf, stbl)))


def _mp4a(audio: AudioConfig) -> bytes:
    """The AAC sample entry (ISO/IEC 14496-14 §5.6) and its esds: the ES descriptor holding
    the decoder config and, in it, the AudioSpecificConfig."""
    decoder_specific = _descriptor(5, audio.specific_config)
    # objectTypeIndication 0x40 (ISO/IEC 14496-3 audio), streamType 5 (audio) and the
    # reserved bit; buffer size and bit rates unknown (0), as players allow.
    decoder_config = _descriptor(4, bytes([0x40, 0x15]), bytes(11), decoder_specific)
    es = _descriptor(3, bytes(3), decoder_config, _descriptor(6, b"\x02"))  # ES_ID 0, SL: MP4
    return box(
        b"mp4a",
        bytes(6), struct.pack(">H", 1),  # reserved, data_reference_index
        bytes(8), struct.pack(">HHI", audio.channels, 16, 0),  # channels, sample size
        struct.pack(">I", min(audio.sample_rate, 0xFFFF) << 16),  # 16.16; the timescale is exact
        full_box(b"esds", 0, 0, es),
    )  # fmt: skip


def _descriptor(tag: int, *payload: bytes) -> bytes:
    """An MPEG-4 descriptor (ISO/IEC 14496-1 §8.3.3) with its size in one byte (all ours are
    under 128 bytes)."""
    size = sum(len(p) for p in payload)
    return bytes([tag, size]) + b"".join(payload)


def _sample_entry(config: StreamConfig) -> bytes:
    kind, decoder_config = (
        (b"avc1", _avc_config(config))
        if config.codec == "h264"
        else (b"hvc1", _hevc_config(config))
    )
    return box(
        kind,
        bytes(6), struct.pack(">H", 1),  # reserved, data_reference_index
        bytes(16), struct.pack(">HH", config.width, config.height),
        struct.pack(">IIIH", 0x480000, 0x480000, 0, 1), bytes(32),  # resolution, frame count
        struct.pack(">Hh", 0x18, -1),
        decoder_config,
    )  # fmt: skip


def _length_prefixed(nal: bytes) -> bytes:
    return struct.pack(">H", len(nal)) + nal


def _avc_config(config: StreamConfig) -> bytes:
    """avcC (ISO/IEC 14496-15 §5.3.3): the SPS and PPS, 4-byte NAL lengths."""
    sps = [n for n in config.parameter_sets if nal_type("h264", n) == 7]
    pps = [n for n in config.parameter_sets if nal_type("h264", n) == 8]
    first = sps[0]
    payload = bytes([1, first[1], first[2], first[3], 0xFF, 0xE0 | len(sps)])
    payload += b"".join(_length_prefixed(n) for n in sps)
    payload += bytes([len(pps)]) + b"".join(_length_prefixed(n) for n in pps)
    if first[1] in (100, 110, 122, 144):
        info = config.sps
        payload += bytes([0xFC | info.chroma_format, 0xF8 | (info.bit_depth_luma - 8),
                          0xF8 | (info.bit_depth_chroma - 8), 0])  # fmt: skip
    return box(b"avcC", payload)


def _hevc_config(config: StreamConfig) -> bytes:
    """hvcC (ISO/IEC 14496-15 §8.3.3): profile, tier and level from the SPS, then the VPS, SPS
    and PPS arrays, 4-byte NAL lengths."""
    by_type: dict[int, list[bytes]] = {32: [], 33: [], 34: []}
    for nal in config.parameter_sets:
        by_type.setdefault(nal_type("h265", nal), []).append(nal)
    info = config.sps
    payload = bytes([1]) + h265_profile_tier_level(by_type[33][0])
    payload += struct.pack(">HBBBBH", 0xF000, 0xFC, 0xFC | info.chroma_format,
                           0xF8 | (info.bit_depth_luma - 8), 0xF8 | (info.bit_depth_chroma - 8),
                           0)  # fmt: skip
    payload += bytes([0x0F, 3])  # one temporal layer, nested; 4-byte lengths; three arrays
    for kind in (32, 33, 34):
        nals = by_type[kind]
        payload += bytes([0x80 | kind]) + struct.pack(">H", len(nals))
        payload += b"".join(_length_prefixed(n) for n in nals)
    return box(b"hvcC", payload)


@dataclass(frozen=True)
class Fragment:
    data: bytes  # moof + mdat
    start_ms: int
    end_ms: int  # start of the frame after the last one (durations are known)
    keyframe: bool  # starts with a keyframe


def fragment(
    sequence: int,
    frames: list[Frame],
    end_ms: int,
    origin_ms: int,
    audio: Sequence[AudioFrame] = (),
) -> Fragment:
    """moof + mdat of `frames`; `end_ms` is when the frame after them starts, which gives the
    last frame its duration. Track time counts from `origin_ms` (the file's or session's
    start), so players show 0 at the start. `audio` is the audio of the same span (for a file
    made with an audio config); frames before `origin_ms` are left out, as a track cannot
    start before the file."""
    # Each sample is its NAL units, each behind its 32-bit length; the data is copied once,
    # into the fragment itself (a 1080p GOP is most of a megabyte, every second a stream).
    sizes = [4 * len(frame.nals) + sum(map(len, frame.nals)) for frame in frames]
    times = [frame.time_ms for frame in frames] + [end_ms]
    # B-frames: each sample's presentation offset too, signed (version 1 of the box).
    reordered = any(frame.offset_ms for frame in frames)
    layout = ">IIIi" if reordered else ">III"
    entries = b"".join(
        struct.pack(
            layout,
            (times[n + 1] - times[n]) * TICKS_PER_MS,
            size,
            _KEY_FLAGS if frame.keyframe else _DELTA_FLAGS,
            *((frame.offset_ms * TICKS_PER_MS,) if reordered else ()),
        )
        for n, (frame, size) in enumerate(zip(frames, sizes, strict=True))
    )
    base = (frames[0].time_ms - origin_ms) * TICKS_PER_MS
    video_bytes = sum(sizes)
    sounds = [frame for frame in audio if frame.time_ms >= origin_ms]

    def moof(data_offset: int) -> bytes:
        tfhd = full_box(b"tfhd", 0, 0x020000, struct.pack(">I", VIDEO_TRACK))  # base is moof
        tfdt = full_box(b"tfdt", 1, 0, struct.pack(">Q", base))
        trun = full_box(b"trun", 1 if reordered else 0, 0x000F01 if reordered else 0x000701,
                        struct.pack(">Ii", len(sizes), data_offset), entries)  # fmt: skip
        trafs = [box(b"traf", tfhd, tfdt, trun)]
        if sounds:
            trafs.append(_audio_traf(sounds, origin_ms, data_offset + video_bytes))
        return box(b"moof", full_box(b"mfhd", 0, 0, struct.pack(">I", sequence)), *trafs)

    header_size = len(moof(0)) + 8
    mdat_size = 8 + video_bytes + sum(len(frame.data) for frame in sounds)
    data = b"".join([moof(header_size), _LENGTH.pack(mdat_size), b"mdat", *_samples(frames),
                     *(frame.data for frame in sounds)])  # fmt: skip
    return Fragment(data, frames[0].time_ms, end_ms, frames[0].keyframe)


def _samples(frames: list[Frame]) -> Iterator[bytes]:
    """The pieces of the frames' samples, in order: each NAL unit behind its 32-bit length."""
    for frame in frames:
        for nal in frame.nals:
            yield _LENGTH.pack(len(nal))
            yield nal


def _audio_traf(frames: list[AudioFrame], origin_ms: int, data_offset: int) -> bytes:
    """The audio track's run: frames back to back at their nominal length (AAC frames are
    contiguous, while their millisecond times are rounded), except where a gap of more than
    half a frame (lost packets, a camera's pause) lets the clock move the next one on."""
    config = frames[0].config
    rate, nominal = config.sample_rate, config.frame_samples
    ticks = [(frame.time_ms - origin_ms) * rate // 1000 for frame in frames]
    position = ticks[0]
    entries = []
    for n, frame in enumerate(frames):
        duration = nominal
        if n + 1 < len(frames) and ticks[n + 1] - position > nominal * 3 // 2:
            duration = ticks[n + 1] - position
        position += duration
        entries.append(struct.pack(">II", duration, len(frame.data)))
    tfhd = full_box(b"tfhd", 0, 0x020000, struct.pack(">I", AUDIO_TRACK))
    tfdt = full_box(b"tfdt", 1, 0, struct.pack(">Q", ticks[0]))
    trun = full_box(b"trun", 0, 0x000301, struct.pack(">Ii", len(frames), data_offset), *entries)
    return box(b"traf", tfhd, tfdt, trun)
