/* SPDX-License-Identifier: MIT */
/*
 * H.264 SPS reader (ITU-T H.264 7.3.2.1.1, 7.4.2.1.1): removes emulation
 * prevention bytes, walks the exp-Golomb fields up to frame cropping
 * (including the high profiles' chroma format, bit depths and scaling
 * lists) and derives the displayed picture size. Every field is range
 * checked; the bit reader never reads past the unescaped copy.
 */
#include "config.h"
#include "ingest/h264_sps.h"

#include <errno.h>
#include <string.h>

#include "nvr/base/bitreader.h"

/* scaling_list(), 7.3.2.1.1.1: only parsed to skip it. */
static int h264_sps_skip_scaling_list(struct nvr_bitreader *b, int size)
{
    int last = 8, next = 8;

    for (int j = 0; j < size; j++) {
        if (next != 0) {
            int32_t delta = nvr_bitreader_se(b);

            if (delta < -128 || delta > 127)
                return -EBADMSG;
            next = (last + delta + 256) % 256;
        }
        last = next == 0 ? last : next;
    }
    return b->overrun ? -EBADMSG : 0;
}

static int h264_sps_high_profile(int profile_idc)
{
    switch (profile_idc) {
    case 100:
    case 110:
    case 122:
    case 244:
    case 44:
    case 83:
    case 86:
    case 118:
    case 128:
    case 138:
    case 139:
    case 134:
    case 135:
        return 1;
    default:
        return 0;
    }
}

/* Fields between chroma_format_idc and the picture size that only need
 * skipping: bit depths, transform bypass and the scaling matrix. */
static int h264_sps_skip_high(struct nvr_bitreader *b, int chroma_format_idc)
{
    if (nvr_bitreader_ue(b) > 6 || nvr_bitreader_ue(b) > 6) /* bit depths - 8 */
        return -EBADMSG;
    (void)nvr_bitreader_u1(b); /* qpprime_y_zero_transform_bypass_flag */
    if (nvr_bitreader_u1(b)) { /* seq_scaling_matrix_present_flag */
        int lists = chroma_format_idc != 3 ? 8 : 12;

        for (int i = 0; i < lists; i++) {
            if (nvr_bitreader_u1(b) &&
                h264_sps_skip_scaling_list(b, i < 6 ? 16 : 64) < 0)
                return -EBADMSG;
        }
    }
    return b->overrun ? -EBADMSG : 0;
}

static int h264_sps_skip_poc(struct nvr_bitreader *b)
{
    uint32_t poc_type = nvr_bitreader_ue(b);

    if (poc_type == 0) {
        if (nvr_bitreader_ue(b) > 12) /* log2_max_pic_order_cnt_lsb_minus4 */
            return -EBADMSG;
    } else if (poc_type == 1) {
        uint32_t cycle;

        (void)nvr_bitreader_u1(b); /* delta_pic_order_always_zero_flag */
        (void)nvr_bitreader_se(b); /* offset_for_non_ref_pic */
        (void)nvr_bitreader_se(b); /* offset_for_top_to_bottom_field */
        cycle = nvr_bitreader_ue(b);
        if (cycle > 255)
            return -EBADMSG;
        for (uint32_t i = 0; i < cycle && !b->overrun; i++)
            (void)nvr_bitreader_se(b); /* offset_for_ref_frame[i] */
    } else if (poc_type != 2) {
        return -EBADMSG;
    }
    return b->overrun ? -EBADMSG : 0;
}

/* hrd_parameters(), E.1.2: only parsed to skip it. */
static int h264_sps_skip_hrd(struct nvr_bitreader *b)
{
    uint32_t cpb_cnt = nvr_bitreader_ue(b) + 1;

    if (cpb_cnt > 32)
        return -EBADMSG;
    nvr_bitreader_skip(b, 8); /* bit_rate_scale, cpb_size_scale */
    for (uint32_t i = 0; i < cpb_cnt && !b->overrun; i++) {
        (void)nvr_bitreader_ue(b); /* bit_rate_value_minus1 */
        (void)nvr_bitreader_ue(b); /* cpb_size_value_minus1 */
        (void)nvr_bitreader_u1(b); /* cbr_flag */
    }
    nvr_bitreader_skip(b, 20); /* four delay and offset lengths */
    return b->overrun ? -EBADMSG : 0;
}

