/* SPDX-License-Identifier: MIT */
/*
 * Tests of ingest/h264_sps.c: picture sizes of real SPS (a Wowza server,
 * x264 in several profiles, chroma formats and field coding), SPS with a
 * scaling matrix and with emulation prevention bytes (both cross-checked
 * with FFmpeg's trace_headers), and rejection of malformed input.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ingest/h264_sps.h"

/* Big Buck Bunny from Wowza (bunny_describe.txt sprop-parameter-sets):
 * Constrained Baseline, 240x160. */
static const uint8_t sps_bunny[] = {0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x03, 0xc5,
                                    0x68, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40,
                                    0x00, 0x00, 0x0c, 0x03, 0xc5, 0x8b, 0x92};

/* ffmpeg -f lavfi -i testsrc=s=640x360 -pix_fmt yuv420p -c:v libx264:
 * High, 640x368 coded, cropped to 360. */
static const uint8_t sps_x264_360p[] = {
    0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40, 0xa0, 0x2f,
    0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00,
    0x00, 0x03, 0x00, 0x32, 0x0f, 0x16, 0x2d, 0x96};

/* The same at 1920x1080: 1088 coded, 4 chroma rows cropped. */
static const uint8_t sps_x264_1080p[] = {
    0x67, 0x64, 0x00, 0x28, 0xac, 0xd9, 0x40, 0x78, 0x02,
    0x27, 0xe5, 0xc0, 0x44, 0x00, 0x00, 0x03, 0x00, 0x04,
    0x00, 0x00, 0x03, 0x00, 0xc8, 0x3c, 0x60, 0xc6, 0x58};

/* High 4:2:2, 1920x1080: the vertical crop unit is 1 row. */
static const uint8_t sps_x264_1080p_422[] = {
    0x67, 0x7a, 0x00, 0x28, 0xbc, 0xd9, 0x40, 0x78, 0x02,
    0x27, 0xe2, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01,
    0x00, 0x00, 0x03, 0x00, 0x32, 0x0f, 0x18, 0x31, 0x96};

/* High, 1920x1080 interlaced (frame_mbs_only_flag 0): 34 map unit pairs. */
static const uint8_t sps_x264_1080i[] = {
    0x67, 0x64, 0x00, 0x28, 0xac, 0xd9, 0x40, 0x78, 0x04,
    0x4f, 0xde, 0x02, 0x20, 0x00, 0x00, 0x03, 0x00, 0x20,
    0x00, 0x00, 0x06, 0x43, 0xe2, 0xc5, 0xb2, 0xc0};

/* High 4:4:4 Predictive, 350x198: crop units of one pixel both ways. */
static const uint8_t sps_x264_444_odd[] = {
    0x67, 0xf4, 0x00, 0x0d, 0x91, 0x9b, 0x28, 0x2c, 0x37,
    0xdc, 0x5e, 0x02, 0x20, 0x00, 0x00, 0x03, 0x00, 0x20,
    0x00, 0x00, 0x06, 0x41, 0xe2, 0x85, 0x32, 0xc0};

/* High, gray (chroma_format_idc 0), 1440x1080. */
static const uint8_t sps_x264_gray[] = {
    0x67, 0x64, 0x00, 0x28, 0xf3, 0x65, 0x01, 0x68, 0x08,
    0x9f, 0x89, 0xc0, 0x5b, 0x20, 0x00, 0x00, 0x03, 0x00,
    0x20, 0x00, 0x00, 0x06, 0x41, 0xe3, 0x06, 0x32, 0xc0};

/* The 1080p SPS with seq_scaling_matrix_present_flag set: explicit 4x4 and
 * 8x8 lists, one "use default" list. FFmpeg reads it as 1920x1080. */
static const uint8_t sps_scaling[] = {
    0x67, 0x64, 0x00, 0x28, 0xad, 0x94, 0x70, 0xe0, 0x80, 0x7c, 0x70, 0x40,
    0x40, 0x64, 0x20, 0x20, 0x50, 0x4c, 0x40, 0xa1, 0x48, 0x44, 0x4a, 0x92,
    0x49, 0x24, 0x92, 0x49, 0x24, 0x92, 0x49, 0x24, 0x92, 0x49, 0x24, 0x92,
    0x40, 0x49, 0x49, 0x24, 0x92, 0x49, 0x24, 0x92, 0x49, 0x24, 0x92, 0x49,
    0xb2, 0x80, 0xf0, 0x04, 0x4f, 0xcb, 0x80, 0x88, 0x00, 0x00, 0x03, 0x00,
    0x08, 0x00, 0x00, 0x03, 0x01, 0x90, 0x78, 0xc1, 0x8c, 0xb0};

