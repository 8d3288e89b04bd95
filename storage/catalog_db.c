/* SPDX-License-Identifier: MIT */
/*
 * The catalog's connection: one struct catalog wraps one SQLite connection
 * (opened with SQLITE_OPEN_NOMUTEX, because each thread opens its own) and
 * a cache of prepared statements shared by the catalog's files. Opening
 * for writing puts the file in WAL mode; catalog_schema.c then brings the
 * schema up to date. Every SQLite result code is turned into a negative
 * errno in catalog__err(), which is also the only place that logs
 * SQLite's message, and SQLite's own log is routed into nvr_log here.
 */
#include "config.h"
#include "storage/catalog.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "nvr/base/compiler.h"
#include "nvr/base/log.h"
#include "nvr/base/thread.h"
#include "storage/catalog_int.h"

/* How long a statement waits for another connection's lock before failing
 * with -EBUSY. The daemon's writer threads, its status updater and the CLI
 * all share the file, and a writer commit takes milliseconds, so five
 * seconds only runs out when something is stuck. */
#define CATALOG_BUSY_TIMEOUT_MS 5000
/* Pause between attempts to switch a new file to WAL. */
#define CATALOG_WAL_RETRY_MS 5
/* The longest catalog path an error message names. */
#define CATALOG_ERR_PATH_MAX 1024
/* Bytes a checkpoint leaves of the WAL (PRAGMA journal_size_limit). */
#define CATALOG_WAL_LIMIT "1048576"

/* Room for a journal mode name such as "wal" or "memory". */
#define CATALOG_MODE_SIZE 16
/*
 * Converts a SQLite result code into a negative errno and logs SQLite's
 * message once. `what` names the operation for the log line.
 */
/*
 * After an I/O error: whether the OS refuses to write the catalog or its
 * -wal or -shm file because it is immutable or append-only (chattr +i,
 * +a: -EPERM) or on a read-only file system (-EROFS), with why naming the
 * file and what to do. 0 if none of that is the case.
 */
static int catalog_refused_file(struct catalog *cat, char *why, size_t why_size)
{
    static const char *const suffix[] = {"", "-wal", "-shm"};
    const char *db =
        cat && cat->db ? sqlite3_db_filename(cat->db, "main") : NULL;
    char path[CATALOG_ERR_PATH_MAX];

    if (!db || !*db)
        return 0;
    for (size_t i = 0; i < NVR_ARRAY_SIZE(suffix); i++) {
        int fd, flags = 0;

        snprintf(path, sizeof(path), "%s%s", db, suffix[i]);
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
            continue;
        if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 &&
            (flags & (FS_IMMUTABLE_FL | FS_APPEND_FL))) {
            bool imm = (flags & FS_IMMUTABLE_FL) != 0;

            close(fd);
            snprintf(why, why_size,
                     "%s is %s (chattr +%c): nothing can write it until "
                     "chattr -%c",
                     path, imm ? "immutable" : "append-only", imm ? 'i' : 'a',
                     imm ? 'i' : 'a');
            return -EPERM;
        }
        close(fd);
        if (access(path, W_OK) != 0 && errno == EROFS) {
            snprintf(why, why_size, "%s is on a read-only file system", path);
            return -EROFS;
        }
    }
    return 0;
}

int catalog__err(struct catalog *cat, int rc, const char *what)
{
    const char *msg =
        cat && cat->db ? sqlite3_errmsg(cat->db) : sqlite3_errstr(rc);
    char why[CATALOG_ERR_PATH_MAX + 96] = "";
    int err, sys;

    switch (rc & 0xff) {
    case SQLITE_FULL:
        err = -ENOSPC;
        break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        err = -EBUSY;
        break;
    case SQLITE_CANTOPEN:
        /* What the OS said, when it refused: a missing or forbidden
         * file is not an I/O error. */
        sys = cat && cat->db ? sqlite3_system_errno(cat->db) : 0;
        if (sys == EACCES || sys == EPERM)
            err = -EACCES;
        else
            err = cat && cat->readonly ? -ENOENT : -EIO;
        break;
    case SQLITE_NOMEM:
        err = -ENOMEM;
        break;
    case SQLITE_IOERR:
    case SQLITE_READONLY:
        /* An immutable or read-only catalog file is not a failing disk:
         * say which file the OS refuses, and why. */
        err = catalog_refused_file(cat, why, sizeof(why));
        if (err == 0) {
            sys = cat && cat->db ? sqlite3_system_errno(cat->db) : 0;
            err = sys == ENOSPC || sys == EDQUOT ? -sys : -EIO;
        }
        break;
    default:
        err = -EIO;
        break;
    }
    if (why[0])
        LOG_E("catalog", "%s: %s (sqlite %d): %s", what, msg, rc, why);
    else
        LOG_E("catalog", "%s: %s (sqlite %d)", what, msg, rc);
    return err;
}

/*
 * Copies `src` (may be NULL, `len` bytes) into dst[size] NUL-terminated.
 * Truncation backs off to a UTF-8 character boundary, so a cut name never
 * ends in half a character. Returns the length copied.
 */
size_t catalog__copy_text(char *dst, size_t size, const unsigned char *src,
                          size_t len)
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

void catalog__column_text(sqlite3_stmt *st, int col, char *dst, size_t size)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    size_t len = s ? (size_t)sqlite3_column_bytes(st, col) : 0;

    /* Text with an embedded NUL stops there, as a C string would. */
    if (s)
        len = strnlen((const char *)s, len);
    (void)catalog__copy_text(dst, size, s, len);
}