/* vui_parameters(), E.1.1, up to max_num_reorder_frames in the bitstream
 * restriction. Returns it, -1 when the VUI does not carry it, or -EBADMSG
 * (< -1) when the VUI cannot be read. */
static int h264_sps_vui_reorder(struct nvr_bitreader *b)
{
    int hrd = 0;
    uint32_t reorder;

    if (nvr_bitreader_u1(b)) {            /* aspect_ratio_info_present */
        if (nvr_bitreader_u(b, 8) == 255) /* aspect_ratio_idc: Extended_SAR */
            nvr_bitreader_skip(b, 32);    /* sar_width, sar_height */
    }
    if (nvr_bitreader_u1(b))       /* overscan_info_present_flag */
        (void)nvr_bitreader_u1(b); /* overscan_appropriate_flag */
    if (nvr_bitreader_u1(b)) {     /* video_signal_type_present */
        nvr_bitreader_skip(b, 4);  /* video_format, full_range */
        if (nvr_bitreader_u1(b))   /* colour_description_present */
            nvr_bitreader_skip(b, 24);
    }
    if (nvr_bitreader_u1(b)) { /* chroma_loc_info_present_flag */
        (void)nvr_bitreader_ue(b);
        (void)nvr_bitreader_ue(b);
    }
    if (nvr_bitreader_u1(b))       /* timing_info_present_flag */
        nvr_bitreader_skip(b, 65); /* num_units_in_tick, time_scale,
                                      fixed_frame_rate_flag */
    for (int i = 0; i < 2; i++) {  /* nal_, then vcl_hrd_parameters */
        if (nvr_bitreader_u1(b)) {
            hrd = 1;
            if (h264_sps_skip_hrd(b) < 0)
                return -EBADMSG;
        }
    }
    if (hrd)
        (void)nvr_bitreader_u1(b); /* low_delay_hrd_flag */
    (void)nvr_bitreader_u1(b);     /* pic_struct_present_flag */
    if (!nvr_bitreader_u1(b))      /* bitstream_restriction_flag */
        return b->overrun ? -EBADMSG : -1;
    (void)nvr_bitreader_u1(b); /* motion_vectors_over_pic_boundaries_flag */
    for (int i = 0; i < 4; i++)
        (void)nvr_bitreader_ue(b); /* max_bytes_per_pic_denom ..
                                      log2_max_mv_length_vertical */
    reorder = nvr_bitreader_ue(b);
    if (b->overrun || reorder > 16)
        return -EBADMSG;
    return (int)reorder;
}

/* The reorder depth when the VUI does not give it (7.4.2.1.1, A.2):
 * 0 for the profiles without B slices (baseline and constrained
 * baseline) and the intra profiles (constraint_set3 with a high
 * profile); otherwise unknown (-1). */
static int h264_sps_default_reorder(int profile_idc, unsigned constraints)
{
    int set3 = (constraints & 0x10u) != 0;

    if (profile_idc == 66)
        return 0;
    if (set3 &&
        (profile_idc == 44 || profile_idc == 86 || profile_idc == 100 ||
         profile_idc == 110 || profile_idc == 122 || profile_idc == 244))
        return 0;
    return -1;
}

