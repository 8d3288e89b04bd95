/* SPDX-License-Identifier: MIT */
/*
 * Evidential export (see export.h). The source segments of a camera
 * (fragmented MP4 or QuickTime files, listed by the catalog, CLOSED and
 * OPEN) are read with libavformat and their packets written unchanged into
 * one regular, faststart MP4 (or .mov): no decoding, no encoding.
 *
 * Timeline: media time 0 is the keyframe at or before the requested start
 * (the catalog's segments start at keyframes, so it is in the first
 * segment). Segments of one recording session follow each other exactly,
 * so their timestamps continue without a seam. Across a gap (the camera
 * was not recorded) the clip keeps the real time difference: the next
 * frame is placed at its true wall-clock offset from the clip's start, so a
 * player shows the gap as a jump of the clock (the last picture held), the
 * clip's duration is wall time, and the manifest lists each gap. A
 * mov_text subtitle track carries the wall-clock time, one cue per second
 * changing on the first frame of each new second, and during a gap one cue
 * saying that nothing was recorded from when to when.
 *
 * Sources are read through an AVIOContext that hashes every byte it
 * reads (on a helper thread, beside the muxer); after demuxing, the rest
 * of the file is hashed too, so a CLOSED segment whose bytes differ from
 * its catalog SHA-256 stops the export (-EBADMSG) rather than being cited
 * as genuine. An OPEN segment (still being written) is read only up to
 * its last complete fragment, and the manifest gives the SHA-256 of
 * exactly the bytes read. Every audio stream of the segments is remuxed
 * too, placed at its wall-clock offset like the video; the container is
 * MP4 or QuickTime as the output's extension says, and G.711 audio,
 * which MP4 cannot hold, needs .mov.
 *
 * Two passes, each byte of media read once: a dry pass reads only the
 * boxes of the sources (the media payload is skipped, served as zeros)
 * and muxes into no file, which gives the final front region of the clip
 * (ftyp, the index in the space reserved for it, the mdat header) before
 * any media is written. The real pass then writes the clip and hashes it
 * while writing: that front region first, then the media data in order
 * as they go to the file. The front region the real pass leaves must
 * equal the dry pass's byte for byte (it does: same boxes, same packets,
 * same muxer); if it ever did not, the clip is hashed from the file
 * instead. So the clip is never read back, and its SHA-256 is that of the
 * file's exact bytes. The dry pass costs a small read per fragment, free
 * when the sources are in the page cache (recent footage, usually) but a
 * seek each on a disk: when most of the sources are not in memory
 * (mincore), it is skipped, the sources are read once from the disk, and
 * the clip is hashed afterwards from the page cache it was just written
 * to.
 *
 * The clip is written as <out>.partial and linked to <out> only when
 * complete (link(2) refuses to replace an existing file), then the
 * .sha256 sidecar, the audit entry, and last the manifest, which carries
 * the audit entry's hash. The clip is not fsynced: an hour of footage is
 * gigabytes, and flushing it would cost more than the export itself; the
 * export can be repeated
 * from the segments, and what proves the copy handed over is `nvr verify`
 * on that copy. The small sidecars are fsynced. The manifest's own hash
 * (manifest_sha256) is the SHA-256 of the manifest file with its 64 hex digits
 * replaced by zeros.
 */
#include "config.h"
#include "storage/export.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavformat/avio.h>
#include <libavutil/mathematics.h>
#include <libavutil/mem.h>

#include "nvr/base/clock.h"
#include "nvr/base/log.h"
#include "nvr/base/thread.h"
#include "nvr/base/timefmt.h"
#include "storage/audit.h"
#include "storage/catalog.h"
#include "storage/mp4box.h"
#include "storage/sha256.h"

/* Segments further apart than this are separate sessions (a gap); within a
 * session they are exactly contiguous. Same rule as nvr recordings. */
#define EXPORT_GAP_MIN_US 500000LL
/* Most source segments one clip may draw on (a week of 60 s segments). */
#define EXPORT_MAX_SEGMENTS 20000
/* Most bytes buffered while looking for the keyframe at or before the
 * start: one GOP of a high-bitrate camera fits easily. */
#define EXPORT_MAX_GOP_BYTES ((size_t)256 * 1024 * 1024)
/* Hashing buffer for whole files. */
#define EXPORT_HASH_BUF_BYTES ((size_t)1024 * 1024)
/* Largest manifest read back (bytes). */
#define EXPORT_MAX_MANIFEST_BYTES ((size_t)16 * 1024 * 1024)
/* Progress is reported about this often (source bytes). */
#define EXPORT_PROGRESS_STEP ((int64_t)8 * 1024 * 1024)
/* Highest frame rate assumed when a segment's frame count is unknown. */
#define EXPORT_MAX_FPS 240
/* Subtitle timescale: milliseconds. */
#define EXPORT_SUB_TB ((AVRational){1, 1000})

static const AVRational us_tb = {1, 1000000};

/* ---- hashing ---- */

int export_sha256_file(const char *path, char out[65])
{
    return nvr_sha256_file(path, out);
}

#define MANIFEST_HASH_KEY "\"manifest_sha256\": \""

int export_manifest_hash(const char *text, size_t len, char computed[65],
                         char recorded[65])
{
    const char *p = NULL;
    size_t klen = strlen(MANIFEST_HASH_KEY);
    struct nvr_sha256 *md;
    int err;

    recorded[0] = '\0';
    computed[0] = '\0';
    for (size_t i = 0; i + klen + 64 <= len; i++) {
        if (memcmp(text + i, MANIFEST_HASH_KEY, klen) == 0) {
            p = text + i + klen;
            break;
        }
    }
    if (!p)
        return -EBADMSG;
    memcpy(recorded, p, 64);
    recorded[64] = '\0';
    md = nvr_sha256_new();
    if (!md)
        return -ENOMEM;
    nvr_sha256_update(md, text, (size_t)(p - text));
    nvr_sha256_update(md,
                      "00000000000000000000000000000000"
                      "00000000000000000000000000000000",
                      64);
    nvr_sha256_update(md, p + 64, len - (size_t)(p - text) - 64);
    err = nvr_sha256_final_hex(md, computed);
    nvr_sha256_free(md);
    return err;
}

int export_manifest_path(const char *clip_path, char *out, size_t out_size)
{
    size_t n = strlen(clip_path);
    const char *slash = strrchr(clip_path, '/');
    const char *dot = strrchr(clip_path, '.');
    int w;

    if (dot && (!slash || dot > slash + 1))
        n = (size_t)(dot - clip_path);
    w = snprintf(out, out_size, "%.*s.manifest.json", (int)n, clip_path);
    return w < 0 || (size_t)w >= out_size ? -ENAMETOOLONG : 0;
}

/* ---- the manifest (a small JSON writer) ---- */

struct jbuf {
    char *p;
    size_t len, cap;
    int depth;
    bool first; /* no member written yet at this depth */
    int err;
};

static void jb_put(struct jbuf *j, const char *s, size_t n)
{
    if (j->err)
        return;
    if (j->len + n + 1 > j->cap) {
        size_t cap = j->cap ? j->cap : 4096;
        char *p;

        while (j->len + n + 1 > cap)
            cap *= 2;
        if (cap > EXPORT_MAX_MANIFEST_BYTES) {
            j->err = -EMSGSIZE;
            return;
        }
        p = realloc(j->p, cap);
        if (!p) {
            j->err = -ENOMEM;
            return;
        }
        j->p = p;
        j->cap = cap;
    }
    memcpy(j->p + j->len, s, n);
    j->len += n;
    j->p[j->len] = '\0';
}

static void jb_s(struct jbuf *j, const char *s)
{
    jb_put(j, s, strlen(s));
}

static void jb_escaped(struct jbuf *j, const char *s)
{
    jb_s(j, "\"");
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        char e[8];

        if (*c == '"' || *c == '\\') {
            e[0] = '\\';
            e[1] = (char)*c;
            jb_put(j, e, 2);
        } else if (*c < 0x20 || *c == 0x7f) {
            snprintf(e, sizeof(e), "\\u%04x", *c);
            jb_s(j, e);
        } else {
            jb_put(j, (const char *)c, 1);
        }
    }
    jb_s(j, "\"");
}

static void jb_key(struct jbuf *j, const char *key)
{
    if (!j->first)
        jb_s(j, ",");
    j->first = false;
    if (j->depth > 0) {
        jb_s(j, "\n");
        for (int i = 0; i < j->depth; i++)
            jb_s(j, "  ");
    }
    if (key) {
        jb_escaped(j, key);
        jb_s(j, ": ");
    }
}

static void jb_open(struct jbuf *j, const char *key, const char *bracket)
{
    jb_key(j, key);
    jb_s(j, bracket);
    j->depth++;
    j->first = true;
}

static void jb_close(struct jbuf *j, const char *bracket)
{
    j->depth--;
    if (!j->first) {
        jb_s(j, "\n");
        for (int i = 0; i < j->depth; i++)
            jb_s(j, "  ");
    }
    jb_s(j, bracket);
    j->first = false;
}

static void jb_str(struct jbuf *j, const char *key, const char *v)
{
    jb_key(j, key);
    if (v)
        jb_escaped(j, v);
    else
        jb_s(j, "null");
}

static void jb_int(struct jbuf *j, const char *key, int64_t v)
{
    char b[32];

    jb_key(j, key);
    snprintf(b, sizeof(b), "%lld", (long long)v);
    jb_s(j, b);
}

static void jb_num(struct jbuf *j, const char *key, double v)
{
    char b[48];

    jb_key(j, key);
    snprintf(b, sizeof(b), "%.6f", v);
    jb_s(j, b);
}

static void jb_bool(struct jbuf *j, const char *key, bool v)
{
    jb_key(j, key);
    jb_s(j, v ? "true" : "false");
}

static void jb_null_key(struct jbuf *j, const char *key)
{
    jb_key(j, key);
    jb_s(j, "null");
}

/* "key": UTC text, "key_us": integer, "key_local": local text. */
static void jb_time(struct jbuf *j, const char *key, int64_t us)
{
    char k[64], t[80];

    nvr_time_format_utc(us, t, sizeof(t));
    jb_str(j, key, t);
    snprintf(k, sizeof(k), "%s_us", key);
    jb_int(j, k, us);
    snprintf(k, sizeof(k), "%s_local", key);
    nvr_time_format_local_iso(us, t, sizeof(t));
    jb_str(j, k, t);
}

/* ---- hashing sources beside the muxer ---- */

/*
 * Source bytes, and the clip's, are hashed on a helper thread while this
 * thread demuxes and muxes: a source is read in chunks, each chunk is
 * served to the demuxer and then queued for hashing; the clip's media data
 * are gathered in chunks, written, and queued (in order, so one running
 * digest per file stays correct). On two cores this takes the SHA-256s
 * off the muxer's path. Chunks of 256 KiB: small enough to be still in the
 * cache when hashed, large enough that handing them over costs little.
 */
