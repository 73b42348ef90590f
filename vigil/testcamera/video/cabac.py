"""A small H.265 CABAC encoder (ITU-T H.265 §9.3): enough to write slices of skipped blocks.

The caption band's unchanged stretches are P slices whose every 16x16 coding tree block is one
skipped coding unit: not split, skip flag set, the only merge candidate (a zero motion vector
to the picture before). That needs two context-coded flags and the terminating bin.
"""

from functools import cache

from vigil.media.bits import BitWriter

# Table 9-52 (the same as H.264's): the LPS range by probability state and range quarter.
_RANGE_LPS = (
    (128, 176, 208, 240), (128, 167, 197, 227), (128, 158, 187, 216), (123, 150, 178, 205),
    (116, 142, 169, 195), (111, 135, 160, 185), (105, 128, 152, 175), (100, 122, 144, 166),
    (95, 116, 137, 158), (90, 110, 130, 150), (85, 104, 123, 142), (81, 99, 117, 135),
    (77, 94, 111, 128), (73, 89, 105, 122), (69, 85, 100, 116), (66, 80, 95, 110),
    (62, 76, 90, 104), (59, 72, 86, 99), (56, 69, 81, 94), (53, 65, 77, 89),
    (51, 62, 73, 85), (48, 59, 69, 80), (46, 56, 66, 76), (43, 53, 63, 72),
    (41, 50, 59, 69), (39, 48, 56, 65), (37, 45, 54, 62), (35, 43, 51, 59),
    (33, 41, 48, 56), (32, 39, 46, 53), (30, 37, 43, 50), (29, 35, 41, 48),
    (27, 33, 39, 45), (26, 31, 37, 43), (24, 30, 35, 41), (23, 28, 33, 39),
    (22, 27, 32, 37), (21, 26, 30, 35), (20, 24, 29, 33), (19, 23, 27, 31),
    (18, 22, 26, 30), (17, 21, 25, 28), (16, 20, 23, 27), (15, 19, 22, 25),
    (14, 18, 21, 24), (14, 17, 20, 23), (13, 16, 19, 22), (12, 15, 18, 21),
    (12, 14, 17, 20), (11, 14, 16, 19), (11, 13, 15, 18), (10, 12, 15, 17),
    (10, 12, 14, 16), (9, 11, 13, 15), (9, 11, 12, 14), (8, 10, 12, 14),
    (8, 9, 11, 13), (7, 9, 11, 12), (7, 9, 10, 12), (7, 8, 10, 11),
    (6, 8, 9, 11), (6, 7, 9, 10), (6, 7, 8, 9), (2, 2, 2, 2),
)  # fmt: skip
# Table 9-53: the next state after a least probable symbol.
_NEXT_AFTER_LPS = (
    0, 0, 1, 2, 2, 4, 4, 5, 6, 7, 8, 9, 9, 11, 11, 12, 13, 13, 15, 15, 16, 16, 18, 18, 19, 19,
    21, 21, 22, 22, 23, 24, 24, 25, 26, 26, 27, 27, 28, 29, 29, 30, 30, 30, 31, 32, 32, 33, 33,
    33, 34, 34, 35, 35, 35, 36, 36, 36, 37, 37, 37, 38, 38, 63,
)  # fmt: skip

# initValue of the contexts used, for P slices without cabac_init_flag (initType 1):
# split_cu_flag (Table 9-11) and cu_skip_flag (Table 9-13), by ctxInc.
_SPLIT_CU_FLAG_P = (107, 139, 126)
_CU_SKIP_FLAG_P = (197, 185, 201)


class Context:
    """One context variable: a probability state and the most probable symbol."""

    __slots__ = ("mps", "state")

    def __init__(self, init_value: int, qp: int) -> None:
        slope, offset = (init_value >> 4) * 5 - 45, ((init_value & 15) << 3) - 16
        pre = min(max(((slope * min(max(qp, 0), 51)) >> 4) + offset, 1), 126)
        self.mps = int(pre > 63)
        self.state = pre - 64 if self.mps else 63 - pre


class Encoder:
    """The arithmetic encoder of §9.3.4.3, writing to a BitWriter."""

    def __init__(self, out: BitWriter) -> None:
        self._out = out
        self._low = 0
        self._range = 510
        self._first_bit = True
        self._outstanding = 0

    def decision(self, context: Context, bin_value: int) -> None:
        lps = _RANGE_LPS[context.state][(self._range >> 6) & 3]
        self._range -= lps
        if bin_value != context.mps:
            self._low += self._range
            self._range = lps
            if context.state == 0:
                context.mps = 1 - context.mps
            context.state = _NEXT_AFTER_LPS[context.state]
        elif context.state < 62:
            context.state += 1
        self._renormalize()

    def terminate(self, bin_value: int) -> None:
        self._range -= 2
        if not bin_value:
            self._renormalize()
            return
        # The last bin of the slice: flush (the final bit written is the stop bit).
        self._low += self._range
        self._range = 2
        self._renormalize()
        self._put_bit((self._low >> 9) & 1)
        self._out.u(2, ((self._low >> 7) & 3) | 1)

    def _renormalize(self) -> None:
        while self._range < 256:
            if self._low < 256:
                self._put_bit(0)
            elif self._low >= 512:
                self._low -= 512
                self._put_bit(1)
            else:
                self._low -= 256
                self._outstanding += 1
            self._range <<= 1
            self._low <<= 1

    def _put_bit(self, bit: int) -> None:
        if self._first_bit:
            self._first_bit = False
        else:
            self._out.u(1, bit)
        if self._outstanding:
            self._out.u(self._outstanding, (1 - bit) * ((1 << self._outstanding) - 1))
            self._outstanding = 0


@cache
def skipped_run(length: int, qp: int) -> bytes:
    """The slice data of a P slice of `length` skipped 16x16 blocks in one row of coding tree
    blocks, with the slice's QP `qp`; it ends with the slice's trailing bits.

    A block's neighbour above is in another slice (unavailable) and the one to its left, if in
    this slice, is skipped and not split: that fixes every context increment.
    """
    out = BitWriter()
    encoder = Encoder(out)
    split = Context(_SPLIT_CU_FLAG_P[0], qp)
    skip_flags = [Context(value, qp) for value in _CU_SKIP_FLAG_P]
    for block in range(length):
        encoder.decision(split, 0)  # split_cu_flag: neighbours are not deeper
        encoder.decision(skip_flags[block > 0], 1)  # cu_skip_flag: +1 for a skipped left
        encoder.terminate(int(block == length - 1))  # end_of_slice_segment_flag
    out.align_with_zeros()
    return out.whole_bytes()
