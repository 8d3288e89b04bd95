/* SPDX-License-Identifier: MIT */
/*
 * The tamper-evident audit log (see audit.h): rows of the catalog's `audit`
 * table chained by SHA-256. Each row's hash covers its own fields and the
 * hash of the row before it, so changing, removing, adding or reordering a
 * row breaks the chain at that row, and audit_verify() names it.
 *
 * The hash encoding, exactly (so that anyone can re-verify with a script):
 *
 *   hash = lowercase hex of SHA-256 over the concatenation of, in order,
 *     id, time_us, user, host, kind, camera, from_us, to_us, detail,
 *     prev_hash
 *   where an integer is 8 bytes, big-endian two's complement, and a text
 *   is its byte length as 4 bytes big-endian followed by its UTF-8 bytes
 *   (no terminator). A NULL camera is the empty text; NULL from_us/to_us
 *   are 0. prev_hash is the text of the previous row's hash (64 lowercase
 *   hex digits), and "0" x 64 for the first row.
 *
 * Rows are numbered 1, 2, 3, ... by audit_append() (the id is part of the
 * hash), so a missing row also shows as a hole in the ids. Appends run in
 * one BEGIN IMMEDIATE transaction, so concurrent writers (the daemon, a CLI
 * export, the TUI) serialise on SQLite's lock and each new row links to the
 * true last one.
 *
 * What the chain cannot show on its own: removing the newest rows (the
 * chain that is left is still a valid chain). Every export manifest carries
 * the hash of its audit row, and nvr audit prints the head hash, so a
 * truncation is caught by comparing with a hash held elsewhere.
 */
#include "config.h"
#include "storage/audit.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "nvr/base/clock.h"
#include "nvr/base/log.h"
#include "nvr/base/thread.h"
#include "nvr/base/user.h"
#include "storage/sha256.h"
#include "storage/storage_int.h"

#define AUDIT_HASH_HEX 64
#define AUDIT_ZERO_HASH \
    "0000000000000000000000000000000000000000000000000000000000000000"

#define AUDIT_COLS                                          \
    "id, time_us, user, host, kind, coalesce(camera, ''), " \
    "coalesce(from_us, 0), coalesce(to_us, 0), detail, prev_hash, hash"

static int audit_sqlite_err(sqlite3 *db, int rc, const char *what)
{
    LOG_W("audit", "%s: %s", what, sqlite3_errmsg(db));
    switch (rc & 0xff) {
    case SQLITE_FULL:
        return -ENOSPC;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return -EBUSY;
    case SQLITE_NOMEM:
        return -ENOMEM;
    default:
        return -EIO;
    }
}

static void sha_int(struct nvr_sha256 *sha, int64_t v)
{
    uint8_t b[8];
    uint64_t u = (uint64_t)v;

    for (int i = 7; i >= 0; i--) {
        b[i] = (uint8_t)(u & 0xff);
        u >>= 8;
    }
    nvr_sha256_update(sha, b, sizeof(b));
}

static void sha_text(struct nvr_sha256 *sha, const char *s)
{
    size_t n = strlen(s);
    uint8_t b[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8),
                    (uint8_t)n};

    nvr_sha256_update(sha, b, sizeof(b));
    nvr_sha256_update(sha, s, n);
}

/* Computes the hash of e (its fields and prev_hash) into out[65]. */
int audit_entry_hash(const struct audit_entry *e, char out[65])
{
    struct nvr_sha256 *sha = nvr_sha256_new();
    int err;

    if (!sha)
        return -ENOMEM;
    sha_int(sha, e->id);
    sha_int(sha, e->time_us);
    sha_text(sha, e->user);
    sha_text(sha, e->host);
    sha_text(sha, e->kind);
    sha_text(sha, e->camera);
    sha_int(sha, e->from_us);
    sha_int(sha, e->to_us);
    sha_text(sha, e->detail);
    sha_text(sha, e->prev_hash);
    err = nvr_sha256_final_hex(sha, out);
    nvr_sha256_free(sha);
    return err;
}

static void copy_col(sqlite3_stmt *st, int col, char *out, size_t size)
{
    const unsigned char *t = sqlite3_column_text(st, col);

    snprintf(out, size, "%s", t ? (const char *)t : "");
}

/* Fills e from a row selected with AUDIT_COLS. Text longer than a field
 * is truncated, which then fails verification: no row written by
 * audit_append is ever that long. */
static void audit_row(sqlite3_stmt *st, struct audit_entry *e)
{
    memset(e, 0, sizeof(*e));
    e->id = sqlite3_column_int64(st, 0);
    e->time_us = sqlite3_column_int64(st, 1);
    copy_col(st, 2, e->user, sizeof(e->user));
    copy_col(st, 3, e->host, sizeof(e->host));
    copy_col(st, 4, e->kind, sizeof(e->kind));
    copy_col(st, 5, e->camera, sizeof(e->camera));
    e->from_us = sqlite3_column_int64(st, 6);
    e->to_us = sqlite3_column_int64(st, 7);
    copy_col(st, 8, e->detail, sizeof(e->detail));
    copy_col(st, 9, e->prev_hash, sizeof(e->prev_hash));
    copy_col(st, 10, e->hash, sizeof(e->hash));
}