#define EXPORT_CHUNK_BYTES ((size_t)256 * 1024)
#define EXPORT_CHUNKS      32

struct chunk {
    uint8_t *buf;
    size_t len;
    struct nvr_sha256 *md; /* the digest this chunk continues */
};

struct hasher {
    pthread_t th;
    pthread_mutex_t mu;
    /* Two conditions, each signalled only when someone waits on it: a
     * wake-up per chunk would cost more than hashing it. */
    pthread_cond_t work; /* the hasher waits: a chunk queued, or stop */
    pthread_cond_t done; /* the muxer waits: a chunk free, or idle */
    bool running, stop, busy;
    bool hasher_waits, muxer_waits;
    struct chunk chunks[EXPORT_CHUNKS];
    struct chunk *free_list[EXPORT_CHUNKS];
    int n_free;
    struct chunk *queue[EXPORT_CHUNKS]; /* FIFO of chunks to hash */
    int q_head, q_len;
};

static void *hasher_main(void *arg)
{
    struct hasher *h = arg;

    pthread_mutex_lock(&h->mu);
    for (;;) {
        struct chunk *c;

        while (h->q_len == 0 && !h->stop) {
            h->hasher_waits = true;
            pthread_cond_wait(&h->work, &h->mu);
            h->hasher_waits = false;
        }
        if (h->q_len == 0)
            break;
        c = h->queue[h->q_head];
        h->q_head = (h->q_head + 1) % EXPORT_CHUNKS;
        h->q_len--;
        h->busy = true;
        pthread_mutex_unlock(&h->mu);
        if (c->len > 0)
            nvr_sha256_update(c->md, c->buf, c->len);
        pthread_mutex_lock(&h->mu);
        h->busy = false;
        h->free_list[h->n_free++] = c;
        if (h->muxer_waits)
            pthread_cond_signal(&h->done);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

static int hasher_start(struct hasher *h)
{
    memset(h, 0, sizeof(*h));
    for (int i = 0; i < EXPORT_CHUNKS; i++) {
        h->chunks[i].buf = malloc(EXPORT_CHUNK_BYTES);
        if (!h->chunks[i].buf) {
            for (int k = 0; k < i; k++)
                free(h->chunks[k].buf);
            return -ENOMEM;
        }
        h->free_list[h->n_free++] = &h->chunks[i];
    }
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->work, NULL);
    pthread_cond_init(&h->done, NULL);
    if (pthread_create(&h->th, NULL, hasher_main, h) != 0) {
        pthread_mutex_destroy(&h->mu);
        pthread_cond_destroy(&h->work);
        pthread_cond_destroy(&h->done);
        for (int i = 0; i < EXPORT_CHUNKS; i++)
            free(h->chunks[i].buf);
        return -EAGAIN;
    }
    h->running = true;
    return 0;
}

static void hasher_stop(struct hasher *h)
{
    if (!h->running)
        return;
    pthread_mutex_lock(&h->mu);
    h->stop = true;
    pthread_cond_signal(&h->work);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->th, NULL);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->work);
    pthread_cond_destroy(&h->done);
    for (int i = 0; i < EXPORT_CHUNKS; i++)
        free(h->chunks[i].buf);
    h->running = false;
}

static struct chunk *hasher_get(struct hasher *h)
{
    struct chunk *c;

    pthread_mutex_lock(&h->mu);
    while (h->n_free == 0) {
        h->muxer_waits = true;
        pthread_cond_wait(&h->done, &h->mu);
        h->muxer_waits = false;
    }
    c = h->free_list[--h->n_free];
    pthread_mutex_unlock(&h->mu);
    return c;
}

/* Queues c for hashing (hash = true) or just gives it back. */
static void hasher_put(struct hasher *h, struct chunk *c, bool hash)
{
    pthread_mutex_lock(&h->mu);
    if (hash) {
        h->queue[(h->q_head + h->q_len) % EXPORT_CHUNKS] = c;
        h->q_len++;
        if (h->hasher_waits)
            pthread_cond_signal(&h->work);
    } else {
        h->free_list[h->n_free++] = c;
    }
    pthread_mutex_unlock(&h->mu);
}

/* Waits until every queued chunk is hashed. */
static void hasher_wait_idle(struct hasher *h)
{
    if (!h->running)
        return;
    pthread_mutex_lock(&h->mu);
    while (h->q_len > 0 || h->busy) {
        h->muxer_waits = true;
        pthread_cond_wait(&h->done, &h->mu);
        h->muxer_waits = false;
    }
    pthread_mutex_unlock(&h->mu);
}

/* ---- per-clip state ---- */

/* Most audio streams carried into one clip (segments hold one). */
#define EXPORT_MAX_AUDIO EXPORT_MAX_AUDIO_STREAMS
/* Most audio packets held while a segment's first video frame is not yet
 * read (its origin is needed to place them); a fragment's worth. */
#define EXPORT_MAX_EARLY_AUDIO 1024
/* Largest front region (ftyp, reserved index, mdat header) kept in memory
 * to hash the clip while it is written; beyond it the clip is hashed from
 * the file afterwards. */
#define EXPORT_MAX_FRONT_BYTES ((int64_t)256 * 1024 * 1024)
/* Sources at least this much (per mille) in the page cache get the dry
 * pass and the clip hashed while written; others are read once, from the
 * disk, and the clip is hashed from the page cache afterwards. */
#define EXPORT_PLAN_CACHED_PERMILLE 900
/* Avio buffer of the demuxer and the muxer: small, so that packet data
 * larger than it bypass it (one memcpy fewer per byte). */
#define EXPORT_AVIO_BUF_BYTES ((size_t)32 * 1024)
/* Audio that lands this close to the end of the previous packet (rounding
 * at a segment seam) continues it exactly. */
#define EXPORT_AUDIO_SNAP_US 40000

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
    double media_start_s;     /* where the jump is in the clip */
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
    struct exp_gap *gaps;
    int n_gaps;
    bool written; /* out_path exists and is ours */
    bool sidecar; /* .sha256 exists and is ours */
    /* The streams, from the sources' headers (export_probe). */
    AVCodecParameters *vpar; /* owned */
    AVRational vtb;
    struct exp_audio audio[EXPORT_MAX_AUDIO];
    int n_audio;
    const char *container; /* "mp4" or "mov": from the output name */
    bool clip_hashed;      /* res->sha256 taken while writing */
};

struct export_job {
    struct catalog *cat;
    struct exp_clip *clips;
    int n;
    export_progress_cb progress;
    void *user;
    int64_t total_bytes, done_bytes, next_report;
    int64_t now_us;
    char user_name[64], host[128];
    struct hasher hasher;
};

static int collect_seg(void *user, const struct catalog_segment *seg)
{
    struct exp_clip *c = user;

    if (c->n_segs >= EXPORT_MAX_SEGMENTS) {
        c->n_segs = -1;
        return 1;
    }
    if (c->n_segs == c->cap_segs) {
        int cap = c->cap_segs ? c->cap_segs * 2 : 64;
        struct exp_seg *p = realloc(c->segs, (size_t)cap * sizeof(*p));

        if (!p) {
            c->n_segs = -2;
            return 1;
        }
        c->segs = p;
        c->cap_segs = cap;
    }
    memset(&c->segs[c->n_segs], 0, sizeof(c->segs[0]));
    c->segs[c->n_segs].read_limit = -1;
    c->segs[c->n_segs++].cat = *seg;
    return 0;
}

static void clip_free_streams(struct exp_clip *c)
{
    avcodec_parameters_free(&c->vpar);
    for (int k = 0; k < c->n_audio; k++)
        avcodec_parameters_free(&c->audio[k].par);
    c->n_audio = 0;
}

static void job_progress(struct export_job *job, int64_t add, bool force)
{
    job->done_bytes += add;
    if (!job->progress)
        return;
    if (force || job->done_bytes >= job->next_report) {
        job->progress(job->user, job->done_bytes, job->total_bytes);
        job->next_report = job->done_bytes + EXPORT_PROGRESS_STEP;
    }
}

/* ---- reading a source segment ---- */

struct src_io {
    int fd;
    int64_t pos, limit; /* bytes read from the file; bytes to read */
    struct nvr_sha256 *md;
    struct export_job *job;
    struct hasher *hasher;
    struct chunk *cur; /* being served to the demuxer */
    size_t off;        /* bytes of cur served */
    /* The dry pass reads only the boxes, not the media data: */
    bool dry;
    int64_t box_end;   /* end of the current top-level box */
    int64_t skip_from; /* payload of an mdat: served as zeros from here */
};

/* Reads the next chunk of the file into s->cur. Returns its length (0 at
 * the limit) or a negative errno. */
static int src_fill(struct src_io *s)
{
    size_t want = EXPORT_CHUNK_BYTES, got = 0;

    if (s->limit - s->pos < (int64_t)want)
        want = (size_t)(s->limit - s->pos);
    if (want == 0)
        return 0;
    s->cur = hasher_get(s->hasher);
    s->cur->md = s->md;
    s->off = 0;
    while (got < want) {
        ssize_t n = read(s->fd, s->cur->buf + got, want - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int err = n < 0 ? -errno : -EIO; /* the file shrank */

            hasher_put(s->hasher, s->cur, false);
            s->cur = NULL;
            return err;
        }
        got += (size_t)n;
    }
    s->cur->len = got;
    s->pos += (int64_t)got;
    job_progress(s->job, (int64_t)got, false);
    return (int)got;
}

/* The dry pass: box headers and boxes other than mdat come from the file,
 * the payload of an mdat is served as zeros without reading it. The
 * demuxer sees the same boxes, so the same packets (sizes, timestamps,
 * flags), as in the real pass. */
static int src_read_dry(struct src_io *s, uint8_t *buf, int size)
{
    int64_t n;

    if (s->pos >= s->limit)
        return AVERROR_EOF;
    if (s->pos >= s->box_end) {
        struct mp4box box;

        if (mp4box_read(s->fd, s->pos, s->limit, &box) < 0) {
            s->box_end = s->limit;
            s->skip_from = INT64_MAX;
        } else {
            s->box_end = s->pos + (int64_t)box.size;
            s->skip_from =
                mp4box_is(&box, "mdat") ? s->pos + box.header_len : INT64_MAX;
        }
    }
    n = NVR_MIN((int64_t)size, s->box_end - s->pos);
    if (s->pos >= s->skip_from) {
        memset(buf, 0, (size_t)n);
    } else {
        ssize_t r;

        n = NVR_MIN(n, s->skip_from - s->pos);
        do {
            r = pread(s->fd, buf, (size_t)n, s->pos);
        } while (r < 0 && errno == EINTR);
        if (r <= 0)
            return r < 0 ? AVERROR(errno) : AVERROR(EIO);
        n = r;
    }
    s->pos += n;
    return (int)n;
}

