/* SPDX-License-Identifier: MIT */
/*
 * One retention pass (see retention.h) on its own catalog connection.
 *
 * Candidates are read oldest first in batches with keyset pagination on
 * (start_us, id), so a pass costs what it deletes plus the held rows it
 * steps over, not the size of the catalog: per camera through the index
 * segments_camera_start, storage-wide through segments_start.
 *
 * Each batch is deleted in three durable steps (the order is what makes a
 * kill at any moment safe):
 *  1. in one IMMEDIATE transaction, each candidate is checked against the
 *     active holds and, if not held, marked DELETING; the commit runs with
 *     synchronous=FULL so the marks reach the disk before any file goes;
 *  2. the files are unlinked and each directory is fsynced once;
 *  3. the rows are deleted in one transaction.
 * Killed after 1, the next pass or start-up recovery redoes 2 and 3 for
 * every DELETING row (unlinking a file already gone is fine). A hold added
 * concurrently either commits before step 1 (and is seen) or after it
 * (and the segments already marked were lawfully due).
 */
#include "config.h"
#include "storage/retention.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nvr/base/clock.h"
#include "nvr/base/compiler.h"
#include "nvr/base/err.h"
#include "nvr/base/escape.h"
#include "nvr/base/json.h"
#include "nvr/base/log.h"
#include "nvr/base/thread.h"
#include "nvr/base/timefmt.h"
#include "storage/audit.h"
#include "storage/catalog.h"
#include "storage/catalog_holds.h"
#include "storage/catalog_retention.h"
#include "storage/fsops.h"
#include "storage/storage_int.h"
#include "storage/storage_path.h"

/* Segments marked, unlinked and deleted per transaction: big enough that
 * a pass over a day of footage takes few commits, small enough that the
 * write lock is never held long enough to stall a segment writer. */
#define RETENTION_BATCH    256
#define RETENTION_MAX_PATH 1024
/* Distinct directories remembered for one fsync each per batch. */
#define RETENTION_MAX_DIRS 8
#define RETENTION_US_DAY   (86400LL * 1000000LL)
/* Date directories are removed once empty and at least this old, so the
 * writer never races a removal of the directory it is writing into. */
#define RETENTION_RMDIR_MIN_AGE_DAYS 2

struct ret_cam {
    int64_t id;
    char name[64];
    int retain_days;
    int64_t max_bytes;
    int64_t dry_bytes; /* dry run: bytes an earlier rule would delete */
};

/* Dry run: the ids an earlier rule would already delete, so that a later
 * rule neither counts them twice nor counts on their bytes again. An open
 * addressing set; 0 marks a free slot (ids start at 1). */
struct ret_idset {
    int64_t *v;
    size_t cap, n;
};

struct ret_ctx {
    const struct retention_config *cfg;
    struct retention_report *rep;
    struct catalog *cat;
    int64_t now_us;
    struct ret_cam *cams;
    size_t n_cams, cap_cams;
    struct ret_idset dry;
    int64_t dry_bytes; /* dry run: total bytes that would be deleted */
    struct catalog_segment batch[RETENTION_BATCH];  /* candidates */
    struct catalog_segment marked[RETENTION_BATCH]; /* DELETING now */
};

const char *retention_rule_name(enum retention_rule rule)
{
    switch (rule) {
    case RETENTION_RULE_DAYS:
        return "days";
    case RETENTION_RULE_BYTES:
        return "bytes";
    case RETENTION_RULE_MIN_FREE:
        return "min_free";
    }
    return "?";
}

/* Fsyncs each directory in dirs[0..n) once. */
static int ret_sync_dirs(char dirs[][RETENTION_MAX_PATH], int n)
{
    int err = 0;

    for (int i = 0; i < n; i++) {
        int r = fsops_fsync_dir(dirs[i]);
        if (r < 0 && r != -ENOENT && err == 0)
            err = r;
    }
    return err;
}

/* Removes an emptied date directory <storage>/<camera>/<YYYY-MM-DD> once
 * it is old enough that no writer can be about to use it, then makes that
 * durable. Failing (not empty, still in use) is normal and silent. */
