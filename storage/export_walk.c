/* SPDX-License-Identifier: MIT */
/*
 * The export's timeline walk (see export.c for the design): the source
 * segments of a clip are demuxed in order and their packets placed on the
 * clip's timeline, unchanged. Media time 0 is the keyframe at or before
 * the requested start; within a recording session frames follow each
 * other exactly; across a gap the clip keeps the real time difference
 * (recorded as a gap, with a cue saying so); audio goes at its wall-clock
 * offset. A clip is written in up to two passes over its sources: a dry
 * one into no file, which gives the front region (and so lets the clip be
 * hashed while written), then the real one.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/mathematics.h>

#include "nvr/base/log.h"
#include "storage/catalog.h"
#include "storage/export_int.h"
#include "storage/sha256.h"

/* Most bytes buffered while looking for the keyframe at or before the
 * start: one GOP of a high-bitrate camera fits easily. */
#define EXPORT_MAX_GOP_BYTES ((size_t)256 * 1024 * 1024)
/* Highest frame rate assumed when a segment's frame count is unknown. */
#define EXPORT_MAX_FPS 240
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
/* Audio that lands this close to the end of the previous packet (rounding
 * at a segment seam) continues it exactly. */
#define EXPORT_AUDIO_SNAP_US 40000

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

static void export_walk_pending_clear(struct pending *p)
{
    for (int i = 0; i < p->n; i++)
        av_packet_free(&p->v[i].pkt);
    p->n = 0;
    p->bytes = 0;
}

static int export_walk_pending_add(struct pending *p, const AVPacket *pkt,
                                   int seg, int kind, int64_t rel,
                                   int64_t wall_us)
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
    struct exp_clip_io io;
    struct exp_out o;
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
static int export_walk_place(struct walk *w, int seg, int64_t rel,
                             int64_t wall_us)
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
    at = av_rescale_q(wall_us - c->res->actual_from_us, EXPORT_US_TB, c->vtb);
    if (at < w->last_end)
        at = w->last_end;
    g = &c->gaps[c->n_gaps++];
    g->start_us = w->last_wall_end_us;
    g->end_us = wall_us;
    g->media_start_s = (double)w->last_end * av_q2d(c->vtb);
    err = export_mux__cue_gap(&w->o, w->last_end, at, g);
    if (err < 0)
        return err;
    w->seg_base = at - rel;
    return 0;
}

