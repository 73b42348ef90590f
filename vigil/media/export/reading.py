"""A stream's archive over a range as MP4 fragments, read through the archive cursor."""

from collections.abc import AsyncIterator

from vigil.cameras.models import StreamName
from vigil.media.archive.cursor import Gap
from vigil.media.export.clip import Clip
from vigil.media.service import MediaService


async def fragments(
    media: MediaService, camera_id: str, stream: StreamName, from_ms: int, clip: Clip
) -> AsyncIterator[bytes]:
    """The clip's fragments, from the keyframe at or before `from_ms` until the clip is done
    or the archive ends."""
    cursor = media.cursor(camera_id, stream)
    if await cursor.seek(from_ms) is None:
        return
    while not clip.done:
        item = await cursor.next()
        if item is None:
            return
        if isinstance(item, Gap):
            clip.skip(item)
        elif data := clip.add(item):
            yield data


async def streamed(
    media: MediaService, camera_id: str, stream: StreamName, from_ms: int, to_ms: int
) -> AsyncIterator[bytes] | None:
    """The clip as it is made, init segment first (its duration unknown yet: players read it
    from the fragments); None when nothing is recorded in the range."""
    clip = Clip(to_ms)
    pieces = fragments(media, camera_id, stream, from_ms, clip)
    first = await anext(pieces, None)
    if first is None:
        return None

    async def whole() -> AsyncIterator[bytes]:
        yield clip.init(whole=False)
        yield first
        async for piece in pieces:
            yield piece

    return whole()
