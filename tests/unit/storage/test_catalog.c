/* SPDX-License-Identifier: MIT */
/*
 * Tests of storage/catalog.c against real SQLite files in a temporary
 * directory (and :memory:): schema creation and versions, cameras, the
 * segment life cycle and overlap listing, events, status rows, read-only
 * access beside a writer in WAL mode, and concurrent writer threads.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "storage/catalog.h"
#include "storage/catalog_int.h"

struct fixture {
    char dir[64];
    char path[128];
    struct catalog *cat;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/nvr-test-catalog-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/catalog.db", f->dir);
    if (catalog_open(f->path, CATALOG_READWRITE, &f->cat) != 0) {
        rmdir(f->dir);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char p[192];

    catalog_close(f->cat);
    snprintf(p, sizeof(p), "%s-wal", f->path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", f->path);
    unlink(p);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Fills a segment for camera `cam` covering [start, end). */
static void seg_make(struct catalog_segment *s, int64_t cam, int64_t start,
                     int64_t end, const char *path)
{
    memset(s, 0, sizeof(*s));
    s->camera_id = cam;
    s->start_us = start;
    s->end_us = end;
    snprintf(s->path, sizeof(s->path), "%s", path);
    snprintf(s->codec, sizeof(s->codec), "h264");
    s->width = 1920;
    s->height = 1080;
}

#define MAX_SEEN 64

struct seen {
    int n;
    int stop_after; /* 0 = never stop */
    int64_t ids[MAX_SEEN];
    int64_t cams[MAX_SEEN];
    int64_t starts[MAX_SEEN];
};

static int collect_cb(void *user, const struct catalog_segment *seg)
{
    struct seen *s = user;

    if (s->n < MAX_SEEN) {
        s->ids[s->n] = seg->id;
        s->cams[s->n] = seg->camera_id;
        s->starts[s->n] = seg->start_us;
    }
    s->n++;
    return s->stop_after && s->n >= s->stop_after;
}

static int list(struct catalog *cat, int64_t cam, int64_t from, int64_t to,
                unsigned mask, struct seen *s)
{
    int stop = s->stop_after;

    memset(s, 0, sizeof(*s));
    s->stop_after = stop;
    return catalog_segment_list(cat, cam, from, to, mask, collect_cb, s);
}

