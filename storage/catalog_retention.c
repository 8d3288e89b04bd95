/* SPDX-License-Identifier: MIT */
/*
 * The catalog queries of retention (see catalog_retention.h). The
 * candidate queries name their index, so a pass costs what it deletes
 * plus the held rows it steps over, not the size of the catalog.
 */
#include "config.h"
#include "storage/catalog_retention.h"

#include <errno.h>
#include <stdbool.h>

#include <sqlite3.h>

#include "nvr/base/compiler.h"
#include "storage/catalog.h"
#include "storage/catalog_holds.h"
#include "storage/catalog_int.h"

/* Keyset pagination over (start_us, id): ?3/?4 are the last row seen. */
#define CATALOG_RET_AFTER " start_us >= ?3 AND (start_us > ?3 OR id > ?4)"

/* Each statement is one literal split over lines, never a list: the
 * missing-comma check cannot tell. */
/* NOLINTBEGIN(bugprone-suspicious-missing-comma) */
static const char *const catalog_retention_sql[CATALOG_STMT_COUNT] = {
    [CATALOG_STMT_RET_AGED] =
        "SELECT " CATALOG_SEG_COLUMNS " FROM segments INDEXED BY"
        " segments_camera_start WHERE camera_id = ?1"
        " AND start_us < ?2 AND" CATALOG_RET_AFTER
        " AND end_us <= ?2 AND status IN (" CATALOG_SQL_SEG(
            CLOSED) ", " CATALOG_SQL_SEG(MISSING) ") ORDER BY start_us, id "
                                                  "LIMIT ?5",
    [CATALOG_STMT_RET_CLOSED] =
        "SELECT " CATALOG_SEG_COLUMNS " FROM segments INDEXED BY"
        " segments_camera_start WHERE camera_id = ?1"
        " AND start_us < ?2 AND" CATALOG_RET_AFTER
        " AND status = " CATALOG_SQL_SEG(
            CLOSED) " ORDER BY start_us, id LIMIT ?5",
    [CATALOG_STMT_RET_GLOBAL] =
        "SELECT " CATALOG_SEG_COLUMNS " FROM segments INDEXED BY"
        " segments_start WHERE ?1 = ?1 AND start_us < ?2 AND" CATALOG_RET_AFTER
        " AND status = " CATALOG_SQL_SEG(
            CLOSED) " ORDER BY start_us, id LIMIT ?5",
    [CATALOG_STMT_RET_DELETING] =
        "SELECT " CATALOG_SEG_COLUMNS " FROM segments INDEXED BY"
        " segments_deleting WHERE status = " CATALOG_SQL_SEG(
            DELETING) " ORDER BY camera_id, start_us, id LIMIT ?1",
    [CATALOG_STMT_RET_MARK] = "UPDATE segments SET status = " CATALOG_SQL_SEG(
        DELETING) " WHERE id = ?1 AND status = " CATALOG_SQL_SEG(CLOSED),
    [CATALOG_STMT_RET_DROP] = "DELETE FROM segments WHERE id = ?1"
                              " AND status = ?2",
    [CATALOG_STMT_RET_SUM] =
        "SELECT coalesce(sum(bytes), 0) FROM segments"
        " WHERE camera_id = ?1 AND status IN " CATALOG_SQL_SEG_USABLE,
};
/* NOLINTEND(bugprone-suspicious-missing-comma) */

static int catalog_retention_stmt(struct catalog *cat, enum catalog__stmt_id id,
                                  sqlite3_stmt **st, bool *owned)
{
    return catalog__stmt_get(cat, id, catalog_retention_sql[id], st, owned);
}

/* Steps st to its end reading segment rows into out[0..max). */
static int catalog_retention_read(struct catalog *cat, sqlite3_stmt *st,
                                  struct catalog_segment *out, size_t max,
                                  const char *what)
{
    size_t n = 0;
    int rc = SQLITE_DONE;

    while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
        catalog__read_segment(st, &out[n++]);
    if (n == max)
        return (int)n;
    return rc == SQLITE_DONE ? (int)n : catalog__err(cat, rc, what);
}

int catalog_retention_fetch(struct catalog *cat,
                            enum catalog_retention_query query,
                            int64_t camera_id, int64_t before_us,
                            int64_t after_start_us, int64_t after_id,
                            struct catalog_segment *out, size_t max)
{
    static const enum catalog__stmt_id ids[] = {
        [CATALOG_RETENTION_AGED] = CATALOG_STMT_RET_AGED,
        [CATALOG_RETENTION_CLOSED] = CATALOG_STMT_RET_CLOSED,
        [CATALOG_RETENTION_GLOBAL] = CATALOG_STMT_RET_GLOBAL,
    };
    const int64_t v[] = {camera_id, before_us, after_start_us, after_id,
                         (int64_t)max};
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    if ((unsigned)query >= NVR_ARRAY_SIZE(ids) || max > INT32_MAX)
        return -EINVAL;
    err = catalog_retention_stmt(cat, ids[query], &st, &owned);
    if (err < 0)
        return err;
    rc = catalog__bind_int64s(st, 1, v, NVR_ARRAY_SIZE(v));
    err = rc == SQLITE_OK ? catalog_retention_read(cat, st, out, max,
                                                   "list retention candidates")
                          : catalog__err(cat, rc, "list retention candidates");
    catalog__stmt_put(st, owned);
    return err;
}

