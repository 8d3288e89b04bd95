/* SPDX-License-Identifier: MIT */
/*
 * The catalog queries of a retention pass (storage/retention.c) and of
 * the crash-safe deletion it shares with start-up recovery: candidates
 * read oldest first in batches with keyset pagination on (start_us, id),
 * a batch marked DELETING in one durable transaction that also checks the
 * holds, and the rows of deleted files removed in one transaction.
 *
 * Same thread rules as the catalog: never on the loop thread. Errors are
 * catalog errors (-EIO, -EBUSY, -ENOSPC, -ENOMEM).
 */
#ifndef NVR_STORAGE_CATALOG_RETENTION_H
#define NVR_STORAGE_CATALOG_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvr/base/compiler.h"

struct catalog;
struct catalog_segment;

/* Which candidates catalog_retention_fetch() reads. */
enum catalog_retention_query {
    /* One camera's CLOSED and MISSING rows that ended by before_us
     * (index segments_camera_start). */
    CATALOG_RETENTION_AGED,
    /* One camera's CLOSED rows that start before before_us. */
    CATALOG_RETENTION_CLOSED,
    /* Every camera's CLOSED rows that start before before_us (index
     * segments_start); camera_id is ignored. */
    CATALOG_RETENTION_GLOBAL,
};

/*
 * Reads up to max candidates of `query`, oldest first (start_us, then
 * id), that come after the key (after_start_us, after_id) into out[].
 * Returns how many, or a catalog error.
 */
NVR_NODISCARD int
catalog_retention_fetch(struct catalog *cat, enum catalog_retention_query query,
                        int64_t camera_id, int64_t before_us,
                        int64_t after_start_us, int64_t after_id,
                        struct catalog_segment *out, size_t max);

/* Reads up to max rows left DELETING into out[] (by camera, start_us,
 * id). Returns how many, or a catalog error. */
NVR_NODISCARD int catalog_retention_deleting(struct catalog *cat,
                                             struct catalog_segment *out,
                                             size_t max);

/* What catalog_retention_mark() did with one candidate. */
enum catalog_retention_mark {
    CATALOG_RETENTION_KEPT,    /* changed by someone else meanwhile */
    CATALOG_RETENTION_HELD,    /* an active hold covers it: kept */
    CATALOG_RETENTION_MARKED,  /* CLOSED -> DELETING */
    CATALOG_RETENTION_DROPPED, /* a MISSING row, deleted (no file) */
};

/*
 * In one IMMEDIATE transaction committed with synchronous=FULL (so the
 * marks are on disk before any file goes): checks each of rows[0..n)
 * against the active holds (a segment of no length covers its start
 * instant), deletes the MISSING rows not held and marks the CLOSED ones
 * DELETING. out[i] says what became of rows[i]. On an error the
 * transaction is rolled back and out[] covers the rows checked before it
 * (and KEPT after). Returns 0 or a catalog error.
 */
NVR_NODISCARD int catalog_retention_mark(struct catalog *cat,
                                         const struct catalog_segment *rows,
                                         size_t n,
                                         enum catalog_retention_mark *out);

/*
 * Deletes, in one transaction, the rows[i] still DELETING whose gone[i]
 * is set (their files are unlinked and that is durable). Sets *deleted to
 * the rows deleted (0 on an error: rolled back). 0 or a catalog error.
 */
NVR_NODISCARD int catalog_retention_drop(struct catalog *cat,
                                         const struct catalog_segment *rows,
                                         const bool *gone, size_t n,
                                         int64_t *deleted);

/* The bytes of a camera's usable (OPEN or CLOSED) segments into *sum.
 * 0 or a catalog error. */
NVR_NODISCARD int catalog_retention_bytes(struct catalog *cat,
                                          int64_t camera_id, int64_t *sum);

#endif
