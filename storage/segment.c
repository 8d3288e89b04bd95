/* SPDX-License-Identifier: MIT */
/*
 * One segment file (see segment.h): libavformat's mp4 muxer in fragmented
 * mode (frag_keyframe+empty_moov+default_base_moof) writing through a
 * non-seekable custom AVIOContext. The write callback goes through fsops
 * and feeds a running SHA-256, so closing needs no re-read. Packets are
 * muxed one unit late so that each gets its exact duration; after each
 * keyframe (which makes the muxer emit the previous GOP as a fragment) the
 * I/O buffer is flushed so the fragment reaches the kernel.
 */
#include "config.h"
#include "storage/segment.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavformat/avio.h>
#include <libavutil/mathematics.h>
#include <libavutil/mem.h>
#include <libavutil/sha.h>

#include "storage/fsops.h"

/* Size of the muxer's output buffer: whole fragments go out in a few
 * write calls. */
#define SEGMENT_IO_BUF_BYTES ((size_t)256 * 1024)
#define SEGMENT_FILE_MODE    0640

/* FFmpeg 7 (libavformat 61) made the write callback's buffer const. */
#if LIBAVFORMAT_VERSION_MAJOR >= 61
typedef const uint8_t segment_io_byte;
#else
typedef uint8_t segment_io_byte;
#endif

struct segment {
    char *path;
    int fd;
    int err; /* first disk or muxer error; sticky */
    struct AVSHA *sha;
    AVFormatContext *fmt;
    AVIOContext *pb;
    AVPacket *pkt;
    struct nvr_track_info track;
    int64_t wall_us; /* creation_time, UTC us */
    bool header_written;
    bool started;        /* the first unit was accepted */
    struct nvr_au *held; /* accepted, not yet muxed (owned ref) */
    int64_t first_pts;   /* track clock */
    int64_t last_pts;    /* of the last unit muxed */
    int64_t last_dur;    /* duration of the last unit muxed, clock */
    int64_t dur_ticks;   /* sum of muxed durations, clock */
    int64_t frames;      /* units muxed */
    int64_t bytes;       /* bytes accepted by write(2) */
    int64_t dropped;     /* non-monotonic units refused */
};

static int seg_io_write(void *opaque, segment_io_byte *buf, int size)
{
    struct segment *seg = opaque;
    size_t off = 0;

    /* After one failure nothing more is written: the file must stay a
     * prefix of the stream so that its complete fragments stay readable
     * and the hash matches its bytes. */
    if (seg->err < 0)
        return seg->err;
    while (off < (size_t)size) {
        ssize_t n = fsops_write(seg->fd, buf + off, (size_t)size - off);
        if (n <= 0) {
            seg->err = n < 0 ? (int)n : -EIO;
            return seg->err;
        }
        av_sha_update(seg->sha, buf + off, (size_t)n);
        seg->bytes += n;
        off += (size_t)n;
    }
    return size;
}

/* Fills in width/height from the SPS when the stream description lacks
 * them, using libavcodec's parser over the params and the first unit. */
static void seg_probe_dims(struct segment *seg, const struct nvr_au *au,
                           AVCodecParameters *par)
{
    AVCodecParserContext *parser = av_parser_init(par->codec_id);
    AVCodecContext *avctx = avcodec_alloc_context3(NULL);
    uint8_t *buf = NULL;
    size_t len = seg->track.params_len + au->len;

    if (!parser || !avctx)
        goto out;
    buf = av_malloc(len + AV_INPUT_BUFFER_PADDING_SIZE);
    if (!buf)
        goto out;
    memcpy(buf, seg->track.params, seg->track.params_len);
    memcpy(buf + seg->track.params_len, au->data, au->len);
    memset(buf + len, 0, AV_INPUT_BUFFER_PADDING_SIZE);
    parser->flags |= PARSER_FLAG_COMPLETE_FRAMES;
    uint8_t *out_buf;
    int out_len;
    (void)av_parser_parse2(parser, avctx, &out_buf, &out_len, buf, (int)len,
                           AV_NOPTS_VALUE, AV_NOPTS_VALUE, 0);
    if (parser->width > 0 && parser->height > 0) {
        par->width = parser->width;
        par->height = parser->height;
    }
out:
    av_free(buf);
    avcodec_free_context(&avctx);
    if (parser)
        av_parser_close(parser);
}