int catalog_retention_deleting(struct catalog *cat, struct catalog_segment *out,
                               size_t max)
{
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    if (max > INT32_MAX)
        return -EINVAL;
    err = catalog_retention_stmt(cat, CATALOG_STMT_RET_DELETING, &st, &owned);
    if (err < 0)
        return err;
    rc = sqlite3_bind_int64(st, 1, (int64_t)max);
    err = rc == SQLITE_OK
              ? catalog_retention_read(cat, st, out, max, "list deleting rows")
              : catalog__err(cat, rc, "list deleting rows");
    catalog__stmt_put(st, owned);
    return err;
}

/* Runs statement `id` with ?1 = a (and ?2 = b when it has one); returns
 * the rows it changed or a catalog error. */
static int catalog_retention_change(struct catalog *cat,
                                    enum catalog__stmt_id id, int64_t a,
                                    int64_t b, const char *what)
{
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    err = catalog_retention_stmt(cat, id, &st, &owned);
    if (err < 0)
        return err;
    rc = sqlite3_bind_int64(st, 1, a);
    if (rc == SQLITE_OK && sqlite3_bind_parameter_count(st) > 1)
        rc = sqlite3_bind_int64(st, 2, b);
    err = rc == SQLITE_OK ? catalog__step_done(cat, st, what)
                          : catalog__err(cat, rc, what);
    if (err == 0)
        err = sqlite3_changes(cat->db);
    catalog__stmt_put(st, owned);
    return err;
}

/* Inside the mark transaction: what becomes of one candidate. */
static int catalog_retention_mark_one(struct catalog *cat,
                                      const struct catalog_segment *s,
                                      enum catalog_retention_mark *out)
{
    int r = catalog_holds_covers(cat, s->camera_id, s->start_us,
                                 NVR_MAX(s->end_us, s->start_us + 1));

    if (r < 0)
        return r;
    if (r) {
        *out = CATALOG_RETENTION_HELD;
        return 0;
    }
    if (s->status == CATALOG_SEG_MISSING) {
        r = catalog_retention_change(cat, CATALOG_STMT_RET_DROP, s->id,
                                     CATALOG_SEG_MISSING, "retention mark");
        if (r > 0)
            *out = CATALOG_RETENTION_DROPPED;
    } else {
        r = catalog_retention_change(cat, CATALOG_STMT_RET_MARK, s->id, 0,
                                     "retention mark");
        if (r == 1)
            *out = CATALOG_RETENTION_MARKED;
    }
    return r < 0 ? r : 0;
}

int catalog_retention_mark(struct catalog *cat,
                           const struct catalog_segment *rows, size_t n,
                           enum catalog_retention_mark *out)
{
    int err;

    for (size_t i = 0; i < n; i++)
        out[i] = CATALOG_RETENTION_KEPT;
    err = catalog__exec(cat, "PRAGMA synchronous=FULL", "synchronous");
    if (err == 0)
        err = catalog__exec(cat, "BEGIN IMMEDIATE", "begin retention mark");
    for (size_t i = 0; err == 0 && i < n; i++)
        err = catalog_retention_mark_one(cat, &rows[i], &out[i]);
    if (err == 0)
        err = catalog__exec(cat, "COMMIT", "commit retention mark");
    if (err < 0)
        catalog__exec_quiet(cat, "ROLLBACK");
    catalog__exec_quiet(cat, "PRAGMA synchronous=NORMAL");
    return err;
}

int catalog_retention_drop(struct catalog *cat,
                           const struct catalog_segment *rows, const bool *gone,
                           size_t n, int64_t *deleted)
{
    int64_t count = 0;
    int err = catalog__exec(cat, "BEGIN IMMEDIATE", "begin row deletion");

    for (size_t i = 0; err == 0 && i < n; i++) {
        int r;

        if (!gone[i])
            continue;
        r = catalog_retention_change(cat, CATALOG_STMT_RET_DROP, rows[i].id,
                                     CATALOG_SEG_DELETING,
                                     "delete segment row");
        if (r < 0)
            err = r;
        else
            count += r;
    }
    if (err == 0)
        err = catalog__exec(cat, "COMMIT", "commit row deletion");
    if (err < 0) {
        catalog__exec_quiet(cat, "ROLLBACK");
        count = 0;
    }
    *deleted = count;
    return err;
}

int catalog_retention_bytes(struct catalog *cat, int64_t camera_id,
                            int64_t *sum)
{
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    err = catalog_retention_stmt(cat, CATALOG_STMT_RET_SUM, &st, &owned);
    if (err < 0)
        return err;
    rc = sqlite3_bind_int64(st, 1, camera_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *sum = sqlite3_column_int64(st, 0);
    else
        err =
            catalog__err(cat, rc == SQLITE_DONE ? SQLITE_INTERNAL : rc, "sum");
    catalog__stmt_put(st, owned);
    return err;
}