static void ret_rmdir_old(const char *dir, int64_t now_us)
{
    const char *base = strrchr(dir, '/');
    char limit[32], parent[RETENTION_MAX_PATH];

    if (!base || strlen(base + 1) != 10)
        return;
    nvr_time_format_utc_date(now_us - (int64_t)RETENTION_RMDIR_MIN_AGE_DAYS *
                                          86400 * 1000000,
                             limit, sizeof(limit));
    if (strcmp(base + 1, limit) >= 0 || rmdir(dir) != 0)
        return;
    snprintf(parent, sizeof(parent), "%.*s", (int)(base - dir), dir);
    /* A lost rmdir only leaves the directory empty: nothing to report. */
    if (fsops_fsync_dir(parent) < 0)
        return;
}

/* A row whose path would lead outside the storage: its file is not
 * touched, its row goes back to CLOSED and the operator is told. */
static int ret_refuse(struct catalog *cat, const struct catalog_segment *row,
                      int why)
{
    char shown[NVR_ESCAPE_SIZE(sizeof(row->path))];

    LOG_E("storage",
          "retention: refusing segment %" PRId64 " of the catalog: its path "
          "'%s' leads outside the storage (%s); no file deleted",
          row->id, nvr_escape_text(row->path, shown, sizeof(shown)),
          storage_path_why(why));
    return catalog_segment_set_status(cat, row->id, CATALOG_SEG_CLOSED);
}

int retention__delete_marked(struct catalog *cat, const char *storage_dir,
                             const struct catalog_segment *rows, size_t n,
                             struct retention__deleted *out)
{
    char dirs[RETENTION_MAX_DIRS][RETENTION_MAX_PATH];
    bool *gone = calloc(n ? n : 1, sizeof(*gone));
    int n_dirs = 0, err = 0, root;
    int64_t count = 0;

    NVR_ASSERT_NOT_LOOP();
    out->done = 0;
    out->refused = 0;
    if (!gone)
        return -ENOMEM;
    root = storage_path_open_root(storage_dir);
    if (root < 0) {
        free(gone);
        return root;
    }
    for (size_t i = 0; i < n; i++) {
        char path[RETENTION_MAX_PATH];
        char *slash;
        int r;

        if (snprintf(path, sizeof(path), "%s/%s", storage_dir, rows[i].path) >=
            (int)sizeof(path))
            continue;
        r = storage_path_unlink(root, rows[i].path);
        if (storage_path_refused(r)) {
            out->refused++;
            r = ret_refuse(cat, &rows[i], r);
            if (r < 0 && err == 0)
                err = r;
            continue;
        }
        if (r < 0 && r != -ENOENT) {
            LOG_E("storage", "retention: cannot delete %s: %s; kept",
                  rows[i].path, nvr_strerror(r));
            r = catalog_segment_set_status(cat, rows[i].id, CATALOG_SEG_CLOSED);
            if (r < 0 && err == 0)
                err = r;
            continue;
        }
        gone[i] = true;
        slash = strrchr(path, '/');
        *slash = '\0';
        if (n_dirs > 0 && strcmp(dirs[n_dirs - 1], path) == 0)
            continue;
        if (n_dirs == RETENTION_MAX_DIRS) {
            r = ret_sync_dirs(dirs, n_dirs);
            if (r < 0 && err == 0)
                err = r;
            n_dirs = 0;
        }
        snprintf(dirs[n_dirs++], RETENTION_MAX_PATH, "%s", path);
    }
    /* The unlinks must be durable before the rows go: a row deleted while
     * its file could come back after a power cut would leave a file the
     * catalog does not know. */
    {
        int r = ret_sync_dirs(dirs, n_dirs);
        if (r < 0 && err == 0)
            err = r;
    }
    if (err < 0)
        goto out; /* rows stay DELETING: the next pass finishes them */
    err = catalog_retention_drop(cat, rows, gone, n, &count);
    if (err == 0) {
        int64_t now = nvr_clock_wall_us();
        for (int i = 0; i < n_dirs; i++)
            ret_rmdir_old(dirs[i], now);
    }
out:
    close(root);
    if (out->gone)
        memcpy(out->gone, gone, n * sizeof(*gone));
    free(gone);
    out->done = count;
    return err;
}