void catalog__column_bytes(sqlite3_stmt *st, int col, char *dst, size_t size)
{
    const unsigned char *t = sqlite3_column_text(st, col);

    snprintf(dst, size, "%s", t ? (const char *)t : "");
}

/* Binds a fixed-size char field that the caller may not have terminated. */
int catalog__bind_field(sqlite3_stmt *st, int idx, const char *field,
                        size_t size)
{
    return sqlite3_bind_text(st, idx, field, (int)strnlen(field, size),
                             SQLITE_STATIC);
}

/* Binds v[0..n) to the parameters first, first + 1, ... */
int catalog__bind_int64s(sqlite3_stmt *st, int first, const int64_t *v,
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
int catalog__stmt_get(struct catalog *cat, enum catalog__stmt_id id,
                      const char *sql, sqlite3_stmt **out, bool *owned)
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
    rc = sqlite3_prepare_v3(cat->db, sql, -1,
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

void catalog__stmt_put(sqlite3_stmt *st, bool owned)
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
int catalog__exec(struct catalog *cat, const char *sql, const char *what)
{
    int rc = sqlite3_exec(cat->db, sql, NULL, NULL, NULL);

    return rc == SQLITE_OK ? 0 : catalog__err(cat, rc, what);
}

void catalog__exec_quiet(struct catalog *cat, const char *sql)
{
    (void)sqlite3_exec(cat->db, sql, NULL, NULL, NULL);
}

/* sqlite3_exec() callback copying the first column of a row to user. */
static int catalog_first_text_cb(void *user, int ncols, char **vals,
                                 char **names)
{
    char *dst = user;

    if (ncols > 0 && vals[0])
        (void)catalog__copy_text(dst, CATALOG_MODE_SIZE,
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
    /* A checkpoint cuts the WAL back to this size, so that a burst of
     * commits (a large retention pass) does not keep its space on a disk
     * that is short of it. */
    rc = catalog__exec(cat, "PRAGMA journal_size_limit=" CATALOG_WAL_LIMIT,
                       "journal_size_limit");
    if (rc < 0)
        return rc;
    return catalog__exec(cat, "PRAGMA synchronous=NORMAL", "synchronous");
}

int catalog_checkpoint(struct catalog *cat)
{
    int rc, log_frames = 0, done_frames = 0;

    rc = sqlite3_wal_checkpoint_v2(cat->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
                                   &log_frames, &done_frames);
    if ((rc & 0xff) == SQLITE_BUSY)
        return -EBUSY;
    if (rc != SQLITE_OK)
        return catalog__err(cat, rc, "wal checkpoint");
    return 0;
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

        /* A missing catalog is normal before the daemon first ran, and
         * one the user may not reach is the caller's to explain: either
         * way no error line here. */
        if (strcmp(path, ":memory:") != 0 && stat(path, &sb) != 0 &&
            (errno == ENOENT || errno == EACCES))
            return -errno;
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
    err = catalog__exec(cat, "PRAGMA foreign_keys=ON", "foreign_keys");
    if (err < 0)
        goto err_close;
    /*
     * Statement journals, sort spills and transient indices stay in
     * memory. On disk they would go to a directory SQLite picks once, when
     * it initialises (SQLITE_TMPDIR, TMPDIR, /var/tmp, /usr/tmp, /tmp),
     * and under the recorder's sandbox only the storage is writable: a
     * long retention pass failed opening /var/tmp/etilqs_*. Catalog
     * statements touch bounded numbers of rows, so the memory is small.
     */
    err = catalog__exec(cat, "PRAGMA temp_store=MEMORY", "temp_store");
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
    err = catalog__schema_prepare(cat, path);
    if (err < 0)
        goto err_close;
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

void catalog_close(struct catalog *cat)
{
    if (!cat)
        return;
    for (size_t i = 0; i < CATALOG_STMT_COUNT; i++)
        sqlite3_finalize(cat->stmts[i]);
    /* All statements are finalized, so close cannot report SQLITE_BUSY. */
    (void)sqlite3_close(cat->db);
    free(cat);
}

/* Steps a statement that returns no rows; 0 or a negative errno. */
int catalog__step_done(struct catalog *cat, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);

    return rc == SQLITE_DONE ? 0 : catalog__err(cat, rc, what);
}

/* Like catalog__step_done but -ENOENT when no row was changed. */
int catalog__step_change(struct catalog *cat, sqlite3_stmt *st,
                         const char *what)
{
    int err = catalog__step_done(cat, st, what);

    if (err == 0 && sqlite3_changes(cat->db) == 0)
        err = -ENOENT;
    return err;
}

/* SQLITE_CONFIG_LOG callback: SQLite's own messages into nvr_log. */
static void catalog_log_cb(void *user, int code, const char *msg)
{
    (void)user;
    /* SQLITE_NOTICE/WARNING about WAL recovery are informational. */
    if ((code & 0xff) == SQLITE_NOTICE || (code & 0xff) == SQLITE_WARNING)
        LOG_D("sqlite", "(%d) %s", code, msg);
    else
        LOG_W("sqlite", "(%d) %s", code, msg);
}

void catalog_route_log(void)
{
    int rc = sqlite3_config(SQLITE_CONFIG_LOG, catalog_log_cb, NULL);

    if (rc != SQLITE_OK)
        (void)catalog__err(NULL, rc, "route sqlite log");
}
