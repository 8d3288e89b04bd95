/* SPDX-License-Identifier: MIT */
/*
 * The SQLite catalog (WAL mode) at <storage>/catalog.db: cameras, segments,
 * camera events (why recording stopped), and the per-camera status rows the
 * daemon refreshes about once a second. Versioned schema with migrations.
 *
 * A struct catalog is one SQLite connection: use it from one thread at a
 * time. Writer threads each open their own. Never used on the loop thread.
 * All times are UTC microseconds since the epoch.
 *
 * Besides the codes listed per function, any call may also return -EINVAL
 * (bad arguments), -EBUSY (another connection held the lock for longer than
 * the 5 s busy timeout), -ENOSPC (disk full) or -ENOMEM.
 */
#ifndef NVR_STORAGE_CATALOG_H
#define NVR_STORAGE_CATALOG_H

#include <stdint.h>

#include "nvr/base/compiler.h"
#include "nvr/base/refusal.h"
#include "storage/layout.h"

#define CATALOG_SCHEMA_VERSION 7

/* The catalog's file name in the storage directory (SQLite adds "-wal" and
 * "-shm" beside it). The one place it is spelled. */
#define CATALOG_FILE STORAGE_CATALOG_FILE

/*
 * Usable segments (OPEN or CLOSED) of a camera whose start comes at most
 * this long after the end of the footage before them form one recording
 * run. Schema version 4 bakes this value into its triggers; the terminal
 * UI merges spans with the same tolerance.
 */
#define CATALOG_RUN_GAP_US 500000

enum catalog_open_flags {
    CATALOG_READONLY = 0,  /* fails with -ENOENT if the file is missing */
    CATALOG_READWRITE = 1, /* creates and migrates as needed */
};

enum catalog_seg_status {
    CATALOG_SEG_OPEN = 0,     /* being written (or cut short by a crash) */
    CATALOG_SEG_CLOSED = 1,   /* finished, sha256 set */
    CATALOG_SEG_MISSING = 2,  /* the file is gone */
    CATALOG_SEG_DELETING = 3, /* retention is removing it: the file may or
                                 may not still exist */
};

struct catalog_segment {
    int64_t id;
    int64_t camera_id;
    int64_t start_us;  /* wall time of the first frame */
    int64_t end_us;    /* start_us + media duration */
    int64_t bytes;     /* file size */
    int64_t frames;    /* video access units */
    int status;        /* enum catalog_seg_status */
    int width, height; /* pixels, 0 if unknown */
    char codec[16];    /* "h264", ... */
    char path[256];    /* relative to the storage directory */
    char sha256[65];   /* lowercase hex; empty until closed */
    int64_t refused;   /* access units refused while it was written (see
                          nvr/base/refusal.h): those refused since the unit
                          before its first one, up to its last; final
                          when it is closed */
};

struct catalog_status {
    char name[64];         /* camera name */
    char state[16];        /* "recording", "connecting", ... */
    int64_t last_frame_us; /* 0 if never */
    int64_t bitrate_bps;   /* over the last few seconds */
    int64_t frames;        /* access units written this run */
    int64_t lost_packets;  /* RTP packets lost this run */
    int64_t dropped;       /* units dropped (queue full, loss) */
    int64_t reconnects;    /* this run */
    int64_t updated_us;    /* when the daemon wrote this row */
    char error[256];       /* last error, credentials removed; "" if none */
    char transport[128];   /* "tcp" or "udp", then ": " and why
                              ("udp: camera refused interleaved TCP
                              (461)"); "" before a session */
    int64_t drift_us;      /* wall time minus recorder clock, signed */
    int64_t ts_jumps;      /* timestamp discontinuities this run */
    int64_t frames_lost;   /* units lost to packet loss or damage */
    int64_t rtcp_sr;       /* 1: RTCP sender reports seen */
    struct nvr_refusals refused; /* units refused this run, by reason */
    char auth[8];                /* scheme answered: "digest", "basic", "none";
                                    "" before a session */
};

struct catalog;

/*
 * Opens (and with CATALOG_READWRITE creates and migrates) the catalog.
 * Returns 0, -ENOENT, -EACCES (the file, or a folder on the way, is not
 * the user's to open), -EIO, or -EPROTO if the schema is newer than this
 * program (or, read-only, older: only a writer migrates). *out is owned;
 * free it with catalog_close().
 */
NVR_NODISCARD int catalog_open(const char *path, int flags,
                               struct catalog **out);

/* Closes the connection. NULL does nothing. */
void catalog_close(struct catalog *cat);

/*
 * Copies the WAL back into the database and truncates it to nothing, so
 * that what a pass of deletions wrote to the WAL does not keep its disk
 * space. Returns 0, -EBUSY when a reader holds an old snapshot (the WAL is
 * then truncated at a later checkpoint), or another negative errno.
 */
NVR_NODISCARD int catalog_checkpoint(struct catalog *cat);

/*
 * Routes SQLite's own log (SQLITE_CONFIG_LOG: recovered WAL files, corrupt
 * pages, misuse) into nvr_log under the module "sqlite". Call once, at
 * start-up before any catalog is opened: SQLite refuses it afterwards, and
 * that programmer error is logged and otherwise ignored. Any thread.
 */
void catalog_route_log(void);

/* The schema version stored in the file. */
int catalog_schema_version(struct catalog *cat);

/* Finds or creates the camera `name`; sets *id. Returns 0 or -EIO. */
NVR_NODISCARD int catalog_camera_ensure(struct catalog *cat, const char *name,
                                        int64_t *id);

/* Finds camera `name`. Returns 0, -ENOENT, or -EIO. */
NVR_NODISCARD int catalog_camera_find(struct catalog *cat, const char *name,
                                      int64_t *id);

