/* SPDX-License-Identifier: MIT */
/*
 * Tests of storage/retention.c on a synthetic catalog made with the real
 * catalog API and real files in a temp dir: the days rule, max_bytes,
 * min_free (free space comes from a --wrap of fsops_statvfs that counts
 * what fsops_unlinkat frees), legal holds under every rule, the open
 * segment, --dry-run, and a pass interrupted after marking rows DELETING
 * (finished by the next pass and by start-up recovery).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "clip.h"
#include "storage/catalog.h"
#include "storage/fsops.h"
#include "storage/holds.h"
#include "storage/recovery.h"
#include "storage/retention.h"

#define DAY_US   (86400LL * 1000000LL)
#define NOW_US   INT64_C(1800000000000000) /* 2027-01-15T08:00:00Z */
#define SEG_US   (60LL * 1000000LL)
#define MAX_SEGS 64

/* ---- seam mocks: a file system of FAKE_TOTAL bytes ---- */

int __real_fsops_unlinkat(int dirfd, const char *name);
int __wrap_fsops_unlinkat(int dirfd, const char *name);
int __wrap_fsops_statvfs(const char *path, int64_t *avail, int64_t *total);

#define FAKE_TOTAL 1000000LL
static int64_t fake_avail; /* before any unlink */
static int64_t fake_freed; /* bytes of files unlinked */

int __wrap_fsops_unlinkat(int dirfd, const char *name)
{
    struct stat sb;
    int64_t size =
        fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 ? sb.st_size : 0;
    int r = __real_fsops_unlinkat(dirfd, name);

    if (r == 0)
        fake_freed += size;
    return r;
}

int __wrap_fsops_statvfs(const char *path, int64_t *avail, int64_t *total)
{
    (void)path;
    *avail = fake_avail + fake_freed;
    *total = FAKE_TOTAL;
    return 0;
}

/* ---- fixture ---- */

struct fixture {
    char *dir;
    char db[512];
    struct catalog *cat;
    struct catalog_segment segs[MAX_SEGS];
    int n;
    struct retention_camera cams[2];
    struct retention_config rc;
    char deleted_paths[MAX_SEGS][256];
    int n_deleted;
};

