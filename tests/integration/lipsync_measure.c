/* SPDX-License-Identifier: MIT */
/*
 * lipsync_measure: measures audio/video sync in recorded files made from
 * `camsim --sync-marks`, which puts a white frame in the video and starts
 * a beep in the audio at the same media instant every 2 s. Each file is
 * decoded (libavformat, libavcodec); flashes are frames whose mean luma
 * jumps above FLASH_LUMA, beep onsets are the first sample above
 * BEEP_LEVEL after BEEP_SILENCE_S of silence, both on the file's own
 * presentation time line. Each flash is paired with the nearest onset
 * within PAIR_MAX_S; the offset (audio minus video, ms) of every pair is
 * printed.
 *
 * usage: lipsync_measure [--max-ms MS] [--min-pairs N] FILE...
 * Exit status: 0 when every offset is within MS (default 20) and at least
 * N pairs (default 1) were found over all files, 1 otherwise, 2 on a bad
 * command line, 3 when a file cannot be read.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>

#define FLASH_LUMA     170.0 /* mean Y of a white frame; others are far below */
#define FLASH_PREV     120.0 /* the frame before must be below this */
#define BEEP_LEVEL     0.1   /* |sample| of full scale */
#define SILENCE_LEVEL  0.02
#define BEEP_SILENCE_S 0.05
#define PAIR_MAX_S     0.5
#define MAX_MARKS      4096

struct marks {
    double t[MAX_MARKS];
    int n;
};

struct scan {
    struct marks flashes, beeps;
    double prev_luma;   /* mean luma of the previous frame, -1: none */
    double quiet_since; /* time of the first sample of the current
                           silence, or NAN while sound */
    int in_beep;
};

static void marks_add(struct marks *m, double t)
{
    if (m->n < MAX_MARKS)
        m->t[m->n++] = t;
}

static double frame_time(const AVFrame *f, AVRational tb)
{
    int64_t ts = f->best_effort_timestamp != AV_NOPTS_VALUE
                     ? f->best_effort_timestamp
                     : f->pts;

    return ts == AV_NOPTS_VALUE ? NAN : (double)ts * av_q2d(tb);
}

static void scan_video(struct scan *s, const AVFrame *f, AVRational tb)
{
    double sum = 0, mean, t = frame_time(f, tb);

    if (!f->data[0] || f->width <= 0 || f->height <= 0 || isnan(t))
        return;
    for (int y = 0; y < f->height; y++) {
        const uint8_t *row = f->data[0] + (ptrdiff_t)y * f->linesize[0];
        uint64_t r = 0;

        for (int x = 0; x < f->width; x++)
            r += row[x];
        sum += (double)r;
    }
    mean = sum / ((double)f->width * f->height);
    if (mean >= FLASH_LUMA && s->prev_luma >= 0 && s->prev_luma < FLASH_PREV)
        marks_add(&s->flashes, t);
    s->prev_luma = mean;
}

/* Sample i of channel 0, in [-1, 1]; NAN for formats not handled. */
static double sample_at(const AVFrame *f, int i)
{
    switch (f->format) {
    case AV_SAMPLE_FMT_S16:
    case AV_SAMPLE_FMT_S16P:
        return ((const int16_t *)f->data[0])[f->format == AV_SAMPLE_FMT_S16
                                                 ? i * f->ch_layout.nb_channels
                                                 : i] /
               32768.0;
    case AV_SAMPLE_FMT_FLT:
        return ((const float *)f->data[0])[i * f->ch_layout.nb_channels];
    case AV_SAMPLE_FMT_FLTP:
        return ((const float *)f->data[0])[i];
    case AV_SAMPLE_FMT_S32:
        return ((const int32_t *)f->data[0])[i * f->ch_layout.nb_channels] /
               2147483648.0;
    case AV_SAMPLE_FMT_S32P:
        return ((const int32_t *)f->data[0])[i] / 2147483648.0;
    default:
        return NAN;
    }
}

static void scan_audio(struct scan *s, const AVFrame *f, AVRational tb)
{
    double t0 = frame_time(f, tb);

    if (isnan(t0) || f->sample_rate <= 0)
        return;
    for (int i = 0; i < f->nb_samples; i++) {
        double t = t0 + (double)i / f->sample_rate;
        double a = fabs(sample_at(f, i));

        if (isnan(a))
            return;
        if (a < SILENCE_LEVEL) {
            if (isnan(s->quiet_since))
                s->quiet_since = t;
            if (t - s->quiet_since >= BEEP_SILENCE_S)
                s->in_beep = 0;
        } else {
            s->quiet_since = NAN;
            if (a >= BEEP_LEVEL && !s->in_beep) {
                s->in_beep = 1;
                marks_add(&s->beeps, t);
            }
        }
    }
}

