"""A live caption band above pre-encoded H.264: clock, name, frame and PTZ, never encoded.

The loop's body is encoded once, two macroblock rows short. At load its parameter sets are made
two rows taller and its slices moved two rows down (see h264.py). For every frame sent, a band
slice is written in front of the body: each 16x32 character cell is two macroblocks of raw
samples (I_PCM), and in P pictures the cells whose character did not change are skipped, so a
frame's band costs a string compare and a few hundred bytes. See docs/design/testcamera.md.
"""

import os
from dataclasses import dataclass, replace
from functools import cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from vigil.testcamera.video.bits import BitWriter, rbsp_to_nal
from vigil.testcamera.video.bitstream import split_annexb
from vigil.testcamera.video.h264 import (
    NAL_IDR,
    NAL_PPS,
    NAL_SLICE,
    NAL_SPS,
    SliceHeader,
    Sps,
    moved_slice,
    parse_pps,
    parse_slice,
    parse_sps,
    taller_sps,
    write_slice_header,
)

BAND_MB_ROWS = 2
BAND_HEIGHT = 16 * BAND_MB_ROWS
CELL_WIDTH = 16
BACKGROUND = 40  # luma of the band and of the body's flat top rows
INK = 235
_I_PCM_IN_I, _I_PCM_IN_P = 25, 30  # mb_type of I_PCM in I and in P slices


@cache
def _cell(char: str) -> tuple[bytes, bytes]:
    """The raw samples of one character's two macroblocks (top, bottom): Y 16x16, Cb, Cr."""
    image = Image.new("L", (CELL_WIDTH, BAND_HEIGHT), BACKGROUND)
    if char.strip():
        font = ImageFont.load_default(size=24)
        draw = ImageDraw.Draw(image)
        draw.text((CELL_WIDTH / 2, BAND_HEIGHT / 2), char, fill=INK, font=font, anchor="mm")
    luma = np.asarray(image, dtype=np.uint8)
    chroma = bytes([128]) * 128
    return luma[:16].tobytes() + chroma, luma[16:].tobytes() + chroma


@dataclass(frozen=True)
class CaptionFrame:
    """One frame of the loop, ready to have a band put in front of its body slice."""

    prefix: tuple[bytes, ...]  # parameter sets and SEI, as sent before the slices
    body: bytes  # the body slice, moved below the band
    header: SliceHeader  # the body's header, whose picture-level fields the band copies


class CaptionedLoop:
    def __init__(self, access_units: list[bytes]) -> None:
        sps = pps = None
        self.frames: list[CaptionFrame] = []
        for unit in access_units:
            prefix: list[bytes] = []
            body = None
            for nal in split_annexb(unit):
                kind = nal[0] & 0x1F
                if kind == NAL_SPS:
                    sps = parse_sps(nal)
                    prefix.append(taller_sps(nal, BAND_MB_ROWS))
                elif kind == NAL_PPS:
                    pps = parse_pps(nal)
                    prefix.append(nal)
                elif kind in (NAL_SLICE, NAL_IDR):
                    if sps is None or pps is None or body is not None:
                        raise ValueError("a frame without parameter sets, or of several slices")
                    header = parse_slice(nal, sps, pps)
                    body = moved_slice(nal, header, sps, pps, self._band_mbs(sps))
                elif kind != 9:  # access unit delimiters are left out
                    prefix.append(nal)
            if body is None:
                raise ValueError("a frame without a slice")
            self.frames.append(CaptionFrame(tuple(prefix), body, header))
        if sps is None or pps is None:
            raise ValueError("no parameter sets")
        self._sps, self._pps = sps, pps
        self.columns = sps.width_mbs
        self._band_headers: dict[int, tuple[int, int]] = {}

    @staticmethod
    def _band_mbs(sps: Sps) -> int:
        return sps.width_mbs * BAND_MB_ROWS

    def band(self, index: int, text: str, previous: str | None) -> bytes:
        """The band slice (a NAL unit) of loop frame `index` showing `text`.

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
            _intra_cells(w, text)
        else:
            # Only the changed cells are visited: this runs for every frame of every stream.
            shown = (previous or "")[: self.columns].ljust(self.columns)
            # commonprefix compares characters (in C), which is what is wanted here.
            first = len(os.path.commonprefix([text, shown]))  # noqa: RUF071
            end = self.columns - len(os.path.commonprefix([text[::-1], shown[::-1]]))  # noqa: RUF071
            changed = [c for c in range(first, end) if text[c] != shown[c]]
            last = -1
            for row in range(BAND_MB_ROWS):
                for column in changed:
                    address = row * self.columns + column
                    w.ue(address - last - 1)  # mb_skip_run
                    w.ue(_I_PCM_IN_P)
                    w.align_with_zeros()
                    w.raw_bytes(_cell(text[column])[row])
                    last = address
            if last < BAND_MB_ROWS * self.columns - 1:
                w.ue(BAND_MB_ROWS * self.columns - 1 - last)
        nal_header = frame.body[0]
        return bytes([nal_header]) + rbsp_to_nal(w.rbsp())

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
            write_slice_header(w, header, self._sps, self._pps)
            cached = self._band_headers[index] = w.value()
        return cached

    def access_unit(self, index: int, text: str) -> bytes:
        """Loop frame `index` whole (for decoding a snapshot), its band written in full."""
        frame = self.frames[index]
        nals = [*frame.prefix, self.band(index, text, None), frame.body]
        return b"".join(b"\x00\x00\x00\x01" + nal for nal in nals)


def _intra_cells(w: BitWriter, text: str) -> None:
    """Every cell of an I slice: characters as raw samples, blank stretches predicted."""
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
            w.raw_bytes(_cell(char)[row])
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


CHARSET = "".join(chr(c) for c in range(32, 127))


@cache
def _cell_lookup() -> dict[bytes, str]:
    return {_cell(c)[0][:256] + _cell(c)[1][:256]: c for c in CHARSET}


def read_caption(luma: "np.ndarray[tuple[int, int], np.dtype[np.uint8]]") -> str:
    """The text of a decoded picture's band (its top 32 rows of luma), '?' for what is not a
    character: the band is raw samples, so it decodes exactly as it was drawn."""
    lookup = _cell_lookup()
    chars = []
    for left in range(0, luma.shape[1] - CELL_WIDTH + 1, CELL_WIDTH):
        cell = luma[:BAND_HEIGHT, left : left + CELL_WIDTH]
        key = cell[:16].tobytes() + cell[16:].tobytes()
        chars.append(lookup.get(key, "?"))
    return "".join(chars).rstrip()