int retention__finish_deleting(struct catalog *cat, const char *storage_dir,
                               int64_t *done, int64_t *refused)
{
    struct catalog_segment *rows = calloc(RETENTION_BATCH, sizeof(*rows));
    int64_t total = 0;
    int err = 0;

    NVR_ASSERT_NOT_LOOP();
    if (!rows)
        return -ENOMEM;
    *refused = 0;
    while (err == 0) {
        struct retention__deleted d = {0};
        int n = catalog_retention_deleting(cat, rows, RETENTION_BATCH);

        if (n <= 0) {
            err = n;
            break;
        }
        err = retention__delete_marked(cat, storage_dir, rows, (size_t)n, &d);
        total += d.done;
        *refused += d.refused;
        if (err == 0 && d.done == 0) {
            /* Every file of the batch failed to go and its row went back
             * to CLOSED; nothing more to do now. */
            break;
        }
    }
    free(rows);
    *done = total;
    return err;
}

/* ---- one pass ---- */

static int ret_cam_cb(void *user, int64_t id, const char *name)
{
    struct ret_ctx *x = user;
    const struct retention_config *cfg = x->cfg;
    struct ret_cam *c;

    if (x->n_cams == x->cap_cams) {
        size_t cap = x->cap_cams ? x->cap_cams * 2 : 16;
        void *p = realloc(x->cams, cap * sizeof(*x->cams));
        if (!p)
            return 1;
        x->cams = p;
        x->cap_cams = cap;
    }
    c = &x->cams[x->n_cams++];
    memset(c, 0, sizeof(*c));
    c->id = id;
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->retain_days = cfg->default_retain_days;
    for (int i = 0; i < cfg->n_cameras; i++) {
        if (strcmp(cfg->cameras[i].name, name) == 0) {
            c->retain_days = cfg->cameras[i].retain_days;
            c->max_bytes = cfg->cameras[i].max_bytes;
        }
    }
    return 0;
}

static struct ret_cam *ret_cam_find(const struct ret_ctx *x, int64_t id)
{
    for (size_t i = 0; i < x->n_cams; i++)
        if (x->cams[i].id == id)
            return &x->cams[i];
    return NULL;
}

static const char *ret_cam_name(const struct ret_ctx *x, int64_t id)
{
    const struct ret_cam *c = ret_cam_find(x, id);

    return c ? c->name : "";
}

static size_t ret_idset_slot(const struct ret_idset *s, int64_t id)
{
    size_t i = (size_t)((uint64_t)id * UINT64_C(0x9e3779b97f4a7c15) >> 7) &
               (s->cap - 1);

    while (s->v[i] != 0 && s->v[i] != id)
        i = (i + 1) & (s->cap - 1);
    return i;
}

/* Adds id; returns 1 if it was new, 0 if present, -ENOMEM. */
static int ret_idset_add(struct ret_idset *s, int64_t id)
{
    if (2 * (s->n + 1) > s->cap) {
        struct ret_idset bigger = {.cap = s->cap ? s->cap * 2 : 1024};

        bigger.v = calloc(bigger.cap, sizeof(*bigger.v));
        if (!bigger.v)
            return -ENOMEM;
        for (size_t i = 0; i < s->cap; i++)
            if (s->v[i])
                bigger.v[ret_idset_slot(&bigger, s->v[i])] = s->v[i];
        bigger.n = s->n;
        free(s->v);
        *s = bigger;
    }
    size_t i = ret_idset_slot(s, id);
    if (s->v[i] == id)
        return 0;
    s->v[i] = id;
    s->n++;
    return 1;
}

/* Reads up to RETENTION_BATCH candidates after (*after_start, *after_id)
 * into x->batch and advances the key. Returns the count or an error. */
static int ret_fetch(struct ret_ctx *x, enum catalog_retention_query query,
                     int64_t camera_id, int64_t before_us, int64_t *after_start,
                     int64_t *after_id)
{
    int n = catalog_retention_fetch(x->cat, query, camera_id, before_us,
                                    *after_start, *after_id, x->batch,
                                    RETENTION_BATCH);

    if (n > 0) {
        *after_start = x->batch[n - 1].start_us;
        *after_id = x->batch[n - 1].id;
    }
    return n;
}

static int ret_held(struct ret_ctx *x, const struct catalog_segment *seg)
{
    /* A segment of no length still covers its start instant. */
    return catalog_holds_covers(x->cat, seg->camera_id, seg->start_us,
                                NVR_MAX(seg->end_us, seg->start_us + 1));
}

