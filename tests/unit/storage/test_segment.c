/* SPDX-License-Identifier: MIT */
/*
 * Tests of storage/segment.c: real H.264 access units from a committed clip
 * muxed into fragmented MP4 in a temp dir, then read back with libavformat
 * (codec, size, frame count, duration, keyframe) and hashed.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libavformat/avformat.h>
#include <libavutil/mathematics.h>

#include "clip.h"
#include "storage/segment.h"

struct fixture {
    struct clip clip;
    char *dir;
    char path[512];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    clip_load(&f->clip);
    f->dir = make_tmpdir();
    snprintf(f->path, sizeof(f->path), "%s/seg.mp4", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    remove_tree(f->dir);
    free(f->dir);
    clip_free(&f->clip);
    free(f);
    return 0;
}

/* Writes units [from, to) of the looped clip with pts = i * CLIP_TICKS. */
static void write_range(struct fixture *f, struct segment *seg, int from,
                        int to)
{
    for (int i = from; i < to; i++) {
        struct nvr_au *au = clip_au(&f->clip, i, 1000 + (int64_t)i * CLIP_TICKS,
                                    1700000000000000 + (int64_t)i * CLIP_US, 0);
        assert_int_equal(segment_write(seg, au), 0);
        nvr_au_unref(au);
    }
}

static void test_segment_roundtrip(void **state)
{
    struct fixture *f = *state;
    struct segment *seg;
    struct segment_result res;
    struct probe p;
    char sha[65];

    assert_int_equal(
        segment_open(f->path, &f->clip.track, 1700000000000000, &seg), 0);
    write_range(f, seg, 0, 50);
    assert_int_equal(segment_close(seg, SEGMENT_NO_PTS, &res), 0);

    assert_int_equal(res.frames, 50);
    assert_int_equal(res.first_pts, 1000);
    assert_int_equal(res.last_pts, 1000 + 49 * CLIP_TICKS);
    /* The last unit gets the previous unit's duration. */
    assert_int_equal(res.duration_us, 50 * CLIP_US);
    assert_int_equal(res.dropped, 0);
    assert_int_equal(res.bytes, file_size(f->path));

    probe_file(f->path, &p);
    assert_true(p.ok);
    assert_string_equal(p.codec, "h264");
    assert_int_equal(p.width, 160);
    assert_int_equal(p.height, 120);
    assert_int_equal(p.frames, 50);
    assert_true(p.first_key);
    assert_true(llabs(p.duration_us - res.duration_us) <= 1);
    assert_int_equal(decode_file(f->path), 50);

    assert_int_equal(sha256_file(f->path, sha), 0);
    assert_string_equal(sha, res.sha256);
    assert_int_equal(strlen(res.sha256), 64);
}

static void test_segment_next_pts_sets_last_duration(void **state)
{
    struct fixture *f = *state;
    struct segment *seg;
    struct segment_result res;
    struct probe p;

    assert_int_equal(segment_open(f->path, &f->clip.track, 0, &seg), 0);
    write_range(f, seg, 0, 30);
    /* The next unit comes 3 frame periods later: the held unit lasts 3. */
    assert_int_equal(segment_close(seg, 1000 + 32 * (int64_t)CLIP_TICKS, &res),
                     0);
    assert_int_equal(res.frames, 30);
    assert_int_equal(res.duration_us, 32 * CLIP_US);
    probe_file(f->path, &p);
    assert_int_equal(p.frames, 30);
    assert_true(llabs(p.duration_us - (int64_t)32 * CLIP_US) <= 1);
}

static void test_segment_single_unit(void **state)
{
    struct fixture *f = *state;
    struct segment *seg;
    struct segment_result res;
    struct probe p;

    assert_int_equal(segment_open(f->path, &f->clip.track, 0, &seg), 0);
    write_range(f, seg, 0, 1);
    assert_int_equal(segment_close(seg, SEGMENT_NO_PTS, &res), 0);
    assert_int_equal(res.frames, 1);
    assert_int_equal(res.duration_us, 1000000 / SEGMENT_DEFAULT_FPS);
    probe_file(f->path, &p);
    assert_int_equal(p.frames, 1);
    assert_true(p.first_key);
}

