"""Bit-level reading and writing of H.264 / H.265 syntax (Exp-Golomb codes), and RBSP ↔ NAL payload.

Pure byte work with Python integers as bit strings: no framework imports.
"""

import re


class BitReader:
    def __init__(self, data: bytes) -> None:
        self._value = int.from_bytes(data, "big")
        self._size = len(data) * 8
        self.position = 0

    def u(self, bits: int) -> int:
        if bits == 0:
            return 0
        if self.position + bits > self._size:
            raise ValueError("read past the end of the bit string")
        shift = self._size - self.position - bits
        self.position += bits
        return (self._value >> shift) & ((1 << bits) - 1)

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise ValueError("Exp-Golomb code too long")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        code = self.ue()
        return (code + 1) // 2 if code % 2 else -(code // 2)

    def bits_between(self, start: int, end: int) -> tuple[int, int]:
        """The bits from position `start` up to `end`, as (value, count)."""
        count = end - start
        return (self._value >> (self._size - end)) & ((1 << count) - 1), count

    def rest_without_trailing_bits(self) -> tuple[int, int]:
        """The bits left before rbsp_trailing_bits (the stop bit and its zero padding)."""
        count = self._size - self.position
        value = self._value & ((1 << count) - 1)
        if value == 0:
            raise ValueError("no stop bit")
        trailing = (value & -value).bit_length()  # the stop bit and the zeros after it
        return value >> trailing, count - trailing


class BitWriter:
    """Bits appended to whole bytes as they fill, so long raw runs (I_PCM) stay cheap."""

    def __init__(self) -> None:
        self._bytes = bytearray()
        self._pending = 0  # bits not yet a whole byte ...
        self._pending_count = 0  # ... and how many

    def u(self, bits: int, value: int) -> None:
        self._pending = (self._pending << bits) | (value & ((1 << bits) - 1))
        self._pending_count += bits
        if self._pending_count >= 64:
            self._flush()

    def _flush(self) -> None:
        whole = self._pending_count // 8
        if whole:
            left = self._pending_count - whole * 8
            self._bytes += (self._pending >> left).to_bytes(whole, "big")
            self._pending &= (1 << left) - 1
            self._pending_count = left

    def ue(self, value: int) -> None:
        code = value + 1
        length = code.bit_length()
        self.u(length - 1, 0)
        self.u(length, code)

    def se(self, value: int) -> None:
        self.ue(2 * value - 1 if value > 0 else -2 * value)

    def bits(self, value: int, count: int) -> None:
        self.u(count, value)

    def align_with_zeros(self) -> None:
        self.u(-self._pending_count % 8, 0)

    def raw_bytes(self, data: bytes) -> None:
        self._flush()
        if self._pending_count:
            raise ValueError("raw bytes need byte alignment")
        self._bytes += data

    def value(self) -> tuple[int, int]:
        """Everything written so far as (bits, count), to be replayed with `bits`."""
        count = len(self._bytes) * 8 + self._pending_count
        value = (int.from_bytes(self._bytes, "big") << self._pending_count) | self._pending
        return value, count

    def whole_bytes(self) -> bytes:
        """The bits written so far, which must fill whole bytes."""
        self._flush()
        if self._pending_count:
            raise ValueError("not at a byte boundary")
        return bytes(self._bytes)

    def rbsp(self) -> bytes:
        """The bits with rbsp_trailing_bits: a stop bit, then zeros to the byte boundary."""
        self.u(1, 1)
        self.align_with_zeros()
        self._flush()
        return bytes(self._bytes)


_EMULATION_PREVENTION = re.compile(rb"\x00\x00\x03")
_NEEDS_PREVENTION = re.compile(rb"\x00\x00(?=[\x00-\x03])")


def nal_to_rbsp(payload: bytes) -> bytes:
    """Remove emulation prevention bytes (00 00 03 → 00 00)."""
    return _EMULATION_PREVENTION.sub(b"\x00\x00", payload)


def rbsp_to_nal(rbsp: bytes) -> bytes:
    """Insert emulation prevention bytes where 00 00 is followed by 00..03."""
    return _NEEDS_PREVENTION.sub(b"\x00\x00\x03", rbsp)
