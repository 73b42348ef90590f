"""A stream fed to a relaying server, as relay messages: each frame (`framing.py`'s form
after a byte saying frame), and the fed mark that follows the kept GOP. Fed by the server's
API process over the peer connection, or by its media worker over a connection of its own
(`workers/peer_feed.py`); read by `relay.py` on the relaying server.

Sound waits for the picture after it and leaves with it: live viewers get a picture's sound
with it anyway, and each message costs more than its bytes (docs/design/system.md). Past
MAX_BEHIND_BYTES queued for the relaying server, frames are dropped up to the next keyframe,
so a slow link costs pictures, never memory.
"""

import struct
from collections.abc import Callable

from vigil.media.frames import Frame
from vigil.media.framing import FrameWriter
from vigil.media.hub import AnyFrame

FRAME, FED = 0, 1  # the first byte of a relay message
FED_BODY = struct.Struct(">II")  # relay key, feed number
MAX_BEHIND_BYTES = 16 * 1024 * 1024
MAX_HELD_SOUND = 64  # sound frames held for the next picture, at most (about 1.4 s)


def fed_mark(key: int, number: int) -> bytes:
    """The message saying that feed `number` of stream `key` sent its kept GOP."""
    return bytes((FED,)) + FED_BODY.pack(key, number)


class FeedFrames:
    """A hub's consumer turning stream `key`'s frames into relay messages: `send(messages)`
    gets a picture with the sound held for it; `behind()` is what is queued, not sent yet."""

    def __init__(
        self,
        key: int,
        writer: FrameWriter,
        send: Callable[[list[bytes]], None],
        behind: Callable[[], int],
    ) -> None:
        self._key = key
        self._writer = writer
        self._send = send
        self._behind = behind
        self._skipping = False  # dropping frames up to the next keyframe: the peer is behind
        self._sound: list[bytes] = []  # messages to go with the next picture

    def __call__(self, frame: AnyFrame) -> None:
        if type(frame) is Frame and frame.keyframe:
            self._skipping = False
        if self._skipping or self._behind() > MAX_BEHIND_BYTES:
            self._skipping = True
            return
        message = b"".join([bytes((FRAME,)), *self._writer.encode(self._key, frame)])
        if type(frame) is not Frame and len(self._sound) < MAX_HELD_SOUND:
            self._sound.append(message)
            return
        self._send([*self._sound, message])
        self._sound.clear()
