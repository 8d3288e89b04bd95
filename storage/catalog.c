/* SPDX-License-Identifier: MIT */
/*
 * The SQLite catalog: one struct catalog wraps one connection (opened with
 * SQLITE_OPEN_NOMUTEX, because each thread opens its own) and a cache of
 * prepared statements. Opening for writing puts the file in WAL mode and
 * brings the schema up to CATALOG_SCHEMA_VERSION by running the migration
 * steps in order, each in its own IMMEDIATE transaction, so a newer program
 * only appends steps and an older one refuses a newer file. Every SQLite
 * result code is turned into a negative errno in catalog__err(), which is
 * also the only place that logs SQLite's message.
 */
#include "config.h"
#include "storage/catalog.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "nvr/base/clock.h"
#include "nvr/base/compiler.h"
#include "nvr/base/log.h"
#include "nvr/base/thread.h"
#include "storage/storage_int.h"

/* How long a statement waits for another connection's lock before failing
 * with -EBUSY. The daemon's writer threads, its status updater and the CLI
 * all share the file, and a writer commit takes milliseconds, so five
 * seconds only runs out when something is stuck. */
#define CATALOG_BUSY_TIMEOUT_MS 5000
/* Pause between attempts to switch a new file to WAL. */
#define CATALOG_WAL_RETRY_MS 5

/* Bits of a status mask that select every status. */
#define CATALOG_MASK_ALL 0xffffffffu

/* Room for a journal mode name such as "wal" or "memory". */
#define CATALOG_MODE_SIZE 16

enum catalog_stmt_id {
    STMT_CAMERA_FIND,
    STMT_CAMERA_INSERT,
    STMT_CAMERA_LIST,
    STMT_CAMERA_IDS,
    STMT_SEG_INSERT,
    STMT_SEG_PROGRESS,
    STMT_SEG_FINISH,
    STMT_SEG_SET_STATUS,
    STMT_SEG_DELETE,
    STMT_SEG_BY_PATH,
    STMT_SEG_MAX_SPAN,
    STMT_SEG_LIST,
    STMT_SEG_LIST_OPEN,
    STMT_RUN_LIST,
    STMT_EVENT_ADD,
    STMT_EVENT_FIND,
    STMT_STATUS_PUT,
    STMT_STATUS_LIST,
    STMT_COUNT
};

#define SEG_COLUMNS                                                   \
    "id, camera_id, start_us, end_us, bytes, frames, status, width, " \
    "height, codec, path, sha256"

/*
 * A segment overlaps [from, to) when it starts before `to` and ends after
 * `from`; a zero-length segment (just begun) counts when its start lies in
 * the range. ?2 is a lower bound on start_us derived from the camera's
 * longest segment (see catalog_segment_list), which turns the scan of
 * segments_camera_start into a short range instead of everything before
 * `to`. EXPLAIN QUERY PLAN gives:
 *   SEARCH segments USING INDEX segments_camera_start
 *     (camera_id=? AND start_us>? AND start_us<?)
 * and for STMT_SEG_LIST_OPEN the same on the partial index segments_open,
 * so listing the few open rows after a crash never walks closed ones.
 */
#define SEG_LIST_WHERE                                    \
    "camera_id = ?1 AND start_us >= ?2 AND start_us < ?3" \
    " AND (end_us > ?4 OR (end_us = start_us AND start_us >= ?4))"

static const char *const catalog_stmt_sql[STMT_COUNT] = {
    [STMT_CAMERA_FIND] = "SELECT id FROM cameras WHERE name = ?1",
    [STMT_CAMERA_INSERT] = "INSERT INTO cameras(name, created_us)"
                           " VALUES(?1, ?2) ON CONFLICT(name) DO NOTHING",
    [STMT_CAMERA_LIST] = "SELECT id, name FROM cameras ORDER BY name",
    [STMT_CAMERA_IDS] = "SELECT id FROM cameras ORDER BY id",
    [STMT_SEG_INSERT] =
        "INSERT INTO segments(camera_id, start_us, end_us, path, bytes,"
        " frames, codec, width, height, sha256, status)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, 0)",
    [STMT_SEG_PROGRESS] = "UPDATE segments SET end_us = ?2, bytes = ?3,"
                          " frames = ?4 WHERE id = ?1",
    [STMT_SEG_FINISH] =
        "UPDATE segments SET end_us = ?2, bytes = ?3, frames = ?4,"
        " sha256 = ?5, codec = coalesce(nullif(?6, ''), codec),"
        " width = coalesce(nullif(?7, 0), width),"
        " height = coalesce(nullif(?8, 0), height), status = 1"
        " WHERE id = ?1",
    [STMT_SEG_SET_STATUS] = "UPDATE segments SET status = ?2 WHERE id = ?1",
    [STMT_SEG_DELETE] = "DELETE FROM segments WHERE id = ?1",
    [STMT_SEG_BY_PATH] = "SELECT " SEG_COLUMNS " FROM segments"
                         " WHERE path = ?1",
    [STMT_SEG_MAX_SPAN] = "SELECT max(end_us - start_us) FROM segments"
                          " WHERE camera_id = ?1",
    [STMT_SEG_LIST] =
        "SELECT " SEG_COLUMNS " FROM segments INDEXED BY segments_camera_start"
        " WHERE " SEG_LIST_WHERE " AND ((?5 >> status) & 1)"
        " ORDER BY start_us, id",
    [STMT_SEG_LIST_OPEN] =
        "SELECT " SEG_COLUMNS " FROM segments INDEXED BY segments_open"
        " WHERE status = 0 AND " SEG_LIST_WHERE " ORDER BY start_us, id",
    /* Runs are disjoint, so those overlapping [?2, ?3) are the last one
     * starting before ?2 and those starting in [?2, ?3): one short range
     * of segment_runs_camera_start. */
    [STMT_RUN_LIST] =
        "SELECT camera_id, start_us, end_us FROM segment_runs"
        " INDEXED BY segment_runs_camera_start"
        " WHERE camera_id = ?1 AND start_us >= coalesce((SELECT"
        " max(start_us) FROM segment_runs WHERE camera_id = ?1"
        " AND start_us < ?2), ?2) AND start_us < ?3"
        " AND (end_us > ?2 OR (end_us = start_us AND start_us >= ?2))"
        " ORDER BY start_us",
    [STMT_EVENT_ADD] = "INSERT INTO camera_events(camera_id, time_us, kind,"
                       " detail) VALUES(?1, ?2, ?3, ?4)",
    [STMT_EVENT_FIND] = "SELECT kind, detail FROM camera_events"
                        " WHERE camera_id = ?1 AND time_us >= ?2"
                        " AND time_us <= ?3 ORDER BY time_us, id LIMIT 1",
    [STMT_STATUS_PUT] =
        "INSERT OR REPLACE INTO camera_status(name, state, last_frame_us,"
        " bitrate_bps, frames, lost_packets, dropped, reconnects,"
        " updated_us, error, transport, drift_us, ts_jumps, frames_lost,"
        " rtcp_sr) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
        " ?12, ?13, ?14, ?15)",
    [STMT_STATUS_LIST] = "SELECT name, state, last_frame_us, bitrate_bps,"
                         " frames, lost_packets, dropped, reconnects,"
                         " updated_us, error, transport, drift_us,"
                         " ts_jumps, frames_lost, rtcp_sr FROM camera_status"
                         " ORDER BY name",
};

