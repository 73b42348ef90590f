"""The on-disk cache of encoded loops (video and audio), shared by every process on a machine.

An entry is the elementary stream (`.es`) plus a JSON index (`.json`) of where each frame
starts, and for audio the codec configuration the SDP announces. Entries are keyed by the
caller with everything that changes the bytes, so a changed setting encodes anew and an
unchanged one is read back in milliseconds. Each file is written to a temporary name and
renamed, so a crash mid-encode never leaves a broken entry.
"""

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class EncodedFrames:
    data: bytes
    offsets: list[int]  # where each frame (access unit) starts in `data`
    config: bytes = b""  # what a decoder needs first, when not in band (AAC: AudioSpecificConfig)

    def frames(self) -> list[bytes]:
        ends = [*self.offsets[1:], len(self.data)]
        return [self.data[start:end] for start, end in zip(self.offsets, ends, strict=True)]


def load(base: Path) -> EncodedFrames | None:
    """The entry named `base` (without suffix), or None if there is none yet."""
    stream_path, index_path = base.with_suffix(".es"), base.with_suffix(".json")
    if not (stream_path.exists() and index_path.exists()):
        return None
    index = json.loads(index_path.read_text())
    return EncodedFrames(
        stream_path.read_bytes(), index["offsets"], bytes.fromhex(index.get("config", ""))
    )


def store(base: Path, encoded: EncodedFrames) -> None:
    base.parent.mkdir(parents=True, exist_ok=True)
    index: dict[str, object] = {"offsets": encoded.offsets}
    if encoded.config:
        index["config"] = encoded.config.hex()
    # The stream first: an entry counts only once its index is there.
    _write_atomically(base.with_suffix(".es"), encoded.data)
    _write_atomically(base.with_suffix(".json"), json.dumps(index).encode())


def _write_atomically(path: Path, data: bytes) -> None:
    # A unique temporary name: two encodes of one entry may finish at the same time.
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    Path(temporary).replace(path)
