/* SPDX-License-Identifier: MIT */
/*
 * The catalog's rows: cameras, segments, recording runs, camera events and
 * the per-camera status rows (see catalog.h). The connection and the
 * statement cache are in catalog_db.c, the schema in catalog_schema.c.
 */
#include "config.h"
#include "storage/catalog.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "nvr/base/clock.h"
#include "nvr/base/compiler.h"
#include "nvr/base/log.h"
#include "nvr/base/refusal.h"
#include "storage/catalog_int.h"

/* Bits of a status mask that select every status. */
#define CATALOG_MASK_ALL 0xffffffffu

/*
 * A segment overlaps [from, to) when it starts before `to` and ends after
 * `from`; a zero-length segment (just begun) counts when its start lies in
 * the range. ?2 is a lower bound on start_us derived from the camera's
 * longest segment (see catalog_segment_list), which turns the scan of
 * segments_camera_start into a short range instead of everything before
 * `to`. EXPLAIN QUERY PLAN gives:
 *   SEARCH segments USING INDEX segments_camera_start
 *     (camera_id=? AND start_us>? AND start_us<?)
 * and for CATALOG_STMT_SEG_LIST_OPEN the same on the partial index
 * segments_open, so listing the few open rows after a crash never walks closed
 * ones.
 */
#define SEG_LIST_WHERE                                    \
    "camera_id = ?1 AND start_us >= ?2 AND start_us < ?3" \
    " AND (end_us > ?4 OR (end_us = start_us AND start_us >= ?4))"

/* Each statement is one literal split over lines, never a list: the
 * missing-comma check cannot tell. */