/* A text column is longer than the field it is read into (a row no
 * audit_append could have written). */
static bool audit_row_oversized(sqlite3_stmt *st)
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

    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        if ((size_t)sqlite3_column_bytes(st, limits[i].col) >= limits[i].size)
            return true;
    }
    return false;
}

static void audit_fill_identity(struct audit_entry *e)
{
    if (!e->user[0]) {
        const char *sudo = getenv("SUDO_USER");
        uid_t uid = geteuid();

        (void)nvr_user_name(uid, e->user, sizeof(e->user)); /* or "uid N" */
        /* Whoever ran sudo is the person acting; keep both names. */
        if (uid == 0 && sudo && sudo[0] && strcmp(sudo, "root") != 0) {
            char who[sizeof(e->user)];

            snprintf(who, sizeof(who), "%.30s (sudo: %.20s)", e->user, sudo);
            memcpy(e->user, who, sizeof(who));
        }
    }
    if (!e->host[0]) {
        if (gethostname(e->host, sizeof(e->host) - 1) != 0)
            snprintf(e->host, sizeof(e->host), "unknown");
        e->host[sizeof(e->host) - 1] = '\0';
    }
}

static int audit_exec(sqlite3 *db, const char *sql)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

    return rc == SQLITE_OK ? 0 : audit_sqlite_err(db, rc, sql);
}

/* Inside the transaction: reads the last row's id and hash. */
static int audit_last(sqlite3 *db, int64_t *id, char hash[65])
{
    sqlite3_stmt *st = NULL;
    int rc, err = 0;

    rc = sqlite3_prepare_v2(db,
                            "SELECT id, hash FROM audit ORDER BY id DESC "
                            "LIMIT 1",
                            -1, &st, NULL);
    if (rc != SQLITE_OK)
        return audit_sqlite_err(db, rc, "audit: last entry");
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        copy_col(st, 1, hash, 65);
    } else if (rc == SQLITE_DONE) {
        *id = 0;
        snprintf(hash, 65, "%s", AUDIT_ZERO_HASH);
    } else {
        err = audit_sqlite_err(db, rc, "audit: last entry");
    }
    sqlite3_finalize(st);
    return err;
}