/*
 * Schema v4: recording runs. The terminal UI draws a camera's timeline
 * from the contiguous spans of its footage; reading them from the segment
 * rows costs one row per minute of footage (43,200 rows for 30 days), so
 * the catalog keeps them in segment_runs: per camera, the components of
 * the union of [start_us, end_us + RUN_GAP] over its usable (OPEN or
 * CLOSED) segments, each stored as [first start, latest end]. Two runs of
 * a camera are therefore always more than RUN_GAP apart.
 *
 * Triggers on segments maintain the table inside the statement that
 * changes a row, whichever connection runs it (the writers, recovery,
 * retention's own statements, the sqlite3 shell), so no caller has to
 * know about runs. Each trigger touches only the rows near the change:
 *  - a row that becomes usable (insert, or an update to OPEN/CLOSED or to
 *    a later end) extends the single run it touches in place when it can
 *    (the recorder's append: one UPDATE), else one run replaces every run
 *    it touches;
 *  - a row that stops being usable (delete, MISSING, DELETING, a shorter
 *    end) recomputes only its run R: the footage of R before the row is
 *    one piece [R.start, L] (L from the few segments that can reach it:
 *    the longest segment of the camera bounds how far back they start),
 *    the segments starting in [row start, row end + RUN_GAP] are re-merged
 *    with it, and everything of R after that range is one piece ending at
 *    R.end: a split can only happen inside the row's own range. The pieces
 *    are merged with window functions and replace R. segment_runs_work
 *    holds R during that and is empty outside a trigger.
 * RUN_GAP is CATALOG_RUN_GAP_US; released steps never change, so a new
 * tolerance would need a new step that rebuilds the table.
 */
#define RUN_GAP "500000"

/* Adds the usable row NEW to the runs when GUARD holds. */
#define RUNS_MERGE_NEW(GUARD)                                                \
    "UPDATE segment_runs SET end_us = NEW.end_us WHERE " GUARD               \
    " AND id = (SELECT id FROM segment_runs WHERE"                           \
    " camera_id = NEW.camera_id AND end_us >= NEW.start_us - " RUN_GAP       \
    " ORDER BY end_us LIMIT 1)"                                              \
    " AND start_us <= NEW.start_us AND end_us < NEW.end_us"                  \
    " AND NOT EXISTS (SELECT 1 FROM segment_runs r2"                         \
    " WHERE r2.camera_id = NEW.camera_id"                                    \
    " AND r2.end_us > segment_runs.end_us"                                   \
    " AND +r2.start_us <= NEW.end_us + " RUN_GAP ");"                        \
    "INSERT INTO segment_runs(camera_id, start_us, end_us)"                  \
    " SELECT * FROM (SELECT NEW.camera_id,"                                  \
    " min(NEW.start_us, coalesce(min(start_us), NEW.start_us)),"             \
    " max(NEW.end_us, coalesce(max(end_us), NEW.end_us))"                    \
    " FROM segment_runs WHERE camera_id = NEW.camera_id"                     \
    " AND end_us >= NEW.start_us - " RUN_GAP                                 \
    " AND +start_us <= NEW.end_us + " RUN_GAP ")"                            \
    " WHERE " GUARD " AND NOT EXISTS (SELECT 1 FROM segment_runs"            \
    " WHERE camera_id = NEW.camera_id AND end_us >= NEW.end_us"              \
    " AND +start_us <= NEW.start_us);"                                       \
    "DELETE FROM segment_runs WHERE " GUARD " AND camera_id = NEW.camera_id" \
    " AND end_us >= NEW.start_us - " RUN_GAP                                 \
    " AND +start_us <= NEW.end_us + " RUN_GAP                                \
    " AND EXISTS (SELECT 1 FROM segment_runs r2"                             \
    " WHERE r2.camera_id = NEW.camera_id"                                    \
    " AND r2.end_us >= segment_runs.end_us"                                  \
    " AND +r2.start_us <= segment_runs.start_us"                             \
    " AND r2.id <> segment_runs.id);"

/*
 * Takes the row OLD out of the runs when GUARD holds. The pieces merged
 * are R before the row ([R.start, L], L the latest end of the segments
 * that start in R before the row and may reach furthest), the segments
 * starting in the row's own range, and R after that range (one piece from
 * the first segment there to R's end).
 */
