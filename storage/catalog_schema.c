/* SPDX-License-Identifier: MIT */
/*
 * The catalog's schema: the tables, indexes and triggers of each version
 * and the migration steps between them. Opening for writing brings the
 * file up to CATALOG_SCHEMA_VERSION by running the steps in order, each in
 * its own IMMEDIATE transaction, so a newer program only appends steps and
 * an older one refuses a newer file. The text of a released step is part
 * of files in the field (SQLite stores index and trigger SQL as written),
 * so segment statuses are pasted in with CATALOG_SQL_SEG() and render to
 * the same text as before.
 */
#include "config.h"
#include "storage/catalog.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "nvr/base/compiler.h"
#include "nvr/base/log.h"
#include "storage/catalog_int.h"

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
#define RUNS_REMOVE_OLD(GUARD)                                               \
    "INSERT INTO segment_runs_work(id, start_us, end_us)"                    \
    " SELECT id, start_us, end_us FROM segment_runs WHERE " GUARD            \
    " AND camera_id = OLD.camera_id AND end_us >= OLD.end_us"                \
    " AND +start_us <= OLD.start_us ORDER BY end_us LIMIT 1;"                \
    "INSERT INTO segment_runs(camera_id, start_us, end_us)"                  \
    " SELECT OLD.camera_id, min(a), max(b) FROM (SELECT a, b,"               \
    " sum(brk) OVER (ORDER BY a, b ROWS UNBOUNDED PRECEDING) AS grp"         \
    " FROM (SELECT a, b, coalesce(a - max(b) OVER (ORDER BY a, b"            \
    " ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) > " RUN_GAP          \
    ", 0) AS brk FROM ("                                                     \
    "SELECT w.start_us AS a, coalesce((SELECT max(s.end_us)"                 \
    " FROM segments s WHERE s.camera_id = OLD.camera_id"                     \
    " AND s.status IN " CATALOG_SQL_SEG_USABLE                               \
    " AND s.start_us < OLD.start_us"                                         \
    " AND s.start_us >= max(w.start_us, p.start_us - coalesce((SELECT"       \
    " max(end_us - start_us) FROM segments"                                  \
    " WHERE camera_id = OLD.camera_id), 0))), p.end_us) AS b"                \
    " FROM segment_runs_work w, (SELECT start_us, end_us FROM segments"      \
    " WHERE camera_id = OLD.camera_id AND status IN " CATALOG_SQL_SEG_USABLE \
    " AND start_us < OLD.start_us"                                           \
    " AND start_us >= (SELECT start_us FROM segment_runs_work)"              \
    " ORDER BY start_us DESC LIMIT 1) p"                                     \
    " UNION ALL SELECT start_us, end_us FROM segments"                       \
    " WHERE camera_id = OLD.camera_id AND status IN " CATALOG_SQL_SEG_USABLE \
    " AND start_us >= OLD.start_us AND start_us <= OLD.end_us + " RUN_GAP    \
    " AND EXISTS (SELECT 1 FROM segment_runs_work)"                          \
    " UNION ALL SELECT * FROM (SELECT s.start_us, w.end_us"                  \
    " FROM segment_runs_work w, segments s"                                  \
    " WHERE s.camera_id = OLD.camera_id AND s.status "                       \
    "IN " CATALOG_SQL_SEG_USABLE " AND s.start_us > OLD.end_us + " RUN_GAP   \
    " AND s.start_us <= w.end_us"                                            \
    " ORDER BY s.start_us LIMIT 1))))"                                       \
    " GROUP BY grp;"                                                         \
    "DELETE FROM segment_runs"                                               \
    " WHERE id IN (SELECT id FROM segment_runs_work);"                       \
    "DELETE FROM segment_runs_work;"

/* Whether the update of a usable row left footage out of the runs. */
#define RUNS_UPDATE_SHRINKS                           \
    "OLD.status IN " CATALOG_SQL_SEG_USABLE           \
    " AND NOT (NEW.status IN " CATALOG_SQL_SEG_USABLE \
    " AND NEW.camera_id = OLD.camera_id"              \
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
 * sorted pass); catalog_schema_migrate_runs() adds the triggers. */
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
    ", 0) AS brk FROM segments WHERE status IN " CATALOG_SQL_SEG_USABLE "))"
    " GROUP BY camera_id, grp;";

/*
 * The triggers of step 3 -> 4, each the concatenation of its fragments
 * (one C string literal may not hold a whole trigger). The update trigger
 * adds the new footage first: the runs then hold OLD and NEW, and taking
 * OLD out recomputes its range from the rows as they are now.
 */
