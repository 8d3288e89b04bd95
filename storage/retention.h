/* SPDX-License-Identifier: MIT */
/*
 * Retention: one pass that deletes the oldest footage the config says must
 * go. Rules, in order: per camera, segments that ended more than
 * retain_days ago; per camera, the oldest segments while its footage is
 * over max_bytes; storage-wide, the oldest segments of any camera while the
 * free space is under min_free. A segment covered by an active legal hold
 * (storage/holds.h) is never deleted by any rule, nor is a segment still
 * being written (status OPEN).
 *
 * Deletion is crash-safe: a batch of rows is marked DELETING and committed
 * (WAL synced) before any file is unlinked, then the directories are
 * fsynced, then the rows are deleted. A kill at any point leaves rows that
 * are DELETING (finished by the next pass or by start-up recovery), never a
 * CLOSED row without its file or a file without its row.
 *
 * Blocking (SQLite, unlink, fsync): never on the loop thread.
 */
#ifndef NVR_STORAGE_RETENTION_H
#define NVR_STORAGE_RETENTION_H

#include <stdatomic.h>
#include <stdint.h>

#include "nvr/base/compiler.h"

struct catalog_segment;

/* Default for retain_days: 31 days, the period UK police guidance for CCTV
 * systems recommends keeping footage unless it is needed as evidence. */
#define RETENTION_DEFAULT_DAYS 31

enum retention_rule {
    RETENTION_RULE_DAYS = 0,     /* older than retain_days */
    RETENTION_RULE_BYTES = 1,    /* camera over max_bytes */
    RETENTION_RULE_MIN_FREE = 2, /* storage under min_free */
};

struct retention_camera {
    const char *name;  /* borrowed */
    int retain_days;   /* 0: no age limit */
    int64_t max_bytes; /* 0: no size limit */
};

/* One segment deleted (or, in a dry run, that would be). Borrowed for the
 * call. `camera` is the camera's name. */
typedef void (*retention_item_cb)(void *user, const char *camera,
                                  const struct catalog_segment *seg,
                                  enum retention_rule rule);

/* Progress: segments handled so far and the current rule. */
typedef void (*retention_progress_cb)(void *user, int64_t deleted,
                                      int64_t deleted_bytes,
                                      enum retention_rule rule);

struct retention_config {
    const char *storage_dir;                /* borrowed */
    const char *catalog_path;               /* borrowed */
    const struct retention_camera *cameras; /* borrowed; n_cameras */
    int n_cameras;
    /* For catalogued cameras that are not (or no longer) in cameras[]:
     * their footage still ages out. 0: kept. */
    int default_retain_days;
    /* min_free: a percentage of the file system's size when
     * min_free_percent > 0, else bytes (0: no free-space rule). */
    double min_free_percent;
    int64_t min_free_bytes;
    /* Room the min_free rule makes on top of min_free (the recorder's
     * catalog reserve, while it is released to make room), bytes. */
    int64_t extra_free_bytes;
    int dry_run;                       /* report, change nothing */
    int64_t now_us;                    /* 0: the wall clock */
    const atomic_int *cancel;          /* may be NULL; nonzero stops the pass
                                          between batches with -ECANCELED */
    retention_item_cb on_item;         /* may be NULL */
    retention_progress_cb on_progress; /* may be NULL; once per batch */
    void *user;
};

struct retention_report {
    int64_t deleted;         /* segments deleted (would be, dry run) */
    int64_t deleted_bytes;   /* their bytes */
    int64_t by_rule[3];      /* deleted per enum retention_rule */
    int64_t missing_rows;    /* rows of MISSING files dropped (no bytes) */
    int64_t held;            /* segments a rule chose that a hold kept */
    int64_t interrupted;     /* DELETING rows of an earlier pass finished */
    int64_t refused;         /* rows whose path leads outside the storage:
                                kept, file untouched, logged */
    int64_t free_bytes;      /* free space at the end (-1 if unknown) */
    int64_t min_free_target; /* bytes min_free asks for (0 if no rule) */
    int64_t min_free_work;   /* what the pass worked to: min_free_target
                                plus extra_free_bytes */
    int min_free_unmet;      /* 1: still under min_free after the pass */
    int min_free_only_held;  /* 1: and what is left is held or recording */
};

/*
 * Runs one pass and fills *rep (also on failure, with what was done).
 * Opens its own catalog connection. Returns 0, -ECANCELED, or a catalog
 * or file-system error. A min_free that cannot be met is not an error:
 * rep->min_free_unmet says so (and it is logged at error level).
 */
NVR_NODISCARD int retention_run(const struct retention_config *cfg,
                                struct retention_report *rep);

/* "days", "bytes" or "min_free". */
const char *retention_rule_name(enum retention_rule rule);

#endif