static int src_read(void *opaque, uint8_t *buf, int size)
{
    struct src_io *s = opaque;
    size_t n;

    if (s->dry)
        return src_read_dry(s, buf, size);
    if (s->cur && s->off == s->cur->len) {
        hasher_put(s->hasher, s->cur, true);
        s->cur = NULL;
    }
    if (!s->cur) {
        int r = src_fill(s);

        if (r <= 0 || !s->cur)
            return r < 0 ? r : AVERROR_EOF;
    }
    n = NVR_MIN((size_t)size, s->cur->len - s->off);
    memcpy(buf, s->cur->buf + s->off, n);
    s->off += n;
    return (int)n;
}

/* Queues the bytes after what the demuxer read, up to the limit, for
 * hashing. The digest is complete once the hasher is idle. */
static int src_drain(struct src_io *s)
{
    int r;

    if (s->cur) {
        hasher_put(s->hasher, s->cur, true);
        s->cur = NULL;
    }
    while ((r = src_fill(s)) > 0) {
        hasher_put(s->hasher, s->cur, true);
        s->cur = NULL;
    }
    if (r < 0)
        return r;
    return s->pos == s->limit ? 0 : -EIO;
}

struct src {
    struct src_io io;
    AVIOContext *pb;
    AVFormatContext *fmt;
    int vidx; /* video stream index */
};

static void src_close(struct src *s)
{
    if (s->fmt)
        avformat_close_input(&s->fmt);
    if (s->pb) {
        av_freep(&s->pb->buffer);
        avio_context_free(&s->pb);
    }
    if (s->io.cur)
        hasher_put(s->io.hasher, s->io.cur, false);
    /* s->io.md is the segment's: queued chunks may still use it. */
    if (s->io.fd >= 0)
        close(s->io.fd);
    memset(s, 0, sizeof(*s));
    s->io.fd = -1;
}

/* Opens a source segment. dry: for reading its boxes only (no hashing,
 * no progress). */
static int src_open(struct export_job *job, const char *storage_dir,
                    struct exp_seg *seg, bool dry, struct src *s)
{
    char path[PATH_MAX];
    struct stat stt;
    uint8_t *buf = NULL;
    int err;

    memset(s, 0, sizeof(*s));
    s->io.fd = -1;
    s->io.job = job;
    s->io.hasher = &job->hasher;
    s->io.dry = dry;
    if (snprintf(path, sizeof(path), "%s/%s", storage_dir, seg->cat.path) >=
        (int)sizeof(path))
        return -ENAMETOOLONG;
    s->io.fd = open(path, O_RDONLY | O_CLOEXEC);
    if (s->io.fd < 0) {
        err = -errno;
        LOG_E("export", "segment %s: %s", path, strerror(-err));
        return err;
    }
    if (fstat(s->io.fd, &stt) != 0) {
        err = -errno;
        goto err;
    }
    (void)posix_fadvise(s->io.fd, 0, 0,
                        dry ? POSIX_FADV_RANDOM : POSIX_FADV_SEQUENTIAL);
    /* The limit is fixed the first time the segment is opened, so every
     * pass (and the hash) sees the same bytes of a file still growing. */
    if (seg->read_limit < 0) {
        if (seg->cat.status == CATALOG_SEG_OPEN) {
            err = mp4box_complete_prefix(s->io.fd, (int64_t)stt.st_size,
                                         MP4BOX_GROWING, &seg->read_limit);
            if (err < 0) {
                seg->read_limit = -1;
                goto err;
            }
        } else {
            seg->read_limit = (int64_t)stt.st_size;
        }
    }
    if (seg->read_limit > (int64_t)stt.st_size) {
        err = -EIO; /* the file shrank */
        goto err;
    }
    s->io.limit = seg->read_limit;
    if (!dry) {
        if (!seg->md) {
            seg->md = nvr_sha256_new();
            if (!seg->md) {
                err = -ENOMEM;
                goto err;
            }
        }
        s->io.md = seg->md;
    }
    buf = av_malloc(EXPORT_AVIO_BUF_BYTES);
    if (!buf) {
        err = -ENOMEM;
        goto err;
    }
    /* Not seekable: the demuxer reads the file front to back once, so
     * every byte passes through the hash exactly once. */
    s->pb = avio_alloc_context(buf, (int)EXPORT_AVIO_BUF_BYTES, 0, &s->io,
                               src_read, NULL, NULL);
    if (!s->pb) {
        av_free(buf);
        err = -ENOMEM;
        goto err;
    }
    s->pb->seekable = 0;
    s->fmt = avformat_alloc_context();
    if (!s->fmt) {
        err = -ENOMEM;
        goto err;
    }
    s->fmt->pb = s->pb;
    /* The container's own sample flags and timestamps, never a parser's
     * reading of the payload: the dry pass serves no payload, and both
     * passes must see the same packets (and parsing would only cost). */
    s->fmt->flags |= AVFMT_FLAG_CUSTOM_IO | AVFMT_FLAG_NOPARSE;
    /* "mov" is the demuxer of both .mp4 and .mov segments. */
    err = avformat_open_input(&s->fmt, NULL, av_find_input_format("mov"), NULL);
    if (err < 0) {
        s->fmt = NULL;
        LOG_E("export", "segment %s is not a readable MP4: %s", path,
              av_err2str(err));
        err = -EBADMSG;
        goto err;
    }
    s->vidx = -1;
    for (unsigned i = 0; i < s->fmt->nb_streams; i++) {
        if (s->fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) {
            s->vidx = (int)i;
            break;
        }
    }
    if (s->vidx < 0) {
        LOG_E("export", "segment %s has no video track", path);
        err = -EBADMSG;
        goto err;
    }
    return 0;
err:
    src_close(s);
    return err;
}

/* ---- which streams, which container ---- */

static bool same_stream_kind(const AVCodecParameters *a,
                             const AVCodecParameters *b)
{
    return a->codec_id == b->codec_id && a->width == b->width &&
           a->height == b->height;
}

static bool same_audio(const AVCodecParameters *a, const AVCodecParameters *b)
{
    return a->codec_id == b->codec_id && a->sample_rate == b->sample_rate &&
           a->ch_layout.nb_channels == b->ch_layout.nb_channels;
}

/* Whether MP4 can hold this codec (FFmpeg's mp4 muxer has no tag for
 * G.711: "Could not find tag for codec pcm_alaw"). */
static bool mp4_can_hold(enum AVCodecID id)
{
    const AVOutputFormat *mp4 = av_guess_format("mp4", NULL, NULL);

    return mp4 && avformat_query_codec(mp4, id, FF_COMPLIANCE_NORMAL) == 1;
}

/* "mp4" / "mov" from the name's extension, NULL for any other. */
static const char *container_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');

    if (!dot || (slash && dot < slash))
        return NULL;
    if (strcasecmp(dot, ".mp4") == 0)
        return "mp4";
    if (strcasecmp(dot, ".mov") == 0)
        return "mov";
    return NULL;
}

/*
 * Reads the headers of every source segment of c (a few kilobytes each)
 * and decides the clip's streams: the video of the first segment (later
 * ones must match it) and, in order, each audio stream the segments carry
 * (the k-th audio stream of every segment goes to the clip's k-th).
 * Sets *needs_mov when an audio codec cannot go into MP4.
 */
static int clip_probe(struct export_job *job, struct exp_clip *c,
                      bool *needs_mov, const char **bad_codec)
{
    const struct export_request *req = c->req;
    int err = 0;

    *needs_mov = false;
    *bad_codec = NULL;
    for (int i = 0; i < c->n_segs; i++) {
        struct exp_seg *seg = &c->segs[i];
        struct src s;
        AVStream *vst;
        int k = 0;

        err = src_open(job, req->storage_dir, seg, true, &s);
        if (err < 0)
            return err;
        seg->vidx = s.vidx;
        vst = s.fmt->streams[s.vidx];
        if (!c->vpar) {
            c->vpar = avcodec_parameters_alloc();
            if (!c->vpar ||
                avcodec_parameters_copy(c->vpar, vst->codecpar) < 0) {
                src_close(&s);
                return -ENOMEM;
            }
            c->vtb = vst->time_base;
        } else if (!same_stream_kind(c->vpar, vst->codecpar)) {
            LOG_E("export",
                  "camera %s: segment %s changes codec or picture size "
                  "mid-range; export the parts separately",
                  req->camera, seg->cat.path);
            src_close(&s);
            return -ENOTSUP;
        }
        memset(seg->map, -1, sizeof(seg->map));
        for (unsigned si = 0; si < s.fmt->nb_streams && si < sizeof(seg->map);
             si++) {
            const AVStream *st = s.fmt->streams[si];

            if (st->codecpar->codec_type != AVMEDIA_TYPE_AUDIO)
                continue;
            if (k == EXPORT_MAX_AUDIO) {
                LOG_E("export",
                      "camera %s: segment %s has more than %d audio "
                      "streams",
                      req->camera, seg->cat.path, EXPORT_MAX_AUDIO);
                src_close(&s);
                return -ENOTSUP;
            }
            if (k == c->n_audio) {
                struct exp_audio *a = &c->audio[c->n_audio];

                a->par = avcodec_parameters_alloc();
                if (!a->par ||
                    avcodec_parameters_copy(a->par, st->codecpar) < 0) {
                    avcodec_parameters_free(&a->par);
                    src_close(&s);
                    return -ENOMEM;
                }
                a->tb = st->time_base;
                c->n_audio++;
                if (!mp4_can_hold(st->codecpar->codec_id)) {
                    *needs_mov = true;
                    if (!*bad_codec)
                        *bad_codec = avcodec_get_name(st->codecpar->codec_id);
                }
            } else if (!same_audio(c->audio[k].par, st->codecpar) ||
                       av_cmp_q(c->audio[k].tb, st->time_base) != 0) {
                LOG_E("export",
                      "camera %s: segment %s changes the audio codec or "
                      "sample rate mid-range; export the parts separately",
                      req->camera, seg->cat.path);
                src_close(&s);
                return -ENOTSUP;
            }
            seg->map[si] = (int8_t)k++;
        }
        src_close(&s);
    }
    return err;
}

int export_probe(struct catalog *cat, const struct export_request *req,
                 struct export_probe *out)
{
    struct export_job job;
    struct exp_clip c;
    int64_t cam_id;
    bool mov;
    const char *bad;
    int err;

