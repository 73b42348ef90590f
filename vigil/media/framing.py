"""Frames of several streams over one connection, in a compact binary form: a header, the
NAL units (or the sound), and the stream's config when it changed since the last frame of
that stream, so that each config crosses once and keeps one identity on the other side (the
consumers of a hub compare configs by identity). Used between a server and its media
workers (`workers/wire.py`) and between servers relaying a camera (`relay.py`).

Configs cross as JSON of their fields, never as pickles: a frame from another server must
not be able to run code here.
"""

import base64
import json
import struct
from typing import Any

from vigil.media.frames import AudioConfig, AudioFrame, Frame, StreamConfig
from vigil.media.hub import AnyFrame
from vigil.media.sps import SpsInfo

# stream key, decode time, presentation offset, flags, NAL count, config size (0: unchanged)
_HEAD = struct.Struct(">IqiBHI")
_KEYFRAME, _AUDIO = 1, 2


class FrameWriter:
    """One connection's sending end: what each stream's last config sent was."""

    def __init__(self) -> None:
        self._sent: dict[tuple[int, bool], object] = {}  # (key, audio) → config

    def encode(self, key: int, frame: AnyFrame) -> list[bytes]:
        """The parts of one message holding `frame` of stream `key`."""
        video = type(frame) is Frame
        config_key = (key, not video)
        config = b""
        if self._sent.get(config_key) is not frame.config:
            self._sent[config_key] = frame.config
            config = config_bytes(frame.config)
        if video:
            assert isinstance(frame, Frame)
            flags = _KEYFRAME if frame.keyframe else 0
            parts: list[bytes] = list(frame.nals)
            head = _HEAD.pack(key, frame.time_ms, frame.offset_ms, flags, len(parts), len(config))
        else:
            assert isinstance(frame, AudioFrame)
            parts = [frame.data]
            head = _HEAD.pack(key, frame.time_ms, 0, _AUDIO, 1, len(config))
        sizes = struct.pack(f">{len(parts)}I", *map(len, parts))
        return [head, config, sizes, *parts]

    def forget(self, key: int) -> None:
        """The stream stopped (or starts again): its next frame says its config."""
        for audio in (False, True):
            self._sent.pop((key, audio), None)


class FrameReader:
    """One connection's receiving end: each stream's config as last said."""

    def __init__(self) -> None:
        self._got: dict[tuple[int, bool], object] = {}

    def decode(self, body: memoryview | bytes) -> tuple[int, AnyFrame | None]:
        """The stream key and frame of a message; None for a frame whose config never came
        (its stream's first frames after a reconnection, dropped). ValueError if broken."""
        try:
            key, time_ms, offset_ms, flags, count, config_size = _HEAD.unpack_from(body)
            at = _HEAD.size
            audio = bool(flags & _AUDIO)
            if config_size:
                self._got[(key, audio)] = config_of(bytes(body[at : at + config_size]))
                at += config_size
            sizes = struct.unpack_from(f">{count}I", body, at)
        except (struct.error, KeyError, TypeError) as err:
            raise ValueError(f"a broken frame: {err}") from err
        at += 4 * count
        parts = []
        for size in sizes:
            parts.append(bytes(body[at : at + size]))
            at += size
        if at > len(body):
            raise ValueError("a frame shorter than its header says")
        config = self._got.get((key, audio))
        if audio:
            return key, AudioFrame(time_ms, parts[0], config) if isinstance(
                config, AudioConfig
            ) else None
        if not isinstance(config, StreamConfig):
            return key, None
        nals = tuple(parts)
        size = sum(map(len, nals))
        return key, Frame(time_ms, bool(flags & _KEYFRAME), nals, config, size, offset_ms)

    def forget(self, key: int) -> None:
        for audio in (False, True):
            self._got.pop((key, audio), None)


def config_bytes(config: StreamConfig | AudioConfig) -> bytes:
    fields: dict[str, Any]
    if isinstance(config, StreamConfig):
        sps = config.sps
        fields = {
            "codec": config.codec,
            "sets": [base64.b64encode(s).decode() for s in config.parameter_sets],
            "sps": [sps.width, sps.height, sps.chroma_format, sps.bit_depth_luma,
                    sps.bit_depth_chroma],
        }  # fmt: skip
    else:
        fields = {
            "codec": config.codec,
            "rate": config.sample_rate,
            "channels": config.channels,
            "samples": config.frame_samples,
            "specific": base64.b64encode(config.specific_config).decode(),
        }
    return json.dumps(fields).encode()


def config_of(data: bytes) -> StreamConfig | AudioConfig:
    fields = json.loads(data)
    if fields["codec"] in ("h264", "h265"):
        sets = tuple(base64.b64decode(s) for s in fields["sets"])
        return StreamConfig(fields["codec"], sets, SpsInfo(*map(int, fields["sps"])))
    if fields["codec"] != "aac":
        raise KeyError(fields["codec"])
    return AudioConfig("aac", int(fields["rate"]), int(fields["channels"]),
                       int(fields["samples"]), base64.b64decode(fields["specific"]))  # fmt: skip