#define RUNS_REMOVE_OLD(GUARD)                                              \
    "INSERT INTO segment_runs_work(id, start_us, end_us)"                   \
    " SELECT id, start_us, end_us FROM segment_runs WHERE " GUARD           \
    " AND camera_id = OLD.camera_id AND end_us >= OLD.end_us"               \
    " AND +start_us <= OLD.start_us ORDER BY end_us LIMIT 1;"               \
    "INSERT INTO segment_runs(camera_id, start_us, end_us)"                 \
    " SELECT OLD.camera_id, min(a), max(b) FROM (SELECT a, b,"              \
    " sum(brk) OVER (ORDER BY a, b ROWS UNBOUNDED PRECEDING) AS grp"        \
    " FROM (SELECT a, b, coalesce(a - max(b) OVER (ORDER BY a, b"           \
    " ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) > " RUN_GAP         \
    ", 0) AS brk FROM ("                                                    \
    "SELECT w.start_us AS a, coalesce((SELECT max(s.end_us)"                \
    " FROM segments s WHERE s.camera_id = OLD.camera_id"                    \
    " AND s.status IN (0, 1) AND s.start_us < OLD.start_us"                 \
    " AND s.start_us >= max(w.start_us, p.start_us - coalesce((SELECT"      \
    " max(end_us - start_us) FROM segments"                                 \
    " WHERE camera_id = OLD.camera_id), 0))), p.end_us) AS b"               \
    " FROM segment_runs_work w, (SELECT start_us, end_us FROM segments"     \
    " WHERE camera_id = OLD.camera_id AND status IN (0, 1)"                 \
    " AND start_us < OLD.start_us"                                          \
    " AND start_us >= (SELECT start_us FROM segment_runs_work)"             \
    " ORDER BY start_us DESC LIMIT 1) p"                                    \
    " UNION ALL SELECT start_us, end_us FROM segments"                      \
    " WHERE camera_id = OLD.camera_id AND status IN (0, 1)"                 \
    " AND start_us >= OLD.start_us AND start_us <= OLD.end_us + " RUN_GAP   \
    " AND EXISTS (SELECT 1 FROM segment_runs_work)"                         \
    " UNION ALL SELECT * FROM (SELECT s.start_us, w.end_us"                 \
    " FROM segment_runs_work w, segments s"                                 \
    " WHERE s.camera_id = OLD.camera_id AND s.status IN (0, 1)"             \
    " AND s.start_us > OLD.end_us + " RUN_GAP " AND s.start_us <= w.end_us" \
    " ORDER BY s.start_us LIMIT 1))))"                                      \
    " GROUP BY grp;"                                                        \
    "DELETE FROM segment_runs"                                              \
    " WHERE id IN (SELECT id FROM segment_runs_work);"                      \
    "DELETE FROM segment_runs_work;"

/* Whether the update of a usable row left footage out of the runs. */
#define RUNS_UPDATE_SHRINKS                              \
    "OLD.status IN (0, 1) AND NOT (NEW.status IN (0, 1)" \
    " AND NEW.camera_id = OLD.camera_id"                 \
    " AND NEW.start_us <= OLD.start_us AND NEW.end_us >= OLD.end_us)"

/* 4 -> 5: the ingest figures of issue 3 in each camera's status row
 * (transport in use, clock drift, timestamp jumps, frames lost, whether
 * RTCP sender reports are seen). The table only mirrors the running
 * recorder (rewritten every second), so it is rebuilt rather than
 * altered: that also holds for a file whose table already has them. */
static const char catalog_migration_ingest_status[] =
    "DROP TABLE IF EXISTS camera_status;"
    "CREATE TABLE camera_status("
    " name TEXT PRIMARY KEY,"
    " state TEXT NOT NULL DEFAULT '',"
    " last_frame_us INTEGER NOT NULL DEFAULT 0,"
    " bitrate_bps INTEGER NOT NULL DEFAULT 0,"
    " frames INTEGER NOT NULL DEFAULT 0,"
    " lost_packets INTEGER NOT NULL DEFAULT 0,"
    " dropped INTEGER NOT NULL DEFAULT 0,"
    " reconnects INTEGER NOT NULL DEFAULT 0,"
    " updated_us INTEGER NOT NULL DEFAULT 0,"
    " error TEXT NOT NULL DEFAULT '',"
    " transport TEXT NOT NULL DEFAULT '',"
    " drift_us INTEGER NOT NULL DEFAULT 0,"
    " ts_jumps INTEGER NOT NULL DEFAULT 0,"
    " frames_lost INTEGER NOT NULL DEFAULT 0,"
    " rtcp_sr INTEGER NOT NULL DEFAULT 0);";

/* 3 -> 4, the tables and the runs of the rows already there (in one
 * sorted pass); catalog_migrate_runs() adds the triggers. */
static const char catalog_migration_runs[] =
    "CREATE TABLE segment_runs("
    " id INTEGER PRIMARY KEY,"
    " camera_id INTEGER NOT NULL REFERENCES cameras(id),"
    " start_us INTEGER NOT NULL,"
    " end_us INTEGER NOT NULL,"
    " CHECK(end_us >= start_us));"
    "CREATE INDEX segment_runs_camera_start"
    " ON segment_runs(camera_id, start_us);"
    "CREATE INDEX segment_runs_camera_end ON segment_runs(camera_id, end_us);"
    "CREATE TABLE segment_runs_work("
    " id INTEGER PRIMARY KEY,"
    " start_us INTEGER NOT NULL,"
    " end_us INTEGER NOT NULL);"
    "INSERT INTO segment_runs(camera_id, start_us, end_us)"
    " SELECT camera_id, min(start_us), max(end_us) FROM (SELECT camera_id,"
    " start_us, end_us, sum(brk) OVER (PARTITION BY camera_id"
    " ORDER BY start_us, end_us ROWS UNBOUNDED PRECEDING) AS grp"
    " FROM (SELECT camera_id, start_us, end_us, coalesce(start_us"
    " - max(end_us) OVER (PARTITION BY camera_id ORDER BY start_us, end_us"
    " ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) > " RUN_GAP
    ", 0) AS brk FROM segments WHERE status IN (0, 1)))"
    " GROUP BY camera_id, grp;";

/*
 * The triggers of step 3 -> 4, each the concatenation of its fragments
 * (one C string literal may not hold a whole trigger). The update trigger
 * adds the new footage first: the runs then hold OLD and NEW, and taking
 * OLD out recomputes its range from the rows as they are now.
 */
