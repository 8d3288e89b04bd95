/* SPDX-License-Identifier: MIT */
/*
 * Evidential export (see export.h). The source segments of a camera
 * (fragmented MP4 files, listed by the catalog, CLOSED and OPEN) are read
 * with libavformat and their packets written unchanged into one regular,
 * faststart MP4: no decoding, no encoding.
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
 * reads; after demuxing, the rest of the file is hashed too, so a CLOSED
 * segment whose bytes differ from its catalog SHA-256 stops the export
 * (-EBADMSG) rather than being cited as genuine. An OPEN segment (still
 * being written) is read only up to its last complete fragment, and the
 * manifest gives the SHA-256 of exactly the bytes read.
 *
 * The clip is written as <out>.partial and linked to <out> only when
 * complete (link(2) refuses to replace an existing file), then the
 * .sha256 sidecar, the audit entry, and last the manifest, which carries
 * the audit entry's hash. The clip is not fsynced: an hour of footage is
 * gigabytes, and flushing it would cost more than the export itself; its
 * SHA-256 is taken from the file once written, the export can be repeated
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavformat/avio.h>
#include <libavutil/mathematics.h>
#include <libavutil/mem.h>
#include <openssl/evp.h>

#include "nvr/base/clock.h"
#include "nvr/base/log.h"
#include "nvr/base/thread.h"
#include "storage/audit.h"
#include "storage/catalog.h"

/* Segments further apart than this are separate sessions (a gap); within a
 * session they are exactly contiguous. Same rule as nvr recordings. */
#define EXPORT_GAP_MIN_US 500000LL
/* Most source segments one clip may draw on (a week of 60 s segments). */
#define EXPORT_MAX_SEGMENTS 20000
/* Most bytes buffered while looking for the keyframe at or before the
 * start: one GOP of a high-bitrate camera fits easily. */
#define EXPORT_MAX_GOP_BYTES ((size_t)256 * 1024 * 1024)
/* Source read buffer. */
#define EXPORT_IO_BUF_BYTES ((size_t)1024 * 1024)
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

static void hex32(const unsigned char d[32], char out[65])
{
    static const char hex[] = "0123456789abcdef";

    for (int i = 0; i < 32; i++) {
        out[(size_t)2 * i] = hex[d[i] >> 4];
        out[(size_t)2 * i + 1] = hex[d[i] & 15];
    }
    out[64] = '\0';
}

static int sha_final_hex(EVP_MD_CTX *md, char out[65])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (EVP_DigestFinal_ex(md, d, &n) != 1 || n != 32)
        return -EIO;
    hex32(d, out);
    return 0;
}

int export_sha256_file(const char *path, char out[65])
{
    EVP_MD_CTX *md;
    uint8_t *buf;
    int fd, err = 0;

    NVR_ASSERT_NOT_LOOP();
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    buf = malloc(EXPORT_HASH_BUF_BYTES);
    md = EVP_MD_CTX_new();
    if (!buf || !md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        err = -ENOMEM;
        goto out;
    }
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    for (;;) {
        ssize_t n = read(fd, buf, EXPORT_HASH_BUF_BYTES);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err = -errno;
            goto out;
        }
        if (n == 0)
            break;
        EVP_DigestUpdate(md, buf, (size_t)n);
    }
    err = sha_final_hex(md, out);
out:
    EVP_MD_CTX_free(md);
    free(buf);
    close(fd);
    return err;
}

#define MANIFEST_HASH_KEY "\"manifest_sha256\": \""

int export_manifest_hash(const char *text, size_t len, char computed[65],
                         char recorded[65])
{
    const char *p = NULL;
    size_t klen = strlen(MANIFEST_HASH_KEY);
    EVP_MD_CTX *md;
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
    md = EVP_MD_CTX_new();
    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(md);
        return -ENOMEM;
    }
    EVP_DigestUpdate(md, text, (size_t)(p - text));
    EVP_DigestUpdate(md,
                     "00000000000000000000000000000000"
                     "00000000000000000000000000000000",
                     64);
    EVP_DigestUpdate(md, p + 64, len - (size_t)(p - text) - 64);
    err = sha_final_hex(md, computed);
    EVP_MD_CTX_free(md);
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

/* ---- time text ---- */

