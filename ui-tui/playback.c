/* SPDX-License-Identifier: MIT */
/*
 * The playback engine (see playback.h). Seeking does not rely on the
 * demuxer's index: a fragmented MP4 without a sidx only has an index of
 * the fragments read so far, so after a best-effort av_seek_frame() the
 * engine reads packets (cheap, no decoding) from the keyframe at or before
 * the target up to the target, queues them, and decodes only that GOP. A
 * seek that lands after the target reopens the file from its start.
 */
#include "config.h"
#include "ui-tui/playback.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/mathematics.h>
#include <libswscale/swscale.h>

#include "nvr/base/clock.h"
#include "storage/catalog.h"

/* Packets queued between the keyframe and the seek target; beyond this the
 * queue is decoded (and its frames dropped) to bound memory. */
#define PLAYBACK_MAX_QUEUE 512
/* Largest picture the engine scales to (pixels per side). */
#define PLAYBACK_MAX_DIM 8192
/* How far ahead of the current frame advance_to steps instead of seeking. */
#define PLAYBACK_STEP_AHEAD_US       3000000LL
#define PLAYBACK_DEFAULT_INTERVAL_US 40000
#define US_Q                         ((AVRational){1, 1000000})

struct playback {
    struct catalog *cat;     /* borrowed */
    const char *storage_dir; /* borrowed */
    int64_t camera_id;

    /* The open segment file. */
    AVFormatContext *fmt;
    AVCodecContext *dec;
    int vs;
    AVRational tb;
    struct catalog_segment seg; /* its catalog row */
    int64_t size_at_open;       /* bytes of the file when opened */
    int demux_eof, dec_eof;

    AVPacket *pkt;
    AVPacket *queue[PLAYBACK_MAX_QUEUE]; /* owned packets to decode first */
    int q_head, q_len;

    AVFrame *cur, *next, *tmp;
    int have_cur, have_next;
    int64_t cur_wall, next_wall; /* UTC us */
    int64_t interval_us;

    struct SwsContext *sws;
    uint8_t *rgba;
    size_t rgba_size;
    int64_t decoded;
};

int playback_new(struct catalog *cat, const char *storage_dir,
                 int64_t camera_id, struct playback **out)
{
    struct playback *pb = calloc(1, sizeof(*pb));

    if (!pb)
        return -ENOMEM;
    pb->cat = cat;
    pb->storage_dir = storage_dir;
    pb->camera_id = camera_id;
    pb->vs = -1;
    pb->interval_us = PLAYBACK_DEFAULT_INTERVAL_US;
    pb->pkt = av_packet_alloc();
    pb->cur = av_frame_alloc();
    pb->next = av_frame_alloc();
    pb->tmp = av_frame_alloc();
    if (!pb->pkt || !pb->cur || !pb->next || !pb->tmp) {
        playback_free(pb);
        return -ENOMEM;
    }
    *out = pb;
    return 0;
}

static void queue_clear(struct playback *pb)
{
    for (int i = 0; i < pb->q_len; i++)
        av_packet_free(&pb->queue[(pb->q_head + i) % PLAYBACK_MAX_QUEUE]);
    pb->q_head = pb->q_len = 0;
}

static void file_close(struct playback *pb)
{
    queue_clear(pb);
    avcodec_free_context(&pb->dec);
    avformat_close_input(&pb->fmt);
    pb->vs = -1;
    pb->demux_eof = pb->dec_eof = 0;
}

void playback_free(struct playback *pb)
{
    if (!pb)
        return;
    file_close(pb);
    av_packet_free(&pb->pkt);
    av_frame_free(&pb->cur);
    av_frame_free(&pb->next);
    av_frame_free(&pb->tmp);
    sws_freeContext(pb->sws);
    free(pb->rgba);
    free(pb);
}