static const char *const catalog_run_triggers[][5] = {
    {"CREATE TRIGGER segments_runs_insert AFTER INSERT ON segments"
     " WHEN NEW.status IN (0, 1) BEGIN ",
     RUNS_MERGE_NEW("1"), " END", NULL},
    {"CREATE TRIGGER segments_runs_delete AFTER DELETE ON segments"
     " WHEN OLD.status IN (0, 1) BEGIN ",
     RUNS_REMOVE_OLD("1"), " END", NULL},
    {"CREATE TRIGGER segments_runs_update"
     " AFTER UPDATE OF camera_id, start_us, end_us, status ON segments"
     " WHEN OLD.status IN (0, 1) OR NEW.status IN (0, 1) BEGIN ",
     RUNS_MERGE_NEW("NEW.status IN (0, 1)"),
     RUNS_REMOVE_OLD("(" RUNS_UPDATE_SHRINKS ")"), " END"},
};

/*
 * Migration step i brings user_version i to i + 1. Append new steps; never
 * edit a released one, because files in the field already ran it.
 */
static const char *const catalog_migrations[] = {
    /* 0 -> 1: the initial schema. */
    "CREATE TABLE cameras("
    " id INTEGER PRIMARY KEY,"
    " name TEXT UNIQUE NOT NULL,"
    " created_us INTEGER NOT NULL);"
    "CREATE TABLE segments("
    " id INTEGER PRIMARY KEY,"
    " camera_id INTEGER NOT NULL REFERENCES cameras(id),"
    " start_us INTEGER NOT NULL,"
    " end_us INTEGER NOT NULL,"
    " path TEXT UNIQUE NOT NULL,"
    " bytes INTEGER NOT NULL DEFAULT 0,"
    " frames INTEGER NOT NULL DEFAULT 0,"
    " codec TEXT NOT NULL DEFAULT '',"
    " width INTEGER NOT NULL DEFAULT 0,"
    " height INTEGER NOT NULL DEFAULT 0,"
    " sha256 TEXT,"
    " status INTEGER NOT NULL,"
    " CHECK(end_us >= start_us));"
    "CREATE INDEX segments_camera_start ON segments(camera_id, start_us);"
    /* max(end_us - start_us) per camera in O(log n) for list bounds. */
    "CREATE INDEX segments_camera_span"
    " ON segments(camera_id, end_us - start_us);"
    /* Recovery looks for the few OPEN rows among millions of closed. */
    "CREATE INDEX segments_open ON segments(camera_id, start_us)"
    " WHERE status = 0;"
    "CREATE TABLE camera_events("
    " id INTEGER PRIMARY KEY,"
    " camera_id INTEGER NOT NULL REFERENCES cameras(id),"
    " time_us INTEGER NOT NULL,"
    " kind TEXT NOT NULL,"
    " detail TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX camera_events_camera_time"
    " ON camera_events(camera_id, time_us);"
    "CREATE TABLE camera_status("
    " name TEXT PRIMARY KEY,"
    " state TEXT NOT NULL DEFAULT '',"
    " last_frame_us INTEGER NOT NULL DEFAULT 0,"
    " bitrate_bps INTEGER NOT NULL DEFAULT 0,"
    " frames INTEGER NOT NULL DEFAULT 0,"
    " lost_packets INTEGER NOT NULL DEFAULT 0,"
    " dropped INTEGER NOT NULL DEFAULT 0,"
    " reconnects INTEGER NOT NULL DEFAULT 0,"
    " updated_us INTEGER NOT NULL DEFAULT 0,"
    " error TEXT NOT NULL DEFAULT '');",
    /* 1 -> 2: legal holds and the hash-chained audit log. */
    "CREATE TABLE holds("
    " id INTEGER PRIMARY KEY,"
    " camera_id INTEGER NOT NULL REFERENCES cameras(id),"
    " from_us INTEGER NOT NULL,"
    " to_us INTEGER NOT NULL,"
    " reason TEXT NOT NULL,"
    " created_us INTEGER NOT NULL,"
    " created_by TEXT NOT NULL,"
    " released_us INTEGER,"
    " released_by TEXT,"
    " CHECK(to_us > from_us));"
    "CREATE INDEX holds_camera_from ON holds(camera_id, from_us);"
    /* Append-only: each row's hash covers its fields and prev_hash, the
     * hash of the row before it (storage/audit.c defines the encoding). */
    "CREATE TABLE audit("
    " id INTEGER PRIMARY KEY,"
    " time_us INTEGER NOT NULL,"
    " user TEXT NOT NULL,"
    " host TEXT NOT NULL,"
    " kind TEXT NOT NULL,"
    " camera TEXT,"
    " from_us INTEGER,"
    " to_us INTEGER,"
    " detail TEXT NOT NULL DEFAULT '',"
    " prev_hash TEXT NOT NULL,"
    " hash TEXT NOT NULL);"
    "CREATE INDEX audit_time ON audit(time_us);",
    /* 2 -> 3: retention and recovery. Rows being deleted are found
     * without walking closed ones (crash-safe deletion, storage/
     * retention.c); min_free deletes the oldest footage of all cameras,
     * which needs the whole catalog in start order. */
    "CREATE INDEX segments_deleting ON segments(camera_id, start_us)"
    " WHERE status = 3;"
    "CREATE INDEX segments_start ON segments(start_us);",
    /* 3 -> 4: recording runs (with catalog_migrate_runs()). */
    catalog_migration_runs,
    catalog_migration_ingest_status,
};

_Static_assert(NVR_ARRAY_SIZE(catalog_migrations) == CATALOG_SCHEMA_VERSION,
               "one migration step per schema version");

struct catalog {
    sqlite3 *db;
    bool readonly;
    int version;                     /* user_version after open */
    sqlite3_stmt *stmts[STMT_COUNT]; /* prepared on first use */
};

/*
 * Converts a SQLite result code into a negative errno and logs SQLite's
 * message once. `what` names the operation for the log line.
 */
static int catalog__err(struct catalog *cat, int rc, const char *what)
{
    const char *msg =
        cat && cat->db ? sqlite3_errmsg(cat->db) : sqlite3_errstr(rc);
    int err;

    switch (rc & 0xff) {
    case SQLITE_FULL:
        err = -ENOSPC;
        break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        err = -EBUSY;
        break;
    case SQLITE_CANTOPEN:
        err = cat && cat->readonly ? -ENOENT : -EIO;
        break;
    case SQLITE_NOMEM:
        err = -ENOMEM;
        break;
    default:
        err = -EIO;
        break;
    }
    LOG_E("catalog", "%s: %s (sqlite %d)", what, msg, rc);
    return err;
}

