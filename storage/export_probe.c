/* SPDX-License-Identifier: MIT */
/*
 * Which streams an export clip holds, and which container it needs (see
 * export_int.h): the headers of every source segment (a few kilobytes
 * each) give the video of the first segment, which later ones must match,
 * and, in order, each audio stream the segments carry (the k-th audio
 * stream of every segment goes to the clip's k-th). MP4 cannot hold G.711
 * audio: such a clip needs QuickTime (.mov).
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "nvr/base/log.h"
#include "storage/export_int.h"

bool export_probe__same_video(const AVCodecParameters *a,
                              const AVCodecParameters *b)
{
    return a->codec_id == b->codec_id && a->width == b->width &&
           a->height == b->height;
}

static bool export_probe_same_audio(const AVCodecParameters *a,
                                    const AVCodecParameters *b)
{
    return a->codec_id == b->codec_id && a->sample_rate == b->sample_rate &&
           a->ch_layout.nb_channels == b->ch_layout.nb_channels;
}

/* Whether MP4 can hold this codec (FFmpeg's mp4 muxer has no tag for
 * G.711: "Could not find tag for codec pcm_alaw"). */
static bool export_probe_mp4_can_hold(enum AVCodecID id)
{
    const AVOutputFormat *mp4 = av_guess_format("mp4", NULL, NULL);

    return mp4 && avformat_query_codec(mp4, id, FF_COMPLIANCE_NORMAL) == 1;
}

/* "mp4" / "mov" from the name's extension, NULL for any other. */
const char *export_probe__container(const char *path)
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

/* The video stream of segment seg (source s): the first segment's is the
 * clip's, later ones must match it. */
static int export_probe_video(struct exp_clip *c, const struct exp_seg *seg,
                              const struct exp_src *s)
{
    const AVStream *vst = s->fmt->streams[s->vidx];

    if (!c->vpar) {
        c->vpar = avcodec_parameters_alloc();
        if (!c->vpar || avcodec_parameters_copy(c->vpar, vst->codecpar) < 0)
            return -ENOMEM;
        c->vtb = vst->time_base;
    } else if (!export_probe__same_video(c->vpar, vst->codecpar)) {
        LOG_E("export",
              "camera %s: segment %s changes codec or picture size "
              "mid-range; export the parts separately",
              c->req->camera, seg->cat.path);
        return -ENOTSUP;
    }
    return 0;
}

/* The k-th audio stream st of segment seg: the first segment to carry one
 * sets the clip's k-th, later ones must match it. */
static int export_probe_audio(struct exp_clip *c, const struct exp_seg *seg,
                              const AVStream *st, int k, bool *needs_mov,
                              const char **bad_codec)
{
    if (k == EXPORT_MAX_AUDIO) {
        LOG_E("export", "camera %s: segment %s has more than %d audio streams",
              c->req->camera, seg->cat.path, EXPORT_MAX_AUDIO);
        return -ENOTSUP;
    }
    if (k == c->n_audio) {
        struct exp_audio *a = &c->audio[c->n_audio];

        a->par = avcodec_parameters_alloc();
        if (!a->par || avcodec_parameters_copy(a->par, st->codecpar) < 0) {
            avcodec_parameters_free(&a->par);
            return -ENOMEM;
        }
        a->tb = st->time_base;
        c->n_audio++;
        if (!export_probe_mp4_can_hold(st->codecpar->codec_id)) {
            *needs_mov = true;
            if (!*bad_codec)
                *bad_codec = avcodec_get_name(st->codecpar->codec_id);
        }
    } else if (!export_probe_same_audio(c->audio[k].par, st->codecpar) ||
               av_cmp_q(c->audio[k].tb, st->time_base) != 0) {
        LOG_E("export",
              "camera %s: segment %s changes the audio codec or "
              "sample rate mid-range; export the parts separately",
              c->req->camera, seg->cat.path);
        return -ENOTSUP;
    }
    return 0;
}

/* One segment's streams, and its map of stream index to audio k. */
static int export_probe_segment(struct export_job *job, struct exp_clip *c,
                                struct exp_seg *seg, bool *needs_mov,
                                const char **bad_codec)
{
    struct exp_src s;
    int k = 0, err;

    err = export_io__src_open(job, c->req->storage_dir, seg, true, &s);
    if (err < 0)
        return err;
    seg->vidx = s.vidx;
    err = export_probe_video(c, seg, &s);
    memset(seg->map, -1, sizeof(seg->map));
    for (unsigned si = 0;
         err == 0 && si < s.fmt->nb_streams && si < sizeof(seg->map); si++) {
        const AVStream *st = s.fmt->streams[si];

        if (st->codecpar->codec_type != AVMEDIA_TYPE_AUDIO)
            continue;
        err = export_probe_audio(c, seg, st, k, needs_mov, bad_codec);
        if (err == 0)
            seg->map[si] = (int8_t)k++;
    }
    export_io__src_close(&s);
    return err;
}

int export_probe__clip(struct export_job *job, struct exp_clip *c,
                       bool *needs_mov, const char **bad_codec)
{
    *needs_mov = false;
    *bad_codec = NULL;
    for (int i = 0; i < c->n_segs; i++) {
        int err =
            export_probe_segment(job, c, &c->segs[i], needs_mov, bad_codec);

        if (err < 0)
            return err;
    }
    return 0;
}

void export_probe__free_streams(struct exp_clip *c)
{
    avcodec_parameters_free(&c->vpar);
    for (int k = 0; k < c->n_audio; k++)
        avcodec_parameters_free(&c->audio[k].par);
    c->n_audio = 0;
}
