"""Fragmented MP4 (ISO/IEC 14496-12, -15) for one video track: an init segment, then fragments.

Written by us rather than through a muxer because the recorder, live view and playback all
need fragment-level control: where each fragment starts (the archive index keeps its offset),
and fragments of any size down to one frame (live). The boxes are the few that players need.
"""

import struct
from dataclasses import dataclass

from vigil.media.bits import nal_to_rbsp
from vigil.media.codecs import nal_type
from vigil.media.frames import Frame, StreamConfig

TIMESCALE = 90_000  # ticks per second of the track
TICKS_PER_MS = TIMESCALE // 1000
_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
_KEY_FLAGS = 0x02000000  # depends on no other sample
_DELTA_FLAGS = 0x01010000  # depends on others, not a sync sample


def box(kind: bytes, *payload: bytes) -> bytes:
    return struct.pack(">I", 8 + sum(len(p) for p in payload)) + kind + b"".join(payload)


def full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags), *payload)


def init_segment(config: StreamConfig) -> bytes:
    """ftyp and moov: what a player needs before the first fragment."""
    codec_brand = b"avc1" if config.codec == "h264" else b"hvc1"
    ftyp = box(b"ftyp", b"iso5", struct.pack(">I", 512), b"iso5", b"iso6", b"mp41", codec_brand)
    width, height = config.width, config.height
    mvhd = full_box(
        b"mvhd", 0, 0,
        struct.pack(">IIIIIH", 0, 0, 1000, 0, 0x10000, 0x100), bytes(10), _MATRIX, bytes(24),
        struct.pack(">I", 2),
    )  # fmt: skip
    tkhd = full_box(
        b"tkhd", 0, 3,
        struct.pack(">IIIII", 0, 0, 1, 0, 0), bytes(8), struct.pack(">HHHH", 0, 0, 0, 0),
        _MATRIX, struct.pack(">II", width << 16, height << 16),
    )  # fmt: skip
    mdhd = full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, TIMESCALE, 0, 0x55C4, 0))
    hdlr = full_box(b"hdlr", 0, 0, bytes(4), b"vide", bytes(12), b"Vigil\x00")
    vmhd = full_box(b"vmhd", 0, 1, bytes(8))
    dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1)))
    stbl = box(
        b"stbl",
        full_box(b"stsd", 0, 0, struct.pack(">I", 1), _sample_entry(config)),
        full_box(b"stts", 0, 0, bytes(4)),
        full_box(b"stsc", 0, 0, bytes(4)),
        full_box(b"stsz", 0, 0, bytes(8)),
        full_box(b"stco", 0, 0, bytes(4)),
    )
    trak = box(b"trak", tkhd, box(b"mdia", mdhd, hdlr, box(b"minf", vmhd, dinf, stbl)))
    mvex = box(b"mvex", full_box(b"trex", 0, 0, struct.pack(">IIIII", 1, 1, 0, 0, 0)))
    return ftyp + box(b"moov", mvhd, trak, mvex)


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
    sps_rbsp = nal_to_rbsp(by_type[33][0][2:])
    info = config.sps
    payload = bytes([1]) + sps_rbsp[1:13]  # general profile space … level, as in the SPS
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


def fragment(sequence: int, frames: list[Frame], end_ms: int, origin_ms: int) -> Fragment:
    """moof + mdat of `frames`; `end_ms` is when the frame after them starts, which gives the
    last frame its duration. Track time counts from `origin_ms` (the file's or session's
    start), so players show 0 at the start."""
    samples = [frame.sample() for frame in frames]
    times = [frame.time_ms for frame in frames] + [end_ms]
    entries = b"".join(
        struct.pack(
            ">III",
            (times[n + 1] - times[n]) * TICKS_PER_MS,
            len(sample),
            _KEY_FLAGS if frames[n].keyframe else _DELTA_FLAGS,
        )
        for n, sample in enumerate(samples)
    )
    base = (frames[0].time_ms - origin_ms) * TICKS_PER_MS

    def moof(data_offset: int) -> bytes:
        tfhd = full_box(b"tfhd", 0, 0x020000, struct.pack(">I", 1))  # default-base-is-moof
        tfdt = full_box(b"tfdt", 1, 0, struct.pack(">Q", base))
        trun = full_box(b"trun", 0, 0x000701, struct.pack(">Ii", len(samples), data_offset),
                        entries)  # fmt: skip
        return box(b"moof", full_box(b"mfhd", 0, 0, struct.pack(">I", sequence)),
                   box(b"traf", tfhd, tfdt, trun))  # fmt: skip

    header_size = len(moof(0)) + 8
    data = moof(header_size) + box(b"mdat", *samples)
    return Fragment(data, frames[0].time_ms, end_ms, frames[0].keyframe)