/*
 * The detail of a retention audit entry into dst[size], as JSON from the
 * shared writer: {"deleted":n,"bytes":b,"rule":"...","first":"<path>"}.
 * Text that does not fit is cut, as the fixed buffer always cut it.
 * Returns 0 or -ENOMEM.
 */
static int ret_audit_detail(char *dst, size_t size, size_t n, int64_t bytes,
                            enum retention_rule rule, const char *first)
{
    char *text = NULL;
    size_t len = 0;
    struct json_out j;
    FILE *f = open_memstream(&text, &len);

    if (!f)
        return -ENOMEM;
    json_init(&j, f);
    json_obj_begin(&j, NULL);
    json_int(&j, "deleted", (int64_t)n);
    json_int(&j, "bytes", bytes);
    json_str(&j, "rule", retention_rule_name(rule));
    json_str(&j, "first", first);
    json_obj_end(&j);
    if (fclose(f) != 0) {
        free(text);
        return -ENOMEM;
    }
    snprintf(dst, size, "%s", text);
    free(text);
    return 0;
}

/* One audit entry per batch that marks segments: which camera (if one),
 * the time range, the rule, the count and the bytes. */
static void ret_audit(struct ret_ctx *x, size_t n, enum retention_rule rule,
                      int64_t bytes)
{
    struct audit_entry e;
    int64_t cam = x->marked[0].camera_id;
    int err;

    memset(&e, 0, sizeof(e));
    snprintf(e.kind, sizeof(e.kind), "%s", AUDIT_RETENTION);
    e.from_us = x->marked[0].start_us;
    e.to_us = x->marked[0].end_us;
    for (size_t i = 0; i < n; i++) {
        if (x->marked[i].camera_id != cam)
            cam = 0;
        e.from_us = NVR_MIN(e.from_us, x->marked[i].start_us);
        e.to_us = NVR_MAX(e.to_us, x->marked[i].end_us);
    }
    if (cam)
        snprintf(e.camera, sizeof(e.camera), "%s", ret_cam_name(x, cam));
    err = ret_audit_detail(e.detail, sizeof(e.detail), n, bytes, rule,
                           x->marked[0].path);
    if (err == 0)
        err = audit_append(x->cat, &e);
    /* Freeing space for recording matters more than the entry; a disk
     * too full for the audit log is the case min_free exists for. */
    if (err < 0)
        LOG_E("storage", "retention: audit entry failed: %s",
              nvr_strerror(err));
}

/* Dry run of ret_delete(): counts what batch[0..n) would free. */
static int ret_delete_dry(struct ret_ctx *x, size_t n, enum retention_rule rule,
                          int64_t *freed)
{
    struct retention_report *rep = x->rep;

    for (size_t i = 0; i < n; i++) {
        const struct catalog_segment *s = &x->batch[i];
        struct ret_cam *c;
        int r = ret_held(x, s);

        if (r < 0)
            return r;
        if (r) {
            rep->held++;
            continue;
        }
        r = ret_idset_add(&x->dry, s->id);
        if (r <= 0) {
            if (r < 0)
                return r;
            continue; /* an earlier rule already took it */
        }
        if (s->status == CATALOG_SEG_MISSING) {
            rep->missing_rows++;
            continue;
        }
        rep->deleted++;
        rep->by_rule[rule]++;
        rep->deleted_bytes += s->bytes;
        *freed += s->bytes;
        x->dry_bytes += s->bytes;
        c = ret_cam_find(x, s->camera_id);
        if (c)
            c->dry_bytes += s->bytes;
        if (x->cfg->on_item)
            x->cfg->on_item(x->cfg->user, ret_cam_name(x, s->camera_id), s,
                            rule);
    }
    return 0;
}

/*
 * Leaves a camera event at the start of the earliest segment of each
 * camera that marked[0..m) deleted, so that `nvr recordings`, exports and
 * the TUI name the gap deleted footage leaves ("deleted by retention:
 * min_free") instead of "no recording". Best effort: the audit log has
 * the deletion either way.
 */
