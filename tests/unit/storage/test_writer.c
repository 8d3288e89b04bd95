/* SPDX-License-Identifier: MIT */
/*
 * Tests of storage/writer.c against the real catalog and real files in a
 * temp dir: segments cut at keyframes and contiguous, catalog rows that
 * match the files, whole-GOP drops on queue overflow, session breaks, and
 * disk-full fault injection through the fsops seam (fsops_write fails the
 * n-th call; fsops_mkdir_p can hold the writer thread still).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cmocka.h>

#include "clip.h"
#include "storage/catalog.h"
#include "storage/fsops.h"
#include "storage/writer.h"

#define BASE_WALL_US INT64_C(1700000000000000) /* 2023-11-14T22:13:20Z */
#define BASE_PTS     90000
#define MAX_ROWS     64

/* ---- seam mocks ---- */

ssize_t __real_fsops_write(int fd, const void *buf, size_t len);
ssize_t __wrap_fsops_write(int fd, const void *buf, size_t len);
ssize_t __real_fsops_writev(int fd, const struct iovec *iov, int cnt);
ssize_t __wrap_fsops_writev(int fd, const struct iovec *iov, int cnt);
int __real_fsops_mkdir_p(const char *path, mode_t mode);
int __wrap_fsops_mkdir_p(const char *path, mode_t mode);

static int write_calls;   /* fsops_write and fsops_writev calls so far */
static int write_fail_at; /* fail this call (1-based) with -ENOSPC; 0 never */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_closed;  /* fsops_mkdir_p waits while set */
static bool gate_entered; /* the writer thread is waiting at the gate */

ssize_t __wrap_fsops_write(int fd, const void *buf, size_t len)
{
    if (++write_calls == write_fail_at)
        return -ENOSPC;
    return __real_fsops_write(fd, buf, len);
}

ssize_t __wrap_fsops_writev(int fd, const struct iovec *iov, int cnt)
{
    if (++write_calls == write_fail_at)
        return -ENOSPC;
    return __real_fsops_writev(fd, iov, cnt);
}

int __wrap_fsops_mkdir_p(const char *path, mode_t mode)
{
    pthread_mutex_lock(&gate_mu);
    gate_entered = true;
    pthread_cond_broadcast(&gate_cv);
    while (gate_closed)
        pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);
    return __real_fsops_mkdir_p(path, mode);
}

static void gate_wait_entered(void)
{
    pthread_mutex_lock(&gate_mu);
    while (!gate_entered)
        pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);
}

static void gate_open(void)
{
    pthread_mutex_lock(&gate_mu);
    gate_closed = false;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
}

/* ---- fixture ---- */

