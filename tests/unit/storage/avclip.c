/* SPDX-License-Identifier: MIT */
/*
 * Audio test helpers (see avclip.h). The AAC frames are real (produced
 * once by ffmpeg's encoder and committed), so a decoder can check that
 * the muxed track is playable, not only present.
 */
#include "config.h"

#include "avclip.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#define AAC_FILE      "tone_16k.aac"
#define AAC_MAX_BYTES ((size_t)1 << 20)

static const int adts_rates[16] = {96000, 88200, 64000, 48000, 44100, 32000,
                                   24000, 22050, 16000, 12000, 11025, 8000,
                                   7350,  0,     0,     0};

void aac_clip_load(struct aac_clip *c)
{
    const char *dir = getenv("NVR_TESTDATA_DIR");
    char path[1024];
    uint8_t *b = malloc(AAC_MAX_BYTES);
    size_t len, pos = 0;
    FILE *f;

    memset(c, 0, sizeof(*c));
    assert_non_null(b);
    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/data", AAC_FILE);
    f = fopen(path, "rb");
    assert_non_null(f);
    len = fread(b, 1, AAC_MAX_BYTES, f);
    fclose(f);
    while (pos + 7 <= len && c->n < AAC_MAX_FRAMES) {
        const uint8_t *h = b + pos;
        size_t hlen, flen;

        assert_true(h[0] == 0xff && (h[1] & 0xf0) == 0xf0);
        hlen = (h[1] & 1) ? 7 : 9;
        flen = (size_t)(h[3] & 3) << 11 | (size_t)h[4] << 3 | h[5] >> 5;
        assert_true(flen > hlen && pos + flen <= len);
        if (c->n == 0) {
            int aot = (h[2] >> 6) + 1;
            int sfi = (h[2] >> 2) & 0xf;
            int chan = (h[2] & 1) << 2 | h[3] >> 6;

            c->track.codec = NVR_CODEC_AAC;
            c->track.clock_rate = adts_rates[sfi];
            c->track.channels = chan;
            c->track.params_gen = 1;
            c->track.params[0] = (uint8_t)(aot << 3 | sfi >> 1);
            c->track.params[1] = (uint8_t)((sfi & 1) << 7 | chan << 3);
            c->track.params_len = 2;
        }
        c->lens[c->n] = flen - hlen;
        c->frames[c->n] = malloc(flen - hlen);
        assert_non_null(c->frames[c->n]);
        memcpy(c->frames[c->n], h + hlen, flen - hlen);
        c->n++;
        pos += flen;
    }
    free(b);
    assert_int_equal(c->track.clock_rate, 16000);
    assert_int_equal(c->track.channels, 1);
    assert_true(c->n >= 25);
}

void aac_clip_free(struct aac_clip *c)
{
    for (int i = 0; i < c->n; i++)
        free(c->frames[i]);
    c->n = 0;
}

struct nvr_au *aac_clip_au(const struct aac_clip *c, int i, int track,
                           int64_t pts, int64_t wall_us)
{
    struct nvr_au *au;
    int k = i % c->n;

    assert_int_equal(nvr_au_new(c->lens[k], &au), 0);
    assert_int_equal(nvr_au_append(&au, c->frames[k], c->lens[k]), 0);
    au->track = track;
    au->pts = pts;
    au->dts = pts;
    au->wall_us = wall_us;
    au->params_gen = c->track.params_gen;
    au->flags = NVR_AU_KEY;
    return au;
}

struct nvr_track_info g711_track(enum nvr_codec codec)
{
    struct nvr_track_info t;

    memset(&t, 0, sizeof(t));
    t.codec = codec;
    t.clock_rate = 8000;
    t.channels = 1;
    t.params_gen = 1;
    return t;
}

struct nvr_au *g711_au(int samples, int track, int64_t pts, int64_t wall_us)
{
    struct nvr_au *au;

