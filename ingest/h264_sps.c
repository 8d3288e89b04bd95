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

struct h264_sps_bits {
    const uint8_t *buf;
    size_t len_bits;
    size_t pos;
    int overrun; /* set once a read went past the end */
};

static unsigned h264_sps_u1(struct h264_sps_bits *b)
{
    unsigned bit;

    if (b->pos >= b->len_bits) {
        b->overrun = 1;
        return 0;
    }
    bit = (b->buf[b->pos >> 3] >> (7 - (b->pos & 7))) & 1u;
    b->pos++;
    return bit;
}

static uint32_t h264_sps_u(struct h264_sps_bits *b, int n)
{
    uint32_t v = 0;

    for (int i = 0; i < n; i++)
        v = (v << 1) | h264_sps_u1(b);
    return v;
}

/* ue(v), 9.1. Codes longer than 32 bits are not valid in an SPS; they
 * mark the reader overrun so the caller fails. */
static uint32_t h264_sps_ue(struct h264_sps_bits *b)
{
    int zeros = 0;

    while (h264_sps_u1(b) == 0) {
        if (b->overrun || ++zeros > 31) {
            b->overrun = 1;
            return 0;
        }
    }
    return ((1u << zeros) - 1u) + h264_sps_u(b, zeros);
}

/* se(v), 9.1.1. */
static int32_t h264_sps_se(struct h264_sps_bits *b)
{
    uint32_t k = h264_sps_ue(b);

    if (k & 1u)
        return (int32_t)((k >> 1) + 1);
    return -(int32_t)(k >> 1);
}

/* scaling_list(), 7.3.2.1.1.1: only parsed to skip it. */
static int h264_sps_skip_scaling_list(struct h264_sps_bits *b, int size)
{
    int last = 8, next = 8;

    for (int j = 0; j < size; j++) {
        if (next != 0) {
            int32_t delta = h264_sps_se(b);

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

/* Copies the RBSP out of the NAL payload, dropping each 0x03 that follows
 * two zero bytes (7.4.1). Returns the RBSP length. */
static size_t h264_sps_unescape(const uint8_t *src, size_t len, uint8_t *dst,
                                size_t cap)
{
    size_t n = 0;
    int zeros = 0;

    for (size_t i = 0; i < len && n < cap; i++) {
        if (zeros >= 2 && src[i] == 3) {
            zeros = 0;
            continue;
        }
        zeros = src[i] == 0 ? zeros + 1 : 0;
        dst[n++] = src[i];
    }
    return n;
}

/* Fields between chroma_format_idc and the picture size that only need
 * skipping: bit depths, transform bypass and the scaling matrix. */
static int h264_sps_skip_high(struct h264_sps_bits *b, int chroma_format_idc)
{
    if (h264_sps_ue(b) > 6 || h264_sps_ue(b) > 6) /* bit depths - 8 */
        return -EBADMSG;
    (void)h264_sps_u1(b); /* qpprime_y_zero_transform_bypass_flag */
    if (h264_sps_u1(b)) { /* seq_scaling_matrix_present_flag */
        int lists = chroma_format_idc != 3 ? 8 : 12;

        for (int i = 0; i < lists; i++) {
            if (h264_sps_u1(b) &&
                h264_sps_skip_scaling_list(b, i < 6 ? 16 : 64) < 0)
                return -EBADMSG;
        }
    }
    return b->overrun ? -EBADMSG : 0;
}

static int h264_sps_skip_poc(struct h264_sps_bits *b)
{
    uint32_t poc_type = h264_sps_ue(b);

    if (poc_type == 0) {
        if (h264_sps_ue(b) > 12) /* log2_max_pic_order_cnt_lsb_minus4 */
            return -EBADMSG;
    } else if (poc_type == 1) {
        uint32_t cycle;

        (void)h264_sps_u1(b); /* delta_pic_order_always_zero_flag */
        (void)h264_sps_se(b); /* offset_for_non_ref_pic */
        (void)h264_sps_se(b); /* offset_for_top_to_bottom_field */
        cycle = h264_sps_ue(b);
        if (cycle > 255)
            return -EBADMSG;
        for (uint32_t i = 0; i < cycle && !b->overrun; i++)
            (void)h264_sps_se(b); /* offset_for_ref_frame[i] */
    } else if (poc_type != 2) {
        return -EBADMSG;
    }
    return b->overrun ? -EBADMSG : 0;
}

int h264_sps_parse(const uint8_t *nal, size_t len, struct h264_sps_info *out)
{
    uint8_t rbsp[H264_SPS_MAX_BYTES];
    struct h264_sps_bits b = {0};
    struct h264_sps_info info = {0};
    uint32_t w_mbs, h_map, crop[4] = {0, 0, 0, 0};
    int separate_planes = 0, crop_x, crop_y;
    long width, height;

    if (!nal || len < 4 || (nal[0] & 0x1fu) != 7)
        return -EBADMSG;
    b.buf = rbsp;
    b.len_bits = 8 * h264_sps_unescape(nal + 1, len - 1, rbsp, sizeof(rbsp));

    info.profile_idc = (int)h264_sps_u(&b, 8);
    (void)h264_sps_u(&b, 8); /* constraint_set flags, reserved bits */
    info.level_idc = (int)h264_sps_u(&b, 8);
    info.sps_id = h264_sps_ue(&b);
    if (info.sps_id > 31)
        return -EBADMSG;
    info.chroma_format_idc = 1;
    if (h264_sps_high_profile(info.profile_idc)) {
        uint32_t cf = h264_sps_ue(&b);

        if (cf > 3)
            return -EBADMSG;
        info.chroma_format_idc = (int)cf;
        if (cf == 3)
            separate_planes = (int)h264_sps_u1(&b);
        if (h264_sps_skip_high(&b, info.chroma_format_idc) < 0)
            return -EBADMSG;
    }
    if (h264_sps_ue(&b) > 12) /* log2_max_frame_num_minus4 */
        return -EBADMSG;
    if (h264_sps_skip_poc(&b) < 0)
        return -EBADMSG;
    (void)h264_sps_ue(&b); /* max_num_ref_frames */
    (void)h264_sps_u1(&b); /* gaps_in_frame_num_value_allowed_flag */
    w_mbs = h264_sps_ue(&b);
    h_map = h264_sps_ue(&b);
    if (w_mbs >= H264_SPS_MAX_DIM / 16 || h_map >= H264_SPS_MAX_DIM / 16)
        return -EBADMSG;
    w_mbs += 1;
    h_map += 1;
    info.frame_mbs_only = (int)h264_sps_u1(&b);
    if (!info.frame_mbs_only)
        (void)h264_sps_u1(&b); /* mb_adaptive_frame_field_flag */
    (void)h264_sps_u1(&b);     /* direct_8x8_inference_flag */
    if (h264_sps_u1(&b)) {     /* frame_cropping_flag */
        for (int i = 0; i < 4; i++) {
            crop[i] = h264_sps_ue(&b);
            if (crop[i] > H264_SPS_MAX_DIM)
                return -EBADMSG;
        }
    }
    if (b.overrun)
        return -EBADMSG;

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