static void time_utc(int64_t us, char *out, size_t size)
{
    time_t t = (time_t)(us >= 0 ? us / 1000000 : (us - 999999) / 1000000);
    int64_t frac = us - (int64_t)t * 1000000;
    struct tm tm;
    char base[32];

    gmtime_r(&t, &tm);
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    if (frac)
        snprintf(out, size, "%s.%06lldZ", base, (long long)frac);
    else
        snprintf(out, size, "%sZ", base);
}

/* Local time with offset, e.g. "2026-11-27T10:00:00.250+00:00 GMT". */
static void time_local(int64_t us, char *out, size_t size)
{
    time_t t = (time_t)(us >= 0 ? us / 1000000 : (us - 999999) / 1000000);
    int64_t frac = us - (int64_t)t * 1000000;
    struct tm tm;
    char base[32], zone[16], abbr[16];

    localtime_r(&t, &tm);
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    strftime(zone, sizeof(zone), "%z", &tm);
    strftime(abbr, sizeof(abbr), "%Z", &tm);
    if (strlen(zone) == 5)
        snprintf(zone + 3, sizeof(zone) - 3, ":%c%c", zone[3], zone[4]);
    if (frac)
        snprintf(out, size, "%s.%06lld%s %s", base, (long long)frac, zone,
                 abbr);
    else
        snprintf(out, size, "%s%s %s", base, zone, abbr);
}

/* What a player shows: "2026-11-27 10:00:01 GMT". */
static void time_cue(int64_t us, char *out, size_t size)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;

    localtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%d %H:%M:%S %Z", &tm);
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

    time_utc(us, t, sizeof(t));
    jb_str(j, key, t);
    snprintf(k, sizeof(k), "%s_us", key);
    jb_int(j, k, us);
    snprintf(k, sizeof(k), "%s_local", key);
    time_local(us, t, sizeof(t));
    jb_str(j, k, t);
}

/* ---- hashing sources beside the muxer ---- */

/*
 * Source bytes are hashed on a helper thread while this thread demuxes
 * and muxes: a source is read in chunks, each chunk is served to the
 * demuxer and then queued for hashing (in order, so one running digest per
 * segment stays correct). On two cores this takes the SHA-256 of the
 * sources off the critical path.
 */
#define EXPORT_CHUNK_BYTES ((size_t)4 * 1024 * 1024)
#define EXPORT_CHUNKS      4

struct chunk {
    uint8_t *buf;
    size_t len;
    EVP_MD_CTX *md; /* the digest this chunk continues */
};

struct hasher {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool running, stop, busy;
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

        while (h->q_len == 0 && !h->stop)
            pthread_cond_wait(&h->cv, &h->mu);
        if (h->q_len == 0)
            break;
        c = h->queue[h->q_head];
        h->q_head = (h->q_head + 1) % EXPORT_CHUNKS;
        h->q_len--;
        h->busy = true;
        pthread_mutex_unlock(&h->mu);
        if (c->len > 0)
            EVP_DigestUpdate(c->md, c->buf, c->len);
        pthread_mutex_lock(&h->mu);
        h->busy = false;
        h->free_list[h->n_free++] = c;
        pthread_cond_broadcast(&h->cv);
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
    pthread_cond_init(&h->cv, NULL);
    if (pthread_create(&h->th, NULL, hasher_main, h) != 0) {
        pthread_mutex_destroy(&h->mu);
        pthread_cond_destroy(&h->cv);
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
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->th, NULL);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    for (int i = 0; i < EXPORT_CHUNKS; i++)
        free(h->chunks[i].buf);
    h->running = false;
}

static struct chunk *hasher_get(struct hasher *h)
{
    struct chunk *c;

    pthread_mutex_lock(&h->mu);
    while (h->n_free == 0)
        pthread_cond_wait(&h->cv, &h->mu);
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
    } else {
        h->free_list[h->n_free++] = c;
    }
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

/* Waits until every queued chunk is hashed. */
static void hasher_wait_idle(struct hasher *h)
{
    pthread_mutex_lock(&h->mu);
    while (h->q_len > 0 || h->busy)
        pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
}

/* ---- per-clip state ---- */

struct exp_seg {
    struct catalog_segment cat; /* the catalog row */
    int64_t read_limit;         /* bytes of the file read (complete prefix) */
    char read_sha256[65];       /* of those bytes */
    bool used;                  /* contributed frames */
};

