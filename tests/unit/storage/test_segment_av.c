/* SPDX-License-Identifier: MIT */
/*
 * Tests of storage/segment.c with audio: real H.264 / H.265 units from the
 * committed clips with real AAC frames or G.711 units, interleaved as a
 * camera sends them, muxed into fragmented MP4 or QuickTime and read back
 * with libavformat: both streams with the right codec, audio starting at
 * its offset from the first video frame, monotonic timestamps, decodable
 * packets, and the reported SHA-256.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>

#include "avclip.h"
#include "clip.h"
#include "storage/segment.h"

#define WALL0 INT64_C(1700000000000000)

struct fixture {
    struct clip h264, h265;
    struct aac_clip aac;
    char *dir;
    char path[512];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    clip_load_codec(&f->h264, NVR_CODEC_H264);
    clip_load_codec(&f->h265, NVR_CODEC_H265);
    aac_clip_load(&f->aac);
    f->dir = make_tmpdir();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    remove_tree(f->dir);
    free(f->dir);
    clip_free(&f->h264);
    clip_free(&f->h265);
    aac_clip_free(&f->aac);
    free(f);
    return 0;
}

static void set_path(struct fixture *f, const struct nvr_track_info *audio)
{
    snprintf(f->path, sizeof(f->path), "%s/seg.%s", f->dir,
             segment_container_ext(audio));
}

/* What a test feeds: `frames` video units of `vclip` at 25 fps and audio
 * units of `samples` each (0: AAC frames) starting `offset_us` after the
 * first video frame, in the order of their times. */
struct feed {
    const struct clip *vclip;
    const struct aac_clip *aac; /* NULL: G.711 */
    int frames;
    int samples;
    int rate;
    int64_t offset_us;
    int64_t audio_units; /* out: accepted */
};

static void feed_run(struct segment *seg, struct feed *fd)
{
    int64_t video_end_us = (int64_t)fd->frames * CLIP_US;
    int64_t per = fd->aac ? AAC_SAMPLES : fd->samples;
    int v = 0, a = 0;

    for (;;) {
        int64_t vt = v < fd->frames ? (int64_t)v * CLIP_US : INT64_MAX;
        int64_t at = fd->offset_us + a * per * 1000000 / fd->rate;

        if (at >= video_end_us)
            at = INT64_MAX;
        if (vt == INT64_MAX && at == INT64_MAX)
            break;
        if (vt <= at) {
            struct nvr_au *au =
                clip_au(fd->vclip, v, (int64_t)v * CLIP_TICKS, WALL0 + vt, 0);
            assert_int_equal(segment_write(seg, au), 0);
            nvr_au_unref(au);
            v++;
        } else {
            int64_t pts = fd->offset_us * fd->rate / 1000000 + a * per;
            struct nvr_au *au =
                fd->aac ? aac_clip_au(fd->aac, a, 1, pts, WALL0 + at)
                        : g711_au(fd->samples, 1, pts, WALL0 + at);
            assert_int_equal(segment_write_audio(seg, au, pts), 0);
            nvr_au_unref(au);
            fd->audio_units++;
            a++;
        }
    }
}

