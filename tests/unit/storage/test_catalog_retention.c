/* SPDX-License-Identifier: MIT */
/*
 * Tests of storage/catalog_retention.c on a real catalog in a temp dir:
 * candidates by query and key, a batch marked with holds, MISSING and
 * OPEN rows in it, the DELETING rows read back and dropped, and a
 * camera's bytes.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clip.h"
#include "storage/catalog.h"
#include "storage/catalog_holds.h"
#include "storage/catalog_retention.h"

struct fixture {
    char *dir;
    char db[512];
    struct catalog *cat;
    int64_t gate, yard;
    int64_t ids[4]; /* gate: closed, missing, open; yard: closed */
};

static int64_t seg(struct fixture *f, int64_t cam, int64_t start, int status)
{
    struct catalog_segment s;

    memset(&s, 0, sizeof(s));
    s.camera_id = cam;
    s.start_us = start;
    s.end_us = start + 10;
    s.bytes = 100;
    snprintf(s.path, sizeof(s.path), "%lld/%lld.mp4", (long long)cam,
             (long long)start);
    assert_int_equal(catalog_segment_begin(f->cat, &s), 0);
    if (status == CATALOG_SEG_CLOSED) {
        snprintf(s.sha256, sizeof(s.sha256), "%064d", 0);
        assert_int_equal(catalog_segment_finish(f->cat, &s), 0);
    } else if (status != CATALOG_SEG_OPEN) {
        assert_int_equal(catalog_segment_set_status(f->cat, s.id, status), 0);
    }
    return s.id;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->dir = make_tmpdir();
    snprintf(f->db, sizeof(f->db), "%s/catalog.db", f->dir);
    assert_int_equal(catalog_open(f->db, CATALOG_READWRITE, &f->cat), 0);
    assert_int_equal(catalog_camera_ensure(f->cat, "gate", &f->gate), 0);
    assert_int_equal(catalog_camera_ensure(f->cat, "yard", &f->yard), 0);
    f->ids[0] = seg(f, f->gate, 100, CATALOG_SEG_CLOSED);
    f->ids[1] = seg(f, f->gate, 200, CATALOG_SEG_MISSING);
    f->ids[2] = seg(f, f->gate, 300, CATALOG_SEG_OPEN);
    f->ids[3] = seg(f, f->yard, 150, CATALOG_SEG_CLOSED);
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

static void test_catalog_retention_fetch(void **state)
{
    struct fixture *f = *state;
    struct catalog_segment out[4];
    int64_t sum;

    /* Aged: CLOSED and MISSING rows that ended by the cutoff. */
    assert_int_equal(catalog_retention_fetch(f->cat, CATALOG_RETENTION_AGED,
                                             f->gate, 1000, INT64_MIN, 0, out,
                                             4),
                     2);
    assert_int_equal(out[0].id, f->ids[0]);
    assert_int_equal(out[1].status, CATALOG_SEG_MISSING);
    assert_int_equal(catalog_retention_fetch(f->cat, CATALOG_RETENTION_AGED,
                                             f->gate, 209, INT64_MIN, 0, out,
                                             4),
                     1);
    /* The key skips what was seen; max caps the batch. */
    assert_int_equal(catalog_retention_fetch(f->cat, CATALOG_RETENTION_AGED,
                                             f->gate, 1000, 100, f->ids[0], out,
                                             4),
                     1);
    assert_int_equal(out[0].id, f->ids[1]);
    assert_int_equal(catalog_retention_fetch(f->cat, CATALOG_RETENTION_CLOSED,
                                             f->gate, INT64_MAX, INT64_MIN, 0,
                                             out, 4),
                     1);
    assert_int_equal(catalog_retention_fetch(f->cat, CATALOG_RETENTION_GLOBAL,
                                             0, INT64_MAX, INT64_MIN, 0, out,
                                             1),
                     1);
    assert_int_equal(out[0].id, f->ids[0]);
    assert_int_equal(catalog_retention_fetch(f->cat, CATALOG_RETENTION_GLOBAL,
                                             0, INT64_MAX, INT64_MIN, 0, out,
                                             4),
                     2);
    assert_int_equal(out[1].id, f->ids[3]);
    assert_int_equal(catalog_retention_fetch(f->cat, 7, 0, 0, 0, 0, out, 4),
                     -EINVAL);

    /* Bytes count the usable rows: CLOSED and OPEN. */
    assert_int_equal(catalog_retention_bytes(f->cat, f->gate, &sum), 0);
    assert_int_equal(sum, 200);
}

static void test_catalog_retention_mark_and_drop(void **state)
{
    struct fixture *f = *state;
    struct catalog_segment rows[4], del[4];
    enum catalog_retention_mark out[4];
    struct hold h = {.from_us = 150, .to_us = 160};
    bool gone[4] = {true, true, true, true};
    int64_t deleted;

    snprintf(h.reason, sizeof(h.reason), "case");
    snprintf(h.created_by, sizeof(h.created_by), "ann");
    assert_int_equal(catalog_holds_insert(f->cat, f->yard, &h), 0);
    for (int i = 0; i < 4; i++) {
        static const int64_t starts[] = {100, 200, 300, 150};
        char path[64];

        snprintf(path, sizeof(path), "%lld/%lld.mp4",
                 (long long)(i == 3 ? f->yard : f->gate), (long long)starts[i]);
        assert_int_equal(catalog_segment_by_path(f->cat, path, &rows[i]), 0);
    }
    assert_int_equal(catalog_retention_mark(f->cat, rows, 4, out), 0);
    assert_int_equal(out[0], CATALOG_RETENTION_MARKED);
    assert_int_equal(out[1], CATALOG_RETENTION_DROPPED);
    assert_int_equal(out[2], CATALOG_RETENTION_KEPT); /* OPEN */
    assert_int_equal(out[3], CATALOG_RETENTION_HELD);

    assert_int_equal(catalog_retention_deleting(f->cat, del, 4), 1);
    assert_int_equal(del[0].id, f->ids[0]);
    assert_int_equal(del[0].status, CATALOG_SEG_DELETING);
    /* Only DELETING rows go, and only those whose file is gone. */
    gone[0] = false;
    assert_int_equal(catalog_retention_drop(f->cat, rows, gone, 4, &deleted),
                     0);
    assert_int_equal(deleted, 0);
    gone[0] = true;
    assert_int_equal(catalog_retention_drop(f->cat, rows, gone, 4, &deleted),
                     0);
    assert_int_equal(deleted, 1);
    assert_int_equal(catalog_retention_deleting(f->cat, del, 4), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_catalog_retention_fetch),
        T(test_catalog_retention_mark_and_drop),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