struct exp_gap {
    int64_t start_us, end_us; /* wall time */
    double media_start_s;     /* where the jump is in the clip */
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
    c->segs[c->n_segs++].cat = *seg;
    return 0;
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

/*
 * The prefix of a fragmented MP4 made of complete top-level boxes, not
 * counting a trailing moof whose mdat is not complete yet (a segment
 * still being written). Returns the length, or a negative errno.
 */
static int64_t complete_prefix(int fd, int64_t size)
{
    int64_t off = 0, good = 0;

    while (off + 8 <= size) {
        uint8_t h[16];
        uint64_t box;
        int hl = 8;

        if (pread(fd, h, 16 <= size - off ? 16 : 8, off) < 8)
            return -EIO;
        box = ((uint64_t)h[0] << 24) | ((uint64_t)h[1] << 16) |
              ((uint64_t)h[2] << 8) | h[3];
        if (box == 1) {
            if (size - off < 16)
                break;
            box = 0;
            for (int i = 8; i < 16; i++)
                box = (box << 8) | h[i];
            hl = 16;
        } else if (box == 0) {
            break; /* "to the end of the file": still being written */
        }
        if (box < (uint64_t)hl || box > (uint64_t)(size - off))
            break;
        off += (int64_t)box;
        if (memcmp(h + 4, "moof", 4) != 0)
            good = off;
    }
    return good;
}

struct src_io {
    int fd;
    int64_t pos, limit; /* bytes read from the file; bytes to read */
    EVP_MD_CTX *md;
    struct export_job *job;
    struct hasher *hasher;
    struct chunk *cur; /* being served to the demuxer */
    size_t off;        /* bytes of cur served */
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

static int src_read(void *opaque, uint8_t *buf, int size)
{
    struct src_io *s = opaque;
    size_t n;

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

/* Hashes the bytes after what the demuxer read, up to the limit, and
 * waits for the digest to be complete. */
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
    hasher_wait_idle(s->hasher);
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
    if (s->io.hasher)
        hasher_wait_idle(s->io.hasher); /* nothing may use md after this */
    EVP_MD_CTX_free(s->io.md);
    if (s->io.fd >= 0)
        close(s->io.fd);
    memset(s, 0, sizeof(*s));
    s->io.fd = -1;
}

static int src_open(struct export_job *job, const char *storage_dir,
                    struct exp_seg *seg, struct src *s)
{
    char path[PATH_MAX];
    struct stat stt;
    uint8_t *buf = NULL;
    int err;