static void test_av_h264_aac(void **state)
{
    struct fixture *f = *state;
    struct feed fd = {.vclip = &f->h264,
                      .aac = &f->aac,
                      .frames = 2 * CLIP_FPS,
                      .rate = 16000,
                      .offset_us = 30000};
    struct segment *seg;
    struct segment_result res;
    struct av_probe p;
    char sha[65];

    set_path(f, &f->aac.track);
    assert_string_equal(segment_container_ext(&f->aac.track), "mp4");
    assert_int_equal(
        segment_open_av(f->path, &f->h264.track, &f->aac.track, WALL0, &seg),
        0);
    feed_run(seg, &fd);
    assert_int_equal(segment_close(seg, SEGMENT_NO_PTS, &res), 0);

    /* The result describes the video track. */
    assert_int_equal(res.frames, 2 * CLIP_FPS);
    assert_int_equal(res.duration_us, 2 * CLIP_FPS * CLIP_US);
    assert_int_equal(res.audio_frames, fd.audio_units);
    assert_int_equal(res.dropped, 0);
    assert_true(fd.audio_units >= 30);

    av_probe_file(f->path, &p);
    assert_true(p.ok);
    assert_non_null(strstr(p.format, "mp4"));
    assert_int_equal(p.n_streams, 2);
    assert_string_equal(p.video.codec, "h264");
    assert_string_equal(p.audio.codec, "aac");
    assert_int_equal(p.audio.sample_rate, 16000);
    assert_int_equal(p.audio.channels, 1);
    assert_int_equal(p.video.packets, 2 * CLIP_FPS);
    assert_int_equal(p.audio.packets, fd.audio_units);
    assert_true(p.video.first_key);
    assert_true(p.video.monotonic);
    assert_true(p.audio.monotonic);
    /* The audio keeps its 30 ms offset from the first video frame. */
    assert_true(fabs(p.video.first_s) < 1e-6);
    assert_true(fabs(p.audio.first_s - 0.030) < 0.001);
    assert_true(fabs(p.audio.first_s - p.video.first_s) < 0.100);
    assert_int_equal(p.video.decoded, 2 * CLIP_FPS);
    assert_true(p.audio.decoded >= p.audio.packets - 1);

    assert_int_equal(sha256_file(f->path, sha), 0);
    assert_string_equal(sha, res.sha256);
    assert_int_equal(res.bytes, file_size(f->path));
}

static void test_av_h265_pcma(void **state)
{
    struct fixture *f = *state;
    struct nvr_track_info pcma = g711_track(NVR_CODEC_PCMA);
    struct feed fd = {.vclip = &f->h265,
                      .frames = 2 * CLIP_FPS,
                      .samples = 160,
                      .rate = 8000,
                      .offset_us = 10000};
    struct segment *seg;
    struct segment_result res;
    struct av_probe p;
    char sha[65];

    set_path(f, &pcma);
    assert_string_equal(segment_container_ext(&pcma), "mov");
    assert_int_equal(
        segment_open_av(f->path, &f->h265.track, &pcma, WALL0, &seg), 0);
    feed_run(seg, &fd);
    assert_int_equal(segment_close(seg, SEGMENT_NO_PTS, &res), 0);
    assert_int_equal(res.frames, 2 * CLIP_FPS);
    assert_int_equal(res.audio_frames, fd.audio_units);

    av_probe_file(f->path, &p);
    assert_true(p.ok);
    assert_int_equal(p.n_streams, 2);
    assert_string_equal(p.video.codec, "hevc");
    assert_string_equal(p.audio.codec, "pcm_alaw");
    assert_int_equal(p.audio.sample_rate, 8000);
    assert_int_equal(p.audio.channels, 1);
    assert_int_equal(p.video.packets, 2 * CLIP_FPS);
    assert_true(p.video.monotonic);
    assert_true(p.audio.monotonic);
    assert_true(fabs(p.audio.first_s - 0.010) < 0.001);
    assert_true(fabs(p.audio.first_s - p.video.first_s) < 0.100);
    /* Every sample is there: 20 ms per unit, end to end. */
    assert_true(fabs(p.audio.last_end_s - p.audio.first_s -
                     (double)fd.audio_units * 0.020) < 0.001);
    assert_int_equal(p.video.decoded, 2 * CLIP_FPS);
    assert_true(p.audio.decoded > 0);

    assert_int_equal(sha256_file(f->path, sha), 0);
    assert_string_equal(sha, res.sha256);
}

