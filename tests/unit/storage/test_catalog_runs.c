/* SPDX-License-Identifier: MIT */
/*
 * Tests of the recording runs the catalog keeps (schema v4, storage/
 * catalog.c): after every kind of change to segment rows (the catalog's
 * own calls, random sequences of them, the writer, retention passes with
 * and without holds, start-up recovery adding and losing rows, raw SQL
 * from another connection, the migration of a version 3 file) the runs
 * read with catalog_run_list() must equal the runs computed naively by
 * merging every usable segment row in start order.
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "clip.h"
#include "nvr/base/compiler.h"
#include "storage/catalog.h"
#include "storage/holds.h"
#include "storage/recovery.h"
#include "storage/retention.h"
#include "storage/writer.h"

#define MAX_RUNS 4096
#define GAP      CATALOG_RUN_GAP_US
#define SEC      INT64_C(1000000)
#define BASE_US  INT64_C(1700000000000000) /* 2023-11-14T22:13:20Z */
#define USABLE   ((1u << CATALOG_SEG_OPEN) | (1u << CATALOG_SEG_CLOSED))

struct fixture {
    char *dir;
    char db[512];
    struct catalog *cat;
};

struct runs {
    int n;
    int64_t s[MAX_RUNS], e[MAX_RUNS];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->dir = make_tmpdir();
    snprintf(f->db, sizeof(f->db), "%s/catalog.db", f->dir);
    assert_int_equal(catalog_open(f->db, CATALOG_READWRITE, &f->cat), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    catalog_close(f->cat);
    remove_tree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* Naive runs: every usable row in start order, merged when a start comes
 * at most GAP after the latest end so far. */
static int naive_cb(void *user, const struct catalog_segment *seg)
{
    struct runs *r = user;

    if (r->n > 0 && seg->start_us - r->e[r->n - 1] <= GAP) {
        if (seg->end_us > r->e[r->n - 1])
            r->e[r->n - 1] = seg->end_us;
        return 0;
    }
    assert_true(r->n < MAX_RUNS);
    r->s[r->n] = seg->start_us;
    r->e[r->n] = seg->end_us;
    r->n++;
    return 0;
}

static void naive_runs(struct catalog *cat, int64_t cam, struct runs *r)
{
    r->n = 0;
    assert_int_equal(catalog_segment_list(cat, cam, INT64_MIN, INT64_MAX,
                                          USABLE, naive_cb, r),
                     0);
}

static int run_cb(void *user, const struct catalog_run *run)
{
    struct runs *r = user;

    assert_true(r->n < MAX_RUNS);
    assert_true(run->end_us >= run->start_us);
    r->s[r->n] = run->start_us;
    r->e[r->n] = run->end_us;
    r->n++;
    return 0;
}

static void stored_runs(struct catalog *cat, int64_t cam, int64_t from,
                        int64_t to, struct runs *r)
{
    r->n = 0;
    assert_int_equal(catalog_run_list(cat, cam, from, to, run_cb, r), 0);
}

static void print_runs(const char *what, const struct runs *r)
{
    fprintf(stderr, "%s: %d runs\n", what, r->n);
    for (int i = 0; i < r->n && i < 50; i++)
        fprintf(stderr, "  [%lld, %lld]\n", (long long)r->s[i],
                (long long)r->e[i]);
}

/* The stored runs of cam equal the naive ones, as a whole and through a
 * few windows (a run overlapping a window is listed whole). */
static void check_runs(struct catalog *cat, int64_t cam)
{
    static struct runs want, got, part;

    naive_runs(cat, cam, &want);
    stored_runs(cat, cam, INT64_MIN, INT64_MAX, &got);
    if (got.n != want.n ||
        memcmp(got.s, want.s, sizeof(got.s[0]) * (size_t)got.n) != 0 ||
        memcmp(got.e, want.e, sizeof(got.e[0]) * (size_t)got.n) != 0) {
        print_runs("naive", &want);
        print_runs("stored", &got);
        fail_msg("camera %lld: the stored runs differ", (long long)cam);
    }
    for (int i = 0; i < want.n; i += 1 + want.n / 4) {
        int64_t from = want.s[i] + (want.e[i] - want.s[i]) / 2;
        int64_t to = from + 3 * SEC;
        int k = 0;

        stored_runs(cat, cam, from, to, &part);
        for (int j = 0; j < want.n; j++) {
            int overlaps = want.s[j] < to &&
                           (want.e[j] > from ||
                            (want.e[j] == want.s[j] && want.s[j] >= from));

            if (!overlaps)
                continue;
            assert_true(k < part.n);
            assert_int_equal(part.s[k], want.s[j]);
            assert_int_equal(part.e[k], want.e[j]);
            k++;
        }
        assert_int_equal(k, part.n);
    }
}

static int64_t add_seg(struct catalog *cat, int64_t cam, int64_t start,
                       int64_t end, int close)
{
    static int serial;
    struct catalog_segment seg;

    memset(&seg, 0, sizeof(seg));
    seg.camera_id = cam;
    seg.start_us = start;
    seg.end_us = end;
    seg.bytes = 1000;
    snprintf(seg.path, sizeof(seg.path), "c%lld/%d.mp4", (long long)cam,
             serial++);
    snprintf(seg.codec, sizeof(seg.codec), "h264");
    assert_int_equal(catalog_segment_begin(cat, &seg), 0);
    if (close) {
        snprintf(seg.sha256, sizeof(seg.sha256), "%064d", 0);
        assert_int_equal(catalog_segment_finish(cat, &seg), 0);
    }
    return seg.id;
}

static void finish_seg(struct catalog *cat, int64_t id, int64_t start,
                       int64_t end)
{
    struct catalog_segment seg;

    memset(&seg, 0, sizeof(seg));
    seg.id = id;
    seg.start_us = start;
    seg.end_us = end;
    snprintf(seg.sha256, sizeof(seg.sha256), "%064d", 0);
    assert_int_equal(catalog_segment_finish(cat, &seg), 0);
}

static int count_runs(struct catalog *cat, int64_t cam)
{
    struct runs r;

    stored_runs(cat, cam, INT64_MIN, INT64_MAX, &r);
    return r.n;
}

/* Appends, the gap tolerance, and deleting from the ends and the middle
 * of a run, each with the exact runs expected. */
static void test_runs_basic(void **state)
{
    struct fixture *f = *state;
    struct runs r;
    int64_t cam, ids[6];

    assert_int_equal(catalog_camera_ensure(f->cat, "gate", &cam), 0);
    for (int i = 0; i < 5; i++)
        ids[i] = add_seg(f->cat, cam, BASE_US + i * 60 * SEC,
                         BASE_US + (i + 1) * 60 * SEC, 1);
    stored_runs(f->cat, cam, INT64_MIN, INT64_MAX, &r);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.s[0], BASE_US);
    assert_int_equal(r.e[0], BASE_US + 300 * SEC);

    /* Exactly GAP after the end joins; one microsecond more does not. */
    ids[5] =
        add_seg(f->cat, cam, BASE_US + 300 * SEC + GAP, BASE_US + 360 * SEC, 1);
    assert_int_equal(count_runs(f->cat, cam), 1);
    assert_int_equal(catalog_segment_delete(f->cat, ids[5]), 0);
    ids[5] = add_seg(f->cat, cam, BASE_US + 300 * SEC + GAP + 1,
                     BASE_US + 360 * SEC, 1);
    assert_int_equal(count_runs(f->cat, cam), 2);
    check_runs(f->cat, cam);

    /* The middle of the first run: two runs either side. */
    assert_int_equal(catalog_segment_delete(f->cat, ids[2]), 0);
    stored_runs(f->cat, cam, INT64_MIN, INT64_MAX, &r);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.e[0], BASE_US + 120 * SEC);
    assert_int_equal(r.s[1], BASE_US + 180 * SEC);
    check_runs(f->cat, cam);
    /* Its first and last segments. */
    assert_int_equal(catalog_segment_delete(f->cat, ids[0]), 0);
    assert_int_equal(catalog_segment_delete(f->cat, ids[4]), 0);
    stored_runs(f->cat, cam, INT64_MIN, INT64_MAX, &r);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.s[0], BASE_US + 60 * SEC);
    assert_int_equal(r.e[0], BASE_US + 120 * SEC);
    assert_int_equal(r.s[1], BASE_US + 180 * SEC);
    assert_int_equal(r.e[1], BASE_US + 240 * SEC);
    check_runs(f->cat, cam);
    /* A run's only segment. */
    assert_int_equal(catalog_segment_delete(f->cat, ids[3]), 0);
    assert_int_equal(count_runs(f->cat, cam), 2);
    /* Filling the hole again joins the runs around it. */
    ids[2] = add_seg(f->cat, cam, BASE_US + 120 * SEC, BASE_US + 300 * SEC, 1);
    assert_int_equal(count_runs(f->cat, cam), 2);
    check_runs(f->cat, cam);
    (void)add_seg(f->cat, cam, BASE_US + 300 * SEC, BASE_US + 300 * SEC + GAP,
                  1);
    stored_runs(f->cat, cam, INT64_MIN, INT64_MAX, &r);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.s[0], BASE_US + 60 * SEC);
    assert_int_equal(r.e[0], BASE_US + 360 * SEC);
    check_runs(f->cat, cam);
}