/*
 * Copies `src` (may be NULL, `len` bytes) into dst[size] NUL-terminated.
 * Truncation backs off to a UTF-8 character boundary, so a cut name never
 * ends in half a character. Returns the length copied.
 */
static size_t catalog_copy_text(char *dst, size_t size,
                                const unsigned char *src, size_t len)
{
    if (size == 0)
        return 0;
    if (!src)
        len = 0;
    if (len >= size) {
        len = size - 1;
        while (len > 0 && (src[len] & 0xc0) == 0x80)
            len--;
    }
    if (len)
        memcpy(dst, src, len);
    dst[len] = '\0';
    return len;
}

static void catalog_column_text(sqlite3_stmt *st, int col, char *dst,
                                size_t size)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    size_t len = s ? (size_t)sqlite3_column_bytes(st, col) : 0;

    /* Text with an embedded NUL stops there, as a C string would. */
    if (s)
        len = strnlen((const char *)s, len);
    (void)catalog_copy_text(dst, size, s, len);
}

/* Binds a fixed-size char field that the caller may not have terminated. */
static int catalog_bind_field(sqlite3_stmt *st, int idx, const char *field,
                              size_t size)
{
    return sqlite3_bind_text(st, idx, field, (int)strnlen(field, size),
                             SQLITE_STATIC);
}

/* Binds v[0..n) to the parameters first, first + 1, ... */
static int catalog_bind_int64s(sqlite3_stmt *st, int first, const int64_t *v,
                               size_t n)
{
    int rc = SQLITE_OK;

    for (size_t i = 0; rc == SQLITE_OK && i < n; i++)
        rc = sqlite3_bind_int64(st, first + (int)i, v[i]);
    return rc;
}

/*
 * Returns the cached statement `id`, prepared on first use. When it is still
 * running (a list callback calling back into the catalog), a private copy is
 * prepared instead and *owned is set, so nested calls never reset the outer
 * iteration.
 */
static int catalog_stmt_get(struct catalog *cat, enum catalog_stmt_id id,
                            sqlite3_stmt **out, bool *owned)
{
    sqlite3_stmt **slot = &cat->stmts[id];
    sqlite3_stmt *st;
    int rc;

    NVR_ASSERT_NOT_LOOP();
    *out = NULL;
    *owned = false;
    if (*slot && !sqlite3_stmt_busy(*slot)) {
        *out = *slot;
        return 0;
    }
    rc = sqlite3_prepare_v3(cat->db, catalog_stmt_sql[id], -1,
                            *slot ? 0 : SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK)
        return catalog__err(cat, rc, "prepare");
    if (*slot) {
        *owned = true;
    } else {
        *slot = st;
    }
    *out = st;
    return 0;
}

static void catalog_stmt_put(sqlite3_stmt *st, bool owned)
{
    if (owned) {
        sqlite3_finalize(st);
        return;
    }
    /* The step's error was already reported; reset repeats it. */
    (void)sqlite3_reset(st);
    (void)sqlite3_clear_bindings(st);
}

/* Runs SQL with no result rows (pragmas, migrations). */
static int catalog_exec(struct catalog *cat, const char *sql, const char *what)
{
    int rc = sqlite3_exec(cat->db, sql, NULL, NULL, NULL);

    return rc == SQLITE_OK ? 0 : catalog__err(cat, rc, what);
}

/* Reads a single integer pragma such as user_version. */
static int catalog_pragma_int(struct catalog *cat, const char *sql,
                              int64_t *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(cat->db, sql, -1, &st, NULL);

    if (rc != SQLITE_OK)
        return catalog__err(cat, rc, sql);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        *out = 0;
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK) {
        int err = catalog__err(cat, rc, sql);

        sqlite3_finalize(st);
        return err;
    }
    sqlite3_finalize(st);
    return 0;
}

static int catalog_read_version(struct catalog *cat, int *version)
{
    int64_t v = 0;
    int err = catalog_pragma_int(cat, "PRAGMA user_version", &v);

    if (err < 0)
        return err;
    if (v < 0 || v > INT_MAX) {
        LOG_E("catalog", "schema version %lld is not valid", (long long)v);
        return -EPROTO;
    }
    *version = (int)v;
    return 0;
}

static int catalog_check_version(int version, const char *path)
{
    if (version > CATALOG_SCHEMA_VERSION) {
        LOG_E("catalog",
              "%s has schema version %d, newer than the %d this program "
              "knows; use a newer nvr",
              path, version, CATALOG_SCHEMA_VERSION);
        return -EPROTO;
    }
    return 0;
}

/* The C part of step 3 -> 4: creates the triggers that keep segment_runs
 * up to date. Runs inside the step's transaction. */
static int catalog_migrate_runs(struct catalog *cat)
{
    for (size_t i = 0; i < NVR_ARRAY_SIZE(catalog_run_triggers); i++) {
        const char *const *part = catalog_run_triggers[i];
        size_t len = 1;
        char *sql;
        int err;

        for (size_t j = 0; j < 5 && part[j]; j++)
            len += strlen(part[j]);
        sql = malloc(len);
        if (!sql)
            return -ENOMEM;
        sql[0] = '\0';
        for (size_t j = 0; j < 5 && part[j]; j++)
            strcat(sql, part[j]);
        err = catalog_exec(cat, sql, "create run trigger");
        free(sql);
        if (err < 0)
            return err;
    }
    return 0;
}

/*
 * Brings the schema to CATALOG_SCHEMA_VERSION. The version is re-read inside
 * each IMMEDIATE transaction because another process may have migrated the
 * file between our read and our write lock; the step and its user_version
 * bump commit together, so a crash leaves either version, never half.
 */
