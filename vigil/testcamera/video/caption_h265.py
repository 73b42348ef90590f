"""A live caption band above pre-encoded H.265: clock, name, frame and PTZ, never encoded.

H.265 has only CABAC, whose state runs on from block to block, so blocks cannot be spliced
into a slice as H.264's raw-sample macroblocks are. Slices can: each slice starts the entropy
coder afresh and sees nothing of other slices. So the band is a row of small slices:

- every character's top and bottom 16x16 block is encoded once, at load, as a picture of its
  own (x265, intra); its slice data is the same wherever the block is put;
- a stretch of unchanged blocks in a P picture is one P slice of skipped blocks
  (`cabac.skipped_run`), which copies the picture before;
- the body is encoded 32 rows short; its SPS is made taller and its slice moved below the band
  by a new slice address, its data carried over byte for byte (see h265.py).

With in-loop filters off, the band decodes to exactly the blocks as decoded alone, so
`read_caption` reads the text back. See docs/design/testcamera.md.
"""

from dataclasses import dataclass, replace
from functools import cache

from vigil.media.codecs import split_annexb
from vigil.testcamera.video.band import (
    BAND_HEIGHT,
    CELL_WIDTH,
    CHARSET,
    NEUTRAL,
    BandedLoop,
    Tint,
    cell,
    changed_columns,
)
from vigil.testcamera.video.cabac import skipped_run
from vigil.testcamera.video.encode import encode_h265_strips
from vigil.testcamera.video.h265 import (
    NAL_AUD,
    NAL_PPS,
    NAL_SPS,
    SLICE_I,
    SLICE_P,
    BandSliceHeader,
    Pps,
    SliceHeader,
    Sps,
    band_header,
    check_band_support,
    is_slice,
    moved_slice,
    nal_kind,
    parse_pps,
    parse_slice,
    parse_sps,
    taller_sps,
)

BAND_ROWS = BAND_HEIGHT // 16
GLYPH_QP = 12  # sharp edges; a changed block costs about 100 bytes


@dataclass(frozen=True)
class Glyphs:
    """Every character's two blocks, and blank runs, as intra slice data (with their QP)."""

    data: dict[str, tuple[tuple[bytes, int], tuple[bytes, int]]]  # character → (top, bottom)
    blank_runs: dict[int, tuple[bytes, int]]  # 2, 4, 8 ... blank blocks in a row
    sps: Sps
    pps: Pps
    access_units: tuple[bytes, ...]  # the characters as encoded, to decode for `read_caption`


# Blank stretches (most of a wide band) go as a few slices of 2**k blocks, not one per block.
_BLANK_RUNS = tuple(2**k for k in range(1, 8))


@cache
def glyphs(tint: Tint = NEUTRAL) -> Glyphs:
    """Encoded once per process and colour (about 0.2 s); shared by every H.265 loop."""
    blocks = [half for char in CHARSET for half in cell(char, tint)]
    units = encode_h265_strips(CELL_WIDTH, blocks, GLYPH_QP)
    sps, pps, slices = _slices(units)
    encoded = [(s.data, s.qp) for s in slices]
    data = {c: (encoded[2 * n], encoded[2 * n + 1]) for n, c in enumerate(CHARSET)}
    blank_runs = {}
    for length in _BLANK_RUNS:
        blank = cell(" ", tint)[0]
        strip = _side_by_side(blank, length)
        run_sps, run_pps, (run,) = _slices(
            encode_h265_strips(CELL_WIDTH * length, [strip], GLYPH_QP)
        )
        if (run_sps.coding, run_pps.coding) != (sps.coding, pps.coding):
            raise ValueError("the blank runs were encoded with other tools than the characters")
        blank_runs[length] = (run.data, run.qp)
    return Glyphs(data, blank_runs, sps, pps, tuple(units))


def _side_by_side(block: bytes, count: int) -> bytes:
    """`count` copies of a 16x16 block (Y, Cb, Cr) side by side, as one strip's planes."""
    planes = ((block[:256], 16), (block[256:320], 8), (block[320:], 8))
    return b"".join(
        b"".join(plane[row * side : (row + 1) * side] * count for row in range(side))
        for plane, side in planes
    )


def _slices(units: list[bytes]) -> tuple[Sps, Pps, list[SliceHeader]]:
    """The parameter sets and the parsed slice of each picture encoded."""
    sps = pps = None
    slices: list[SliceHeader] = []
    for unit in units:
        for nal in split_annexb(unit):
            if nal_kind(nal) == NAL_SPS:
                sps = parse_sps(nal)
            elif nal_kind(nal) == NAL_PPS:
                pps = parse_pps(nal)
            elif is_slice(nal):
                if sps is None or pps is None:
                    raise ValueError("a picture without parameter sets")
                slices.append(parse_slice(nal, sps, pps))
    if sps is None or pps is None or len(slices) != len(units):
        raise ValueError("the pictures are not one slice each")
    return sps, pps, slices