static int decode_file(const char *path, struct scan *s)
{
    AVFormatContext *fmt = NULL;
    AVCodecContext *dec[2] = {NULL, NULL};
    int idx[2] = {-1, -1}, err, rc = 3;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *frame = av_frame_alloc();

    if (!pkt || !frame)
        goto out;
    err = avformat_open_input(&fmt, path, NULL, NULL);
    if (err < 0 || avformat_find_stream_info(fmt, NULL) < 0) {
        fprintf(stderr, "lipsync_measure: cannot open %s\n", path);
        goto out;
    }
    idx[0] = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    idx[1] = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
    if (idx[0] < 0 || idx[1] < 0) {
        fprintf(stderr, "lipsync_measure: %s lacks video or audio\n", path);
        goto out;
    }
    for (int k = 0; k < 2; k++) {
        const AVCodecParameters *par = fmt->streams[idx[k]]->codecpar;
        const AVCodec *c = avcodec_find_decoder(par->codec_id);

        dec[k] = c ? avcodec_alloc_context3(c) : NULL;
        if (!dec[k] || avcodec_parameters_to_context(dec[k], par) < 0 ||
            avcodec_open2(dec[k], c, NULL) < 0) {
            fprintf(stderr, "lipsync_measure: %s: no decoder for stream %d\n",
                    path, idx[k]);
            goto out;
        }
    }
    s->prev_luma = -1;
    s->quiet_since = NAN;
    s->in_beep = 1; /* an onset needs silence before it */
    for (;;) {
        int k, eof = av_read_frame(fmt, pkt) < 0;

        for (k = 0; k < 2; k++) {
            AVRational tb = fmt->streams[idx[k]]->time_base;

            if (eof) {
                (void)avcodec_send_packet(dec[k], NULL);
            } else if (pkt->stream_index == idx[k]) {
                if (avcodec_send_packet(dec[k], pkt) < 0)
                    continue; /* a damaged packet: skip it */
            } else {
                continue;
            }
            while (avcodec_receive_frame(dec[k], frame) == 0) {
                if (k == 0)
                    scan_video(s, frame, tb);
                else
                    scan_audio(s, frame, tb);
                av_frame_unref(frame);
            }
        }
        if (eof)
            break;
        av_packet_unref(pkt);
    }
    rc = 0;
out:
    for (int k = 0; k < 2; k++)
        avcodec_free_context(&dec[k]);
    avformat_close_input(&fmt);
    av_frame_free(&frame);
    av_packet_free(&pkt);
    return rc;
}

int main(int argc, char **argv)
{
    double max_ms = 20;
    int min_pairs = 1, pairs = 0, bad = 0, i = 1;
    double worst = 0;

    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--max-ms") == 0 && i + 1 < argc) {
            max_ms = atof(argv[++i]);
        } else if (strcmp(argv[i], "--min-pairs") == 0 && i + 1 < argc) {
            min_pairs = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: lipsync_measure [--max-ms MS] "
                            "[--min-pairs N] FILE...\n");
            return 2;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "lipsync_measure: no file given\n");
        return 2;
    }
    av_log_set_level(AV_LOG_ERROR);
    for (; i < argc; i++) {
        static struct scan s;
        int n = 0;

        memset(&s, 0, sizeof(s));
        if (decode_file(argv[i], &s) != 0)
            return 3;
        for (int f = 0; f < s.flashes.n; f++) {
            double best = NAN;

            for (int b = 0; b < s.beeps.n; b++)
                if (isnan(best) || fabs(s.beeps.t[b] - s.flashes.t[f]) <
                                       fabs(best - s.flashes.t[f]))
                    best = s.beeps.t[b];
            if (isnan(best) || fabs(best - s.flashes.t[f]) > PAIR_MAX_S)
                continue;
            double off = (best - s.flashes.t[f]) * 1000.0;

            printf("%s: flash %.3f s beep %.3f s offset %+.1f ms%s\n", argv[i],
                   s.flashes.t[f], best, off,
                   fabs(off) > max_ms ? " (too far)" : "");
            bad += fabs(off) > max_ms;
            if (fabs(off) > fabs(worst))
                worst = off;
            n++;
        }
        printf("%s: %d flashes, %d beeps, %d pairs\n", argv[i], s.flashes.n,
               s.beeps.n, n);
        pairs += n;
    }
    printf("pairs %d, worst offset %+.1f ms, limit %.1f ms: %s\n", pairs, worst,
           max_ms, bad == 0 && pairs >= min_pairs ? "ok" : "FAIL");
    return bad == 0 && pairs >= min_pairs ? 0 : 1;
}
