"""Frames over a connection (to a media worker, to another server): what is read is what was
written, each config crossing once; what is broken is refused, never run."""

import pickle

import pytest

from vigil.media.frames import AudioConfig, AudioFrame, Frame, StreamConfig
from vigil.media.framing import FrameReader, FrameWriter
from vigil.media.sps import SpsInfo

CONFIG = StreamConfig("h265", (b"\x40\x01", b"\x42\x01", b"\x44\x01"), SpsInfo(640, 360, 1, 8, 8))
SOUND = AudioConfig("aac", 48_000, 2, 1024, b"\x11\x90")


def _message(writer: FrameWriter, key: int, frame: Frame | AudioFrame) -> bytes:
    return b"".join(writer.encode(key, frame))


def test_frames_of_two_streams_cross_whole_with_each_config_once() -> None:
    writer, reader = FrameWriter(), FrameReader()
    sent = [
        (1, Frame(1000, True, (b"\x26\x01abc", b"\x02\x01de"), CONFIG, 9, 40)),
        (2, AudioFrame(1005, b"sound", SOUND)),
        (1, Frame(1040, False, (b"\x02\x01f",), CONFIG, 3, 0)),
    ]
    messages = [_message(writer, key, frame) for key, frame in sent]
    assert len(messages[2]) < len(messages[0])  # the config came with the first frame only
    got = [reader.decode(message) for message in messages]
    assert got == sent
    first, last = got[0][1], got[2][1]
    assert first is not None
    assert last is not None
    assert first.config is last.config  # one identity: consumers compare configs by it


def test_a_stream_whose_config_never_came_gives_nothing_until_it_does() -> None:
    writer, reader = FrameWriter(), FrameReader()
    _message(writer, 1, Frame(0, True, (b"\x26\x01",), CONFIG, 2, 0))  # lost on the way
    later = _message(writer, 1, Frame(40, False, (b"\x02\x01",), CONFIG, 2, 0))
    assert reader.decode(later) == (1, None)
    writer.forget(1)
    again = _message(writer, 1, Frame(80, True, (b"\x26\x01",), CONFIG, 2, 0))
    assert reader.decode(again)[1] is not None


@pytest.mark.parametrize(
    "broken",
    [
        b"",
        b"\x00" * 10,
        # A config that is a pickle: refused, not run.
        b"\x00\x00\x00\x01"
        + b"\x00" * 12
        + b"\x01\x00\x00"
        + bytes([0, 0, 0, 20])
        + pickle.dumps(1)[:20],
    ],
)
def test_broken_frames_are_refused(broken: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (json's and ours, whichever fails first)
        FrameReader().decode(broken)
