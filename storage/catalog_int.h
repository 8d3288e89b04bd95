/* SPDX-License-Identifier: MIT */
/*
 * Internals shared by the catalog's own files (storage/catalog*.c) and no
 * one else: the connection behind a struct catalog, its cache of prepared
 * statements, the one conversion of SQLite result codes (catalog__err),
 * the helpers that bind and read columns, and the segment statuses as SQL
 * text. Every other file reaches the catalog through the typed functions
 * of catalog.h, catalog_audit.h, catalog_holds.h and catalog_retention.h,
 * so this is the only header that names SQLite.
 */
#ifndef NVR_STORAGE_CATALOG_INT_H
#define NVR_STORAGE_CATALOG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "nvr/base/compiler.h"
#include "storage/catalog.h"

/*
 * The segment statuses (enum catalog_seg_status) as SQL integer literals,
 * for pasting into SQL text: "status = " CATALOG_SQL_SEG(CLOSED). The
 * numbers are part of the file format (stored in segments.status and in
 * the text of the schema's partial indexes and triggers), so no SQL string
 * spells one itself; the asserts below tie each literal to the enum.
 */
#define CATALOG_SQL_SEG(name)     CATALOG__SQL_SEG_##name
#define CATALOG__SQL_SEG_OPEN     "0"
#define CATALOG__SQL_SEG_CLOSED   "1"
#define CATALOG__SQL_SEG_MISSING  "2"
#define CATALOG__SQL_SEG_DELETING "3"
/* The usable statuses (footage that is or is being recorded), as the right
 * side of IN: "status IN " CATALOG_SQL_SEG_USABLE. */
#define CATALOG_SQL_SEG_USABLE \
    "(" CATALOG_SQL_SEG(OPEN) ", " CATALOG_SQL_SEG(CLOSED) ")"

_Static_assert(CATALOG_SEG_OPEN == 0 && CATALOG_SEG_CLOSED == 1 &&
                   CATALOG_SEG_MISSING == 2 && CATALOG_SEG_DELETING == 3,
               "CATALOG_SQL_SEG() spells enum catalog_seg_status");

/* The columns catalog__read_segment() reads, in its order. */
#define CATALOG_SEG_COLUMNS                                           \
    "id, camera_id, start_us, end_us, bytes, frames, status, width, " \
    "height, codec, path, sha256, refused"

/*
 * Every cached statement of the catalog's files. Each file keeps the SQL
 * of its own statements in a table indexed by these ids.
 */
enum catalog__stmt_id {
    CATALOG_STMT_CAMERA_FIND,
    CATALOG_STMT_CAMERA_INSERT,
    CATALOG_STMT_CAMERA_LIST,
    CATALOG_STMT_CAMERA_IDS,
    CATALOG_STMT_SEG_INSERT,
    CATALOG_STMT_SEG_PROGRESS,
    CATALOG_STMT_SEG_FINISH,
    CATALOG_STMT_SEG_SET_STATUS,
    CATALOG_STMT_SEG_DELETE,
    CATALOG_STMT_SEG_BY_PATH,
    CATALOG_STMT_SEG_MAX_SPAN,
    CATALOG_STMT_SEG_LIST,
    CATALOG_STMT_SEG_LIST_OPEN,
    CATALOG_STMT_SEG_COUNT_UNDER,
    CATALOG_STMT_SEG_LIST_UNDER,
    CATALOG_STMT_SEG_NEWEST,
    CATALOG_STMT_RUN_LIST,
    CATALOG_STMT_EVENT_ADD,
    CATALOG_STMT_EVENT_FIND,
    CATALOG_STMT_STATUS_PUT,
    CATALOG_STMT_STATUS_LIST,
    CATALOG_STMT_AUDIT_LAST,
    CATALOG_STMT_AUDIT_INSERT,
    CATALOG_STMT_AUDIT_LIST,
    CATALOG_STMT_AUDIT_ALL,
    CATALOG_STMT_HOLD_INSERT,
    CATALOG_STMT_HOLD_DELETE,
    CATALOG_STMT_HOLD_GET,
    CATALOG_STMT_HOLD_RELEASE,
    CATALOG_STMT_HOLD_LIST,
    CATALOG_STMT_HOLD_COVERS,
    CATALOG_STMT_RET_AGED,
    CATALOG_STMT_RET_CLOSED,
    CATALOG_STMT_RET_GLOBAL,
    CATALOG_STMT_RET_DELETING,
    CATALOG_STMT_RET_MARK,
    CATALOG_STMT_RET_DROP,
    CATALOG_STMT_RET_SUM,
    CATALOG_STMT_COUNT
};

