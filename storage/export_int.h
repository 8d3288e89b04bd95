/* SPDX-License-Identifier: MIT */
/*
 * Evidential export, inside storage/ (see export.h for the interface and
 * export.c for the whole design). The files:
 *  - export.c: request checks, runs of one or several clips, publishing
 *    the outputs, the audit entries;
 *  - export_probe.c: which streams a clip holds and which container;
 *  - export_walk.c: the timeline walk over the source segments, and the
 *    two passes that write one clip;
 *  - export_mux.c: the clip's muxer and its wall-clock subtitle track;
 *  - export_io.c: reading sources and writing the clip through custom
 *    AVIOContexts, and the page-cache planning;
 *  - export_hash.c: the helper thread hashing sources and clip;
 *  - export_publish.c: the staging folder, publishing its files under
 *    their final names, and the leftovers of interrupted exports;
 *  - manifest.c: the manifest and the .sha256 sidecars.
 * Everything here runs on the exporting thread, except the hasher's own.
 */
#ifndef NVR_STORAGE_EXPORT_INT_H
#define NVR_STORAGE_EXPORT_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libavcodec/codec_par.h>
#include <libavformat/avformat.h>
#include <libavutil/rational.h>

#include "nvr/base/compiler.h"
#include "storage/catalog.h"
#include "storage/export.h"
#include "storage/sha256.h"

/* Segments further apart than this are separate sessions (a gap); within a
 * session they are exactly contiguous. Same rule as nvr recordings. */
#define EXPORT_GAP_MIN_US 500000LL
/* Most audio streams carried into one clip (segments hold one). */
#define EXPORT_MAX_AUDIO EXPORT_MAX_AUDIO_STREAMS
/* Subtitle timescale: milliseconds. */
#define EXPORT_SUB_TB ((AVRational){1, 1000})
/* Microseconds as a time base. */
#define EXPORT_US_TB ((AVRational){1, 1000000})
/* Avio buffer of the demuxer and the muxer: small, so that packet data
 * larger than it bypass it (one memcpy fewer per byte). */
#define EXPORT_AVIO_BUF_BYTES ((size_t)32 * 1024)

/* ---- export_hash.c: hashing beside the muxer ---- */

/*
 * Source bytes, and the clip's, are hashed on a helper thread while the
 * exporting thread demuxes and muxes: a source is read in chunks, each
 * chunk is served to the demuxer and then queued for hashing; the clip's
 * media data are gathered in chunks, written, and queued (in order, so
 * one running digest per file stays correct). On two cores this takes the
 * SHA-256s off the muxer's path. Chunks of 256 KiB: small enough to be
 * still in the cache when hashed, large enough that handing them over
 * costs little.
 */
#define EXPORT_CHUNK_BYTES ((size_t)256 * 1024)
#define EXPORT_CHUNKS      32

struct exp_chunk {
    uint8_t *buf;          /* EXPORT_CHUNK_BYTES */
    size_t len;            /* bytes used */
    struct nvr_sha256 *md; /* the digest this chunk continues (borrowed) */
};

struct exp_hasher {
    pthread_t th;
    pthread_mutex_t mu;
    /* Two conditions, each signalled only when someone waits on it: a
     * wake-up per chunk would cost more than hashing it. */
    pthread_cond_t work; /* the hasher waits: a chunk queued, or stop */
    pthread_cond_t done; /* the muxer waits: a chunk free, or idle */
    bool running, stop, busy;
    bool hasher_waits, muxer_waits;
    struct exp_chunk chunks[EXPORT_CHUNKS];
    struct exp_chunk *free_list[EXPORT_CHUNKS];
    int n_free;
    struct exp_chunk *queue[EXPORT_CHUNKS]; /* FIFO of chunks to hash */
    int q_head, q_len;
};

/* Starts the thread. Returns 0, -ENOMEM or -EAGAIN. */
NVR_NODISCARD int export_hash__start(struct exp_hasher *h);
/* Joins the thread and frees the chunks; does nothing if not started. */
void export_hash__stop(struct exp_hasher *h);
/* A free chunk (waits for one). */
struct exp_chunk *export_hash__get(struct exp_hasher *h);
/* Queues c for hashing into c->md (hash = true) or just gives it back. */
void export_hash__put(struct exp_hasher *h, struct exp_chunk *c, bool hash);
/* Waits until every queued chunk is hashed. */
void export_hash__wait_idle(struct exp_hasher *h);

/* ---- the job ---- */

struct exp_seg {
    struct catalog_segment cat; /* the catalog row */
    int64_t read_limit;         /* bytes of the file read (complete prefix) */
    char read_sha256[65];       /* of those bytes */
    bool used;                  /* contributed frames */
    struct nvr_sha256 *md;      /* digest of the bytes read, until final */
    int vidx;                   /* its video stream */
    int8_t map[16];             /* stream index -> -1 drop, 0.. audio k */
};

struct exp_gap {
    int64_t start_us, end_us; /* wall time */
    double media_start_s;     /* where the jump is in the clip, -1 before */
};

