"""Just enough H.264 syntax (ITU-T H.264 §7.3) to stitch a caption band above encoded video.

Handles what x264 writes for `profile=baseline`: CAVLC, frames only, one slice group, no
weighted prediction. Parameter sets and slice headers are parsed and written back with changed
fields; slice data is carried over bit for bit.
"""

from dataclasses import dataclass, replace

from vigil.media.bits import BitReader, BitWriter, nal_to_rbsp, rbsp_to_nal

NAL_SLICE, NAL_IDR, NAL_SPS, NAL_PPS, NAL_AUD = 1, 5, 7, 8, 9
SLICE_P, SLICE_I = 0, 2


class Unsupported(ValueError):
    """The stream uses H.264 features this module does not handle."""


@dataclass(frozen=True)
class Sps:
    id: int
    log2_max_frame_num: int
    poc_type: int
    log2_max_poc_lsb: int
    width_mbs: int
    height_mbs: int


def parse_sps(nal: bytes) -> Sps:
    r = BitReader(nal_to_rbsp(nal[1:]))
    profile = r.u(8)
    r.u(16)  # constraint flags, level
    sps_id = r.ue()
    if profile in (100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135):
        raise Unsupported(f"profile {profile}: the caption band needs baseline")
    log2_max_frame_num = r.ue() + 4
    poc_type = r.ue()
    log2_max_poc_lsb = r.ue() + 4 if poc_type == 0 else 0
    if poc_type == 1:
        raise Unsupported("picture order count type 1")
    r.ue()  # max_num_ref_frames
    r.u(1)  # gaps_in_frame_num_value_allowed_flag
    width_mbs = r.ue() + 1
    height_mbs = r.ue() + 1
    if not r.u(1):
        raise Unsupported("interlaced coding")
    return Sps(sps_id, log2_max_frame_num, poc_type, log2_max_poc_lsb, width_mbs, height_mbs)


def taller_sps(nal: bytes, extra_mb_rows: int) -> bytes:
    """The SPS with `extra_mb_rows` more macroblock rows; every other field kept."""
    r = BitReader(nal_to_rbsp(nal[1:]))
    w = BitWriter()
    w.u(24, r.u(24))
    w.ue(r.ue())  # seq_parameter_set_id
    w.ue(r.ue())  # log2_max_frame_num_minus4
    poc_type = r.ue()
    w.ue(poc_type)
    if poc_type == 0:
        w.ue(r.ue())
    w.ue(r.ue())  # max_num_ref_frames
    w.u(1, r.u(1))
    w.ue(r.ue())  # pic_width_in_mbs_minus1
    w.ue(r.ue() + extra_mb_rows)
    rest, count = r.rest_without_trailing_bits()
    w.bits(rest, count)
    return nal[:1] + rbsp_to_nal(w.rbsp())


@dataclass(frozen=True)
class Pps:
    id: int
    sps_id: int
    bottom_field_pic_order: bool
    num_ref_idx_l0: int
    deblocking_control: bool
    redundant_pic_cnt: bool


def parse_pps(nal: bytes) -> Pps:
    r = BitReader(nal_to_rbsp(nal[1:]))
    pps_id, sps_id = r.ue(), r.ue()
    if r.u(1):
        raise Unsupported("CABAC: the caption band needs CAVLC")
    bottom_field_pic_order = bool(r.u(1))
    if r.ue():
        raise Unsupported("slice groups")
    num_ref_idx_l0 = r.ue() + 1
    r.ue()  # num_ref_idx_l1_default_active_minus1
    if r.u(1) or r.u(2):
        raise Unsupported("weighted prediction")
    r.se()
    r.se()
    r.se()  # pic_init_qp, pic_init_qs, chroma_qp_index_offset
    deblocking_control = bool(r.u(1))
    r.u(1)  # constrained_intra_pred_flag
    redundant = bool(r.u(1))
    return Pps(
        pps_id, sps_id, bottom_field_pic_order, num_ref_idx_l0, deblocking_control, redundant
    )


@dataclass(frozen=True)
class SliceHeader:
    nal_ref_idc: int
    idr: bool
    first_mb: int
    slice_type: int  # as coded (0..9)
    pps_id: int
    frame_num: int
    idr_pic_id: int
    poc_lsb: int
    delta_poc_bottom: int
    num_ref_idx_override: int | None  # None: the PPS default
    ref_list_modification: tuple[tuple[int, int], ...] | None
    ref_pic_marking: tuple[int, ...]  # the fields of dec_ref_pic_marking, in order
    qp_delta: int
    deblocking: tuple[int, int, int] | None  # idc, alpha offset, beta offset
    data: tuple[int, int]  # slice data bits (value, count) without the trailing bits

    @property
    def is_p(self) -> bool:
        return self.slice_type % 5 == SLICE_P


