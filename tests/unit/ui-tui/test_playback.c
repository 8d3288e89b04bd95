/* SPDX-License-Identifier: MIT */
/*
 * Tests of ui-tui/playback.c on segments made by the real storage writer
 * from the committed 160x120 25 fps clip (GOP 25): seeking to T gives a
 * decoded frame within one frame interval of T, in the middle of a
 * segment, in its first GOP and across a segment boundary; stepping is
 * continuous across boundaries and skips gaps; the segment still being
 * written is followed as it grows.
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

#include "../storage/clip.h"
#include "storage/catalog.h"
#include "storage/segment.h"
#include "storage/writer.h"
#include "ui-tui/playback.h"

#define BASE_WALL_US INT64_C(1700000000000000) /* 2023-11-14T22:13:20Z */
/* Second session: 10 s after the first one's start, after a gap. */
#define GAP_WALL_US (BASE_WALL_US + 10000000)
#define FRAMES      150 /* 6 s: three 2 s segments */
#define MAX_ROWS    16

struct fixture {
    struct clip clip;
    char *dir;
    char db[512];
    struct catalog *cat;
    int64_t cam;
    struct catalog_segment rows[MAX_ROWS];
    int n_rows;
    struct playback *pb;
};

static void record(struct fixture *f, int64_t wall_us, int n)
{
    struct writer_config cfg = {.storage_dir = f->dir,
                                .catalog_path = f->db,
                                .camera = "gate",
                                .segment_seconds = 2};
    struct nvr_stream_info info;
    struct writer *w;

    memset(&info, 0, sizeof(info));
    info.n_tracks = 1;
    info.tracks[0] = f->clip.track;
    assert_int_equal(writer_new(&cfg, &w), 0);
    assert_int_equal(writer_push_stream(w, &info), 0);
    for (int i = 0; i < n; i++)
        assert_int_equal(
            writer_push_au(w, clip_au(&f->clip, i, (int64_t)i * CLIP_TICKS,
                                      wall_us + (int64_t)i * CLIP_US, 0)),
            0);
    writer_free(w);
}

static int collect(void *user, const struct catalog_segment *seg)
{
    struct fixture *f = user;

    assert_true(f->n_rows < MAX_ROWS);
    f->rows[f->n_rows++] = *seg;
    return 0;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    clip_load(&f->clip);
    f->dir = make_tmpdir();
    snprintf(f->db, sizeof(f->db), "%s/catalog.db", f->dir);
    record(f, BASE_WALL_US, FRAMES);
    record(f, GAP_WALL_US, 50);
    assert_int_equal(catalog_open(f->db, CATALOG_READWRITE, &f->cat), 0);
    assert_int_equal(catalog_camera_find(f->cat, "gate", &f->cam), 0);
    assert_int_equal(catalog_segment_list(f->cat, f->cam, INT64_MIN, INT64_MAX,
                                          0, collect, f),
                     0);
    /* 6 s cut every 2 s at a keyframe, then the second session. */
    assert_true(f->n_rows >= 3);
    assert_int_equal(f->rows[0].start_us, BASE_WALL_US);
    assert_int_equal(f->rows[f->n_rows - 1].start_us, GAP_WALL_US);
    assert_int_equal(playback_new(f->cat, f->dir, f->cam, &f->pb), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    playback_free(f->pb);
    catalog_close(f->cat);
    remove_tree(f->dir);
    free(f->dir);
    clip_free(&f->clip);
    free(f);
    return 0;
}

/* Seeks to t and checks the frame is at or before t, within one frame. */
static void check_seek(struct fixture *f, int64_t t)
{
    int64_t got;

    assert_int_equal(playback_seek(f->pb, t), 0);
    got = playback_frame_time(f->pb);
    if (got > t || t - got >= CLIP_US)
        fail_msg("seek to %+lld us: frame at %+lld us",
                 (long long)(t - BASE_WALL_US),
                 (long long)(got - BASE_WALL_US));
    assert_int_equal(playback_frame_interval(f->pb), CLIP_US);
}

static void test_playback_seek_middle(void **state)
{
    struct fixture *f = *state;
    int w, h;

    check_seek(f, BASE_WALL_US + 1500000 + 7000);
    check_seek(f, BASE_WALL_US + 520000);
    /* Exactly on a frame. */
    check_seek(f, BASE_WALL_US + 40 * CLIP_US);
    assert_int_equal(playback_frame_time(f->pb), BASE_WALL_US + 40 * CLIP_US);
    playback_frame_size(f->pb, &w, &h);
    assert_int_equal(w, 160);
    assert_int_equal(h, 120);
}

static void test_playback_seek_first_gop(void **state)
{
    struct fixture *f = *state;

    /* The very first frame, and inside the first GOP of each segment. */
    check_seek(f, BASE_WALL_US);
    assert_int_equal(playback_frame_time(f->pb), BASE_WALL_US);
    for (int i = 0; i < f->n_rows; i++) {
        check_seek(f, f->rows[i].start_us + 3 * CLIP_US + 100);
        check_seek(f, f->rows[i].start_us + 17 * CLIP_US);
        check_seek(f, f->rows[i].start_us);
        assert_int_equal(playback_frame_time(f->pb), f->rows[i].start_us);
    }
    /* Backwards, which must reopen or re-seek correctly. */
    check_seek(f, BASE_WALL_US + 2 * CLIP_US);
}

static void test_playback_seek_boundary(void **state)
{
    struct fixture *f = *state;
    int64_t b = f->rows[1].start_us, t;

    assert_int_equal(f->rows[0].end_us, b);
    /* Just before the boundary: the last frame of the first segment. */
    check_seek(f, b - 1);
    assert_int_equal(playback_frame_time(f->pb), b - CLIP_US);
    check_seek(f, b + CLIP_US / 2);
    assert_int_equal(playback_frame_time(f->pb), b);
    /* Stepping from before the boundary crosses it frame by frame. */
    check_seek(f, b - 3 * CLIP_US);
    t = playback_frame_time(f->pb);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(playback_step(f->pb), 0);
        assert_int_equal(playback_frame_time(f->pb), t + CLIP_US);
        t += CLIP_US;
    }
    assert_true(t > b);
}