    NVR_ASSERT_NOT_LOOP();
    if (!cat || !req || !out || !req->storage_dir || !req->camera ||
        req->from_us >= req->to_us)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    memset(&job, 0, sizeof(job));
    memset(&c, 0, sizeof(c));
    job.cat = cat;
    c.req = req;
    err = catalog_camera_find(cat, req->camera, &cam_id);
    if (err < 0)
        return err;
    err = catalog_segment_list(
        cat, cam_id, req->from_us, req->to_us,
        (1u << CATALOG_SEG_OPEN) | (1u << CATALOG_SEG_CLOSED), collect_seg, &c);
    if (err == 0 && c.n_segs < 0)
        err = c.n_segs == -1 ? -E2BIG : -ENOMEM;
    else if (err == 0 && c.n_segs == 0)
        err = -ENOENT;
    if (err == 0)
        err = clip_probe(&job, &c, &mov, &bad);
    if (err == 0) {
        snprintf(out->extension, sizeof(out->extension), "%s",
                 mov ? ".mov" : ".mp4");
        snprintf(out->video_codec, sizeof(out->video_codec), "%s",
                 avcodec_get_name(c.vpar->codec_id));
        out->n_audio = c.n_audio;
        for (int k = 0; k < c.n_audio && k < EXPORT_MAX_AUDIO; k++)
            snprintf(out->audio_codec[k], sizeof(out->audio_codec[k]), "%s",
                     avcodec_get_name(c.audio[k].par->codec_id));
        if (bad)
            snprintf(out->not_mp4_codec, sizeof(out->not_mp4_codec), "%s", bad);
    }
    clip_free_streams(&c);
    free(c.segs);
    return err;
}

/* ---- writing the clip ---- */

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
struct clip_io {
    int fd;         /* -1: the dry pass */
    int64_t pos;    /* where the next write goes */
    int64_t end;    /* the file's size so far */
    uint8_t *front; /* bytes written below front_cap (zeros if not) */
    int64_t front_cap;
    int64_t data_start; /* where the media data begin; INT64_MAX before */
    int64_t next;       /* where the next media byte is expected */
    bool stream_ok;     /* every media byte was hashed, in order */
    bool front_ok;      /* every front byte fitted in front[] */
    struct hasher *hasher;
    struct nvr_sha256 *md; /* real pass: the clip's digest */
    struct chunk *cur;
    int64_t cur_pos; /* file offset of cur's first byte */
    int err;
};