static void test_catalog_create_and_reopen(void **state)
{
    struct fixture *f = *state;
    struct catalog *again;
    int64_t id, id2;

    assert_int_equal(catalog_schema_version(f->cat), CATALOG_SCHEMA_VERSION);
    assert_int_equal(catalog_camera_ensure(f->cat, "front", &id), 0);
    catalog_close(f->cat);
    f->cat = NULL;

    assert_int_equal(catalog_open(f->path, CATALOG_READWRITE, &again), 0);
    assert_int_equal(catalog_schema_version(again), CATALOG_SCHEMA_VERSION);
    assert_int_equal(catalog_camera_find(again, "front", &id2), 0);
    assert_int_equal(id, id2);
    f->cat = again;

    /* The file is in WAL mode and the schema version is stored. */
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL),
                     SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    assert_int_equal(
        sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), CATALOG_SCHEMA_VERSION);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void set_user_version(const char *path, int v)
{
    sqlite3 *db;
    char sql[64];

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void test_catalog_newer_schema_refused(void **state)
{
    struct fixture *f = *state;
    struct catalog *cat = (struct catalog *)0x1;

    catalog_close(f->cat);
    f->cat = NULL;
    set_user_version(f->path, CATALOG_SCHEMA_VERSION + 1);
    assert_int_equal(catalog_open(f->path, CATALOG_READWRITE, &cat), -EPROTO);
    assert_int_equal(catalog_open(f->path, CATALOG_READONLY, &cat), -EPROTO);
    assert_ptr_equal(cat, (struct catalog *)0x1); /* untouched */
    /* The refusal must not have changed the file. */
    set_user_version(f->path, CATALOG_SCHEMA_VERSION);
    assert_int_equal(catalog_open(f->path, CATALOG_READWRITE, &f->cat), 0);
}

/* A version 1 file (before holds and the audit log) keeps its rows and
 * gains the new tables when a writer opens it. */
static void test_catalog_migrates_v1_to_v2(void **state)
{
    struct fixture *f = *state;
    struct catalog_segment seg;
    struct seen s = {0};
    int64_t cam;
    sqlite3 *db;

    assert_int_equal(catalog_camera_ensure(f->cat, "gate", &cam), 0);
    seg_make(&seg, cam, 100, 200, "gate/old.mp4");
    assert_int_equal(catalog_segment_begin(f->cat, &seg), 0);
    catalog_close(f->cat);
    f->cat = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP TABLE holds; DROP TABLE audit;"
                                  "DROP INDEX segments_deleting;"
                                  "DROP INDEX segments_start;"
                                  "DROP TRIGGER segments_runs_insert;"
                                  "DROP TRIGGER segments_runs_delete;"
                                  "DROP TRIGGER segments_runs_update;"
                                  "DROP TABLE segment_runs;"
                                  "DROP TABLE segment_runs_work;"
                                  "PRAGMA user_version = 1",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);

    assert_int_equal(catalog_open(f->path, CATALOG_READWRITE, &f->cat), 0);
    assert_int_equal(catalog_schema_version(f->cat), CATALOG_SCHEMA_VERSION);
    assert_int_equal(list(f->cat, cam, 0, 1000, 0, &s), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "SELECT count(*) FROM holds;"
                                  "SELECT count(*) FROM audit",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
}

static void test_catalog_readonly_older_schema(void **state)
{
    struct fixture *f = *state;
    char path[192];
    struct catalog *cat;
    sqlite3 *db;

    /* An empty SQLite file (version 0) cannot be read, only migrated. */
    snprintf(path, sizeof(path), "%s/empty.db", f->dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE x(a)", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(catalog_open(path, CATALOG_READONLY, &cat), -EPROTO);
    assert_int_equal(catalog_open(path, CATALOG_READWRITE, &cat), 0);
    assert_int_equal(catalog_schema_version(cat), CATALOG_SCHEMA_VERSION);
    catalog_close(cat);
    assert_int_equal(catalog_open(path, CATALOG_READONLY, &cat), 0);
    catalog_close(cat);
    unlink(path);
    snprintf(path, sizeof(path), "%s/empty.db-wal", f->dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/empty.db-shm", f->dir);
    unlink(path);
}

static void test_catalog_not_a_database(void **state)
{
    struct fixture *f = *state;
    char path[192];
    struct catalog *cat;
    FILE *fp;

    snprintf(path, sizeof(path), "%s/garbage.db", f->dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    for (int i = 0; i < 200; i++)
        fputs("this is not an SQLite file ", fp);
    fclose(fp);
    assert_int_equal(catalog_open(path, CATALOG_READONLY, &cat), -EIO);
    assert_int_equal(catalog_open(path, CATALOG_READWRITE, &cat), -EIO);
    unlink(path);
}

static void test_catalog_bad_args(void **state)
{
    struct catalog *cat;

    assert_int_equal(catalog_open(NULL, CATALOG_READWRITE, &cat), -EINVAL);
    assert_int_equal(catalog_open(":memory:", 7, &cat), -EINVAL);
    catalog_close(NULL);
}

static void test_catalog_readonly_missing(void **state)
{
    struct fixture *f = *state;
    char path[192];
    struct catalog *cat = NULL;

    snprintf(path, sizeof(path), "%s/nope.db", f->dir);
    assert_int_equal(catalog_open(path, CATALOG_READONLY, &cat), -ENOENT);
    assert_null(cat);
    assert_int_equal(access(path, F_OK), -1); /* not created */
    snprintf(path, sizeof(path), "%s/no/such/dir.db", f->dir);
    assert_int_equal(catalog_open(path, CATALOG_READONLY, &cat), -ENOENT);
    /* A writer cannot create a file in a missing directory either. */
    assert_int_equal(catalog_open(path, CATALOG_READWRITE, &cat), -EIO);
}

static void test_catalog_camera_ensure(void **state)
{
    struct fixture *f = *state;
    int64_t a, b, c, x;

    assert_int_equal(catalog_camera_find(f->cat, "front", &x), -ENOENT);
    assert_int_equal(catalog_camera_ensure(f->cat, "front", &a), 0);
    assert_true(a > 0);
    assert_int_equal(catalog_camera_ensure(f->cat, "front", &b), 0);
    assert_int_equal(a, b);
    assert_int_equal(catalog_camera_ensure(f->cat, "back", &c), 0);
    assert_int_not_equal(a, c);
    assert_int_equal(catalog_camera_find(f->cat, "back", &x), 0);
    assert_int_equal(x, c);
    assert_int_equal(catalog_camera_ensure(f->cat, "", &x), -EINVAL);
}

struct cam_seen {
    int n;
    char names[4][16];
};

static int cam_cb(void *user, int64_t id, const char *name)
{
    struct cam_seen *s = user;

    if (s->n < 4)
        snprintf(s->names[s->n], sizeof(s->names[0]), "%s", name);
    s->n++;
    return 0;
}

static void test_catalog_camera_list(void **state)
{
    struct fixture *f = *state;
    struct cam_seen s = {0};
    int64_t id;

    assert_int_equal(catalog_camera_ensure(f->cat, "yard", &id), 0);
    assert_int_equal(catalog_camera_ensure(f->cat, "attic", &id), 0);
    assert_int_equal(catalog_camera_ensure(f->cat, "gate", &id), 0);
    assert_int_equal(catalog_camera_list(f->cat, cam_cb, &s), 0);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.names[0], "attic");
    assert_string_equal(s.names[1], "gate");
    assert_string_equal(s.names[2], "yard");
}

static void test_catalog_segment_lifecycle(void **state)
{
    struct fixture *f = *state;
    struct catalog_segment s, got;
    int64_t cam;

    assert_int_equal(catalog_camera_ensure(f->cat, "front", &cam), 0);
    seg_make(&s, cam, 1000000, 0, "front/2026-01-01/a.mp4");
    s.codec[0] = '\0';
    s.refused = 3; /* refused before its first unit */
    assert_int_equal(catalog_segment_begin(f->cat, &s), 0);
    assert_true(s.id > 0);
    assert_int_equal(s.status, CATALOG_SEG_OPEN);

    assert_int_equal(catalog_segment_by_path(f->cat, s.path, &got), 0);
    assert_int_equal(got.id, s.id);
    assert_int_equal(got.status, CATALOG_SEG_OPEN);
    assert_int_equal(got.start_us, 1000000);
    assert_int_equal(got.end_us, 1000000); /* clamped to start */
    assert_string_equal(got.sha256, "");
    assert_string_equal(got.codec, "");
    assert_int_equal(got.width, 1920);
    assert_int_equal(got.refused, 3);

    assert_int_equal(catalog_segment_progress(f->cat, s.id, 3000000, 4096, 50),
                     0);
    assert_int_equal(catalog_segment_by_path(f->cat, s.path, &got), 0);
    assert_int_equal(got.end_us, 3000000);
    assert_int_equal(got.bytes, 4096);
    assert_int_equal(got.frames, 50);
    /* end before start violates the CHECK constraint: an error, no crash. */
    assert_int_equal(catalog_segment_progress(f->cat, s.id, 10, 1, 1), -EIO);
    assert_int_equal(catalog_segment_progress(f->cat, 999999, 5, 1, 1),
                     -ENOENT);

    s.end_us = 61000000;
    s.bytes = 1 << 20;
    s.frames = 1500;
    s.width = 0; /* keeps what begin stored */
    s.refused = 42;
    snprintf(s.codec, sizeof(s.codec), "h265");
    memset(s.sha256, 'a', 64);
    s.sha256[64] = '\0';
    assert_int_equal(catalog_segment_finish(f->cat, &s), 0);
    assert_int_equal(catalog_segment_by_path(f->cat, s.path, &got), 0);
    assert_int_equal(got.status, CATALOG_SEG_CLOSED);
    assert_int_equal(got.end_us, 61000000);
    assert_int_equal(got.bytes, 1 << 20);
    assert_int_equal(got.frames, 1500);
    assert_int_equal(got.width, 1920);
    assert_int_equal(got.height, 1080);
    assert_string_equal(got.codec, "h265");
    assert_string_equal(got.sha256, s.sha256);
    assert_int_equal(got.refused, 42);

    assert_int_equal(
        catalog_segment_set_status(f->cat, s.id, CATALOG_SEG_MISSING), 0);
    assert_int_equal(catalog_segment_by_path(f->cat, s.path, &got), 0);
    assert_int_equal(got.status, CATALOG_SEG_MISSING);
    assert_int_equal(
        catalog_segment_set_status(f->cat, 424242, CATALOG_SEG_MISSING),
        -ENOENT);
    assert_int_equal(catalog_segment_set_status(f->cat, s.id, 9), -EINVAL);

    assert_int_equal(catalog_segment_by_path(f->cat, "front/none.mp4", &got),
                     -ENOENT);
    s.id = 777777;
    assert_int_equal(catalog_segment_finish(f->cat, &s), -ENOENT);
}

static void test_catalog_segment_constraints(void **state)
{
    struct fixture *f = *state;
    struct catalog_segment s, t;
    int64_t cam;

    assert_int_equal(catalog_camera_ensure(f->cat, "front", &cam), 0);
    seg_make(&s, cam, 100, 200, "front/dup.mp4");
    assert_int_equal(catalog_segment_begin(f->cat, &s), 0);
    seg_make(&t, cam, 300, 400, "front/dup.mp4");
    t.id = -5;
    assert_int_equal(catalog_segment_begin(f->cat, &t), -EIO);
    assert_int_equal(t.id, -5); /* untouched on failure */

    /* The foreign key rejects an unknown camera. */
    seg_make(&t, cam + 100, 300, 400, "ghost/x.mp4");
    assert_int_equal(catalog_segment_begin(f->cat, &t), -EIO);
    seg_make(&t, 0, 300, 400, "ghost/y.mp4");
    assert_int_equal(catalog_segment_begin(f->cat, &t), -EINVAL);
    seg_make(&t, cam, 300, 400, "");
    assert_int_equal(catalog_segment_begin(f->cat, &t), -EINVAL);

    /* An unterminated path field is bounded by its size. */
    seg_make(&t, cam, 300, 400, "");
    memset(t.path, 'p', sizeof(t.path));
    assert_int_equal(catalog_segment_begin(f->cat, &t), 0);
    char longpath[sizeof(t.path) + 1];
    memset(longpath, 'p', sizeof(t.path));
    longpath[sizeof(t.path)] = '\0';
    struct catalog_segment got;
    assert_int_equal(catalog_segment_by_path(f->cat, longpath, &got), 0);
    assert_int_equal(got.id, t.id);
    /* Read back truncated to fit, and terminated. */
    assert_int_equal(strlen(got.path), sizeof(got.path) - 1);

    /* The connection still works after the failures. */
    seg_make(&t, cam, 300, 400, "front/ok.mp4");
    assert_int_equal(catalog_segment_begin(f->cat, &t), 0);
}

/*
 * Camera a: [0,10) closed, [10,20) closed, [20,30) missing, [30,30) open.
 * Camera b: [5,25) closed, [40,40) open.
 */
static void fill_overlap(struct catalog *cat, int64_t *a, int64_t *b,
                         int64_t ids[6])
{
    struct catalog_segment s;
    static const struct {
        int64_t start, end;
        const char *path;
        int cam;
        int status;
    } rows[] = {
        {0, 10, "a/0", 0, CATALOG_SEG_CLOSED},
        {10, 20, "a/1", 0, CATALOG_SEG_CLOSED},
        {20, 30, "a/2", 0, CATALOG_SEG_MISSING},
        {30, 30, "a/3", 0, CATALOG_SEG_OPEN},
        {5, 25, "b/0", 1, CATALOG_SEG_CLOSED},
        {40, 40, "b/1", 1, CATALOG_SEG_OPEN},
    };

    assert_int_equal(catalog_camera_ensure(cat, "a", a), 0);
    assert_int_equal(catalog_camera_ensure(cat, "b", b), 0);
    /* Insert out of order: listing must sort by camera then start. */
    for (int k = 5; k >= 0; k--) {
        int i = (k + 3) % 6;

        seg_make(&s, rows[i].cam ? *b : *a, rows[i].start, rows[i].end,
                 rows[i].path);
        assert_int_equal(catalog_segment_begin(cat, &s), 0);
        ids[i] = s.id;
        if (rows[i].status == CATALOG_SEG_CLOSED)
            assert_int_equal(catalog_segment_finish(cat, &s), 0);
        else if (rows[i].status != CATALOG_SEG_OPEN)
            assert_int_equal(
                catalog_segment_set_status(cat, s.id, rows[i].status), 0);
    }
}

static void test_catalog_segment_list_overlap(void **state)
{
    struct fixture *f = *state;
    struct seen s = {0};
    int64_t a, b, ids[6];

    fill_overlap(f->cat, &a, &b, ids);

    /* Everything, ordered by camera then start. */
    assert_int_equal(list(f->cat, 0, INT64_MIN, INT64_MAX, 0, &s), 0);
    assert_int_equal(s.n, 6);
    int64_t want_all[6] = {ids[0], ids[1], ids[2], ids[3], ids[4], ids[5]};
    assert_memory_equal(s.ids, want_all, sizeof(want_all));
    assert_int_equal(s.cams[0], a);
    assert_int_equal(s.cams[5], b);

    /* [10, 20) touches a/0 only at its end: excluded; a/1 and b/0. */
    assert_int_equal(list(f->cat, 0, 10, 20, 0, &s), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.ids[0], ids[1]);
    assert_int_equal(s.ids[1], ids[4]);

    /* Camera a alone: [9, 11) overlaps a/0 and a/1. */
    assert_int_equal(list(f->cat, a, 9, 11, 0, &s), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.starts[0], 0);
    assert_int_equal(s.starts[1], 10);

    /* The zero-length open segment at 30 is inside [30, 31) ... */
    assert_int_equal(list(f->cat, a, 30, 31, 0, &s), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ids[0], ids[3]);
    /* ... and inside [25, 31) together with a/2, but not in [25, 30). */
    assert_int_equal(list(f->cat, a, 25, 31, 0, &s), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(list(f->cat, a, 25, 30, 0, &s), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ids[0], ids[2]);

    /* Status masks. */
    assert_int_equal(
        list(f->cat, 0, INT64_MIN, INT64_MAX, 1u << CATALOG_SEG_OPEN, &s), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.ids[0], ids[3]);
    assert_int_equal(s.ids[1], ids[5]);
    assert_int_equal(list(f->cat, a, 0, 100, 1u << CATALOG_SEG_MISSING, &s), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ids[0], ids[2]);
    assert_int_equal(
        list(f->cat, 0, 0, 100,
             (1u << CATALOG_SEG_CLOSED) | (1u << CATALOG_SEG_MISSING), &s),
        0);
    assert_int_equal(s.n, 4);
    assert_int_equal(list(f->cat, b, 0, 39, 1u << CATALOG_SEG_OPEN, &s), 0);
    assert_int_equal(s.n, 0);

    /* Empty and inverted ranges, unknown cameras. */
    assert_int_equal(list(f->cat, 0, 50, 50, 0, &s), 0);
    assert_int_equal(s.n, 0);
    assert_int_equal(list(f->cat, 0, 60, 50, 0, &s), 0);
    assert_int_equal(s.n, 0);
    assert_int_equal(list(f->cat, b + 100, INT64_MIN, INT64_MAX, 0, &s), 0);
    assert_int_equal(s.n, 0);
    assert_int_equal(catalog_segment_list(f->cat, 0, 0, 1, 0, NULL, NULL),
                     -EINVAL);

    /* Early stop, within one camera and across cameras. */
    s.stop_after = 2;
    assert_int_equal(list(f->cat, 0, INT64_MIN, INT64_MAX, 0, &s), 0);
    assert_int_equal(s.n, 2);
    s.stop_after = 5;
    assert_int_equal(list(f->cat, 0, INT64_MIN, INT64_MAX, 0, &s), 0);
    assert_int_equal(s.n, 5);
    s.stop_after = 0;
}

/* A long segment far in the past must still be found by its overlap. */
static void test_catalog_segment_list_long_segment(void **state)
{
    struct fixture *f = *state;
    struct catalog_segment seg;
    struct seen s = {0};
    int64_t cam;
    char p[32];

    assert_int_equal(catalog_camera_ensure(f->cat, "c", &cam), 0);
    seg_make(&seg, cam, 0, 1000000, "c/long");
    assert_int_equal(catalog_segment_begin(f->cat, &seg), 0);
    for (int i = 0; i < 50; i++) {
        snprintf(p, sizeof(p), "c/%d", i);
        seg_make(&seg, cam, 1000 + i * 10, 1000 + i * 10 + 10, p);
        assert_int_equal(catalog_segment_begin(f->cat, &seg), 0);
    }
    assert_int_equal(list(f->cat, cam, 999990, 999999, 0, &s), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.starts[0], 0);
    assert_int_equal(list(f->cat, cam, 1100, 1120, 0, &s), 0);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.starts[0], 0);
    assert_int_equal(s.starts[1], 1100);
    assert_int_equal(s.starts[2], 1110);
    /* Extreme ranges must not overflow the lower bound. */
    seg_make(&seg, cam, INT64_MIN + 5, INT64_MAX - 5, "c/huge");
    assert_int_equal(catalog_segment_begin(f->cat, &seg), 0);
    assert_int_equal(list(f->cat, cam, INT64_MIN, INT64_MIN + 10, 0, &s), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(list(f->cat, cam, 1100, 1120, 0, &s), 0);
    assert_int_equal(s.n, 4);
}

struct nested {
    struct catalog *cat;
    int outer;
    int inner_total;
};

static int inner_cb(void *user, const struct catalog_segment *seg)
{
    int *n = user;

    (*n)++;
    return 0;
}

/* Marks each listed segment MISSING and lists everything again from
 * inside, which needs the statements the outer list is still running. */
static int outer_cb(void *user, const struct catalog_segment *seg)
{
    struct nested *n = user;
    int inner = 0;

    n->outer++;
    assert_int_equal(
        catalog_segment_set_status(n->cat, seg->id, CATALOG_SEG_MISSING), 0);
    assert_int_equal(catalog_segment_list(n->cat, 0, INT64_MIN, INT64_MAX, 0,
                                          inner_cb, &inner),
                     0);
    n->inner_total += inner;
    return 0;
}

static void test_catalog_segment_list_reentrant(void **state)
{
    struct fixture *f = *state;
    struct nested n = {.cat = f->cat};
    struct seen s = {0};
    int64_t a, b, ids[6];

    fill_overlap(f->cat, &a, &b, ids);
    assert_int_equal(catalog_segment_list(f->cat, 0, INT64_MIN, INT64_MAX,
                                          1u << CATALOG_SEG_OPEN, outer_cb, &n),
                     0);
    assert_int_equal(n.outer, 2);
    assert_int_equal(n.inner_total, 12);
    assert_int_equal(
        list(f->cat, 0, INT64_MIN, INT64_MAX, 1u << CATALOG_SEG_OPEN, &s), 0);
    assert_int_equal(s.n, 0);
    assert_int_equal(
        list(f->cat, 0, INT64_MIN, INT64_MAX, 1u << CATALOG_SEG_MISSING, &s),
        0);
    assert_int_equal(s.n, 3);
}

static void test_catalog_events(void **state)
{
    struct fixture *f = *state;
    char out[64];
    char tiny[8];
    int64_t a, b;

    assert_int_equal(catalog_camera_ensure(f->cat, "a", &a), 0);
    assert_int_equal(catalog_camera_ensure(f->cat, "b", &b), 0);
    assert_int_equal(catalog_event_find(f->cat, a, 0, 100, out, sizeof(out)),
                     -ENOENT);
    assert_int_equal(
        catalog_event_add(f->cat, a, 50, "connection lost", "timed out"), 0);
    assert_int_equal(catalog_event_add(f->cat, a, 20, "disk full", NULL), 0);
    assert_int_equal(catalog_event_add(f->cat, b, 30, "stopped", "x"), 0);

    assert_int_equal(catalog_event_find(f->cat, a, 0, 100, out, sizeof(out)),
                     0);
    assert_string_equal(out, "disk full");
    assert_int_equal(catalog_event_find(f->cat, a, 21, 50, out, sizeof(out)),
                     0);
    assert_string_equal(out, "connection lost: timed out");
    assert_int_equal(catalog_event_find(f->cat, a, 50, 50, out, sizeof(out)),
                     0);
    assert_int_equal(catalog_event_find(f->cat, a, 51, 99, out, sizeof(out)),
                     -ENOENT);
    assert_string_equal(out, "");
    assert_int_equal(catalog_event_find(f->cat, b, 0, 100, out, sizeof(out)),
                     0);
    assert_string_equal(out, "stopped: x");

    memset(tiny, 'z', sizeof(tiny));
    assert_int_equal(catalog_event_find(f->cat, a, 21, 50, tiny, sizeof(tiny)),
                     0);
    assert_string_equal(tiny, "connect");
    assert_int_equal(catalog_event_find(f->cat, a, 21, 50, tiny, 1), 0);
    assert_string_equal(tiny, "");
    assert_int_equal(catalog_event_find(f->cat, a, 21, 50, tiny, 0), -EINVAL);
    assert_int_equal(catalog_event_add(f->cat, a, 1, NULL, "d"), -EINVAL);
    /* Events need a known camera. */
    assert_int_equal(catalog_event_add(f->cat, b + 50, 1, "k", "d"), -EIO);
}

#define MAX_ST 4

struct st_seen {
    int n;
    struct catalog_status rows[MAX_ST];
};

static int status_cb(void *user, const struct catalog_status *st)
{
    struct st_seen *s = user;

    if (s->n < MAX_ST)
        s->rows[s->n] = *st;
    s->n++;
    return 0;
}

static void test_catalog_status(void **state)
{
    struct fixture *f = *state;
    struct catalog_status st;
    struct st_seen s = {0};

    memset(&st, 0, sizeof(st));
    snprintf(st.name, sizeof(st.name), "zulu");
    snprintf(st.state, sizeof(st.state), "connecting");
    st.updated_us = 5;
    assert_int_equal(catalog_status_put(f->cat, &st), 0);

    memset(&st, 0, sizeof(st));
    snprintf(st.name, sizeof(st.name), "alpha");
    snprintf(st.state, sizeof(st.state), "recording");
    st.last_frame_us = 123;
    st.bitrate_bps = 4000000;
    st.frames = 9000;
    st.lost_packets = 3;
    st.dropped = 2;
    st.reconnects = 1;
    st.updated_us = 6;
    snprintf(st.error, sizeof(st.error), "rtsp: 401");
    st.refused.n[NVR_REFUSAL_BAD_TIMESTAMP] = 7;
    st.refused.n[NVR_REFUSAL_SESSION_END] = UINT64_C(1) << 40;
    assert_int_equal(catalog_status_put(f->cat, &st), 0);

    assert_int_equal(catalog_status_list(f->cat, status_cb, &s), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.rows[0].name, "alpha");
    assert_string_equal(s.rows[0].state, "recording");
    assert_int_equal(s.rows[0].last_frame_us, 123);
    assert_int_equal(s.rows[0].bitrate_bps, 4000000);
    assert_int_equal(s.rows[0].frames, 9000);
    assert_int_equal(s.rows[0].lost_packets, 3);
    assert_int_equal(s.rows[0].dropped, 2);
    assert_int_equal(s.rows[0].reconnects, 1);
    assert_int_equal(s.rows[0].updated_us, 6);
    assert_string_equal(s.rows[0].error, "rtsp: 401");
    assert_memory_equal(&s.rows[0].refused, &st.refused, sizeof(st.refused));
    assert_string_equal(s.rows[1].name, "zulu");
    assert_int_equal(nvr_refusals_total(&s.rows[1].refused), 0);

    /* Replace alpha's row: still two rows, new values. */
    snprintf(st.state, sizeof(st.state), "backoff");
    st.error[0] = '\0';
    st.reconnects = 2;
    /* A full-width state with no terminator stays within its field. */
    memset(st.state, 's', sizeof(st.state));
    assert_int_equal(catalog_status_put(f->cat, &st), 0);
    memset(&s, 0, sizeof(s));
    assert_int_equal(catalog_status_list(f->cat, status_cb, &s), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.rows[0].reconnects, 2);
    assert_string_equal(s.rows[0].error, "");
    assert_int_equal(strlen(s.rows[0].state), sizeof(st.state) - 1);

    memset(&st, 0, sizeof(st));
    assert_int_equal(catalog_status_put(f->cat, &st), -EINVAL);
}

/* Rows written by other programs may hold longer text than the fields. */
/* 5 -> 6 adds the refused columns to a catalog that has rows (and 6 -> 7
 * the auth column after them). */
static void test_catalog_migrates_refused(void **state)
{
    struct fixture *f = *state;
    struct catalog_segment seg;
    struct catalog_status st;
    struct catalog_segment got;
    struct st_seen ss = {0};
    int64_t cam;
    sqlite3 *db;

    assert_int_equal(catalog_camera_ensure(f->cat, "gate", &cam), 0);
    seg_make(&seg, cam, 100, 200, "gate/old.mp4");
    assert_int_equal(catalog_segment_begin(f->cat, &seg), 0);
    catalog_close(f->cat);
    f->cat = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "ALTER TABLE segments DROP COLUMN refused;"
                                  "ALTER TABLE camera_status"
                                  " DROP COLUMN refused;"
                                  "ALTER TABLE camera_status"
                                  " DROP COLUMN auth;"
                                  "PRAGMA user_version = 5",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(catalog_open(f->path, CATALOG_READWRITE, &f->cat), 0);
    assert_int_equal(catalog_schema_version(f->cat), CATALOG_SCHEMA_VERSION);
    assert_int_equal(catalog_segment_by_path(f->cat, seg.path, &got), 0);
    assert_int_equal(got.refused, 0);
    memset(&st, 0, sizeof(st));
    snprintf(st.name, sizeof(st.name), "gate");
    st.refused.n[NVR_REFUSAL_DISK] = 2;
    assert_int_equal(catalog_status_put(f->cat, &st), 0);
    assert_int_equal(catalog_status_list(f->cat, status_cb, &ss), 0);
    assert_int_equal(ss.n, 1);
    assert_int_equal(ss.rows[0].refused.n[NVR_REFUSAL_DISK], 2);
}

static void test_catalog_truncates_utf8(void **state)
{
    struct fixture *f = *state;
    struct st_seen s = {0};
    char name[200] = "";
    char sql[400];
    sqlite3 *db;

    /* 62 ASCII bytes then two-byte characters: byte 63 would split one. */
    memset(name, 'n', 62);
    snprintf(name + 62, sizeof(name) - 62, "%s",
             "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    snprintf(sql, sizeof(sql),
             "INSERT INTO camera_status(name, state) VALUES('%s', 'x')", name);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    assert_int_equal(catalog_status_list(f->cat, status_cb, &s), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(strlen(s.rows[0].name), 62);
    assert_int_equal(s.rows[0].name[61], 'n');
}

/*
 * The list queries use the indexes: a plan that scanned the whole table
 * would make `nvr recordings` slow on a catalog of millions of segments.
 */
static void test_catalog_query_plan(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *sql;
        const char *want;
    } plans[] = {
        {"EXPLAIN QUERY PLAN SELECT max(end_us - start_us) FROM segments"
         " WHERE camera_id = ?1",
         "USING INDEX segments_camera_span (camera_id=?)"},
        {"EXPLAIN QUERY PLAN SELECT id FROM segments WHERE camera_id = ?1"
         " AND start_us >= ?2 AND start_us < ?3 AND (end_us > ?4 OR"
         " (end_us = start_us AND start_us >= ?4)) AND ((?5 >> status) & 1)"
         " ORDER BY start_us, id",
         "USING INDEX segments_camera_start (camera_id=? AND start_us>? AND "
         "start_us<?)"},
        {"EXPLAIN QUERY PLAN SELECT id FROM segments INDEXED BY segments_open"
         " WHERE status = 0 AND camera_id = ?1 AND start_us >= ?2"
         " AND start_us < ?3 AND (end_us > ?4 OR (end_us = start_us AND"
         " start_us >= ?4)) ORDER BY start_us, id",
         "USING INDEX segments_open (camera_id=? AND start_us>? AND "
         "start_us<?)"},
        {"EXPLAIN QUERY PLAN SELECT kind FROM camera_events WHERE"
         " camera_id = ?1 AND time_us >= ?2 AND time_us <= ?3"
         " ORDER BY time_us, id LIMIT 1",
         "USING INDEX camera_events_camera_time"},
    };
    sqlite3 *db;

    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL),
                     SQLITE_OK);
    for (size_t i = 0; i < sizeof(plans) / sizeof(plans[0]); i++) {
        sqlite3_stmt *st;
        char all[512] = "";

        assert_int_equal(sqlite3_prepare_v2(db, plans[i].sql, -1, &st, NULL),
                         SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW) {
            size_t used = strlen(all);

            snprintf(all + used, sizeof(all) - used, "%s\n",
                     (const char *)sqlite3_column_text(st, 3));
        }
        sqlite3_finalize(st);
        if (!strstr(all, plans[i].want))
            fail_msg("plan %zu:\n%s", i, all);
        assert_null(strstr(all, "SCAN"));
        assert_null(strstr(all, "TEMP B-TREE")); /* no sort step */
    }
    sqlite3_close(db);
}

static void test_catalog_readonly_beside_writer(void **state)
{
    struct fixture *f = *state;
    struct catalog *ro;
    struct catalog_segment seg;
    struct seen s = {0};
    int64_t cam, id;

    assert_int_equal(catalog_camera_ensure(f->cat, "front", &cam), 0);
    seg_make(&seg, cam, 0, 10, "front/0");
    assert_int_equal(catalog_segment_begin(f->cat, &seg), 0);

    /* The writer keeps its connection open throughout. */
    assert_int_equal(catalog_open(f->path, CATALOG_READONLY, &ro), 0);
    assert_int_equal(catalog_schema_version(ro), CATALOG_SCHEMA_VERSION);
    assert_int_equal(catalog_camera_find(ro, "front", &id), 0);
    assert_int_equal(id, cam);
    assert_int_equal(list(ro, 0, INT64_MIN, INT64_MAX, 0, &s), 0);
    assert_int_equal(s.n, 1);

    /* A commit after the reader opened is visible to its next query. */
    seg_make(&seg, cam, 10, 20, "front/1");
    assert_int_equal(catalog_segment_begin(f->cat, &seg), 0);
    assert_int_equal(catalog_segment_progress(f->cat, seg.id, 25, 7, 3), 0);
    assert_int_equal(list(ro, cam, INT64_MIN, INT64_MAX, 0, &s), 0);
    assert_int_equal(s.n, 2);
    struct catalog_segment got;
    assert_int_equal(catalog_segment_by_path(ro, "front/1", &got), 0);
    assert_int_equal(got.end_us, 25);

    /* Writes through a read-only connection fail cleanly. */
    assert_int_equal(catalog_camera_ensure(ro, "new", &id), -EIO);
    assert_int_equal(catalog_segment_set_status(ro, seg.id, 2), -EIO);
    catalog_close(ro);

    /* Read-only also works once the writer has closed. */
    catalog_close(f->cat);
    f->cat = NULL;
    assert_int_equal(catalog_open(f->path, CATALOG_READONLY, &ro), 0);
    assert_int_equal(list(ro, 0, INT64_MIN, INT64_MAX, 0, &s), 0);
    assert_int_equal(s.n, 2);
    catalog_close(ro);
    assert_int_equal(catalog_open(f->path, CATALOG_READWRITE, &f->cat), 0);
}

/* Another connection holding the write lock past the 5 s busy timeout
 * makes writes fail with -EBUSY, while reads still work (WAL). */
static void test_catalog_busy(void **state)
{
    struct fixture *f = *state;
    int64_t id;
    sqlite3 *db;

    assert_int_equal(catalog_camera_ensure(f->cat, "front", &id), 0);
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(catalog_camera_ensure(f->cat, "back", &id), -EBUSY);
    assert_int_equal(catalog_camera_find(f->cat, "front", &id), 0);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(catalog_camera_ensure(f->cat, "back", &id), 0);
}

#define MANY 10000

static void test_catalog_many_segments(void **state)
{
    struct fixture *f = *state;
    struct catalog_segment seg;
    struct seen s = {0};
    int64_t cam[2];
    char p[64];

    assert_int_equal(catalog_camera_ensure(f->cat, "one", &cam[0]), 0);
    assert_int_equal(catalog_camera_ensure(f->cat, "two", &cam[1]), 0);
    /* 60 s segments, back to back, alternating cameras. */
    for (int i = 0; i < MANY; i++) {
        int c = i & 1;
        int64_t start = (int64_t)(i / 2) * 60000000;

        snprintf(p, sizeof(p), "%d/%06d.mp4", c, i);
        seg_make(&seg, cam[c], start, start + 60000000, p);
        assert_int_equal(catalog_segment_begin(f->cat, &seg), 0);
        if (i % 7)
            assert_int_equal(catalog_segment_finish(f->cat, &seg), 0);
    }
    /* [2 h, 2 h 3 min) covers segments 120, 121, 122 of each camera. */
    assert_int_equal(list(f->cat, 0, 7200000000, 7380000000, 0, &s), 0);
    assert_int_equal(s.n, 6);
    assert_int_equal(s.cams[0], cam[0]);
    assert_int_equal(s.starts[0], 7200000000);
    assert_int_equal(s.starts[2], 7320000000);
    assert_int_equal(s.cams[3], cam[1]);
    /* A range starting mid-segment includes that segment. */
    assert_int_equal(list(f->cat, cam[1], 7230000000, 7230000001, 0, &s), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.starts[0], 7200000000);
    /* Every 7th row (i % 7 == 0) is still open. */
    assert_int_equal(
        list(f->cat, 0, INT64_MIN, INT64_MAX, 1u << CATALOG_SEG_OPEN, &s), 0);
    assert_int_equal(s.n, (MANY + 6) / 7);
    assert_int_equal(list(f->cat, 0, INT64_MIN, INT64_MAX, 0, &s), 0);
    assert_int_equal(s.n, MANY);
}

#define THREADS    4
#define PER_THREAD 150

struct worker {
    const char *path;
    int index;
    int err;
};

/* Each thread opens its own connection, as the daemon's writers do. */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct catalog *cat;
    struct catalog_segment seg;
    char name[16];
    int64_t cam;

    w->err = catalog_open(w->path, CATALOG_READWRITE, &cat);
    if (w->err < 0)
        return NULL;
    snprintf(name, sizeof(name), "cam%d", w->index);
    w->err = catalog_camera_ensure(cat, name, &cam);
    for (int i = 0; w->err == 0 && i < PER_THREAD; i++) {
        memset(&seg, 0, sizeof(seg));
        seg.camera_id = cam;
        seg.start_us = (int64_t)i * 10;
        seg.end_us = seg.start_us;
        snprintf(seg.path, sizeof(seg.path), "%s/%d", name, i);
        w->err = catalog_segment_begin(cat, &seg);
        if (w->err == 0)
            w->err =
                catalog_segment_progress(cat, seg.id, seg.start_us + 5, 1, 1);
        if (w->err == 0) {
            seg.end_us = seg.start_us + 10;
            w->err = catalog_segment_finish(cat, &seg);
        }
    }
    catalog_close(cat);
    return NULL;
}

/* Writer threads start together on a file that does not exist yet, as at
 * the daemon's first start: creation and migration must not race. */
static void test_catalog_concurrent_writers(void **state)
{
    struct fixture *f = *state;
    struct worker w[THREADS];
    pthread_t t[THREADS];
    struct seen s = {0};
    struct catalog *cat;
    char path[192];

    snprintf(path, sizeof(path), "%s/fresh.db", f->dir);
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.path = path, .index = i};
        assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(w[i].err, 0);
    }
    assert_int_equal(catalog_open(path, CATALOG_READONLY, &cat), 0);
    assert_int_equal(
        list(cat, 0, INT64_MIN, INT64_MAX, 1u << CATALOG_SEG_CLOSED, &s), 0);
    assert_int_equal(s.n, THREADS * PER_THREAD);
    catalog_close(cat);
    unlink(path);
    snprintf(path, sizeof(path), "%s/fresh.db-wal", f->dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/fresh.db-shm", f->dir);
    unlink(path);
}

