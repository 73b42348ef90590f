"""Picture size from a sequence parameter set (H.264 §7.3.2.1.1, H.265 §7.3.2.2): what a
camera's status shows, without decoding anything."""

from dataclasses import dataclass

from vigil.media.bits import BitReader, nal_to_rbsp
from vigil.media.codecs import Codec

_HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}


@dataclass(frozen=True)
class SpsInfo:
    width: int  # as displayed (cropping applied)
    height: int
    chroma_format: int  # 1 = 4:2:0
    bit_depth_luma: int
    bit_depth_chroma: int


def parse(codec: Codec, sps: bytes) -> SpsInfo:
    """What a sequence parameter set says of the pictures; ValueError for a broken one."""
    return _h264(sps) if codec == "h264" else _h265(sps)


def _h264(sps: bytes) -> SpsInfo:
    r = BitReader(nal_to_rbsp(sps[1:]))
    profile = r.u(8)
    r.u(16)  # constraint flags, level
    r.ue()  # seq_parameter_set_id
    chroma_format, depths = 1, (8, 8)
    if profile in _HIGH_PROFILES:
        chroma_format = r.ue()
        if chroma_format == 3:
            r.u(1)
        depths = (r.ue() + 8, r.ue() + 8)
        r.u(1)
        if r.u(1):  # seq_scaling_matrix_present_flag
            for index in range(8 if chroma_format != 3 else 12):
                if r.u(1):
                    _skip_scaling_list(r, 16 if index < 6 else 64)
    r.ue()  # log2_max_frame_num_minus4
    poc_type = r.ue()
    if poc_type == 0:
        r.ue()
    elif poc_type == 1:
        r.u(1)
        r.se()
        r.se()
        for _ in range(r.ue()):
            r.se()
    r.ue()
    r.u(1)  # max_num_ref_frames, gaps_in_frame_num_value_allowed_flag
    width_mbs, height_units = r.ue() + 1, r.ue() + 1
    frame_mbs_only = r.u(1)
    if not frame_mbs_only:
        r.u(1)
    r.u(1)  # direct_8x8_inference_flag
    crop = (r.ue(), r.ue(), r.ue(), r.ue()) if r.u(1) else (0, 0, 0, 0)
    crop_x = 1 if chroma_format in (0, 3) else 2
    crop_y = (2 - frame_mbs_only) * (2 if chroma_format == 1 else 1)
    width = width_mbs * 16 - crop_x * (crop[0] + crop[1])
    height = (2 - frame_mbs_only) * height_units * 16 - crop_y * (crop[2] + crop[3])
    return SpsInfo(width, height, chroma_format, *depths)


def _skip_scaling_list(r: BitReader, size: int) -> None:
    last = next_scale = 8
    for _ in range(size):
        if next_scale:
            next_scale = (last + r.se() + 256) % 256
        last = next_scale or last


def skip_profile_tier_level(r: BitReader, max_sub_layers_minus1: int) -> None:
    """H.265 profile_tier_level(1, max_sub_layers_minus1) (§7.3.3): read past it."""
    r.u(96)  # general profile, tier, flags and level
    present = [(r.u(1), r.u(1)) for _ in range(max_sub_layers_minus1)]
    if max_sub_layers_minus1 > 0:
        r.u(2 * (8 - max_sub_layers_minus1))
    for profile, level in present:
        r.u(88 if profile else 0)
        r.u(8 if level else 0)


def h265_profile_tier_level(sps: bytes) -> bytes:
    """The 12 bytes of an H.265 SPS's general profile_tier_level (§7.3.3): profile space,
    tier and profile, compatibility flags, constraint flags and level, as hvcC and the MIME
    codecs parameter carry them."""
    general = nal_to_rbsp(sps[2:])[1:13]
    if len(general) < 12:
        raise ValueError("H.265 SPS cut short")
    return general


def _h265(sps: bytes) -> SpsInfo:
    r = BitReader(nal_to_rbsp(sps[2:]))
    r.u(4)
    max_sub_layers_minus1 = r.u(3)
    r.u(1)
    skip_profile_tier_level(r, max_sub_layers_minus1)
    r.ue()  # sps_seq_parameter_set_id
    chroma_format = r.ue()
    if chroma_format == 3:
        r.u(1)
    width, height = r.ue(), r.ue()
    if r.u(1):  # conformance_window_flag
        left, right, top, bottom = r.ue(), r.ue(), r.ue(), r.ue()
        sub_x = 2 if chroma_format in (1, 2) else 1
        sub_y = 2 if chroma_format == 1 else 1
        width -= sub_x * (left + right)
        height -= sub_y * (top + bottom)
    return SpsInfo(width, height, chroma_format, r.ue() + 8, r.ue() + 8)