/* An audio stream of the clip. */
struct exp_audio {
    AVCodecParameters *par; /* owned */
    AVRational tb;          /* of the sources */
};

struct exp_clip {
    const struct export_request *req;
    struct export_result *res;
    char file[256]; /* basename of out_path */
    struct exp_seg *segs;
    int n_segs, cap_segs;
    struct exp_gap *gaps; /* n_segs + 2 of them */
    int n_gaps;
    char stage_path[PATH_MAX]; /* the clip in the staging folder */
    bool written;              /* stage_path exists and is ours */
    bool sidecar;              /* its staged .sha256 exists and is ours */
    /* The streams, from the sources' headers (export_probe__clip). */
    AVCodecParameters *vpar; /* owned */
    AVRational vtb;
    struct exp_audio audio[EXPORT_MAX_AUDIO];
    int n_audio;
    const char *container; /* "mp4" or "mov": from the output name */
    bool clip_hashed;      /* res->sha256 taken while writing */
};

/* The staging folder (export_publish.c): a hidden folder beside the
 * outputs, on their file system, where every file of the export is
 * written and synced before any appears under its final name. */
struct exp_stage {
    char dir[PATH_MAX];      /* the outputs' folder */
    char path[PATH_MAX];     /* <dir>/.nvr-export-XXXXXX */
    char manifest[PATH_MAX]; /* the manifest, staged */
    int fd;                  /* path, open and flock()ed; -1: none */
};

struct export_job {
    struct catalog *cat;
    struct exp_stage stage;
    struct exp_clip *clips;
    int n;
    export_progress_cb progress;
    void *user;
    int64_t total_bytes, done_bytes, next_report; /* source bytes */
    bool cancelled; /* progress returned nonzero: stop at the next read */
    int64_t now_us;
    char user_name[64], host[128];
    struct exp_hasher hasher;
};

/* Counts add source bytes read and reports progress every so often
 * (always when force). */
void export__progress(struct export_job *job, int64_t add, bool force);

/* ---- export_probe.c ---- */

/* Whether two video streams are the same kind (codec, picture size). */
bool export_probe__same_video(const AVCodecParameters *a,
                              const AVCodecParameters *b);
/* "mp4" / "mov" from the name's extension, NULL for any other. */
const char *export_probe__container(const char *path);
/*
 * Reads the headers of every source segment of c and decides the clip's
 * streams (c->vpar, c->audio, each segment's map). Sets *needs_mov and
 * *bad_codec when an audio codec cannot go into MP4. Returns 0,
 * -ENOTSUP (codecs change), -EBADMSG, -ENOMEM or an I/O error.
 */
NVR_NODISCARD int export_probe__clip(struct export_job *job, struct exp_clip *c,
                                     bool *needs_mov, const char **bad_codec);
/* Frees c's stream parameters. */
void export_probe__free_streams(struct exp_clip *c);

/* ---- export_io.c: the sources ---- */

struct exp_src_io {
    int fd;
    int64_t pos, limit; /* bytes read from the file; bytes to read */
    struct nvr_sha256 *md;
    struct export_job *job;
    struct exp_hasher *hasher;
    struct exp_chunk *cur; /* being served to the demuxer */
    size_t off;            /* bytes of cur served */
    /* The dry pass reads only the boxes, not the media data: */
    bool dry;
    int64_t box_end;   /* end of the current top-level box */
    int64_t skip_from; /* payload of an mdat: served as zeros from here */
};

struct exp_src {
    struct exp_src_io io;
    AVIOContext *pb;
    AVFormatContext *fmt;
    int vidx; /* video stream index */
};

/*
 * Opens source segment seg for demuxing. dry: for reading its boxes only
 * (no hashing, no progress). The first open fixes seg->read_limit. Returns
 * 0, -EBADMSG (not a readable MP4 with video), -ENOMEM or an I/O error;
 * the failure is logged.
 */
NVR_NODISCARD int export_io__src_open(struct export_job *job,
                                      const char *storage_dir,
                                      struct exp_seg *seg, bool dry,
                                      struct exp_src *s);
void export_io__src_close(struct exp_src *s);
/* Queues the rest of the source, up to its limit, for hashing. */
NVR_NODISCARD int export_io__src_drain(struct exp_src_io *s);
/* Per mille of c's sources' bytes in the page cache. */
int export_io__cached_permille(const struct exp_clip *c);

/* ---- export_io.c: the clip ---- */

/*
 * The clip's bytes pass through here. Its layout: a front region (ftyp,
 * the space reserved for the index, the mdat header), written at the
 * start and completed by the trailer, then the media data, written once,
 * in order. The dry pass (no file) keeps the front region as the trailer
 * leaves it. The real pass writes the file, keeps its own front region,
 * and hashes "dry front region + media data as written" on the hasher
 * thread; if its front region then equals the dry pass's byte for byte,
 * that digest is the SHA-256 of the file, and the clip never has to be
 * read back. Otherwise (never expected) the file is hashed afterwards.
 */