    memset(s, 0, sizeof(*s));
    s->io.fd = -1;
    s->io.job = job;
    s->io.hasher = &job->hasher;
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
    (void)posix_fadvise(s->io.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    if (seg->cat.status == CATALOG_SEG_OPEN) {
        s->io.limit = complete_prefix(s->io.fd, (int64_t)stt.st_size);
        if (s->io.limit < 0) {
            err = (int)s->io.limit;
            goto err;
        }
    } else {
        s->io.limit = (int64_t)stt.st_size;
    }
    seg->read_limit = s->io.limit;
    s->io.md = EVP_MD_CTX_new();
    if (!s->io.md || EVP_DigestInit_ex(s->io.md, EVP_sha256(), NULL) != 1) {
        err = -ENOMEM;
        goto err;
    }
    buf = av_malloc(EXPORT_IO_BUF_BYTES);
    if (!buf) {
        err = -ENOMEM;
        goto err;
    }
    /* Not seekable: the demuxer reads the file front to back once, so
     * every byte passes through the hash exactly once. */
    s->pb = avio_alloc_context(buf, (int)EXPORT_IO_BUF_BYTES, 0, &s->io,
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
    s->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
    err = avformat_open_input(&s->fmt, NULL, av_find_input_format("mp4"), NULL);
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

/* ---- writing the clip ---- */

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
    AVStream *vst, *sst;
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
    time_cue(wall_us, o->cue_text, sizeof(o->cue_text));
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
    time_cue(g->start_us, s, sizeof(s));
    time_cue(g->end_us, e, sizeof(e));
    o->cue_start_ms = a_ms;
    o->cue_second = -1;
    snprintf(o->cue_text, sizeof(o->cue_text), "NO RECORDING %s - %s", s + 11,
             e + 11);
    return out_cue_write(o, av_rescale_q(b, o->tb, EXPORT_SUB_TB));
}

static int out_open(struct out *o, const char *tmp_path,
                    const AVCodecParameters *par, AVRational tb,
                    int64_t start_us, const char *camera, int64_t moov_bytes)
{
    AVDictionary *opts = NULL;
    char t[80];
    int err;

    memset(o, 0, sizeof(*o));
    o->cue_start_ms = -1;
    o->tb = tb;
    o->pkt = av_packet_alloc();
    if (!o->pkt)
        return -ENOMEM;
    err = avformat_alloc_output_context2(&o->fmt, NULL, "mp4", tmp_path);
    if (err < 0)
        return err;
    o->vst = avformat_new_stream(o->fmt, NULL);
    o->sst = avformat_new_stream(o->fmt, NULL);
    if (!o->vst || !o->sst)
        return -ENOMEM;
    err = avcodec_parameters_copy(o->vst->codecpar, par);
    if (err < 0)
        return err;
    o->vst->codecpar->codec_tag = 0;
    o->vst->time_base = tb;
    o->sst->codecpar->codec_type = AVMEDIA_TYPE_SUBTITLE;
    o->sst->codecpar->codec_id = AV_CODEC_ID_MOV_TEXT;
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
    time_utc(start_us, t, sizeof(t));
    av_dict_set(&o->fmt->metadata, "creation_time", t, 0);
    av_dict_set(&o->fmt->metadata, "title", camera, 0);
    av_dict_set(&o->fmt->metadata, "comment",
                "nvr evidential export; see the manifest", 0);
    err = avio_open(&o->fmt->pb, tmp_path, AVIO_FLAG_WRITE);
    if (err < 0)
        return err;
    /* Faststart without a second pass: the index is written into space
     * reserved after ftyp (the unused rest becomes a free box), so the
     * media data are written once and never moved. */
    av_dict_set_int(&opts, "moov_size", moov_bytes, 0);
    err = avformat_write_header(o->fmt, &opts);
    av_dict_free(&opts);
    return err < 0 ? err : 0;
}

static void out_free(struct out *o)
{
    if (o->fmt) {
        if (o->fmt->pb)
            avio_closep(&o->fmt->pb);
        avformat_free_context(o->fmt);
    }
    av_packet_free(&o->pkt);
    memset(o, 0, sizeof(*o));
}

/* ---- one clip ---- */

/* A packet held back while looking for the keyframe at or before `from`. */
struct held {
    AVPacket *pkt;
    int seg;         /* index into clip->segs */
    int64_t rel;     /* dts from the segment's first packet */
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
                       int64_t rel, int64_t wall_us)
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
    p->v[p->n++] = (struct held){c, seg, rel, wall_us};
    p->bytes += (size_t)pkt->size;
    return 0;
}

struct walk {
    struct export_job *job;
    struct exp_clip *clip;
    struct out o;
    bool started;       /* the first frame is written */
    bool opened;        /* o is set up (at the first frame) */
    int64_t moov_bytes; /* room reserved for the index */
    char tmp_path[PATH_MAX];
    AVCodecParameters *par; /* of the first segment */
    AVRational tb;          /* of the first segment: the clip's timeline */
    int cur_seg;            /* segment of the last frame written */
    int64_t seg_base;       /* media time = seg_base + rel in cur_seg */
    int64_t last_end;       /* media time after the last frame written */
    int64_t last_wall_end_us;
    int64_t last_dts;
    struct pending gop;
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
    at = av_rescale_q(wall_us - c->res->actual_from_us, us_tb, w->tb);
    if (at < w->last_end)
        at = w->last_end;
    g = &c->gaps[c->n_gaps++];
    g->start_us = w->last_wall_end_us;
    g->end_us = wall_us;
    g->media_start_s = (double)w->last_end * av_q2d(w->tb);
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
    int64_t dur = pkt->duration > 0 ? pkt->duration : 1;
    int64_t ts;
    int err;