/* The recorder's life cycle: begin (zero length), progress, finish; a
 * status that stops a row being usable and one that makes it usable. */
static void test_runs_life_cycle(void **state)
{
    struct fixture *f = *state;
    struct runs r;
    int64_t cam, other, a, b;

    assert_int_equal(catalog_camera_ensure(f->cat, "gate", &cam), 0);
    assert_int_equal(catalog_camera_ensure(f->cat, "yard", &other), 0);
    a = add_seg(f->cat, cam, BASE_US, BASE_US, 0);
    stored_runs(f->cat, cam, INT64_MIN, INT64_MAX, &r);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.e[0], BASE_US);
    for (int i = 1; i <= 30; i++) {
        assert_int_equal(
            catalog_segment_progress(f->cat, a, BASE_US + i * 2 * SEC, i, i),
            0);
        stored_runs(f->cat, cam, BASE_US, BASE_US + 1, &r);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.e[0], BASE_US + i * 2 * SEC);
    }
    /* Recovery finishing a torn segment shorter than its last progress. */
    finish_seg(f->cat, a, BASE_US, BASE_US + 50 * SEC);
    stored_runs(f->cat, cam, INT64_MIN, INT64_MAX, &r);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.e[0], BASE_US + 50 * SEC);
    b = add_seg(f->cat, cam, BASE_US + 50 * SEC, BASE_US + 50 * SEC, 0);
    finish_seg(f->cat, b, BASE_US + 50 * SEC, BASE_US + 110 * SEC);
    assert_int_equal(count_runs(f->cat, cam), 1);
    assert_int_equal(count_runs(f->cat, other), 0);

    assert_int_equal(catalog_segment_set_status(f->cat, a, CATALOG_SEG_MISSING),
                     0);
    stored_runs(f->cat, cam, INT64_MIN, INT64_MAX, &r);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.s[0], BASE_US + 50 * SEC);
    assert_int_equal(
        catalog_segment_set_status(f->cat, b, CATALOG_SEG_DELETING), 0);
    assert_int_equal(count_runs(f->cat, cam), 0);
    /* Deleting an unusable row changes nothing. */
    assert_int_equal(catalog_segment_delete(f->cat, a), 0);
    assert_int_equal(count_runs(f->cat, cam), 0);
    assert_int_equal(catalog_segment_set_status(f->cat, b, CATALOG_SEG_CLOSED),
                     0);
    stored_runs(f->cat, cam, INT64_MIN, INT64_MAX, &r);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.s[0], BASE_US + 50 * SEC);
    assert_int_equal(r.e[0], BASE_US + 110 * SEC);
    check_runs(f->cat, cam);
}