static int audit_insert(sqlite3 *db, const struct audit_entry *e)
{
    sqlite3_stmt *st = NULL;
    int rc;

    rc = sqlite3_prepare_v2(
        db,
        "INSERT INTO audit(id, time_us, user, host, kind, camera, from_us, "
        "to_us, detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        -1, &st, NULL);
    if (rc != SQLITE_OK)
        return audit_sqlite_err(db, rc, "audit: insert");
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
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : audit_sqlite_err(db, rc, "audit: insert");
}

int audit_append(struct catalog *cat, struct audit_entry *e)
{
    sqlite3 *db;
    struct audit_entry tmp;
    int64_t last_id = 0;
    int err;

    NVR_ASSERT_NOT_LOOP();
    if (!cat || !e || !e->kind[0])
        return -EINVAL;
    db = catalog__db(cat);
    tmp = *e;
    /* The fields are fixed-size arrays: make sure each is terminated. */
    tmp.user[sizeof(tmp.user) - 1] = '\0';
    tmp.host[sizeof(tmp.host) - 1] = '\0';
    tmp.kind[sizeof(tmp.kind) - 1] = '\0';
    tmp.camera[sizeof(tmp.camera) - 1] = '\0';
    tmp.detail[sizeof(tmp.detail) - 1] = '\0';
    if (tmp.time_us == 0)
        tmp.time_us = nvr_clock_wall_us();
    audit_fill_identity(&tmp);

    err = audit_exec(db, "BEGIN IMMEDIATE");
    if (err < 0)
        return err;
    err = audit_last(db, &last_id, tmp.prev_hash);
    if (err < 0)
        goto err_rollback;
    tmp.id = last_id + 1;
    err = audit_entry_hash(&tmp, tmp.hash);
    if (err < 0)
        goto err_rollback;
    err = audit_insert(db, &tmp);
    if (err < 0)
        goto err_rollback;
    err = audit_exec(db, "COMMIT");
    if (err < 0)
        goto err_rollback;
    *e = tmp;
    return 0;

err_rollback:
    (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return err;
}

int audit_list(struct catalog *cat, const char *camera, int64_t from_us,
               int64_t to_us, audit_cb cb, void *user)
{
    sqlite3 *db;
    sqlite3_stmt *st = NULL;
    struct audit_entry e;
    int rc, err = 0;

    NVR_ASSERT_NOT_LOOP();
    if (!cat || !cb)
        return -EINVAL;
    db = catalog__db(cat);
    rc = sqlite3_prepare_v2(db,
                            "SELECT " AUDIT_COLS " FROM audit WHERE "
                            "(?1 IS NULL OR camera = ?1) AND time_us >= ?2 "
                            "AND time_us <= ?3 ORDER BY id",
                            -1, &st, NULL);
    if (rc != SQLITE_OK)
        return audit_sqlite_err(db, rc, "audit: list");
    if (camera)
        sqlite3_bind_text(st, 1, camera, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, from_us);
    sqlite3_bind_int64(st, 3, to_us);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        audit_row(st, &e);
        if (cb(user, &e) != 0)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        err = audit_sqlite_err(db, rc, "audit: list");
    sqlite3_finalize(st);
    return err;
}

/* In audit_check_row: reports entry `id` as the first bad one, with a
 * message. why is never NULL there (audit_verify passes a local buffer). */
#define AUDIT_BAD(id, ...) \
    (snprintf(why, why_size, __VA_ARGS__), *first_bad_id = (id), -EBADMSG)

/* Checks one row against the one before it (prev_id, prev_hash). */
static int audit_check_row(sqlite3_stmt *st, int64_t prev_id,
                           const char *prev_hash, int64_t *first_bad_id,
                           char *why, size_t why_size)
{
    struct audit_entry e;
    char h[65];
    int err;

    audit_row(st, &e);
    if (e.id != prev_id + 1) {
        if (e.id > prev_id + 1 && prev_id == 0)
            return AUDIT_BAD(0,
                             "entries missing before entry %lld: the log "
                             "starts at id %lld, not 1",
                             (long long)e.id, (long long)e.id);
        if (e.id > prev_id + 1)
            return AUDIT_BAD(prev_id,
                             "entries missing after entry %lld: the next "
                             "entry is %lld (%lld deleted)",
                             (long long)prev_id, (long long)e.id,
                             (long long)(e.id - prev_id - 1));
        return AUDIT_BAD(e.id, "entry %lld is out of order after entry %lld",
                         (long long)e.id, (long long)prev_id);
    }
    if (audit_row_oversized(st))
        return AUDIT_BAD(e.id,
                         "entry %lld has a field longer than any entry "
                         "nvr writes",
                         (long long)e.id);
    if (strcmp(e.prev_hash, prev_hash) != 0)
        return AUDIT_BAD(e.id,
                         "entry %lld does not follow entry %lld: its "
                         "prev_hash %.16s... is not that entry's hash "
                         "%.16s... (an entry was removed, inserted or "
                         "reordered)",
                         (long long)e.id, (long long)prev_id, e.prev_hash,
                         prev_hash);
    err = audit_entry_hash(&e, h);
    if (err < 0)
        return err;
    if (strcmp(h, e.hash) != 0)
        return AUDIT_BAD(e.id,
                         "entry %lld was altered: its fields hash to "
                         "%.16s... but it records %.16s...",
                         (long long)e.id, h, e.hash);
    return 0;
}

static int audit_verify_chain(struct catalog *cat, int64_t *first_bad_id,
                              char *why, size_t why_size);

int audit_verify(struct catalog *cat, int64_t *first_bad_id, char *why,
                 size_t why_size)
{
    char msg[512] = "";
    int64_t bad = 0;
    int err = audit_verify_chain(cat, &bad, msg, sizeof(msg));

    if (first_bad_id)
        *first_bad_id = bad;
    if (why && why_size > 0)
        snprintf(why, why_size, "%s", msg);
    return err;
}

static int audit_verify_chain(struct catalog *cat, int64_t *first_bad_id,
                              char *why, size_t why_size)
{
    sqlite3 *db;
    sqlite3_stmt *st = NULL;
    char prev_hash[65] = AUDIT_ZERO_HASH;
    int64_t prev_id = 0;
    int rc, err = 0;

    NVR_ASSERT_NOT_LOOP();
    if (!cat)
        return -EINVAL;
    db = catalog__db(cat);
    /* One read transaction: a concurrent append cannot show up halfway. */
    err = audit_exec(db, "BEGIN");
    if (err < 0)
        return err;
    rc = sqlite3_prepare_v2(db, "SELECT " AUDIT_COLS " FROM audit ORDER BY id",
                            -1, &st, NULL);
    if (rc != SQLITE_OK) {
        err = audit_sqlite_err(db, rc, "audit: verify");
        goto out;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        err = audit_check_row(st, prev_id, prev_hash, first_bad_id, why,
                              why_size);
        if (err < 0)
            goto out;
        prev_id = sqlite3_column_int64(st, 0);
        copy_col(st, 10, prev_hash, sizeof(prev_hash));
    }
    if (rc != SQLITE_DONE)
        err = audit_sqlite_err(db, rc, "audit: verify");
out:
    sqlite3_finalize(st);
    (void)sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    return err;
}

int audit_head(struct catalog *cat, int64_t *id, char out[65])
{
    NVR_ASSERT_NOT_LOOP();
    if (!cat || !id || !out)
        return -EINVAL;
    return audit_last(catalog__db(cat), id, out);
}
