/* SPDX-License-Identifier: MIT */
/*
 * Tests of storage/audit.c against a real SQLite catalog in a temporary
 * directory: appends fill identity and chain hashes, the documented hash
 * encoding is reproduced independently, listing filters by camera and
 * time, and audit_verify() names the first bad entry after a row is
 * edited, deleted, inserted or two rows are swapped directly in SQL.
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
#include <unistd.h>

#include <cmocka.h>
#include <libavutil/mem.h>
#include <libavutil/sha.h>
#include <sqlite3.h>

#include "storage/audit.h"
#include "storage/catalog.h"
#include "storage/catalog_int.h"

#define ZERO64 \
    "0000000000000000000000000000000000000000000000000000000000000000"

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
    snprintf(f->dir, sizeof(f->dir), "/tmp/nvr-test-audit-XXXXXX");
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
    unlink(f->path);
    snprintf(p, sizeof(p), "%s-wal", f->path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", f->path);
    unlink(p);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void add(struct catalog *cat, const char *kind, const char *camera,
                int64_t time_us, struct audit_entry *out)
{
    struct audit_entry e;

    memset(&e, 0, sizeof(e));
    snprintf(e.kind, sizeof(e.kind), "%s", kind);
    snprintf(e.camera, sizeof(e.camera), "%s", camera ? camera : "");
    e.time_us = time_us;
    e.from_us = time_us - 1000;
    e.to_us = time_us + 1000;
    snprintf(e.detail, sizeof(e.detail), "{\"n\":%lld}", (long long)time_us);
    assert_int_equal(audit_append(cat, &e), 0);
    if (out)
        *out = e;
}

static void add_five(struct catalog *cat)
{
    add(cat, AUDIT_RECORDER_START, NULL, 1000000, NULL);
    add(cat, AUDIT_EXPORT, "gate", 2000000, NULL);
    add(cat, AUDIT_PLAYBACK, "yard", 3000000, NULL);
    add(cat, AUDIT_HOLD_ADD, "gate", 4000000, NULL);
    add(cat, AUDIT_RECORDER_STOP, NULL, 5000000, NULL);
}

static void exec(struct fixture *f, const char *sql)
{
    char *msg = NULL;

    if (sqlite3_exec(catalog__db(f->cat), sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

static int64_t verify_bad(struct fixture *f, char *why, size_t why_size)
{
    int64_t bad = -1;

    assert_int_equal(audit_verify(f->cat, &bad, why, why_size), -EBADMSG);
    assert_true(why[0] != '\0');
    return bad;
}

/* An independent implementation of the encoding documented in audit.c. */
static void put_int(struct AVSHA *s, int64_t v)
{
    uint8_t b[8];

    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
    av_sha_update(s, b, 8);
}

static void put_text(struct AVSHA *s, const char *t)
{
    uint32_t n = (uint32_t)strlen(t);
    uint8_t b[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8),
                    (uint8_t)n};

    av_sha_update(s, b, 4);
    av_sha_update(s, (const uint8_t *)t, n);
}

static void test_audit_append_chains(void **state)
{
    struct fixture *f = *state;
    struct audit_entry a, b;
    struct AVSHA *s = av_sha_alloc();
    uint8_t d[32];
    char hex[65];

    add(f->cat, AUDIT_RECORDER_START, NULL, 0, &a);
    add(f->cat, AUDIT_EXPORT, "gate", 0, &b);
    assert_int_equal(a.id, 1);
    assert_int_equal(b.id, 2);
    assert_true(a.time_us > 1600000000000000LL);
    assert_true(a.user[0] != '\0');
    assert_true(a.host[0] != '\0');
    assert_string_equal(a.prev_hash, ZERO64);
    assert_string_equal(b.prev_hash, a.hash);
    assert_int_equal(strlen(b.hash), 64);

    /* Recompute b's hash by the documented encoding. */
    assert_non_null(s);
    av_sha_init(s, 256);
    put_int(s, b.id);
    put_int(s, b.time_us);
    put_text(s, b.user);
    put_text(s, b.host);
    put_text(s, b.kind);
    put_text(s, b.camera);
    put_int(s, b.from_us);
    put_int(s, b.to_us);
    put_text(s, b.detail);
    put_text(s, b.prev_hash);
    av_sha_final(s, d);
    av_free(s);
    for (int i = 0; i < 32; i++)
        snprintf(hex + (size_t)2 * i, 3, "%02x", d[i]);
    assert_string_equal(hex, b.hash);

    {
        int64_t id = 0;
        char head[65];

        assert_int_equal(audit_head(f->cat, &id, head), 0);
        assert_int_equal(id, 2);
        assert_string_equal(head, b.hash);
    }
    assert_int_equal(audit_verify(f->cat, NULL, NULL, 0), 0);
}

static void test_audit_append_rejects_empty_kind(void **state)
{
    struct fixture *f = *state;
    struct audit_entry e;

    memset(&e, 0, sizeof(e));
    assert_int_equal(audit_append(f->cat, &e), -EINVAL);
}

struct list_ctx {
    int n;
    int64_t ids[16];
};

static int list_cb(void *user, const struct audit_entry *e)
{
    struct list_ctx *c = user;

    if (c->n < 16)
        c->ids[c->n++] = e->id;
    return 0;
}