/* Random inserts (overlapping, out of order, zero length), deletes,
 * status changes, progress and shorter finishes on three cameras,
 * checked against the naive runs after every step. */
static void test_runs_random(void **state)
{
    struct fixture *f = *state;
    enum { N_CAMS = 3, MAX_IDS = 400, STEPS = 1500 };
    static int64_t ids[N_CAMS][MAX_IDS], starts[N_CAMS][MAX_IDS],
        ends[N_CAMS][MAX_IDS];
    int n_ids[N_CAMS] = {0};
    int64_t cams[N_CAMS];
    unsigned seed = 12345;

    for (int c = 0; c < N_CAMS; c++) {
        char name[16];

        snprintf(name, sizeof(name), "cam%d", c);
        assert_int_equal(catalog_camera_ensure(f->cat, name, &cams[c]), 0);
    }
    for (int step = 0; step < STEPS; step++) {
        int c = rand_r(&seed) % N_CAMS;
        int op = rand_r(&seed) % 10;
        int64_t cam = cams[c];

        if (n_ids[c] == 0 || (op < 4 && n_ids[c] < MAX_IDS)) {
            /* Starts on a 10 s grid over ~2 h; lengths from 0 to 40 s,
             * some ending exactly GAP or GAP + 1 before the next slot. */
            int64_t start = BASE_US + (rand_r(&seed) % 700) * 10 * SEC;
            int64_t len;
            int k = n_ids[c]++;

            switch (rand_r(&seed) % 5) {
            case 0:
                len = 0;
                break;
            case 1:
                len = 10 * SEC - GAP;
                break;
            case 2:
                len = 10 * SEC - GAP - 1;
                break;
            default:
                len = (rand_r(&seed) % 40) * SEC + rand_r(&seed) % 1000;
                break;
            }
            ids[c][k] =
                add_seg(f->cat, cam, start, start + len, rand_r(&seed) % 2);
            starts[c][k] = start;
            ends[c][k] = start + len;
        } else {
            int k = rand_r(&seed) % n_ids[c];
            int64_t id = ids[c][k];

            if (op < 7) {
                assert_int_equal(catalog_segment_delete(f->cat, id), 0);
                n_ids[c]--;
                ids[c][k] = ids[c][n_ids[c]];
                starts[c][k] = starts[c][n_ids[c]];
                ends[c][k] = ends[c][n_ids[c]];
            } else if (op == 7) {
                assert_int_equal(
                    catalog_segment_set_status(f->cat, id, rand_r(&seed) % 4),
                    0);
            } else {
                /* Grow its end (progress) or shrink it (a recovery
                 * finish of a torn segment). */
                int64_t s = starts[c][k], e = ends[c][k];

                e = op == 8 ? e + (rand_r(&seed) % 30) * SEC : s + (e - s) / 3;
                assert_int_equal(catalog_segment_progress(f->cat, id, e, 1, 1),
                                 0);
                if (op == 9)
                    finish_seg(f->cat, id, s, e);
                ends[c][k] = e;
            }
        }
        check_runs(f->cat, cam);
    }
    for (int c = 0; c < N_CAMS; c++)
        check_runs(f->cat, cams[c]);
}

