/* SPDX-License-Identifier: MIT */
/*
 * Legal holds: ranges of a camera's footage that retention must never
 * delete, whatever the rule (days, bytes or min_free). Every add and
 * release is written to the audit log.
 *
 * Same thread rules as the catalog: never on the loop thread.
 */
#ifndef NVR_STORAGE_HOLDS_H
#define NVR_STORAGE_HOLDS_H

#include <stddef.h>
#include <stdint.h>

#include "nvr/base/compiler.h"

struct catalog;

struct hold {
    int64_t id;
    char camera[64];
    int64_t from_us, to_us; /* UTC microseconds, from < to */
    char reason[512];
    int64_t created_us;
    char created_by[64]; /* OS user */
    int64_t released_us; /* 0 while active */
    char released_by[64];
};

/*
 * Adds a hold on camera's footage in [from_us, to_us) and an audit entry.
 * Sets h->id. Returns 0, -ENOENT (unknown camera), -EINVAL (empty reason or
 * from >= to) or a catalog error.
 */
NVR_NODISCARD int holds_add(struct catalog *cat, struct hold *h);

/* Releases hold id (stays listed, marked released) with an audit entry.
 * Returns 0, -ENOENT, -EALREADY (already released) or a catalog error. */
NVR_NODISCARD int holds_release(struct catalog *cat, int64_t id,
                                const char *user);

typedef int (*holds_cb)(void *user, const struct hold *h);

/* Lists holds (active only, or all), optionally of one camera (NULL: all)
 * and overlapping [from_us, to_us). Ordered by camera, from_us. */
NVR_NODISCARD int holds_list(struct catalog *cat, const char *camera,
                             int64_t from_us, int64_t to_us, int active_only,
                             holds_cb cb, void *user);

/* 1 if an active hold of camera_id overlaps [from_us, to_us), 0 if none,
 * or a negative catalog error. */
int holds_covers(struct catalog *cat, int64_t camera_id, int64_t from_us,
                 int64_t to_us);

#endif
