/* SPDX-License-Identifier: MIT */
/*
 * H.265 SPS reader (ITU-T H.265 7.3.2.2.1, 7.3.3): removes emulation
 * prevention bytes, skips profile_tier_level() including the sub-layer
 * parts, reads the chroma format and the luma picture size, and applies
 * the conformance window (7.4.3.2.1, SubWidthC/SubHeightC from table 6-1).
 * Every field is range checked; the bit reader never reads past the
 * unescaped copy.
 */
#include "config.h"
#include "ingest/h265_sps.h"

#include <errno.h>
#include <string.h>

#include "nvr/base/bitreader.h"

#define H265_NAL_SPS        33
#define H265_MAX_SUB_LAYERS 7

/* profile_tier_level(1, max_sub_layers_minus1), 7.3.3. */
static void h265_sps_ptl(struct nvr_bitreader *b,
                         unsigned max_sub_layers_minus1,
                         struct h265_sps_info *info)
{
    unsigned profile_present[H265_MAX_SUB_LAYERS],
        level_present[H265_MAX_SUB_LAYERS];

    (void)nvr_bitreader_u(b, 3); /* general_profile_space, general_tier_flag */
    info->profile_idc = (int)nvr_bitreader_u(b, 5);
    nvr_bitreader_skip(b, 32); /* general_profile_compatibility_flag[32] */
    nvr_bitreader_skip(b, 48); /* source and constraint flags */
    info->level_idc = (int)nvr_bitreader_u(b, 8);
    for (unsigned i = 0; i < max_sub_layers_minus1; i++) {
        profile_present[i] = nvr_bitreader_u1(b);
        level_present[i] = nvr_bitreader_u1(b);
    }
    if (max_sub_layers_minus1 > 0) {
        for (unsigned i = max_sub_layers_minus1; i < 8; i++)
            nvr_bitreader_skip(b, 2); /* reserved_zero_2bits */
    }
    for (unsigned i = 0; i < max_sub_layers_minus1; i++) {
        if (profile_present[i])
            nvr_bitreader_skip(b, 88);
        if (level_present[i])
            nvr_bitreader_skip(b, 8);
    }
}

/* From bit_depth_luma_minus8 to the sub-layer ordering info (7.3.2.2.1):
 * sps_max_num_reorder_pics of the highest sub-layer (HighestTid, what a
 * decoder of the whole stream uses), or -1 when it cannot be read (the
 * picture size is known by then, so that does not fail the SPS). */
static int h265_sps_reorder(struct nvr_bitreader *b, unsigned max_sub_minus1)
{
    uint32_t reorder = 0;
    unsigned first;

    if (nvr_bitreader_ue(b) > 8 || nvr_bitreader_ue(b) > 8) /* bit depths */
        return -1;
    if (nvr_bitreader_ue(b) > 12) /* log2_max_pic_order_cnt_lsb_minus4 */
        return -1;
    /* sps_sub_layer_ordering_info_present_flag: else only the highest. */
    first = nvr_bitreader_u1(b) ? 0 : max_sub_minus1;
    for (unsigned i = first; i <= max_sub_minus1; i++) {
        uint32_t dpb = nvr_bitreader_ue(b); /* max_dec_pic_buffering_minus1 */

        reorder = nvr_bitreader_ue(b);
        (void)nvr_bitreader_ue(b); /* sps_max_latency_increase_plus1 */
        if (dpb > 15 || reorder > dpb)
            return -1;
    }
    return b->overrun ? -1 : (int)reorder;
}

int h265_sps_parse(const uint8_t *nal, size_t len, struct h265_sps_info *out)
{
    uint8_t rbsp[H265_SPS_MAX_BYTES];
    struct nvr_bitreader b = {0};
    struct h265_sps_info info = {0};
    unsigned max_sub_layers_minus1;
    uint32_t w, h, crop[4] = {0, 0, 0, 0};
    int sub_w = 1, sub_h = 1;
    long width, height;

    if (!nal || len < 4 || ((nal[0] >> 1) & 0x3fu) != H265_NAL_SPS ||
        (nal[0] & 0x80u))
        return -EBADMSG;
    b.buf = rbsp;
    b.len_bits = 8 * nvr_rbsp_unescape(nal + 2, len - 2, rbsp, sizeof(rbsp));

    (void)nvr_bitreader_u(&b, 4); /* sps_video_parameter_set_id */
    max_sub_layers_minus1 = nvr_bitreader_u(&b, 3);
    if (max_sub_layers_minus1 >= H265_MAX_SUB_LAYERS)
        return -EBADMSG;
    (void)nvr_bitreader_u1(&b); /* sps_temporal_id_nesting_flag */
    h265_sps_ptl(&b, max_sub_layers_minus1, &info);
    info.sps_id = nvr_bitreader_ue(&b);
    if (info.sps_id > 15)
        return -EBADMSG;
    info.chroma_format_idc = (int)nvr_bitreader_ue(&b);
    if (info.chroma_format_idc > 3)
        return -EBADMSG;
    if (info.chroma_format_idc == 3 && nvr_bitreader_u1(&b)) {
        /* separate_colour_plane_flag: ChromaArrayType 0, units of 1. */
    } else if (info.chroma_format_idc == 1) {
        sub_w = sub_h = 2;
    } else if (info.chroma_format_idc == 2) {
        sub_w = 2;
    }
    w = nvr_bitreader_ue(&b); /* pic_width_in_luma_samples */
    h = nvr_bitreader_ue(&b); /* pic_height_in_luma_samples */
    if (w == 0 || h == 0 || w > H265_SPS_MAX_DIM || h > H265_SPS_MAX_DIM)
        return -EBADMSG;
    if (nvr_bitreader_u1(&b)) { /* conformance_window_flag */
        for (int i = 0; i < 4; i++) {
            crop[i] = nvr_bitreader_ue(&b);
            if (crop[i] > H265_SPS_MAX_DIM)
                return -EBADMSG;
        }
    }
    if (b.overrun)
        return -EBADMSG;
    info.max_num_reorder_pics = h265_sps_reorder(&b, max_sub_layers_minus1);
    width = (long)w - (long)sub_w * ((long)crop[0] + crop[1]);
    height = (long)h - (long)sub_h * ((long)crop[2] + crop[3]);
    if (width <= 0 || height <= 0)
        return -EBADMSG;
    info.width = (int)width;
    info.height = (int)height;
    *out = info;
    return 0;
}