/* Another connection's raw SQL (retention's own statements, the sqlite3
 * shell) keeps the runs right too: the triggers live in the file. */
static void test_runs_raw_sql(void **state)
{
    struct fixture *f = *state;
    int64_t cam;
    sqlite3 *db;

    assert_int_equal(catalog_camera_ensure(f->cat, "gate", &cam), 0);
    for (int i = 0; i < 20; i++)
        (void)add_seg(f->cat, cam, BASE_US + i * 60 * SEC,
                      BASE_US + (i + 1) * 60 * SEC, 1);
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "UPDATE segments SET status = 3 WHERE id IN (3, 4, 9);"
                     "DELETE FROM segments WHERE status = 3;"
                     "DELETE FROM segments WHERE id = 15;"
                     "UPDATE segments SET end_us = start_us WHERE id = 1;"
                     "INSERT INTO segments(camera_id, start_us, end_us, path,"
                     " status) SELECT camera_id, start_us + 3600000000,"
                     " end_us + 3600000000, path || '.b', 1 FROM segments;",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    check_runs(f->cat, cam);
    /* [0, 0] (cut to nothing), [60, 120], [240, 480], [540, 840] and
     * [900, 1200] s, and the same an hour later. */
    assert_int_equal(count_runs(f->cat, cam), 10);
}

