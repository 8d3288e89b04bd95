/* SPDX-License-Identifier: MIT */
/*
 * The export clip's muxer (see export_int.h): the video and every audio
 * stream copied from the sources' parameters, and a mov_text (tx3g)
 * subtitle track carrying the wall-clock time, one cue per second changing
 * on the first frame of each new second, and during a gap one cue saying
 * that nothing was recorded from when to when. The index is written into
 * space reserved after ftyp (faststart without a second pass).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavformat/avio.h>
#include <libavutil/mathematics.h>
#include <libavutil/mem.h>

#include "nvr/base/timefmt.h"
#include "storage/export_int.h"

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

int export_mux__cue_write(struct exp_out *o, int64_t end_ms)
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
int export_mux__cue_frame(struct exp_out *o, int64_t ts, int64_t wall_us)
{
    int64_t sec = wall_us / 1000000;
    int64_t ms = av_rescale_q(ts, o->tb, EXPORT_SUB_TB);
    int err;

    if (o->cue_start_ms >= 0 && sec == o->cue_second)
        return 0;
    err = export_mux__cue_write(o, ms);
    if (err < 0)
        return err;
    o->cue_start_ms = ms;
    o->cue_second = sec;
    nvr_time_format_local(wall_us, o->cue_text, sizeof(o->cue_text));
    return 0;
}

/* A gap between media times a and b: the pending cue ends at a, and one
 * cue says nothing was recorded. */
int export_mux__cue_gap(struct exp_out *o, int64_t a, int64_t b,
                        const struct exp_gap *g)
{
    char s[48], e[48];
    int64_t a_ms = av_rescale_q(a, o->tb, EXPORT_SUB_TB);
    int err = export_mux__cue_write(o, a_ms);

    if (err < 0)
        return err;
    nvr_time_format_local(g->start_us, s, sizeof(s));
    nvr_time_format_local(g->end_us, e, sizeof(e));
    o->cue_start_ms = a_ms;
    o->cue_second = -1;
    snprintf(o->cue_text, sizeof(o->cue_text), "NO RECORDING %s - %s", s + 11,
             e + 11);
    return export_mux__cue_write(o, av_rescale_q(b, o->tb, EXPORT_SUB_TB));
}

/* The clip's streams: video, audio, then the wall-clock subtitles. */
static int export_mux_streams(struct exp_out *o, const struct exp_clip *c)
{
    int err;

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
    return 0;
}

int export_mux__open(struct exp_out *o, struct exp_clip_io *io,
                     const struct exp_clip *c, int64_t start_us,
                     int64_t moov_bytes)
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
    err = export_mux_streams(o, c);
    if (err < 0)
        return err;
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
                               export_io__clip_write, export_io__clip_seek);
    if (!o->pb) {
        av_free(buf);
        return -ENOMEM;
    }
    o->pb->seekable = AVIO_SEEKABLE_NORMAL;
    /* Packet data go straight to export_io__clip_write, not through the buffer.
     */
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

void export_mux__free(struct exp_out *o)
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
