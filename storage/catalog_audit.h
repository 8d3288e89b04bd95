/* SPDX-License-Identifier: MIT */
/*
 * The catalog's `audit` table: the rows behind storage/audit.c, which
 * owns the hash chain (what each hash covers and how it is checked). This
 * file only stores and reads rows, in the transactions the chain needs.
 *
 * Same thread rules as the catalog: never on the loop thread. Errors are
 * catalog errors (-EIO, -EBUSY, -ENOSPC, -ENOMEM).
 */
#ifndef NVR_STORAGE_CATALOG_AUDIT_H
#define NVR_STORAGE_CATALOG_AUDIT_H

#include <stdint.h>

#include "nvr/base/compiler.h"
#include "storage/audit.h"

struct catalog;

/* Fills e->hash from e's other fields; 0 or a negative errno. */
typedef int (*catalog_audit_seal_cb)(struct audit_entry *e);

/*
 * In one IMMEDIATE transaction: sets e->id to one past the newest row's
 * id and e->prev_hash to that row's hash (64 zeros for the first row),
 * calls seal(e), and inserts e (an empty camera and a zero from_us/to_us
 * are stored as NULL). e's text fields must be terminated. On failure
 * nothing is stored. Returns 0, what seal returned, or a catalog error.
 */
NVR_NODISCARD int catalog_audit_append(struct catalog *cat,
                                       struct audit_entry *e,
                                       catalog_audit_seal_cb seal);

/* The newest row's id (0 if none) and hash into out[65] (64 zeros if
 * none). Returns 0 or a catalog error. */
NVR_NODISCARD int catalog_audit_head(struct catalog *cat, int64_t *id,
                                     char out[65]);

/*
 * Calls cb for each row in id order, only those about `camera` (NULL: all)
 * with time_us in [from_us, to_us]. A text longer than its field is cut.
 * cb returns nonzero to stop. Returns 0 or a catalog error.
 */
NVR_NODISCARD int catalog_audit_list(struct catalog *cat, const char *camera,
                                     int64_t from_us, int64_t to_us,
                                     audit_cb cb, void *user);

/* Called per row; `oversized` is 1 when a text column did not fit its
 * field of struct audit_entry (and was cut). e is borrowed. */
typedef int (*catalog_audit_row_cb)(void *user, const struct audit_entry *e,
                                    int oversized);

/*
 * Calls cb for every row in id order inside one read transaction, so an
 * append by another connection cannot show up halfway. A negative return
 * from cb stops the walk and is returned; a positive one stops it and 0
 * is returned. Otherwise 0 or a catalog error.
 */
NVR_NODISCARD int catalog_audit_walk(struct catalog *cat,
                                     catalog_audit_row_cb cb, void *user);

#endif
