/* SPDX-License-Identifier: MIT */
/*
 * Start-up recovery (see recovery.h). Rows left OPEN by a crash are
 * finished from their files, rows whose file is gone become MISSING, and
 * segment files the catalog does not know are indexed.
 *
 * A file cut short by a crash ends in a torn fragment. Reading it back,
 * only the prefix made of complete top-level boxes is handed to the
 * demuxer (a moof counts only together with its complete mdat), so frames
 * and duration are those of the complete fragments; the hash and size
 * still cover every byte, because the file itself is left untouched.
 * Cutting the torn tail off the file is not done here: players and
 * ffprobe read the complete fragments and stop at the torn one.
 */
#include "config.h"
#include "storage/recovery.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libavformat/avformat.h>
#include <libavformat/avio.h>
#include <libavutil/mathematics.h>
#include <libavutil/mem.h>
#include <libavutil/sha.h>

#include "nvr/base/err.h"
#include "nvr/base/log.h"
#include "storage/catalog.h"
#include "storage/storage_int.h"

/* More top-level boxes than this is not a segment of ours. */
#define RECOVERY_MAX_BOXES    (1 << 20)
#define RECOVERY_IO_BUF_BYTES ((size_t)64 * 1024)
#define RECOVERY_HASH_CHUNK   ((size_t)256 * 1024)
/* Open rows handled in one run; more are left for the next run. */
#define RECOVERY_MAX_OPEN_ROWS 100000
#define RECOVERY_MAX_PATH      1024

/* ---- reading one file back ---- */

/* A read-only, seekable view of the first `end` bytes of a file. */
struct recovery_io {
    int fd;
    int64_t pos;
    int64_t end;
};