    if (!w->opened) {
        /* Opened at the first frame: its wall time is the clip's
         * creation_time. */
        err = out_open(&w->o, w->tmp_path, w->par, w->tb, wall_us,
                       w->clip->req->camera, w->moov_bytes);
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
    w->last_wall_end_us = wall_us + av_rescale_q(dur, w->tb, us_tb);
    res->actual_to_us = w->last_wall_end_us;
    res->frames++;
    av_packet_rescale_ts(pkt, w->tb, w->o.vst->time_base);
    return av_interleaved_write_frame(w->o.fmt, pkt);
}

static bool same_stream_kind(const AVCodecParameters *a,
                             const AVCodecParameters *b)
{
    return a->codec_id == b->codec_id && a->width == b->width &&
           a->height == b->height;
}

/* Handles one source packet (already in the clip's time base). */
static int walk_packet(struct walk *w, AVPacket *pkt, int seg, int64_t rel,
                       int64_t wall_us)
{
    const struct export_request *req = w->clip->req;
    int err;

    if (!w->started && wall_us <= req->from_us) {
        /* Before the start: keep only the GOP that contains it. */
        if (pkt->flags & AV_PKT_FLAG_KEY)
            pending_clear(&w->gop);
        if (w->gop.n > 0 || (pkt->flags & AV_PKT_FLAG_KEY))
            return pending_add(&w->gop, pkt, seg, rel, wall_us);
        return 0;
    }
    if (!w->started && w->gop.n > 0) {
        for (int k = 0; k < w->gop.n; k++) {
            struct held *h = &w->gop.v[k];

            err = walk_write(w, h->pkt, h->seg, h->rel, h->wall_us);
            if (err < 0)
                return err;
        }
        pending_clear(&w->gop);
    }
    if (!w->started && !(pkt->flags & AV_PKT_FLAG_KEY))
        return 0; /* a clip starts at a keyframe */
    return walk_write(w, pkt, seg, rel, wall_us);
}

static int walk_segment(struct walk *w, int i, bool *done)
{
    struct exp_clip *c = w->clip;
    const struct export_request *req = c->req;
    struct exp_seg *seg = &c->segs[i];
    struct src s;
    AVPacket *pkt = av_packet_alloc();
    AVStream *ist;
    int64_t first_dts = AV_NOPTS_VALUE;
    int err;

    if (!pkt)
        return -ENOMEM;
    err = src_open(w->job, req->storage_dir, seg, &s);
    if (err < 0 || !s.fmt) {
        av_packet_free(&pkt);
        return err < 0 ? err : -EIO;
    }
    ist = s.fmt->streams[s.vidx];
    if (!w->par) {
        w->par = avcodec_parameters_alloc();
        if (!w->par || avcodec_parameters_copy(w->par, ist->codecpar) < 0) {
            err = -ENOMEM;
            goto out;
        }
        w->tb = ist->time_base;
    } else if (!same_stream_kind(w->par, ist->codecpar)) {
        LOG_E("export",
              "camera %s: segment %s changes codec or picture size "
              "mid-range; export the parts separately",
              req->camera, seg->cat.path);
        err = -ENOTSUP;
        goto out;
    }

    while (!*done && (err = av_read_frame(s.fmt, pkt)) >= 0) {
        int64_t rel, wall_us;

        if (pkt->stream_index != s.vidx || pkt->dts == AV_NOPTS_VALUE) {
            av_packet_unref(pkt);
            continue;
        }
        av_packet_rescale_ts(pkt, ist->time_base, w->tb);
        if (first_dts == AV_NOPTS_VALUE)
            first_dts = pkt->dts;
        rel = pkt->dts - first_dts;
        wall_us = seg->cat.start_us + av_rescale_q(rel, w->tb, us_tb);
        if (wall_us >= req->to_us) {
            *done = true;
            av_packet_unref(pkt);
            break;
        }
        err = walk_packet(w, pkt, i, rel, wall_us);
        av_packet_unref(pkt);
        if (err < 0)
            goto out;
    }
    if (err == AVERROR_EOF || *done)
        err = 0;
    if (err < 0) {
        LOG_E("export", "segment %s: %s", seg->cat.path, av_err2str(err));
        goto out;
    }
    err = src_drain(&s.io);
    if (err < 0)
        goto out;
    err = sha_final_hex(s.io.md, seg->read_sha256);
    if (err < 0)
        goto out;
    if (seg->cat.status == CATALOG_SEG_CLOSED && seg->cat.sha256[0] &&
        strcmp(seg->read_sha256, seg->cat.sha256) != 0) {
        LOG_E("export",
              "camera %s: segment %s does not match its catalog SHA-256 "
              "(catalog %s, file %s): refusing to export altered footage",
              req->camera, seg->cat.path, seg->cat.sha256, seg->read_sha256);
        err = -EBADMSG;
    }
out:
    av_packet_free(&pkt);
    src_close(&s);
    return err;
}

/*
 * An upper bound of the clip's index size: per sample at most 44 bytes
 * (stsz 4, stts 8, ctts 8, stss 4, co64 8, stsc 12), for every frame the
 * sources can hold (a closed segment's frame count; for an open one, or a
 * count of 0, its duration at EXPORT_MAX_FPS) and one cue per second, plus
 * room for the fixed boxes and the parameter sets.
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
        int64_t by_time =
            (end - s->start_us) / 1000000 * EXPORT_MAX_FPS + EXPORT_MAX_FPS;

        samples += s->status == CATALOG_SEG_CLOSED && s->frames > 0 ? s->frames
                                                                    : by_time;
        samples += (end - s->start_us) / 1000000 + 4; /* cues */
    }
    return samples * 44 + (int64_t)256 * 1024;
}

/* Writes c's clip: sets its result's ranges, frames, codec. */
static int export_clip_media(struct export_job *job, struct exp_clip *c)
{
    struct walk w;
    bool done = false;
    int err = 0;

    memset(&w, 0, sizeof(w));
    w.job = job;
    w.clip = c;
    w.last_dts = INT64_MIN;
    w.cur_seg = -1;
    if (snprintf(w.tmp_path, sizeof(w.tmp_path), "%s.partial",
                 c->req->out_path) >= (int)sizeof(w.tmp_path))
        return -ENAMETOOLONG;
    c->gaps = calloc((size_t)c->n_segs + 2, sizeof(*c->gaps));
    if (!c->gaps)
        return -ENOMEM;
    w.moov_bytes = moov_bound(job, c);
    if (w.moov_bytes > INT_MAX)
        return -E2BIG;
    for (int i = 0; i < c->n_segs && !done; i++) {
        err = walk_segment(&w, i, &done);
        if (err < 0)
            goto out;
    }
    if (!w.started) {
        LOG_E("export", "camera %s: no frame recorded in the range",
              c->req->camera);
        err = -ENOENT;
        goto out;
    }
    err = out_cue_write(&w.o, av_rescale_q(w.last_end, w.tb, EXPORT_SUB_TB));
    if (err < 0)
        goto out;
    err = av_write_trailer(w.o.fmt);
    if (err < 0)
        goto out;
    err = avio_closep(&w.o.fmt->pb);
    if (err < 0)
        goto out;
    if (link(w.tmp_path, c->req->out_path) != 0) {
        err = -errno;
        goto out;
    }
    c->written = true;
    snprintf(c->res->codec, sizeof(c->res->codec), "%s",
             avcodec_get_name(w.par->codec_id));
    c->res->width = w.par->width;
    c->res->height = w.par->height;
out:
    pending_clear(&w.gop);
    free(w.gop.v);
    out_free(&w.o);
    avcodec_parameters_free(&w.par);
    unlink(w.tmp_path);
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
        char b[96];

        snprintf(b, sizeof(b),
                 "%lld,\"actual_from_us\":%lld,\"actual_to_us\":%lld,"
                 "\"segments\":%d,\"gaps\":%d,\"reason\":",
                 (long long)c->res->bytes, (long long)c->res->actual_from_us,
                 (long long)c->res->actual_to_us, c->res->n_segments,
                 c->res->n_gaps);
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
    jb_str(j, "timeline",
           "media time 0 is actual_from; within a recording session frames "
           "follow each other; across a gap the clip keeps the real time "
           "difference (the clock jumps, the last picture is held); a "
           "subtitle track shows the local wall-clock time");
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

    for (int i = 0; i < n; i++) {
        struct exp_clip *c = &job.clips[i];
        struct stat st;

        err = export_clip_media(&job, c);
        if (err < 0)
            goto out;
        err = export_sha256_file(c->req->out_path, c->res->sha256);
        if (err < 0)
            goto out;
        if (stat(c->req->out_path, &st) != 0) {
            err = -errno;
            goto out;
        }
        c->res->bytes = (int64_t)st.st_size;
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