class H265Caption(BandedLoop[SliceHeader]):
    def __init__(self, access_units: list[bytes]) -> None:
        self._glyphs = glyphs()
        self._sps: Sps | None = None  # as encoded (the body's size)
        self._pps: Pps | None = None
        self._checked: tuple[Sps, Pps] | None = None
        super().__init__(access_units)
        self._headers: dict[tuple[int, int, int, bool], BandSliceHeader] = {}

    @property
    def columns(self) -> int:
        return self._parameters()[0].width_ctbs

    def _parameters(self) -> tuple[Sps, Pps]:
        """The SPS with the band (pictures as sent) and the PPS, checked once."""
        if self._checked is None:
            if self._sps is None or self._pps is None:
                raise ValueError("a slice before the parameter sets")
            check_band_support(self._sps, self._pps)
            glyph_coding = (self._glyphs.sps.coding, self._glyphs.pps.coding)
            if (self._sps.coding, self._pps.coding) != glyph_coding:
                raise ValueError("the loop and the glyphs were encoded with different tools")
            taller = replace(self._sps, height=self._sps.height + BAND_HEIGHT)
            self._checked = (taller, self._pps)
        return self._checked

    def _parameter_set(self, nal: bytes) -> bytes | None:
        kind = nal_kind(nal)
        if kind == NAL_SPS:
            self._sps, self._checked = parse_sps(nal), None
            return taller_sps(nal, BAND_HEIGHT)
        if kind == NAL_PPS:
            self._pps, self._checked = parse_pps(nal), None
            return nal
        return None

    def _is_slice(self, nal: bytes) -> bool:
        return is_slice(nal)

    def _is_delimiter(self, nal: bytes) -> bool:
        return nal_kind(nal) == NAL_AUD

    def _moved_slice(self, nal: bytes) -> tuple[bytes, SliceHeader]:
        sps, pps = self._parameters()
        header = parse_slice(nal, sps, pps)
        return moved_slice(nal, header, sps, pps, sps.width_ctbs * BAND_ROWS), header

    def prepare(self, tint: Tint) -> None:
        glyphs(tint)

    def band(self, index: int, text: str, previous: str | None, tint: Tint) -> list[bytes]:
        frame = self.frames[index]
        tinted = glyphs(tint)
        text = text[: self.columns].ljust(self.columns)
        if previous is None or frame.header.slice_type == SLICE_I:
            pieces = self._intra_pieces(text)
        else:
            pieces = self._changed_pieces(text, changed_columns(text, previous))
        skip_qp = self._parameters()[1].init_qp
        nals = []
        for row in range(BAND_ROWS):
            start = row * self.columns
            for column, length, char in pieces:
                address = start + column
                if char is None:
                    header = self._header(index, SLICE_P, skip_qp, address == 0)
                    nals.append(header.nal(address, skipped_run(length, skip_qp)))
                    continue
                data, qp = _glyph(tinted, char, row) if length == 1 else tinted.blank_runs[length]
                header = self._header(index, SLICE_I, qp, address == 0)
                nals.append(header.nal(address, data))
        return nals

    def _intra_pieces(self, text: str) -> list[tuple[int, int, str | None]]:
        """Every column as slices: (first column, blocks, character); blank runs together."""
        pieces: list[tuple[int, int, str | None]] = []
        column = 0
        while column < self.columns:
            blanks = len(text) - column - len(text[column:].lstrip(" "))
            run = next((r for r in reversed(_BLANK_RUNS) if r <= blanks), 1)
            pieces.append((column, run, text[column]))
            column += run
        return pieces

    def _changed_pieces(self, text: str, changed: list[int]) -> list[tuple[int, int, str | None]]:
        """Changed columns as slices of one block, stretches between them skipped (None)."""
        pieces: list[tuple[int, int, str | None]] = []
        column = 0
        for next_changed in [*changed, self.columns]:
            if next_changed > column:
                pieces.append((column, next_changed - column, None))
            if next_changed < self.columns:
                pieces.append((next_changed, 1, text[next_changed]))
            column = next_changed + 1
        return pieces

    def _header(self, index: int, slice_type: int, qp: int, first: bool) -> BandSliceHeader:
        """A band slice's header for loop frame `index` (made once)."""
        key = (index, slice_type, qp, first)
        cached = self._headers.get(key)
        if cached is None:
            body = self.frames[index].header
            cached = band_header(body, *self._parameters(), slice_type, qp, first)
            self._headers[key] = cached
        return cached


def _glyph(tinted: Glyphs, char: str, row: int) -> tuple[bytes, int]:
    return (tinted.data.get(char) or tinted.data["?"])[row]
