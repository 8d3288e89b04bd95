/* SPDX-License-Identifier: MIT */
/*
 * The catalog's `audit` table (see catalog_audit.h). Appends run in one
 * BEGIN IMMEDIATE transaction, so concurrent writers (the daemon, a CLI
 * export, the TUI) serialise on SQLite's lock and each new row links to
 * the true last one.
 */
#include "config.h"
#include "storage/catalog_audit.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "nvr/base/compiler.h"
#include "storage/catalog_int.h"

#define CATALOG_AUDIT_ZERO_HASH \
    "0000000000000000000000000000000000000000000000000000000000000000"

#define CATALOG_AUDIT_COLS                                  \
    "id, time_us, user, host, kind, coalesce(camera, ''), " \
    "coalesce(from_us, 0), coalesce(to_us, 0), detail, prev_hash, hash"

/* Each statement is one literal split over lines, never a list: the
 * missing-comma check cannot tell. */
/* NOLINTBEGIN(bugprone-suspicious-missing-comma) */
static const char *const catalog_audit_sql[CATALOG_STMT_COUNT] = {
    [CATALOG_STMT_AUDIT_LAST] =
        "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1",
    [CATALOG_STMT_AUDIT_INSERT] =
        "INSERT INTO audit(id, time_us, user, host, kind, camera, from_us, "
        "to_us, detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
    [CATALOG_STMT_AUDIT_LIST] =
        "SELECT " CATALOG_AUDIT_COLS " FROM audit WHERE "
        "(?1 IS NULL OR camera = ?1) AND time_us >= ?2 "
        "AND time_us <= ?3 ORDER BY id",
    [CATALOG_STMT_AUDIT_ALL] =
        "SELECT " CATALOG_AUDIT_COLS " FROM audit ORDER BY id",
};
/* NOLINTEND(bugprone-suspicious-missing-comma) */

static int catalog_audit_stmt(struct catalog *cat, enum catalog__stmt_id id,
                              sqlite3_stmt **st, bool *owned)
{
    return catalog__stmt_get(cat, id, catalog_audit_sql[id], st, owned);
}

/* Fills e from a row selected with CATALOG_AUDIT_COLS. */
static void catalog_audit_row(sqlite3_stmt *st, struct audit_entry *e)
{
    memset(e, 0, sizeof(*e));
    e->id = sqlite3_column_int64(st, 0);
    e->time_us = sqlite3_column_int64(st, 1);
    catalog__column_bytes(st, 2, e->user, sizeof(e->user));
    catalog__column_bytes(st, 3, e->host, sizeof(e->host));
    catalog__column_bytes(st, 4, e->kind, sizeof(e->kind));
    catalog__column_bytes(st, 5, e->camera, sizeof(e->camera));
    e->from_us = sqlite3_column_int64(st, 6);
    e->to_us = sqlite3_column_int64(st, 7);
    catalog__column_bytes(st, 8, e->detail, sizeof(e->detail));
    catalog__column_bytes(st, 9, e->prev_hash, sizeof(e->prev_hash));
    catalog__column_bytes(st, 10, e->hash, sizeof(e->hash));
}

/* A text column is longer than the field it is read into (a row no
 * audit_append could have written). */
static bool catalog_audit_oversized(sqlite3_stmt *st)
{
    static const struct {
        int col;
        size_t size;
    } limits[] = {
        {2, sizeof(((struct audit_entry *)0)->user)},
        {3, sizeof(((struct audit_entry *)0)->host)},
        {4, sizeof(((struct audit_entry *)0)->kind)},
        {5, sizeof(((struct audit_entry *)0)->camera)},
        {8, sizeof(((struct audit_entry *)0)->detail)},
        {9, sizeof(((struct audit_entry *)0)->prev_hash)},
        {10, sizeof(((struct audit_entry *)0)->hash)},
    };

    for (size_t i = 0; i < NVR_ARRAY_SIZE(limits); i++) {
        if ((size_t)sqlite3_column_bytes(st, limits[i].col) >= limits[i].size)
            return true;
    }
    return false;
}