static int clip_pwrite(struct clip_io *io, const uint8_t *p, size_t n,
                       int64_t off)
{
    while (n > 0) {
        ssize_t w = pwrite(io->fd, p, n, off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? -errno : -EIO;
        p += w;
        n -= (size_t)w;
        off += w;
    }
    return 0;
}

/* Writes out the chunk being filled and queues it for hashing. */
static int clip_flush_chunk(struct clip_io *io)
{
    int err = 0;

    if (!io->cur)
        return 0;
    if (io->cur->len > 0)
        err = clip_pwrite(io, io->cur->buf, io->cur->len, io->cur_pos);
    hasher_put(io->hasher, io->cur, err == 0 && io->stream_ok);
    io->cur = NULL;
    return err;
}

static int clip_media(struct clip_io *io, const uint8_t *p, size_t n)
{
    if (io->fd < 0) {
        io->next += (int64_t)n;
        return 0; /* the dry pass keeps only the front region */
    }
    if (!io->stream_ok || io->pos != io->next) {
        int err = clip_flush_chunk(io);

        io->stream_ok = false;
        return err < 0 ? err : clip_pwrite(io, p, n, io->pos);
    }
    while (n > 0) {
        size_t take;

        if (!io->cur) {
            io->cur = hasher_get(io->hasher);
            io->cur->md = io->md;
            io->cur->len = 0;
            io->cur_pos = io->next;
        }
        take = NVR_MIN(n, EXPORT_CHUNK_BYTES - io->cur->len);
        memcpy(io->cur->buf + io->cur->len, p, take);
        io->cur->len += take;
        io->next += (int64_t)take;
        p += take;
        n -= take;
        if (io->cur->len == EXPORT_CHUNK_BYTES) {
            int err = clip_flush_chunk(io);

            if (err < 0)
                return err;
        }
    }
    return 0;
}

static int clip_write(void *opaque, uint8_t *buf, int size)
{
    struct clip_io *io = opaque;
    size_t n = (size_t)size;
    int err = 0;

    if (io->err)
        return io->err;
    if (io->pos < io->data_start) {
        size_t f = (size_t)NVR_MIN((int64_t)n, io->data_start - io->pos);

        if (io->pos + (int64_t)f <= io->front_cap)
            memcpy(io->front + io->pos, buf, f);
        else
            io->front_ok = false;
        if (io->fd >= 0)
            err = clip_pwrite(io, buf, f, io->pos);
        io->pos += (int64_t)f;
        buf += f;
        n -= f;
    }
    if (!err && n > 0) {
        err = clip_media(io, buf, n);
        io->pos += (int64_t)n;
    }
    io->end = NVR_MAX(io->end, io->pos);
    if (err < 0) {
        io->err = AVERROR(-err);
        return io->err;
    }
    return size;
}

static int64_t clip_seek(void *opaque, int64_t offset, int whence)
{
    struct clip_io *io = opaque;

    switch (whence & ~AVSEEK_FORCE) {
    case AVSEEK_SIZE:
        return io->end;
    case SEEK_SET:
        break;
    case SEEK_CUR:
        offset += io->pos;
        break;
    case SEEK_END:
        offset += io->end;
        break;
    default:
        return AVERROR(EINVAL);
    }
    if (offset < 0)
        return AVERROR(EINVAL);
    io->pos = offset;
    return offset;
}

/* The tx3g sample description (3GPP TS 26.245 5.16): display flags,
 * justification, background colour, default text box, default style
 * (font 1, 18 px, opaque white) and a font table naming "Sans-Serif". */
static const uint8_t tx3g_desc[] = {
    0,    0,    0,    0,            /* displayFlags */
    1,                              /* horizontal justification: centre */
    0xff,                           /* vertical justification: bottom */
    0,    0,    0,    0xff,         /* background RGBA: opaque black */
    0,    0,    0,    0,            /* BoxRecord top, left */
    0,    0,    0,    0,            /* bottom, right */
    0,    0,    0,    0,            /* StyleRecord startChar, endChar */
    0,    1,                        /* font ID */
    0,                              /* face style flags */
    18,                             /* font size */
    0xff, 0xff, 0xff, 0xff,         /* text RGBA */
    0,    0,    0,    21,           /* FontTableBox size */
    'f',  't',  'a',  'b',  0,   1, /* entry count */
    0,    1,                        /* font ID */
    10,   'S',  'a',  'n',  's', '-', 'S', 'e', 'r', 'i', 'f',
};

struct out {
    AVFormatContext *fmt;
    AVIOContext *pb;
    AVStream *vst, *sst, *ast[EXPORT_MAX_AUDIO];
    AVRational tb;        /* our video timestamps (the source's) */
    int64_t cue_start_ms; /* pending cue, -1 if none */
    char cue_text[96];
    int64_t cue_second; /* wall second the pending cue shows */
    AVPacket *pkt;
};

static int out_cue_write(struct out *o, int64_t end_ms)
{
    size_t n;
    int err;

    if (o->cue_start_ms < 0 || end_ms <= o->cue_start_ms)
        return 0;
    n = strlen(o->cue_text);
    av_packet_unref(o->pkt);
    err = av_new_packet(o->pkt, (int)n + 2);
    if (err < 0)
        return err;
    o->pkt->data[0] = (uint8_t)(n >> 8);
    o->pkt->data[1] = (uint8_t)n;
    memcpy(o->pkt->data + 2, o->cue_text, n);
    o->pkt->stream_index = o->sst->index;
    o->pkt->pts = o->pkt->dts = o->cue_start_ms;
    o->pkt->duration = end_ms - o->cue_start_ms;
    o->pkt->flags = AV_PKT_FLAG_KEY;
    av_packet_rescale_ts(o->pkt, EXPORT_SUB_TB, o->sst->time_base);
    o->cue_start_ms = -1;
    return av_interleaved_write_frame(o->fmt, o->pkt);
}

/* A frame shown at media time ts (o->tb) is wall time wall_us: start a new
 * cue when the wall-clock second changes. */
static int out_cue_frame(struct out *o, int64_t ts, int64_t wall_us)
{
    int64_t sec = wall_us / 1000000;
    int64_t ms = av_rescale_q(ts, o->tb, EXPORT_SUB_TB);
    int err;

    if (o->cue_start_ms >= 0 && sec == o->cue_second)
        return 0;
    err = out_cue_write(o, ms);
    if (err < 0)
        return err;
    o->cue_start_ms = ms;
    o->cue_second = sec;
    nvr_time_format_local(wall_us, o->cue_text, sizeof(o->cue_text));
    return 0;
}

/* A gap between media times a and b: the pending cue ends at a, and one
 * cue says nothing was recorded. */
static int out_cue_gap(struct out *o, int64_t a, int64_t b,
                       const struct exp_gap *g)
{
    char s[48], e[48];
    int64_t a_ms = av_rescale_q(a, o->tb, EXPORT_SUB_TB);
    int err = out_cue_write(o, a_ms);

    if (err < 0)
        return err;
    nvr_time_format_local(g->start_us, s, sizeof(s));
    nvr_time_format_local(g->end_us, e, sizeof(e));
    o->cue_start_ms = a_ms;
    o->cue_second = -1;
    snprintf(o->cue_text, sizeof(o->cue_text), "NO RECORDING %s - %s", s + 11,
             e + 11);
    return out_cue_write(o, av_rescale_q(b, o->tb, EXPORT_SUB_TB));
}

static int out_open(struct out *o, struct clip_io *io, const struct exp_clip *c,
                    int64_t start_us, int64_t moov_bytes)
{
    AVDictionary *opts = NULL;
    const char *camera = c->req->camera;
    uint8_t *buf;
    char t[80];
    int err;

    memset(o, 0, sizeof(*o));
    o->cue_start_ms = -1;
    o->tb = c->vtb;
    o->pkt = av_packet_alloc();
    if (!o->pkt)
        return -ENOMEM;
    err = avformat_alloc_output_context2(&o->fmt, NULL, c->container, NULL);
    if (err < 0)
        return err;
    o->vst = avformat_new_stream(o->fmt, NULL);
    if (!o->vst)
        return -ENOMEM;
    err = avcodec_parameters_copy(o->vst->codecpar, c->vpar);
    if (err < 0)
        return err;
    o->vst->codecpar->codec_tag = 0;
    o->vst->time_base = c->vtb;
    for (int k = 0; k < c->n_audio; k++) {
        o->ast[k] = avformat_new_stream(o->fmt, NULL);
        if (!o->ast[k])
            return -ENOMEM;
        err = avcodec_parameters_copy(o->ast[k]->codecpar, c->audio[k].par);
        if (err < 0)
            return err;
        o->ast[k]->codecpar->codec_tag = 0;
        o->ast[k]->time_base = c->audio[k].tb;
    }
    o->sst = avformat_new_stream(o->fmt, NULL);
    if (!o->sst)
        return -ENOMEM;
    o->sst->codecpar->codec_type = AVMEDIA_TYPE_SUBTITLE;
    o->sst->codecpar->codec_id = AV_CODEC_ID_MOV_TEXT;
    /* tx3g in QuickTime too: its default "text" entry would not carry the
     * 3GPP sample description below. */
    o->sst->codecpar->codec_tag = MKTAG('t', 'x', '3', 'g');
    o->sst->codecpar->extradata =
        av_mallocz(sizeof(tx3g_desc) + AV_INPUT_BUFFER_PADDING_SIZE);
    if (!o->sst->codecpar->extradata)
        return -ENOMEM;
    memcpy(o->sst->codecpar->extradata, tx3g_desc, sizeof(tx3g_desc));
    o->sst->codecpar->extradata_size = (int)sizeof(tx3g_desc);
    o->sst->time_base = EXPORT_SUB_TB;
    av_dict_set(&o->sst->metadata, "language", "eng", 0);
    av_dict_set(&o->sst->metadata, "handler_name", "wall clock", 0);
    av_dict_set(&o->vst->metadata, "handler_name", camera, 0);
    nvr_time_format_utc(start_us, t, sizeof(t));
    av_dict_set(&o->fmt->metadata, "creation_time", t, 0);
    av_dict_set(&o->fmt->metadata, "title", camera, 0);
    av_dict_set(&o->fmt->metadata, "comment",
                "nvr evidential export; see the manifest", 0);
    buf = av_malloc(EXPORT_AVIO_BUF_BYTES);
    if (!buf)
        return -ENOMEM;
    o->pb = avio_alloc_context(buf, (int)EXPORT_AVIO_BUF_BYTES, 1, io, NULL,
                               clip_write, clip_seek);
    if (!o->pb) {
        av_free(buf);
        return -ENOMEM;
    }
    o->pb->seekable = AVIO_SEEKABLE_NORMAL;
    /* Packet data go straight to clip_write, not through the buffer. */
    o->pb->direct = 1;
    o->fmt->pb = o->pb;
    o->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
    /* Faststart without a second pass: the index is written into space
     * reserved after ftyp (the unused rest becomes a free box), so the
     * media data are written once and never moved. */
    av_dict_set_int(&opts, "moov_size", moov_bytes, 0);
    err = avformat_write_header(o->fmt, &opts);
    av_dict_free(&opts);
    if (err < 0)
        return err;
    avio_flush(o->pb);
    if (io->err)
        return io->err;
    io->data_start = io->pos;
    io->next = io->pos;
    return 0;
}

static void out_free(struct out *o)
{
    if (o->fmt)
        avformat_free_context(o->fmt);
    if (o->pb) {
        av_freep(&o->pb->buffer);
        avio_context_free(&o->pb);
    }
    av_packet_free(&o->pkt);
    memset(o, 0, sizeof(*o));
}

/* ---- one clip ---- */

/* A packet held back: while looking for the keyframe at or before `from`,
 * or audio read before its segment's first video frame. */
struct held {
    AVPacket *pkt;
    int seg;         /* index into clip->segs */
    int kind;        /* -1 video, k audio stream k */
    int64_t rel;     /* video: dts from the segment's first packet */
    int64_t wall_us; /* its wall time */
};

struct pending {
    struct held *v;
    int n, cap;
    size_t bytes;
};

static void pending_clear(struct pending *p)
{
    for (int i = 0; i < p->n; i++)
        av_packet_free(&p->v[i].pkt);
    p->n = 0;
    p->bytes = 0;
}

static int pending_add(struct pending *p, const AVPacket *pkt, int seg,
                       int kind, int64_t rel, int64_t wall_us)
{
    AVPacket *c;

    if (p->bytes + (size_t)pkt->size > EXPORT_MAX_GOP_BYTES)
        return -EMSGSIZE;
    if (p->n == p->cap) {
        int cap = p->cap ? p->cap * 2 : 256;
        struct held *q = realloc(p->v, (size_t)cap * sizeof(*q));

        if (!q)
            return -ENOMEM;
        p->v = q;
        p->cap = cap;
    }
    c = av_packet_clone(pkt);
    if (!c)
        return -ENOMEM;
    p->v[p->n++] = (struct held){c, seg, kind, rel, wall_us};
    p->bytes += (size_t)pkt->size;
    return 0;
}

struct walk {
    struct export_job *job;
    struct exp_clip *clip;
    bool dry;
    struct clip_io io;
    struct out o;
    bool started;       /* the first frame is written */
    bool opened;        /* o is set up (at the first frame) */
    int64_t moov_bytes; /* room reserved for the index */
    const char *path;   /* of the file written, NULL in the dry pass */
    int cur_seg;        /* segment of the last frame written */
    int64_t seg_base;   /* media time = seg_base + rel in cur_seg */
    int64_t last_end;   /* media time after the last frame written */
    int64_t last_wall_end_us;
    int64_t last_dts;
    int64_t a_end[EXPORT_MAX_AUDIO]; /* audio: end of the last packet */
    /* The last sample of a source fragment comes without a duration (the
     * next one is not read yet): it gets the one before it. */
    int64_t v_dur, a_dur[EXPORT_MAX_AUDIO];
    int64_t a_frames;
    struct pending gop;
    struct pending early; /* audio before its segment's first frame */
    bool seg_video_done;  /* the segment's first frame is placed */
};

/* Places segment `seg`, whose frame at rel has wall time wall_us, on the
 * clip's timeline: right after the previous frame within a session, at
 * its real offset after a gap (recorded as such). */
static int walk_place(struct walk *w, int seg, int64_t rel, int64_t wall_us)
{
    struct exp_clip *c = w->clip;
    struct exp_gap *g;
    int64_t at;
    int err;

    w->cur_seg = seg;
    if (!w->started) {
        w->seg_base = -rel;
        return 0;
    }
    if (wall_us - w->last_wall_end_us <= EXPORT_GAP_MIN_US) {
        w->seg_base = w->last_end - rel;
        return 0;
    }
    at = av_rescale_q(wall_us - c->res->actual_from_us, us_tb, c->vtb);
    if (at < w->last_end)
        at = w->last_end;
    g = &c->gaps[c->n_gaps++];
    g->start_us = w->last_wall_end_us;
    g->end_us = wall_us;
    g->media_start_s = (double)w->last_end * av_q2d(c->vtb);
    err = out_cue_gap(&w->o, w->last_end, at, g);
    if (err < 0)
        return err;
    w->seg_base = at - rel;
    return 0;
}

static int walk_write(struct walk *w, AVPacket *pkt, int seg, int64_t rel,
                      int64_t wall_us)
{
    struct export_result *res = w->clip->res;
    AVRational tb = w->clip->vtb;
    int64_t dur = pkt->duration > 0 ? pkt->duration : 1;
    int64_t ts;
    int err;

    if (pkt->duration > 0)
        w->v_dur = pkt->duration;
    else if (w->v_dur > 0)
        dur = w->v_dur;
    if (!w->opened) {
        /* Opened at the first frame: its wall time is the clip's
         * creation_time. */
        err = out_open(&w->o, &w->io, w->clip, wall_us, w->moov_bytes);
        if (err < 0)
            return err;
        w->opened = true;
    }
    if (!w->started || seg != w->cur_seg) {
        err = walk_place(w, seg, rel, wall_us);
        if (err < 0)
            return err;
    }
    if (!w->started) {
        res->actual_from_us = wall_us;
        w->started = true;
    }
    ts = w->seg_base + rel;
    if (w->last_dts != INT64_MIN && ts <= w->last_dts)
        ts = w->last_dts + 1; /* rounding at a seam: stay monotonic */
    err = out_cue_frame(&w->o, ts, wall_us);
    if (err < 0)
        return err;
    w->clip->segs[seg].used = true;
    pkt->stream_index = w->o.vst->index;
    pkt->pts = ts + (pkt->pts != AV_NOPTS_VALUE ? pkt->pts - pkt->dts : 0);
    pkt->dts = ts;
    pkt->duration = dur;
    pkt->pos = -1;
    w->last_dts = ts;
    w->last_end = ts + dur;
    w->last_wall_end_us = wall_us + av_rescale_q(dur, tb, us_tb);
    res->actual_to_us = w->last_wall_end_us;
    res->frames++;
    av_packet_rescale_ts(pkt, tb, w->o.vst->time_base);
    return av_interleaved_write_frame(w->o.fmt, pkt);
}

/*
 * An audio packet of stream k at wall time wall_us, once the clip has
 * started: placed at its wall-clock offset from the clip's start, which is
 * where the video of the same instant is (within a session the video runs
 * on exactly; across a gap both jump to the real offset). A packet that
 * would overlap the previous one, or leave a hole shorter than rounding
 * at a seam, continues it exactly.
 */
static int walk_audio_write(struct walk *w, AVPacket *pkt, int k,
                            int64_t wall_us)
{
    struct export_result *res = w->clip->res;
    AVRational tb = w->clip->audio[k].tb;
    int64_t ts, snap;

    if (wall_us < res->actual_from_us || wall_us >= w->clip->req->to_us)
        return 0;
    ts = av_rescale_q(wall_us - res->actual_from_us, us_tb, tb);
    snap = av_rescale_q(EXPORT_AUDIO_SNAP_US, us_tb, tb);
    if (w->a_end[k] != INT64_MIN && ts < w->a_end[k] + snap)
        ts = w->a_end[k];
    if (pkt->duration > 0)
        w->a_dur[k] = pkt->duration;
    else
        pkt->duration = w->a_dur[k] > 0 ? w->a_dur[k] : 1;
    pkt->stream_index = w->o.ast[k]->index;
    pkt->pts = pkt->dts = ts;
    pkt->pos = -1;
    w->a_end[k] = ts + pkt->duration;
    w->a_frames++;
    av_packet_rescale_ts(pkt, tb, w->o.ast[k]->time_base);
    return av_interleaved_write_frame(w->o.fmt, pkt);
}

/* Handles one source packet (video: already in the clip's time base). */
static int walk_packet(struct walk *w, AVPacket *pkt, int seg, int kind,
                       int64_t rel, int64_t wall_us)
{
    const struct export_request *req = w->clip->req;
    bool key = kind < 0 && (pkt->flags & AV_PKT_FLAG_KEY);
    int err;

    if (kind >= 0) {
        if (w->started)
            return walk_audio_write(w, pkt, kind, wall_us);
        if (w->gop.n > 0)
            return pending_add(&w->gop, pkt, seg, kind, rel, wall_us);
        return 0;
    }
    if (!w->started && wall_us <= req->from_us) {
        /* Before the start: keep only the GOP that contains it. */
        if (key)
            pending_clear(&w->gop);
        if (w->gop.n > 0 || key)
            return pending_add(&w->gop, pkt, seg, kind, rel, wall_us);
        return 0;
    }
    if (!w->started && w->gop.n > 0) {
        for (int i = 0; i < w->gop.n; i++) {
            struct held *h = &w->gop.v[i];

            err = h->kind < 0
                      ? walk_write(w, h->pkt, h->seg, h->rel, h->wall_us)
                      : walk_audio_write(w, h->pkt, h->kind, h->wall_us);
            if (err < 0)
                return err;
        }
        pending_clear(&w->gop);
    }
    if (!w->started && !key)
        return 0; /* a clip starts at a keyframe */
    return walk_write(w, pkt, seg, rel, wall_us);
}

/* Wall time of an audio packet of segment seg whose video starts at
 * first_dts (video time base). */
static int64_t audio_wall(const struct walk *w, const struct exp_seg *seg,
                          const AVPacket *pkt, int k, int64_t first_dts)
{
    int64_t a = av_rescale_q(pkt->dts, w->clip->audio[k].tb, us_tb);
    int64_t v = av_rescale_q(first_dts, w->clip->vtb, us_tb);

    return seg->cat.start_us + (a - v);
}

/* Processes the held video packet of segment i (the one before the last
 * read), then the audio that waited for the segment's first frame. */
static int walk_held_video(struct walk *w, int i, AVPacket *held,
                           int64_t first_dts)
{
    struct exp_seg *seg = &w->clip->segs[i];
    int64_t rel, wall_us;
    int err;

    if (held->dts == AV_NOPTS_VALUE)
        return 0;
    rel = held->dts - first_dts;
    wall_us = seg->cat.start_us + av_rescale_q(rel, w->clip->vtb, us_tb);
    err = walk_packet(w, held, i, -1, rel, wall_us);
    av_packet_unref(held);
    held->dts = AV_NOPTS_VALUE;
    if (err < 0)
        return err;
    for (int k = 0; k < w->early.n; k++) {
        struct held *h = &w->early.v[k];

        err = walk_packet(w, h->pkt, i, h->kind, 0,
                          audio_wall(w, seg, h->pkt, h->kind, first_dts));
        if (err < 0)
            return err;
    }
    pending_clear(&w->early);
    w->seg_video_done = true;
    return 0;
}

static int walk_segment(struct walk *w, int i, bool *done)
{
    struct exp_clip *c = w->clip;
    const struct export_request *req = c->req;
    struct exp_seg *seg = &c->segs[i];
    struct src s;
    AVPacket *pkt = av_packet_alloc();
    AVPacket *held = av_packet_alloc(); /* video, waiting for the next */
    AVStream *ist;
    int64_t first_dts = AV_NOPTS_VALUE;
    unsigned a_left = 0; /* audio streams not yet read up to to_us */
    int err;

    if (!pkt || !held) {
        av_packet_free(&pkt);
        av_packet_free(&held);
        return -ENOMEM;
    }
    held->dts = AV_NOPTS_VALUE;
    err = src_open(w->job, req->storage_dir, seg, w->dry, &s);
    if (err < 0 || !s.fmt) {
        av_packet_free(&pkt);
        av_packet_free(&held);
        return err < 0 ? err : -EIO;
    }
    ist = s.fmt->streams[s.vidx];
    if (s.vidx != seg->vidx || !same_stream_kind(c->vpar, ist->codecpar)) {
        err = -EBADMSG; /* not the file probed */
        goto out;
    }
    pending_clear(&w->early);
    w->seg_video_done = false;
    for (size_t k = 0; k < sizeof(seg->map); k++) {
        if (seg->map[k] >= 0)
            a_left |= 1u << seg->map[k];
    }

    /*
     * The demuxer gives packets without durations (no parser runs), so
     * each video packet is held until the next one gives its duration;
     * the segment's last one keeps the duration before it. The audio of
     * a fragment follows its video in the file, so reading goes on after
     * the video reached to_us until the audio has too.
     */
    while ((!*done || a_left) && (err = av_read_frame(s.fmt, pkt)) >= 0) {
        int si = pkt->stream_index;
        int kind = si == s.vidx                               ? -1
                   : si >= 0 && (size_t)si < sizeof(seg->map) ? seg->map[si]
                                                              : -2;

        if (kind < -1 || pkt->dts == AV_NOPTS_VALUE ||
            (kind >= 0 &&
             av_cmp_q(s.fmt->streams[si]->time_base, c->audio[kind].tb))) {
            av_packet_unref(pkt);
            continue;
        }
        if (kind < 0 && *done) {
            av_packet_unref(pkt);
            continue;
        }
        if (kind >= 0) {
            if (w->seg_video_done &&
                audio_wall(w, seg, pkt, kind, first_dts) >= req->to_us)
                a_left &= ~(1u << kind);
            if (!w->seg_video_done) {
                /* Placed once the segment's first frame is. */
                err = w->early.n < EXPORT_MAX_EARLY_AUDIO
                          ? pending_add(&w->early, pkt, i, kind, 0, 0)
                          : 0;
            } else {
                err = walk_packet(w, pkt, i, kind, 0,
                                  audio_wall(w, seg, pkt, kind, first_dts));
            }
            av_packet_unref(pkt);
            if (err < 0)
                goto out;
            continue;
        }
        av_packet_rescale_ts(pkt, ist->time_base, c->vtb);
        if (first_dts == AV_NOPTS_VALUE)
            first_dts = pkt->dts;
        if (held->dts != AV_NOPTS_VALUE && pkt->dts > held->dts)
            held->duration = pkt->dts - held->dts;
        err = walk_held_video(w, i, held, first_dts);
        if (err < 0)
            goto out;
        if (seg->cat.start_us +
                av_rescale_q(pkt->dts - first_dts, c->vtb, us_tb) >=
            req->to_us) {
            *done = true;
            av_packet_unref(pkt);
            continue;
        }
        av_packet_move_ref(held, pkt);
    }
    if (err == AVERROR_EOF || *done) {
        err = walk_held_video(w, i, held, first_dts);
        if (err < 0)
            goto out;
    }
    if (err == AVERROR_EOF || *done)
        err = 0;
    if (err < 0) {
        LOG_E("export", "segment %s: %s", seg->cat.path, av_err2str(err));
        goto out;
    }
    if (w->dry)
        goto out;
    /* Its digest is checked once the clip is written (check_sources):
     * waiting for it here would stall the muxer at every segment. */
    err = src_drain(&s.io);
out:
    pending_clear(&w->early);
    av_packet_free(&pkt);
    av_packet_free(&held);
    src_close(&s);
    return err;
}

/*
 * An upper bound of the clip's index size: per sample at most 44 bytes
 * (stsz 4, stts 8, ctts 8, stss 4, co64 8, stsc 12), for every frame the
 * sources can hold (a closed segment's frame count; for an open one, or a
 * count of 0, its duration at EXPORT_MAX_FPS), 100 audio packets a second
 * per audio stream and one cue per second, plus room for the fixed boxes
 * and the parameter sets.
 */
static int64_t moov_bound(const struct export_job *job,
                          const struct exp_clip *c)
{
    int64_t samples = 0;

    for (int i = 0; i < c->n_segs; i++) {
        const struct catalog_segment *s = &c->segs[i].cat;
        /* An open row's end lags the file by at most a progress update. */
        int64_t end = s->status == CATALOG_SEG_OPEN
                          ? NVR_MIN(job->now_us, s->end_us + 60000000)
                          : s->end_us;
        int64_t secs = (end - s->start_us) / 1000000 + 1;
        int64_t by_time = secs * EXPORT_MAX_FPS;

        samples += s->status == CATALOG_SEG_CLOSED && s->frames > 0 ? s->frames
                                                                    : by_time;
        samples += secs * 100 * c->n_audio;
        samples += secs + 3; /* cues */
    }
    return samples * 44 + (int64_t)256 * 1024;
}

static void walk_reset(struct walk *w, struct export_job *job,
                       struct exp_clip *c, bool dry)
{
    memset(w, 0, sizeof(*w));
    w->job = job;
    w->clip = c;
    w->dry = dry;
    w->last_dts = INT64_MIN;
    w->cur_seg = -1;
    for (int k = 0; k < EXPORT_MAX_AUDIO; k++)
        w->a_end[k] = INT64_MIN;
    w->io.fd = -1;
    w->io.data_start = INT64_MAX;
    w->io.stream_ok = true;
    w->io.front_ok = true;
    w->io.hasher = &job->hasher;
    c->n_gaps = 0;
    c->res->frames = 0;
    c->res->actual_from_us = c->res->actual_to_us = 0;
    for (int i = 0; i < c->n_segs; i++)
        c->segs[i].used = false;
}

static void walk_free(struct walk *w)
{
    pending_clear(&w->gop);
    pending_clear(&w->early);
    free(w->gop.v);
    free(w->early.v);
    if (w->io.cur)
        hasher_put(w->io.hasher, w->io.cur, false);
    w->io.cur = NULL;
    out_free(&w->o);
    free(w->io.front);
    w->io.front = NULL;
}

/* One pass over the sources: the dry pass into no file, or the real one
 * into w->path. */
static int walk_run(struct walk *w)
{
    struct exp_clip *c = w->clip;
    bool done = false;
    int err = 0;

    w->moov_bytes = moov_bound(w->job, c);
    if (w->moov_bytes > INT_MAX)
        return -E2BIG;
    if (w->moov_bytes + 65536 <= EXPORT_MAX_FRONT_BYTES) {
        w->io.front_cap = w->moov_bytes + 65536;
        w->io.front = calloc(1, (size_t)w->io.front_cap);
        if (!w->io.front)
            return -ENOMEM;
    } else {
        w->io.front_ok = false;
    }
    for (int i = 0; i < c->n_segs && !done; i++) {
        err = walk_segment(w, i, &done);
        if (err < 0)
            return err;
    }
    if (!w->started) {
        LOG_E("export", "camera %s: no frame recorded in the range",
              c->req->camera);
        return -ENOENT;
    }
    err =
        out_cue_write(&w->o, av_rescale_q(w->last_end, c->vtb, EXPORT_SUB_TB));
    if (err < 0)
        return err;
    err = av_write_trailer(w->o.fmt);
    if (err < 0)
        return err;
    avio_flush(w->o.pb);
    if (w->io.err)
        return w->io.err;
    if (w->io.fd >= 0) {
        err = clip_flush_chunk(&w->io);
        hasher_wait_idle(w->io.hasher);
    }
    return err;
}

/*
 * Per mille of the sources' bytes that are in the page cache. The dry
 * pass reads the boxes of every fragment, one small read each: from
 * memory that is nothing, from a disk it is thousands of seeks before the
 * first byte is written. So it is worth it only for sources in memory.
 */
static int sources_cached_permille(const struct exp_clip *c)
{
    long page = sysconf(_SC_PAGESIZE);
    int64_t total = 0, cached = 0;

    for (int i = 0; i < c->n_segs; i++) {
        char path[PATH_MAX];
        unsigned char *vec;
        size_t pages, len;
        void *map;
        int fd;

        if (snprintf(path, sizeof(path), "%s/%s", c->req->storage_dir,
                     c->segs[i].cat.path) >= (int)sizeof(path))
            continue;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        len = c->segs[i].read_limit > 0 ? (size_t)c->segs[i].read_limit : 0;
        pages = (len + (size_t)page - 1) / (size_t)page;
        map = len ? mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
        close(fd);
        if (map == MAP_FAILED)
            continue;
        vec = malloc(pages);
        if (vec && mincore(map, len, vec) == 0) {
            for (size_t k = 0; k < pages; k++)
                cached += vec[k] & 1;
            total += (int64_t)pages;
        }
        free(vec);
        munmap(map, len);
    }
    return total > 0 ? (int)(cached * 1000 / total) : 0;
}

/* Every source read: its SHA-256, which for a closed segment must be the
 * catalog's. The hasher must be idle. */
static int check_sources(struct exp_clip *c)
{
    int err = 0;

    for (int i = 0; i < c->n_segs && err == 0; i++) {
        struct exp_seg *seg = &c->segs[i];

        if (!seg->md)
            continue;
        err = nvr_sha256_final_hex(seg->md, seg->read_sha256);
        nvr_sha256_free(seg->md);
        seg->md = NULL;
        if (err == 0 && seg->cat.status == CATALOG_SEG_CLOSED &&
            seg->cat.sha256[0] &&
            strcmp(seg->read_sha256, seg->cat.sha256) != 0) {
            LOG_E("export",
                  "camera %s: segment %s does not match its catalog SHA-256 "
                  "(catalog %s, file %s): refusing to export altered footage",
                  c->req->camera, seg->cat.path, seg->cat.sha256,
                  seg->read_sha256);
            err = -EBADMSG;
        }
    }
    return err;
}

/* The hasher must be idle. */
static void free_digests(struct exp_clip *c)
{
    for (int i = 0; i < c->n_segs; i++) {
        nvr_sha256_free(c->segs[i].md);
        c->segs[i].md = NULL;
    }
}

/* Writes c's clip: sets its result's ranges, frames, codec, and its
 * SHA-256 when it could be taken while writing (c->clip_hashed). */
static int export_clip_media(struct export_job *job, struct exp_clip *c)
{
    struct walk dry, w;
    bool planned;
    char tmp_path[PATH_MAX];
    struct nvr_sha256 *md = NULL;
    int err;

    walk_reset(&dry, job, c, true);
    walk_reset(&w, job, c, false);
    if (snprintf(tmp_path, sizeof(tmp_path), "%s.partial", c->req->out_path) >=
        (int)sizeof(tmp_path))
        return -ENAMETOOLONG;
    c->gaps = calloc((size_t)c->n_segs + 2, sizeof(*c->gaps));
    if (!c->gaps)
        return -ENOMEM;

    /* The dry pass: what the front region will hold once complete. */
    planned = sources_cached_permille(c) >= EXPORT_PLAN_CACHED_PERMILLE;
    if (planned) {
        err = walk_run(&dry);
        if (err < 0)
            goto out;
    }

    walk_reset(&w, job, c, false);
    w.path = tmp_path;
    w.io.fd = open(tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (w.io.fd < 0) {
        err = -errno;
        goto out;
    }
    md = nvr_sha256_new();
    if (!md) {
        err = -ENOMEM;
        goto out;
    }
    w.io.md = md;
    if (planned && dry.io.front_ok && dry.io.data_start <= dry.io.front_cap)
        nvr_sha256_update(md, dry.io.front, (size_t)dry.io.data_start);
    else
        w.io.stream_ok = false;
    err = walk_run(&w);
    if (err < 0)
        goto out;
    err = check_sources(c);
    if (err < 0)
        goto out;
    if (close(w.io.fd) != 0) {
        w.io.fd = -1;
        err = -errno;
        goto out;
    }
    w.io.fd = -1;
    c->clip_hashed =
        planned && w.io.stream_ok && w.io.front_ok && dry.io.front_ok &&
        w.io.data_start == dry.io.data_start && w.io.next == w.io.end &&
        memcmp(w.io.front, dry.io.front, (size_t)w.io.data_start) == 0;
    if (c->clip_hashed) {
        err = nvr_sha256_final_hex(md, c->res->sha256);
        if (err < 0)
            goto out;
    } else if (planned) {
        LOG_W("export",
              "camera %s: the clip's layout differs from the planned one; "
              "hashing it from the file",
              c->req->camera);
    }
    c->res->bytes = w.io.end;
    if (link(tmp_path, c->req->out_path) != 0) {
        err = -errno;
        goto out;
    }
    c->written = true;
    snprintf(c->res->codec, sizeof(c->res->codec), "%s",
             avcodec_get_name(c->vpar->codec_id));
    c->res->width = c->vpar->width;
    c->res->height = c->vpar->height;
    c->res->audio_frames = w.a_frames;
out:
    if (w.io.fd >= 0)
        close(w.io.fd);
    w.io.fd = -1;
    walk_free(&dry);
    walk_free(&w);
    hasher_wait_idle(&job->hasher); /* nothing may use a digest after this */
    free_digests(c);
    nvr_sha256_free(md);
    unlink(tmp_path);
    return err;
}

/* ---- sidecars, audit, manifest ---- */

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');

    return s ? s + 1 : path;
}

/* Writes `len` bytes to a new file at path (fails if it exists), synced. */
static int write_new_file(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    size_t off = 0;
    int err = 0;

    if (fd < 0)
        return -errno;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            err = n < 0 ? -errno : -EIO;
            break;
        }
        off += (size_t)n;
    }
    if (!err && fsync(fd) != 0)
        err = -errno;
    if (close(fd) != 0 && !err)
        err = -errno;
    if (err)
        unlink(path);
    return err;
}