static void ret_note_deleted(struct ret_ctx *x, size_t m, const bool *gone,
                             enum retention_rule rule)
{
    for (size_t i = 0; i < m; i++) {
        const struct catalog_segment *s = &x->marked[i];
        bool first = gone[i];

        for (size_t k = 0; k < m && first; k++)
            if (k != i && gone[k] && x->marked[k].camera_id == s->camera_id &&
                (x->marked[k].start_us < s->start_us ||
                 (x->marked[k].start_us == s->start_us && k < i)))
                first = false;
        if (first && catalog_event_add(x->cat, s->camera_id, s->start_us,
                                       "deleted by retention",
                                       retention_rule_name(rule)) < 0)
            LOG_W("storage", "retention: cannot note the deletion of %s",
                  s->path);
    }
}

/*
 * Deletes batch[0..n) by `rule` (see the file comment for the steps).
 * MISSING rows are dropped at once (no file). Adds to the report; *freed
 * gets the bytes of the files deleted.
 */
static int ret_delete(struct ret_ctx *x, size_t n, enum retention_rule rule,
                      int64_t *freed)
{
    enum catalog_retention_mark outcome[RETENTION_BATCH];
    bool gone[RETENTION_BATCH] = {false};
    struct retention__deleted d = {.gone = gone};
    struct retention_report *rep = x->rep;
    size_t m = 0;
    int64_t bytes = 0;
    int err;

    *freed = 0;
    if (x->cfg->dry_run)
        return ret_delete_dry(x, n, rule, freed);

    err = catalog_retention_mark(x->cat, x->batch, n, outcome);
    for (size_t i = 0; i < n; i++) {
        if (outcome[i] == CATALOG_RETENTION_HELD)
            rep->held++;
        else if (outcome[i] == CATALOG_RETENTION_DROPPED)
            rep->missing_rows++;
        else if (outcome[i] == CATALOG_RETENTION_MARKED && err == 0)
            x->marked[m++] = x->batch[i];
    }
    if (err < 0 || m == 0)
        return err;
    for (size_t i = 0; i < m; i++)
        bytes += x->marked[i].bytes;
    ret_audit(x, m, rule, bytes);
    err =
        retention__delete_marked(x->cat, x->cfg->storage_dir, x->marked, m, &d);
    rep->refused += d.refused;
    /* Rows that went back to CLOSED (unlink failed or path refused) are
     * not counted; with an error the rest stay DELETING for the next
     * pass. */
    if (d.done == 0)
        return err;
    bytes = 0;
    for (size_t i = 0; i < m; i++) {
        const struct catalog_segment *s = &x->marked[i];

        if (!gone[i])
            continue;
        bytes += s->bytes;
        if (x->cfg->on_item)
            x->cfg->on_item(x->cfg->user, ret_cam_name(x, s->camera_id), s,
                            rule);
    }
    ret_note_deleted(x, m, gone, rule);
    rep->deleted += d.done;
    rep->by_rule[rule] += d.done;
    rep->deleted_bytes += bytes;
    *freed = bytes;
    return err;
}

static int ret_check_cancel(struct ret_ctx *x, int64_t *last_reported,
                            enum retention_rule rule)
{
    const struct retention_config *cfg = x->cfg;

    if (cfg->on_progress && x->rep->deleted != *last_reported) {
        *last_reported = x->rep->deleted;
        cfg->on_progress(cfg->user, x->rep->deleted, x->rep->deleted_bytes,
                         rule);
    }
    if (cfg->cancel && atomic_load(cfg->cancel))
        return -ECANCELED;
    return 0;
}

/* Rule 1: everything of camera c that ended before now - retain_days. */
static int ret_days(struct ret_ctx *x, const struct ret_cam *c,
                    int64_t *reported)
{
    int64_t cutoff, after_start = INT64_MIN, after_id = 0, freed;
    int n, err;

    if (c->retain_days <= 0)
        return 0;
    cutoff = x->now_us - (int64_t)c->retain_days * RETENTION_US_DAY;
    for (;;) {
        n = ret_fetch(x, CATALOG_RETENTION_AGED, c->id, cutoff, &after_start,
                      &after_id);
        if (n <= 0)
            return n;
        err = ret_delete(x, (size_t)n, RETENTION_RULE_DAYS, &freed);
        if (err == 0)
            err = ret_check_cancel(x, reported, RETENTION_RULE_DAYS);
        if (err < 0)
            return err;
    }
}

