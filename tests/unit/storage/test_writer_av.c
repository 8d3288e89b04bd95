/* SPDX-License-Identifier: MIT */
/*
 * Tests of storage/writer.c with a video and an audio track, against the
 * real catalog and real files in a temp dir: units interleaved by wall
 * time as a session delivers them, audio in its own clock with an
 * unrelated origin; every segment read back with libavformat (both
 * streams, first audio within 100 ms of the first video frame, monotonic
 * timestamps, SHA-256 of the row), the container chosen by the audio
 * codec, audio before the first keyframe dropped, and cuts on an audio
 * discontinuity or a change of the audio track.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "avclip.h"
#include "clip.h"
#include "storage/catalog.h"
#include "storage/writer.h"

#define BASE_WALL_US INT64_C(1700000000000000) /* 2023-11-14T22:13:20Z */
#define BASE_PTS     90000
#define MAX_ROWS     16

struct fixture {
    struct clip h264, h265;
    struct aac_clip aac;
    char *dir;
    char db[512];
    struct writer_config cfg;
    struct catalog_segment rows[MAX_ROWS];
    int n_rows;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    clip_load_codec(&f->h264, NVR_CODEC_H264);
    clip_load_codec(&f->h265, NVR_CODEC_H265);
    aac_clip_load(&f->aac);
    f->dir = make_tmpdir();
    snprintf(f->db, sizeof(f->db), "%s/catalog.db", f->dir);
    f->cfg.storage_dir = f->dir;
    f->cfg.catalog_path = f->db;
    f->cfg.camera = "gate";
    f->cfg.segment_seconds = 2;
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

/* A session's units in wall-time order: video at 25 fps from
 * BASE_WALL_US, audio units of `per` samples from audio_wall. */
struct av_feed {
    const struct clip *video;
    int vtrack;
    const struct aac_clip *aac; /* NULL: G.711 */
    int atrack;
    int rate, per;
    int64_t audio_wall; /* wall time of the next audio unit */
    int64_t audio_pts;  /* its pts */
    uint32_t audio_flags;
    int v; /* next video unit */
    int a; /* audio units pushed */
    int audio_refused;
};

static int64_t wall_of(int i)
{
    return BASE_WALL_US + (int64_t)i * CLIP_US;
}

/* Pushes every unit whose wall time is before `until`. */
static void av_feed_until(struct writer *w, struct av_feed *fd, int64_t until)
{
    for (;;) {
        int64_t vt = wall_of(fd->v);
        int64_t at = fd->audio_wall;
        struct nvr_au *au;

        if (vt >= until && at >= until)
            return;
        if (vt <= at) {
            au =
                clip_au(fd->video, fd->v, BASE_PTS + fd->v * CLIP_TICKS, vt, 0);
            au->track = fd->vtrack;
            assert_int_equal(writer_push_au(w, au), 0);
            fd->v++;
            continue;
        }
        au = fd->aac
                 ? aac_clip_au(fd->aac, fd->a, fd->atrack, fd->audio_pts, at)
                 : g711_au(fd->per, fd->atrack, fd->audio_pts, at);
        au->flags |= fd->audio_flags;
        fd->audio_flags = 0;
        fd->audio_refused += writer_push_au(w, au) != 0;
        fd->a++;
        fd->audio_pts += fd->per;
        fd->audio_wall = at + (int64_t)fd->per * 1000000 / fd->rate;
    }
}

static void wait_drained(struct writer *w)
{
    struct writer_stats st;

    for (int i = 0; i < 5000; i++) {
        writer_get_stats(w, &st);
        if (st.queued_bytes == 0)
            return;
        usleep(1000);
    }
    fail_msg("writer queue never drained");
}

static int collect(void *user, const struct catalog_segment *seg)
{
    struct fixture *f = user;

    assert_true(f->n_rows < MAX_ROWS);
    f->rows[f->n_rows++] = *seg;
    return 0;
}

static int by_id(const void *a, const void *b)
{
    const struct catalog_segment *x = a, *y = b;

    return (x->id > y->id) - (x->id < y->id);
}

static void load_rows(struct fixture *f)
{
    struct catalog *cat;
    int64_t cam;

    f->n_rows = 0;
    assert_int_equal(catalog_open(f->db, CATALOG_READONLY, &cat), 0);
    assert_int_equal(catalog_camera_find(cat, "gate", &cam), 0);
    assert_int_equal(
        catalog_segment_list(cat, cam, INT64_MIN, INT64_MAX, 0, collect, f), 0);
    catalog_close(cat);
    qsort(f->rows, (size_t)f->n_rows, sizeof(f->rows[0]), by_id);
}

/* Checks a closed row against its file; returns the audio packets.
 * to_end: the audio went on until the segment's end. */
static int64_t check_av_row(struct fixture *f,
                            const struct catalog_segment *row,
                            const char *vcodec, const char *acodec,
                            const char *ext, bool to_end)
{
    char path[1024], sha[65];
    struct av_probe p;
    size_t n = strlen(row->path);

    assert_int_equal(row->status, CATALOG_SEG_CLOSED);
    assert_true(n > strlen(ext) + 1);
    assert_string_equal(row->path + n - strlen(ext), ext);
    assert_int_equal(row->path[n - strlen(ext) - 1], '.');
    snprintf(path, sizeof(path), "%s/%s", f->dir, row->path);
    av_probe_file(path, &p);
    assert_true(p.ok);
    assert_int_equal(p.n_streams, 2);
    assert_string_equal(p.video.codec, vcodec);
    assert_string_equal(p.audio.codec, acodec);
    assert_int_equal(p.video.packets, row->frames);
    assert_int_equal(p.video.decoded, row->frames);
    assert_true(p.video.first_key);
    assert_true(p.video.monotonic);
    assert_true(p.audio.monotonic);
    assert_true(p.audio.packets > 0);
    assert_true(p.audio.first_s >= p.video.first_s);
    assert_true(fabs(p.audio.first_s - p.video.first_s) < 0.100);
    /* The audio ends with the video, give or take one unit. */
    if (to_end)
        assert_true(fabs(p.audio.last_end_s -
                         (double)(row->end_us - row->start_us) / 1e6) < 0.100);
    assert_int_equal(file_size(path), row->bytes);
    assert_int_equal(sha256_file(path, sha), 0);
    assert_string_equal(sha, row->sha256);
    return p.audio.packets;
}

static void test_writer_av_h264_aac(void **state)
{
    struct fixture *f = *state;
    struct nvr_stream_info info;
    struct av_feed fd = {.video = &f->h264,
                         .vtrack = 1,
                         .aac = &f->aac,
                         .atrack = 0,
                         .rate = 16000,
                         .per = AAC_SAMPLES,
                         /* Audio starts 300 ms before the first keyframe,
                          * its clock at an unrelated origin. */
                         .audio_wall = BASE_WALL_US - 300000,
                         .audio_pts = 987654321};
    struct writer_stats st;
    struct writer *w;
    int64_t audio = 0;

    /* The first audio track comes before the video; the second audio
     * track is not recorded. */
    memset(&info, 0, sizeof(info));
    info.n_tracks = 3;
    info.tracks[0] = f->aac.track;
    info.tracks[1] = f->h264.track;
    info.tracks[2] = g711_track(NVR_CODEC_PCMA);
    assert_int_equal(writer_new(&f->cfg, &w), 0);
    assert_int_equal(writer_push_stream(w, &info), 0);
    av_feed_until(w, &fd, wall_of(5 * CLIP_FPS));
    for (int i = 0; i < 10; i++) {
        struct nvr_au *au = g711_au(160, 2, i * 160, wall_of(i));
        assert_int_equal(writer_push_au(w, au), 0);
    }
    wait_drained(w);
    writer_get_stats(w, &st);
    writer_free(w);
    assert_int_equal(fd.audio_refused, 0);

    load_rows(f);
    assert_int_equal(f->n_rows, 3);
    assert_int_equal(f->rows[0].start_us, BASE_WALL_US);
    for (int i = 0; i < f->n_rows; i++) {
        audio += check_av_row(f, &f->rows[i], "h264", "aac", "mp4", true);
        assert_string_equal(f->rows[i].codec, "h264");
        if (i > 0)
            assert_int_equal(f->rows[i].start_us, f->rows[i - 1].end_us);
    }
    assert_int_equal(f->rows[0].frames, 2 * CLIP_FPS);
    /* The five audio units before the first keyframe are dropped; every
     * later one is in a segment. */
    assert_int_equal(audio, fd.a - 5);
    assert_int_equal(st.aus_dropped, 5);
    assert_int_equal(st.aus_written, (uint64_t)(5 * CLIP_FPS + audio));
}

static void test_writer_av_h265_pcma(void **state)
{
    struct fixture *f = *state;
    struct nvr_stream_info info;
    struct av_feed fd = {.video = &f->h265,
                         .vtrack = 0,
                         .atrack = 1,
                         .rate = 8000,
                         .per = 160,
                         .audio_wall = BASE_WALL_US + 5000,
                         .audio_pts = 4242};
    struct writer *w;

    memset(&info, 0, sizeof(info));
    info.n_tracks = 2;
    info.tracks[0] = f->h265.track;
    info.tracks[1] = g711_track(NVR_CODEC_PCMA);
    assert_int_equal(writer_new(&f->cfg, &w), 0);
    assert_int_equal(writer_push_stream(w, &info), 0);
    av_feed_until(w, &fd, wall_of(3 * CLIP_FPS));
    writer_free(w);

    load_rows(f);
    assert_int_equal(f->n_rows, 2);
    assert_int_equal(
        check_av_row(f, &f->rows[0], "hevc", "pcm_alaw", "mov", true), 100);
    check_av_row(f, &f->rows[1], "hevc", "pcm_alaw", "mov", true);
    assert_string_equal(f->rows[0].codec, "h265");
    assert_string_equal(f->rows[0].path,
                        "gate/2023-11-14/gate-20231114T221320.000000Z.mov");
}

static void test_writer_av_audio_discont_cuts(void **state)
{
    struct fixture *f = *state;
    struct nvr_stream_info info;
    struct av_feed fd = {.video = &f->h264,
                         .vtrack = 0,
                         .aac = &f->aac,
                         .atrack = 1,
                         .rate = 16000,
                         .per = AAC_SAMPLES,
                         .audio_wall = BASE_WALL_US + 20000,
                         .audio_pts = 5000};
    struct writer *w;
    int64_t audio;

    f->cfg.segment_seconds = 60;
    memset(&info, 0, sizeof(info));
    info.n_tracks = 2;
    info.tracks[0] = f->h264.track;
    info.tracks[1] = f->aac.track;
    assert_int_equal(writer_new(&f->cfg, &w), 0);
    assert_int_equal(writer_push_stream(w, &info), 0);
    av_feed_until(w, &fd, BASE_WALL_US + 1300000);
    /* The audio clock restarts further back: cut at the next keyframe
     * (2 s), and until then the audio is placed by its wall time. */
    fd.audio_pts = 17;
    fd.audio_flags = NVR_AU_DISCONT;
    av_feed_until(w, &fd, wall_of(88));
    writer_free(w);

    load_rows(f);
    assert_int_equal(f->n_rows, 2);
    assert_int_equal(f->rows[0].frames, 2 * CLIP_FPS);
    assert_int_equal(f->rows[1].frames, 88 - 2 * CLIP_FPS);
    audio = check_av_row(f, &f->rows[0], "h264", "aac", "mp4", true);
    audio += check_av_row(f, &f->rows[1], "h264", "aac", "mp4", true);
    assert_int_equal(audio, fd.a);
    assert_int_equal(f->rows[1].start_us, f->rows[0].end_us);
}

static void test_writer_av_audio_change_cuts(void **state)
{
    struct fixture *f = *state;
    struct nvr_stream_info info;
    struct av_feed fd = {.video = &f->h264,
                         .vtrack = 0,
                         .aac = &f->aac,
                         .atrack = 1,
                         .rate = 16000,
                         .per = AAC_SAMPLES,
                         .audio_wall = BASE_WALL_US,
                         .audio_pts = 0};
    struct writer *w;

    f->cfg.segment_seconds = 60;
    memset(&info, 0, sizeof(info));
    info.n_tracks = 2;
    info.tracks[0] = f->h264.track;
    info.tracks[1] = f->aac.track;
    assert_int_equal(writer_new(&f->cfg, &w), 0);
    assert_int_equal(writer_push_stream(w, &info), 0);
    av_feed_until(w, &fd, BASE_WALL_US + 1500000);
    /* The camera now sends G.711 on another track: the next keyframe
     * starts a QuickTime segment. */
    info.n_tracks = 3;
    info.tracks[2] = g711_track(NVR_CODEC_PCMA);
    info.tracks[1].codec = NVR_CODEC_NONE;
    assert_int_equal(writer_push_stream(w, &info), 0);
    fd.aac = NULL;
    fd.atrack = 2;
    fd.rate = 8000;
    fd.per = 160;
    av_feed_until(w, &fd, wall_of(88));
    writer_free(w);

    load_rows(f);
    assert_int_equal(f->n_rows, 2);
    assert_int_equal(f->rows[0].frames, 2 * CLIP_FPS);
    /* The G.711 units before the cut did not fit the AAC segment. */
    check_av_row(f, &f->rows[0], "h264", "aac", "mp4", false);
    check_av_row(f, &f->rows[1], "h264", "pcm_alaw", "mov", true);
}

static void test_writer_av_unrecordable_audio(void **state)
{
    struct fixture *f = *state;
    struct nvr_stream_info info;
    struct av_feed fd = {.video = &f->h264,
                         .vtrack = 0,
                         .aac = &f->aac,
                         .atrack = 1,
                         .rate = 16000,
                         .per = AAC_SAMPLES,
                         .audio_wall = BASE_WALL_US,
                         .audio_pts = 0};
    struct writer *w;
    struct av_probe p;
    char path[1024];

    /* AAC without its AudioSpecificConfig cannot be decoded: the camera
     * is recorded without sound. */
    memset(&info, 0, sizeof(info));
    info.n_tracks = 2;
    info.tracks[0] = f->h264.track;
    info.tracks[1] = f->aac.track;
    info.tracks[1].params_len = 0;
    assert_int_equal(writer_new(&f->cfg, &w), 0);
    assert_int_equal(writer_push_stream(w, &info), 0);
    av_feed_until(w, &fd, wall_of(CLIP_FPS));
    writer_free(w);

    load_rows(f);
    assert_int_equal(f->n_rows, 1);
    snprintf(path, sizeof(path), "%s/%s", f->dir, f->rows[0].path);
    av_probe_file(path, &p);
    assert_true(p.ok);
    assert_int_equal(p.n_streams, 1);
    assert_false(p.audio.present);
    assert_int_equal(p.video.packets, CLIP_FPS);
    assert_int_equal(f->rows[0].frames, CLIP_FPS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_writer_av_h264_aac, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_writer_av_h265_pcma, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_writer_av_audio_discont_cuts,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_av_audio_change_cuts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_writer_av_unrecordable_audio,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