/* A version 3 file gains the runs of the rows it already has. */
static void test_runs_migration(void **state)
{
    struct fixture *f = *state;
    int64_t cam, yard;
    sqlite3 *db;

    assert_int_equal(catalog_camera_ensure(f->cat, "gate", &cam), 0);
    assert_int_equal(catalog_camera_ensure(f->cat, "yard", &yard), 0);
    for (int i = 0; i < 50; i++) {
        int64_t s = BASE_US + i * 60 * SEC + (i % 7 == 6 ? 5 * SEC : 0);

        (void)add_seg(f->cat, i % 3 ? cam : yard, s, s + 60 * SEC, i % 5);
    }
    catalog_close(f->cat);
    f->cat = NULL;
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP TRIGGER segments_runs_insert;"
                                  "DROP TRIGGER segments_runs_delete;"
                                  "DROP TRIGGER segments_runs_update;"
                                  "DROP TABLE segment_runs;"
                                  "DROP TABLE segment_runs_work;"
                                  "UPDATE segments SET status = 2"
                                  " WHERE id % 11 = 0;"
                                  "PRAGMA user_version = 3",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(catalog_open(f->db, CATALOG_READONLY, &f->cat), -EPROTO);
    assert_int_equal(catalog_open(f->db, CATALOG_READWRITE, &f->cat), 0);
    assert_int_equal(catalog_schema_version(f->cat), CATALOG_SCHEMA_VERSION);
    assert_true(count_runs(f->cat, cam) > 1);
    check_runs(f->cat, cam);
    check_runs(f->cat, yard);
    /* And the triggers came with it. */
    (void)add_seg(f->cat, cam, BASE_US + 3000 * SEC, BASE_US + 3060 * SEC, 1);
    check_runs(f->cat, cam);
}

struct ret_ctx {
    int64_t deleted;
};

static void ret_item(void *user, const char *camera,
                     const struct catalog_segment *seg,
                     enum retention_rule rule)
{
    struct ret_ctx *x = user;

    (void)camera;
    (void)seg;
    (void)rule;
    x->deleted++;
}

/* Retention passes (age, then size) over footage with a hold in the
 * middle: the runs shrink from their start and split around the hold. */
