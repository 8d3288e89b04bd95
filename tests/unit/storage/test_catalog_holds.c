/* SPDX-License-Identifier: MIT */
/*
 * Tests of storage/catalog_holds.c on a real catalog in a temp dir: a
 * hold row inserted, read back, listed with each filter, covering a range
 * while active, released and made active again, and deleted.
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

#include "clip.h"
#include "storage/catalog.h"
#include "storage/catalog_holds.h"

struct fixture {
    char *dir;
    char db[512];
    struct catalog *cat;
    int64_t gate, yard;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->dir = make_tmpdir();
    snprintf(f->db, sizeof(f->db), "%s/catalog.db", f->dir);
    assert_int_equal(catalog_open(f->db, CATALOG_READWRITE, &f->cat), 0);
    assert_int_equal(catalog_camera_ensure(f->cat, "gate", &f->gate), 0);
    assert_int_equal(catalog_camera_ensure(f->cat, "yard", &f->yard), 0);
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

static int64_t insert(struct fixture *f, int64_t cam, int64_t from, int64_t to)
{
    struct hold h;

    memset(&h, 0, sizeof(h));
    h.from_us = from;
    h.to_us = to;
    h.created_us = 5;
    snprintf(h.reason, sizeof(h.reason), "case %lld", (long long)from);
    snprintf(h.created_by, sizeof(h.created_by), "ann");
    assert_int_equal(catalog_holds_insert(f->cat, cam, &h), 0);
    assert_true(h.id > 0);
    return h.id;
}

struct seen {
    int n;
    struct hold last;
};

static int seen_cb(void *user, const struct hold *h)
{
    struct seen *s = user;

    s->n++;
    s->last = *h;
    return 0;
}

static int count(struct fixture *f, const char *camera, int64_t from,
                 int64_t to, int active_only)
{
    struct seen s = {0};

    assert_int_equal(
        catalog_holds_list(f->cat, camera, from, to, active_only, seen_cb, &s),
        0);
    return s.n;
}

static void test_catalog_holds_rows(void **state)
{
    struct fixture *f = *state;
    int64_t a = insert(f, f->gate, 100, 200);
    int64_t b = insert(f, f->yard, 150, 300);
    struct hold h;

    assert_int_equal(catalog_holds_get(f->cat, a, &h), 0);
    assert_string_equal(h.camera, "gate");
    assert_string_equal(h.reason, "case 100");
    assert_string_equal(h.created_by, "ann");
    assert_int_equal(h.created_us, 5);
    assert_int_equal(h.released_us, 0);
    assert_string_equal(h.released_by, "");
    assert_int_equal(catalog_holds_get(f->cat, b + 1, &h), -ENOENT);

    assert_int_equal(count(f, NULL, 0, 1000, 0), 2);
    assert_int_equal(count(f, "yard", 0, 1000, 0), 1);
    assert_int_equal(count(f, NULL, 200, 1000, 0), 1); /* [from, to) */
    assert_int_equal(count(f, NULL, 0, 100, 0), 0);
}

static void test_catalog_holds_release_and_covers(void **state)
{
    struct fixture *f = *state;
    int64_t a = insert(f, f->gate, 100, 200);
    struct hold h;

    assert_int_equal(catalog_holds_covers(f->cat, f->gate, 199, 250), 1);
    assert_int_equal(catalog_holds_covers(f->cat, f->gate, 200, 250), 0);
    assert_int_equal(catalog_holds_covers(f->cat, f->yard, 100, 200), 0);

    assert_int_equal(catalog_holds_set_released(f->cat, a, 77, "bob"), 0);
    assert_int_equal(catalog_holds_get(f->cat, a, &h), 0);
    assert_int_equal(h.released_us, 77);
    assert_string_equal(h.released_by, "bob");
    assert_int_equal(catalog_holds_covers(f->cat, f->gate, 100, 200), 0);
    assert_int_equal(count(f, NULL, 0, 1000, 1), 0);
    assert_int_equal(count(f, NULL, 0, 1000, 0), 1);

    /* Released 0 makes it active again (the undo of a release). */
    assert_int_equal(catalog_holds_set_released(f->cat, a, 0, NULL), 0);
    assert_int_equal(catalog_holds_get(f->cat, a, &h), 0);
    assert_int_equal(h.released_us, 0);
    assert_int_equal(catalog_holds_covers(f->cat, f->gate, 100, 200), 1);

    assert_int_equal(catalog_holds_delete(f->cat, a), 0);
    assert_int_equal(catalog_holds_get(f->cat, a, &h), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_catalog_holds_rows),
        T(test_catalog_holds_release_and_covers),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
