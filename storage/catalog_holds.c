/* SPDX-License-Identifier: MIT */
/*
 * The catalog's `holds` table (see catalog_holds.h). Retention checks
 * holds with catalog_holds_covers() inside the transaction that marks a
 * segment for deletion (catalog_retention.c), so a hold added while a
 * pass runs protects everything the pass has not yet marked.
 */
#include "config.h"
#include "storage/catalog_holds.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "storage/catalog_int.h"

#define CATALOG_HOLDS_COLUMNS                                            \
    "h.id, c.name, h.from_us, h.to_us, h.reason, h.created_us,"          \
    " h.created_by, coalesce(h.released_us, 0), coalesce(h.released_by," \
    " '')"

/* Each statement is one literal split over lines, never a list: the
 * missing-comma check cannot tell. */
/* NOLINTBEGIN(bugprone-suspicious-missing-comma) */
static const char *const catalog_holds_sql[CATALOG_STMT_COUNT] = {
    [CATALOG_STMT_HOLD_INSERT] =
        "INSERT INTO holds(camera_id, from_us, to_us, reason,"
        " created_us, created_by) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [CATALOG_STMT_HOLD_DELETE] = "DELETE FROM holds WHERE id = ?1",
    [CATALOG_STMT_HOLD_GET] =
        "SELECT " CATALOG_HOLDS_COLUMNS " FROM holds h JOIN cameras c"
        " ON c.id = h.camera_id WHERE h.id = ?1",
    [CATALOG_STMT_HOLD_RELEASE] =
        "UPDATE holds SET released_us = ?2, released_by = ?3 WHERE id = ?1",
    [CATALOG_STMT_HOLD_LIST] =
        "SELECT " CATALOG_HOLDS_COLUMNS " FROM holds h JOIN cameras c"
        " ON c.id = h.camera_id WHERE (?1 IS NULL OR c.name = ?1)"
        " AND h.from_us < ?3 AND h.to_us > ?2"
        " AND (?4 = 0 OR h.released_us IS NULL)"
        " ORDER BY c.name, h.from_us, h.id",
    [CATALOG_STMT_HOLD_COVERS] = "SELECT 1 FROM holds WHERE camera_id = ?1"
                                 " AND released_us IS NULL AND from_us < ?3"
                                 " AND to_us > ?2 LIMIT 1",
};
/* NOLINTEND(bugprone-suspicious-missing-comma) */

static int catalog_holds_stmt(struct catalog *cat, enum catalog__stmt_id id,
                              sqlite3_stmt **st, bool *owned)
{
    return catalog__stmt_get(cat, id, catalog_holds_sql[id], st, owned);
}

/* Fills h from a row of CATALOG_HOLDS_COLUMNS. */
static void catalog_holds_read(sqlite3_stmt *st, struct hold *h)
{
    memset(h, 0, sizeof(*h));
    h->id = sqlite3_column_int64(st, 0);
    catalog__column_bytes(st, 1, h->camera, sizeof(h->camera));
    h->from_us = sqlite3_column_int64(st, 2);
    h->to_us = sqlite3_column_int64(st, 3);
    catalog__column_bytes(st, 4, h->reason, sizeof(h->reason));
    h->created_us = sqlite3_column_int64(st, 5);
    catalog__column_bytes(st, 6, h->created_by, sizeof(h->created_by));
    h->released_us = sqlite3_column_int64(st, 7);
    catalog__column_bytes(st, 8, h->released_by, sizeof(h->released_by));
}

int catalog_holds_insert(struct catalog *cat, int64_t camera_id, struct hold *h)
{
    sqlite3_stmt *st;
    bool owned;
    int err;

    err = catalog_holds_stmt(cat, CATALOG_STMT_HOLD_INSERT, &st, &owned);
    if (err < 0)
        return err;
    sqlite3_bind_int64(st, 1, camera_id);
    sqlite3_bind_int64(st, 2, h->from_us);
    sqlite3_bind_int64(st, 3, h->to_us);
    sqlite3_bind_text(st, 4, h->reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, h->created_us);
    sqlite3_bind_text(st, 6, h->created_by, -1, SQLITE_STATIC);
    err = catalog__step_done(cat, st, "add hold");
    if (err == 0)
        h->id = sqlite3_last_insert_rowid(cat->db);
    catalog__stmt_put(st, owned);
    return err;
}

int catalog_holds_delete(struct catalog *cat, int64_t id)
{
    sqlite3_stmt *st;
    bool owned;
    int err;

    err = catalog_holds_stmt(cat, CATALOG_STMT_HOLD_DELETE, &st, &owned);
    if (err < 0)
        return err;
    sqlite3_bind_int64(st, 1, id);
    err = catalog__step_done(cat, st, "undo hold");
    catalog__stmt_put(st, owned);
    return err;
}

int catalog_holds_get(struct catalog *cat, int64_t id, struct hold *out)
{
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    err = catalog_holds_stmt(cat, CATALOG_STMT_HOLD_GET, &st, &owned);
    if (err < 0)
        return err;
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        catalog_holds_read(st, out);
    else if (rc == SQLITE_DONE)
        err = -ENOENT;
    else
        err = catalog__err(cat, rc, "find hold");
    catalog__stmt_put(st, owned);
    return err;
}

int catalog_holds_set_released(struct catalog *cat, int64_t id,
                               int64_t released_us, const char *user)
{
    sqlite3_stmt *st;
    bool owned;
    int err;

    err = catalog_holds_stmt(cat, CATALOG_STMT_HOLD_RELEASE, &st, &owned);
    if (err < 0)
        return err;
    sqlite3_bind_int64(st, 1, id);
    if (released_us) {
        sqlite3_bind_int64(st, 2, released_us);
        sqlite3_bind_text(st, 3, user, -1, SQLITE_STATIC);
    }
    err = catalog__step_done(cat, st, "release hold");
    catalog__stmt_put(st, owned);
    return err;
}

int catalog_holds_list(struct catalog *cat, const char *camera, int64_t from_us,
                       int64_t to_us, int active_only, holds_cb cb, void *user)
{
    struct hold h;
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    err = catalog_holds_stmt(cat, CATALOG_STMT_HOLD_LIST, &st, &owned);
    if (err < 0)
        return err;
    if (camera)
        sqlite3_bind_text(st, 1, camera, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, from_us);
    sqlite3_bind_int64(st, 3, to_us);
    sqlite3_bind_int(st, 4, active_only != 0);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        catalog_holds_read(st, &h);
        if (cb(user, &h) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    err = rc == SQLITE_DONE ? 0 : catalog__err(cat, rc, "list holds");
    catalog__stmt_put(st, owned);
    return err;
}

int catalog_holds_covers(struct catalog *cat, int64_t camera_id,
                         int64_t from_us, int64_t to_us)
{
    const int64_t v[] = {camera_id, from_us, to_us};
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    err = catalog_holds_stmt(cat, CATALOG_STMT_HOLD_COVERS, &st, &owned);
    if (err < 0)
        return err;
    rc = catalog__bind_int64s(st, 1, v, NVR_ARRAY_SIZE(v));
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        err = 1;
    else if (rc == SQLITE_DONE)
        err = 0;
    else
        err = catalog__err(cat, rc, "check holds");
    catalog__stmt_put(st, owned);
    return err;
}
