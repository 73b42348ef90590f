"""A recording's fragments, packed small for its index row: where each starts, in time and in
bytes, and whether it starts with a keyframe. Playback finds the fragment to start from
without opening the file.

Packed as unsigned LEB128 numbers, two per fragment: twice the milliseconds since the previous
fragment's start plus the keyframe flag, and the bytes since the previous fragment's offset.
A minute of 1 s fragments takes about 300 bytes.
"""

from collections.abc import Sequence

from vigil.media.archive.scan import FragmentInfo


def pack(fragments: Sequence[FragmentInfo]) -> bytes:
    out = bytearray()
    start = offset = 0
    for fragment in fragments:
        _put(out, (fragment.start_ms - start) * 2 + fragment.keyframe)
        _put(out, fragment.offset - offset)
        start, offset = fragment.start_ms, fragment.offset
    return bytes(out)


def unpack(data: bytes, duration_ms: int) -> list[FragmentInfo]:
    """The fragments of a file lasting `duration_ms`; each ends where the next starts."""
    numbers = _numbers(data)
    starts: list[tuple[int, int, bool]] = []
    start = offset = 0
    for time_field, offset_delta in zip(numbers[::2], numbers[1::2], strict=True):
        start += time_field >> 1
        offset += offset_delta
        starts.append((start, offset, bool(time_field & 1)))
    ends = [s for s, _, _ in starts[1:]] + [duration_ms]
    return [
        FragmentInfo(offset, start, end, keyframe)
        for (start, offset, keyframe), end in zip(starts, ends, strict=True)
    ]


def _put(out: bytearray, number: int) -> None:
    while number >= 0x80:
        out.append(number & 0x7F | 0x80)
        number >>= 7
    out.append(number)


def _numbers(data: bytes) -> list[int]:
    numbers, value, shift = [], 0, 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
        else:
            numbers.append(value)
            value, shift = 0, 0
    return numbers