def parse_slice(nal: bytes, sps: Sps, pps: Pps) -> SliceHeader:
    r = BitReader(nal_to_rbsp(nal[1:]))
    nal_ref_idc, idr = (nal[0] >> 5) & 3, nal[0] & 0x1F == NAL_IDR
    first_mb, slice_type, pps_id = r.ue(), r.ue(), r.ue()
    frame_num = r.u(sps.log2_max_frame_num)
    idr_pic_id = r.ue() if idr else 0
    poc_lsb = r.u(sps.log2_max_poc_lsb) if sps.poc_type == 0 else 0
    delta_poc_bottom = r.se() if sps.poc_type == 0 and pps.bottom_field_pic_order else 0
    if pps.redundant_pic_cnt:
        raise Unsupported("redundant pictures")
    override = modification = None
    if slice_type % 5 == SLICE_P:
        override = r.ue() + 1 if r.u(1) else None
        modification = _read_modification(r) if r.u(1) else None
    elif slice_type % 5 != SLICE_I:
        raise Unsupported(f"slice type {slice_type}")
    marking = _read_marking(r, idr) if nal_ref_idc else ()
    qp_delta = r.se()
    deblocking = None
    if pps.deblocking_control:
        idc = r.ue()
        deblocking = (idc, r.se(), r.se()) if idc != 1 else (1, 0, 0)
    return SliceHeader(
        nal_ref_idc,
        idr,
        first_mb,
        slice_type,
        pps_id,
        frame_num,
        idr_pic_id,
        poc_lsb,
        delta_poc_bottom,
        override,
        modification,
        marking,
        qp_delta,
        deblocking,
        r.rest_without_trailing_bits(),
    )


def _read_modification(r: BitReader) -> tuple[tuple[int, int], ...]:
    items = []
    while (idc := r.ue()) != 3:
        items.append((idc, r.ue()))
    return tuple(items)


def _read_marking(r: BitReader, idr: bool) -> tuple[int, ...]:
    if idr:
        return (r.u(1), r.u(1))
    if not r.u(1):
        return (0,)
    fields = [1]
    while (operation := r.ue()) != 0:
        fields.append(operation)
        arguments = {1: 1, 2: 1, 3: 2, 6: 1, 4: 1}.get(operation, 0)
        fields.extend(r.ue() for _ in range(arguments))
    fields.append(0)
    return tuple(fields)


def write_slice_header(w: BitWriter, h: SliceHeader, sps: Sps, pps: Pps) -> None:
    w.ue(h.first_mb)
    w.ue(h.slice_type)
    w.ue(h.pps_id)
    w.u(sps.log2_max_frame_num, h.frame_num)
    if h.idr:
        w.ue(h.idr_pic_id)
    if sps.poc_type == 0:
        w.u(sps.log2_max_poc_lsb, h.poc_lsb)
        if pps.bottom_field_pic_order:
            w.se(h.delta_poc_bottom)
    if h.is_p:
        w.u(1, h.num_ref_idx_override is not None)
        if h.num_ref_idx_override is not None:
            w.ue(h.num_ref_idx_override - 1)
        w.u(1, h.ref_list_modification is not None)
        for idc, value in h.ref_list_modification or ():
            w.ue(idc)
            w.ue(value)
        if h.ref_list_modification is not None:
            w.ue(3)
    if h.nal_ref_idc:
        _write_marking(w, h)
    w.se(h.qp_delta)
    if pps.deblocking_control and h.deblocking is not None:
        idc, alpha, beta = h.deblocking
        w.ue(idc)
        if idc != 1:
            w.se(alpha)
            w.se(beta)


def _write_marking(w: BitWriter, h: SliceHeader) -> None:
    if h.idr:
        w.u(1, h.ref_pic_marking[0])
        w.u(1, h.ref_pic_marking[1])
        return
    w.u(1, h.ref_pic_marking[0])
    for value in h.ref_pic_marking[1:]:
        w.ue(value)


def moved_slice(nal: bytes, h: SliceHeader, sps: Sps, pps: Pps, mb_offset: int) -> bytes:
    """The slice `nal` starting `mb_offset` macroblocks later, its top edge left unfiltered."""
    idc, alpha, beta = h.deblocking or (0, 0, 0)
    moved = replace(
        h, first_mb=h.first_mb + mb_offset, deblocking=(2 if idc == 0 else idc, alpha, beta)
    )
    w = BitWriter()
    write_slice_header(w, moved, sps, pps)
    w.bits(*h.data)
    return nal[:1] + rbsp_to_nal(w.rbsp())