static void test_segment_refuses_non_increasing_dts(void **state)
{
    struct fixture *f = *state;
    struct segment *seg;
    struct segment_result res;
    struct probe p;
    int64_t pts[] = {0, 3600, 3600, 1800, 7200, 7200, 10800};
    int expect[] = {0, 0, 2, 2, 0, 2, 0};

    assert_int_equal(segment_open(f->path, &f->clip.track, 0, &seg), 0);
    for (size_t i = 0; i < NVR_ARRAY_SIZE(pts); i++) {
        struct nvr_au *au = clip_au(&f->clip, (int)i, pts[i], 0, 0);
        assert_int_equal(segment_write(seg, au), expect[i]);
        nvr_au_unref(au);
    }
    assert_int_equal(segment_close(seg, SEGMENT_NO_PTS, &res), 0);
    assert_int_equal(res.frames, 4);
    assert_int_equal(res.dropped, 0);
    assert_int_equal(res.dts_refused, 3);
    assert_int_equal(res.duration_us, 4 * CLIP_US);
    probe_file(f->path, &p);
    assert_int_equal(p.frames, 4);
    assert_true(llabs(p.duration_us - res.duration_us) <= 1);
}

/* Units in decode order with B-frame presentation times (I0 P3 B1 B2 ...,
 * decoded one frame before shown): the file holds the composition
 * offsets, its edit list makes the keyframe presented at 0 (start_time
 * 0), and every packet's pts and dts come back as given. */
/* Units of test_segment_bframes: I0, then groups P B B ending in B. */
#define BF_UNITS 28

static void test_segment_bframes(void **state)
{
    struct fixture *f = *state;
    struct segment *seg;
    struct segment_result res;
    AVFormatContext *fmt = NULL;
    AVPacket *pkt = av_packet_alloc();
    int64_t pts[BF_UNITS], dts[BF_UNITS], prev_dts = INT64_MIN;
    int n = 0;

    assert_non_null(pkt);
    for (int i = 0; i < BF_UNITS; i++) {
        /* Presentation order within each group of three after unit 0. */
        static const int shift[] = {2, -1, -1};
        int frame = i == 0 ? 0 : i + shift[(i - 1) % 3];

        pts[i] = 1000 + (int64_t)frame * CLIP_TICKS;
        dts[i] = 1000 + (int64_t)(i - 1) * CLIP_TICKS;
    }
    assert_int_equal(segment_open(f->path, &f->clip.track, 0, &seg), 0);
    for (int i = 0; i < BF_UNITS; i++) {
        struct nvr_au *au = clip_au(&f->clip, i, pts[i], 0, 0);

        au->dts = dts[i];
        assert_int_equal(segment_write(seg, au), 0);
        nvr_au_unref(au);
    }
    /* A unit decoded no later than the one before is refused, apart. */
    {
        struct nvr_au *au =
            clip_au(&f->clip, BF_UNITS, pts[BF_UNITS - 3] + CLIP_TICKS, 0, 0);

        au->dts = dts[BF_UNITS - 1];
        assert_int_equal(segment_write(seg, au), 2);
        nvr_au_unref(au);
    }
    assert_int_equal(segment_close(seg, dts[BF_UNITS - 1] + CLIP_TICKS, &res),
                     0);
    assert_int_equal(res.frames, BF_UNITS);
    assert_int_equal(res.dts_refused, 1);
    assert_int_equal(res.first_pts, 1000);
    /* From the first frame shown to the end of the last. */
    assert_int_equal(res.duration_us, BF_UNITS * CLIP_US);

    assert_int_equal(avformat_open_input(&fmt, f->path, NULL, NULL), 0);
    assert_true(avformat_find_stream_info(fmt, NULL) >= 0);
    assert_int_equal(fmt->streams[0]->start_time, 0);
    while (av_read_frame(fmt, pkt) >= 0) {
        AVRational tb = fmt->streams[0]->time_base;
        AVRational c = {1, 90000};

        assert_true(n < BF_UNITS);
        assert_int_equal(av_rescale_q(pkt->pts, tb, c), pts[n] - 1000);
        assert_int_equal(av_rescale_q(pkt->dts, tb, c), dts[n] - 1000);
        assert_true(pkt->dts > prev_dts);
        prev_dts = pkt->dts;
        n++;
        av_packet_unref(pkt);
    }
    assert_int_equal(n, BF_UNITS);
    avformat_close_input(&fmt);
    av_packet_free(&pkt);
}

static void test_segment_readable_while_open(void **state)
{
    struct fixture *f = *state;
    struct segment *seg;
    struct segment_result res;
    struct probe p;
    char sha[65];

    assert_int_equal(segment_open(f->path, &f->clip.track, 0, &seg), 0);
    write_range(f, seg, 0, 2 * CLIP_FPS);

    /* The first GOP's fragment was flushed when the second keyframe was
     * muxed; the second GOP is still in flight. */
    probe_file(f->path, &p);
    assert_true(p.ok);
    assert_int_equal(p.frames, CLIP_FPS);
    assert_true(p.first_key);
    segment_get_progress(seg, &res);
    assert_int_equal(res.bytes, file_size(f->path));
    assert_int_equal(res.frames, 2 * CLIP_FPS - 1);

    assert_int_equal(segment_close(seg, SEGMENT_NO_PTS, &res), 0);
    probe_file(f->path, &p);
    assert_int_equal(p.frames, 2 * CLIP_FPS);
    assert_int_equal(sha256_file(f->path, sha), 0);
    assert_string_equal(sha, res.sha256);
}