/* NOLINTBEGIN(bugprone-suspicious-missing-comma) */
static const char *const catalog_sql[CATALOG_STMT_COUNT] = {
    [CATALOG_STMT_CAMERA_FIND] = "SELECT id FROM cameras WHERE name = ?1",
    [CATALOG_STMT_CAMERA_INSERT] =
        "INSERT INTO cameras(name, created_us)"
        " VALUES(?1, ?2) ON CONFLICT(name) DO NOTHING",
    [CATALOG_STMT_CAMERA_LIST] = "SELECT id, name FROM cameras ORDER BY name",
    [CATALOG_STMT_CAMERA_IDS] = "SELECT id FROM cameras ORDER BY id",
    [CATALOG_STMT_SEG_INSERT] =
        "INSERT INTO segments(camera_id, start_us, end_us, path, bytes,"
        " frames, codec, width, height, sha256, status, refused)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, " CATALOG_SQL_SEG(
            OPEN) ", ?10)",
    [CATALOG_STMT_SEG_PROGRESS] = "UPDATE segments SET end_us = ?2, bytes = ?3,"
                                  " frames = ?4 WHERE id = ?1",
    [CATALOG_STMT_SEG_FINISH] =
        "UPDATE segments SET end_us = ?2, bytes = ?3, frames = ?4,"
        " sha256 = ?5, codec = coalesce(nullif(?6, ''), codec),"
        " width = coalesce(nullif(?7, 0), width),"
        " height = coalesce(nullif(?8, 0), height), refused = ?9,"
        " status = " CATALOG_SQL_SEG(CLOSED) " WHERE id = ?1",
    [CATALOG_STMT_SEG_SET_STATUS] =
        "UPDATE segments SET status = ?2 WHERE id = ?1",
    [CATALOG_STMT_SEG_DELETE] = "DELETE FROM segments WHERE id = ?1",
    [CATALOG_STMT_SEG_BY_PATH] = "SELECT " CATALOG_SEG_COLUMNS " FROM segments"
                                 " WHERE path = ?1",
    [CATALOG_STMT_SEG_MAX_SPAN] = "SELECT max(end_us - start_us) FROM segments"
                                  " WHERE camera_id = ?1",
    [CATALOG_STMT_SEG_LIST] =
        "SELECT " CATALOG_SEG_COLUMNS
        " FROM segments INDEXED BY segments_camera_start"
        " WHERE " SEG_LIST_WHERE " AND ((?5 >> status) & 1)"
        " ORDER BY start_us, id",
    [CATALOG_STMT_SEG_LIST_OPEN] =
        "SELECT " CATALOG_SEG_COLUMNS " FROM segments INDEXED BY segments_open"
        " WHERE status = " CATALOG_SQL_SEG(OPEN) " AND " SEG_LIST_WHERE
                                                 " ORDER BY start_us, id",
    /* ?1 < path < ?2: every path under a directory "<camera>/<date>/"
     * sorts between it and the same text with '/' replaced by '0' (the
     * next byte), one range of the path index. */
    [CATALOG_STMT_SEG_COUNT_UNDER] =
        "SELECT count(*) FROM segments WHERE path > ?1"
        " AND path < ?2 AND status IN " CATALOG_SQL_SEG_USABLE,
    [CATALOG_STMT_SEG_LIST_UNDER] =
        "SELECT " CATALOG_SEG_COLUMNS " FROM segments WHERE path > ?1"
        " AND path < ?2 AND status IN " CATALOG_SQL_SEG_USABLE " ORDER BY path",
    [CATALOG_STMT_SEG_NEWEST] = "SELECT max(start_us) FROM segments"
                                " WHERE camera_id = ?1",
    /* Runs are disjoint, so those overlapping [?2, ?3) are the last one
     * starting before ?2 and those starting in [?2, ?3): one short range
     * of segment_runs_camera_start. */
    [CATALOG_STMT_RUN_LIST] =
        "SELECT camera_id, start_us, end_us FROM segment_runs"
        " INDEXED BY segment_runs_camera_start"
        " WHERE camera_id = ?1 AND start_us >= coalesce((SELECT"
        " max(start_us) FROM segment_runs WHERE camera_id = ?1"
        " AND start_us < ?2), ?2) AND start_us < ?3"
        " AND (end_us > ?2 OR (end_us = start_us AND start_us >= ?2))"
        " ORDER BY start_us",
    [CATALOG_STMT_EVENT_ADD] =
        "INSERT INTO camera_events(camera_id, time_us, kind,"
        " detail) VALUES(?1, ?2, ?3, ?4)",
    [CATALOG_STMT_EVENT_FIND] =
        "SELECT kind, detail FROM camera_events"
        " WHERE camera_id = ?1 AND time_us >= ?2"
        " AND time_us <= ?3 ORDER BY time_us, id LIMIT 1",
    [CATALOG_STMT_STATUS_PUT] =
        "INSERT OR REPLACE INTO camera_status(name, state, last_frame_us,"
        " bitrate_bps, frames, lost_packets, dropped, reconnects,"
        " updated_us, error, transport, drift_us, ts_jumps, frames_lost,"
        " rtcp_sr, refused, auth) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
        " ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    [CATALOG_STMT_STATUS_LIST] =
        "SELECT name, state, last_frame_us, bitrate_bps,"
        " frames, lost_packets, dropped, reconnects,"
        " updated_us, error, transport, drift_us,"
        " ts_jumps, frames_lost, rtcp_sr, refused, auth FROM camera_status"
        " ORDER BY name",
};
/* NOLINTEND(bugprone-suspicious-missing-comma) */

/* The cached statement `id` of this file (see catalog__stmt_get). */
static int catalog_stmt(struct catalog *cat, enum catalog__stmt_id id,
                        sqlite3_stmt **st, bool *owned)
{
    return catalog__stmt_get(cat, id, catalog_sql[id], st, owned);
}

int catalog_camera_find(struct catalog *cat, const char *name, int64_t *id)
{
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    if (!name)
        return -EINVAL;
    err = catalog_stmt(cat, CATALOG_STMT_CAMERA_FIND, &st, &owned);
    if (err < 0)
        return err;
    rc = sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        err = 0;
    } else if (rc == SQLITE_DONE) {
        err = -ENOENT;
    } else {
        err = catalog__err(cat, rc, "find camera");
    }
    catalog__stmt_put(st, owned);
    return err;
}

