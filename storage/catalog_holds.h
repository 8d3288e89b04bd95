/* SPDX-License-Identifier: MIT */
/*
 * The catalog's `holds` table: the rows behind storage/holds.c, which
 * decides what a valid hold is and writes the audit entries. A hold row
 * is never deleted once its audit entry exists: releasing stamps who and
 * when.
 *
 * Same thread rules as the catalog: never on the loop thread. Errors are
 * catalog errors (-EIO, -EBUSY, -ENOSPC, -ENOMEM).
 */
#ifndef NVR_STORAGE_CATALOG_HOLDS_H
#define NVR_STORAGE_CATALOG_HOLDS_H

#include <stdint.h>

#include "nvr/base/compiler.h"
#include "storage/holds.h"

struct catalog;

/* Inserts h (its camera given as camera_id; from_us, to_us, reason,
 * created_us, created_by) as an active hold and sets h->id. 0 or a
 * catalog error. */
NVR_NODISCARD int catalog_holds_insert(struct catalog *cat, int64_t camera_id,
                                       struct hold *h);

/* Deletes hold id (only to undo an insert whose audit entry failed).
 * 0 or a catalog error, already logged: an undo may ignore it. */
int catalog_holds_delete(struct catalog *cat, int64_t id);

/* Reads hold id into *out. 0, -ENOENT or a catalog error. */
NVR_NODISCARD int catalog_holds_get(struct catalog *cat, int64_t id,
                                    struct hold *out);

/* Marks hold id released at released_us by `user` (borrowed), or, with
 * released_us 0, active again (an undo, which may ignore the result). 0 or
 * a catalog error. */
int catalog_holds_set_released(struct catalog *cat, int64_t id,
                               int64_t released_us, const char *user);

/* As holds_list() (holds.h): holds of `camera` (NULL: all) overlapping
 * [from_us, to_us), active only when active_only, ordered by camera,
 * from_us, id. cb returns nonzero to stop. 0 or a catalog error. */
NVR_NODISCARD int catalog_holds_list(struct catalog *cat, const char *camera,
                                     int64_t from_us, int64_t to_us,
                                     int active_only, holds_cb cb, void *user);

/* 1 if an active hold of camera_id overlaps [from_us, to_us), 0 if none,
 * or a negative catalog error. */
int catalog_holds_covers(struct catalog *cat, int64_t camera_id,
                         int64_t from_us, int64_t to_us);

#endif