static int ret_sum(struct ret_ctx *x, int64_t camera_id, int64_t *sum)
{
    return catalog_retention_bytes(x->cat, camera_id, sum);
}

/* How many of batch[0..n) to take, oldest first, until `need` more bytes
 * are freed (at least one). */
static size_t ret_take(const struct ret_ctx *x, int n, int64_t need)
{
    int64_t acc = 0;
    size_t k = 0;

    while (k < (size_t)n && acc < need)
        acc += x->batch[k++].bytes;
    return k ? k : 1;
}

/* Rule 2: the oldest segments of camera c while it holds over max_bytes. */
static int ret_bytes(struct ret_ctx *x, const struct ret_cam *c,
                     int64_t *reported)
{
    int64_t total = 0, after_start = INT64_MIN, after_id = 0, freed;
    int n, err;

    if (c->max_bytes <= 0)
        return 0;
    err = ret_sum(x, c->id, &total);
    total -= c->dry_bytes;
    while (err == 0 && total > c->max_bytes) {
        n = ret_fetch(x, CATALOG_RETENTION_CLOSED, c->id, INT64_MAX,
                      &after_start, &after_id);
        if (n <= 0)
            return n;
        n = (int)ret_take(x, n, total - c->max_bytes);
        /* The key must not skip the rows not taken. */
        after_start = x->batch[n - 1].start_us;
        after_id = x->batch[n - 1].id;
        err = ret_delete(x, (size_t)n, RETENTION_RULE_BYTES, &freed);
        total -= freed;
        if (err == 0)
            err = ret_check_cancel(x, reported, RETENTION_RULE_BYTES);
    }
    if (err == 0 && total > c->max_bytes)
        LOG_W("storage",
              "retention: camera %s holds %" PRId64 " bytes, over its "
              "max_bytes %" PRId64 ", and the rest is held or recording",
              c->name, total, c->max_bytes);
    return err;
}

static int ret_free(struct ret_ctx *x, int64_t *avail, int64_t *target)
{
    int64_t total;
    int r = fsops_statvfs(x->cfg->storage_dir, avail, &total);

    if (r < 0) {
        LOG_E("storage", "retention: statvfs %s: %s", x->cfg->storage_dir,
              nvr_strerror(r));
        return r;
    }
    if (x->cfg->min_free_percent > 0)
        *target = (int64_t)((double)total * x->cfg->min_free_percent / 100.0);
    else
        *target = x->cfg->min_free_bytes;
    return 0;
}

/* What the min_free rule works to: min_free and the extra room asked. */
static int64_t ret_work_target(const struct ret_ctx *x, int64_t target)
{
    return target + NVR_MAX(x->cfg->extra_free_bytes, 0);
}

/* Rule 3: the oldest segments of every camera while free space is under
 * min_free. */
static int ret_min_free(struct ret_ctx *x, int64_t *reported)
{
    struct retention_report *rep = x->rep;
    int64_t avail, target, after_start = INT64_MIN, after_id = 0, freed;
    int64_t held_before = rep->held;
    bool exhausted = false;
    int n, err;

    if (x->cfg->min_free_percent <= 0 && x->cfg->min_free_bytes <= 0)
        return 0;
    err = ret_free(x, &avail, &target);
    if (err < 0)
        return err;
    rep->min_free_target = target;
    rep->min_free_work = ret_work_target(x, target);
    if (x->cfg->dry_run)
        avail += x->dry_bytes;
    while (avail < rep->min_free_work) {
        n = ret_fetch(x, CATALOG_RETENTION_GLOBAL, 0, INT64_MAX, &after_start,
                      &after_id);
        if (n < 0)
            return n;
        if (n == 0) {
            exhausted = true;
            break;
        }
        n = (int)ret_take(x, n, rep->min_free_work - avail);
        after_start = x->batch[n - 1].start_us;
        after_id = x->batch[n - 1].id;
        err = ret_delete(x, (size_t)n, RETENTION_RULE_MIN_FREE, &freed);
        if (err == 0)
            err = ret_check_cancel(x, reported, RETENTION_RULE_MIN_FREE);
        if (err < 0)
            return err;
        if (x->cfg->dry_run) {
            avail += freed;
        } else {
            int64_t t;
            err = ret_free(x, &avail, &t);
            if (err < 0)
                return err;
        }
    }
    rep->free_bytes = avail;
    if (avail < rep->min_free_work) {
        char extra[64] = "";

        rep->min_free_unmet = 1;
        rep->min_free_only_held = exhausted;
        if (rep->min_free_work > target)
            snprintf(extra, sizeof(extra),
                     " plus %" PRId64 " for the catalog's reserve",
                     rep->min_free_work - target);
        LOG_E("storage",
              "retention: %s has %" PRId64 " bytes free, under min_free "
              "(%" PRId64 "%s)%s",
              x->cfg->storage_dir, avail, target, extra,
              exhausted ? (rep->held > held_before
                               ? ": only held footage and the segments being "
                                 "recorded are left; held footage is never "
                                 "deleted, release a hold or add space"
                               : ": only the segments being recorded are left")
                        : "");
    }
    return 0;
}