int catalog_camera_ensure(struct catalog *cat, const char *name, int64_t *id)
{
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    if (!name || !*name)
        return -EINVAL;
    err = catalog_camera_find(cat, name, id);
    if (err != -ENOENT)
        return err;
    err = catalog_stmt(cat, CATALOG_STMT_CAMERA_INSERT, &st, &owned);
    if (err < 0)
        return err;
    rc = sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, nvr_clock_wall_us());
    err = rc == SQLITE_OK ? catalog__step_done(cat, st, "add camera")
                          : catalog__err(cat, rc, "add camera");
    catalog__stmt_put(st, owned);
    if (err < 0)
        return err;
    /* Another connection may have won the insert; either way it exists. */
    err = catalog_camera_find(cat, name, id);
    if (err == -ENOENT) {
        LOG_E("catalog", "camera %s vanished after insert", name);
        err = -EIO;
    }
    return err;
}

int catalog_segment_begin(struct catalog *cat, struct catalog_segment *seg)
{
    sqlite3_stmt *st;
    bool owned;
    int64_t end_us = NVR_MAX(seg->end_us, seg->start_us);
    int rc, err;

    if (seg->path[0] == '\0' || seg->camera_id <= 0)
        return -EINVAL;
    err = catalog_stmt(cat, CATALOG_STMT_SEG_INSERT, &st, &owned);
    if (err < 0)
        return err;
    rc = sqlite3_bind_int64(st, 1, seg->camera_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, seg->start_us);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 3, end_us);
    if (rc == SQLITE_OK)
        rc = catalog__bind_field(st, 4, seg->path, sizeof(seg->path));
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 5, seg->bytes);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 6, seg->frames);
    if (rc == SQLITE_OK)
        rc = catalog__bind_field(st, 7, seg->codec, sizeof(seg->codec));
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 8, seg->width);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 9, seg->height);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 10, seg->refused);
    err = rc == SQLITE_OK ? catalog__step_done(cat, st, "begin segment")
                          : catalog__err(cat, rc, "begin segment");
    if (err == 0) {
        seg->id = sqlite3_last_insert_rowid(cat->db);
        seg->status = CATALOG_SEG_OPEN;
    }
    catalog__stmt_put(st, owned);
    return err;
}

int catalog_segment_progress(struct catalog *cat, int64_t id, int64_t end_us,
                             int64_t bytes, int64_t frames)
{
    const int64_t v[] = {id, end_us, bytes, frames};
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    err = catalog_stmt(cat, CATALOG_STMT_SEG_PROGRESS, &st, &owned);
    if (err < 0)
        return err;
    rc = catalog__bind_int64s(st, 1, v, NVR_ARRAY_SIZE(v));
    err = rc == SQLITE_OK ? catalog__step_change(cat, st, "segment progress")
                          : catalog__err(cat, rc, "segment progress");
    catalog__stmt_put(st, owned);
    return err;
}

int catalog_segment_finish(struct catalog *cat,
                           const struct catalog_segment *seg)
{
    const int64_t v[] = {seg->id, seg->end_us, seg->bytes, seg->frames};
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    err = catalog_stmt(cat, CATALOG_STMT_SEG_FINISH, &st, &owned);
    if (err < 0)
        return err;
    rc = catalog__bind_int64s(st, 1, v, NVR_ARRAY_SIZE(v));
    if (rc == SQLITE_OK)
        rc = catalog__bind_field(st, 5, seg->sha256, sizeof(seg->sha256));
    if (rc == SQLITE_OK)
        rc = catalog__bind_field(st, 6, seg->codec, sizeof(seg->codec));
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 7, seg->width);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 8, seg->height);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 9, seg->refused);
    err = rc == SQLITE_OK ? catalog__step_change(cat, st, "finish segment")
                          : catalog__err(cat, rc, "finish segment");
    catalog__stmt_put(st, owned);
    return err;
}

int catalog_segment_set_status(struct catalog *cat, int64_t id, int status)
{
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    if (status < CATALOG_SEG_OPEN || status > CATALOG_SEG_DELETING)
        return -EINVAL;
    err = catalog_stmt(cat, CATALOG_STMT_SEG_SET_STATUS, &st, &owned);
    if (err < 0)
        return err;
    rc = sqlite3_bind_int64(st, 1, id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 2, status);
    err = rc == SQLITE_OK ? catalog__step_change(cat, st, "set segment status")
                          : catalog__err(cat, rc, "set segment status");
    catalog__stmt_put(st, owned);
    return err;
}

