/* SPDX-License-Identifier: MIT */
/*
 * Tests of storage/catalog_audit.c on a real catalog in a temp dir: the
 * rows an append stores (id, prev_hash and the sealed hash), a seal that
 * fails storing nothing, the head, the filters of the list, and a walk
 * that flags an oversized row and stops where its callback says.
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
#include <sqlite3.h>

#include "clip.h"
#include "storage/catalog.h"
#include "storage/catalog_audit.h"

struct fixture {
    char *dir;
    char db[512];
    struct catalog *cat;
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

/* A seal that writes "h<id>" so each row's hash is predictable. */
static int seal_id(struct audit_entry *e)
{
    snprintf(e->hash, sizeof(e->hash), "h%lld", (long long)e->id);
    return 0;
}

static int seal_fail(struct audit_entry *e)
{
    (void)e;
    return -ENOMEM;
}

static void append(struct fixture *f, const char *camera, int64_t time_us)
{
    struct audit_entry e;

    memset(&e, 0, sizeof(e));
    e.time_us = time_us;
    snprintf(e.kind, sizeof(e.kind), "playback");
    snprintf(e.user, sizeof(e.user), "ann");
    snprintf(e.host, sizeof(e.host), "box");
    snprintf(e.camera, sizeof(e.camera), "%s", camera);
    assert_int_equal(catalog_audit_append(f->cat, &e, seal_id), 0);
}

struct seen {
    int n;
    int oversized;
    int stop_at; /* walk: return this at the row with this id; 0 never */
    int stop_with;
    struct audit_entry last;
};

static int list_cb(void *user, const struct audit_entry *e)
{
    struct seen *s = user;

    s->n++;
    s->last = *e;
    return 0;
}

static int walk_cb(void *user, const struct audit_entry *e, int oversized)
{
    struct seen *s = user;

    s->n++;
    s->oversized += oversized;
    s->last = *e;
    return s->stop_at == e->id ? s->stop_with : 0;
}

static void test_catalog_audit_append_chains(void **state)
{
    struct fixture *f = *state;
    char hash[65];
    int64_t id;
    struct seen s = {0};

    assert_int_equal(catalog_audit_head(f->cat, &id, hash), 0);
    assert_int_equal(id, 0);
    assert_int_equal(strspn(hash, "0"), 64);
    append(f, "gate", 100);
    append(f, "", 200);
    assert_int_equal(catalog_audit_head(f->cat, &id, hash), 0);
    assert_int_equal(id, 2);
    assert_string_equal(hash, "h2");
    assert_int_equal(catalog_audit_list(f->cat, NULL, 0, 1000, list_cb, &s), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.last.prev_hash, "h1");
    assert_string_equal(s.last.camera, "");

    /* A seal that fails stores nothing and leaves the head alone. */
    struct audit_entry e = {.time_us = 300};
    snprintf(e.kind, sizeof(e.kind), "export");
    assert_int_equal(catalog_audit_append(f->cat, &e, seal_fail), -ENOMEM);
    assert_int_equal(catalog_audit_head(f->cat, &id, hash), 0);
    assert_int_equal(id, 2);
}

static void test_catalog_audit_list_filters(void **state)
{
    struct fixture *f = *state;
    struct seen s = {0};

    append(f, "gate", 100);
    append(f, "yard", 200);
    append(f, "gate", 300);
    assert_int_equal(catalog_audit_list(f->cat, "gate", 0, 1000, list_cb, &s),
                     0);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.last.id, 3);
    memset(&s, 0, sizeof(s));
    assert_int_equal(catalog_audit_list(f->cat, NULL, 150, 300, list_cb, &s),
                     0);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.last.time_us, 300);
}

static void test_catalog_audit_walk(void **state)
{
    struct fixture *f = *state;
    struct seen s = {0};
    char sql[512];
    sqlite3 *db;

    append(f, "gate", 100);
    append(f, "gate", 200);
    /* A third row with a user longer than any field holds. */
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    snprintf(sql, sizeof(sql),
             "INSERT INTO audit(id, time_us, user, host, kind, detail,"
             " prev_hash, hash) VALUES(3, 300, printf('%%.*c', 100, 'x'),"
             " 'box', 'playback', '', 'h2', 'h3')");
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    assert_int_equal(catalog_audit_walk(f->cat, walk_cb, &s), 0);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.oversized, 1);
    assert_int_equal(strlen(s.last.user), sizeof(s.last.user) - 1);

    /* A negative return stops the walk and comes back; a positive one
     * only stops it. */
    memset(&s, 0, sizeof(s));
    s.stop_at = 1;
    s.stop_with = -EBADMSG;
    assert_int_equal(catalog_audit_walk(f->cat, walk_cb, &s), -EBADMSG);
    assert_int_equal(s.n, 1);
    memset(&s, 0, sizeof(s));
    s.stop_at = 2;
    s.stop_with = 1;
    assert_int_equal(catalog_audit_walk(f->cat, walk_cb, &s), 0);
    assert_int_equal(s.n, 2);
    /* The walk's read transaction is over: a writer gets the lock. */
    append(f, "gate", 400);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_catalog_audit_append_chains),
        T(test_catalog_audit_list_filters),
        T(test_catalog_audit_walk),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