int catalog_audit_head(struct catalog *cat, int64_t *id, char out[65])
{
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    err = catalog_audit_stmt(cat, CATALOG_STMT_AUDIT_LAST, &st, &owned);
    if (err < 0)
        return err;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        catalog__column_bytes(st, 1, out, 65);
    } else if (rc == SQLITE_DONE) {
        *id = 0;
        snprintf(out, 65, "%s", CATALOG_AUDIT_ZERO_HASH);
    } else {
        err = catalog__err(cat, rc, "audit: last entry");
    }
    catalog__stmt_put(st, owned);
    return err;
}

static int catalog_audit_insert(struct catalog *cat,
                                const struct audit_entry *e)
{
    sqlite3_stmt *st;
    bool owned;
    int err;

    err = catalog_audit_stmt(cat, CATALOG_STMT_AUDIT_INSERT, &st, &owned);
    if (err < 0)
        return err;
    sqlite3_bind_int64(st, 1, e->id);
    sqlite3_bind_int64(st, 2, e->time_us);
    sqlite3_bind_text(st, 3, e->user, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, e->host, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, e->kind, -1, SQLITE_STATIC);
    if (e->camera[0])
        sqlite3_bind_text(st, 6, e->camera, -1, SQLITE_STATIC);
    if (e->from_us)
        sqlite3_bind_int64(st, 7, e->from_us);
    if (e->to_us)
        sqlite3_bind_int64(st, 8, e->to_us);
    sqlite3_bind_text(st, 9, e->detail, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, e->prev_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, e->hash, -1, SQLITE_STATIC);
    err = catalog__step_done(cat, st, "audit: insert");
    catalog__stmt_put(st, owned);
    return err;
}

int catalog_audit_append(struct catalog *cat, struct audit_entry *e,
                         catalog_audit_seal_cb seal)
{
    int64_t last_id = 0;
    int err = catalog__exec(cat, "BEGIN IMMEDIATE", "audit: begin");

    if (err < 0)
        return err;
    err = catalog_audit_head(cat, &last_id, e->prev_hash);
    if (err < 0)
        goto err_rollback;
    e->id = last_id + 1;
    err = seal(e);
    if (err < 0)
        goto err_rollback;
    err = catalog_audit_insert(cat, e);
    if (err < 0)
        goto err_rollback;
    err = catalog__exec(cat, "COMMIT", "audit: commit");
    if (err < 0)
        goto err_rollback;
    return 0;

err_rollback:
    catalog__exec_quiet(cat, "ROLLBACK");
    return err;
}

int catalog_audit_list(struct catalog *cat, const char *camera, int64_t from_us,
                       int64_t to_us, audit_cb cb, void *user)
{
    struct audit_entry e;
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    err = catalog_audit_stmt(cat, CATALOG_STMT_AUDIT_LIST, &st, &owned);
    if (err < 0)
        return err;
    if (camera)
        sqlite3_bind_text(st, 1, camera, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, from_us);
    sqlite3_bind_int64(st, 3, to_us);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        catalog_audit_row(st, &e);
        if (cb(user, &e) != 0)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        err = catalog__err(cat, rc, "audit: list");
    catalog__stmt_put(st, owned);
    return err;
}

int catalog_audit_walk(struct catalog *cat, catalog_audit_row_cb cb, void *user)
{
    struct audit_entry e;
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    err = catalog__exec(cat, "BEGIN", "audit: begin");
    if (err < 0)
        return err;
    err = catalog_audit_stmt(cat, CATALOG_STMT_AUDIT_ALL, &st, &owned);
    if (err < 0)
        goto out;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        catalog_audit_row(st, &e);
        err = cb(user, &e, catalog_audit_oversized(st));
        if (err != 0)
            break;
    }
    if (err > 0)
        err = 0;
    else if (err == 0 && rc != SQLITE_DONE)
        err = catalog__err(cat, rc, "audit: verify");
    catalog__stmt_put(st, owned);
out:
    catalog__exec_quiet(cat, "COMMIT");
    return err;
}