int catalog_segment_delete(struct catalog *cat, int64_t id)
{
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    err = catalog_stmt(cat, CATALOG_STMT_SEG_DELETE, &st, &owned);
    if (err < 0)
        return err;
    rc = sqlite3_bind_int64(st, 1, id);
    err = rc == SQLITE_OK ? catalog__step_change(cat, st, "delete segment")
                          : catalog__err(cat, rc, "delete segment");
    catalog__stmt_put(st, owned);
    return err;
}

/* Fills *seg from a row of CATALOG_SEG_COLUMNS (see catalog_int.h). */
void catalog__read_segment(sqlite3_stmt *st, struct catalog_segment *seg)
{
    memset(seg, 0, sizeof(*seg));
    seg->id = sqlite3_column_int64(st, 0);
    seg->camera_id = sqlite3_column_int64(st, 1);
    seg->start_us = sqlite3_column_int64(st, 2);
    seg->end_us = sqlite3_column_int64(st, 3);
    seg->bytes = sqlite3_column_int64(st, 4);
    seg->frames = sqlite3_column_int64(st, 5);
    seg->status = sqlite3_column_int(st, 6);
    seg->width = sqlite3_column_int(st, 7);
    seg->height = sqlite3_column_int(st, 8);
    catalog__column_text(st, 9, seg->codec, sizeof(seg->codec));
    catalog__column_text(st, 10, seg->path, sizeof(seg->path));
    catalog__column_text(st, 11, seg->sha256, sizeof(seg->sha256));
    seg->refused = sqlite3_column_int64(st, 12);
}

int catalog_segment_by_path(struct catalog *cat, const char *path,
                            struct catalog_segment *out)
{
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    if (!path)
        return -EINVAL;
    err = catalog_stmt(cat, CATALOG_STMT_SEG_BY_PATH, &st, &owned);
    if (err < 0)
        return err;
    rc = sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        catalog__read_segment(st, out);
        err = 0;
    } else if (rc == SQLITE_DONE) {
        err = -ENOENT;
    } else {
        err = catalog__err(cat, rc, "find segment");
    }
    catalog__stmt_put(st, owned);
    return err;
}

/*
 * The longest segment of a camera bounds how far before `from_us` an
 * overlapping segment can start. *span is -1 when the camera has none.
 */
static int catalog_max_span(struct catalog *cat, int64_t camera_id,
                            int64_t *span)
{
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    *span = -1;
    err = catalog_stmt(cat, CATALOG_STMT_SEG_MAX_SPAN, &st, &owned);
    if (err < 0)
        return err;
    rc = sqlite3_bind_int64(st, 1, camera_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
            *span = -1;
        } else if (sqlite3_column_type(st, 0) == SQLITE_INTEGER) {
            *span = sqlite3_column_int64(st, 0);
        } else {
            /* The difference overflowed into a REAL: no useful bound. */
            *span = INT64_MAX;
        }
        err = 0;
    } else {
        err = catalog__err(cat, rc == SQLITE_DONE ? SQLITE_INTERNAL : rc,
                           "segment span");
    }
    catalog__stmt_put(st, owned);
    return err;
}

/* Lists one camera's segments; returns 1 if the callback stopped. */
static int catalog_list_camera(struct catalog *cat, int64_t camera_id,
                               int64_t from_us, int64_t to_us,
                               unsigned status_mask, catalog_segment_cb cb,
                               void *user)
{
    enum catalog__stmt_id id = status_mask == (1u << CATALOG_SEG_OPEN)
                                   ? CATALOG_STMT_SEG_LIST_OPEN
                                   : CATALOG_STMT_SEG_LIST;
    struct catalog_segment seg;
    sqlite3_stmt *st;
    int64_t span, lo, v[5];
    bool owned;
    int rc, err;

    err = catalog_max_span(cat, camera_id, &span);
    if (err < 0 || span < 0)
        return err;
    /* INT64_MAX stands for a span too wide for int64: no bound at all. */
    if (span == INT64_MAX || from_us < INT64_MIN + span)
        lo = INT64_MIN;
    else
        lo = from_us - span;

    err = catalog_stmt(cat, id, &st, &owned);
    if (err < 0)
        return err;
    v[0] = camera_id;
    v[1] = lo;
    v[2] = to_us;
    v[3] = from_us;
    v[4] = status_mask;
    /* CATALOG_STMT_SEG_LIST_OPEN has no mask parameter. */
    rc = catalog__bind_int64s(st, 1, v, id == CATALOG_STMT_SEG_LIST ? 5 : 4);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        catalog__read_segment(st, &seg);
        if (cb(user, &seg) != 0) {
            catalog__stmt_put(st, owned);
            return 1;
        }
        rc = SQLITE_OK;
    }
    err = rc == SQLITE_DONE ? 0 : catalog__err(cat, rc, "list segments");
    catalog__stmt_put(st, owned);
    return err;
}

