"""Just enough H.265 syntax (ITU-T H.265 §7.3) to stitch a caption band above encoded video.

Handles what x265 writes with the settings of `encode.py`: 4:2:0, no tiles, no scaling lists,
no long-term references, no weighted prediction. Parameter sets are rewritten with changed
fields and the rest of their bits copied; slice headers are parsed to their end so a slice can
be moved (a new address) with its data carried over byte for byte.
"""

from dataclasses import dataclass

from vigil.media.bits import BitReader, BitWriter, nal_to_rbsp, rbsp_to_nal
from vigil.media.sps import skip_profile_tier_level

NAL_IDR_W_RADL, NAL_IDR_N_LP, NAL_CRA = 19, 20, 21
NAL_VPS, NAL_SPS, NAL_PPS, NAL_AUD = 32, 33, 34, 35
SLICE_B, SLICE_P, SLICE_I = 0, 1, 2


class Unsupported(ValueError):
    """The stream uses H.265 features this module does not handle."""


def nal_kind(nal: bytes) -> int:
    return (nal[0] >> 1) & 0x3F


def is_slice(nal: bytes) -> bool:
    return nal_kind(nal) < NAL_VPS


@dataclass(frozen=True)
class RefPicSet:
    delta_pocs: int  # NumDeltaPocs
    used: int  # how many of them the current picture references (NumPicTotalCurr)


@dataclass(frozen=True)
class Sps:
    id: int
    width: int
    height: int
    log2_ctb: int
    log2_max_poc_lsb: int
    sao: bool
    ref_pic_sets: tuple[RefPicSet, ...]
    temporal_mvp: bool
    # Everything that changes how slice data decodes, to check that separately encoded
    # slices may share these parameter sets.
    coding: tuple[int, ...]

    @property
    def width_ctbs(self) -> int:
        return -(-self.width >> self.log2_ctb)

    @property
    def size_ctbs(self) -> int:
        return self.width_ctbs * -(-self.height >> self.log2_ctb)


def _sps_to_height(r: BitReader) -> tuple[int, int, int]:
    """Read an SPS up to its pic_height_in_luma_samples: (max_sub_layers_minus1, id, width)."""
    r.u(4)  # sps_video_parameter_set_id
    max_sub_layers_minus1 = r.u(3)
    r.u(1)
    skip_profile_tier_level(r, max_sub_layers_minus1)
    sps_id = r.ue()
    if r.ue() != 1:
        raise Unsupported("chroma format other than 4:2:0")
    return max_sub_layers_minus1, sps_id, r.ue()


def parse_sps(nal: bytes) -> Sps:
    r = BitReader(nal_to_rbsp(nal[2:]))
    max_sub_layers_minus1, sps_id, width = _sps_to_height(r)
    height = r.ue()
    if r.u(1):  # conformance_window_flag
        for _ in range(4):
            r.ue()
    bit_depths = (r.ue(), r.ue())
    log2_max_poc_lsb = r.ue() + 4
    ordering_all = r.u(1)
    for _ in range(0 if ordering_all else max_sub_layers_minus1, max_sub_layers_minus1 + 1):
        r.ue()
        r.ue()
        r.ue()
    log2_min_cb = r.ue() + 3
    log2_ctb = log2_min_cb + r.ue()
    transform = (r.ue(), r.ue(), r.ue(), r.ue())
    if r.u(1):
        raise Unsupported("scaling lists")
    amp, sao, pcm = r.u(1), r.u(1), r.u(1)
    if pcm:
        raise Unsupported("PCM")
    sets: list[RefPicSet] = []
    for index in range(r.ue()):
        sets.append(_ref_pic_set(r, index, len(sets) + 1, sets))
    if r.u(1):
        raise Unsupported("long-term reference pictures")
    temporal_mvp = bool(r.u(1))
    strong_intra_smoothing = r.u(1)
    coding = (*bit_depths, log2_min_cb, log2_ctb, *transform, amp, strong_intra_smoothing)
    return Sps(sps_id, width, height, log2_ctb, log2_max_poc_lsb, bool(sao), tuple(sets),
               temporal_mvp, coding)  # fmt: skip