/* Whether a NAL unit header starts a parameter set (H.264 7.4.1.2: SPS 7,
 * PPS 8; H.265 7.4.2.2: VPS 32, SPS 33, PPS 34). */
static bool seg_is_param_nal(enum nvr_codec codec, uint8_t hdr)
{
    if (codec == NVR_CODEC_H264)
        return (hdr & 0x1f) == 7 || (hdr & 0x1f) == 8;
    return ((hdr >> 1) & 0x3f) >= 32 && ((hdr >> 1) & 0x3f) <= 34;
}

/* When the session described no parameter sets (no sprop-parameter-sets in
 * the SDP), takes them from the first keyframe, which carries them in
 * band; the sample entry must hold them for the file to play. */
static void seg_params_from_au(struct segment *seg, const struct nvr_au *au)
{
    struct nvr_track_info *t = &seg->track;
    const uint8_t *d = au->data;
    size_t i = 0;

    while (i + 3 < au->len) {
        size_t start, end;
        if (!(d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1)) {
            i++;
            continue;
        }
        start = i + 3;
        end = start;
        /* The NAL unit ends at the next 00 00 00 or 00 00 01. */
        while (end + 2 < au->len &&
               !(d[end] == 0 && d[end + 1] == 0 && d[end + 2] <= 1))
            end++;
        if (end + 2 >= au->len)
            end = au->len;
        if (end > start && seg_is_param_nal(t->codec, d[start]) &&
            t->params_len + 4 + (end - start) <= sizeof(t->params)) {
            memcpy(t->params + t->params_len, "\0\0\0\1", 4);
            memcpy(t->params + t->params_len + 4, d + start, end - start);
            t->params_len += 4 + (end - start);
        }
        i = end;
    }
}

static int seg_set_extradata(struct segment *seg, AVCodecParameters *par)
{
    av_freep(&par->extradata);
    par->extradata_size = 0;
    if (seg->track.params_len == 0)
        return 0;
    par->extradata =
        av_mallocz(seg->track.params_len + AV_INPUT_BUFFER_PADDING_SIZE);
    if (!par->extradata)
        return -ENOMEM;
    memcpy(par->extradata, seg->track.params, seg->track.params_len);
    par->extradata_size = (int)seg->track.params_len;
    return 0;
}

static int seg_write_header(struct segment *seg, const struct nvr_au *first)
{
    AVCodecParameters *par = seg->fmt->streams[0]->codecpar;
    AVDictionary *opts = NULL;
    int r;

    if (first && seg->track.params_len == 0) {
        seg_params_from_au(seg, first);
        r = seg_set_extradata(seg, par);
        if (r < 0)
            return r;
    }
    if (first && (par->width <= 0 || par->height <= 0))
        seg_probe_dims(seg, first, par);
    av_dict_set(&opts, "movflags", "frag_keyframe+empty_moov+default_base_moof",
                0);
    r = avformat_write_header(seg->fmt, &opts);
    av_dict_free(&opts);
    if (r < 0)
        return seg->err < 0 ? seg->err : r;
    seg->header_written = true;
    /* The header alone makes the file recognisable to players. */
    avio_flush(seg->pb);
    return seg->err;
}

static int seg_mux(struct segment *seg, const struct nvr_au *au, int64_t dur)
{
    AVPacket *pkt = seg->pkt;
    int r;

    av_packet_unref(pkt);
    pkt->data = (uint8_t *)au->data;
    pkt->size = (int)au->len;
    pkt->stream_index = 0;
    pkt->pts = pkt->dts = au->pts - seg->first_pts;
    pkt->duration = dur;
    if (au->flags & NVR_AU_KEY)
        pkt->flags |= AV_PKT_FLAG_KEY;
    r = av_write_frame(seg->fmt, pkt);
    pkt->data = NULL;
    pkt->size = 0;
    if (r < 0 || seg->err < 0) {
        if (seg->err == 0)
            seg->err = r;
        return seg->err;
    }
    seg->frames++;
    seg->dur_ticks += dur;
    seg->last_dur = dur;
    seg->last_pts = au->pts;
    if (au->flags & NVR_AU_KEY) {
        /* The muxer has just emitted the previous GOP's fragment into the
         * I/O buffer; push it to the kernel now. */
        avio_flush(seg->pb);
        if (seg->err == 0 && seg->pb->error < 0)
            seg->err = seg->pb->error;
    }
    return seg->err;
}