static int write_sidecar(struct exp_clip *c)
{
    char path[PATH_MAX], line[PATH_MAX + 80];
    int n;

    if (snprintf(path, sizeof(path), "%s.sha256", c->req->out_path) >=
        (int)sizeof(path))
        return -ENAMETOOLONG;
    /* The format sha256sum writes and `sha256sum -c` reads: hash, two
     * spaces, the file name relative to the sidecar's folder. */
    n = snprintf(line, sizeof(line), "%s  %s\n", c->res->sha256, c->file);
    if (n < 0 || (size_t)n >= sizeof(line))
        return -ENAMETOOLONG;
    if (access(path, F_OK) == 0)
        return -EEXIST;
    c->sidecar = write_new_file(path, line, (size_t)n) == 0;
    return c->sidecar ? 0 : -EIO;
}

static int append_audit(struct export_job *job, struct exp_clip *c)
{
    struct audit_entry e;
    struct jbuf j = {.first = true};
    int err;

    memset(&e, 0, sizeof(e));
    snprintf(e.kind, sizeof(e.kind), "%s", AUDIT_EXPORT);
    snprintf(e.camera, sizeof(e.camera), "%s", c->req->camera);
    e.time_us = job->now_us;
    e.from_us = c->req->from_us;
    e.to_us = c->req->to_us;
    snprintf(e.user, sizeof(e.user), "%s", job->user_name);
    snprintf(e.host, sizeof(e.host), "%s", job->host);
    jb_s(&j, "{\"file\":");
    jb_escaped(&j, c->file);
    jb_s(&j, ",\"sha256\":");
    jb_escaped(&j, c->res->sha256);
    jb_s(&j, ",\"bytes\":");
    {
        /* Five 64-bit numbers and the keys: 200 bytes always suffice. */
        char b[256];
        int n;

        n = snprintf(b, sizeof(b),
                     "%lld,\"actual_from_us\":%lld,\"actual_to_us\":%lld,"
                     "\"segments\":%d,\"gaps\":%d,\"reason\":",
                     (long long)c->res->bytes,
                     (long long)c->res->actual_from_us,
                     (long long)c->res->actual_to_us, c->res->n_segments,
                     c->res->n_gaps);
        if (n < 0 || (size_t)n >= sizeof(b)) {
            free(j.p);
            return -EMSGSIZE;
        }
        jb_s(&j, b);
    }
    jb_escaped(&j, c->req->reason ? c->req->reason : "");
    jb_s(&j, "}");
    if (j.err || j.len >= sizeof(e.detail)) {
        free(j.p);
        return j.err ? j.err : -EMSGSIZE;
    }
    memcpy(e.detail, j.p, j.len + 1);
    free(j.p);
    err = audit_append(job->cat, &e);
    if (err < 0)
        return err;
    snprintf(c->res->audit_hash, sizeof(c->res->audit_hash), "%s", e.hash);
    c->res->audit_id = e.id;
    if (!job->user_name[0]) {
        snprintf(job->user_name, sizeof(job->user_name), "%s", e.user);
        snprintf(job->host, sizeof(job->host), "%s", e.host);
    }
    return 0;
}