static int catalog_migrate(struct catalog *cat, const char *path)
{
    for (;;) {
        char bump[64];
        int version;
        int err = catalog_exec(cat, "BEGIN IMMEDIATE", "begin migration");

        if (err < 0)
            return err;
        err = catalog_read_version(cat, &version);
        if (err == 0)
            err = catalog_check_version(version, path);
        if (err < 0 || version == CATALOG_SCHEMA_VERSION) {
            (void)sqlite3_exec(cat->db, err < 0 ? "ROLLBACK" : "COMMIT", NULL,
                               NULL, NULL);
            if (err == 0)
                cat->version = version;
            return err;
        }
        LOG_I("catalog", "%s: migrating schema %d -> %d", path, version,
              version + 1);
        snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", version + 1);
        err = catalog_exec(cat, catalog_migrations[version], "migrate");
        if (err == 0 && version == 3)
            err = catalog_migrate_runs(cat);
        if (err == 0)
            err = catalog_exec(cat, bump, "set schema version");
        if (err == 0)
            err = catalog_exec(cat, "COMMIT", "commit migration");
        if (err < 0) {
            /* Nothing more to report if the rollback fails too. */
            (void)sqlite3_exec(cat->db, "ROLLBACK", NULL, NULL, NULL);
            return err;
        }
    }
}

/* sqlite3_exec() callback copying the first column of a row to user. */
static int catalog_first_text_cb(void *user, int ncols, char **vals,
                                 char **names)
{
    char *dst = user;

    if (ncols > 0 && vals[0])
        (void)catalog_copy_text(dst, CATALOG_MODE_SIZE,
                                (const unsigned char *)vals[0],
                                strlen(vals[0]));
    return 0;
}

/* Connection settings for a writer. */
static int catalog_setup_rw(struct catalog *cat)
{
    /*
     * WAL lets readers (`nvr status`, the TUI) run while writers commit.
     * synchronous=NORMAL syncs the WAL only at checkpoints, not at each
     * commit: with WAL a power cut can lose the last few transactions but
     * never corrupts the file, because uncommitted frames past the last
     * valid commit record are ignored on recovery. Losing the last progress
     * update is harmless: start-up recovery rebuilds it from the files.
     */
    char mode[CATALOG_MODE_SIZE] = "";
    int rc;

    /*
     * Switching a fresh file to WAL takes an exclusive lock, and SQLite
     * does not call the busy handler for it: when several connections
     * open a new catalog at once the losers get SQLITE_BUSY at once. Retry
     * for as long as the busy timeout would have waited.
     */
    for (int waited_ms = 0;; waited_ms += CATALOG_WAL_RETRY_MS) {
        struct timespec pause = {0, CATALOG_WAL_RETRY_MS * 1000000L};

        rc = sqlite3_exec(cat->db, "PRAGMA journal_mode=WAL",
                          catalog_first_text_cb, mode, NULL);
        if ((rc & 0xff) != SQLITE_BUSY || waited_ms >= CATALOG_BUSY_TIMEOUT_MS)
            break;
        nanosleep(&pause, NULL);
    }
    if (rc != SQLITE_OK)
        return catalog__err(cat, rc, "journal_mode");
    /* ":memory:" reports "memory"; anything else means readers would block
     * on writers, which still works, so warn rather than fail. */
    if (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0)
        LOG_W("catalog",
              "journal_mode is %s, not wal: readers will wait "
              "for writers",
              mode);
    return catalog_exec(cat, "PRAGMA synchronous=NORMAL", "synchronous");
}

int catalog_open(const char *path, int flags, struct catalog **out)
{
    struct catalog *cat;
    int oflags = SQLITE_OPEN_NOMUTEX;
    int rc, err;

    NVR_ASSERT_NOT_LOOP();
    if (!path || !out ||
        (flags != CATALOG_READONLY && flags != CATALOG_READWRITE))
        return -EINVAL;
    if (flags == CATALOG_READONLY) {
        struct stat sb;

        /* A missing catalog is normal before the daemon first ran; the
         * caller reports it, so no error line here. */
        if (strcmp(path, ":memory:") != 0 && stat(path, &sb) != 0 &&
            errno == ENOENT)
            return -ENOENT;
        oflags |= SQLITE_OPEN_READONLY;
    } else {
        oflags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    }

    cat = calloc(1, sizeof(*cat));
    if (!cat)
        return -ENOMEM;
    cat->readonly = flags == CATALOG_READONLY;
    rc = sqlite3_open_v2(path, &cat->db, oflags, NULL);
    if (rc != SQLITE_OK) {
        err = catalog__err(cat, rc, path);
        goto err_close;
    }
    (void)sqlite3_extended_result_codes(cat->db, 1);
    rc = sqlite3_busy_timeout(cat->db, CATALOG_BUSY_TIMEOUT_MS);
    if (rc != SQLITE_OK) {
        err = catalog__err(cat, rc, "busy_timeout");
        goto err_close;
    }
    err = catalog_exec(cat, "PRAGMA foreign_keys=ON", "foreign_keys");
    if (err < 0)
        goto err_close;
    if (!cat->readonly) {
        /* SQLite silently opens a write-protected file read-only. */
        if (sqlite3_db_readonly(cat->db, "main") == 1) {
            LOG_E("catalog", "%s: the file is not writable", path);
            err = -EIO;
            goto err_close;
        }
        err = catalog_setup_rw(cat);
        if (err < 0)
            goto err_close;
    }
    err = catalog_read_version(cat, &cat->version);
    if (err < 0)
        goto err_close;
    err = catalog_check_version(cat->version, path);
    if (err < 0)
        goto err_close;
    if (cat->version < CATALOG_SCHEMA_VERSION) {
        if (cat->readonly) {
            LOG_E("catalog",
                  "%s has schema version %d, older than %d; the daemon "
                  "upgrades it when it starts",
                  path, cat->version, CATALOG_SCHEMA_VERSION);
            err = -EPROTO;
            goto err_close;
        }
        err = catalog_migrate(cat, path);
        if (err < 0)
            goto err_close;
    }
    *out = cat;
    return 0;

err_close:
    sqlite3_close(cat->db);
    free(cat);
    return err;
}

sqlite3 *catalog__db(struct catalog *cat)
{
    return cat->db;
}

int catalog__sqlite_err(struct catalog *cat, int rc, const char *what)
{
    return catalog__err(cat, rc, what);
}