static void test_runs_retention(void **state)
{
    struct fixture *f = *state;
    struct retention_camera rc = {.name = "gate"};
    struct retention_report rep;
    struct ret_ctx x = {0};
    struct retention_config cfg = {.storage_dir = f->dir,
                                   .catalog_path = f->db,
                                   .cameras = &rc,
                                   .n_cameras = 1,
                                   .on_item = ret_item,
                                   .user = &x};
    struct hold h;
    struct runs r;
    int64_t cam, day = 86400 * SEC;

    assert_int_equal(catalog_camera_ensure(f->cat, "gate", &cam), 0);
    /* Three days of 10 min segments, a 1 h outage each day. */
    for (int64_t t = 0; t < 3 * day; t += 600 * SEC)
        if (t % day < 20 * 3600 * SEC || t % day >= 21 * 3600 * SEC)
            (void)add_seg(f->cat, cam, BASE_US + t, BASE_US + t + 600 * SEC, 1);
    check_runs(f->cat, cam);
    assert_int_equal(count_runs(f->cat, cam), 4);

    memset(&h, 0, sizeof(h));
    snprintf(h.camera, sizeof(h.camera), "gate");
    h.from_us = BASE_US + 10 * 3600 * SEC;
    h.to_us = h.from_us + 1800 * SEC;
    snprintf(h.reason, sizeof(h.reason), "incident 42");
    snprintf(h.created_by, sizeof(h.created_by), "test");
    assert_int_equal(holds_add(f->cat, &h), 0);

    /* Keep one day: everything before now - 1 day goes but the hold. */
    rc.retain_days = 1;
    cfg.now_us = BASE_US + 2 * day + 12 * 3600 * SEC;
    assert_int_equal(retention_run(&cfg, &rep), 0);
    assert_true(rep.deleted > 100);
    assert_int_equal(x.deleted, rep.deleted);
    stored_runs(f->cat, cam, INT64_MIN, INT64_MAX, &r);
    check_runs(f->cat, cam);
    assert_int_equal(r.s[0], BASE_US + 10 * 3600 * SEC);
    assert_int_equal(r.e[0], BASE_US + 10 * 3600 * SEC + 1800 * SEC);
    assert_int_equal(r.s[1], BASE_US + day + 12 * 3600 * SEC);

    /* Then a size limit: the oldest go until about 20 segments are left
     * (the held ones count, and no rule deletes them): what is not held
     * lies in the last day. */
    rc.retain_days = 0;
    rc.max_bytes = 20 * 1000;
    assert_int_equal(retention_run(&cfg, &rep), 0);
    assert_true(rep.deleted > 0);
    stored_runs(f->cat, cam, INT64_MIN, INT64_MAX, &r);
    check_runs(f->cat, cam);
    assert_int_equal(r.s[0], BASE_US + 10 * 3600 * SEC);
    assert_true(r.n >= 2 && r.n <= 3);
    assert_true(r.s[1] > BASE_US + 2 * day);
    assert_int_equal(r.e[r.n - 1], BASE_US + 3 * day);
}

/* Records one segment of n frames starting at wall_us with the writer. */
static void record(struct fixture *f, const struct clip *clip,
                   const char *camera, int64_t wall_us, int n)
{
    struct writer_config cfg = {.storage_dir = f->dir,
                                .catalog_path = f->db,
                                .camera = camera,
                                .segment_seconds = 100};
    struct nvr_stream_info info;
    struct writer *w;

    memset(&info, 0, sizeof(info));
    info.n_tracks = 1;
    info.tracks[0] = clip->track;
    assert_int_equal(writer_new(&cfg, &w), 0);
    assert_int_equal(writer_push_stream(w, &info), 0);
    for (int i = 0; i < n; i++)
        assert_int_equal(
            writer_push_au(w, clip_au(clip, i, (int64_t)i * CLIP_TICKS,
                                      wall_us + (int64_t)i * CLIP_US, 0)),
            0);
    writer_free(w);
}

struct rows {
    int n;
    struct catalog_segment v[8];
};

static int rows_cb(void *user, const struct catalog_segment *seg)
{
    struct rows *r = user;

    assert_true(r->n < 8);
    r->v[r->n++] = *seg;
    return 0;
}

/* The writer's rows, then start-up recovery: a row lost from the catalog
 * is added back from its file (the runs join again) and a file that is
 * gone makes its row MISSING (the runs split). */
static void test_runs_writer_recovery(void **state)
{
    struct fixture *f = *state;
    struct recovery_report rep;
    struct clip clip;
    struct rows rows = {0};
    char path[1024];
    int64_t cam;

    clip_load(&clip);
    for (int i = 0; i < 4; i++)
        record(f, &clip, "gate", BASE_US + i * 2 * SEC, 2 * CLIP_FPS);
    assert_int_equal(catalog_camera_find(f->cat, "gate", &cam), 0);
    assert_int_equal(catalog_segment_list(f->cat, cam, INT64_MIN, INT64_MAX, 0,
                                          rows_cb, &rows),
                     0);
    assert_int_equal(rows.n, 4);
    assert_int_equal(count_runs(f->cat, cam), 1);
    check_runs(f->cat, cam);

    /* The catalog forgets the second segment: two runs. */
    assert_int_equal(catalog_segment_delete(f->cat, rows.v[1].id), 0);
    assert_int_equal(count_runs(f->cat, cam), 2);
    check_runs(f->cat, cam);
    /* The third segment's file disappears. */
    snprintf(path, sizeof(path), "%s/%s", f->dir, rows.v[2].path);
    assert_int_equal(unlink(path), 0);

    assert_int_equal(recovery_run(f->dir, f->db, &rep), 0);
    assert_int_equal(rep.indexed, 1);
    assert_int_equal(rep.missing, 1);
    /* [0, 4 s) with the re-indexed file, then [6 s, 8 s). */
    assert_int_equal(count_runs(f->cat, cam), 2);
    check_runs(f->cat, cam);
    clip_free(&clip);
}