struct catalog {
    sqlite3 *db;
    bool readonly;
    int version;                             /* user_version after open */
    sqlite3_stmt *stmts[CATALOG_STMT_COUNT]; /* prepared on first use */
};

/* The connection itself, for tests and benchmarks that run raw SQL on the
 * catalog's own connection (a transaction around many calls, a tampered
 * row). Borrowed: valid until catalog_close(). */
sqlite3 *catalog__db(struct catalog *cat);

/*
 * Converts a SQLite result code into a negative errno and logs SQLite's
 * message once; the only place either happens. `what` names the
 * operation for the log line.
 */
int catalog__err(struct catalog *cat, int rc, const char *what);

/*
 * Returns the cached statement `id` (whose text is `sql`), prepared on
 * first use. When it is still running (a list callback calling back into
 * the catalog), a private copy is prepared instead and *owned is set, so
 * nested calls never reset the outer iteration. Give it back with
 * catalog__stmt_put(). 0 or a catalog error.
 */
NVR_NODISCARD int catalog__stmt_get(struct catalog *cat,
                                    enum catalog__stmt_id id, const char *sql,
                                    sqlite3_stmt **out, bool *owned);

/* Resets (or, if owned, finalizes) a statement from catalog__stmt_get. */
void catalog__stmt_put(sqlite3_stmt *st, bool owned);

/* Runs SQL with no result rows (pragmas, migrations, transactions). */
NVR_NODISCARD int catalog__exec(struct catalog *cat, const char *sql,
                                const char *what);

/* Runs SQL whose failure leaves nothing more to report: ROLLBACK after an
 * error already reported, or the end of a read transaction. */
void catalog__exec_quiet(struct catalog *cat, const char *sql);

/* Steps a statement that returns no rows; 0 or a negative errno. */
NVR_NODISCARD int catalog__step_done(struct catalog *cat, sqlite3_stmt *st,
                                     const char *what);

/* Like catalog__step_done but -ENOENT when no row was changed. */
NVR_NODISCARD int catalog__step_change(struct catalog *cat, sqlite3_stmt *st,
                                       const char *what);

/*
 * Copies `src` (may be NULL, `len` bytes) into dst[size] NUL-terminated.
 * Truncation backs off to a UTF-8 character boundary, so a cut name never
 * ends in half a character. Returns the length copied.
 */
size_t catalog__copy_text(char *dst, size_t size, const unsigned char *src,
                          size_t len);

/* Copies text column `col` into dst[size] (NULL reads as ""), cut as
 * catalog__copy_text() cuts. */
void catalog__column_text(sqlite3_stmt *st, int col, char *dst, size_t size);

/* The same, cut at the byte like snprintf: for fields whose cut must show
 * (an audit entry cut short then fails verification, as it must). */
void catalog__column_bytes(sqlite3_stmt *st, int col, char *dst, size_t size);

/* Binds a fixed-size char field that the caller may not have terminated. */
int catalog__bind_field(sqlite3_stmt *st, int idx, const char *field,
                        size_t size);

/* Binds v[0..n) to the parameters first, first + 1, ...; a SQLite code. */
int catalog__bind_int64s(sqlite3_stmt *st, int first, const int64_t *v,
                         size_t n);

/* Fills *seg from the current row of a statement whose first columns are
 * CATALOG_SEG_COLUMNS (NULL text reads as ""). */
void catalog__read_segment(sqlite3_stmt *st, struct catalog_segment *seg);

/*
 * Reads the file's schema version into cat->version, refuses a version
 * newer than this program (or, read-only, an older one: only a writer
 * migrates) with -EPROTO, and brings a writer's file up to
 * CATALOG_SCHEMA_VERSION. `path` names the file in log lines.
 */
NVR_NODISCARD int catalog__schema_prepare(struct catalog *cat,
                                          const char *path);

#endif