/* Baseline, pic_order_cnt_type 1 with offsets of +-2^23, whose long
 * exp-Golomb codes need two emulation prevention bytes before the picture
 * size: 320x240 cropped by 2 columns pairs and 1 row pair to 316x238. */
static const uint8_t sps_escaped[] = {
    0x67, 0x42, 0xc0, 0x1e, 0xd0, 0x00, 0x00, 0x03, 0x02, 0x00, 0x00, 0x03,
    0x03, 0x40, 0x00, 0x00, 0x10, 0x00, 0x00, 0x04, 0x0a, 0x0f, 0xf7, 0x48};

struct sps_case {
    const uint8_t *nal;
    size_t len;
    int width, height, profile, chroma, frame_mbs_only;
};

#define SPS_CASE(a, w, h, p, c, f)  \
    {                               \
        a, sizeof(a), w, h, p, c, f \
    }

static const struct sps_case sps_cases[] = {
    SPS_CASE(sps_bunny, 240, 160, 66, 1, 1),
    SPS_CASE(sps_x264_360p, 640, 360, 100, 1, 1),
    SPS_CASE(sps_x264_1080p, 1920, 1080, 100, 1, 1),
    SPS_CASE(sps_x264_1080p_422, 1920, 1080, 122, 2, 1),
    SPS_CASE(sps_x264_1080i, 1920, 1080, 100, 1, 0),
    SPS_CASE(sps_x264_444_odd, 350, 198, 244, 3, 1),
    SPS_CASE(sps_x264_gray, 1440, 1080, 100, 0, 1),
    SPS_CASE(sps_scaling, 1920, 1080, 100, 1, 1),
    SPS_CASE(sps_escaped, 316, 238, 66, 1, 1),
};

static void test_h264_sps_real_sizes(void **state)
{
    for (size_t i = 0; i < sizeof(sps_cases) / sizeof(sps_cases[0]); i++) {
        const struct sps_case *c = &sps_cases[i];
        struct h264_sps_info info;

        memset(&info, 0xff, sizeof(info));
        assert_int_equal(h264_sps_parse(c->nal, c->len, &info), 0);
        assert_int_equal(info.width, c->width);
        assert_int_equal(info.height, c->height);
        assert_int_equal(info.profile_idc, c->profile);
        assert_int_equal(info.chroma_format_idc, c->chroma);
        assert_int_equal(info.frame_mbs_only, c->frame_mbs_only);
        assert_int_equal(info.sps_id, 0);
    }
}

static void test_h264_sps_level(void **state)
{
    struct h264_sps_info info;

    assert_int_equal(
        h264_sps_parse(sps_x264_1080p, sizeof(sps_x264_1080p), &info), 0);
    assert_int_equal(info.level_idc, 40);
    assert_int_equal(h264_sps_parse(sps_bunny, sizeof(sps_bunny), &info), 0);
    assert_int_equal(info.level_idc, 30);
}

/* camsim --video h264 --bframes 2 (x264 main profile, b-adapt off,
 * 640x360): the VUI's bitstream restriction says 2. */
static const uint8_t sps_x264_bframes[] = {
    0x67, 0x4d, 0x40, 0x1e, 0xec, 0xa0, 0x50, 0x17, 0xfc, 0xb8,
    0x0b, 0x50, 0x60, 0x60, 0x6a, 0x50, 0x00, 0x00, 0x03, 0x00,
    0x10, 0x00, 0x00, 0x03, 0x03, 0x28, 0xf1, 0x62, 0xd9, 0x60};

/* max_num_reorder_frames as FFmpeg's trace_headers reads it, or the
 * profile's default when the VUI has no bitstream restriction. */
static void test_h264_sps_reorder_depth(void **state)
{
    static const struct {
        const uint8_t *nal;
        size_t len;
        int reorder;
    } cases[] = {
        {sps_x264_bframes, sizeof(sps_x264_bframes), 2},
        {sps_bunny, sizeof(sps_bunny), 0},
        {sps_x264_360p, sizeof(sps_x264_360p), 2},
        {sps_x264_1080i, sizeof(sps_x264_1080i), 2},
        {sps_scaling, sizeof(sps_scaling), 2},
        /* Baseline without a VUI: no B slices, so 0. */
        {sps_escaped, sizeof(sps_escaped), 0},
    };
    struct h264_sps_info info;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(h264_sps_parse(cases[i].nal, cases[i].len, &info), 0);
        assert_int_equal(info.max_num_reorder_frames, cases[i].reorder);
    }
    assert_int_equal(
        h264_sps_parse(sps_x264_bframes, sizeof(sps_x264_bframes), &info), 0);
    assert_int_equal(info.profile_idc, 77);
    assert_int_equal(info.width, 640);
    assert_int_equal(info.height, 360);
    /* A VUI cut short loses only the depth: main profile, so unknown. */
    assert_int_equal(h264_sps_parse(sps_x264_bframes, 12, &info), 0);
    assert_int_equal(info.width, 640);
    assert_int_equal(info.max_num_reorder_frames, -1);
}