/* VM steps of one statement run on db. */
static int64_t vm_steps(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    int64_t n;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    n = sqlite3_stmt_status(st, SQLITE_STMTSTATUS_VM_STEP, 0);
    sqlite3_finalize(st);
    return n;
}

/*
 * The triggers touch only the rows near a change: inserting, deleting or
 * marking one row of a run of n segments costs the same number of SQLite
 * VM steps (triggers included) for n = 500 and n = 20,000, where
 * recomputing the whole run would cost 40 times more.
 */
static void test_runs_bounded_work(void **state)
{
    struct fixture *f = *state;
    static const char *const ops[] = {
        /* the oldest row (retention), the middle one, the newest */
        "DELETE FROM segments WHERE id = (SELECT min(id) FROM segments)",
        "DELETE FROM segments WHERE id = (SELECT min(id) + 100 FROM segments)",
        "UPDATE segments SET status = 3 WHERE id = (SELECT min(id) + 200"
        " FROM segments)",
        "UPDATE segments SET status = 2 WHERE id = (SELECT max(id) FROM"
        " segments)",
        "INSERT INTO segments(camera_id, start_us, end_us, path, status)"
        " SELECT camera_id, end_us, end_us + 60000000, path || '.n', 1"
        " FROM segments WHERE id = (SELECT max(id) - 1 FROM segments)",
        "UPDATE segments SET end_us = end_us + 1000000 WHERE id = (SELECT"
        " max(id) FROM segments)",
    };
    int64_t steps[2][NVR_ARRAY_SIZE(ops)];
    const int sizes[2] = {500, 20000};
    int64_t cam;
    sqlite3 *db;

    assert_int_equal(catalog_camera_ensure(f->cat, "gate", &cam), 0);
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    for (int k = 0; k < 2; k++) {
        char sql[512];

        snprintf(sql, sizeof(sql),
                 "DELETE FROM segments;"
                 "WITH RECURSIVE i(n) AS (SELECT 0 UNION ALL SELECT n + 1"
                 " FROM i WHERE n + 1 < %d) INSERT INTO segments(camera_id,"
                 " start_us, end_us, path, status) SELECT %lld,"
                 " %lld + n * 60000000, %lld + (n + 1) * 60000000,"
                 " 'gate/' || n, 1 FROM i",
                 sizes[k], (long long)cam, (long long)BASE_US,
                 (long long)BASE_US);
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(count_runs(f->cat, cam), 1);
        for (size_t i = 0; i < NVR_ARRAY_SIZE(ops); i++)
            steps[k][i] = vm_steps(db, ops[i]);
        check_runs(f->cat, cam);
        assert_int_equal(count_runs(f->cat, cam), 3);
    }
    sqlite3_close(db);
    for (size_t i = 0; i < NVR_ARRAY_SIZE(ops); i++) {
        /* The subqueries finding the row (min(id), max(id)) are O(1)
         * too; allow some slack for b-tree depth. */
        if (steps[1][i] > 2 * steps[0][i] + 200)
            fail_msg("'%s': %lld VM steps for 20000 rows, %lld for 500", ops[i],
                     (long long)steps[1][i], (long long)steps[0][i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_runs_basic),           T(test_runs_life_cycle),
        T(test_runs_random),          T(test_runs_raw_sql),
        T(test_runs_migration),       T(test_runs_retention),
        T(test_runs_writer_recovery), T(test_runs_bounded_work),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