int catalog_segment_list(struct catalog *cat, int64_t camera_id,
                         int64_t from_us, int64_t to_us, unsigned status_mask,
                         catalog_segment_cb cb, void *user)
{
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    if (!cb || camera_id < 0)
        return -EINVAL;
    if (status_mask == 0)
        status_mask = CATALOG_MASK_ALL;
    if (from_us >= to_us)
        return 0;
    if (camera_id > 0) {
        err = catalog_list_camera(cat, camera_id, from_us, to_us, status_mask,
                                  cb, user);
        return err < 0 ? err : 0;
    }

    /* One indexed range per camera keeps the order camera, start_us
     * without sorting the whole table. */
    err = catalog_stmt(cat, CATALOG_STMT_CAMERA_IDS, &st, &owned);
    if (err < 0)
        return err;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        err = catalog_list_camera(cat, sqlite3_column_int64(st, 0), from_us,
                                  to_us, status_mask, cb, user);
        if (err != 0)
            break;
    }
    if (err == 0 && rc != SQLITE_DONE)
        err = catalog__err(cat, rc, "list cameras");
    catalog__stmt_put(st, owned);
    return err < 0 ? err : 0;
}

/* Binds the path range of directory `dir` (ending in '/') to ?1 and ?2. */
static int catalog_bind_dir(sqlite3_stmt *st, const char *dir)
{
    size_t n = strlen(dir);
    int rc = sqlite3_bind_text(st, 1, dir, (int)n, SQLITE_TRANSIENT);
    char *hi = strdup(dir);

    if (!hi)
        return SQLITE_NOMEM;
    hi[n - 1] = '0';
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 2, hi, (int)n, SQLITE_TRANSIENT);
    free(hi);
    return rc;
}

static bool catalog_dir_ok(const char *dir)
{
    size_t n = dir ? strlen(dir) : 0;

    return n > 0 && n < INT32_MAX && dir[n - 1] == '/';
}

int catalog_segment_count_under(struct catalog *cat, const char *dir,
                                int64_t *count)
{
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    if (!catalog_dir_ok(dir))
        return -EINVAL;
    err = catalog_stmt(cat, CATALOG_STMT_SEG_COUNT_UNDER, &st, &owned);
    if (err < 0)
        return err;
    rc = catalog_bind_dir(st, dir);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *count = sqlite3_column_int64(st, 0);
    else
        err = catalog__err(cat, rc == SQLITE_DONE ? SQLITE_INTERNAL : rc,
                           "count rows");
    catalog__stmt_put(st, owned);
    return err;
}

int catalog_segment_list_under(struct catalog *cat, const char *dir,
                               catalog_segment_cb cb, void *user)
{
    struct catalog_segment seg;
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    if (!catalog_dir_ok(dir) || !cb)
        return -EINVAL;
    err = catalog_stmt(cat, CATALOG_STMT_SEG_LIST_UNDER, &st, &owned);
    if (err < 0)
        return err;
    rc = catalog_bind_dir(st, dir);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        catalog__read_segment(st, &seg);
        if (cb(user, &seg) != 0) {
            rc = SQLITE_DONE;
            break;
        }
        rc = SQLITE_OK;
    }
    err = rc == SQLITE_DONE ? 0 : catalog__err(cat, rc, "list rows");
    catalog__stmt_put(st, owned);
    return err;
}