static int64_t file_bytes(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

static void seg_path(const struct playback *pb, const struct catalog_segment *s,
                     char *out, size_t size)
{
    snprintf(out, size, "%s/%s", pb->storage_dir, s->path);
}

static int file_open(struct playback *pb, const struct catalog_segment *s)
{
    const AVCodec *codec;
    char path[PATH_MAX];
    int r;

    file_close(pb);
    pb->seg = *s;
    seg_path(pb, s, path, sizeof(path));
    pb->size_at_open = file_bytes(path);
    r = avformat_open_input(&pb->fmt, path, NULL, NULL);
    if (r < 0)
        return r;
    pb->vs = av_find_best_stream(pb->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (pb->vs < 0) {
        r = pb->vs;
        goto err;
    }
    pb->tb = pb->fmt->streams[pb->vs]->time_base;
    codec = avcodec_find_decoder(pb->fmt->streams[pb->vs]->codecpar->codec_id);
    if (!codec) {
        r = -ENOSYS;
        goto err;
    }
    pb->dec = avcodec_alloc_context3(codec);
    if (!pb->dec) {
        r = -ENOMEM;
        goto err;
    }
    r = avcodec_parameters_to_context(pb->dec,
                                      pb->fmt->streams[pb->vs]->codecpar);
    if (r < 0)
        goto err;
    /* Slice threads add no delay: a seek shows its frame at once. */
    pb->dec->thread_count = 0;
    pb->dec->thread_type = FF_THREAD_SLICE;
    r = avcodec_open2(pb->dec, codec, NULL);
    if (r < 0)
        goto err;
    return 0;
err:
    file_close(pb);
    return r;
}

/* The next video packet: queued ones first, then the demuxer. */
static int read_packet(struct playback *pb, AVPacket *out)
{
    int r;

    if (pb->q_len > 0) {
        AVPacket *q = pb->queue[pb->q_head];

        pb->q_head = (pb->q_head + 1) % PLAYBACK_MAX_QUEUE;
        pb->q_len--;
        av_packet_move_ref(out, q);
        av_packet_free(&q);
        return 0;
    }
    if (pb->demux_eof)
        return AVERROR_EOF;
    for (;;) {
        r = av_read_frame(pb->fmt, out);
        if (r < 0) {
            pb->demux_eof = 1;
            return AVERROR_EOF;
        }
        if (out->stream_index == pb->vs)
            return 0;
        av_packet_unref(out);
    }
}

static int64_t frame_wall(const struct playback *pb, const AVFrame *f)
{
    int64_t ts = f->best_effort_timestamp;

    if (ts == AV_NOPTS_VALUE)
        ts = f->pts;
    if (ts == AV_NOPTS_VALUE)
        ts = 0;
    return pb->seg.start_us + av_rescale_q(ts, pb->tb, US_Q);
}

/* Decodes the next frame of the open file into out. Returns 0, AVERROR_EOF
 * when the file has no more frames, or a decoder error. */
static int decode_next(struct playback *pb, AVFrame *out, int64_t *wall)
{
    int r;

    *wall = 0; /* until a frame comes out */
    if (!pb->dec)
        return AVERROR_EOF;
    for (;;) {
        r = avcodec_receive_frame(pb->dec, out);
        if (r == 0) {
            *wall = frame_wall(pb, out);
            pb->decoded++;
            return 0;
        }
        if (r == AVERROR_EOF) {
            pb->dec_eof = 1;
            return AVERROR_EOF;
        }
        if (r != AVERROR(EAGAIN))
            return r;
        r = read_packet(pb, pb->pkt);
        if (r == AVERROR_EOF) {
            r = avcodec_send_packet(pb->dec, NULL);
            if (r < 0 && r != AVERROR_EOF)
                return r;
            continue;
        }
        r = avcodec_send_packet(pb->dec, pb->pkt);
        av_packet_unref(pb->pkt);
        /* A damaged packet (the torn tail of a crashed segment) is
         * skipped, not fatal. */
        if (r < 0 && r != AVERROR(EAGAIN) && r != AVERROR_INVALIDDATA)
            return r;
    }
}

static void note_interval(struct playback *pb, int64_t a, int64_t b)
{
    int64_t d = b - a;

    /* Between 1 and 120 fps: anything else is a gap or a clock step. */
    if (d >= 8333 && d <= 1000000)
        pb->interval_us = d;
}

/* Decodes the queued packets whose frames would be dropped anyway (the
 * queue overflowed), keeping the decoder's reference state right. */
static int queue_drain(struct playback *pb)
{
    while (pb->q_len > 0) {
        AVPacket *q = pb->queue[pb->q_head];
        int r;

        pb->q_head = (pb->q_head + 1) % PLAYBACK_MAX_QUEUE;
        pb->q_len--;
        r = avcodec_send_packet(pb->dec, q);
        av_packet_free(&q);
        while (avcodec_receive_frame(pb->dec, pb->tmp) == 0)
            pb->decoded++;
        if (r < 0 && r != AVERROR_INVALIDDATA && r != AVERROR(EAGAIN))
            return r;
    }
    return 0;
}

/*
 * Positions the open file so that the next decoded frames start at the
 * keyframe at or before target (stream time base): queues the packets from
 * that keyframe on, up to the first one after target.
 */
static int position_at(struct playback *pb, int64_t target)
{
    int reopened = 0, first = 1, r;

    queue_clear(pb);
    (void)av_seek_frame(pb->fmt, pb->vs, target > 0 ? target : 0,
                        AVSEEK_FLAG_BACKWARD);
    avcodec_flush_buffers(pb->dec);
    for (;;) {
        AVPacket *p;

        r = av_read_frame(pb->fmt, pb->pkt);
        if (r < 0) {
            pb->demux_eof = 1;
            return 0;
        }
        if (pb->pkt->stream_index != pb->vs) {
            av_packet_unref(pb->pkt);
            continue;
        }
        if (first && pb->pkt->pts != AV_NOPTS_VALUE && pb->pkt->pts > target &&
            target > 0 && !reopened) {
            /* The demuxer overshot: start again from the file's start. */
            struct catalog_segment s = pb->seg;

            av_packet_unref(pb->pkt);
            r = file_open(pb, &s);
            if (r < 0)
                return r;
            reopened = 1;
            continue;
        }
        first = 0;
        /* A keyframe shown after the target is no place to start: with
         * B-frames, frames shown before it (the target among them) come
         * before it in decode order and need the keyframe before. */
        if ((pb->pkt->flags & AV_PKT_FLAG_KEY) &&
            (pb->pkt->pts == AV_NOPTS_VALUE || pb->pkt->pts <= target))
            queue_clear(pb);
        p = av_packet_alloc();
        if (!p) {
            av_packet_unref(pb->pkt);
            return -ENOMEM;
        }
        av_packet_move_ref(p, pb->pkt);
        if (pb->q_len == PLAYBACK_MAX_QUEUE) {
            r = queue_drain(pb);
            if (r < 0) {
                av_packet_free(&p);
                return r;
            }
        }
        pb->queue[(pb->q_head + pb->q_len) % PLAYBACK_MAX_QUEUE] = p;
        pb->q_len++;
        if (p->pts != AV_NOPTS_VALUE && p->pts > target)
            return 0;
    }
}

static void take_frame(struct playback *pb, int64_t wall)
{
    AVFrame *t = pb->cur;

    if (pb->have_cur)
        note_interval(pb, pb->cur_wall, wall);
    pb->cur = pb->tmp;
    pb->tmp = t;
    av_frame_unref(pb->tmp);
    pb->cur_wall = wall;
    pb->have_cur = 1;
}

/* Within the open file: the last frame at or before t (or the first after
 * it). Returns 0, -ENOENT if the file has no frame, or an error. */
static int seek_in_file(struct playback *pb, int64_t t)
{
    int64_t target = av_rescale_q(t - pb->seg.start_us, US_Q, pb->tb);
    int64_t wall;
    int r, got = 0;

    r = position_at(pb, target);
    if (r < 0)
        return r;
    pb->have_next = 0;
    for (;;) {
        r = decode_next(pb, pb->tmp, &wall);
        if (r == AVERROR_EOF)
            break;
        if (r < 0)
            return r;
        if (wall <= t || !got) {
            if (!got)
                pb->have_cur = 0;
            take_frame(pb, wall);
            got = 1;
            if (wall > t)
                break;
            continue;
        }
        /* The first frame after t: shown by the next step. */
        {
            AVFrame *n = pb->next;

            pb->next = pb->tmp;
            pb->tmp = n;
            av_frame_unref(pb->tmp);
            pb->next_wall = wall;
            pb->have_next = 1;
            note_interval(pb, pb->cur_wall, wall);
        }
        break;
    }
    return got ? 0 : -ENOENT;
}

struct find_ctx {
    int64_t after_start; /* only segments starting after this */
    int64_t skip_id;
    int found;
    int newest; /* keep the last row instead of the first */
    struct catalog_segment seg;
};

static int find_cb(void *user, const struct catalog_segment *seg)
{
    struct find_ctx *f = user;

    if (seg->id == f->skip_id || seg->start_us <= f->after_start)
        return 0;
    f->seg = *seg;
    f->found = 1;
    return f->newest ? 0 : 1;
}

#define SEG_USABLE ((1u << CATALOG_SEG_OPEN) | (1u << CATALOG_SEG_CLOSED))

/* The segment containing t, or the first one after it. */
static int find_at(struct playback *pb, int64_t t, struct catalog_segment *out)
{
    struct find_ctx f = {.after_start = INT64_MIN, .skip_id = -1};
    int r;

    r = catalog_segment_list(pb->cat, pb->camera_id, t, INT64_MAX, SEG_USABLE,
                             find_cb, &f);
    if (r < 0)
        return r;
    if (!f.found)
        return -ENOENT;
    *out = f.seg;
    return 0;
}

/* The segment that follows s. */
static int find_after(struct playback *pb, const struct catalog_segment *s,
                      struct catalog_segment *out)
{
    struct find_ctx f = {.after_start = s->start_us, .skip_id = s->id};
    int r;

    r = catalog_segment_list(pb->cat, pb->camera_id, s->start_us, INT64_MAX,
                             SEG_USABLE, find_cb, &f);
    if (r < 0)
        return r;
    if (!f.found)
        return -ENOENT;
    *out = f.seg;
    return 0;
}

int playback_seek(struct playback *pb, int64_t t_us)
{
    struct catalog_segment s;
    int r;

    for (int tries = 0; tries < 8; tries++) {
        r = find_at(pb, t_us, &s);
        if (r < 0)
            return r;
        if (!pb->fmt || pb->seg.id != s.id || pb->seg.status != s.status ||
            s.status == CATALOG_SEG_OPEN) {
            r = file_open(pb, &s);
        } else {
            pb->seg = s;
            pb->demux_eof = pb->dec_eof = 0;
            r = 0;
        }
        if (r == 0)
            r = seek_in_file(pb, t_us);
        /* A segment without a readable frame (just begun, or its file
         * gone): look at the next one. */
        if (r != -ENOENT && r != AVERROR(ENOENT) && r != AVERROR_INVALIDDATA)
            return r;
        if (t_us < s.end_us)
            t_us = s.end_us;
        if (t_us <= s.start_us)
            t_us = s.start_us + 1;
    }
    return -ENOENT;
}

struct newest_ctx {
    int found;
    struct catalog_segment seg;
};

static int newest_cb(void *user, const struct catalog_segment *seg)
{
    struct newest_ctx *n = user;

    if (!n->found || seg->start_us >= n->seg.start_us) {
        n->seg = *seg;
        n->found = 1;
    }
    return 0;
}

int playback_seek_live(struct playback *pb)
{
    struct newest_ctx n = {0};
    int64_t now = nvr_clock_wall_us();
    int r;

    r = catalog_segment_list(pb->cat, pb->camera_id, now - 3600000000LL,
                             INT64_MAX, SEG_USABLE, newest_cb, &n);
    if (r == 0 && !n.found)
        r = catalog_segment_list(pb->cat, pb->camera_id, INT64_MIN, INT64_MAX,
                                 SEG_USABLE, newest_cb, &n);
    if (r < 0)
        return r;
    if (!n.found)
        return -ENOENT;
    /* end_us is exclusive: the last frame starts before it. */
    r = playback_seek(pb, n.seg.end_us > n.seg.start_us
                              ? (n.seg.end_us > now ? now : n.seg.end_us) - 1
                              : n.seg.start_us);
    if (r < 0)
        return r;
    /* Catch up with what the file holds beyond the catalog's end_us. */
    while ((r = playback_step(pb)) == 0)
        ;
    return r == -EAGAIN || r == -ENOENT ? 0 : r;
}

/* End of the open file: the next segment, more of this one, or nothing. */
static int step_past_eof(struct playback *pb)
{
    struct catalog_segment row, nxt;
    char path[PATH_MAX];
    int64_t last = pb->cur_wall, wall;
    int r;

    if (catalog_segment_by_path(pb->cat, pb->seg.path, &row) == 0)
        pb->seg = row;
    r = find_after(pb, &pb->seg, &nxt);
    if (r == 0) {
        r = file_open(pb, &nxt);
        if (r < 0)
            return r;
        r = decode_next(pb, pb->tmp, &wall);
        if (r < 0)
            return r == AVERROR_EOF ? -EAGAIN : r;
        take_frame(pb, wall);
        return 0;
    }
    if (r != -ENOENT)
        return r;
    if (pb->seg.status != CATALOG_SEG_OPEN)
        return -ENOENT;
    seg_path(pb, &pb->seg, path, sizeof(path));
    if (file_bytes(path) <= pb->size_at_open)
        return -EAGAIN;
    /* The file grew: reopen it and continue after the last frame shown. */
    row = pb->seg;
    r = file_open(pb, &row);
    if (r < 0)
        return r;
    r = position_at(pb, av_rescale_q(last - row.start_us, US_Q, pb->tb));
    if (r < 0)
        return r;
    for (;;) {
        r = decode_next(pb, pb->tmp, &wall);
        if (r == AVERROR_EOF)
            return -EAGAIN;
        if (r < 0)
            return r;
        if (wall > last) {
            take_frame(pb, wall);
            return 0;
        }
    }
}

int playback_step(struct playback *pb)
{
    int64_t wall;
    int r;

    if (pb->have_next) {
        AVFrame *t = pb->cur;

        pb->cur = pb->next;
        pb->next = t;
        av_frame_unref(pb->next);
        pb->cur_wall = pb->next_wall;
        pb->have_next = 0;
        pb->have_cur = 1;
        return 0;
    }
    if (!pb->fmt)
        return -ENOENT;
    r = decode_next(pb, pb->tmp, &wall);
    if (r == 0) {
        take_frame(pb, wall);
        return 0;
    }
    if (r != AVERROR_EOF)
        return r;
    return step_past_eof(pb);
}

int playback_advance_to(struct playback *pb, int64_t t_us)
{
    int r;

    if (!pb->have_cur || t_us < pb->cur_wall ||
        t_us - pb->cur_wall > PLAYBACK_STEP_AHEAD_US)
        return playback_seek(pb, t_us);
    for (;;) {
        if (pb->have_next && pb->next_wall > t_us)
            return 0;
        if (!pb->have_next && t_us - pb->cur_wall < pb->interval_us)
            return 0;
        r = playback_step(pb);
        if (r < 0)
            return r;
        if (pb->cur_wall > t_us)
            return 0;
    }
}

int64_t playback_frame_time(const struct playback *pb)
{
    return pb->have_cur ? pb->cur_wall : 0;
}

int64_t playback_frame_interval(const struct playback *pb)
{
    return pb->interval_us;
}

void playback_frame_size(const struct playback *pb, int *width, int *height)
{
    *width = pb->have_cur ? pb->cur->width : 0;
    *height = pb->have_cur ? pb->cur->height : 0;
}

int playback_frame_rgba(struct playback *pb, int width, int height,
                        const uint8_t **pixels, int *stride)
{
    size_t need;
    uint8_t *dst[4];
    int dst_stride[4];

    if (!pb->have_cur || pb->cur->width <= 0 || pb->cur->height <= 0)
        return -ENOENT;
    if (width <= 0 || height <= 0 || width > PLAYBACK_MAX_DIM ||
        height > PLAYBACK_MAX_DIM)
        return -EINVAL;
    pb->sws = sws_getCachedContext(
        pb->sws, pb->cur->width, pb->cur->height, pb->cur->format, width,
        height, AV_PIX_FMT_RGBA, SWS_FAST_BILINEAR, NULL, NULL, NULL);
    if (!pb->sws)
        return -ENOMEM;
    need = (size_t)width * (size_t)height * 4;
    if (need > pb->rgba_size) {
        uint8_t *p = realloc(pb->rgba, need);

        if (!p)
            return -ENOMEM;
        pb->rgba = p;
        pb->rgba_size = need;
    }
    dst[0] = pb->rgba;
    dst[1] = dst[2] = dst[3] = NULL;
    dst_stride[0] = width * 4;
    dst_stride[1] = dst_stride[2] = dst_stride[3] = 0;
    sws_scale(pb->sws, (const uint8_t *const *)pb->cur->data, pb->cur->linesize,
              0, pb->cur->height, dst, dst_stride);
    *pixels = pb->rgba;
    *stride = width * 4;
    return 0;
}

int64_t playback_frames_decoded(const struct playback *pb)
{
    return pb->decoded;
}