static int ret_pass(struct ret_ctx *x)
{
    int64_t reported = 0;
    int err;

    if (!x->cfg->dry_run) {
        err =
            retention__finish_deleting(x->cat, x->cfg->storage_dir,
                                       &x->rep->interrupted, &x->rep->refused);
        if (err < 0)
            return err;
        if (x->rep->interrupted > 0)
            LOG_W("storage",
                  "retention: finished deleting %" PRId64
                  " segments of an interrupted pass",
                  x->rep->interrupted);
    }
    err = catalog_camera_list(x->cat, ret_cam_cb, x);
    if (err < 0)
        return err;
    for (size_t i = 0; i < x->n_cams; i++) {
        err = ret_days(x, &x->cams[i], &reported);
        if (err < 0)
            return err;
    }
    for (size_t i = 0; i < x->n_cams; i++) {
        err = ret_bytes(x, &x->cams[i], &reported);
        if (err < 0)
            return err;
    }
    return ret_min_free(x, &reported);
}

int retention_run(const struct retention_config *cfg,
                  struct retention_report *rep)
{
    struct ret_ctx *x;
    int err;

    NVR_ASSERT_NOT_LOOP();
    if (!cfg || !rep || !cfg->storage_dir || !cfg->catalog_path ||
        (cfg->n_cameras > 0 && !cfg->cameras) || cfg->n_cameras < 0)
        return -EINVAL;
    memset(rep, 0, sizeof(*rep));
    rep->free_bytes = -1;
    x = calloc(1, sizeof(*x));
    if (!x)
        return -ENOMEM;
    x->cfg = cfg;
    x->rep = rep;
    x->now_us = cfg->now_us ? cfg->now_us : nvr_clock_wall_us();
    err = catalog_open(cfg->catalog_path, CATALOG_READWRITE, &x->cat);
    if (err < 0)
        goto out;
    err = ret_pass(x);
    /* The deletions' WAL frames give their space back at once. */
    if (!cfg->dry_run && rep->deleted + rep->missing_rows > 0) {
        int r = catalog_checkpoint(x->cat);

        if (r < 0 && r != -EBUSY)
            LOG_W("storage", "retention: checkpoint of %s: %s",
                  cfg->catalog_path, nvr_strerror(r));
        rep->free_bytes = -1; /* measured again below */
    }
    if (rep->free_bytes < 0) {
        int64_t total;
        if (fsops_statvfs(cfg->storage_dir, &rep->free_bytes, &total) < 0)
            rep->free_bytes = -1;
    }
    if (err < 0 && err != -ECANCELED)
        LOG_E("storage", "retention pass failed: %s", nvr_strerror(err));
    LOG_I("storage",
          "retention%s: %" PRId64 " segments (%" PRId64 " bytes) %s; "
          "%" PRId64 " by age, %" PRId64 " by size, %" PRId64
          " for free space; %" PRId64 " kept by holds",
          cfg->dry_run ? " (dry run)" : "", rep->deleted, rep->deleted_bytes,
          cfg->dry_run ? "would be deleted" : "deleted", rep->by_rule[0],
          rep->by_rule[1], rep->by_rule[2], rep->held);
out:
    catalog_close(x->cat);
    free(x->dry.v);
    free(x->cams);
    free(x);
    return err;
}
