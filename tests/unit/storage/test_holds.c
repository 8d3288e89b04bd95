/* SPDX-License-Identifier: MIT */
/*
 * Tests of storage/holds.c on a real catalog in a temp dir: add, list,
 * covers, release, bad arguments, and the audit entries each change
 * leaves.
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
#include "storage/audit.h"
#include "storage/catalog.h"
#include "storage/holds.h"

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

static int64_t add(struct fixture *f, const char *camera, int64_t from,
                   int64_t to, const char *reason)
{
    struct hold h;

    memset(&h, 0, sizeof(h));
    snprintf(h.camera, sizeof(h.camera), "%s", camera);
    snprintf(h.reason, sizeof(h.reason), "%s", reason);
    h.from_us = from;
    h.to_us = to;
    assert_int_equal(holds_add(f->cat, &h), 0);
    assert_true(h.id > 0);
    assert_true(h.created_by[0] != '\0');
    assert_true(h.created_us > 0);
    return h.id;
}

struct seen {
    int n;
    struct hold h[8];
};

static int seen_cb(void *user, const struct hold *h)
{
    struct seen *s = user;

    assert_true(s->n < 8);
    s->h[s->n++] = *h;
    return 0;
}

static int audit_seen_cb(void *user, const struct audit_entry *e)
{
    struct seen *s = user;

    if (strncmp(e->kind, "hold_", 5) == 0) {
        assert_true(s->n < 8);
        char *r = s->h[s->n].reason;
        size_t size = sizeof(s->h[0].reason);

        /* Pieces copied one by one: the detail may be longer than r. */
        snprintf(r, size, "%.31s %.63s ", e->kind, e->camera);
        {
            size_t used = strlen(r);
            size_t n = strnlen(e->detail, size - used - 1);

            memcpy(r + used, e->detail, n);
            r[used + n] = '\0';
        }
        s->n++;
    }
    return 0;
}

static void test_holds_add_list_release(void **state)
{
    struct fixture *f = *state;
    struct seen s = {0};
    int64_t a, b;

    a = add(f, "gate", 1000, 2000, "case \"7\" \\ burglary");
    b = add(f, "yard", 1500, 3000, "case 8");
    assert_int_equal(holds_covers(f->cat, f->gate, 1999, 2500), 1);
    assert_int_equal(holds_covers(f->cat, f->gate, 2000, 2500), 0);
    assert_int_equal(holds_covers(f->cat, f->gate, 0, 1000), 0);
    assert_int_equal(holds_covers(f->cat, f->yard, 2900, 3100), 1);

    assert_int_equal(
        holds_list(f->cat, NULL, INT64_MIN, INT64_MAX, 1, seen_cb, &s), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.h[0].camera, "gate");
    assert_string_equal(s.h[0].reason, "case \"7\" \\ burglary");
    assert_int_equal(s.h[0].released_us, 0);
    s.n = 0;
    assert_int_equal(holds_list(f->cat, "yard", 0, 1600, 1, seen_cb, &s), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.h[0].id, b);
    s.n = 0;
    assert_int_equal(holds_list(f->cat, "yard", 0, 1500, 1, seen_cb, &s), 0);
    assert_int_equal(s.n, 0);

    assert_int_equal(holds_release(f->cat, a, "officer"), 0);
    assert_int_equal(holds_covers(f->cat, f->gate, 1000, 2000), 0);
    assert_int_equal(holds_release(f->cat, a, "officer"), -EALREADY);
    assert_int_equal(holds_release(f->cat, 999, "officer"), -ENOENT);
    s.n = 0;
    assert_int_equal(
        holds_list(f->cat, NULL, INT64_MIN, INT64_MAX, 1, seen_cb, &s), 0);
    assert_int_equal(s.n, 1);
    s.n = 0;
    assert_int_equal(
        holds_list(f->cat, NULL, INT64_MIN, INT64_MAX, 0, seen_cb, &s), 0);
    assert_int_equal(s.n, 2);
    assert_true(s.h[0].released_us > 0);
    assert_string_equal(s.h[0].released_by, "officer");

    /* Each add and release is in the audit log, reason escaped. */
    s.n = 0;
    assert_int_equal(
        audit_list(f->cat, NULL, INT64_MIN, INT64_MAX, audit_seen_cb, &s), 0);
    assert_int_equal(s.n, 3);
    assert_non_null(strstr(s.h[0].reason, "hold_add gate"));
    assert_non_null(strstr(s.h[0].reason, "case \\\"7\\\" \\\\ burglary"));
    assert_non_null(strstr(s.h[2].reason, "hold_release gate"));
    {
        int64_t bad = 0;
        char why[128];
        assert_int_equal(audit_verify(f->cat, &bad, why, sizeof(why)), 0);
    }
}

static void test_holds_bad_arguments(void **state)
{
    struct fixture *f = *state;
    struct hold h;

    memset(&h, 0, sizeof(h));
    snprintf(h.camera, sizeof(h.camera), "gate");
    h.from_us = 10;
    h.to_us = 20;
    assert_int_equal(holds_add(f->cat, &h), -EINVAL); /* no reason */
    snprintf(h.reason, sizeof(h.reason), "  \t");
    assert_int_equal(holds_add(f->cat, &h), -EINVAL);
    snprintf(h.reason, sizeof(h.reason), "ok");
    h.to_us = 10;
    assert_int_equal(holds_add(f->cat, &h), -EINVAL); /* from >= to */
    h.to_us = 20;
    snprintf(h.camera, sizeof(h.camera), "nowhere");
    assert_int_equal(holds_add(f->cat, &h), -ENOENT);
}

struct detail {
    char text[1024];
};

static int detail_cb(void *user, const struct audit_entry *e)
{
    struct detail *d = user;

    if (strcmp(e->kind, "hold_add") == 0)
        snprintf(d->text, sizeof(d->text), "%s", e->detail);
    return 0;
}

/* A reason whose escaped form does not fit the audit detail is cut at the
 * longest whole escape that does, and the detail stays whole JSON. */
static void test_holds_long_reason_detail(void **state)
{
    struct fixture *f = *state;
    char reason[512], want[1024];
    struct detail d = {{0}};
    size_t prefix, k;
    int64_t id;

    memset(reason, '"', sizeof(reason) - 1);
    reason[sizeof(reason) - 1] = '\0';
    id = add(f, "gate", 1000, 2000, reason);
    assert_int_equal(
        audit_list(f->cat, NULL, INT64_MIN, INT64_MAX, detail_cb, &d), 0);
    prefix = (size_t)snprintf(want, sizeof(want),
                              "{\"hold\":%lld,\"reason\":\"", (long long)id);
    k = (sizeof(d.text) - 1 - prefix - 2) / 2;
    for (size_t i = 0; i < k; i++)
        strcat(want, "\\\"");
    strcat(want, "\"}");
    assert_string_equal(d.text, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_holds_add_list_release, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_holds_bad_arguments, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_holds_long_reason_detail, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
