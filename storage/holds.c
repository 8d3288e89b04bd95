/* SPDX-License-Identifier: MIT */
/*
 * Legal holds (see holds.h), kept in the catalog's `holds` table with
 * statements of their own on the catalog's connection. A hold is never
 * deleted: releasing it stamps who and when, so the list stays the record
 * of what was protected. Every add and release is followed by an audit
 * entry; if the audit log cannot be written the change is undone, so the
 * log never misses a hold that took effect.
 *
 * Retention checks holds inside the same transaction that marks a segment
 * for deletion (storage/retention.c), so a hold added while a pass runs
 * protects everything the pass has not yet marked.
 */
#include "config.h"
#include "storage/holds.h"

#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "nvr/base/clock.h"
#include "nvr/base/log.h"
#include "nvr/base/thread.h"
#include "storage/audit.h"
#include "storage/catalog.h"
#include "storage/storage_int.h"

#define HOLDS_PWBUF_BYTES 4096

void holds__os_user(char *out, size_t size)
{
    char buf[HOLDS_PWBUF_BYTES];
    struct passwd pw, *res = NULL;

    if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &res) == 0 && res &&
        res->pw_name) {
        snprintf(out, size, "%s", res->pw_name);
        return;
    }
    snprintf(out, size, "uid %u", (unsigned)geteuid());
}

/* Appends src to dst[size] as the inside of a JSON string, cutting at a
 * character boundary when full. */
static void holds_json_escape(char *dst, size_t size, const char *src)
{
    size_t n = strlen(dst);

    for (const unsigned char *p = (const unsigned char *)src; *p; p++) {
        char esc[8];
        size_t len;

        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            esc[2] = '\0';
        } else if (*p < 0x20) {
            snprintf(esc, sizeof(esc), "\\u%04x", *p);
        } else {
            esc[0] = (char)*p;
            esc[1] = '\0';
        }
        len = strlen(esc);
        if (n + len + 1 > size) {
            /* Do not leave half a UTF-8 character behind. */
            while (n > 0 && ((unsigned char)dst[n - 1] & 0xc0) == 0x80)
                n--;
            if (n > 0 && ((unsigned char)dst[n - 1] & 0xc0) == 0xc0)
                n--;
            break;
        }
        memcpy(dst + n, esc, len);
        n += len;
    }
    dst[n] = '\0';
}

static int holds_audit(struct catalog *cat, const char *kind,
                       const struct hold *h, const char *user)
{
    struct audit_entry e;

    memset(&e, 0, sizeof(e));
    snprintf(e.kind, sizeof(e.kind), "%s", kind);
    snprintf(e.camera, sizeof(e.camera), "%s", h->camera);
    snprintf(e.user, sizeof(e.user), "%s", user ? user : "");
    e.from_us = h->from_us;
    e.to_us = h->to_us;
    snprintf(e.detail, sizeof(e.detail), "{\"hold\":%" PRId64 ",\"reason\":\"",
             h->id);
    holds_json_escape(e.detail, sizeof(e.detail) - 2, h->reason);
    strcat(e.detail, "\"}");
    return audit_append(cat, &e);
}

/* Runs a prepared one-shot statement to completion and finalizes it. */
static int holds_step_done(struct catalog *cat, sqlite3_stmt *st,
                           const char *what)
{
    int rc = sqlite3_step(st);
    int err = rc == SQLITE_DONE ? 0 : catalog__sqlite_err(cat, rc, what);

    sqlite3_finalize(st);
    return err;
}

static int holds_prepare(struct catalog *cat, const char *sql,
                         sqlite3_stmt **st)
{
    int rc;

    NVR_ASSERT_NOT_LOOP();
    rc = sqlite3_prepare_v2(catalog__db(cat), sql, -1, st, NULL);
    return rc == SQLITE_OK ? 0 : catalog__sqlite_err(cat, rc, "prepare hold");
}

static bool holds_blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