static int export_walk_write(struct walk *w, AVPacket *pkt, int seg,
                             int64_t rel, int64_t wall_us)
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
        err = export_mux__open(&w->o, &w->io, w->clip, wall_us, w->moov_bytes);
        if (err < 0)
            return err;
        w->opened = true;
    }
    if (!w->started || seg != w->cur_seg) {
        err = export_walk_place(w, seg, rel, wall_us);
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
    err = export_mux__cue_frame(&w->o, ts, wall_us);
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
    w->last_wall_end_us = wall_us + av_rescale_q(dur, tb, EXPORT_US_TB);
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
static int export_walk_audio_write(struct walk *w, AVPacket *pkt, int k,
                                   int64_t wall_us)
{
    struct export_result *res = w->clip->res;
    AVRational tb = w->clip->audio[k].tb;
    int64_t ts, snap;

    if (wall_us < res->actual_from_us || wall_us >= w->clip->req->to_us)
        return 0;
    ts = av_rescale_q(wall_us - res->actual_from_us, EXPORT_US_TB, tb);
    snap = av_rescale_q(EXPORT_AUDIO_SNAP_US, EXPORT_US_TB, tb);
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
static int export_walk_packet(struct walk *w, AVPacket *pkt, int seg, int kind,
                              int64_t rel, int64_t wall_us)
{
    const struct export_request *req = w->clip->req;
    bool key = kind < 0 && (pkt->flags & AV_PKT_FLAG_KEY);
    int err;

    if (kind >= 0) {
        if (w->started)
            return export_walk_audio_write(w, pkt, kind, wall_us);
        if (w->gop.n > 0)
            return export_walk_pending_add(&w->gop, pkt, seg, kind, rel,
                                           wall_us);
        return 0;
    }
    if (!w->started && wall_us <= req->from_us) {
        /* Before the start: keep only the GOP that contains it. */
        if (key)
            export_walk_pending_clear(&w->gop);
        if (w->gop.n > 0 || key)
            return export_walk_pending_add(&w->gop, pkt, seg, kind, rel,
                                           wall_us);
        return 0;
    }
    if (!w->started && w->gop.n > 0) {
        for (int i = 0; i < w->gop.n; i++) {
            struct held *h = &w->gop.v[i];

            err = h->kind < 0
                      ? export_walk_write(w, h->pkt, h->seg, h->rel, h->wall_us)
                      : export_walk_audio_write(w, h->pkt, h->kind, h->wall_us);
            if (err < 0)
                return err;
        }
        export_walk_pending_clear(&w->gop);
    }
    if (!w->started && !key)
        return 0; /* a clip starts at a keyframe */
    return export_walk_write(w, pkt, seg, rel, wall_us);
}

/* Wall time of an audio packet of segment seg whose video starts at
 * first_dts (video time base). */
static int64_t export_walk_audio_wall(const struct walk *w,
                                      const struct exp_seg *seg,
                                      const AVPacket *pkt, int k,
                                      int64_t first_dts)
{
    int64_t a = av_rescale_q(pkt->dts, w->clip->audio[k].tb, EXPORT_US_TB);
    int64_t v = av_rescale_q(first_dts, w->clip->vtb, EXPORT_US_TB);

    return seg->cat.start_us + (a - v);
}

/* Processes the held video packet of segment i (the one before the last
 * read), then the audio that waited for the segment's first frame. */
static int export_walk_held_video(struct walk *w, int i, AVPacket *held,
                                  int64_t first_dts)
{
    struct exp_seg *seg = &w->clip->segs[i];
    int64_t rel, wall_us;
    int err;

    if (held->dts == AV_NOPTS_VALUE)
        return 0;
    rel = held->dts - first_dts;
    wall_us = seg->cat.start_us + av_rescale_q(rel, w->clip->vtb, EXPORT_US_TB);
    err = export_walk_packet(w, held, i, -1, rel, wall_us);
    av_packet_unref(held);
    held->dts = AV_NOPTS_VALUE;
    if (err < 0)
        return err;
    for (int k = 0; k < w->early.n; k++) {
        struct held *h = &w->early.v[k];

        err = export_walk_packet(
            w, h->pkt, i, h->kind, 0,
            export_walk_audio_wall(w, seg, h->pkt, h->kind, first_dts));
        if (err < 0)
            return err;
    }
    export_walk_pending_clear(&w->early);
    w->seg_video_done = true;
    return 0;
}

/* One source segment being read. */
struct seg_read {
    int i; /* index into clip->segs */
    struct exp_seg *seg;
    struct exp_src src;
    AVPacket *pkt;
    AVPacket *held;    /* video, waiting for the next */
    int64_t first_dts; /* of its video, in the clip's video time base */
    int64_t first_pts; /* of its video: shown at the segment's start_us */
    unsigned a_left;   /* audio streams not yet read up to to_us */
};

/* An audio packet of stream k: placed once the segment's first frame is. */
static int export_walk_seg_audio(struct walk *w, struct seg_read *r, int k)
{
    int64_t wall_us;
    int err;

    if (!w->seg_video_done) {
        err = w->early.n < EXPORT_MAX_EARLY_AUDIO
                  ? export_walk_pending_add(&w->early, r->pkt, r->i, k, 0, 0)
                  : 0;
        av_packet_unref(r->pkt);
        return err;
    }
    wall_us = export_walk_audio_wall(w, r->seg, r->pkt, k, r->first_dts);
    if (wall_us >= w->clip->req->to_us)
        r->a_left &= ~(1u << k);
    err = export_walk_packet(w, r->pkt, r->i, k, 0, wall_us);
    av_packet_unref(r->pkt);
    return err;
}

/* A video packet: the one held before it now has its duration and goes
 * out; this one is held, unless it reaches to_us (then *done). */
static int export_walk_seg_video(struct walk *w, struct seg_read *r,
                                 const AVStream *ist, bool *done)
{
    const struct exp_clip *c = w->clip;
    AVPacket *pkt = r->pkt;
    int err;

    av_packet_rescale_ts(pkt, ist->time_base, c->vtb);
    if (r->first_dts == AV_NOPTS_VALUE)
        r->first_dts = pkt->dts;
    if (r->held->dts != AV_NOPTS_VALUE && pkt->dts > r->held->dts)
        r->held->duration = pkt->dts - r->held->dts;
    err = export_walk_held_video(w, r->i, r->held, r->first_dts);
    if (err < 0)
        return err;
    if (r->first_pts == AV_NOPTS_VALUE)
        r->first_pts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
    /* The range ends at the first frame decoded at or after to_us: every
     * frame shown before to_us is decoded before it (with B-frames some
     * come after a frame shown later), and a frame's decode time is its
     * distance from the segment's first frame shown, at start_us. */
    if (r->seg->cat.start_us +
            av_rescale_q(pkt->dts - r->first_pts, c->vtb, EXPORT_US_TB) >=
        c->req->to_us) {
        *done = true;
        av_packet_unref(pkt);
        return 0;
    }
    av_packet_move_ref(r->held, pkt);
    return 0;
}

/*
 * Reads the segment's packets. The demuxer gives packets without
 * durations (no parser runs), so each video packet is held until the next
 * one gives its duration; the segment's last one keeps the duration
 * before it. The audio of a fragment follows its video in the file, so
 * reading goes on after the video reached to_us until the audio has too.
 */
static int export_walk_seg_read(struct walk *w, struct seg_read *r, bool *done)
{
    const struct exp_clip *c = w->clip;
    AVFormatContext *fmt = r->src.fmt;
    const AVStream *ist = fmt->streams[r->src.vidx];
    int err = 0;

    while ((!*done || r->a_left) && (err = av_read_frame(fmt, r->pkt)) >= 0) {
        int si = r->pkt->stream_index;
        int kind = si == r->src.vidx ? -1
                   : si >= 0 && (size_t)si < sizeof(r->seg->map)
                       ? r->seg->map[si]
                       : -2;

        if (kind < -1 || r->pkt->dts == AV_NOPTS_VALUE ||
            (kind >= 0 &&
             av_cmp_q(fmt->streams[si]->time_base, c->audio[kind].tb)) ||
            (kind < 0 && *done)) {
            av_packet_unref(r->pkt);
            continue;
        }
        err = kind >= 0 ? export_walk_seg_audio(w, r, kind)
                        : export_walk_seg_video(w, r, ist, done);
        if (err < 0)
            return err;
    }
    if (err == AVERROR_EOF || *done) {
        err = export_walk_held_video(w, r->i, r->held, r->first_dts);
        if (err < 0)
            return err;
        return 0;
    }
    if (!w->job->cancelled)
        LOG_E("export", "segment %s: %s", r->seg->cat.path, av_err2str(err));
    return err;
}

static int export_walk_segment(struct walk *w, int i, bool *done)
{
    struct exp_clip *c = w->clip;
    struct seg_read r = {.i = i, .seg = &c->segs[i]};
    int err;

    r.first_dts = AV_NOPTS_VALUE;
    r.first_pts = AV_NOPTS_VALUE;
    r.pkt = av_packet_alloc();
    r.held = av_packet_alloc();
    if (!r.pkt || !r.held) {
        av_packet_free(&r.pkt);
        av_packet_free(&r.held);
        return -ENOMEM;
    }
    r.held->dts = AV_NOPTS_VALUE;
    err =
        export_io__src_open(w->job, c->req->storage_dir, r.seg, w->dry, &r.src);
    if (err < 0 || !r.src.fmt) {
        av_packet_free(&r.pkt);
        av_packet_free(&r.held);
        return err < 0 ? err : -EIO;
    }
    if (r.src.vidx != r.seg->vidx ||
        !export_probe__same_video(c->vpar,
                                  r.src.fmt->streams[r.src.vidx]->codecpar)) {
        err = -EBADMSG; /* not the file probed */
        goto out;
    }
    export_walk_pending_clear(&w->early);
    w->seg_video_done = false;
    for (size_t k = 0; k < sizeof(r.seg->map); k++) {
        if (r.seg->map[k] >= 0)
            r.a_left |= 1u << r.seg->map[k];
    }
    err = export_walk_seg_read(w, &r, done);
    /* Its digest is checked once the clip is written
     * (export_walk_check_sources): waiting for it here would stall the
     * muxer at every segment. */
    if (err == 0 && !w->dry)
        err = export_io__src_drain(&r.src.io);
out:
    export_walk_pending_clear(&w->early);
    av_packet_free(&r.pkt);
    av_packet_free(&r.held);
    export_io__src_close(&r.src);
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
static int64_t export_walk_moov_bound(const struct export_job *job,
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

static void export_walk_reset(struct walk *w, struct export_job *job,
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

static void export_walk_free(struct walk *w)
{
    export_walk_pending_clear(&w->gop);
    export_walk_pending_clear(&w->early);
    free(w->gop.v);
    free(w->early.v);
    if (w->io.cur)
        export_hash__put(w->io.hasher, w->io.cur, false);
    w->io.cur = NULL;
    export_mux__free(&w->o);
    free(w->io.front);
    w->io.front = NULL;
}

/* One pass over the sources: the dry pass into no file, or the real one
 * into w->path. */
static int export_walk_run(struct walk *w)
{
    struct exp_clip *c = w->clip;
    bool done = false;
    int err = 0;

    w->moov_bytes = export_walk_moov_bound(w->job, c);
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
        err = export_walk_segment(w, i, &done);
        if (err < 0)
            return err;
        /* The demuxer may take a failed read for the end of the file. */
        if (w->job->cancelled)
            return -ECANCELED;
    }
    if (!w->started) {
        LOG_E("export", "camera %s: no frame recorded in the range",
              c->req->camera);
        return -ENOENT;
    }
    err = export_mux__cue_write(
        &w->o, av_rescale_q(w->last_end, c->vtb, EXPORT_SUB_TB));
    if (err < 0)
        return err;
    err = av_write_trailer(w->o.fmt);
    if (err < 0)
        return err;
    avio_flush(w->o.pb);
    if (w->io.err)
        return w->io.err;
    if (w->io.fd >= 0) {
        err = export_io__clip_flush(&w->io);
        export_hash__wait_idle(w->io.hasher);
    }
    return err;
}

/* Every source read: its SHA-256, which for a closed segment must be the
 * catalog's. The hasher must be idle. */
static int export_walk_check_sources(struct exp_clip *c)
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
static void export_walk_free_digests(struct exp_clip *c)
{
    for (int i = 0; i < c->n_segs; i++) {
        nvr_sha256_free(c->segs[i].md);
        c->segs[i].md = NULL;
    }
}

/* The real pass into w->path, hashing the clip with md from the dry
 * pass's front region when it has one. Closes the file. */
static int export_walk_real(struct walk *w, const struct walk *dry,
                            bool planned, struct nvr_sha256 *md)
{
    int err;

    w->io.fd = open(w->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (w->io.fd < 0)
        return -errno;
    w->io.md = md;
    if (planned && dry->io.front_ok && dry->io.data_start <= dry->io.front_cap)
        nvr_sha256_update(md, dry->io.front, (size_t)dry->io.data_start);
    else
        w->io.stream_ok = false;
    err = export_walk_run(w);
    if (err < 0)
        return err;
    err = export_walk_check_sources(w->clip);
    if (err < 0)
        return err;
    /* Synced before it is published (export_publish.c): a power cut
     * after that must not leave a clip of zeros under its name. */
    if (fdatasync(w->io.fd) != 0)
        return -errno;
    err = close(w->io.fd) != 0 ? -errno : 0;
    w->io.fd = -1;
    return err;
}

/* Whether the digest taken while writing is the file's: the front region
 * is the planned one byte for byte, and every media byte went in order. */
static bool export_walk_hashed(const struct walk *w, const struct walk *dry,
                               bool planned)
{
    return planned && w->io.stream_ok && w->io.front_ok && dry->io.front_ok &&
           w->io.data_start == dry->io.data_start && w->io.next == w->io.end &&
           memcmp(w->io.front, dry->io.front, (size_t)w->io.data_start) == 0;
}

int export_walk__clip(struct export_job *job, struct exp_clip *c)
{
    struct walk dry, w;
    bool planned;
    struct nvr_sha256 *md = NULL;
    int err;

    export_walk_reset(&dry, job, c, true);
    export_walk_reset(&w, job, c, false);
    c->gaps = calloc((size_t)c->n_segs + 2, sizeof(*c->gaps));
    if (!c->gaps)
        return -ENOMEM;

    /* The dry pass: what the front region will hold once complete. */
    planned = export_io__cached_permille(c) >= EXPORT_PLAN_CACHED_PERMILLE;
    if (planned) {
        err = export_walk_run(&dry);
        if (err < 0)
            goto out;
    }
    md = nvr_sha256_new();
    if (!md) {
        err = -ENOMEM;
        goto out;
    }
    export_walk_reset(&w, job, c, false);
    w.path = c->stage_path;
    err = export_walk_real(&w, &dry, planned, md);
    if (err < 0)
        goto out;
    c->clip_hashed = export_walk_hashed(&w, &dry, planned);
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
    export_walk_free(&dry);
    export_walk_free(&w);
    /* Nothing may use a digest after this. */
    export_hash__wait_idle(&job->hasher);
    export_walk_free_digests(c);
    nvr_sha256_free(md);
    if (err < 0)
        unlink(c->stage_path);
    return err;
}