static void test_av_audio_refused(void **state)
{
    struct fixture *f = *state;
    struct nvr_track_info bad = f->aac.track;
    struct nvr_track_info pcmu = g711_track(NVR_CODEC_PCMU);
    struct segment *seg;
    struct segment_result res;
    struct nvr_au *v, *a;

    /* What cannot be recorded is refused before a file exists. */
    bad.params_len = 0;
    assert_false(segment_audio_ok(&bad));
    bad = f->aac.track;
    bad.channels = 9;
    assert_false(segment_audio_ok(&bad));
    assert_false(segment_audio_ok(&f->h264.track));
    assert_true(segment_audio_ok(&pcmu));
    assert_string_equal(segment_container_ext(NULL), "mp4");
    set_path(f, &f->aac.track);
    assert_int_equal(
        segment_open_av(f->path, &f->h264.track, &f->h264.track, 0, &seg),
        -EINVAL);
    assert_int_equal(segment_open_av(f->path, &f->aac.track, NULL, 0, &seg),
                     -EINVAL);
    assert_int_equal(file_size(f->path), -1);

    assert_int_equal(
        segment_open_av(f->path, &f->h264.track, &f->aac.track, 0, &seg), 0);
    a = aac_clip_au(&f->aac, 0, 1, 100, 0);
    /* Before the first video unit there is no time line yet. */
    assert_int_equal(segment_write_audio(seg, a, 100), 1);
    v = clip_au(&f->h264, 0, 5000, 0, 0);
    assert_int_equal(segment_write(seg, v), 0);
    nvr_au_unref(v);
    /* Before the first video frame, then not after the previous unit. */
    assert_int_equal(segment_write_audio(seg, a, -1), 1);
    assert_int_equal(segment_write_audio(seg, a, 100), 0);
    assert_int_equal(segment_write_audio(seg, a, 100), 1);
    assert_int_equal(segment_write_audio(seg, a, 50), 1);
    assert_int_equal(segment_write_audio(seg, a, 1124), 0);
    nvr_au_unref(a);
    assert_int_equal(segment_close(seg, SEGMENT_NO_PTS, &res), 0);
    assert_int_equal(res.frames, 1);
    assert_int_equal(res.audio_frames, 2);
    assert_int_equal(res.dropped, 4);

    /* A segment without audio refuses audio units. */
    snprintf(f->path, sizeof(f->path), "%s/noaudio.mp4", f->dir);
    assert_int_equal(segment_open(f->path, &f->h264.track, 0, &seg), 0);
    v = clip_au(&f->h264, 0, 0, 0, 0);
    assert_int_equal(segment_write(seg, v), 0);
    nvr_au_unref(v);
    a = g711_au(160, 1, 0, 0);
    assert_int_equal(segment_write_audio(seg, a, 0), 1);
    nvr_au_unref(a);
    assert_int_equal(segment_close(seg, SEGMENT_NO_PTS, &res), 0);
    assert_int_equal(res.audio_frames, 0);
}

static void test_av_readable_while_open(void **state)
{
    struct fixture *f = *state;
    struct feed fd = {.vclip = &f->h264,
                      .aac = &f->aac,
                      .frames = CLIP_FPS + 2,
                      .rate = 16000,
                      .offset_us = 0};
    struct segment *seg;
    struct segment_result res;
    struct av_probe p;

    set_path(f, &f->aac.track);
    assert_int_equal(
        segment_open_av(f->path, &f->h264.track, &f->aac.track, WALL0, &seg),
        0);
    feed_run(seg, &fd);
    /* The second keyframe flushed the first GOP's fragment, with the
     * audio muxed during it. */
    av_probe_file(f->path, &p);
    assert_true(p.ok);
    assert_int_equal(p.video.packets, CLIP_FPS);
    assert_true(p.audio.packets >= 15);
    assert_true(fabs(p.audio.first_s) < 0.001);
    segment_get_progress(seg, &res);
    assert_int_equal(res.bytes, file_size(f->path));
    assert_int_equal(segment_close(seg, SEGMENT_NO_PTS, &res), 0);
}

/* Encodes `n` small JPEG images with libavcodec's MJPEG encoder, as an
 * RFC 2435 depacketizer rebuilds them: one complete JFIF per unit. */