void catalog_close(struct catalog *cat)
{
    if (!cat)
        return;
    for (size_t i = 0; i < STMT_COUNT; i++)
        sqlite3_finalize(cat->stmts[i]);
    /* All statements are finalized, so close cannot report SQLITE_BUSY. */
    (void)sqlite3_close(cat->db);
    free(cat);
}

int catalog_schema_version(struct catalog *cat)
{
    return cat->version;
}

/* Steps a statement that returns no rows; 0 or a negative errno. */
static int catalog_step_done(struct catalog *cat, sqlite3_stmt *st,
                             const char *what)
{
    int rc = sqlite3_step(st);

    return rc == SQLITE_DONE ? 0 : catalog__err(cat, rc, what);
}

/* Like catalog_step_done but -ENOENT when no row was changed. */
static int catalog_step_change(struct catalog *cat, sqlite3_stmt *st,
                               const char *what)
{
    int err = catalog_step_done(cat, st, what);

    if (err == 0 && sqlite3_changes(cat->db) == 0)
        err = -ENOENT;
    return err;
}

int catalog_camera_find(struct catalog *cat, const char *name, int64_t *id)
{
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    if (!name)
        return -EINVAL;
    err = catalog_stmt_get(cat, STMT_CAMERA_FIND, &st, &owned);
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
    catalog_stmt_put(st, owned);
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
    err = catalog_stmt_get(cat, STMT_CAMERA_INSERT, &st, &owned);
    if (err < 0)
        return err;
    rc = sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, nvr_clock_wall_us());
    err = rc == SQLITE_OK ? catalog_step_done(cat, st, "add camera")
                          : catalog__err(cat, rc, "add camera");
    catalog_stmt_put(st, owned);
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
    err = catalog_stmt_get(cat, STMT_SEG_INSERT, &st, &owned);
    if (err < 0)
        return err;
    rc = sqlite3_bind_int64(st, 1, seg->camera_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, seg->start_us);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 3, end_us);
    if (rc == SQLITE_OK)
        rc = catalog_bind_field(st, 4, seg->path, sizeof(seg->path));
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 5, seg->bytes);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 6, seg->frames);
    if (rc == SQLITE_OK)
        rc = catalog_bind_field(st, 7, seg->codec, sizeof(seg->codec));
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 8, seg->width);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 9, seg->height);
    err = rc == SQLITE_OK ? catalog_step_done(cat, st, "begin segment")
                          : catalog__err(cat, rc, "begin segment");
    if (err == 0) {
        seg->id = sqlite3_last_insert_rowid(cat->db);
        seg->status = CATALOG_SEG_OPEN;
    }
    catalog_stmt_put(st, owned);
    return err;
}

int catalog_segment_progress(struct catalog *cat, int64_t id, int64_t end_us,
                             int64_t bytes, int64_t frames)
{
    const int64_t v[] = {id, end_us, bytes, frames};
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    err = catalog_stmt_get(cat, STMT_SEG_PROGRESS, &st, &owned);
    if (err < 0)
        return err;
    rc = catalog_bind_int64s(st, 1, v, NVR_ARRAY_SIZE(v));
    err = rc == SQLITE_OK ? catalog_step_change(cat, st, "segment progress")
                          : catalog__err(cat, rc, "segment progress");
    catalog_stmt_put(st, owned);
    return err;
}

int catalog_segment_finish(struct catalog *cat,
                           const struct catalog_segment *seg)
{
    const int64_t v[] = {seg->id, seg->end_us, seg->bytes, seg->frames};
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    err = catalog_stmt_get(cat, STMT_SEG_FINISH, &st, &owned);
    if (err < 0)
        return err;
    rc = catalog_bind_int64s(st, 1, v, NVR_ARRAY_SIZE(v));
    if (rc == SQLITE_OK)
        rc = catalog_bind_field(st, 5, seg->sha256, sizeof(seg->sha256));
    if (rc == SQLITE_OK)
        rc = catalog_bind_field(st, 6, seg->codec, sizeof(seg->codec));
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 7, seg->width);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 8, seg->height);
    err = rc == SQLITE_OK ? catalog_step_change(cat, st, "finish segment")
                          : catalog__err(cat, rc, "finish segment");
    catalog_stmt_put(st, owned);
    return err;
}

int catalog_segment_set_status(struct catalog *cat, int64_t id, int status)
{
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    if (status < CATALOG_SEG_OPEN || status > CATALOG_SEG_DELETING)
        return -EINVAL;
    err = catalog_stmt_get(cat, STMT_SEG_SET_STATUS, &st, &owned);
    if (err < 0)
        return err;
    rc = sqlite3_bind_int64(st, 1, id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 2, status);
    err = rc == SQLITE_OK ? catalog_step_change(cat, st, "set segment status")
                          : catalog__err(cat, rc, "set segment status");
    catalog_stmt_put(st, owned);
    return err;
}

int catalog_segment_delete(struct catalog *cat, int64_t id)
{
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    err = catalog_stmt_get(cat, STMT_SEG_DELETE, &st, &owned);
    if (err < 0)
        return err;
    rc = sqlite3_bind_int64(st, 1, id);
    err = rc == SQLITE_OK ? catalog_step_change(cat, st, "delete segment")
                          : catalog__err(cat, rc, "delete segment");
    catalog_stmt_put(st, owned);
    return err;
}

/* Fills *seg from a row of SEG_COLUMNS (see storage_int.h). */
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
    catalog_column_text(st, 9, seg->codec, sizeof(seg->codec));
    catalog_column_text(st, 10, seg->path, sizeof(seg->path));
    catalog_column_text(st, 11, seg->sha256, sizeof(seg->sha256));
}

int catalog_segment_by_path(struct catalog *cat, const char *path,
                            struct catalog_segment *out)
{
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    if (!path)
        return -EINVAL;
    err = catalog_stmt_get(cat, STMT_SEG_BY_PATH, &st, &owned);
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
    catalog_stmt_put(st, owned);
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
    err = catalog_stmt_get(cat, STMT_SEG_MAX_SPAN, &st, &owned);
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
    catalog_stmt_put(st, owned);
    return err;
}