static void test_audit_list_filters(void **state)
{
    struct fixture *f = *state;
    struct list_ctx c = {0};

    add_five(f->cat);
    assert_int_equal(audit_list(f->cat, NULL, 0, INT64_MAX, list_cb, &c), 0);
    assert_int_equal(c.n, 5);
    assert_int_equal(c.ids[0], 1);
    assert_int_equal(c.ids[4], 5);

    memset(&c, 0, sizeof(c));
    assert_int_equal(audit_list(f->cat, "gate", 0, INT64_MAX, list_cb, &c), 0);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.ids[0], 2);
    assert_int_equal(c.ids[1], 4);

    memset(&c, 0, sizeof(c));
    assert_int_equal(audit_list(f->cat, NULL, 2500000, 4000000, list_cb, &c),
                     0);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.ids[0], 3);
    assert_int_equal(c.ids[1], 4);
}

static void test_audit_verify_untouched(void **state)
{
    struct fixture *f = *state;
    int64_t bad = -1;
    char why[256] = "x";

    assert_int_equal(audit_verify(f->cat, &bad, why, sizeof(why)), 0);
    add_five(f->cat);
    assert_int_equal(audit_verify(f->cat, &bad, why, sizeof(why)), 0);
    assert_int_equal(bad, 0);
    assert_string_equal(why, "");
}

static void test_audit_verify_edited(void **state)
{
    struct fixture *f = *state;
    char why[256];

    add_five(f->cat);
    exec(f, "UPDATE audit SET detail = 'nothing to see' WHERE id = 3");
    assert_int_equal(verify_bad(f, why, sizeof(why)), 3);
    assert_non_null(strstr(why, "altered"));
}

static void test_audit_verify_edited_time(void **state)
{
    struct fixture *f = *state;
    char why[256];

    add_five(f->cat);
    exec(f, "UPDATE audit SET time_us = time_us + 1 WHERE id = 2");
    assert_int_equal(verify_bad(f, why, sizeof(why)), 2);
}

static void test_audit_verify_deleted(void **state)
{
    struct fixture *f = *state;
    char why[256];

    add_five(f->cat);
    exec(f, "DELETE FROM audit WHERE id = 3");
    /* Named as the id after which entries are missing. */
    assert_int_equal(verify_bad(f, why, sizeof(why)), 2);
    assert_non_null(strstr(why, "missing after entry 2"));
}

static void test_audit_verify_deleted_renumbered(void **state)
{
    struct fixture *f = *state;
    char why[256];

    add_five(f->cat);
    exec(f, "DELETE FROM audit WHERE id = 3;"
            "UPDATE audit SET id = id - 1 WHERE id > 3");
    assert_int_equal(verify_bad(f, why, sizeof(why)), 3);
}

static void test_audit_verify_deleted_first(void **state)
{
    struct fixture *f = *state;
    char why[256];

    add_five(f->cat);
    exec(f, "DELETE FROM audit WHERE id = 1");
    assert_int_equal(verify_bad(f, why, sizeof(why)), 0);
    assert_non_null(strstr(why, "before entry 2"));
}

static void test_audit_verify_inserted(void **state)
{
    struct fixture *f = *state;
    char why[256];

    add_five(f->cat);
    exec(f, "INSERT INTO audit(id, time_us, user, host, kind, detail, "
            "prev_hash, hash) SELECT 6, time_us + 1, user, host, 'export', "
            "'', hash, hash FROM audit WHERE id = 5");
    assert_int_equal(verify_bad(f, why, sizeof(why)), 6);
}

static void test_audit_verify_inserted_middle(void **state)
{
    struct fixture *f = *state;
    char why[256];

    add_five(f->cat);
    /* Make room at 3 by moving the later rows up, then fill it with a
     * copy of row 2 pointing at row 2. */
    exec(f, "UPDATE audit SET id = id + 10 WHERE id >= 3;"
            "UPDATE audit SET id = id - 9 WHERE id >= 13;"
            "INSERT INTO audit(id, time_us, user, host, kind, detail, "
            "prev_hash, hash) SELECT 3, time_us, user, host, kind, detail, "
            "hash, hash FROM audit WHERE id = 2");
    assert_int_equal(verify_bad(f, why, sizeof(why)), 3);
}

static void test_audit_verify_swapped(void **state)
{
    struct fixture *f = *state;
    char why[256];

    add_five(f->cat);
    exec(f, "UPDATE audit SET id = -1 WHERE id = 2;"
            "UPDATE audit SET id = 2 WHERE id = 4;"
            "UPDATE audit SET id = 4 WHERE id = -1");
    assert_int_equal(verify_bad(f, why, sizeof(why)), 2);
    assert_non_null(strstr(why, "does not follow"));
}

static void test_audit_append_after_reopen(void **state)
{
    struct fixture *f = *state;
    struct catalog *other = NULL;
    struct audit_entry e;

    add_five(f->cat);
    assert_int_equal(catalog_open(f->path, CATALOG_READWRITE, &other), 0);
    add(other, AUDIT_VERIFY_STORAGE, NULL, 6000000, &e);
    catalog_close(other);
    assert_int_equal(e.id, 6);
    add(f->cat, AUDIT_RETENTION, NULL, 7000000, &e);
    assert_int_equal(e.id, 7);
    assert_int_equal(audit_verify(f->cat, NULL, NULL, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_audit_append_chains, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_audit_append_rejects_empty_kind,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_list_filters, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_audit_verify_untouched, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_audit_verify_edited, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_audit_verify_edited_time, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_audit_verify_deleted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_audit_verify_deleted_renumbered,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_verify_deleted_first, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_audit_verify_inserted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_audit_verify_inserted_middle,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_verify_swapped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_audit_append_after_reopen, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