    assert_int_equal(nvr_au_new((size_t)samples, &au), 0);
    for (int i = 0; i < samples; i++) {
        uint8_t b = (uint8_t)(0x55 ^ (i & 0x0f));
        assert_int_equal(nvr_au_append(&au, &b, 1), 0);
    }
    au->track = track;
    au->pts = pts;
    au->dts = pts;
    au->wall_us = wall_us;
    au->params_gen = 1;
    au->flags = NVR_AU_KEY;
    return au;
}

static AVCodecContext *open_decoder(const AVStream *st)
{
    const AVCodec *codec = avcodec_find_decoder(st->codecpar->codec_id);
    AVCodecContext *dec = codec ? avcodec_alloc_context3(codec) : NULL;

    if (!dec)
        return NULL;
    if (avcodec_parameters_to_context(dec, st->codecpar) < 0 ||
        avcodec_open2(dec, codec, NULL) < 0)
        avcodec_free_context(&dec);
    return dec;
}

static void decode(AVCodecContext *dec, const AVPacket *pkt, AVFrame *frame,
                   struct av_stream_probe *sp)
{
    if (!dec || avcodec_send_packet(dec, pkt) < 0)
        return;
    while (avcodec_receive_frame(dec, frame) >= 0) {
        if (!frame->decode_error_flags)
            sp->decoded++;
        av_frame_unref(frame);
    }
}

static void probe_packet(const AVStream *st, const AVPacket *pkt,
                         int64_t *last_dts, struct av_stream_probe *sp)
{
    double tb = av_q2d(st->time_base);

    if (sp->packets == 0) {
        sp->first_s = (double)pkt->pts * tb;
        sp->first_key = pkt->flags & AV_PKT_FLAG_KEY;
    } else if (pkt->dts <= *last_dts) {
        sp->monotonic = false;
    }
    *last_dts = pkt->dts;
    sp->last_end_s = (double)(pkt->pts + pkt->duration) * tb;
    sp->packets++;
}

void av_probe_file(const char *path, struct av_probe *p)
{
    AVFormatContext *fmt = NULL;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *frame = av_frame_alloc();
    AVCodecContext *vdec = NULL, *adec = NULL;
    int64_t vlast = 0, alast = 0;
    int vs, as;

    memset(p, 0, sizeof(*p));
    if (!pkt || !frame || avformat_open_input(&fmt, path, NULL, NULL) < 0)
        goto out;
    p->ok = true;
    snprintf(p->format, sizeof(p->format), "%s", fmt->iformat->name);
    p->n_streams = (int)fmt->nb_streams;
    vs = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    as = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
    if (vs >= 0) {
        p->video.present = true;
        p->video.monotonic = true;
        snprintf(p->video.codec, sizeof(p->video.codec), "%s",
                 avcodec_get_name(fmt->streams[vs]->codecpar->codec_id));
        vdec = open_decoder(fmt->streams[vs]);
    }
    if (as >= 0) {
        const AVCodecParameters *par = fmt->streams[as]->codecpar;

        p->audio.present = true;
        p->audio.monotonic = true;
        snprintf(p->audio.codec, sizeof(p->audio.codec), "%s",
                 avcodec_get_name(par->codec_id));
        p->audio.sample_rate = par->sample_rate;
        p->audio.channels = par->ch_layout.nb_channels;
        adec = open_decoder(fmt->streams[as]);
    }
    while (av_read_frame(fmt, pkt) >= 0) {
        if (pkt->stream_index == vs) {
            probe_packet(fmt->streams[vs], pkt, &vlast, &p->video);
            decode(vdec, pkt, frame, &p->video);
        } else if (pkt->stream_index == as) {
            probe_packet(fmt->streams[as], pkt, &alast, &p->audio);
            decode(adec, pkt, frame, &p->audio);
        }
        av_packet_unref(pkt);
    }
    decode(vdec, NULL, frame, &p->video);
    decode(adec, NULL, frame, &p->audio);
out:
    avcodec_free_context(&vdec);
    avcodec_free_context(&adec);
    av_frame_free(&frame);
    av_packet_free(&pkt);
    avformat_close_input(&fmt);
}