static void manifest_clip(struct jbuf *j, const struct exp_clip *c)
{
    const struct export_result *r = c->res;

    jb_open(j, NULL, "{");
    /* "file" and "sha256" come first: nvr verify looks them up. */
    jb_str(j, "file", c->file);
    jb_str(j, "sha256", r->sha256);
    jb_int(j, "bytes", r->bytes);
    jb_str(j, "camera", c->req->camera);
    jb_time(j, "actual_from", r->actual_from_us);
    jb_time(j, "actual_to", r->actual_to_us);
    jb_num(j, "duration_s",
           (double)(r->actual_to_us - r->actual_from_us) / 1e6);
    jb_int(j, "frames", r->frames);
    jb_str(j, "codec", r->codec);
    jb_int(j, "width", r->width);
    jb_int(j, "height", r->height);
    jb_str(j, "container", c->container);
    jb_open(j, "audio", "[");
    for (int k = 0; k < c->n_audio; k++) {
        const AVCodecParameters *a = c->audio[k].par;

        jb_open(j, NULL, "{");
        jb_str(j, "codec", avcodec_get_name(a->codec_id));
        jb_int(j, "sample_rate", a->sample_rate);
        jb_int(j, "channels", a->ch_layout.nb_channels);
        jb_close(j, "}");
    }
    jb_close(j, "]");
    jb_int(j, "audio_packets", r->audio_frames);
    jb_str(j, "timeline",
           "media time 0 is actual_from; within a recording session frames "
           "follow each other; across a gap the clip keeps the real time "
           "difference (the clock jumps, the last picture is held); audio "
           "is placed at its wall-clock offset; a subtitle track shows the "
           "local wall-clock time");
    jb_open(j, "segments", "[");
    for (int i = 0; i < c->n_segs; i++) {
        const struct exp_seg *s = &c->segs[i];

        if (!s->used)
            continue;
        jb_open(j, NULL, "{");
        jb_str(j, "path", s->cat.path);
        jb_time(j, "start", s->cat.start_us);
        jb_time(j, "end", s->cat.end_us);
        jb_str(j, "status",
               s->cat.status == CATALOG_SEG_OPEN ? "open" : "closed");
        jb_int(j, "bytes", s->cat.bytes);
        jb_str(j, "sha256", s->cat.sha256[0] ? s->cat.sha256 : NULL);
        jb_int(j, "read_bytes", s->read_limit);
        jb_str(j, "read_sha256", s->read_sha256);
        jb_bool(j, "sha256_verified",
                s->cat.status == CATALOG_SEG_CLOSED && s->cat.sha256[0] &&
                    strcmp(s->cat.sha256, s->read_sha256) == 0);
        jb_close(j, "}");
    }
    jb_close(j, "]");
    jb_open(j, "gaps", "[");
    for (int i = 0; i < c->n_gaps; i++) {
        const struct exp_gap *g = &c->gaps[i];

        jb_open(j, NULL, "{");
        jb_time(j, "start", g->start_us);
        jb_time(j, "end", g->end_us);
        jb_num(j, "duration_s", (double)(g->end_us - g->start_us) / 1e6);
        if (g->media_start_s >= 0)
            jb_num(j, "clip_time_s", g->media_start_s);
        else
            jb_null_key(j, "clip_time_s");
        jb_close(j, "}");
    }
    jb_close(j, "]");
    jb_int(j, "audit_id", r->audit_id);
    jb_str(j, "audit_hash", r->audit_hash);
    jb_close(j, "}");
}