static int recovery_io_read(void *opaque, uint8_t *buf, int size)
{
    struct recovery_io *io = opaque;
    int64_t want = NVR_MIN((int64_t)size, io->end - io->pos);
    ssize_t n;

    if (want <= 0)
        return AVERROR_EOF;
    do {
        n = pread(io->fd, buf, (size_t)want, io->pos);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if (n == 0)
        return AVERROR_EOF;
    io->pos += n;
    return (int)n;
}

static int64_t recovery_io_seek(void *opaque, int64_t offset, int whence)
{
    struct recovery_io *io = opaque;
    int64_t pos;

    whence &= ~AVSEEK_FORCE;
    switch (whence) {
    case AVSEEK_SIZE:
        return io->end;
    case SEEK_SET:
        pos = offset;
        break;
    case SEEK_CUR:
        pos = io->pos + offset;
        break;
    case SEEK_END:
        pos = io->end + offset;
        break;
    default:
        return -EINVAL;
    }
    if (pos < 0 || pos > io->end)
        return -EINVAL;
    io->pos = pos;
    return pos;
}

static int recovery_pread_all(int fd, uint8_t *buf, size_t len, int64_t off)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = pread(fd, buf + got, len - got, off + (int64_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO; /* the file shrank under us */
        got += (size_t)n;
    }
    return 0;
}

/* The end of the prefix of complete top-level boxes (ISO 14496-12 4.2). */
static int recovery_valid_prefix(int fd, int64_t size, int64_t *valid)
{
    int64_t off = 0, box;
    bool moof_pending = false;
    uint8_t h[16];
    int r;

    *valid = 0;
    for (int n = 0; n < RECOVERY_MAX_BOXES && off + 8 <= size; n++) {
        r = recovery_pread_all(fd, h, 8, off);
        if (r < 0)
            return r;
        box = (int64_t)h[0] << 24 | h[1] << 16 | h[2] << 8 | h[3];
        if (box == 1) {
            if (off + 16 > size)
                break;
            r = recovery_pread_all(fd, h + 8, 8, off + 8);
            if (r < 0)
                return r;
            uint64_t big = 0;
            for (int i = 8; i < 16; i++)
                big = big << 8 | h[i];
            if (big > (uint64_t)(size - off))
                break;
            box = (int64_t)big;
        } else if (box == 0) {
            box = size - off; /* extends to the end of the file */
        }
        if (box < 8 || box > size - off)
            break;
        if (memcmp(h + 4, "moof", 4) == 0) {
            moof_pending = true;
        } else if (memcmp(h + 4, "mdat", 4) == 0 || !moof_pending) {
            moof_pending = false;
            *valid = off + box;
        }
        off += box;
    }
    return 0;
}

static int recovery_hash(int fd, int64_t size, char hex[65])
{
    struct AVSHA *sha = av_sha_alloc();
    uint8_t *buf = av_malloc(RECOVERY_HASH_CHUNK);
    uint8_t digest[32];
    int64_t off = 0;
    int r = 0;

    if (!sha || !buf) {
        r = -ENOMEM;
        goto out;
    }
    av_sha_init(sha, 256);
    while (off < size) {
        size_t n = (size_t)NVR_MIN((int64_t)RECOVERY_HASH_CHUNK, size - off);
        r = recovery_pread_all(fd, buf, n, off);
        if (r < 0)
            goto out;
        av_sha_update(sha, buf, n);
        off += (int64_t)n;
    }
    av_sha_final(sha, digest);
    for (size_t i = 0; i < sizeof(digest); i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
out:
    av_free(buf);
    av_free(sha);
    return r;
}

static const char *recovery_codec_name(enum AVCodecID id)
{
    switch (id) {
    case AV_CODEC_ID_H264:
        return "h264";
    case AV_CODEC_ID_HEVC:
        return "h265";
    default:
        return "";
    }
}

/* Demuxes the first io->end bytes and counts the video samples. */
static int recovery_demux(struct recovery_io *io, const char *path,
                          struct recovery__probe *out)
{
    AVFormatContext *fmt = avformat_alloc_context();
    AVIOContext *pb = NULL;
    AVPacket *pkt = av_packet_alloc();
    uint8_t *iobuf = av_malloc(RECOVERY_IO_BUF_BYTES);
    AVStream *st = NULL;
    int64_t ticks = 0;
    int r = -ENOMEM;

    if (!fmt || !pkt || !iobuf)
        goto out;
    pb = avio_alloc_context(iobuf, RECOVERY_IO_BUF_BYTES, 0, io,
                            recovery_io_read, NULL, recovery_io_seek);
    if (!pb)
        goto out;
    iobuf = NULL; /* owned by pb now */
    fmt->pb = pb;
    fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
    /* The format is forced: a file that is not MP4 must not be read as
     * something else that happens to probe. */
    r = avformat_open_input(&fmt, path, av_find_input_format("mov"), NULL);
    if (r < 0) {
        r = -EBADMSG; /* fmt was freed */
        goto out;
    }
    for (unsigned i = 0; i < fmt->nb_streams && !st; i++)
        if (fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO)
            st = fmt->streams[i];
    if (!st) {
        r = -EBADMSG;
        goto out;
    }
    while (av_read_frame(fmt, pkt) >= 0) {
        if (pkt->stream_index == st->index) {
            out->frames++;
            ticks += pkt->duration;
        }
        av_packet_unref(pkt);
    }
    /* The demuxer guesses a fragment's last packet duration from the frame
     * rate; the stream duration is the sum stored in the fragments. */
    if (st->duration > 0)
        ticks = st->duration;
    out->duration_us = av_rescale_q(ticks, st->time_base, AV_TIME_BASE_Q);
    out->width = st->codecpar->width;
    out->height = st->codecpar->height;
    snprintf(out->codec, sizeof(out->codec), "%s",
             recovery_codec_name(st->codecpar->codec_id));
    r = 0;
out:
    avformat_close_input(&fmt);
    if (pb) {
        av_freep(&pb->buffer);
        avio_context_free(&pb);
    }
    av_free(iobuf);
    av_packet_free(&pkt);
    return r;
}

int recovery__probe_file(const char *path, struct recovery__probe *out)
{
    struct recovery_io io = {.fd = -1};
    struct stat sb;
    int r;

    memset(out, 0, sizeof(*out));
    io.fd = open(path, O_RDONLY | O_CLOEXEC);
    if (io.fd < 0)
        return -errno;
    if (fstat(io.fd, &sb) < 0) {
        r = -errno;
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        r = -EBADMSG;
        goto out;
    }
    out->bytes = sb.st_size;
    r = recovery_hash(io.fd, out->bytes, out->sha256);
    if (r < 0)
        goto out;
    r = recovery_valid_prefix(io.fd, out->bytes, &out->valid_bytes);
    if (r < 0)
        goto out;
    if (out->valid_bytes == 0) {
        r = -EBADMSG;
        goto out;
    }
    io.end = out->valid_bytes;
    r = recovery_demux(&io, path, out);
out:
    close(io.fd);
    return r;
}

/* ---- the catalog side ---- */

struct recovery_rows {
    struct catalog_segment *v;
    size_t n, cap;
    int err;
};

static int recovery_collect(void *user, const struct catalog_segment *seg)
{
    struct recovery_rows *rows = user;

    if (rows->n == RECOVERY_MAX_OPEN_ROWS)
        return 1;
    if (rows->n == rows->cap) {
        size_t cap = rows->cap ? rows->cap * 2 : 16;
        void *v = realloc(rows->v, cap * sizeof(*rows->v));
        if (!v) {
            rows->err = -ENOMEM;
            return 1;
        }
        rows->v = v;
        rows->cap = cap;
    }
    rows->v[rows->n++] = *seg;
    return 0;
}

static int recovery_abs_path(char *dst, size_t size, const char *dir,
                             const char *rel)
{
    int n = snprintf(dst, size, "%s/%s", dir, rel);

    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Copies what the file holds into a row about to be finished. */
static void recovery_fill(struct catalog_segment *seg,
                          const struct recovery__probe *p)
{
    seg->end_us = seg->start_us + p->duration_us;
    seg->bytes = p->bytes;
    seg->frames = p->frames;
    memcpy(seg->sha256, p->sha256, sizeof(seg->sha256));
    if (p->width > 0 && p->height > 0) {
        seg->width = p->width;
        seg->height = p->height;
    }
    if (p->codec[0])
        snprintf(seg->codec, sizeof(seg->codec), "%s", p->codec);
}

static int recovery_finish_open(struct catalog *cat, const char *storage_dir,
                                struct catalog_segment *seg,
                                struct recovery_report *rep)
{
    char path[RECOVERY_MAX_PATH];
    struct recovery__probe p;
    struct stat sb;
    int r;

    r = recovery_abs_path(path, sizeof(path), storage_dir, seg->path);
    if (r < 0)
        return 0; /* cannot be one of ours; leave the row */
    if (stat(path, &sb) < 0 && errno == ENOENT) {
        r = catalog_segment_set_status(cat, seg->id, CATALOG_SEG_MISSING);
        if (r < 0)
            return r;
        LOG_W("storage", "recovery: %s is gone, marked missing", seg->path);
        rep->missing++;
        return 0;
    }
    r = recovery__probe_file(path, &p);
    if (r < 0) {
        LOG_W("storage", "recovery: %s unreadable (%s), left open and in place",
              seg->path, nvr_strerror(r));
        rep->unreadable++;
        return 0;
    }
    recovery_fill(seg, &p);
    r = catalog_segment_finish(cat, seg);
    if (r < 0)
        return r;
    LOG_I("storage",
          "recovery: finished %s: %" PRId64 " frames, %" PRId64 " us%s",
          seg->path, p.frames, p.duration_us,
          p.valid_bytes < p.bytes ? " (torn tail ignored)" : "");
    rep->finished++;
    return 0;
}

/* Parses "<camera>-YYYYMMDDTHHMMSS.uuuuuuZ..." into UTC us. */
static int recovery_name_time(const char *camera, const char *name,
                              int64_t *start_us)
{
    size_t cl = strlen(camera);
    struct tm tm;
    int y, mo, d, h, mi, s, us, n = 0;
    time_t t;

    if (strncmp(name, camera, cl) != 0 || name[cl] != '-')
        return -EINVAL;
    if (sscanf(name + cl + 1, "%4d%2d%2dT%2d%2d%2d.%6dZ%n", &y, &mo, &d, &h,
               &mi, &s, &us, &n) != 7 ||
        n != 23)
        return -EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 ||
        us < 0 || y < 1970)
        return -EINVAL;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    t = timegm(&tm);
    if (t == (time_t)-1)
        return -EINVAL;
    *start_us = (int64_t)t * 1000000 + us;
    return 0;
}

static int recovery_index_file(struct catalog *cat, const char *storage_dir,
                               const char *camera, const char *rel,
                               const char *name, struct recovery_report *rep)
{
    char path[RECOVERY_MAX_PATH];
    struct catalog_segment seg;
    struct recovery__probe p;
    struct stat sb;
    int r;

    r = catalog_segment_by_path(cat, rel, &seg);
    if (r != -ENOENT)
        return r; /* known (0) or a catalog error */
    memset(&seg, 0, sizeof(seg));
    if (strlen(rel) >= sizeof(seg.path) ||
        recovery_abs_path(path, sizeof(path), storage_dir, rel) < 0 ||
        recovery__probe_file(path, &p) < 0) {
        LOG_W("storage", "recovery: %s unreadable, left in place", rel);
        rep->unreadable++;
        return 0;
    }
    if (recovery_name_time(camera, name, &seg.start_us) < 0) {
        /* Not named by us: the modification time is when it ended. */
        if (stat(path, &sb) < 0)
            return 0;
        seg.start_us = (int64_t)sb.st_mtim.tv_sec * 1000000 +
                       sb.st_mtim.tv_nsec / 1000 - p.duration_us;
        LOG_W("storage", "recovery: %s: no time in its name, using mtime", rel);
    }
    r = catalog_camera_ensure(cat, camera, &seg.camera_id);
    if (r < 0)
        return r;
    snprintf(seg.path, sizeof(seg.path), "%s", rel);
    seg.status = CATALOG_SEG_OPEN;
    recovery_fill(&seg, &p);
    r = catalog_segment_begin(cat, &seg);
    if (r == 0)
        r = catalog_segment_finish(cat, &seg);
    if (r < 0)
        return r;
    LOG_I("storage", "recovery: indexed %s (%" PRId64 " frames)", rel,
          p.frames);
    rep->indexed++;
    return 0;
}

static bool recovery_skip_name(const char *name)
{
    return name[0] == '.';
}

static bool recovery_is_dir(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Indexes the .mp4 files of <storage>/<camera>/<date>/. */
static int recovery_scan_date(struct catalog *cat, const char *storage_dir,
                              const char *camera, const char *date,
                              struct recovery_report *rep)
{
    char dir[RECOVERY_MAX_PATH], rel[RECOVERY_MAX_PATH];
    struct dirent *de;
    DIR *d;
    int r = 0;

    if (snprintf(dir, sizeof(dir), "%s/%s/%s", storage_dir, camera, date) >=
        (int)sizeof(dir))
        return 0;
    d = opendir(dir);
    if (!d)
        return 0;
    while (r == 0 && (de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (recovery_skip_name(de->d_name) || n < 5 ||
            strcmp(de->d_name + n - 4, ".mp4") != 0)
            continue;
        if (snprintf(rel, sizeof(rel), "%s/%s/%s", camera, date, de->d_name) >=
            (int)sizeof(rel))
            continue;
        r = recovery_index_file(cat, storage_dir, camera, rel, de->d_name, rep);
    }
    closedir(d);
    return r;
}

static int recovery_scan(struct catalog *cat, const char *storage_dir,
                         struct recovery_report *rep)
{
    char path[RECOVERY_MAX_PATH];
    struct dirent *cam, *date;
    DIR *top, *cd;
    int r = 0;

    top = opendir(storage_dir);
    if (!top)
        return errno == ENOENT ? 0 : -errno;
    while (r == 0 && (cam = readdir(top))) {
        if (recovery_skip_name(cam->d_name) ||
            snprintf(path, sizeof(path), "%s/%s", storage_dir, cam->d_name) >=
                (int)sizeof(path) ||
            !recovery_is_dir(path))
            continue;
        cd = opendir(path);
        if (!cd)
            continue;
        while (r == 0 && (date = readdir(cd))) {
            char sub[RECOVERY_MAX_PATH];
            if (recovery_skip_name(date->d_name) ||
                snprintf(sub, sizeof(sub), "%s/%s", path, date->d_name) >=
                    (int)sizeof(sub) ||
                !recovery_is_dir(sub))
                continue;
            r = recovery_scan_date(cat, storage_dir, cam->d_name, date->d_name,
                                   rep);
        }
        closedir(cd);
    }
    closedir(top);
    return r;
}

int recovery_run(const char *storage_dir, const char *catalog_path,
                 struct recovery_report *report)
{
    struct recovery_report rep = {0};
    struct recovery_rows rows = {0};
    struct catalog *cat;
    int r;

    r = catalog_open(catalog_path, CATALOG_READWRITE, &cat);
    if (r < 0)
        return r;
    r = catalog_segment_list(cat, 0, INT64_MIN, INT64_MAX,
                             1u << CATALOG_SEG_OPEN, recovery_collect, &rows);
    if (r == 0)
        r = rows.err;
    for (size_t i = 0; r == 0 && i < rows.n; i++)
        r = recovery_finish_open(cat, storage_dir, &rows.v[i], &rep);
    if (r == 0)
        r = recovery_scan(cat, storage_dir, &rep);
    free(rows.v);
    catalog_close(cat);
    if (r < 0)
        LOG_E("storage", "recovery: %s", nvr_strerror(r));
    LOG_I("storage",
          "recovery: %d finished, %d missing, %d indexed, %d unreadable",
          rep.finished, rep.missing, rep.indexed, rep.unreadable);
    if (report)
        *report = rep;
    return r;
}
