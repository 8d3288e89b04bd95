/* SPDX-License-Identifier: MIT */
/*
 * The export's file I/O (see export_int.h). Sources are read through an
 * AVIOContext that is not seekable, so the demuxer reads each file front
 * to back once and every byte passes through the hash exactly once; in
 * the dry pass only the boxes are read and the media payload is served
 * as zeros. The clip is written through an AVIOContext that keeps its
 * front region in memory and hands its media data, in order, to the
 * hasher. The page-cache planning (mincore) decides whether the dry pass
 * is worth it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavformat/avformat.h>
#include <libavformat/avio.h>
#include <libavutil/mem.h>

#include "nvr/base/log.h"
#include "storage/catalog.h"
#include "storage/export_int.h"
#include "storage/mp4box.h"
#include "storage/sha256.h"

/* ---- reading a source segment ---- */

/* Reads the next chunk of the file into s->cur. Returns its length (0 at
 * the limit) or a negative errno. */
static int export_io_src_fill(struct exp_src_io *s)
{
    size_t want = EXPORT_CHUNK_BYTES, got = 0;

    if (s->job->cancelled)
        return -ECANCELED;
    if (s->limit - s->pos < (int64_t)want)
        want = (size_t)(s->limit - s->pos);
    if (want == 0)
        return 0;
    s->cur = export_hash__get(s->hasher);
    s->cur->md = s->md;
    s->off = 0;
    while (got < want) {
        ssize_t n = read(s->fd, s->cur->buf + got, want - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int err = n < 0 ? -errno : -EIO; /* the file shrank */

            export_hash__put(s->hasher, s->cur, false);
            s->cur = NULL;
            return err;
        }
        got += (size_t)n;
    }
    s->cur->len = got;
    s->pos += (int64_t)got;
    export__progress(s->job, (int64_t)got, false);
    return (int)got;
}

/* The dry pass: box headers and boxes other than mdat come from the file,
 * the payload of an mdat is served as zeros without reading it. The
 * demuxer sees the same boxes, so the same packets (sizes, timestamps,
 * flags), as in the real pass. */
static int export_io_src_read_dry(struct exp_src_io *s, uint8_t *buf, int size)
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