static int write_manifest(struct export_job *job, const char *path)
{
    const struct export_request *req = job->clips[0].req;
    struct jbuf j = {.first = true};
    char computed[65], recorded[65];
    char *p;
    int err;

    jb_open(&j, NULL, "{");
    jb_str(&j, "format", "nvr-export-manifest");
    jb_int(&j, "format_version", 1);
    jb_str(&j, "nvr_version", NVR_VERSION);
    jb_time(&j, "exported", job->now_us);
    jb_str(&j, "exported_by", job->user_name);
    jb_str(&j, "host", job->host);
    jb_str(&j, "reason", req->reason ? req->reason : "");
    jb_time(&j, "requested_from", req->from_us);
    jb_time(&j, "requested_to", req->to_us);
    {
        const char *tz = getenv("TZ");

        jb_str(&j, "local_time_zone", tz && tz[0] ? tz : "system default");
    }
    jb_open(&j, "clips", "[");
    for (int i = 0; i < job->n; i++)
        manifest_clip(&j, &job->clips[i]);
    jb_close(&j, "]");
    jb_str(&j, "manifest_sha256_rule",
           "SHA-256 of this file with the 64 hex digits of manifest_sha256 "
           "replaced by 64 '0' characters");
    /* Placeholder digits, replaced below by the hash of the whole text. */
    jb_str(&j, "manifest_sha256",
           "0000000000000000000000000000000000000000000000000000000000000000");
    jb_close(&j, "}");
    jb_s(&j, "\n");
    if (j.err) {
        free(j.p);
        return j.err;
    }
    err = export_manifest_hash(j.p, j.len, computed, recorded);
    if (err < 0) {
        free(j.p);
        return err;
    }
    p = strstr(j.p, MANIFEST_HASH_KEY);
    memcpy(p + strlen(MANIFEST_HASH_KEY), computed, 64);
    err = write_new_file(path, j.p, j.len);
    free(j.p);
    return err;
}

/* Gaps at the edges of the requested range: before the first frame, and
 * after the last one (up to now, if the range reaches into the future). */
static void add_edge_gaps(struct export_job *job, struct exp_clip *c)
{
    const struct export_request *req = c->req;
    struct export_result *r = c->res;
    int64_t end = NVR_MIN(req->to_us, job->now_us);

    if (r->actual_from_us - req->from_us > EXPORT_GAP_MIN_US) {
        memmove(&c->gaps[1], &c->gaps[0],
                (size_t)c->n_gaps * sizeof(c->gaps[0]));
        c->gaps[0] = (struct exp_gap){req->from_us, r->actual_from_us, -1.0};
        c->n_gaps++;
    }
    if (end - r->actual_to_us > EXPORT_GAP_MIN_US) {
        c->gaps[c->n_gaps++] = (struct exp_gap){
            r->actual_to_us, end,
            (double)(r->actual_to_us - r->actual_from_us) / 1e6};
    }
}

static void remove_outputs(struct exp_clip *c)
{
    char path[PATH_MAX];

    if (c->written)
        unlink(c->req->out_path);
    if (c->sidecar && snprintf(path, sizeof(path), "%s.sha256",
                               c->req->out_path) < (int)sizeof(path))
        unlink(path);
    c->written = c->sidecar = false;
}

static int check_request(const struct export_request *r)
{
    char path[PATH_MAX];

    if (!r->storage_dir || !r->camera || !r->camera[0] || !r->out_path ||
        !r->out_path[0] || r->from_us >= r->to_us)
        return -EINVAL;
    if (r->reason && strlen(r->reason) > EXPORT_MAX_REASON)
        return -EINVAL;
    if (strlen(base_name(r->out_path)) == 0 ||
        strlen(base_name(r->out_path)) >= 200)
        return -EINVAL;
    if (!container_of(r->out_path)) {
        LOG_E("export", "%s: the output must be named .mp4 or .mov",
              r->out_path);
        return -EINVAL;
    }
    if (access(r->out_path, F_OK) == 0)
        return -EEXIST;
    if (snprintf(path, sizeof(path), "%s.sha256", r->out_path) >=
        (int)sizeof(path))
        return -ENAMETOOLONG;
    if (access(path, F_OK) == 0)
        return -EEXIST;
    return 0;
}

int export_run_many(struct catalog *cat, const struct export_request *reqs,
                    int n, const char *manifest_path,
                    export_progress_cb progress, void *user,
                    struct export_result *res)
{
    struct export_job job;
    int err = 0;

    NVR_ASSERT_NOT_LOOP();
    if (!cat || !reqs || !res || !manifest_path || n < 1 ||
        n > EXPORT_MAX_CLIPS)
        return -EINVAL;
    if (access(manifest_path, F_OK) == 0)
        return -EEXIST;
    for (int i = 0; i < n; i++) {
        err = check_request(&reqs[i]);
        if (err < 0)
            return err;
        for (int k = 0; k < i; k++) {
            if (strcmp(reqs[k].out_path, reqs[i].out_path) == 0)
                return -EINVAL;
        }
    }
    memset(&job, 0, sizeof(job));
    job.cat = cat;
    job.n = n;
    job.progress = progress;
    job.user = user;
    job.now_us = nvr_clock_wall_us();
    job.clips = calloc((size_t)n, sizeof(*job.clips));
    if (!job.clips)
        return -ENOMEM;
    err = hasher_start(&job.hasher);
    if (err < 0) {
        free(job.clips);
        return err;
    }

    /* The sources of every clip, first, so progress knows the total. */
    for (int i = 0; i < n && err == 0; i++) {
        struct exp_clip *c = &job.clips[i];
        int64_t cam_id;

        c->req = &reqs[i];
        c->res = &res[i];
        memset(c->res, 0, sizeof(*c->res));
        snprintf(c->file, sizeof(c->file), "%s", base_name(reqs[i].out_path));
        c->container = container_of(reqs[i].out_path);
        err = catalog_camera_find(cat, reqs[i].camera, &cam_id);
        if (err < 0)
            break;
        err = catalog_segment_list(cat, cam_id, reqs[i].from_us, reqs[i].to_us,
                                   (1u << CATALOG_SEG_OPEN) |
                                       (1u << CATALOG_SEG_CLOSED),
                                   collect_seg, c);
        if (err == 0 && c->n_segs == -1)
            err = -E2BIG;
        else if (err == 0 && c->n_segs == -2)
            err = -ENOMEM;
        else if (err == 0 && c->n_segs == 0)
            err = -ENOENT;
        for (int k = 0; err == 0 && k < c->n_segs; k++)
            job.total_bytes += c->segs[k].cat.bytes;
    }
    if (err < 0)
        goto out;
    if (progress)
        progress(user, 0, job.total_bytes);

    /* Every clip's streams and container before writing anything, so a
     * clip that cannot be made fails before the others are written. */
    for (int i = 0; i < n && err == 0; i++) {
        struct exp_clip *c = &job.clips[i];
        const char *bad = NULL;
        bool needs_mov = false;

        err = clip_probe(&job, c, &needs_mov, &bad);
        if (err == 0 && needs_mov && strcmp(c->container, "mp4") == 0) {
            LOG_E("export",
                  "camera %s records %s audio, which MP4 cannot hold: name "
                  "the output .mov (QuickTime) instead of %s",
                  c->req->camera, bad, c->file);
            err = -EMEDIUMTYPE;
        }
    }
    if (err < 0)
        goto out;

    for (int i = 0; i < n; i++) {
        struct exp_clip *c = &job.clips[i];

        err = export_clip_media(&job, c);
        if (err < 0)
            goto out;
        if (!c->clip_hashed) {
            err = export_sha256_file(c->req->out_path, c->res->sha256);
            if (err < 0)
                goto out;
        }
        for (int k = 0; k < c->n_segs; k++)
            c->res->n_segments += c->segs[k].used;
        add_edge_gaps(&job, c);
        c->res->n_gaps = c->n_gaps;
        err = write_sidecar(c);
        if (err < 0)
            goto out;
    }
    /* Recorded only once every clip is complete; the manifest then names
     * each entry. */
    for (int i = 0; i < n; i++) {
        err = append_audit(&job, &job.clips[i]);
        if (err < 0)
            goto out;
    }
    err = write_manifest(&job, manifest_path);
    if (err < 0)
        goto out;
    for (int i = 0; i < n; i++)
        snprintf(res[i].manifest_path, sizeof(res[i].manifest_path), "%s",
                 manifest_path);
    if (progress)
        progress(user, job.total_bytes, job.total_bytes);
out:
    for (int i = 0; i < n; i++) {
        if (err < 0)
            remove_outputs(&job.clips[i]);
        free(job.clips[i].segs);
        free(job.clips[i].gaps);
        clip_free_streams(&job.clips[i]);
    }
    free(job.clips);
    hasher_stop(&job.hasher);
    return err;
}

int export_run(struct catalog *cat, const struct export_request *req,
               export_progress_cb progress, void *user,
               struct export_result *res)
{
    char manifest[PATH_MAX];
    int err;

    if (!req || !req->out_path)
        return -EINVAL;
    err = export_manifest_path(req->out_path, manifest, sizeof(manifest));
    if (err < 0)
        return err;
    return export_run_many(cat, req, 1, manifest, progress, user, res);
}