static void test_playback_gap(void **state)
{
    struct fixture *f = *state;
    int64_t end = BASE_WALL_US + (int64_t)FRAMES * CLIP_US;
    int r;

    /* In the gap: the first frame after it. */
    assert_int_equal(playback_seek(f->pb, end + 1000000), 0);
    assert_int_equal(playback_frame_time(f->pb), GAP_WALL_US);
    /* Stepping off the end of the first session lands after the gap. */
    assert_int_equal(playback_seek(f->pb, end - CLIP_US), 0);
    assert_int_equal(playback_frame_time(f->pb), end - CLIP_US);
    assert_int_equal(playback_step(f->pb), 0);
    assert_int_equal(playback_frame_time(f->pb), GAP_WALL_US);
    /* advance_to seeks far and steps near. */
    assert_int_equal(playback_advance_to(f->pb, GAP_WALL_US + 500000), 0);
    assert_true(GAP_WALL_US + 500000 - playback_frame_time(f->pb) < CLIP_US);
    /* After the last frame there is nothing more. */
    assert_int_equal(playback_seek(f->pb, GAP_WALL_US + 49 * CLIP_US), 0);
    r = playback_step(f->pb);
    assert_int_equal(r, -ENOENT);
    assert_int_equal(playback_seek(f->pb, GAP_WALL_US + 3600000000LL), -ENOENT);
}

static void test_playback_rgba(void **state)
{
    struct fixture *f = *state;
    const uint8_t *px;
    int stride, nonblack = 0;

    assert_int_equal(playback_seek(f->pb, BASE_WALL_US + 1000000), 0);
    assert_int_equal(playback_frame_rgba(f->pb, 64, 32, &px, &stride), 0);
    assert_int_equal(stride, 64 * 4);
    for (int i = 0; i < 64 * 32; i++)
        nonblack += px[i * 4] > 16 || px[i * 4 + 1] > 16 || px[i * 4 + 2] > 16;
    assert_true(nonblack > 64);
    assert_int_equal(playback_frame_rgba(f->pb, 0, 32, &px, &stride), -EINVAL);
}

static void write_au(struct fixture *f, struct segment *seg, int i,
                     int64_t wall)
{
    struct nvr_au *au =
        clip_au(&f->clip, i, (int64_t)i * CLIP_TICKS, wall + i * CLIP_US, 0);

    assert_int_equal(segment_write(seg, au), 0);
    nvr_au_unref(au);
}

/* A segment still being written: live view shows its newest complete GOP,
 * and stepping follows the file as fragments are added. */
static void test_playback_growing_segment(void **state)
{
    struct fixture *f = *state;
    struct catalog_segment row = {0};
    struct segment_result res;
    struct segment *seg;
    char path[1024];
    int64_t wall = GAP_WALL_US + 100000000, t;
    int i, r;

    assert_int_equal(catalog_camera_ensure(f->cat, "gate", &row.camera_id), 0);
    row.start_us = row.end_us = wall;
    snprintf(row.path, sizeof(row.path), "gate/live.mp4");
    snprintf(row.codec, sizeof(row.codec), "h264");
    assert_int_equal(catalog_segment_begin(f->cat, &row), 0);
    snprintf(path, sizeof(path), "%s/%s", f->dir, row.path);
    assert_int_equal(segment_open(path, &f->clip.track, wall, &seg), 0);
    /* One GOP, the next keyframe and one more (the segment holds one unit
     * back): the first fragment is on disk. */
    for (i = 0; i <= 26; i++)
        write_au(f, seg, i, wall);
    assert_int_equal(
        catalog_segment_progress(f->cat, row.id, wall + 25 * CLIP_US, 1, 25),
        0);
    assert_int_equal(playback_seek_live(f->pb), 0);
    t = playback_frame_time(f->pb);
    assert_true(t >= wall + 20 * CLIP_US && t < wall + 25 * CLIP_US);
    /* Nothing newer yet. */
    while ((r = playback_step(f->pb)) == 0)
        ;
    assert_int_equal(r, -EAGAIN);
    t = playback_frame_time(f->pb);
    /* The next GOP reaches the file. */
    for (; i <= 51; i++)
        write_au(f, seg, i, wall);
    assert_int_equal(playback_step(f->pb), 0);
    assert_int_equal(playback_frame_time(f->pb), t + CLIP_US);
    while ((r = playback_step(f->pb)) == 0)
        assert_true(playback_frame_time(f->pb) < wall + 50 * CLIP_US);
    assert_int_equal(r, -EAGAIN);
    assert_true(playback_frame_time(f->pb) >= wall + 45 * CLIP_US);
    (void)segment_close(seg, SEGMENT_NO_PTS, &res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_playback_seek_middle, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_playback_seek_first_gop, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_playback_seek_boundary, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_playback_gap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_playback_rgba, setup, teardown),
        cmocka_unit_test_setup_teardown(test_playback_growing_segment, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