static void test_catalog_memory(void **state)
{
    struct catalog *cat;
    struct catalog_segment seg;
    struct seen s = {0};
    int64_t cam;

    assert_int_equal(catalog_open(":memory:", CATALOG_READWRITE, &cat), 0);
    assert_int_equal(catalog_schema_version(cat), CATALOG_SCHEMA_VERSION);
    assert_int_equal(catalog_camera_ensure(cat, "m", &cam), 0);
    seg_make(&seg, cam, 5, 6, "m/0");
    assert_int_equal(catalog_segment_begin(cat, &seg), 0);
    assert_int_equal(list(cat, cam, 0, 10, 0, &s), 0);
    assert_int_equal(s.n, 1);
    catalog_close(cat);
}

/* Rows under a date directory, as recovery compares them with files. */
static void test_catalog_segment_under_dir(void **state)
{
    struct fixture *f = *state;
    struct catalog_segment s;
    struct seen seen = {0};
    int64_t cam, other, n = -1, newest = 0;
    static const char *const paths[] = {
        "gate/2026-01-01/a.mp4", "gate/2026-01-01/b.mp4",
        "gate/2026-01-010/c.mp4", "gate/2026-01-02/d.mp4",
        "gate/2026-01-01/e.mp4"};

    assert_int_equal(catalog_camera_ensure(f->cat, "gate", &cam), 0);
    assert_int_equal(catalog_camera_ensure(f->cat, "yard", &other), 0);
    for (int i = 0; i < 5; i++) {
        seg_make(&s, cam, 100 * (i + 1), 100 * (i + 1) + 50, paths[i]);
        assert_int_equal(catalog_segment_begin(f->cat, &s), 0);
    }
    /* A MISSING row no longer claims a file. */
    assert_int_equal(
        catalog_segment_set_status(f->cat, s.id, CATALOG_SEG_MISSING), 0);

    assert_int_equal(
        catalog_segment_count_under(f->cat, "gate/2026-01-01/", &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(catalog_segment_list_under(f->cat, "gate/2026-01-01/",
                                                collect_cb, &seen),
                     0);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.starts[0], 100);
    assert_int_equal(seen.starts[1], 200);
    assert_int_equal(catalog_segment_count_under(f->cat, "gate/2026-01-01", &n),
                     -EINVAL);

    assert_int_equal(catalog_segment_newest_start(f->cat, cam, &newest), 0);
    assert_int_equal(newest, 500);
    assert_int_equal(catalog_segment_newest_start(f->cat, other, &newest),
                     -ENOENT);
}

/* PRAGMA temp_store of a connection: 2 is MEMORY. */
static int temp_store(struct catalog *cat)
{
    sqlite3_stmt *st;
    int v = -1;

    assert_int_equal(sqlite3_prepare_v2(catalog__db(cat), "PRAGMA temp_store",
                                        -1, &st, NULL),
                     SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Every connection keeps SQLite's temporary files in memory: the
 * sandboxed recorder may write nowhere but the storage. */
static void test_catalog_temp_in_memory(void **state)
{
    struct fixture *f = *state;
    struct catalog *ro;

    assert_int_equal(temp_store(f->cat), 2);
    assert_int_equal(catalog_open(f->path, CATALOG_READONLY, &ro), 0);
    assert_int_equal(temp_store(ro), 2);
    catalog_close(ro);
}

/* Sets or clears FS_IMMUTABLE_FL (chattr +i) on path; 0 or -errno. */
static int set_immutable(const char *path, bool on)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), flags, r = 0;

    if (fd < 0)
        return -errno;
    if (ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) {
        r = -errno;
    } else {
        flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
        if (ioctl(fd, FS_IOC_SETFLAGS, &flags) != 0)
            r = -errno;
    }
    close(fd);
    return r;
}

/* An immutable WAL (chattr +i, as an attacker or an admin's mistake would
 * leave it) is refused by the OS with EPERM: the catalog says so, not
 * "Input/output error", and works again once the flag is gone. Needs root
 * and a file system with attributes (ext4 under /tmp). */
static void test_catalog_immutable_says_eperm(void **state)
{
    struct fixture *f = *state;
    char wal[192];

    assert_int_equal(catalog_camera_ensure(f->cat, "gate", &(int64_t){0}), 0);
    snprintf(wal, sizeof(wal), "%s-wal", f->path);
    assert_int_equal(set_immutable(wal, true), 0);
    assert_int_equal(catalog_event_add(f->cat, 1, 1000, "break", "x"), -EPERM);
    assert_int_equal(set_immutable(wal, false), 0);
    assert_int_equal(catalog_event_add(f->cat, 1, 2000, "break", "y"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_catalog_create_and_reopen),
        T(test_catalog_newer_schema_refused),
        T(test_catalog_readonly_older_schema),
        T(test_catalog_migrates_v1_to_v2),
        T(test_catalog_not_a_database),
        cmocka_unit_test(test_catalog_bad_args),
        T(test_catalog_readonly_missing),
        T(test_catalog_camera_ensure),
        T(test_catalog_camera_list),
        T(test_catalog_segment_lifecycle),
        T(test_catalog_segment_constraints),
        T(test_catalog_segment_list_overlap),
        T(test_catalog_segment_list_long_segment),
        T(test_catalog_segment_list_reentrant),
        T(test_catalog_segment_under_dir),
        T(test_catalog_events),
        T(test_catalog_status),
        T(test_catalog_migrates_refused),
        T(test_catalog_truncates_utf8),
        T(test_catalog_query_plan),
        T(test_catalog_readonly_beside_writer),
        T(test_catalog_busy),
        T(test_catalog_many_segments),
        T(test_catalog_concurrent_writers),
        cmocka_unit_test(test_catalog_memory),
        T(test_catalog_temp_in_memory),
        T(test_catalog_immutable_says_eperm),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