static int export_io_src_read(void *opaque, uint8_t *buf, int size)
{
    struct exp_src_io *s = opaque;
    size_t n;

    if (s->dry)
        return export_io_src_read_dry(s, buf, size);
    if (s->cur && s->off == s->cur->len) {
        export_hash__put(s->hasher, s->cur, true);
        s->cur = NULL;
    }
    if (!s->cur) {
        int r = export_io_src_fill(s);

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
int export_io__src_drain(struct exp_src_io *s)
{
    int r;

    if (s->cur) {
        export_hash__put(s->hasher, s->cur, true);
        s->cur = NULL;
    }
    while ((r = export_io_src_fill(s)) > 0) {
        export_hash__put(s->hasher, s->cur, true);
        s->cur = NULL;
    }
    if (r < 0)
        return r;
    return s->pos == s->limit ? 0 : -EIO;
}

void export_io__src_close(struct exp_src *s)
{
    if (s->fmt)
        avformat_close_input(&s->fmt);
    if (s->pb) {
        av_freep(&s->pb->buffer);
        avio_context_free(&s->pb);
    }
    if (s->io.cur)
        export_hash__put(s->io.hasher, s->io.cur, false);
    /* s->io.md is the segment's: queued chunks may still use it. */
    if (s->io.fd >= 0)
        close(s->io.fd);
    memset(s, 0, sizeof(*s));
    s->io.fd = -1;
}

/* Fixes seg->read_limit the first time the segment is opened, so every
 * pass (and the hash) sees the same bytes of a file still growing: an
 * OPEN segment is read up to its last complete fragment. */
static int export_io_src_limit(struct exp_seg *seg, int fd)
{
    struct stat stt;
    int err;

    if (fstat(fd, &stt) != 0)
        return -errno;
    if (seg->read_limit < 0) {
        if (seg->cat.status == CATALOG_SEG_OPEN) {
            err = mp4box_complete_prefix(fd, (int64_t)stt.st_size,
                                         MP4BOX_GROWING, &seg->read_limit);
            if (err < 0) {
                seg->read_limit = -1;
                return err;
            }
        } else {
            seg->read_limit = (int64_t)stt.st_size;
        }
    }
    if (seg->read_limit > (int64_t)stt.st_size)
        return -EIO; /* the file shrank */
    return 0;
}

/* Opens the demuxer over s->io and finds the video stream. */
static int export_io_src_demux(struct exp_src *s, const char *path)
{
    uint8_t *buf = av_malloc(EXPORT_AVIO_BUF_BYTES);
    int err;

    if (!buf)
        return -ENOMEM;
    /* Not seekable: the demuxer reads the file front to back once, so
     * every byte passes through the hash exactly once. */
    s->pb = avio_alloc_context(buf, (int)EXPORT_AVIO_BUF_BYTES, 0, &s->io,
                               export_io_src_read, NULL, NULL);
    if (!s->pb) {
        av_free(buf);
        return -ENOMEM;
    }
    s->pb->seekable = 0;
    s->fmt = avformat_alloc_context();
    if (!s->fmt)
        return -ENOMEM;
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
        return -EBADMSG;
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
        return -EBADMSG;
    }
    return 0;
}

int export_io__src_open(struct export_job *job, const char *storage_dir,
                        struct exp_seg *seg, bool dry, struct exp_src *s)
{
    char path[PATH_MAX];
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
    (void)posix_fadvise(s->io.fd, 0, 0,
                        dry ? POSIX_FADV_RANDOM : POSIX_FADV_SEQUENTIAL);
    err = export_io_src_limit(seg, s->io.fd);
    if (err < 0)
        goto err;
    s->io.limit = seg->read_limit;
    if (!dry) {
        if (!seg->md)
            seg->md = nvr_sha256_new();
        if (!seg->md) {
            err = -ENOMEM;
            goto err;
        }
        s->io.md = seg->md;
    }
    err = export_io_src_demux(s, path);
    if (err < 0)
        goto err;
    return 0;
err:
    export_io__src_close(s);
    return err;
}

/* ---- writing the clip ---- */

static int export_io_pwrite(struct exp_clip_io *io, const uint8_t *p, size_t n,
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
int export_io__clip_flush(struct exp_clip_io *io)
{
    int err = 0;

    if (!io->cur)
        return 0;
    if (io->cur->len > 0)
        err = export_io_pwrite(io, io->cur->buf, io->cur->len, io->cur_pos);
    export_hash__put(io->hasher, io->cur, err == 0 && io->stream_ok);
    io->cur = NULL;
    return err;
}

static int export_io_clip_media(struct exp_clip_io *io, const uint8_t *p,
                                size_t n)
{
    if (io->fd < 0) {
        io->next += (int64_t)n;
        return 0; /* the dry pass keeps only the front region */
    }
    if (!io->stream_ok || io->pos != io->next) {
        int err = export_io__clip_flush(io);

        io->stream_ok = false;
        return err < 0 ? err : export_io_pwrite(io, p, n, io->pos);
    }
    while (n > 0) {
        size_t take;

        if (!io->cur) {
            io->cur = export_hash__get(io->hasher);
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
            int err = export_io__clip_flush(io);

            if (err < 0)
                return err;
        }
    }
    return 0;
}

int export_io__clip_write(void *opaque, uint8_t *buf, int size)
{
    struct exp_clip_io *io = opaque;
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
            err = export_io_pwrite(io, buf, f, io->pos);
        io->pos += (int64_t)f;
        buf += f;
        n -= f;
    }
    if (!err && n > 0) {
        err = export_io_clip_media(io, buf, n);
        io->pos += (int64_t)n;
    }
    io->end = NVR_MAX(io->end, io->pos);
    if (err < 0) {
        io->err = AVERROR(-err);
        return io->err;
    }
    return size;
}

int64_t export_io__clip_seek(void *opaque, int64_t offset, int whence)
{
    struct exp_clip_io *io = opaque;

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

/*
 * Per mille of the sources' bytes that are in the page cache. The dry
 * pass reads the boxes of every fragment, one small read each: from
 * memory that is nothing, from a disk it is thousands of seeks before the
 * first byte is written. So it is worth it only for sources in memory.
 */
int export_io__cached_permille(const struct exp_clip *c)
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