int h264_sps_parse(const uint8_t *nal, size_t len, struct h264_sps_info *out)
{
    uint8_t rbsp[H264_SPS_MAX_BYTES];
    struct nvr_bitreader b = {0};
    struct h264_sps_info info = {0};
    uint32_t w_mbs, h_map, crop[4] = {0, 0, 0, 0};
    unsigned constraints;
    int separate_planes = 0, crop_x, crop_y;
    long width, height;

    if (!nal || len < 4 || (nal[0] & 0x1fu) != 7)
        return -EBADMSG;
    b.buf = rbsp;
    b.len_bits = 8 * nvr_rbsp_unescape(nal + 1, len - 1, rbsp, sizeof(rbsp));

    info.profile_idc = (int)nvr_bitreader_u(&b, 8);
    constraints = nvr_bitreader_u(&b, 8); /* constraint_set flags */
    info.level_idc = (int)nvr_bitreader_u(&b, 8);
    info.sps_id = nvr_bitreader_ue(&b);
    if (info.sps_id > 31)
        return -EBADMSG;
    info.chroma_format_idc = 1;
    if (h264_sps_high_profile(info.profile_idc)) {
        uint32_t cf = nvr_bitreader_ue(&b);

        if (cf > 3)
            return -EBADMSG;
        info.chroma_format_idc = (int)cf;
        if (cf == 3)
            separate_planes = (int)nvr_bitreader_u1(&b);
        if (h264_sps_skip_high(&b, info.chroma_format_idc) < 0)
            return -EBADMSG;
    }
    if (nvr_bitreader_ue(&b) > 12) /* log2_max_frame_num_minus4 */
        return -EBADMSG;
    if (h264_sps_skip_poc(&b) < 0)
        return -EBADMSG;
    (void)nvr_bitreader_ue(&b); /* max_num_ref_frames */
    (void)nvr_bitreader_u1(&b); /* gaps_in_frame_num_value_allowed_flag */
    w_mbs = nvr_bitreader_ue(&b);
    h_map = nvr_bitreader_ue(&b);
    if (w_mbs >= H264_SPS_MAX_DIM / 16 || h_map >= H264_SPS_MAX_DIM / 16)
        return -EBADMSG;
    w_mbs += 1;
    h_map += 1;
    info.frame_mbs_only = (int)nvr_bitreader_u1(&b);
    if (!info.frame_mbs_only)
        (void)nvr_bitreader_u1(&b); /* mb_adaptive_frame_field_flag */
    (void)nvr_bitreader_u1(&b);     /* direct_8x8_inference_flag */
    if (nvr_bitreader_u1(&b)) {     /* frame_cropping_flag */
        for (int i = 0; i < 4; i++) {
            crop[i] = nvr_bitreader_ue(&b);
            if (crop[i] > H264_SPS_MAX_DIM)
                return -EBADMSG;
        }
    }
    if (b.overrun)
        return -EBADMSG;
    /* The picture size is known: a VUI that cannot be read only leaves
     * the reorder depth unknown. */
    info.max_num_reorder_frames = -1;
    if (nvr_bitreader_u1(&b)) /* vui_parameters_present_flag */
        info.max_num_reorder_frames = h264_sps_vui_reorder(&b);
    if (info.max_num_reorder_frames < 0)
        info.max_num_reorder_frames =
            h264_sps_default_reorder(info.profile_idc, constraints);

    /* 7.4.2.1.1: crop units depend on ChromaArrayType and field coding. */
    if (separate_planes || info.chroma_format_idc == 0) {
        crop_x = 1;
        crop_y = 2 - info.frame_mbs_only;
    } else {
        crop_x = info.chroma_format_idc == 3 ? 1 : 2;
        crop_y =
            (info.chroma_format_idc == 1 ? 2 : 1) * (2 - info.frame_mbs_only);
    }
    width = 16L * w_mbs - (long)crop_x * ((long)crop[0] + crop[1]);
    height = 16L * h_map * (2 - info.frame_mbs_only) -
             (long)crop_y * ((long)crop[2] + crop[3]);
    if (width <= 0 || height <= 0 || width > H264_SPS_MAX_DIM ||
        height > H264_SPS_MAX_DIM)
        return -EBADMSG;
    info.width = (int)width;
    info.height = (int)height;
    *out = info;
    return 0;
}