static void seg_free(struct segment *seg)
{
    if (seg->fmt) {
        /* Also releases the muxer's state when no trailer was written. */
        avformat_free_context(seg->fmt);
    }
    if (seg->pb) {
        av_freep(&seg->pb->buffer);
        avio_context_free(&seg->pb);
    }
    av_packet_free(&seg->pkt);
    av_free(seg->sha);
    nvr_au_unref(seg->held);
    if (seg->fd >= 0)
        (void)fsops_close(seg->fd); /* only on paths already failed */
    free(seg->path);
    free(seg);
}

static int seg_setup_muxer(struct segment *seg)
{
    AVStream *st;
    AVCodecParameters *par;
    uint8_t *iobuf;
    char iso[96];
    struct tm tm;
    time_t secs = (time_t)(seg->wall_us / 1000000);
    int r;

    r = avformat_alloc_output_context2(&seg->fmt, NULL, "mp4", NULL);
    if (r < 0)
        return r;
    st = avformat_new_stream(seg->fmt, NULL);
    if (!st)
        return -ENOMEM;
    st->time_base = (AVRational){1, seg->track.clock_rate};
    par = st->codecpar;
    par->codec_type = AVMEDIA_TYPE_VIDEO;
    if (seg->track.codec == NVR_CODEC_H264) {
        par->codec_id = AV_CODEC_ID_H264;
    } else {
        /* hvc1: parameter sets only in the sample entry, which is what
         * Apple players require; the muxer converts Annex B to hvcC. */
        par->codec_id = AV_CODEC_ID_HEVC;
        par->codec_tag = MKTAG('h', 'v', 'c', '1');
    }
    par->width = seg->track.width;
    par->height = seg->track.height;
    r = seg_set_extradata(seg, par);
    if (r < 0)
        return r;

    gmtime_r(&secs, &tm);
    snprintf(iso, sizeof(iso), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int)(seg->wall_us % 1000000));
    if (av_dict_set(&seg->fmt->metadata, "creation_time", iso, 0) < 0)
        return -ENOMEM;

    iobuf = av_malloc(SEGMENT_IO_BUF_BYTES);
    if (!iobuf)
        return -ENOMEM;
    seg->pb = avio_alloc_context(iobuf, SEGMENT_IO_BUF_BYTES, 1, seg, NULL,
                                 seg_io_write, NULL);
    if (!seg->pb) {
        av_free(iobuf);
        return -ENOMEM;
    }
    seg->pb->seekable = 0;
    seg->fmt->pb = seg->pb;
    return 0;
}

int segment_open(const char *path, const struct nvr_track_info *video,
                 int64_t wall_us, struct segment **out)
{
    struct segment *seg;
    int r;

    if ((video->codec != NVR_CODEC_H264 && video->codec != NVR_CODEC_H265) ||
        video->clock_rate <= 0 || video->params_len > NVR_PARAMS_MAX_BYTES ||
        wall_us < 0)
        return -EINVAL;
    seg = calloc(1, sizeof(*seg));
    if (!seg)
        return -ENOMEM;
    seg->fd = -1;
    seg->track = *video;
    seg->wall_us = wall_us;
    seg->path = strdup(path);
    seg->sha = av_sha_alloc();
    seg->pkt = av_packet_alloc();
    if (!seg->path || !seg->sha || !seg->pkt) {
        r = -ENOMEM;
        goto err_free;
    }
    r = av_sha_init(seg->sha, 256);
    if (r < 0)
        goto err_free;
    r = seg_setup_muxer(seg);
    if (r < 0)
        goto err_free;
    r = fsops_open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC,
                   SEGMENT_FILE_MODE);
    if (r < 0)
        goto err_free;
    seg->fd = r;
    *out = seg;
    return 0;