def _ref_pic_set(r: BitReader, index: int, count: int, sets: list[RefPicSet]) -> RefPicSet:
    """st_ref_pic_set(index) of `count` sets in the SPS (index == count: in a slice header)."""
    if index != 0 and r.u(1):  # inter_ref_pic_set_prediction_flag
        delta_idx = r.ue() + 1 if index == count else 1
        r.u(1)
        r.ue()  # delta_rps_sign, abs_delta_rps_minus1
        delta_pocs = used = 0
        for _ in range(sets[index - delta_idx].delta_pocs + 1):
            if r.u(1):  # used_by_curr_pic_flag
                delta_pocs += 1
                used += 1
            elif r.u(1):  # use_delta_flag
                delta_pocs += 1
        return RefPicSet(delta_pocs, used)
    negative, positive = r.ue(), r.ue()
    used = 0
    for _ in range(negative + positive):
        r.ue()
        used += r.u(1)
    return RefPicSet(negative + positive, used)


def taller_sps(nal: bytes, extra_rows: int) -> bytes:
    """The SPS with pictures `extra_rows` luma rows taller; every other field kept."""
    r = BitReader(nal_to_rbsp(nal[2:]))
    _sps_to_height(r)
    w = BitWriter()
    w.bits(*r.bits_between(0, r.position))
    w.ue(r.ue() + extra_rows)
    w.bits(*r.rest_without_trailing_bits())
    return nal[:2] + rbsp_to_nal(w.rbsp())


@dataclass(frozen=True)
class Pps:
    id: int
    dependent_slices: bool
    output_flag: bool
    extra_header_bits: int
    cabac_init_present: bool
    num_ref_idx_l0: int
    init_qp: int
    chroma_qp_offsets_in_slice: bool
    entry_points: bool  # tiles or wavefronts: slice headers list entry points
    loop_filter_across_slices: bool
    deblocking_override: bool
    deblocking_disabled: bool
    lists_modification: bool
    header_extension: bool
    coding: tuple[int, ...]  # what changes how slice data decodes (see Sps.coding)


def parse_pps(nal: bytes) -> Pps:
    r = BitReader(nal_to_rbsp(nal[2:]))
    pps_id = r.ue()
    r.ue()  # pps_seq_parameter_set_id
    dependent, output_flag, extra_bits = bool(r.u(1)), bool(r.u(1)), r.u(3)
    sign_hiding, cabac_init_present = r.u(1), bool(r.u(1))
    num_ref_idx_l0 = r.ue() + 1
    r.ue()  # num_ref_idx_l1_default_active_minus1
    init_qp = 26 + r.se()
    constrained_intra, transform_skip = r.u(1), r.u(1)
    cu_qp_delta_depth = r.ue() if r.u(1) else -1
    chroma_offsets = (r.se(), r.se())
    chroma_in_slice = bool(r.u(1))
    if r.u(1) or r.u(1):
        raise Unsupported("weighted prediction")
    transquant_bypass, tiles, wavefronts = r.u(1), r.u(1), r.u(1)
    if tiles:
        raise Unsupported("tiles")
    across_slices = bool(r.u(1))
    override = disabled = False
    if r.u(1):  # deblocking_filter_control_present_flag
        override, disabled = bool(r.u(1)), bool(r.u(1))
        if not disabled:
            r.se()
            r.se()
    if r.u(1):
        raise Unsupported("scaling lists")
    lists_modification = bool(r.u(1))
    r.ue()  # log2_parallel_merge_level_minus2
    extension = bool(r.u(1))
    coding = (sign_hiding, constrained_intra, transform_skip, cu_qp_delta_depth,
              *chroma_offsets, transquant_bypass)  # fmt: skip
    return Pps(pps_id, dependent, output_flag, extra_bits, cabac_init_present, num_ref_idx_l0,
               init_qp, chroma_in_slice, bool(wavefronts), across_slices, override, disabled,
               lists_modification, extension, coding)  # fmt: skip