/* Lists one camera's segments; returns 1 if the callback stopped. */
static int catalog_list_camera(struct catalog *cat, int64_t camera_id,
                               int64_t from_us, int64_t to_us,
                               unsigned status_mask, catalog_segment_cb cb,
                               void *user)
{
    enum catalog_stmt_id id = status_mask == (1u << CATALOG_SEG_OPEN)
                                  ? STMT_SEG_LIST_OPEN
                                  : STMT_SEG_LIST;
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

    err = catalog_stmt_get(cat, id, &st, &owned);
    if (err < 0)
        return err;
    v[0] = camera_id;
    v[1] = lo;
    v[2] = to_us;
    v[3] = from_us;
    v[4] = status_mask;
    /* STMT_SEG_LIST_OPEN has no mask parameter. */
    rc = catalog_bind_int64s(st, 1, v, id == STMT_SEG_LIST ? 5 : 4);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        catalog__read_segment(st, &seg);
        if (cb(user, &seg) != 0) {
            catalog_stmt_put(st, owned);
            return 1;
        }
        rc = SQLITE_OK;
    }
    err = rc == SQLITE_DONE ? 0 : catalog__err(cat, rc, "list segments");
    catalog_stmt_put(st, owned);
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
    err = catalog_stmt_get(cat, STMT_CAMERA_IDS, &st, &owned);
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
    catalog_stmt_put(st, owned);
    return err < 0 ? err : 0;
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
    err = catalog_stmt_get(cat, STMT_RUN_LIST, &st, &owned);
    if (err < 0)
        return err;
    rc = catalog_bind_int64s(st, 1, v, NVR_ARRAY_SIZE(v));
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
    catalog_stmt_put(st, owned);
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
    err = catalog_stmt_get(cat, STMT_EVENT_ADD, &st, &owned);
    if (err < 0)
        return err;
    rc = sqlite3_bind_int64(st, 1, camera_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, time_us);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 4, detail ? detail : "", -1, SQLITE_STATIC);
    err = rc == SQLITE_OK ? catalog_step_done(cat, st, "add event")
                          : catalog__err(cat, rc, "add event");
    catalog_stmt_put(st, owned);
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
    err = catalog_stmt_get(cat, STMT_EVENT_FIND, &st, &owned);
    if (err < 0)
        return err;
    rc = catalog_bind_int64s(st, 1, v, NVR_ARRAY_SIZE(v));
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *kind = (const char *)sqlite3_column_text(st, 0);
        const char *detail = (const char *)sqlite3_column_text(st, 1);
        size_t len;

        /* Both columns are NOT NULL; the checks only cover SQLite's OOM. */
        len = catalog_copy_text(out, out_size, (const unsigned char *)kind,
                                kind ? strlen(kind) : 0);
        if (detail && *detail && len + 1 < out_size) {
            catalog_copy_text(out + len, out_size - len,
                              (const unsigned char *)": ", 2);
            len += strlen(out + len);
            catalog_copy_text(out + len, out_size - len,
                              (const unsigned char *)detail, strlen(detail));
        }
        err = 0;
    } else if (rc == SQLITE_DONE) {
        err = -ENOENT;
    } else {
        err = catalog__err(cat, rc, "find event");
    }
    catalog_stmt_put(st, owned);
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
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    if (st_in->name[0] == '\0')
        return -EINVAL;
    err = catalog_stmt_get(cat, STMT_STATUS_PUT, &st, &owned);
    if (err < 0)
        return err;
    rc = catalog_bind_field(st, 1, st_in->name, sizeof(st_in->name));
    if (rc == SQLITE_OK)
        rc = catalog_bind_field(st, 2, st_in->state, sizeof(st_in->state));
    if (rc == SQLITE_OK)
        rc = catalog_bind_int64s(st, 3, v, NVR_ARRAY_SIZE(v));
    if (rc == SQLITE_OK)
        rc = catalog_bind_field(st, 10, st_in->error, sizeof(st_in->error));
    if (rc == SQLITE_OK)
        rc = catalog_bind_field(st, 11, st_in->transport,
                                sizeof(st_in->transport));
    if (rc == SQLITE_OK)
        rc = catalog_bind_int64s(st, 12, v2, NVR_ARRAY_SIZE(v2));
    err = rc == SQLITE_OK ? catalog_step_done(cat, st, "put status")
                          : catalog__err(cat, rc, "put status");
    catalog_stmt_put(st, owned);
    return err;
}

int catalog_status_list(struct catalog *cat, catalog_status_cb cb, void *user)
{
    struct catalog_status row;
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    if (!cb)
        return -EINVAL;
    err = catalog_stmt_get(cat, STMT_STATUS_LIST, &st, &owned);
    if (err < 0)
        return err;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&row, 0, sizeof(row));
        catalog_column_text(st, 0, row.name, sizeof(row.name));
        catalog_column_text(st, 1, row.state, sizeof(row.state));
        row.last_frame_us = sqlite3_column_int64(st, 2);
        row.bitrate_bps = sqlite3_column_int64(st, 3);
        row.frames = sqlite3_column_int64(st, 4);
        row.lost_packets = sqlite3_column_int64(st, 5);
        row.dropped = sqlite3_column_int64(st, 6);
        row.reconnects = sqlite3_column_int64(st, 7);
        row.updated_us = sqlite3_column_int64(st, 8);
        catalog_column_text(st, 9, row.error, sizeof(row.error));
        catalog_column_text(st, 10, row.transport, sizeof(row.transport));
        row.drift_us = sqlite3_column_int64(st, 11);
        row.ts_jumps = sqlite3_column_int64(st, 12);
        row.frames_lost = sqlite3_column_int64(st, 13);
        row.rtcp_sr = sqlite3_column_int64(st, 14);
        if (cb(user, &row) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    err = rc == SQLITE_DONE ? 0 : catalog__err(cat, rc, "list status");
    catalog_stmt_put(st, owned);
    return err;
}

int catalog_camera_list(struct catalog *cat, catalog_camera_cb cb, void *user)
{
    sqlite3_stmt *st;
    bool owned;
    int rc, err;

    if (!cb)
        return -EINVAL;
    err = catalog_stmt_get(cat, STMT_CAMERA_LIST, &st, &owned);
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
    catalog_stmt_put(st, owned);
    return err;
}