err_free:
    seg_free(seg);
    return r;
}

int segment_write(struct segment *seg, struct nvr_au *au)
{
    int r;

    if (seg->err < 0)
        return seg->err;
    if (au->len == 0 || au->len > NVR_AU_MAX_BYTES) {
        seg->dropped++;
        return 1;
    }
    if (!seg->started) {
        if (!(au->flags & NVR_AU_KEY))
            return -EINVAL;
        r = seg_write_header(seg, au);
        if (r < 0)
            return r;
        seg->started = true;
        seg->first_pts = au->pts;
        seg->held = nvr_au_ref(au);
        return 0;
    }
    /* The muxer would refuse (or worse, accept) a timestamp that does not
     * increase; the unit is dropped instead. */
    if (au->pts <= seg->held->pts) {
        seg->dropped++;
        return 1;
    }
    r = seg_mux(seg, seg->held, au->pts - seg->held->pts);
    nvr_au_unref(seg->held);
    seg->held = NULL;
    if (r < 0)
        return r;
    seg->held = nvr_au_ref(au);
    return 0;
}

int64_t segment_elapsed(const struct segment *seg, int64_t pts)
{
    return seg->started ? pts - seg->first_pts : 0;
}

void segment_get_progress(const struct segment *seg, struct segment_result *res)
{
    memset(res, 0, sizeof(*res));
    res->bytes = seg->bytes;
    res->frames = seg->frames;
    res->first_pts = seg->first_pts;
    res->last_pts = seg->frames > 0 ? seg->last_pts : seg->first_pts;
    res->duration_us =
        av_rescale(seg->dur_ticks, 1000000, seg->track.clock_rate);
    res->dropped = seg->dropped;
    if (seg->fmt && seg->fmt->nb_streams > 0) {
        res->width = seg->fmt->streams[0]->codecpar->width;
        res->height = seg->fmt->streams[0]->codecpar->height;
    }
}

/* Makes the new file's directory entry durable. */
static int seg_fsync_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    size_t n;

    if (!slash)
        return fsops_fsync_dir(".");
    n = (size_t)(slash - path);
    if (n == 0)
        return fsops_fsync_dir("/");
    if (n >= sizeof(dir))
        return -ENAMETOOLONG;
    memcpy(dir, path, n);
    dir[n] = '\0';
    return fsops_fsync_dir(dir);
}

int segment_close(struct segment *seg, int64_t next_pts,
                  struct segment_result *res)
{
    uint8_t digest[32];
    int r;

    if (!seg)
        return 0;
    if (seg->held && seg->err == 0) {
        int64_t dur = seg->last_dur;
        if (next_pts != SEGMENT_NO_PTS && next_pts > seg->held->pts)
            dur = next_pts - seg->held->pts;
        else if (dur <= 0)
            dur = seg->track.clock_rate / SEGMENT_DEFAULT_FPS;
        (void)seg_mux(seg, seg->held, dur); /* error kept in seg->err */
    }
    nvr_au_unref(seg->held);
    seg->held = NULL;
    if (seg->err == 0 && !seg->header_written)
        (void)seg_write_header(seg, NULL);
    if (seg->err == 0) {
        r = av_write_trailer(seg->fmt);
        avio_flush(seg->pb);
        if (seg->err == 0 && r < 0)
            seg->err = r;
    }
    /* Even a failed segment is synced: its complete fragments are kept. */
    r = fsops_fsync(seg->fd);
    if (seg->err == 0 && r < 0)
        seg->err = r;
    r = fsops_close(seg->fd);
    seg->fd = -1;
    if (seg->err == 0 && r < 0)
        seg->err = r;
    r = seg_fsync_dir(seg->path);
    if (seg->err == 0 && r < 0)
        seg->err = r;

    segment_get_progress(seg, res);
    av_sha_final(seg->sha, digest);
    for (size_t i = 0; i < sizeof(digest); i++)
        snprintf(res->sha256 + 2 * i, 3, "%02x", digest[i]);
    r = seg->err;
    seg_free(seg);
    return r;
}
