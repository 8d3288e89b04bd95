/* SPDX-License-Identifier: MIT */
/*
 * Internals of the segment writer shared by writer.c (the queue and the
 * thread) and writer_segment.c (segment life on that thread).
 */
#ifndef NVR_STORAGE_WRITER_INT_H
#define NVR_STORAGE_WRITER_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvr/base/au.h"
#include "storage/catalog.h"
#include "storage/segment.h"
#include "storage/writer.h"

#define WRITER_MAX_PATH   1024
#define WRITER_REASON_MAX 200

enum writer_item_kind {
    WRITER_ITEM_STREAM,
    WRITER_ITEM_AU,
    WRITER_ITEM_BREAK,
};

struct writer_item {
    struct writer_item *next;
    enum writer_item_kind kind;
    struct nvr_au *au;            /* AU: one owned reference */
    uint64_t refused;             /* AU: units refused before it (upstream
                                     and by the queue) */
    struct nvr_stream_info *info; /* STREAM: owned copy */
    char reason[WRITER_REASON_MAX];
};

struct writer {
    char *storage_dir;
    char *camera;
    int segment_seconds;
    size_t queue_max_bytes;
    int64_t min_free_bytes; /* see struct writer_config */
    writer_disk_full_cb on_low_space;

    pthread_t thread;
    pthread_mutex_t mu; /* guards the queue, the stats and push state */
    pthread_cond_t cv;
    struct writer_item *head, *tail;
    int unsignalled; /* units queued since the thread was last woken */
    bool stop;
    struct writer_stats stats;
    int push_video_track;  /* loop side: track recorded, -1 if none yet */
    int push_audio_track;  /* loop side: audio track recorded, or -1 */
    bool push_dropping;    /* loop side: dropping the rest of a GOP */
    uint64_t push_refused; /* loop side: units refused since the last one
                              queued, told with the next */

    /* Writer thread only from here on. */
    struct catalog *cat;
    int64_t camera_id;
    struct nvr_stream_info pending; /* latest stream description */
    int video_track;                /* in pending, -1 if none */
    int audio_track;                /* in pending, -1 if none recorded */
    struct segment *seg;
    struct nvr_track_info seg_track; /* what the open segment was made with */
    struct nvr_track_info seg_audio; /* its audio track, if seg_has_audio */
    bool seg_has_audio;
    int64_t seg_first_wall_us;  /* wall time of its first keyframe */
    bool cut_pending;           /* cut at the next keyframe */
    bool audio_anchored;        /* audio_anchor_* place the audio: */
    int64_t audio_anchor_pts;   /* an audio unit's pts */
    int64_t audio_anchor_tick;  /* and its place in the segment (audio clock) */
    struct catalog_segment row; /* its catalog row (id 0: none); its
                                   refused counts the units refused while
                                   it is open */
    uint64_t refused_carry;     /* refused while no segment was open: go
                                   into the next segment's row */
    struct catalog_segment probe_row; /* scratch for path look-ups */
    char abs_path[WRITER_MAX_PATH];
    int64_t seg_bytes_counted;  /* of the open segment, in stats already */
    int64_t last_progress_tick; /* media time of the last progress row */
    bool chain_valid;           /* the next segment may continue: */
    int64_t chain_start_us;     /* the previous segment's start_us */
    int64_t chain_first_pts;    /* and its first pts */
    int chain_clock_rate;
    int64_t chain_end_us; /* the previous segment's end_us, or 0 */

    writer_disk_full_cb on_disk_full;
    void *user;
    bool full;               /* writes fail with ENOSPC/EIO: waiting */
    bool full_event_pending; /* its event could not be recorded yet */
    int full_err;
    int64_t full_since_us; /* wall time of the last unit written */
    bool unfinished;       /* a row whose finish (or, with
                              unfinished_delete, removal) failed */
    bool unfinished_delete;
    struct catalog_segment unfinished_row; /* retried when space returns */
};

/* Writer thread only: */

/* Closes the open segment (if any) and finishes its catalog row;
 * next_dts is the first unit after it, or SEGMENT_NO_PTS. */
void writer__close_segment(struct writer *w, int64_t next_dts);

/* A write failed with err: if the disk is full, recording stops until a
 * keyframe can be written again, and that is said once. */
void writer__enter_full(struct writer *w, int err);

/* Writes one access unit (takes the reference); `refused` units were
 * refused before it (upstream or by the queue). */
void writer__handle_au(struct writer *w, struct nvr_au *au, uint64_t refused);

/* Ends the session's time line: closes the segment, records the break. */
void writer__handle_break(struct writer *w, const char *reason);

#endif