static const char *const catalog_run_triggers[][5] = {
    {"CREATE TRIGGER segments_runs_insert AFTER INSERT ON segments"
     " WHEN NEW.status IN " CATALOG_SQL_SEG_USABLE " BEGIN ",
     RUNS_MERGE_NEW("1"), " END", NULL},
    {"CREATE TRIGGER segments_runs_delete AFTER DELETE ON segments"
     " WHEN OLD.status IN " CATALOG_SQL_SEG_USABLE " BEGIN ",
     RUNS_REMOVE_OLD("1"), " END", NULL},
    {"CREATE TRIGGER segments_runs_update"
     " AFTER UPDATE OF camera_id, start_us, end_us, status ON segments"
     " WHEN OLD.status IN " CATALOG_SQL_SEG_USABLE
     " OR NEW.status IN " CATALOG_SQL_SEG_USABLE " BEGIN ",
     RUNS_MERGE_NEW("NEW.status IN " CATALOG_SQL_SEG_USABLE),
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
    " WHERE status = " CATALOG_SQL_SEG(
        OPEN) ";"
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
    " WHERE status = " CATALOG_SQL_SEG(
        DELETING) ";"
                  "CREATE INDEX segments_start ON segments(start_us);",
    /* 3 -> 4: recording runs (with catalog_schema_migrate_runs()). */
    catalog_migration_runs,
    catalog_migration_ingest_status,
    /* 5 -> 6: all in catalog_schema_migrate_refused(). */
    "",
    /* 6 -> 7: the authentication scheme each camera's recorder answers
     * ("digest", "basic", "none"), so that status shows a camera whose
     * password crosses the network in clear text. */
    "ALTER TABLE camera_status ADD COLUMN auth TEXT NOT NULL DEFAULT '';",
};

/* The columns step 5 -> 6 adds: access units refused (issue 14), how many
 * while each segment was written, and the counts by reason
 * (nvr/base/refusal.h, "name=count,...") in each camera's status row. */
static const char *const catalog_refused_columns[][3] = {
    {"segments", "refused", "INTEGER NOT NULL DEFAULT 0"},
    {"camera_status", "refused", "TEXT NOT NULL DEFAULT ''"},
};

_Static_assert(NVR_ARRAY_SIZE(catalog_migrations) == CATALOG_SCHEMA_VERSION,
               "one migration step per schema version");

/* Reads a single integer pragma such as user_version. */
static int catalog_schema_pragma_int(struct catalog *cat, const char *sql,
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

static int catalog_schema_read_version(struct catalog *cat, int *version)
{
    int64_t v = 0;
    int err = catalog_schema_pragma_int(cat, "PRAGMA user_version", &v);

    if (err < 0)
        return err;
    if (v < 0 || v > INT_MAX) {
        LOG_E("catalog", "schema version %lld is not valid", (long long)v);
        return -EPROTO;
    }
    *version = (int)v;
    return 0;
}

static int catalog_schema_check_version(int version, const char *path)
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
static int catalog_schema_migrate_runs(struct catalog *cat)
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
        err = catalog__exec(cat, sql, "create run trigger");
        free(sql);
        if (err < 0)
            return err;
    }
    return 0;
}

/* The C part of step 5 -> 6: adds each column of catalog_refused_columns
 * that the table does not have yet (a file whose version was set back,
 * as tests and hand repairs do, may have them). Runs inside the step's
 * transaction. */
static int catalog_schema_migrate_refused(struct catalog *cat)
{
    for (size_t i = 0; i < NVR_ARRAY_SIZE(catalog_refused_columns); i++) {
        const char *const *c = catalog_refused_columns[i];
        char sql[256];
        int64_t have = 0;
        int err;

        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM pragma_table_info('%s')"
                 " WHERE name = '%s'",
                 c[0], c[1]);
        err = catalog_schema_pragma_int(cat, sql, &have);
        if (err < 0)
            return err;
        if (have)
            continue;
        snprintf(sql, sizeof(sql), "ALTER TABLE %s ADD COLUMN %s %s", c[0],
                 c[1], c[2]);
        err = catalog__exec(cat, sql, "add column");
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
static int catalog_schema_migrate(struct catalog *cat, const char *path)
{
    for (;;) {
        char bump[64];
        int version;
        int err = catalog__exec(cat, "BEGIN IMMEDIATE", "begin migration");

        if (err < 0)
            return err;
        err = catalog_schema_read_version(cat, &version);
        if (err == 0)
            err = catalog_schema_check_version(version, path);
        if (err < 0 || version == CATALOG_SCHEMA_VERSION) {
            catalog__exec_quiet(cat, err < 0 ? "ROLLBACK" : "COMMIT");
            if (err == 0)
                cat->version = version;
            return err;
        }
        LOG_I("catalog", "%s: migrating schema %d -> %d", path, version,
              version + 1);
        snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", version + 1);
        err = catalog__exec(cat, catalog_migrations[version], "migrate");
        if (err == 0 && version == 3)
            err = catalog_schema_migrate_runs(cat);
        if (err == 0 && version == 5)
            err = catalog_schema_migrate_refused(cat);
        if (err == 0)
            err = catalog__exec(cat, bump, "set schema version");
        if (err == 0)
            err = catalog__exec(cat, "COMMIT", "commit migration");
        if (err < 0) {
            /* Nothing more to report if the rollback fails too. */
            catalog__exec_quiet(cat, "ROLLBACK");
            return err;
        }
    }
}

int catalog__schema_prepare(struct catalog *cat, const char *path)
{
    int err = catalog_schema_read_version(cat, &cat->version);

    if (err < 0)
        return err;
    err = catalog_schema_check_version(cat->version, path);
    if (err < 0 || cat->version == CATALOG_SCHEMA_VERSION)
        return err;
    if (cat->readonly) {
        LOG_E("catalog",
              "%s has schema version %d, older than %d; the daemon "
              "upgrades it when it starts",
              path, cat->version, CATALOG_SCHEMA_VERSION);
        return -EPROTO;
    }
    return catalog_schema_migrate(cat, path);
}

int catalog_schema_version(struct catalog *cat)
{
    return cat->version;
}
