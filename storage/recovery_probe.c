/* SPDX-License-Identifier: MIT */
/*
 * Reading one segment file back for start-up recovery and the writer
 * (see storage_int.h): its SHA-256, the prefix of complete top-level
 * boxes (a moof counts only with its complete mdat), and the video
 * samples and duration libavformat finds in that prefix; and the repair
 * of a file that ends in a torn fragment, which is truncated to that
 * prefix and fsynced before anything describes it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavformat/avformat.h>
#include <libavformat/avio.h>
#include <libavutil/mathematics.h>
#include <libavutil/mem.h>

#include "nvr/base/err.h"
#include "nvr/base/log.h"
#include "storage/fsops.h"
#include "storage/mp4box.h"
#include "storage/sha256.h"
#include "storage/storage_int.h"

#define RECOVERY_PROBE_IO_BUF_BYTES ((size_t)64 * 1024)

/* ---- reading one file back ---- */

/* A read-only, seekable view of the first `end` bytes of a file. */
struct recovery_probe_io {
    int fd;
    int64_t pos;
    int64_t end;
};

static int recovery_probe_io_read(void *opaque, uint8_t *buf, int size)
{
    struct recovery_probe_io *io = opaque;
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

static int64_t recovery_probe_io_seek(void *opaque, int64_t offset, int whence)
{
    struct recovery_probe_io *io = opaque;
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

/* The SHA-256 of exactly the file's first size bytes. */
static int recovery_probe_hash(int fd, int64_t size, char hex[65])
{
    int64_t got = 0;
    int r = nvr_sha256_fd(fd, size, hex, &got);

    if (r == 0 && got != size)
        r = -EIO; /* the file shrank under us */
    return r;
}

static const char *recovery_probe_codec_name(enum AVCodecID id)
{
    switch (id) {
    case AV_CODEC_ID_H264:
        return "h264";
    case AV_CODEC_ID_HEVC:
        return "h265";
    case AV_CODEC_ID_MJPEG:
        return "mjpeg";
    default:
        return "";
    }
}

/* Demuxes the first io->end bytes and counts the video samples. */
static int recovery_probe_demux(struct recovery_probe_io *io, const char *path,
                                struct recovery__probe *out)
{
    AVFormatContext *fmt = avformat_alloc_context();
    AVIOContext *pb = NULL;
    AVPacket *pkt = av_packet_alloc();
    uint8_t *iobuf = av_malloc(RECOVERY_PROBE_IO_BUF_BYTES);
    AVStream *st = NULL;
    int64_t ticks = 0;
    int64_t pts_lo = AV_NOPTS_VALUE, pts_hi = AV_NOPTS_VALUE;
    int reordered = 0;
    int r = -ENOMEM;

    if (!fmt || !pkt || !iobuf)
        goto out;
    pb = avio_alloc_context(iobuf, RECOVERY_PROBE_IO_BUF_BYTES, 0, io,
                            recovery_probe_io_read, NULL,
                            recovery_probe_io_seek);
    if (!pb)
        goto out;
    iobuf = NULL; /* owned by pb now */
    fmt->pb = pb;
    fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
    /* The format is forced: a file that is not MP4 or QuickTime must not
     * be read as something else that happens to probe. Only the video
     * track is counted: catalog frames and durations are video's. */
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
            if (pkt->pts != AV_NOPTS_VALUE && pkt->dts != AV_NOPTS_VALUE) {
                reordered |= pkt->pts != pkt->dts;
                /* From the keyframe that starts the segment: the leading
                 * pictures of an H.265 CRA shown before it do not decode. */
                if (pts_lo == AV_NOPTS_VALUE)
                    pts_lo = pkt->pts;
                if (pts_hi == AV_NOPTS_VALUE || pkt->pts > pts_hi)
                    pts_hi = pkt->pts;
            }
        }
        av_packet_unref(pkt);
    }
    /* The demuxer guesses a fragment's last packet duration from the frame
     * rate; the stream duration is the sum stored in the fragments. */
    if (st->duration > 0)
        ticks = st->duration;
    /* With B-frames a torn tail can end with a frame shown after one that
     * was cut off with the fragment in flight: the footage then lasts to
     * the end of its last frame shown (the demuxer gives no packet
     * durations: a frame lasts the mean), longer than its durations add up
     * to. */
    if (reordered && out->frames > 0 &&
        pts_hi - pts_lo + ticks / out->frames > ticks)
        ticks = pts_hi - pts_lo + ticks / out->frames;
    out->duration_us = av_rescale_q(ticks, st->time_base, AV_TIME_BASE_Q);
    out->width = st->codecpar->width;
    out->height = st->codecpar->height;
    snprintf(out->codec, sizeof(out->codec), "%s",
             recovery_probe_codec_name(st->codecpar->codec_id));
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
    struct recovery_probe_io io = {.fd = -1};
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
    r = recovery_probe_hash(io.fd, out->bytes, out->sha256);
    if (r < 0)
        goto out;
    r = mp4box_complete_prefix(io.fd, out->bytes, 0, &out->valid_bytes);
    if (r < 0)
        goto out;
    if (out->valid_bytes == 0) {
        r = -EBADMSG;
        goto out;
    }
    io.end = out->valid_bytes;
    r = recovery_probe_demux(&io, path, out);
out:
    close(io.fd);
    return r;
}

/* Cuts the torn tail off a segment and makes the new size durable before
 * the catalog describes it. */
static int recovery_probe_truncate(const char *path, int64_t len)
{
    int fd = fsops_open(path, O_WRONLY | O_CLOEXEC, 0);
    int r;

    if (fd < 0)
        return fd;
    r = fsops_ftruncate(fd, (off_t)len);
    if (r == 0)
        r = fsops_fsync(fd);
    (void)fsops_close(fd); /* the data is synced; close cannot lose it */
    return r;
}

int recovery__repair_file(const char *path, struct recovery__probe *p,
                          int *repaired)
{
    int r = recovery__probe_file(path, p);

    *repaired = 0;
    if (r == 0 && p->frames > 0 && p->valid_bytes < p->bytes) {
        int64_t torn = p->bytes - p->valid_bytes;

        r = recovery_probe_truncate(path, p->valid_bytes);
        if (r < 0) {
            LOG_W("storage", "cannot truncate %s: %s", path, nvr_strerror(r));
        } else {
            LOG_I("storage", "%s: torn fragment of %" PRId64 " bytes cut off",
                  path, torn);
            *repaired = 1;
        }
        r = recovery__probe_file(path, p);
    }
    return r;
}