int catalog_segment_newest_start(struct catalog *cat, int64_t camera_id,
                                 int64_t *start_us)
{
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    err = catalog_stmt(cat, CATALOG_STMT_SEG_NEWEST, &st, &owned);
    if (err < 0)
        return err;
    rc = sqlite3_bind_int64(st, 1, camera_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER)
        *start_us = sqlite3_column_int64(st, 0);
    else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        err = -ENOENT;
    else
        err = catalog__err(cat, rc, "newest row");
    catalog__stmt_put(st, owned);
    return err;
}

int catalog_run_list(struct catalog *cat, int64_t camera_id, int64_t from_us,
                     int64_t to_us, catalog_run_cb cb, void *user)
{
    const int64_t v[] = {camera_id, from_us, to_us};
    struct catalog_run run;
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    if (!cb || camera_id <= 0)
        return -EINVAL;
    if (from_us >= to_us)
        return 0;
    err = catalog_stmt(cat, CATALOG_STMT_RUN_LIST, &st, &owned);
    if (err < 0)
        return err;
    rc = catalog__bind_int64s(st, 1, v, NVR_ARRAY_SIZE(v));
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        run.camera_id = sqlite3_column_int64(st, 0);
        run.start_us = sqlite3_column_int64(st, 1);
        run.end_us = sqlite3_column_int64(st, 2);
        if (cb(user, &run) != 0) {
            rc = SQLITE_DONE;
            break;
        }
        rc = SQLITE_OK;
    }
    err = rc == SQLITE_DONE ? 0 : catalog__err(cat, rc, "list runs");
    catalog__stmt_put(st, owned);
    return err;
}

int catalog_event_add(struct catalog *cat, int64_t camera_id, int64_t time_us,
                      const char *kind, const char *detail)
{
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    if (!kind)
        return -EINVAL;
    err = catalog_stmt(cat, CATALOG_STMT_EVENT_ADD, &st, &owned);
    if (err < 0)
        return err;
    rc = sqlite3_bind_int64(st, 1, camera_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, time_us);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 4, detail ? detail : "", -1, SQLITE_STATIC);
    err = rc == SQLITE_OK ? catalog__step_done(cat, st, "add event")
                          : catalog__err(cat, rc, "add event");
    catalog__stmt_put(st, owned);
    return err;
}

int catalog_event_find(struct catalog *cat, int64_t camera_id, int64_t from_us,
                       int64_t to_us, char *out, size_t out_size)
{
    const int64_t v[] = {camera_id, from_us, to_us};
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    if (!out || out_size == 0)
        return -EINVAL;
    out[0] = '\0';
    err = catalog_stmt(cat, CATALOG_STMT_EVENT_FIND, &st, &owned);
    if (err < 0)
        return err;
    rc = catalog__bind_int64s(st, 1, v, NVR_ARRAY_SIZE(v));
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *kind = (const char *)sqlite3_column_text(st, 0);
        const char *detail = (const char *)sqlite3_column_text(st, 1);
        size_t len;

        /* Both columns are NOT NULL; the checks only cover SQLite's OOM. */
        len = catalog__copy_text(out, out_size, (const unsigned char *)kind,
                                 kind ? strlen(kind) : 0);
        if (detail && *detail && len + 1 < out_size) {
            catalog__copy_text(out + len, out_size - len,
                               (const unsigned char *)": ", 2);
            len += strlen(out + len);
            catalog__copy_text(out + len, out_size - len,
                               (const unsigned char *)detail, strlen(detail));
        }
        err = 0;
    } else if (rc == SQLITE_DONE) {
        err = -ENOENT;
    } else {
        err = catalog__err(cat, rc, "find event");
    }
    catalog__stmt_put(st, owned);
    return err;
}