static int encode_jpegs(struct nvr_au **out, int n, int w, int h)
{
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    AVCodecContext *enc = codec ? avcodec_alloc_context3(codec) : NULL;
    AVFrame *frame = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    int got = 0;

    if (!enc || !frame || !pkt)
        goto out;
    enc->width = w;
    enc->height = h;
    enc->pix_fmt = AV_PIX_FMT_YUVJ420P;
    enc->time_base = (AVRational){1, CLIP_FPS};
    if (avcodec_open2(enc, codec, NULL) < 0)
        goto out;
    frame->format = enc->pix_fmt;
    frame->width = w;
    frame->height = h;
    if (av_frame_get_buffer(frame, 0) < 0)
        goto out;
    for (int i = 0; i < n; i++) {
        if (av_frame_make_writable(frame) < 0)
            goto out;
        for (int p = 0; p < 3; p++) {
            int ph = p ? h / 2 : h;
            for (int y = 0; y < ph; y++)
                memset(frame->data[p] + y * frame->linesize[p],
                       (uint8_t)(p ? 128 : (y * 4 + i * 8)),
                       (size_t)(p ? w / 2 : w));
        }
        frame->pts = i;
        if (avcodec_send_frame(enc, frame) < 0 ||
            avcodec_receive_packet(enc, pkt) < 0)
            goto out;
        assert_int_equal(nvr_au_new((size_t)pkt->size, &out[got]), 0);
        assert_int_equal(nvr_au_append(&out[got], pkt->data, (size_t)pkt->size),
                         0);
        out[got]->flags = NVR_AU_KEY;
        got++;
        av_packet_unref(pkt);
    }
out:
    av_packet_free(&pkt);
    av_frame_free(&frame);
    avcodec_free_context(&enc);
    return got;
}

static void test_av_mjpeg_pcmu(void **state)
{
    struct fixture *f = *state;
    struct nvr_track_info mjpeg = {.codec = NVR_CODEC_MJPEG,
                                   .clock_rate = 90000};
    struct nvr_track_info pcmu = g711_track(NVR_CODEC_PCMU);
    struct nvr_au *jpegs[10];
    struct segment *seg;
    struct segment_result res;
    struct av_probe p;
    int n = encode_jpegs(jpegs, 10, 64, 48);
    int audio = 0;

    assert_int_equal(n, 10);
    set_path(f, &pcmu);
    /* No size in the description: it comes from the JPEG frame header. */
    assert_int_equal(segment_open_av(f->path, &mjpeg, &pcmu, WALL0, &seg), 0);
    for (int i = 0; i < n; i++) {
        jpegs[i]->pts = (int64_t)i * CLIP_TICKS;
        jpegs[i]->dts = jpegs[i]->pts;
        assert_int_equal(segment_write(seg, jpegs[i]), 0);
        nvr_au_unref(jpegs[i]);
        /* Two 20 ms units per 40 ms frame. */
        for (int k = 0; k < 2; k++, audio++) {
            struct nvr_au *a = g711_au(160, 1, 0, 0);
            assert_int_equal(segment_write_audio(seg, a, (int64_t)audio * 160),
                             0);
            nvr_au_unref(a);
        }
    }
    assert_int_equal(segment_close(seg, SEGMENT_NO_PTS, &res), 0);
    assert_int_equal(res.frames, n);
    assert_int_equal(res.width, 64);
    assert_int_equal(res.height, 48);

    av_probe_file(f->path, &p);
    assert_true(p.ok);
    assert_string_equal(p.video.codec, "mjpeg");
    assert_string_equal(p.audio.codec, "pcm_mulaw");
    assert_int_equal(p.video.packets, n);
    assert_int_equal(p.audio.packets, audio);
    assert_int_equal(p.video.decoded, n);
    assert_true(p.video.monotonic && p.audio.monotonic);
    assert_true(fabs(p.audio.first_s - p.video.first_s) < 0.100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_av_h264_aac, setup, teardown),
        cmocka_unit_test_setup_teardown(test_av_h265_pcma, setup, teardown),
        cmocka_unit_test_setup_teardown(test_av_audio_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_av_readable_while_open, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_av_mjpeg_pcmu, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