int holds_add(struct catalog *cat, struct hold *h)
{
    sqlite3_stmt *st;
    int64_t camera_id;
    int err;

    if (!cat || !h || h->from_us >= h->to_us ||
        strnlen(h->reason, sizeof(h->reason)) == sizeof(h->reason) ||
        holds_blank(h->reason) ||
        strnlen(h->camera, sizeof(h->camera)) == sizeof(h->camera))
        return -EINVAL;
    err = catalog_camera_find(cat, h->camera, &camera_id);
    if (err < 0)
        return err;
    if (h->created_by[0] == '\0')
        holds__os_user(h->created_by, sizeof(h->created_by));
    if (h->created_us == 0)
        h->created_us = nvr_clock_wall_us();
    h->released_us = 0;
    h->released_by[0] = '\0';
    err = holds_prepare(cat,
                        "INSERT INTO holds(camera_id, from_us, to_us, reason,"
                        " created_us, created_by) VALUES(?1, ?2, ?3, ?4, ?5,"
                        " ?6)",
                        &st);
    if (err < 0)
        return err;
    sqlite3_bind_int64(st, 1, camera_id);
    sqlite3_bind_int64(st, 2, h->from_us);
    sqlite3_bind_int64(st, 3, h->to_us);
    sqlite3_bind_text(st, 4, h->reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, h->created_us);
    sqlite3_bind_text(st, 6, h->created_by, -1, SQLITE_STATIC);
    err = holds_step_done(cat, st, "add hold");
    if (err < 0)
        return err;
    h->id = sqlite3_last_insert_rowid(catalog__db(cat));
    err = holds_audit(cat, AUDIT_HOLD_ADD, h, h->created_by);
    if (err < 0) {
        /* A hold the audit log does not show must not take effect. */
        LOG_E("storage", "hold %" PRId64 ": audit entry failed, undone", h->id);
        if (holds_prepare(cat, "DELETE FROM holds WHERE id = ?1", &st) == 0) {
            sqlite3_bind_int64(st, 1, h->id);
            (void)holds_step_done(cat, st, "undo hold");
        }
        h->id = 0;
        return err;
    }
    LOG_I("storage", "hold %" PRId64 " added on camera %s by %s", h->id,
          h->camera, h->created_by);
    return 0;
}

static void holds_read(sqlite3_stmt *st, struct hold *h)
{
    const unsigned char *t;

    memset(h, 0, sizeof(*h));
    h->id = sqlite3_column_int64(st, 0);
    t = sqlite3_column_text(st, 1);
    snprintf(h->camera, sizeof(h->camera), "%s", t ? (const char *)t : "");
    h->from_us = sqlite3_column_int64(st, 2);
    h->to_us = sqlite3_column_int64(st, 3);
    t = sqlite3_column_text(st, 4);
    snprintf(h->reason, sizeof(h->reason), "%s", t ? (const char *)t : "");
    h->created_us = sqlite3_column_int64(st, 5);
    t = sqlite3_column_text(st, 6);
    snprintf(h->created_by, sizeof(h->created_by), "%s",
             t ? (const char *)t : "");
    h->released_us = sqlite3_column_int64(st, 7);
    t = sqlite3_column_text(st, 8);
    snprintf(h->released_by, sizeof(h->released_by), "%s",
             t ? (const char *)t : "");
}

#define HOLDS_COLUMNS                                                    \
    "h.id, c.name, h.from_us, h.to_us, h.reason, h.created_us,"          \
    " h.created_by, coalesce(h.released_us, 0), coalesce(h.released_by," \
    " '')"

static int holds_get(struct catalog *cat, int64_t id, struct hold *h)
{
    sqlite3_stmt *st;
    int rc, err;

    err = holds_prepare(cat,
                        "SELECT " HOLDS_COLUMNS " FROM holds h JOIN cameras c"
                        " ON c.id = h.camera_id WHERE h.id = ?1",
                        &st);
    if (err < 0)
        return err;
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        holds_read(st, h);
        err = 0;
    } else if (rc == SQLITE_DONE) {
        err = -ENOENT;
    } else {
        err = catalog__sqlite_err(cat, rc, "find hold");
    }
    sqlite3_finalize(st);
    return err;
}

