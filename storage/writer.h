/* SPDX-License-Identifier: MIT */
/*
 * The segment writer of one camera: a thread fed by a bounded queue of
 * access units, muxing them with libavformat (no transcoding) into
 * fragmented MP4 segments of about segment_seconds, cut at keyframes, and
 * recording each segment in the catalog (its own SQLite connection).
 *
 * The push functions are called from the loop thread and never block: when
 * the queue is full the unit is dropped, and so is the rest of its GOP
 * (counted in stats). All disk and SQLite work happens on the writer thread.
 *
 * Disk full (or a disk error): the failing segment is finished with what
 * reached the disk, a "disk full" camera event is recorded at the time of
 * the last unit written (so the gap shows why), on_disk_full is called,
 * units are dropped (counted) and each keyframe tries a new segment;
 * recording resumes at the first keyframe that can be written.
 */
#ifndef NVR_STORAGE_WRITER_H
#define NVR_STORAGE_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "nvr/base/au.h"
#include "nvr/base/compiler.h"
#include "nvr/base/refusal.h"

/* Called on the writer thread when a write fails with -ENOSPC or -EIO
 * (once per episode, not per failed unit), so that the owner can run an
 * emergency retention pass. Must not block for long. */
typedef void (*writer_disk_full_cb)(void *user, const char *camera, int err);

struct writer_config {
    const char *storage_dir;          /* borrowed during writer_new, copied */
    const char *catalog_path;         /* borrowed during writer_new, copied */
    const char *camera;               /* camera name, copied */
    int segment_seconds;              /* target segment length, > 0 */
    size_t queue_max_bytes;           /* 0: 64 MiB */
    writer_disk_full_cb on_disk_full; /* may be NULL */
    /* Free space (bytes) retention keeps: when a segment opens with less
     * free, on_low_space is called so that retention makes room before
     * the disk fills; and after a full disk a new segment is tried only
     * once this much is free (at least WRITER_RESUME_MIN_FREE_BYTES). 0:
     * no low-space calls. */
    int64_t min_free_bytes;
    writer_disk_full_cb on_low_space; /* may be NULL; err is 0 */
    void *user;                       /* for on_disk_full, on_low_space */
};

/* The least free space a segment is tried in after a full disk: the
 * catalog (events, status, rows) must be able to commit first, and a
 * segment started in the last few kilobytes would fail at once. */
#define WRITER_RESUME_MIN_FREE_BYTES ((int64_t)1024 * 1024)

struct writer_stats {
    uint64_t aus_written;        /* units muxed */
    uint64_t aus_dropped;        /* units refused by storage (the sum of
                                    refused; includes aus_dts_refused) */
    uint64_t aus_dts_refused;    /* video units refused by the segment: their
                                    decode time did not increase */
    uint64_t bytes_written;      /* segment bytes */
    uint64_t segments;           /* segments closed */
    size_t queued_bytes;         /* now */
    int64_t last_wall_us;        /* wall time of the last unit written */
    int last_err;                /* last disk/catalog error, or 0 */
    int disk_full;               /* 1 while writes fail with ENOSPC/EIO */
    uint64_t disk_full_episodes; /* times recording stopped on it */
    char last_error[256];
    struct nvr_refusals refused; /* units refused by storage, by reason:
                                    queue_full on the loop side, the rest
                                    on the writer thread */
};

struct writer;

/*
 * Opens the catalog, registers the camera and starts the thread.
 * Returns 0, -ENOMEM, -EIO (catalog), or an error from pthread_create.
 * *out is owned; free with writer_free(). Any thread.
 */
NVR_NODISCARD int writer_new(const struct writer_config *cfg,
                             struct writer **out);

/*
 * A new session or new codec parameters (copied). The next segment starts
 * at the next keyframe with these parameters. Returns 0 or -ENOMEM.
 */
NVR_NODISCARD int writer_push_stream(struct writer *w,
                                     const struct nvr_stream_info *info);

/*
 * Queues one access unit; takes ownership of the reference in every case
 * (dropped units are released). Returns 0, or -ENOBUFS if it was dropped.
 * au->refused_before (units refused upstream since the previous unit) is
 * added to the count of the segment the unit lands in, or the next one.
 */
int writer_push_au(struct writer *w, struct nvr_au *au);

/*
 * The session ended: the open segment is finished and the reason recorded
 * as a camera event at the time of the last unit. Returns 0 or -ENOMEM.
 */
NVR_NODISCARD int writer_push_break(struct writer *w, const char *reason);

/* Copies the counters. Any thread. */
void writer_get_stats(struct writer *w, struct writer_stats *out);

/*
 * Drains the queue, finishes the open segment (fsync, SHA-256, catalog),
 * joins the thread and frees. NULL does nothing. Any thread but the
 * writer's own.
 */
void writer_free(struct writer *w);

#endif
