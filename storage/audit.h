/* SPDX-License-Identifier: MIT */
/*
 * The tamper-evident audit log: an append-only catalog table where every
 * entry carries the SHA-256 of the one before it (a hash chain), so an
 * edited, deleted, inserted or reordered entry is detected by
 * audit_verify(). Entries record recorder start/stop, config changes,
 * cameras added/removed, playback sessions, exports, holds, retention
 * passes and storage verification.
 *
 * Same thread rules as the catalog: never on the loop thread.
 */
#ifndef NVR_STORAGE_AUDIT_H
#define NVR_STORAGE_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "nvr/base/compiler.h"

struct catalog;

/* Entry kinds (the `kind` text). */
#define AUDIT_RECORDER_START "recorder_start"
#define AUDIT_RECORDER_STOP  "recorder_stop"
#define AUDIT_CONFIG_CHANGE  "config_change"
#define AUDIT_CAMERA_ADDED   "camera_added"
#define AUDIT_CAMERA_REMOVED "camera_removed"
#define AUDIT_PLAYBACK       "playback"
#define AUDIT_EXPORT         "export"
#define AUDIT_HOLD_ADD       "hold_add"
#define AUDIT_HOLD_RELEASE   "hold_release"
#define AUDIT_RETENTION      "retention"
#define AUDIT_VERIFY_STORAGE "verify_storage"
#define AUDIT_VIEW           "view"           /* status, recordings, log */
#define AUDIT_REFUSED        "access_refused" /* an [access] rule said no */

struct audit_entry {
    int64_t id;         /* set by audit_append */
    int64_t time_us;    /* 0: now */
    char user[64];      /* OS user; "" : filled from the process */
    char host[128];     /* host name; "" : filled from the process */
    char kind[32];      /* one of the AUDIT_* kinds */
    char camera[64];    /* "" if not about one camera */
    int64_t from_us;    /* range the entry is about; 0 if none */
    int64_t to_us;      /* 0 if none */
    char detail[1024];  /* free text or compact JSON; no credentials */
    char prev_hash[65]; /* set by audit_append: hash of the previous entry */
    char hash[65];      /* set by audit_append: this entry's hash */
};

/*
 * Appends e in one transaction (BEGIN IMMEDIATE), filling time, user, host,
 * id, prev_hash and hash. Returns 0, -EINVAL (empty kind), or a catalog
 * error (-EIO, -EBUSY, -ENOSPC).
 */
NVR_NODISCARD int audit_append(struct catalog *cat, struct audit_entry *e);

/* Called per entry in id order; return nonzero to stop. e is borrowed. */
typedef int (*audit_cb)(void *user, const struct audit_entry *e);

/*
 * Lists entries, oldest first, optionally only those about `camera` (NULL:
 * all) and with time in [from_us, to_us]. Returns 0 or a catalog error.
 */
NVR_NODISCARD int audit_list(struct catalog *cat, const char *camera,
                             int64_t from_us, int64_t to_us, audit_cb cb,
                             void *user);

/*
 * Walks the whole chain. Returns 0 if intact; -EBADMSG if not, with
 * *first_bad_id set to the first entry that does not verify (or the id
 * after which entries are missing) and `why` saying what is wrong; or a
 * catalog error.
 */
NVR_NODISCARD int audit_verify(struct catalog *cat, int64_t *first_bad_id,
                               char *why, size_t why_size);

/*
 * The hash of e as audit.c defines it (its id, time_us, user, host, kind,
 * camera, from_us, to_us, detail and prev_hash) into out[65], lowercase
 * hex. Returns 0 or -ENOMEM. Any thread.
 */
NVR_NODISCARD int audit_entry_hash(const struct audit_entry *e, char out[65]);

/* The hash of the newest entry into out[65] (64 zeros for an empty log),
 * and its id in *id (0 if empty). Returns 0 or a catalog error. */
NVR_NODISCARD int audit_head(struct catalog *cat, int64_t *id, char out[65]);

#endif