static int holds_set_released(struct catalog *cat, int64_t id, int64_t when,
                              const char *user)
{
    sqlite3_stmt *st;
    int err;

    err = holds_prepare(cat,
                        "UPDATE holds SET released_us = ?2, released_by = ?3"
                        " WHERE id = ?1",
                        &st);
    if (err < 0)
        return err;
    sqlite3_bind_int64(st, 1, id);
    if (when) {
        sqlite3_bind_int64(st, 2, when);
        sqlite3_bind_text(st, 3, user, -1, SQLITE_STATIC);
    }
    return holds_step_done(cat, st, "release hold");
}

int holds_release(struct catalog *cat, int64_t id, const char *user)
{
    char who[64];
    struct hold h = {0};
    int err;

    if (!cat || id <= 0)
        return -EINVAL;
    err = holds_get(cat, id, &h);
    if (err < 0)
        return err;
    if (h.released_us != 0)
        return -EALREADY;
    if (user && *user)
        snprintf(who, sizeof(who), "%s", user);
    else
        holds__os_user(who, sizeof(who));
    err = holds_set_released(cat, id, nvr_clock_wall_us(), who);
    if (err < 0)
        return err;
    err = holds_audit(cat, AUDIT_HOLD_RELEASE, &h, who);
    if (err < 0) {
        LOG_E("storage", "hold %" PRId64 ": audit entry failed, still held",
              id);
        (void)holds_set_released(cat, id, 0, NULL);
        return err;
    }
    LOG_I("storage", "hold %" PRId64 " on camera %s released by %s", id,
          h.camera, who);
    return 0;
}

int holds_list(struct catalog *cat, const char *camera, int64_t from_us,
               int64_t to_us, int active_only, holds_cb cb, void *user)
{
    struct hold h;
    sqlite3_stmt *st;
    int rc, err;

    if (!cat || !cb)
        return -EINVAL;
    err =
        holds_prepare(cat,
                      "SELECT " HOLDS_COLUMNS " FROM holds h JOIN cameras c"
                      " ON c.id = h.camera_id WHERE (?1 IS NULL OR c.name = ?1)"
                      " AND h.from_us < ?3 AND h.to_us > ?2"
                      " AND (?4 = 0 OR h.released_us IS NULL)"
                      " ORDER BY c.name, h.from_us, h.id",
                      &st);
    if (err < 0)
        return err;
    if (camera)
        sqlite3_bind_text(st, 1, camera, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, from_us);
    sqlite3_bind_int64(st, 3, to_us);
    sqlite3_bind_int(st, 4, active_only != 0);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        holds_read(st, &h);
        if (cb(user, &h) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    err = rc == SQLITE_DONE ? 0 : catalog__sqlite_err(cat, rc, "list holds");
    sqlite3_finalize(st);
    return err;
}

int holds_covers(struct catalog *cat, int64_t camera_id, int64_t from_us,
                 int64_t to_us)
{
    sqlite3_stmt *st;
    int rc, err;

    err = holds_prepare(cat,
                        "SELECT 1 FROM holds WHERE camera_id = ?1"
                        " AND released_us IS NULL AND from_us < ?3"
                        " AND to_us > ?2 LIMIT 1",
                        &st);
    if (err < 0)
        return err;
    sqlite3_bind_int64(st, 1, camera_id);
    sqlite3_bind_int64(st, 2, from_us);
    sqlite3_bind_int64(st, 3, to_us);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        err = 1;
    else if (rc == SQLITE_DONE)
        err = 0;
    else
        err = catalog__sqlite_err(cat, rc, "check holds");
    sqlite3_finalize(st);
    return err;
}