/* Without unescaping, the 0x03 bytes would shift every later field. */
static void test_h264_sps_emulation_prevention_matters(void **state)
{
    uint8_t raw[sizeof(sps_escaped)];
    size_t n = 0;
    struct h264_sps_info info = {0};

    for (size_t i = 0; i < sizeof(sps_escaped); i++) {
        if (i == 7 || i == 11)
            continue; /* the two 0x03 emulation prevention bytes */
        raw[n++] = sps_escaped[i];
    }
    assert_int_equal(h264_sps_parse(sps_escaped, sizeof(sps_escaped), &info),
                     0);
    assert_int_equal(info.width, 316);
    memset(&info, 0, sizeof(info));
    if (h264_sps_parse(raw, n, &info) == 0)
        assert_true(info.width != 316 || info.height != 238);
}

static void test_h264_sps_truncated(void **state)
{
    struct h264_sps_info info = {.width = 7};

    /* Every prefix that ends before the cropping fields fails and leaves
     * *out alone: those end in byte 7 of the bunny SPS and in byte 10 of
     * the x264 one, and the VUI after them is not needed. */
    for (size_t len = 0; len < 8; len++)
        assert_int_equal(h264_sps_parse(sps_bunny, len, &info), -EBADMSG);
    for (size_t len = 0; len < 11; len++)
        assert_int_equal(h264_sps_parse(sps_x264_1080p, len, &info), -EBADMSG);
    assert_int_equal(info.width, 7);
    assert_int_equal(h264_sps_parse(sps_bunny, 8, &info), 0);
    assert_int_equal(info.width, 240);
    assert_int_equal(info.height, 160);
    assert_int_equal(h264_sps_parse(sps_x264_1080p, 11, &info), 0);
    assert_int_equal(info.height, 1080);
    assert_int_equal(h264_sps_parse(NULL, 10, &info), -EBADMSG);
}

static void test_h264_sps_rejects(void **state)
{
    struct h264_sps_info info;
    uint8_t buf[64];

    /* A PPS is not an SPS. */
    static const uint8_t pps[] = {0x68, 0xcb, 0x8c, 0xb2};
    assert_int_equal(h264_sps_parse(pps, sizeof(pps), &info), -EBADMSG);

    /* All zero bits after the header: an exp-Golomb code without end. */
    memset(buf, 0, sizeof(buf));
    buf[0] = 0x67;
    buf[1] = 66;
    assert_int_equal(h264_sps_parse(buf, sizeof(buf), &info), -EBADMSG);

    /* seq_parameter_set_id 32 (ue 000001 00001) is out of range. */
    memcpy(buf, sps_bunny, 4);
    buf[4] = 0x04;
    buf[5] = 0x20;
    memset(buf + 6, 0xff, 10);
    assert_int_equal(h264_sps_parse(buf, 16, &info), -EBADMSG);

    /* chroma_format_idc 4 (ue 00101) in a High profile SPS. */
    memcpy(buf, sps_x264_1080p, 4);
    buf[4] = 0x97; /* sps_id 0 (1), chroma_format_idc 4 (00101), 11 */
    memset(buf + 5, 0xff, 10);
    assert_int_equal(h264_sps_parse(buf, 15, &info), -EBADMSG);
}

/* Cropping everything away is invalid, not a zero-sized picture. */
static void test_h264_sps_crop_too_big(void **state)
{
    /* Baseline, sps_id 0, log2_max_frame_num 0, poc type 2, 1 ref, no gaps,
     * 1x1 MBs, frame_mbs_only, direct_8x8, cropping 8 left and 0 others:
     * 1 1 011 010 0 1 1 1 1 1 0001001 1 1 1, no VUI, stop bit. */
    static const uint8_t sps_crop[] = {0x67, 0x42, 0xc0, 0x1e,
                                       0xda, 0x7c, 0x4f, 0x40};
    struct h264_sps_info info;

    assert_int_equal(h264_sps_parse(sps_crop, sizeof(sps_crop), &info),
                     -EBADMSG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_h264_sps_real_sizes),
        cmocka_unit_test(test_h264_sps_level),
        cmocka_unit_test(test_h264_sps_reorder_depth),
        cmocka_unit_test(test_h264_sps_emulation_prevention_matters),
        cmocka_unit_test(test_h264_sps_truncated),
        cmocka_unit_test(test_h264_sps_rejects),
        cmocka_unit_test(test_h264_sps_crop_too_big),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