/* Inserts a segment row (status OPEN, sha256 ignored); sets seg->id and
 * seg->status. An end_us below start_us is stored as start_us. A path that
 * is already catalogued fails with -EIO. Returns 0 or -EIO. */
NVR_NODISCARD int catalog_segment_begin(struct catalog *cat,
                                        struct catalog_segment *seg);

/* Updates end_us, bytes and frames of an open segment. 0, -ENOENT (no
 * segment with that id) or -EIO (also when end_us < start_us). */
NVR_NODISCARD int catalog_segment_progress(struct catalog *cat, int64_t id,
                                           int64_t end_us, int64_t bytes,
                                           int64_t frames);

/* Marks a segment CLOSED with its final end_us, bytes, frames, refused,
 * sha256 (and width/height/codec; an empty codec or a 0 size keeps what
 * begin stored).
 * Returns 0, -ENOENT (no segment with seg->id) or -EIO. */
NVR_NODISCARD int catalog_segment_finish(struct catalog *cat,
                                         const struct catalog_segment *seg);

/* Sets a segment's status (e.g. MISSING). Returns 0, -ENOENT or -EIO. */
NVR_NODISCARD int catalog_segment_set_status(struct catalog *cat, int64_t id,
                                             int status);

/* Deletes a segment row (retention, once its file is gone; recovery, for
 * a row whose file never held a frame). Returns 0, -ENOENT or -EIO. */
NVR_NODISCARD int catalog_segment_delete(struct catalog *cat, int64_t id);

/* Finds a segment by its relative path. Returns 0, -ENOENT or -EIO. */
NVR_NODISCARD int catalog_segment_by_path(struct catalog *cat, const char *path,
                                          struct catalog_segment *out);

/* Called per segment; return nonzero to stop early. seg is borrowed. */
typedef int (*catalog_segment_cb)(void *user,
                                  const struct catalog_segment *seg);

/*
 * Lists segments of a camera (camera_id > 0) or of all cameras (0) that
 * overlap [from_us, to_us), ordered by camera then start_us. status_mask
 * selects statuses (bit 1 << status); 0 means all. Returns 0 or -EIO.
 */
NVR_NODISCARD int catalog_segment_list(struct catalog *cat, int64_t camera_id,
                                       int64_t from_us, int64_t to_us,
                                       unsigned status_mask,
                                       catalog_segment_cb cb, void *user);

/*
 * Counts the usable (OPEN or CLOSED) segments whose path lies under the
 * directory `dir`, which ends in '/' ("<camera>/<date>/"): one range of
 * the path index. Recovery compares it with the files in that directory.
 * Returns 0, -EINVAL (no trailing '/') or -EIO.
 */
NVR_NODISCARD int catalog_segment_count_under(struct catalog *cat,
                                              const char *dir, int64_t *count);

/* Lists the usable segments under `dir` as catalog_segment_count_under()
 * counts them, in path order. Returns 0, -EINVAL or -EIO. */
NVR_NODISCARD int catalog_segment_list_under(struct catalog *cat,
                                             const char *dir,
                                             catalog_segment_cb cb, void *user);

/* The latest start_us of any segment of camera_id. Returns 0, -ENOENT (the
 * camera has none) or -EIO. */
NVR_NODISCARD int catalog_segment_newest_start(struct catalog *cat,
                                               int64_t camera_id,
                                               int64_t *start_us);

/* A recording run: contiguous usable footage of one camera. */
struct catalog_run {
    int64_t camera_id;
    int64_t start_us; /* start of its first segment */
    int64_t end_us;   /* the latest end of its segments */
};

/* Called per run; return nonzero to stop early. run is borrowed. */
typedef int (*catalog_run_cb)(void *user, const struct catalog_run *run);

/*
 * Lists the recording runs of camera_id (> 0) that overlap [from_us,
 * to_us), ordered by start_us. Runs are whole: the first may start before
 * from_us and the last end after to_us. The catalog keeps them up to date
 * itself (SQL triggers on the segments table) whenever a segment row is
 * inserted, updated or deleted, by any connection, so reading them costs
 * one row per run instead of one per segment. Returns 0 or -EIO.
 */
NVR_NODISCARD int catalog_run_list(struct catalog *cat, int64_t camera_id,
                                   int64_t from_us, int64_t to_us,
                                   catalog_run_cb cb, void *user);

/* Records why recording of a camera stopped or failed at time_us
 * ("connection lost: timed out"); used to label gaps. 0 or -EIO. */
NVR_NODISCARD int catalog_event_add(struct catalog *cat, int64_t camera_id,
                                    int64_t time_us, const char *kind,
                                    const char *detail);

/* Finds the first event of camera_id in [from_us, to_us]; copies its
 * "kind: detail" text to out. Returns 0, -ENOENT or -EIO. */
NVR_NODISCARD int catalog_event_find(struct catalog *cat, int64_t camera_id,
                                     int64_t from_us, int64_t to_us, char *out,
                                     size_t out_size);

/* Inserts or replaces the status row of st->name. Returns 0 or -EIO. */
NVR_NODISCARD int catalog_status_put(struct catalog *cat,
                                     const struct catalog_status *st);

typedef int (*catalog_status_cb)(void *user, const struct catalog_status *st);

/* Lists status rows ordered by name. Returns 0 or -EIO. */
NVR_NODISCARD int catalog_status_list(struct catalog *cat, catalog_status_cb cb,
                                      void *user);

/* Lists camera names ordered by name. Returns 0 or -EIO. */
typedef int (*catalog_camera_cb)(void *user, int64_t id, const char *name);
NVR_NODISCARD int catalog_camera_list(struct catalog *cat, catalog_camera_cb cb,
                                      void *user);

#endif