def check_band_support(sps: Sps, pps: Pps) -> None:
    """A band slice is only stitched into pictures that have no in-loop filters: with them
    its edges, and the body's top edge, would be filtered against what the encoder never saw."""
    if sps.sao or not pps.deblocking_disabled:
        raise Unsupported("in-loop filters (deblocking, SAO): encode with them off")
    if sps.log2_ctb != 4:
        raise Unsupported("coding tree blocks other than 16x16")


@dataclass(frozen=True)
class SliceHeader:
    kind: int  # NAL unit type
    no_output_of_prior_pics: int
    slice_type: int
    pic_output: int
    # slice_pic_order_cnt_lsb to slice_temporal_mvp_enabled_flag: the same in every slice of
    # a picture, copied as bits.
    picture_fields: tuple[int, int]
    temporal_mvp: bool
    refs_in_use: int  # NumPicTotalCurr
    sao: tuple[int, int]
    qp: int  # SliceQpY
    chroma_qp_offsets: tuple[int, int]
    # Where the header's bits after slice_pic_parameter_set_id start and where they end
    # (before byte_alignment), in the RBSP after the NAL unit header.
    after_pps_id: int
    end: int
    rbsp: bytes

    @property
    def data(self) -> bytes:
        """The slice data: it starts on the byte after the header's alignment bits."""
        return self.rbsp[self.end // 8 + 1 :]

    @property
    def idr(self) -> bool:
        return self.kind in (NAL_IDR_W_RADL, NAL_IDR_N_LP)

    @property
    def irap(self) -> bool:
        return 16 <= self.kind <= 23


def parse_slice(nal: bytes, sps: Sps, pps: Pps) -> SliceHeader:
    rbsp = nal_to_rbsp(nal[2:])
    r = BitReader(rbsp)
    kind = nal_kind(nal)
    if not r.u(1):
        raise Unsupported("a picture of several slices")
    no_output = r.u(1) if 16 <= kind <= 23 else 0
    r.ue()  # slice_pic_parameter_set_id
    after_pps_id = r.position
    r.u(pps.extra_header_bits)
    slice_type = r.ue()
    pic_output = r.u(1) if pps.output_flag else 1
    start = r.position
    temporal_mvp = False
    refs_in_use = 0
    if kind not in (NAL_IDR_W_RADL, NAL_IDR_N_LP):
        r.u(sps.log2_max_poc_lsb)
        count = len(sps.ref_pic_sets)
        if not r.u(1):  # short_term_ref_pic_set_sps_flag
            refs_in_use = _ref_pic_set(r, count, count, list(sps.ref_pic_sets)).used
        else:
            index = r.u((count - 1).bit_length()) if count > 1 else 0
            refs_in_use = sps.ref_pic_sets[index].used
        if sps.temporal_mvp:
            temporal_mvp = bool(r.u(1))
    picture_fields = r.bits_between(start, r.position)
    sao = (r.u(1), r.u(1)) if sps.sao else (0, 0)
    if slice_type == SLICE_B:
        raise Unsupported("B slices")
    if slice_type == SLICE_P:
        num_ref_idx_l0 = r.ue() + 1 if r.u(1) else pps.num_ref_idx_l0
        if pps.lists_modification and refs_in_use > 1 and r.u(1):
            for _ in range(num_ref_idx_l0):
                r.u((refs_in_use - 1).bit_length())
        if pps.cabac_init_present:
            r.u(1)
        if temporal_mvp and num_ref_idx_l0 > 1:
            r.ue()  # collocated_ref_idx
        r.ue()  # five_minus_max_num_merge_cand
    qp = pps.init_qp + r.se()
    chroma_qp_offsets = (r.se(), r.se()) if pps.chroma_qp_offsets_in_slice else (0, 0)
    deblocking_disabled = pps.deblocking_disabled
    if pps.deblocking_override and r.u(1):
        deblocking_disabled = bool(r.u(1))
        if not deblocking_disabled:
            r.se()
            r.se()
    if pps.loop_filter_across_slices and (any(sao) or not deblocking_disabled):
        r.u(1)
    if pps.entry_points:
        offsets = r.ue()
        if offsets:
            r.u((r.ue() + 1) * offsets)
    if pps.header_extension:
        r.u(8 * r.ue())
    return SliceHeader(kind, no_output, slice_type, pic_output, picture_fields, temporal_mvp,
                       refs_in_use, sao, qp, chroma_qp_offsets, after_pps_id, r.position,
                       rbsp)  # fmt: skip


def _write_address(w: BitWriter, address: int, sps: Sps, pps: Pps) -> None:
    if pps.dependent_slices:
        w.u(1, 0)  # dependent_slice_segment_flag
    w.u((sps.size_ctbs - 1).bit_length(), address)


def moved_slice(nal: bytes, h: SliceHeader, sps: Sps, pps: Pps, address: int) -> bytes:
    """The slice `nal` (the first of its picture) starting at CTB `address` instead, its data
    carried over: a slice's data does not depend on where in the picture it is."""
    r = BitReader(h.rbsp)
    w = BitWriter()
    w.u(1, 0)  # first_slice_segment_in_pic_flag
    w.bits(*r.bits_between(1, h.after_pps_id))
    _write_address(w, address, sps, pps)
    w.bits(*r.bits_between(h.after_pps_id, h.end))
    w.u(1, 1)  # byte_alignment()
    w.align_with_zeros()
    w.raw_bytes(h.data)
    return nal[:2] + rbsp_to_nal(w.whole_bytes())


@dataclass(frozen=True)
class BandSliceHeader:
    """A band slice's header bits for one picture, less its address: (value, count) before the
    address and after it. Put together with `BandSliceHeader.nal`."""

    before: tuple[int, int]
    after: tuple[int, int]
    address_bits: int
    nal_header: bytes

    def nal(self, address: int, data: bytes) -> bytes:
        """The slice at CTB `address` with `data` (its slice data RBSP, CABAC-terminated)."""
        value, count = self.before
        if self.address_bits:
            value, count = (value << self.address_bits) | address, count + self.address_bits
        after, after_count = self.after
        value, count = (value << after_count) | after, count + after_count
        # byte_alignment(): a one, then zeros to the byte boundary.
        pad = -(count + 1) % 8
        value, count = ((value << 1 | 1) << pad), count + 1 + pad
        return self.nal_header + rbsp_to_nal(value.to_bytes(count // 8, "big") + data)


def band_header(
    body: SliceHeader, sps: Sps, pps: Pps, slice_type: int, qp: int, first: bool
) -> BandSliceHeader:
    """The header of a slice above `body`'s, in the same picture: the body's picture-level
    fields; a P slice predicts from one reference picture with one merge candidate (a skipped
    block copies the same place of the picture before); no filters, so the band decodes the
    same wherever its neighbours change (`check_band_support` makes sure)."""
    w = BitWriter()
    w.u(1, first)
    if body.irap:
        w.u(1, body.no_output_of_prior_pics)
    w.ue(pps.id)
    if not first and pps.dependent_slices:
        w.u(1, 0)
    before = w.value()
    w = BitWriter()
    w.u(pps.extra_header_bits, 0)
    w.ue(slice_type)
    if pps.output_flag:
        w.u(1, body.pic_output)
    w.bits(*body.picture_fields)
    if sps.sao:
        w.u(2, 0)
    if slice_type == SLICE_P:
        w.u(1, 1)  # num_ref_idx_active_override_flag
        w.ue(0)  # one reference picture
        if pps.lists_modification and body.refs_in_use > 1:
            w.u(1, 0)
        if pps.cabac_init_present:
            w.u(1, 0)
        w.ue(4)  # five_minus_max_num_merge_cand: one merge candidate
    w.se(qp - pps.init_qp)
    if pps.chroma_qp_offsets_in_slice:
        w.se(0)
        w.se(0)
    if pps.deblocking_override:
        w.u(1, 0)  # deblocking stays off, as in the PPS
    if pps.entry_points:
        w.ue(0)
    if pps.header_extension:
        w.ue(0)
    bits = 0 if first else (sps.size_ctbs - 1).bit_length()
    nal_header = bytes([body.kind << 1, 1])
    return BandSliceHeader(before, w.value(), bits, nal_header)
