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

#include "nvr/base/clock.h"
#include "nvr/base/log.h"
#include "nvr/base/thread.h"
#include "nvr/base/user.h"
#include "storage/catalog_audit.h"
#include "storage/sha256.h"

#define AUDIT_ZERO_HASH \
    "0000000000000000000000000000000000000000000000000000000000000000"

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

/* catalog_audit_seal_cb: the chain's hash of e, computed inside the
 * append's transaction once id and prev_hash are known. */
static int audit_seal(struct audit_entry *e)
{
    return audit_entry_hash(e, e->hash);
}

int audit_append(struct catalog *cat, struct audit_entry *e)
{
    struct audit_entry tmp;
    int err;

    NVR_ASSERT_NOT_LOOP();
    if (!cat || !e || !e->kind[0])
        return -EINVAL;
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

    err = catalog_audit_append(cat, &tmp, audit_seal);
    if (err < 0)
        return err;
    *e = tmp;
    return 0;
}

int audit_list(struct catalog *cat, const char *camera, int64_t from_us,
               int64_t to_us, audit_cb cb, void *user)
{
    NVR_ASSERT_NOT_LOOP();
    if (!cat || !cb)
        return -EINVAL;
    return catalog_audit_list(cat, camera, from_us, to_us, cb, user);
}

/* The walk of audit_verify(): the row before the current one, and where
 * to report the first bad row. */
struct audit_walk {
    int64_t prev_id;
    char prev_hash[65];
    int64_t *first_bad_id;
    char *why;
    size_t why_size;
};

/* In audit_check_row: reports entry `id` as the first bad one, with a
 * message. why is never NULL there (audit_verify passes a local buffer). */
#define AUDIT_BAD(id, ...)                                                \
    (snprintf(w->why, w->why_size, __VA_ARGS__), *w->first_bad_id = (id), \
     -EBADMSG)

/* Checks one row against the one before it (w->prev_id, w->prev_hash). */
static int audit_check_row(const struct audit_walk *w,
                           const struct audit_entry *e, int oversized)
{
    int64_t prev_id = w->prev_id;
    const char *prev_hash = w->prev_hash;
    char h[65];
    int err;

    if (e->id != prev_id + 1) {
        if (e->id > prev_id + 1 && prev_id == 0)
            return AUDIT_BAD(0,
                             "entries missing before entry %lld: the log "
                             "starts at id %lld, not 1",
                             (long long)e->id, (long long)e->id);
        if (e->id > prev_id + 1)
            return AUDIT_BAD(prev_id,
                             "entries missing after entry %lld: the next "
                             "entry is %lld (%lld deleted)",
                             (long long)prev_id, (long long)e->id,
                             (long long)(e->id - prev_id - 1));
        return AUDIT_BAD(e->id, "entry %lld is out of order after entry %lld",
                         (long long)e->id, (long long)prev_id);
    }
    if (oversized)
        return AUDIT_BAD(e->id,
                         "entry %lld has a field longer than any entry "
                         "nvr writes",
                         (long long)e->id);
    if (strcmp(e->prev_hash, prev_hash) != 0)
        return AUDIT_BAD(e->id,
                         "entry %lld does not follow entry %lld: its "
                         "prev_hash %.16s... is not that entry's hash "
                         "%.16s... (an entry was removed, inserted or "
                         "reordered)",
                         (long long)e->id, (long long)prev_id, e->prev_hash,
                         prev_hash);
    err = audit_entry_hash(e, h);
    if (err < 0)
        return err;
    if (strcmp(h, e->hash) != 0)
        return AUDIT_BAD(e->id,
                         "entry %lld was altered: its fields hash to "
                         "%.16s... but it records %.16s...",
                         (long long)e->id, h, e->hash);
    return 0;
}

/* catalog_audit_row_cb of audit_verify(). */
static int audit_walk_row(void *user, const struct audit_entry *e,
                          int oversized)
{
    struct audit_walk *w = user;
    int err = audit_check_row(w, e, oversized);

    if (err < 0)
        return err;
    w->prev_id = e->id;
    snprintf(w->prev_hash, sizeof(w->prev_hash), "%s", e->hash);
    return 0;
}

int audit_verify(struct catalog *cat, int64_t *first_bad_id, char *why,
                 size_t why_size)
{
    char msg[512] = "";
    int64_t bad = 0;
    struct audit_walk w = {
        .prev_hash = AUDIT_ZERO_HASH,
        .first_bad_id = &bad,
        .why = msg,
        .why_size = sizeof(msg),
    };
    int err;

    NVR_ASSERT_NOT_LOOP();
    err = cat ? catalog_audit_walk(cat, audit_walk_row, &w) : -EINVAL;
    if (first_bad_id)
        *first_bad_id = bad;
    if (why && why_size > 0)
        snprintf(why, why_size, "%s", msg);
    return err;
}

int audit_head(struct catalog *cat, int64_t *id, char out[65])
{
    NVR_ASSERT_NOT_LOOP();
    if (!cat || !id || !out)
        return -EINVAL;
    return catalog_audit_head(cat, id, out);
}