int catalog_status_put(struct catalog *cat, const struct catalog_status *st_in)
{
    const int64_t v[] = {st_in->last_frame_us, st_in->bitrate_bps,
                         st_in->frames,        st_in->lost_packets,
                         st_in->dropped,       st_in->reconnects,
                         st_in->updated_us};
    const int64_t v2[] = {st_in->drift_us, st_in->ts_jumps, st_in->frames_lost,
                          st_in->rtcp_sr};
    char refused[NVR_REFUSAL_COUNT * 40];
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    if (st_in->name[0] == '\0')
        return -EINVAL;
    /* Twenty digits and a name per reason always fit. */
    if (nvr_refusals_format(&st_in->refused, refused, sizeof(refused)) < 0)
        return -EINVAL;
    err = catalog_stmt(cat, CATALOG_STMT_STATUS_PUT, &st, &owned);
    if (err < 0)
        return err;
    rc = catalog__bind_field(st, 1, st_in->name, sizeof(st_in->name));
    if (rc == SQLITE_OK)
        rc = catalog__bind_field(st, 2, st_in->state, sizeof(st_in->state));
    if (rc == SQLITE_OK)
        rc = catalog__bind_int64s(st, 3, v, NVR_ARRAY_SIZE(v));
    if (rc == SQLITE_OK)
        rc = catalog__bind_field(st, 10, st_in->error, sizeof(st_in->error));
    if (rc == SQLITE_OK)
        rc = catalog__bind_field(st, 11, st_in->transport,
                                 sizeof(st_in->transport));
    if (rc == SQLITE_OK)
        rc = catalog__bind_int64s(st, 12, v2, NVR_ARRAY_SIZE(v2));
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 16, refused, -1, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK)
        rc = catalog__bind_field(st, 17, st_in->auth, sizeof(st_in->auth));
    err = rc == SQLITE_OK ? catalog__step_done(cat, st, "put status")
                          : catalog__err(cat, rc, "put status");
    catalog__stmt_put(st, owned);
    return err;
}

/* The refused counts of a status row; text that does not read (an older
 * or tampered file) counts as none, and is logged once per listing. */
static void catalog_status_read_refused(sqlite3_stmt *st, int col,
                                        struct nvr_refusals *out)
{
    const char *text = (const char *)sqlite3_column_text(st, col);

    if (text && nvr_refusals_parse(text, out) < 0) {
        LOG_W("catalog", "camera status row: unreadable refused counts");
        memset(out, 0, sizeof(*out));
    }
}

int catalog_status_list(struct catalog *cat, catalog_status_cb cb, void *user)
{
    struct catalog_status row;
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    if (!cb)
        return -EINVAL;
    err = catalog_stmt(cat, CATALOG_STMT_STATUS_LIST, &st, &owned);
    if (err < 0)
        return err;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&row, 0, sizeof(row));
        catalog__column_text(st, 0, row.name, sizeof(row.name));
        catalog__column_text(st, 1, row.state, sizeof(row.state));
        row.last_frame_us = sqlite3_column_int64(st, 2);
        row.bitrate_bps = sqlite3_column_int64(st, 3);
        row.frames = sqlite3_column_int64(st, 4);
        row.lost_packets = sqlite3_column_int64(st, 5);
        row.dropped = sqlite3_column_int64(st, 6);
        row.reconnects = sqlite3_column_int64(st, 7);
        row.updated_us = sqlite3_column_int64(st, 8);
        catalog__column_text(st, 9, row.error, sizeof(row.error));
        catalog__column_text(st, 10, row.transport, sizeof(row.transport));
        row.drift_us = sqlite3_column_int64(st, 11);
        row.ts_jumps = sqlite3_column_int64(st, 12);
        row.frames_lost = sqlite3_column_int64(st, 13);
        row.rtcp_sr = sqlite3_column_int64(st, 14);
        catalog_status_read_refused(st, 15, &row.refused);
        catalog__column_text(st, 16, row.auth, sizeof(row.auth));
        if (cb(user, &row) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    err = rc == SQLITE_DONE ? 0 : catalog__err(cat, rc, "list status");
    catalog__stmt_put(st, owned);
    return err;
}

int catalog_camera_list(struct catalog *cat, catalog_camera_cb cb, void *user)
{
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    if (!cb)
        return -EINVAL;
    err = catalog_stmt(cat, CATALOG_STMT_CAMERA_LIST, &st, &owned);
    if (err < 0)
        return err;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 1);

        if (cb(user, sqlite3_column_int64(st, 0), name ? name : "") != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    err = rc == SQLITE_DONE ? 0 : catalog__err(cat, rc, "list cameras");
    catalog__stmt_put(st, owned);
    return err;
}
