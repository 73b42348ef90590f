"""A live caption band above pre-encoded H.264: clock, name, frame and PTZ, never encoded.

The loop's body is encoded once, two macroblock rows short. At load its parameter sets are made
two rows taller and its slices moved two rows down (see h264.py). For every frame sent, a band
slice is written in front of the body: each 16x32 character cell is two macroblocks of raw
samples (I_PCM), and in P pictures the cells whose character did not change are skipped, so a
frame's band costs a string compare and a few hundred bytes. See docs/design/testcamera.md.
"""

from dataclasses import replace

from vigil.media.bits import BitWriter, rbsp_to_nal
from vigil.testcamera.video.band import BAND_HEIGHT, BandedLoop, Tint, cell, changed_columns
from vigil.testcamera.video.h264 import (
    NAL_AUD,
    NAL_IDR,
    NAL_PPS,
    NAL_SLICE,
    NAL_SPS,
    Pps,
    SliceHeader,
    Sps,
    moved_slice,
    parse_pps,
    parse_slice,
    parse_sps,
    taller_sps,
    write_slice_header,
)

BAND_MB_ROWS = BAND_HEIGHT // 16
_I_PCM_IN_I, _I_PCM_IN_P = 25, 30  # mb_type of I_PCM in I and in P slices


class H264Caption(BandedLoop[SliceHeader]):
    def __init__(self, access_units: list[bytes]) -> None:
        self._sps: Sps | None = None
        self._pps: Pps | None = None
        super().__init__(access_units)
        self._band_headers: dict[int, tuple[int, int]] = {}

    @property
    def columns(self) -> int:
        return self._parameters()[0].width_mbs

    def _parameters(self) -> tuple[Sps, Pps]:
        if self._sps is None or self._pps is None:
            raise ValueError("a slice before the parameter sets")
        return self._sps, self._pps

    def _parameter_set(self, nal: bytes) -> bytes | None:
        kind = nal[0] & 0x1F
        if kind == NAL_SPS:
            self._sps = parse_sps(nal)
            return taller_sps(nal, BAND_MB_ROWS)
        if kind == NAL_PPS:
            self._pps = parse_pps(nal)
            return nal
        return None

    def _is_slice(self, nal: bytes) -> bool:
        return nal[0] & 0x1F in (NAL_SLICE, NAL_IDR)

    def _is_delimiter(self, nal: bytes) -> bool:
        return nal[0] & 0x1F == NAL_AUD

    def _moved_slice(self, nal: bytes) -> tuple[bytes, SliceHeader]:
        sps, pps = self._parameters()
        header = parse_slice(nal, sps, pps)
        return moved_slice(nal, header, sps, pps, sps.width_mbs * BAND_MB_ROWS), header

    def band(self, index: int, text: str, previous: str | None, tint: Tint) -> list[bytes]:
        """The band slice (one NAL unit) of loop frame `index` showing `text` in `tint`.

        `previous` is what the band of the frame before showed; None in IDR pictures and
        whenever every cell must be written.
        """
        frame = self.frames[index]
        text = text[: self.columns].ljust(self.columns)
        # The band's slice has the body's type: I in IDR pictures, P (cells skipped or raw)
        # in the others.
        intra = not frame.header.is_p
        w = BitWriter()
        w.bits(*self._band_header(index))
        if intra:
            _intra_cells(w, text, tint)
        else:
            changed = changed_columns(text, previous or "")
            last = -1
            for row in range(BAND_MB_ROWS):
                for column in changed:
                    address = row * self.columns + column
                    w.ue(address - last - 1)  # mb_skip_run
                    w.ue(_I_PCM_IN_P)
                    w.align_with_zeros()
                    w.raw_bytes(cell(text[column], tint)[row])
                    last = address
            if last < BAND_MB_ROWS * self.columns - 1:
                w.ue(BAND_MB_ROWS * self.columns - 1 - last)
        nal_header = frame.body[0]
        return [bytes([nal_header]) + rbsp_to_nal(w.rbsp())]

    def _band_header(self, index: int) -> tuple[int, int]:
        """The bits of the band slice's header for loop frame `index` (made once)."""
        cached = self._band_headers.get(index)
        if cached is None:
            header = replace(
                self.frames[index].header,
                first_mb=0,
                num_ref_idx_override=None,
                ref_list_modification=None,
                qp_delta=0,
                deblocking=(1, 0, 0),
            )
            w = BitWriter()
            write_slice_header(w, header, *self._parameters())
            cached = self._band_headers[index] = w.value()
        return cached


def _intra_cells(w: BitWriter, text: str, tint: Tint) -> None:
    """Every cell of an I slice: characters as raw samples, blank stretches predicted (from
    their neighbours, so in the band's colour)."""
    raw: list[list[bool]] = []  # per cell: sent as raw samples (for CAVLC's nC)
    for row in range(BAND_MB_ROWS):
        raw.append([])
        for column, char in enumerate(text):
            if _predictable(text, row, column):
                _flat_macroblock(w, raw, row, column)
                raw[row].append(False)
                continue
            w.ue(_I_PCM_IN_I)
            w.align_with_zeros()
            w.raw_bytes(cell(char, tint)[row])
            raw[row].append(True)


def _predictable(text: str, row: int, column: int) -> bool:
    """Whether a blank cell equals its DC prediction: every neighbour it predicts from (left,
    above) is blank too, and there is at least one."""
    if text[column] != " ":
        return False
    left = column == 0 or text[column - 1] == " "
    return left and (column > 0 or row > 0)


def _flat_macroblock(w: BitWriter, raw: list[list[bool]], row: int, column: int) -> None:
    """An Intra 16x16 macroblock, DC prediction, no residual: the background, a few bits."""
    w.ue(3)  # I_16x16, prediction mode 2 (DC), no coded chroma or luma AC
    w.ue(0)  # intra_chroma_pred_mode: DC
    w.se(0)  # mb_qp_delta
    # The DC block's coeff_token for no coefficients; its table depends on the neighbours'
    # coefficient counts (raw-sample macroblocks count 16, flat ones 0).
    counts = []
    if column > 0:
        counts.append(16 if raw[row][column - 1] else 0)
    if row > 0:
        counts.append(16 if raw[row - 1][column] else 0)
    n_c = (sum(counts) + 1) >> 1 if len(counts) == 2 else sum(counts)
    if n_c < 2:
        w.u(1, 1)
    elif n_c < 4:
        w.u(2, 0b11)
    elif n_c < 8:
        w.u(4, 0b1111)
    else:
        w.u(6, 0b000011)