struct exp_clip_io {
    int fd;         /* -1: the dry pass */
    int64_t pos;    /* where the next write goes */
    int64_t end;    /* the file's size so far */
    uint8_t *front; /* bytes written below front_cap (zeros if not) */
    int64_t front_cap;
    int64_t data_start; /* where the media data begin; INT64_MAX before */
    int64_t next;       /* where the next media byte is expected */
    bool stream_ok;     /* every media byte was hashed, in order */
    bool front_ok;      /* every front byte fitted in front[] */
    struct exp_hasher *hasher;
    struct nvr_sha256 *md; /* real pass: the clip's digest */
    struct exp_chunk *cur;
    int64_t cur_pos; /* file offset of cur's first byte */
    int err;         /* AVERROR of the first failed write */
};

/* The AVIOContext callbacks over an exp_clip_io (opaque). */
int export_io__clip_write(void *opaque, uint8_t *buf, int size);
int64_t export_io__clip_seek(void *opaque, int64_t offset, int whence);
/* Writes out the chunk being filled and queues it for hashing. */
NVR_NODISCARD int export_io__clip_flush(struct exp_clip_io *io);

/* ---- export_mux.c ---- */

struct exp_out {
    AVFormatContext *fmt;
    AVIOContext *pb;
    AVStream *vst, *sst, *ast[EXPORT_MAX_AUDIO];
    AVRational tb;        /* our video timestamps (the source's) */
    int64_t cue_start_ms; /* pending cue, -1 if none */
    char cue_text[96];
    int64_t cue_second; /* wall second the pending cue shows */
    AVPacket *pkt;
};

/* Sets up the muxer of c writing through io, with creation_time start_us
 * and moov_bytes reserved for the index, and writes the header. Returns
 * 0 or a negative errno / AVERROR; export_mux__free in any case. */
NVR_NODISCARD int export_mux__open(struct exp_out *o, struct exp_clip_io *io,
                                   const struct exp_clip *c, int64_t start_us,
                                   int64_t moov_bytes);
void export_mux__free(struct exp_out *o);
/* Writes the pending cue, ending at end_ms. */
NVR_NODISCARD int export_mux__cue_write(struct exp_out *o, int64_t end_ms);
/* A frame at media time ts (o->tb) is wall time wall_us. */
NVR_NODISCARD int export_mux__cue_frame(struct exp_out *o, int64_t ts,
                                        int64_t wall_us);
/* A gap g between media times a and b. */
NVR_NODISCARD int export_mux__cue_gap(struct exp_out *o, int64_t a, int64_t b,
                                      const struct exp_gap *g);

/* ---- export_walk.c ---- */

/* Writes c's clip to c->stage_path, synced: sets its result's ranges, frames,
 * codec, and its SHA-256 when it could be taken while writing
 * (c->clip_hashed). Nothing is left at stage_path on failure. */
NVR_NODISCARD int export_walk__clip(struct export_job *job, struct exp_clip *c);

/* ---- manifest.c: the writing side ---- */

/* Writes the .sha256 sidecar of c beside its staged clip (sets
 * c->sidecar). Returns 0, -EEXIST,
 * -ENAMETOOLONG or -EIO. */
NVR_NODISCARD int manifest__write_sidecar(struct exp_clip *c);
/* Writes the manifest of every clip of job to path (must not exist),
 * synced. Returns 0, -EMSGSIZE, -ENOMEM or an I/O error. */
NVR_NODISCARD int manifest__write(const struct export_job *job,
                                  const char *path);

/* ---- export_publish.c ---- */

/* Where the name `name` of a file of the export is staged: "<stage>/name".
 * Returns 0 or -ENAMETOOLONG. */
NVR_NODISCARD int export_publish__stage_name(const struct exp_stage *st,
                                             const char *name, char *out,
                                             size_t size);
/*
 * Removes what interrupted exports left in the folder of manifest_path
 * (see export_publish.c), then creates and locks the staging folder
 * beside it, and names every staged file (each clip's stage_path, the
 * manifest's). Every output must be in that folder: -EXDEV otherwise.
 * Returns 0, -ENOENT (no such folder), -EXDEV, -ENAMETOOLONG or the
 * errno of mkdir / open / flock.
 */
NVR_NODISCARD int export_publish__begin(struct export_job *job,
                                        const char *manifest_path);
/*
 * Publishes the staged files under their final names, the manifest
 * first, then each clip's sidecar, each clip last (link(2): an existing
 * name is never replaced), syncs the folder, then removes the staging
 * folder. On failure whatever it published is removed again. Returns 0,
 * -EEXIST or an I/O error.
 */
NVR_NODISCARD int export_publish__commit(struct export_job *job,
                                         const char *manifest_path);
/* Removes the staging folder and everything in it; does nothing when
 * there is none. */
void export_publish__abort(struct export_job *job);
/* Tells the step hook (export_set_step_hook) that the export reached
 * step `name`. */
void export_publish__step(const char *name);

#endif