static void on_item(void *user, const char *camera,
                    const struct catalog_segment *seg, enum retention_rule rule)
{
    struct fixture *f = user;

    (void)camera;
    (void)rule;
    assert_true(f->n_deleted < MAX_SEGS);
    snprintf(f->deleted_paths[f->n_deleted++], 256, "%s", seg->path);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->dir = make_tmpdir();
    snprintf(f->db, sizeof(f->db), "%s/catalog.db", f->dir);
    assert_int_equal(catalog_open(f->db, CATALOG_READWRITE, &f->cat), 0);
    f->cams[0] = (struct retention_camera){"gate", 31, 0};
    f->cams[1] = (struct retention_camera){"yard", 31, 0};
    f->rc.storage_dir = f->dir;
    f->rc.catalog_path = f->db;
    f->rc.cameras = f->cams;
    f->rc.n_cameras = 2;
    f->rc.default_retain_days = RETENTION_DEFAULT_DAYS;
    f->rc.now_us = NOW_US;
    f->rc.on_item = on_item;
    f->rc.user = f;
    fake_avail = FAKE_TOTAL / 2;
    fake_freed = 0;
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

/* A segment of `camera` from start_us, SEG_US long, with a file of
 * `bytes` bytes; closed unless `open`. Returns its index. */
static int add_seg(struct fixture *f, const char *camera, int64_t start_us,
                   int64_t bytes, int open)
{
    struct catalog_segment *s = &f->segs[f->n];
    char dir[1024], path[1280];
    time_t t = (time_t)(start_us / 1000000);
    struct tm tm;
    FILE *fp;

    assert_true(f->n < MAX_SEGS);
    gmtime_r(&t, &tm);
    memset(s, 0, sizeof(*s));
    assert_int_equal(catalog_camera_ensure(f->cat, camera, &s->camera_id), 0);
    snprintf(s->path, sizeof(s->path),
             "%s/%04d-%02d-%02d/%s-%04d%02d%02dT%02d%02d%02d.000000Z.mp4",
             camera, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, camera,
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec);
    snprintf(dir, sizeof(dir), "%s/%s", f->dir, s->path);
    *strrchr(dir, '/') = '\0';
    assert_int_equal(fsops_mkdir_p(dir, 0750), 0);
    snprintf(path, sizeof(path), "%s/%s", f->dir, s->path);
    fp = fopen(path, "wb");
    assert_non_null(fp);
    for (int64_t i = 0; i < bytes; i++)
        fputc('x', fp);
    fclose(fp);
    s->start_us = start_us;
    s->end_us = start_us + SEG_US;
    s->bytes = bytes;
    s->frames = 1500;
    snprintf(s->codec, sizeof(s->codec), "h264");
    assert_int_equal(catalog_segment_begin(f->cat, s), 0);
    if (!open) {
        snprintf(s->sha256, sizeof(s->sha256), "%064d", f->n);
        assert_int_equal(catalog_segment_finish(f->cat, s), 0);
    }
    return f->n++;
}

/* 1 if segment i still has its row and its file, 0 if it has neither;
 * fails on anything in between. */
static int exists(struct fixture *f, int i)
{
    struct catalog_segment got;
    char path[1280];
    int row, file;

    row = catalog_segment_by_path(f->cat, f->segs[i].path, &got) == 0;
    snprintf(path, sizeof(path), "%s/%s", f->dir, f->segs[i].path);
    file = file_size(path) >= 0;
    if (row != file)
        fail_msg("%s: row %d but file %d", f->segs[i].path, row, file);
    return row;
}

static void run(struct fixture *f, struct retention_report *rep)
{
    f->n_deleted = 0;
    assert_int_equal(retention_run(&f->rc, rep), 0);
}

static void test_retention_days(void **state)
{
    struct fixture *f = *state;
    struct retention_report rep;
    int old1 = add_seg(f, "gate", NOW_US - 40 * DAY_US, 100, 0);
    int old2 = add_seg(f, "gate", NOW_US - 32 * DAY_US, 100, 0);
    /* Ends after the cutoff: still has footage inside the 31 days. */
    int across = add_seg(f, "gate", NOW_US - 31 * DAY_US - SEG_US / 2, 100, 0);
    int young = add_seg(f, "gate", NOW_US - DAY_US, 100, 0);
    /* Being written (or cut short by a crash and not yet recovered). */
    int open = add_seg(f, "gate", NOW_US - 50 * DAY_US, 100, 1);
    /* yard keeps 60 days. */
    int yard = add_seg(f, "yard", NOW_US - 40 * DAY_US, 100, 0);

    f->cams[1].retain_days = 60;
    run(f, &rep);
    assert_int_equal(rep.deleted, 2);
    assert_int_equal(rep.by_rule[RETENTION_RULE_DAYS], 2);
    assert_int_equal(rep.deleted_bytes, 200);
    assert_int_equal(f->n_deleted, 2);
    /* Oldest first. */
    assert_string_equal(f->deleted_paths[0], f->segs[old1].path);
    assert_string_equal(f->deleted_paths[1], f->segs[old2].path);
    assert_int_equal(exists(f, old1), 0);
    assert_int_equal(exists(f, old2), 0);
    assert_int_equal(exists(f, across), 1);
    assert_int_equal(exists(f, young), 1);
    assert_int_equal(exists(f, open), 1);
    assert_int_equal(exists(f, yard), 1);
    assert_int_equal(rep.min_free_unmet, 0);

    /* A camera removed from the config still ages out after the default
     * 31 days. */
    f->rc.n_cameras = 1;
    run(f, &rep);
    assert_int_equal(rep.deleted, 1);
    assert_int_equal(exists(f, yard), 0);
}

static void test_retention_dry_run_deletes_nothing(void **state)
{
    struct fixture *f = *state;
    struct retention_report rep;

    for (int i = 0; i < 5; i++)
        add_seg(f, "gate", NOW_US - (40 - i) * DAY_US, 1000, 0);
    f->rc.dry_run = 1;
    f->cams[0].max_bytes = 100;
    run(f, &rep);
    assert_int_equal(rep.deleted, 5);
    assert_int_equal(rep.deleted_bytes, 5000);
    assert_int_equal(f->n_deleted, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(exists(f, i), 1);
    assert_int_equal(fake_freed, 0);
    /* And for real. */
    f->rc.dry_run = 0;
    run(f, &rep);
    assert_int_equal(rep.deleted, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(exists(f, i), 0);
}

static void test_retention_max_bytes(void **state)
{
    struct fixture *f = *state;
    struct retention_report rep;

    for (int i = 0; i < 5; i++)
        add_seg(f, "gate", NOW_US - (5 - i) * 3600 * 1000000LL, 1000, 0);
    add_seg(f, "gate", NOW_US - 60 * 1000000LL, 1000, 1); /* open */
    add_seg(f, "yard", NOW_US - 6 * 3600 * 1000000LL, 1000, 0);
    /* 6000 bytes (open segment included) over 3500: the three oldest
     * closed ones go; the open one counts but is never deleted. */
    f->cams[0].max_bytes = 3500;
    run(f, &rep);
    assert_int_equal(rep.by_rule[RETENTION_RULE_BYTES], 3);
    assert_int_equal(exists(f, 0), 0);
    assert_int_equal(exists(f, 1), 0);
    assert_int_equal(exists(f, 2), 0);
    assert_int_equal(exists(f, 3), 1);
    assert_int_equal(exists(f, 4), 1);
    assert_int_equal(exists(f, 5), 1);
    assert_int_equal(exists(f, 6), 1); /* other camera, no limit */
}

static void test_retention_min_free(void **state)
{
    struct fixture *f = *state;
    struct retention_report rep;

    /* Interleaved cameras: min_free deletes the oldest of any camera. */
    for (int i = 0; i < 6; i++)
        add_seg(f, i % 2 ? "yard" : "gate", NOW_US - (10 - i) * 3600000000LL,
                10000, 0);
    /* 30000 bytes short of 10% of the file system. */
    fake_avail = FAKE_TOTAL / 10 - 30000;
    f->rc.min_free_percent = 10;
    run(f, &rep);
    assert_int_equal(rep.by_rule[RETENTION_RULE_MIN_FREE], 3);
    assert_int_equal(rep.min_free_target, FAKE_TOTAL / 10);
    assert_int_equal(rep.min_free_unmet, 0);
    assert_int_equal(exists(f, 0), 0);
    assert_int_equal(exists(f, 1), 0);
    assert_int_equal(exists(f, 2), 0);
    assert_int_equal(exists(f, 3), 1);
    /* Now in bytes. */
    fake_avail -= 5000;
    f->rc.min_free_percent = 0;
    f->rc.min_free_bytes = FAKE_TOTAL / 10;
    run(f, &rep);
    assert_int_equal(rep.by_rule[RETENTION_RULE_MIN_FREE], 1);
    assert_int_equal(exists(f, 3), 0);
    assert_int_equal(exists(f, 4), 1);
}

/* The recorder's catalog reserve, while released: the min_free rule makes
 * room for it on top of min_free, and says what it worked to. */
static void test_retention_min_free_extra(void **state)
{
    struct fixture *f = *state;
    struct retention_report rep;

    for (int i = 0; i < 6; i++)
        add_seg(f, "gate", NOW_US - (10 - i) * 3600000000LL, 10000, 0);
    /* min_free is met; the 20000 extra bytes are not. */
    fake_avail = FAKE_TOTAL / 10;
    f->rc.min_free_percent = 10;
    f->rc.extra_free_bytes = 20000;
    run(f, &rep);
    assert_int_equal(rep.by_rule[RETENTION_RULE_MIN_FREE], 2);
    assert_int_equal(rep.min_free_target, FAKE_TOTAL / 10);
    assert_int_equal(rep.min_free_work, FAKE_TOTAL / 10 + 20000);
    assert_int_equal(rep.min_free_unmet, 0);
    assert_int_equal(exists(f, 1), 0);
    assert_int_equal(exists(f, 2), 1);
    /* More than is left to delete: unmet against what it worked to. */
    f->rc.extra_free_bytes = 1000000;
    run(f, &rep);
    assert_int_equal(rep.min_free_unmet, 1);
    assert_int_equal(rep.min_free_only_held, 1);
}

static void test_retention_holds(void **state)
{
    struct fixture *f = *state;
    struct retention_report rep;
    struct hold h;
    int a = add_seg(f, "gate", NOW_US - 40 * DAY_US, 10000, 0);
    int b = add_seg(f, "gate", NOW_US - 39 * DAY_US, 10000, 0);
    int c = add_seg(f, "gate", NOW_US - 2 * DAY_US, 10000, 0);
    int open = add_seg(f, "gate", NOW_US - 60 * 1000000LL, 10000, 1);

    /* A hold on a minute inside segment b. */
    memset(&h, 0, sizeof(h));
    snprintf(h.camera, sizeof(h.camera), "gate");
    snprintf(h.reason, sizeof(h.reason), "case 42");
    h.from_us = f->segs[b].start_us + 10000000;
    h.to_us = h.from_us + 1000;
    assert_int_equal(holds_add(f->cat, &h), 0);
    assert_int_equal(holds_covers(f->cat, f->segs[b].camera_id,
                                  f->segs[b].start_us, f->segs[b].end_us),
                     1);

    /* Every rule at once: days, bytes and min_free all want b. */
    f->cams[0].max_bytes = 1;
    fake_avail = 0;
    f->rc.min_free_bytes = FAKE_TOTAL;
    run(f, &rep);
    assert_int_equal(exists(f, a), 0);
    assert_int_equal(exists(f, b), 1);
    assert_int_equal(exists(f, c), 0);
    assert_int_equal(exists(f, open), 1);
    assert_true(rep.held >= 1);
    /* Only held footage (and the open segment) is left: said loudly. */
    assert_int_equal(rep.min_free_unmet, 1);
    assert_int_equal(rep.min_free_only_held, 1);

    /* Released, it goes like any other. */
    assert_int_equal(holds_release(f->cat, h.id, "tester"), 0);
    assert_int_equal(holds_release(f->cat, h.id, "tester"), -EALREADY);
    run(f, &rep);
    assert_int_equal(exists(f, b), 0);
    assert_int_equal(exists(f, open), 1);
    assert_int_equal(rep.held, 0);
}

static void test_retention_interrupted_pass(void **state)
{
    struct fixture *f = *state;
    struct retention_report rep;
    struct recovery_report rrep;
    char path[1280];
    int a = add_seg(f, "gate", NOW_US - 2 * DAY_US, 100, 0);
    int b = add_seg(f, "gate", NOW_US - DAY_US, 100, 0);

    /* A pass killed after its DELETING commit: one file already gone,
     * one still there. */
    assert_int_equal(
        catalog_segment_set_status(f->cat, f->segs[a].id, CATALOG_SEG_DELETING),
        0);
    assert_int_equal(
        catalog_segment_set_status(f->cat, f->segs[b].id, CATALOG_SEG_DELETING),
        0);
    snprintf(path, sizeof(path), "%s/%s", f->dir, f->segs[a].path);
    assert_int_equal(unlink(path), 0);
    run(f, &rep);
    assert_int_equal(rep.interrupted, 2);
    assert_int_equal(rep.deleted, 0);
    assert_int_equal(exists(f, a), 0);
    assert_int_equal(exists(f, b), 0);

    /* Start-up recovery finishes them the same way. */
    a = add_seg(f, "gate", NOW_US - 3 * DAY_US, 100, 0);
    assert_int_equal(
        catalog_segment_set_status(f->cat, f->segs[a].id, CATALOG_SEG_DELETING),
        0);
    assert_int_equal(recovery_run(f->dir, f->db, &rrep), 0);
    assert_int_equal(rrep.deleted, 1);
    assert_int_equal(exists(f, a), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_retention_days, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_dry_run_deletes_nothing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_max_bytes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_retention_min_free_extra, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_retention_min_free, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_retention_holds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_interrupted_pass, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