static void test_segment_refuses_bad_input(void **state)
{
    struct fixture *f = *state;
    struct segment *seg;
    struct segment_result res;
    struct nvr_track_info audio = {.codec = NVR_CODEC_AAC, .clock_rate = 48000};
    struct nvr_au *au;

    assert_int_equal(segment_open(f->path, &audio, 0, &seg), -EINVAL);
    assert_int_equal(segment_open(f->path, &f->clip.track, 0, &seg), 0);
    /* The first unit must start a GOP. */
    au = clip_au(&f->clip, 1, 0, 0, 0);
    assert_int_equal(segment_write(seg, au), -EINVAL);
    nvr_au_unref(au);
    /* O_EXCL: an existing file is never overwritten. */
    {
        struct segment *again = NULL;
        assert_int_equal(segment_open(f->path, &f->clip.track, 0, &again),
                         -EEXIST);
        assert_null(again);
    }
    assert_int_equal(segment_close(seg, SEGMENT_NO_PTS, &res), 0);
    assert_int_equal(res.frames, 0);
    assert_int_equal(segment_close(NULL, SEGMENT_NO_PTS, &res), 0);
}

static void test_segment_dims_from_sps(void **state)
{
    struct fixture *f = *state;
    struct segment *seg;
    struct segment_result res;
    struct nvr_track_info t = f->clip.track;
    struct probe p;

    t.width = 0;
    t.height = 0;
    assert_int_equal(segment_open(f->path, &t, 0, &seg), 0);
    write_range(f, seg, 0, 3);
    assert_int_equal(segment_close(seg, SEGMENT_NO_PTS, &res), 0);
    probe_file(f->path, &p);
    assert_int_equal(p.width, 160);
    assert_int_equal(p.height, 120);
}

static void test_segment_params_in_band(void **state)
{
    struct fixture *f = *state;
    struct segment *seg;
    struct segment_result res;
    struct nvr_track_info t = f->clip.track;
    struct probe p;

    /* No parameter sets and no size from the session: both come from the
     * SPS/PPS the keyframe carries. */
    t.params_len = 0;
    t.width = 0;
    t.height = 0;
    assert_int_equal(segment_open(f->path, &t, 0, &seg), 0);
    write_range(f, seg, 0, CLIP_FPS + 1);
    assert_int_equal(segment_close(seg, SEGMENT_NO_PTS, &res), 0);
    assert_int_equal(res.width, 160);
    assert_int_equal(res.height, 120);
    probe_file(f->path, &p);
    assert_true(p.ok);
    assert_int_equal(p.width, 160);
    assert_int_equal(p.frames, CLIP_FPS + 1);
    assert_int_equal(decode_file(f->path), CLIP_FPS + 1);
}

static void test_segment_h265(void **state)
{
    struct fixture *f = *state;
    struct clip hevc;
    struct segment *seg;
    struct segment_result res;
    struct probe p;
    char sha[65];

    clip_load_codec(&hevc, NVR_CODEC_H265);
    assert_int_equal(segment_open(f->path, &hevc.track, 0, &seg), 0);
    for (int i = 0; i < 2 * CLIP_FPS; i++) {
        struct nvr_au *au = clip_au(&hevc, i, (int64_t)i * CLIP_TICKS, 0, 0);
        assert_int_equal(segment_write(seg, au), 0);
        nvr_au_unref(au);
    }
    assert_int_equal(segment_close(seg, SEGMENT_NO_PTS, &res), 0);
    clip_free(&hevc);

    probe_file(f->path, &p);
    assert_true(p.ok);
    assert_string_equal(p.codec, "hevc");
    assert_int_equal(p.width, 160);
    assert_int_equal(p.height, 120);
    assert_int_equal(p.frames, 2 * CLIP_FPS);
    assert_true(p.first_key);
    assert_true(llabs(p.duration_us - res.duration_us) <= 1);
    assert_int_equal(decode_file(f->path), 2 * CLIP_FPS);
    assert_int_equal(sha256_file(f->path, sha), 0);
    assert_string_equal(sha, res.sha256);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_segment_roundtrip, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_segment_next_pts_sets_last_duration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_segment_single_unit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_segment_refuses_non_increasing_dts,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_segment_bframes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_segment_readable_while_open, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_segment_refuses_bad_input, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_segment_dims_from_sps, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_segment_params_in_band, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_segment_h265, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