struct fixture {
    struct clip clip;
    char *dir;
    char db[512];
    struct writer_config cfg;
    struct catalog_segment rows[MAX_ROWS];
    int n_rows;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    clip_load(&f->clip);
    f->dir = make_tmpdir();
    snprintf(f->db, sizeof(f->db), "%s/catalog.db", f->dir);
    f->cfg.storage_dir = f->dir;
    f->cfg.catalog_path = f->db;
    f->cfg.camera = "gate";
    f->cfg.segment_seconds = 2;
    write_calls = 0;
    write_fail_at = 0;
    gate_closed = false;
    gate_entered = false;
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

static void push_stream(struct fixture *f, struct writer *w)
{
    struct nvr_stream_info info;

    memset(&info, 0, sizeof(info));
    info.n_tracks = 1;
    info.tracks[0] = f->clip.track;
    assert_int_equal(writer_push_stream(w, &info), 0);
}

static int64_t pts_of(int i)
{
    return BASE_PTS + (int64_t)i * CLIP_TICKS;
}

static int64_t wall_of(int i)
{
    return BASE_WALL_US + (int64_t)i * CLIP_US;
}

/* Pushes units [from, to) of the looped clip; returns how many the queue
 * refused. */
static int feed(struct fixture *f, struct writer *w, int from, int to)
{
    int refused = 0;

    for (int i = from; i < to; i++) {
        struct nvr_au *au = clip_au(&f->clip, i, pts_of(i), wall_of(i), 0);
        int r = writer_push_au(w, au);
        assert_true(r == 0 || r == -ENOBUFS);
        refused += r != 0;
    }
    return refused;
}

static void wait_drained(struct writer *w)
{
    struct writer_stats st;

    for (int i = 0; i < 5000; i++) {
        writer_get_stats(w, &st);
        if (st.queued_bytes == 0)
            return;
        usleep(1000);
    }
    fail_msg("writer queue never drained");
}

static int collect(void *user, const struct catalog_segment *seg)
{
    struct fixture *f = user;

    assert_true(f->n_rows < MAX_ROWS);
    f->rows[f->n_rows++] = *seg;
    return 0;
}

static int by_id(const void *a, const void *b)
{
    const struct catalog_segment *x = a, *y = b;

    return (x->id > y->id) - (x->id < y->id);
}

/* Loads every segment row of camera "gate" into f->rows, oldest first. */
static void load_rows(struct fixture *f)
{
    struct catalog *cat;
    int64_t cam;

    f->n_rows = 0;
    assert_int_equal(catalog_open(f->db, CATALOG_READONLY, &cat), 0);
    assert_int_equal(catalog_camera_find(cat, "gate", &cam), 0);
    assert_int_equal(
        catalog_segment_list(cat, cam, INT64_MIN, INT64_MAX, 0, collect, f), 0);
    catalog_close(cat);
    qsort(f->rows, (size_t)f->n_rows, sizeof(f->rows[0]), by_id);
}

/* Every CLOSED row describes its file exactly; returns the frames. */
static int64_t check_closed_row(struct fixture *f,
                                const struct catalog_segment *row)
{
    char path[1024], sha[65];
    struct probe p;

    assert_int_equal(row->status, CATALOG_SEG_CLOSED);
    snprintf(path, sizeof(path), "%s/%s", f->dir, row->path);
    probe_file(path, &p);
    assert_true(p.ok);
    assert_true(p.first_key);
    assert_string_equal(p.codec, "h264");
    assert_int_equal(p.frames, row->frames);
    /* Every frame decodes: no unit of a broken GOP was written. */
    assert_int_equal(decode_file(path), row->frames);
    assert_true(llabs(p.duration_us - (row->end_us - row->start_us)) <= 1);
    assert_int_equal(file_size(path), row->bytes);
    assert_int_equal(sha256_file(path, sha), 0);
    assert_string_equal(sha, row->sha256);
    assert_string_equal(row->codec, "h264");
    assert_int_equal(row->width, 160);
    assert_int_equal(row->height, 120);
    return row->frames;
}

/* ---- tests ---- */

static void test_writer_cuts_contiguous_segments(void **state)
{
    struct fixture *f = *state;
    struct writer *w;
    int64_t frames = 0;

    assert_int_equal(writer_new(&f->cfg, &w), 0);
    push_stream(f, w);
    assert_int_equal(feed(f, w, 0, 5 * CLIP_FPS), 0);
    writer_free(w); /* finishes the last segment */

    load_rows(f);
    /* Keyframes every second, 2 s target: cuts at 2 s and 4 s. */
    assert_int_equal(f->n_rows, 3);
    assert_int_equal(f->rows[0].start_us, BASE_WALL_US);
    for (int i = 0; i < f->n_rows; i++) {
        frames += check_closed_row(f, &f->rows[i]);
        if (i > 0)
            assert_int_equal(f->rows[i].start_us, f->rows[i - 1].end_us);
    }
    assert_int_equal(f->rows[0].frames, 2 * CLIP_FPS);
    assert_int_equal(f->rows[0].end_us - f->rows[0].start_us, 2000000);
    assert_int_equal(f->rows[2].frames, CLIP_FPS);
    assert_int_equal(f->rows[2].end_us, wall_of(5 * CLIP_FPS));
    assert_int_equal(frames, 5 * CLIP_FPS);
    assert_string_equal(f->rows[1].path,
                        "gate/2023-11-14/gate-20231114T221322.000000Z.mp4");
}

static void test_writer_contiguous_odd_rate(void **state)
{
    struct fixture *f = *state;
    struct writer *w;

    /* 3601 ticks per frame: a 50-frame segment lasts 2000555.56 us, so
     * durations are rounded to whole microseconds, yet each segment must
     * start exactly at the previous end. Wall times jitter by a few ms,
     * within the chaining tolerance. */
    assert_int_equal(writer_new(&f->cfg, &w), 0);
    push_stream(f, w);
    for (int i = 0; i < 6 * CLIP_FPS; i++) {
        int64_t wall = BASE_WALL_US + (int64_t)i * 3601 * 100 / 9 +
                       (int64_t)(i % 7) * 1000;
        assert_int_equal(
            writer_push_au(w, clip_au(&f->clip, i, (int64_t)i * 3601, wall, 0)),
            0);
    }
    writer_free(w);

    load_rows(f);
    assert_int_equal(f->n_rows, 3);
    assert_int_equal(f->rows[0].end_us - f->rows[0].start_us, 2000556);
    for (int i = 0; i < f->n_rows; i++) {
        check_closed_row(f, &f->rows[i]);
        if (i > 0)
            assert_int_equal(f->rows[i].start_us, f->rows[i - 1].end_us);
    }
}

static void test_writer_stats(void **state)
{
    struct fixture *f = *state;
    struct writer *w;
    struct writer_stats st;

    assert_int_equal(writer_new(&f->cfg, &w), 0);
    /* Units before any stream description cannot be recorded. */
    assert_int_equal(feed(f, w, 0, 3), 3);
    push_stream(f, w);
    /* Units before the first keyframe cannot start a segment. */
    assert_int_equal(feed(f, w, 20, 60), 0);
    wait_drained(w);
    writer_get_stats(w, &st);
    assert_int_equal(st.aus_dropped, 3 + 5);
    assert_int_equal(st.refused.n[NVR_REFUSAL_NO_PARAMS], 3);
    assert_int_equal(st.refused.n[NVR_REFUSAL_NO_KEYFRAME], 5);
    assert_int_equal(nvr_refusals_total(&st.refused), 3 + 5);
    assert_int_equal(st.aus_written, 35);
    assert_int_equal(st.last_wall_us, wall_of(59));
    assert_int_equal(st.last_err, 0);
    writer_free(w);

    load_rows(f);
    assert_int_equal(f->n_rows, 1);
    assert_int_equal(f->rows[0].start_us, wall_of(25));
    assert_int_equal(check_closed_row(f, &f->rows[0]), 35);
    /* Refused before any segment: counted in the first one's row. */
    assert_int_equal(f->rows[0].refused, 3 + 5);
}

/* A unit whose decode time does not increase is refused by the segment
 * and counted under its own reason; recording goes on around it. */
static void test_writer_counts_dts_refusals(void **state)
{
    struct fixture *f = *state;
    struct writer *w;
    struct writer_stats st;

    assert_int_equal(writer_new(&f->cfg, &w), 0);
    push_stream(f, w);
    assert_int_equal(feed(f, w, 0, 10), 0);
    for (int i = 10; i < 12; i++) {
        /* Decoded at unit 9's time again: out of decode order. */
        struct nvr_au *au = clip_au(&f->clip, i, pts_of(i), wall_of(i), 0);

        au->dts = pts_of(9);
        assert_int_equal(writer_push_au(w, au), 0);
    }
    {
        /* Ingest refused 4 units before this one. */
        struct nvr_au *au = clip_au(&f->clip, 12, pts_of(12), wall_of(12), 0);

        au->refused_before = 4;
        assert_int_equal(writer_push_au(w, au), 0);
    }
    assert_int_equal(feed(f, w, 13, 20), 0);
    wait_drained(w);
    writer_get_stats(w, &st);
    assert_int_equal(st.aus_dts_refused, 2);
    assert_int_equal(st.aus_dropped, 2);
    assert_int_equal(st.refused.n[NVR_REFUSAL_BAD_TIMESTAMP], 2);
    assert_int_equal(nvr_refusals_total(&st.refused), 2);
    assert_int_equal(st.aus_written, 18);
    writer_free(w);
    load_rows(f);
    assert_int_equal(f->n_rows, 1);
    assert_int_equal(f->rows[0].frames, 18);
    /* The segment's row counts its own refusals and ingest's. */
    assert_int_equal(f->rows[0].refused, 2 + 4);
}

static void test_writer_overflow_drops_whole_gops(void **state)
{
    struct fixture *f = *state;
    struct writer *w;
    struct writer_stats st;
    size_t cap = f->clip.aus[0].len, queued = f->clip.aus[0].len;
    int admitted = 0;

    /* Room for unit 0 (the keyframe, still counted while the thread holds
     * it) and units 1..5; unit 6 overflows. */
    for (int i = 1; i <= 5; i++)
        cap += f->clip.aus[i].len;
    while (queued + f->clip.aus[admitted + 1].len <= cap)
        queued += f->clip.aus[++admitted].len;
    assert_int_equal(admitted, 5);
    f->cfg.queue_max_bytes = cap;
    f->cfg.segment_seconds = 60;
    gate_closed = true;
    assert_int_equal(writer_new(&f->cfg, &w), 0);
    push_stream(f, w);
    assert_int_equal(feed(f, w, 0, 1), 0);
    /* The writer thread took unit 0 and is held while opening the file. */
    gate_wait_entered();
    assert_int_equal(feed(f, w, 1, 31), 30 - admitted);
    writer_get_stats(w, &st);
    assert_int_equal(st.queued_bytes, queued);
    assert_int_equal(st.aus_dropped, 30 - admitted);
    gate_open();
    wait_drained(w);
    /* The queue is empty again, but the GOP is still broken: everything
     * up to the next keyframe (unit 50) is dropped too. */
    assert_int_equal(feed(f, w, 31, 50), 19);
    for (int i = 50; i < 75; i++) {
        assert_int_equal(feed(f, w, i, i + 1), 0);
        wait_drained(w); /* the queue only holds one keyframe */
    }
    writer_get_stats(w, &st);
    assert_int_equal(st.refused.n[NVR_REFUSAL_QUEUE_FULL], 30 - admitted + 19);
    assert_int_equal(nvr_refusals_total(&st.refused), 30 - admitted + 19);
    writer_free(w);

    load_rows(f);
    assert_int_equal(f->n_rows, 1);
    assert_int_equal(check_closed_row(f, &f->rows[0]), 1 + admitted + 25);
    assert_int_equal(f->rows[0].refused, 30 - admitted + 19);
    /* The gap stays in the timeline: unit k lasts until unit 50. */
    assert_int_equal(f->rows[0].end_us - f->rows[0].start_us, 3000000);
}

static void test_writer_break_records_event(void **state)
{
    struct fixture *f = *state;
    struct writer *w;
    struct writer_stats st;
    struct catalog *cat;
    int64_t cam;
    char text[256];

    f->cfg.segment_seconds = 60;
    assert_int_equal(writer_new(&f->cfg, &w), 0);
    push_stream(f, w);
    assert_int_equal(feed(f, w, 0, 31), 0);
    assert_int_equal(writer_push_break(w, "connection lost: timed out"), 0);
    assert_int_equal(feed(f, w, 31, 75), 0);
    wait_drained(w);
    writer_get_stats(w, &st);
    assert_int_equal(st.aus_dropped, 19); /* 31..49: no keyframe yet */
    assert_int_equal(st.segments, 1);
    writer_free(w);

    load_rows(f);
    assert_int_equal(f->n_rows, 2);
    assert_int_equal(check_closed_row(f, &f->rows[0]), 31);
    assert_int_equal(check_closed_row(f, &f->rows[1]), 25);
    assert_int_equal(f->rows[1].start_us, wall_of(50));

    assert_int_equal(catalog_open(f->db, CATALOG_READONLY, &cat), 0);
    assert_int_equal(catalog_camera_find(cat, "gate", &cam), 0);
    assert_int_equal(catalog_event_find(cat, cam, wall_of(30), wall_of(30),
                                        text, sizeof(text)),
                     0);
    assert_non_null(strstr(text, "break"));
    assert_non_null(strstr(text, "connection lost: timed out"));
    catalog_close(cat);
}

static void test_writer_params_change_cuts(void **state)
{
    struct fixture *f = *state;
    struct writer *w;
    struct nvr_stream_info info;

    f->cfg.segment_seconds = 60;
    assert_int_equal(writer_new(&f->cfg, &w), 0);
    push_stream(f, w);
    assert_int_equal(feed(f, w, 0, 30), 0);
    /* New parameter sets (a different PPS id would do; here one byte of
     * trailing data is enough to differ) cut at the next keyframe. */
    memset(&info, 0, sizeof(info));
    info.n_tracks = 1;
    info.tracks[0] = f->clip.track;
    info.tracks[0].params_gen = 2;
    assert_int_equal(writer_push_stream(w, &info), 0);
    assert_int_equal(feed(f, w, 30, 40), 0); /* same bytes: no cut */
    info.tracks[0].params_gen = 3;
    info.tracks[0].params[info.tracks[0].params_len++] = 0;
    assert_int_equal(writer_push_stream(w, &info), 0);
    assert_int_equal(feed(f, w, 40, 75), 0);
    writer_free(w);

    load_rows(f);
    assert_int_equal(f->n_rows, 2);
    assert_int_equal(check_closed_row(f, &f->rows[0]), 40);
    assert_int_equal(check_closed_row(f, &f->rows[1]), 25);
    assert_int_equal(f->rows[1].start_us, wall_of(50));
}

/* Fails the n-th write with -ENOSPC and checks the catalog afterwards. */
static uint64_t dropped; /* by the last run_enospc() */

static void run_enospc(struct fixture *f, int fail_at, int expect_closed,
                       int expect_missing)
{
    struct writer *w;
    struct writer_stats st;
    int closed = 0, missing = 0;

    write_fail_at = fail_at;
    /* Everything is queued while the thread waits to open the first
     * file, so it never finds its queue empty before the end: fragments
     * are then cut at keyframes only, and the call that fails is known. */
    gate_closed = true;
    assert_int_equal(writer_new(&f->cfg, &w), 0);
    push_stream(f, w);
    assert_int_equal(feed(f, w, 0, 1), 0);
    gate_wait_entered();
    assert_int_equal(feed(f, w, 1, 7 * CLIP_FPS), 0);
    gate_open();
    wait_drained(w);
    writer_get_stats(w, &st);
    /* One disk-full episode, over: recording resumed and the error was
     * cleared with it. */
    assert_int_equal(st.disk_full_episodes, 1);
    assert_int_equal(st.disk_full, 0);
    assert_int_equal(st.last_err, 0);
    dropped = st.aus_dropped;
    writer_free(w);
    {
        struct catalog *cat;
        char why[256];
        int64_t cam;

        /* The gap is labelled with why. */
        assert_int_equal(catalog_open(f->db, CATALOG_READONLY, &cat), 0);
        assert_int_equal(catalog_camera_find(cat, "gate", &cam), 0);
        assert_int_equal(
            catalog_event_find(cat, cam, 0, INT64_MAX, why, sizeof(why)), 0);
        assert_non_null(strstr(why, "disk full"));
        catalog_close(cat);
    }

    load_rows(f);
    for (int i = 0; i < f->n_rows; i++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", f->dir, f->rows[i].path);
        assert_int_not_equal(f->rows[i].status, CATALOG_SEG_OPEN);
        if (f->rows[i].status == CATALOG_SEG_CLOSED) {
            check_closed_row(f, &f->rows[i]);
            closed++;
        } else {
            assert_int_equal(file_size(path), -1);
            missing++;
        }
    }
    assert_int_equal(closed, expect_closed);
    assert_int_equal(missing, expect_missing);
    /* Recording went on after the error. */
    assert_int_equal(f->rows[f->n_rows - 1].end_us, wall_of(7 * CLIP_FPS));
}

static void test_writer_enospc_in_first_fragment(void **state)
{
    struct fixture *f = *state;

    /* The header (ftyp, moov) is written in one call; call 2 is the
     * first fragment: nothing playable reached the file, so it is
     * removed with its row. */
    run_enospc(f, 2, 3, 0);
    /* The rest of the failed GOP could not be recorded. */
    assert_int_equal(dropped, 2 * CLIP_FPS - 26);
    assert_int_equal(f->rows[0].start_us, wall_of(2 * CLIP_FPS));
}

static void test_writer_enospc_at_close(void **state)
{
    struct fixture *f = *state;

    /* Call 3 is the last fragment of the first segment, written at its
     * close: the first GOP is on disk and the row is finished from it. */
    run_enospc(f, 3, 4, 0);
    assert_int_equal(dropped, 0);
    assert_int_equal(f->rows[0].frames, CLIP_FPS);
    assert_int_equal(f->rows[0].end_us - f->rows[0].start_us, 1000000);
}

static void test_writer_never_reuses_a_name(void **state)
{
    struct fixture *f = *state;
    struct writer *w;
    char path[1024];

    f->cfg.segment_seconds = 60;
    for (int round = 0; round < 3; round++) {
        assert_int_equal(writer_new(&f->cfg, &w), 0);
        push_stream(f, w);
        assert_int_equal(feed(f, w, 0, 10), 0);
        writer_free(w);
        if (round == 1) {
            /* The file goes, its row stays: the name is still taken. */
            snprintf(path, sizeof(path),
                     "%s/gate/2023-11-14/"
                     "gate-20231114T221320.000000Z-1.mp4",
                     f->dir);
            assert_int_equal(unlink(path), 0);
        }
    }
    load_rows(f);
    assert_int_equal(f->n_rows, 3);
    assert_string_equal(f->rows[0].path,
                        "gate/2023-11-14/gate-20231114T221320.000000Z.mp4");
    assert_string_equal(f->rows[1].path,
                        "gate/2023-11-14/gate-20231114T221320.000000Z-1.mp4");
    assert_string_equal(f->rows[2].path,
                        "gate/2023-11-14/gate-20231114T221320.000000Z-2.mp4");
    check_closed_row(f, &f->rows[2]);
}

static void test_writer_rejects_bad_config(void **state)
{
    struct fixture *f = *state;
    struct writer *w = NULL;

    f->cfg.camera = "../evil";
    assert_int_equal(writer_new(&f->cfg, &w), -EINVAL);
    f->cfg.camera = "gate";
    f->cfg.segment_seconds = 0;
    assert_int_equal(writer_new(&f->cfg, &w), -EINVAL);
    assert_null(w);
    writer_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_writer_cuts_contiguous_segments,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_contiguous_odd_rate, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_writer_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_counts_dts_refusals, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_writer_overflow_drops_whole_gops,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_break_records_event, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_writer_params_change_cuts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_writer_enospc_in_first_fragment,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_enospc_at_close, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_writer_never_reuses_a_name, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_writer_rejects_bad_config, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
