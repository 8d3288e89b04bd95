/* SPDX-License-Identifier: MIT */
/*
 * Tests of ingest/dts_order.c: decode times of B-frame patterns in decode
 * order (x264 with 2 B-frames, x265's open-GOP CRA with a leading
 * picture, a B-pyramid), a stream without B-frames (decode time is the
 * presentation time), deeper reordering than the SPS says, and a jump
 * of the time line.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ingest/dts_order.h"

#define FRAME 3600 /* 25 fps at 90 kHz */

/* Feeds pts (in frames) and checks each decode time is strictly after the
 * previous one and not after its pts; returns the decode times. */
static void feed(struct dts_order *d, const int *pts, size_t n, int64_t *dts)
{
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(dts_order_next(d, (int64_t)pts[i] * FRAME, &dts[i]),
                         0);
        assert_true(dts[i] <= (int64_t)pts[i] * FRAME);
        if (i > 0)
            assert_true(dts[i] > dts[i - 1]);
    }
}

static void test_dts_order_no_bframes(void **state)
{
    static const int pts[] = {0, 1, 2, 3, 5, 6, 7};
    struct dts_order d;
    int64_t dts[7];

    (void)state;
    dts_order_init(&d, 90000);
    feed(&d, pts, 7, dts);
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(dts[i], (int64_t)pts[i] * FRAME);
}

static void test_dts_order_two_bframes(void **state)
{
    /* I0 P3 B1 B2 P6 B4 B5 I9 B7 B8: one picture of reordering. */
    static const int pts[] = {0, 3, 1, 2, 6, 4, 5, 9, 7, 8};
    static const int want[] = {-1, 0, 1, 2, 3, 4, 5, 6, 7, 8};
    struct dts_order d;
    int64_t dts[10];

    (void)state;
    dts_order_init(&d, 90000);
    dts_order_set_depth(&d, 1);
    feed(&d, pts, 10, dts);
    for (size_t i = 0; i < 10; i++)
        assert_int_equal(dts[i], (int64_t)want[i] * FRAME);
}

static void test_dts_order_pyramid_and_leading_picture(void **state)
{
    /* Depth 2 (x264 b-pyramid, x265 bframes=3), as x265 sends it:
     * I0 P4 B2 b1 b3 P8 B6 b5 b7, then a CRA at 10 whose leading
     * picture 9 follows it, then P14 B12 b11 b13. */
    static const int pts[] = {0, 4, 2, 1, 3, 8, 6, 5, 7, 10, 9, 14, 12, 11, 13};
    struct dts_order d;
    int64_t dts[15];

    (void)state;
    dts_order_init(&d, 90000);
    dts_order_set_depth(&d, 2);
    feed(&d, pts, 15, dts);
    assert_int_equal(dts[0], -2 * FRAME);
    assert_int_equal(dts[1], -1 * FRAME);
    /* From the window's filling on, dts lags by the depth. */
    for (size_t i = 2; i < 15; i++)
        assert_int_equal(dts[i], (int64_t)(i - 2) * FRAME);
    /* The frame step is learnt: 3000 ticks at 30 fps. */
    dts_order_init(&d, 90000);
    dts_order_set_depth(&d, 1);
    assert_int_equal(dts_order_next(&d, 0, &dts[0]), 0);
    assert_int_equal(dts_order_next(&d, 9000, &dts[1]), 0);
    assert_int_equal(dts_order_next(&d, 3000, &dts[2]), 0);
    assert_int_equal(dts[2], 3000);
}

static void test_dts_order_deeper_than_said(void **state)
{
    /* The SPS said nothing (depth 0), but B-frames come: the first one
     * cannot be placed; the depth grows, and decode times start afresh
     * (the caller drops units until the next keyframe). */
    static const int rest[] = {2, 6, 4, 5};
    static const int gop2[] = {9, 12, 10, 11, 15, 13, 14};
    struct dts_order d;
    int64_t dts[7], t;

    (void)state;
    dts_order_init(&d, 90000);
    assert_int_equal(dts_order_next(&d, 0, &t), 0);
    assert_int_equal(dts_order_next(&d, 3 * FRAME, &t), 0);
    assert_int_equal(dts_order_next(&d, 1 * FRAME, &t), 1);
    assert_int_equal(d.depth, 1);
    feed(&d, rest, 4, dts);
    assert_int_equal(dts[0], 2 * FRAME);
    feed(&d, gop2, 7, dts);
    assert_int_equal(dts[0], 6 * FRAME);
    assert_int_equal(dts[6], 14 * FRAME);
    /* A repeated pts without B-frames cannot be placed either, but is no
     * reordering: the depth stays 0. */
    {
        struct dts_order z;

        dts_order_init(&z, 90000);
        assert_int_equal(dts_order_next(&z, 0, &t), 0);
        assert_int_equal(dts_order_next(&z, FRAME, &t), 0);
        assert_int_equal(dts_order_next(&z, FRAME, &t), 1);
        assert_int_equal(z.depth, 0);
        assert_int_equal(dts_order_next(&z, 2 * FRAME, &t), 0);
        assert_int_equal(t, 2 * FRAME);
    }
    /* The SPS can raise the depth, never lower it. */
    dts_order_set_depth(&d, 0);
    assert_int_equal(d.depth, 1);
    dts_order_set_depth(&d, 40);
    assert_int_equal(d.depth, DTS_ORDER_MAX_DEPTH);
}

static void test_dts_order_time_line_jump(void **state)
{
    /* A camera that restarts its clock: decode times start afresh. */
    static const int pts[] = {1000, 1003, 1001, 1002};
    static const int after[] = {5, 8, 6, 7};
    struct dts_order d;
    int64_t dts[4];

    (void)state;
    dts_order_init(&d, 90000);
    dts_order_set_depth(&d, 1);
    feed(&d, pts, 4, dts);
    feed(&d, after, 4, dts);
    assert_int_equal(dts[0], 4 * FRAME);
    assert_int_equal(dts[3], 7 * FRAME);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dts_order_no_bframes),
        cmocka_unit_test(test_dts_order_two_bframes),
        cmocka_unit_test(test_dts_order_pyramid_and_leading_picture),
        cmocka_unit_test(test_dts_order_deeper_than_said),
        cmocka_unit_test(test_dts_order_time_line_jump),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
