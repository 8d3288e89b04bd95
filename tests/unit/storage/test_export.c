/* SPDX-License-Identifier: MIT */
/*
 * Tests of storage/export.c on footage made by the real writer from the
 * committed test clip (25 fps, a keyframe every second) with synthetic
 * timestamps: two sessions (0-10 s in 4 s segments, then 15-20 s) and an
 * export from 3.3 s to 17 s. Checks the keyframe start, the continuous
 * timeline within a session and the real-time jump across the gap, the
 * sidecar, the manifest and its self-hash, the audit entry, refusal to
 * overwrite, unknown cameras, and that a source segment changed on disk
 * stops the export with nothing left behind.
 *
 * Audio: two-track segments made by the ffmpeg command (fragmented MP4
 * with H.264 + AAC, fragmented QuickTime with H.264 + G.711 A-law), put
 * in a catalog as two contiguous 4 s segments per camera: the audio is
 * remuxed into the clip, an A-law camera is refused into .mp4 (and
 * exported into .mov), the container follows the extension.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <libavformat/avformat.h>

#include "clip.h"
#include "storage/audit.h"
#include "storage/catalog.h"
#include "storage/export.h"
#include "storage/writer.h"

#define T0_US 1767225600000000LL /* 2026-01-01T00:00:00Z */

struct fixture {
    char *dir;
    char storage[512], catalog[600], out[600];
    struct clip clip;
    struct catalog *cat;
};

static void feed(struct fixture *f, struct writer *w, int from, int to)
{
    for (int i = from; i < to; i++) {
        struct nvr_au *au = clip_au(&f->clip, i, (int64_t)i * CLIP_TICKS,
                                    T0_US + (int64_t)i * CLIP_US, 0);

        assert_int_equal(writer_push_au(w, au), 0);
    }
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct writer_config wc;
    struct nvr_stream_info info;
    struct writer *w = NULL;

    if (!f)
        return -1;
    f->dir = make_tmpdir();
    snprintf(f->storage, sizeof(f->storage), "%s/storage", f->dir);
    snprintf(f->catalog, sizeof(f->catalog), "%s/catalog.db", f->storage);
    snprintf(f->out, sizeof(f->out), "%s/clip.mp4", f->dir);
    clip_load(&f->clip);
    assert_int_equal(mkdir(f->storage, 0750), 0);
    assert_int_equal(catalog_open(f->catalog, CATALOG_READWRITE, &f->cat), 0);

    memset(&wc, 0, sizeof(wc));
    wc.storage_dir = f->storage;
    wc.catalog_path = f->catalog;
    wc.camera = "gate";
    wc.segment_seconds = 4;
    assert_int_equal(writer_new(&wc, &w), 0);
    memset(&info, 0, sizeof(info));
    info.n_tracks = 1;
    info.tracks[0] = f->clip.track;
    assert_int_equal(writer_push_stream(w, &info), 0);
    feed(f, w, 0, 250); /* 0 .. 10 s */
    assert_int_equal(writer_push_break(w, "connection lost: test"), 0);
    assert_int_equal(writer_push_stream(w, &info), 0);
    feed(f, w, 375, 500); /* 15 .. 20 s */
    writer_free(w);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    catalog_close(f->cat);
    clip_free(&f->clip);
    remove_tree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static struct export_request request(struct fixture *f)
{
    return (struct export_request){
        .storage_dir = f->storage,
        .camera = "gate",
        .from_us = T0_US + 3300000,
        .to_us = T0_US + 17000000,
        .out_path = f->out,
        .reason = "unit test \"quoted\"",
    };
}

static char *read_text(const char *path)
{
    FILE *fp = fopen(path, "rb");
    char *buf = calloc(1, 1 << 20);
    size_t n;

    assert_non_null(fp);
    assert_non_null(buf);
    n = fread(buf, 1, (1 << 20) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return buf;
}

static void test_export_range_with_gap(void **state)
{
    struct fixture *f = *state;
    struct export_request req = request(f);
    struct export_result res;
    struct probe p;
    char sha[65], side[700], line[200], computed[65], recorded[65];
    char *text, *man;
    int64_t bad = -1;

    assert_int_equal(export_run(f->cat, &req, NULL, NULL, &res), 0);
    /* The keyframe at or before 3.3 s is the one at 3 s. */
    assert_int_equal(res.actual_from_us, T0_US + 3000000);
    assert_int_equal(res.actual_to_us, T0_US + 17000000);
    /* 3 .. 10 s and 15 .. 17 s. */
    assert_int_equal(res.frames, 7 * 25 + 2 * 25);
    assert_int_equal(res.n_segments, 4); /* 0-4, 4-8, 8-10, 15-19 s */
    assert_int_equal(res.n_gaps, 1);
    assert_string_equal(res.codec, "h264");

    probe_file(f->out, &p);
    assert_true(p.ok);
    assert_true(p.first_key);
    assert_int_equal(p.frames, res.frames);
    /* The gap keeps its real length: 14 s of wall time. */
    assert_true(p.duration_us > 13900000 && p.duration_us < 14100000);
    assert_int_equal(decode_file(f->out), (int)res.frames);

    assert_int_equal(sha256_file(f->out, sha), 0);
    assert_string_equal(sha, res.sha256);
    assert_int_equal(export_sha256_file(f->out, sha), 0);
    assert_string_equal(sha, res.sha256);
    assert_int_equal(file_size(f->out), res.bytes);
    snprintf(side, sizeof(side), "%s.sha256", f->out);
    text = read_text(side);
    snprintf(line, sizeof(line), "%s  clip.mp4\n", res.sha256);
    assert_string_equal(text, line);
    free(text);

    assert_non_null(strstr(res.manifest_path, "clip.manifest.json"));
    man = read_text(res.manifest_path);
    assert_int_equal(export_manifest_hash(man, strlen(man), computed, recorded),
                     0);
    assert_string_equal(computed, recorded);
    assert_non_null(strstr(man, res.sha256));
    assert_non_null(strstr(man, res.audit_hash));
    assert_non_null(strstr(man, "unit test \\\"quoted\\\""));
    assert_non_null(strstr(man, "\"requested_from_us\": 1767225603300000"));
    assert_non_null(strstr(man, "\"start_us\": 1767225610000000"));
    assert_non_null(strstr(man, "\"end_us\": 1767225615000000"));
    /* A changed byte breaks the self-hash. */
    man[strlen(man) / 2] ^= 1;
    assert_int_equal(export_manifest_hash(man, strlen(man), computed, recorded),
                     0);
    assert_string_not_equal(computed, recorded);
    free(man);

    assert_int_equal(res.audit_id, 1);
    assert_int_equal(strlen(res.audit_hash), 64);
    assert_int_equal(audit_verify(f->cat, &bad, NULL, 0), 0);

    /* Never overwritten. */
    assert_int_equal(export_run(f->cat, &req, NULL, NULL, &res), -EEXIST);
}

static void test_export_unknown_camera(void **state)
{
    struct fixture *f = *state;
    struct export_request req = request(f);
    struct export_result res;

    req.camera = "nobody";
    assert_int_equal(export_run(f->cat, &req, NULL, NULL, &res), -ENOENT);
    req = request(f);
    req.from_us = T0_US + 11000000;
    req.to_us = T0_US + 14000000;
    assert_int_equal(export_run(f->cat, &req, NULL, NULL, &res), -ENOENT);
    assert_int_equal(access(f->out, F_OK), -1);
    req.to_us = req.from_us;
    assert_int_equal(export_run(f->cat, &req, NULL, NULL, &res), -EINVAL);
}

static int rows_cb(void *user, const struct catalog_segment *seg)
{
    snprintf(user, 256, "%s", seg->path);
    return 1;
}

static void test_export_refuses_altered_source(void **state)
{
    struct fixture *f = *state;
    struct export_request req = request(f);
    struct export_result res;
    char rel[256] = "", path[1024], side[700];
    int64_t cam;
    FILE *fp;

    assert_int_equal(catalog_camera_find(f->cat, "gate", &cam), 0);
    assert_int_equal(catalog_segment_list(f->cat, cam, T0_US + 5000000,
                                          T0_US + 6000000, 0, rows_cb, rel),
                     0);
    snprintf(path, sizeof(path), "%s/%s", f->storage, rel);
    fp = fopen(path, "ab");
    assert_non_null(fp);
    fputc('x', fp);
    fclose(fp);
    assert_int_equal(export_run(f->cat, &req, NULL, NULL, &res), -EBADMSG);
    assert_int_equal(access(f->out, F_OK), -1);
    snprintf(side, sizeof(side), "%s.sha256", f->out);
    assert_int_equal(access(side, F_OK), -1);
    snprintf(side, sizeof(side), "%s.partial", f->out);
    assert_int_equal(access(side, F_OK), -1);
}

struct last_row {
    int64_t id;
    char path[256];
    int64_t bytes;
};

static int last_cb(void *user, const struct catalog_segment *seg)
{
    struct last_row *r = user;

    if (seg->start_us != T0_US + 15000000)
        return 0;
    r->id = seg->id;
    r->bytes = seg->bytes;
    snprintf(r->path, sizeof(r->path), "%s", seg->path);
    return 0;
}

/* A segment still being written (OPEN, its last fragment incomplete) is
 * read up to its last complete fragment. */
static void test_export_open_segment(void **state)
{
    struct fixture *f = *state;
    struct export_request req = request(f);
    struct export_result res;
    struct last_row last = {-1, "", 0};
    char path[1024], *man;
    int64_t cam;

    assert_int_equal(catalog_camera_find(f->cat, "gate", &cam), 0);
    assert_int_equal(
        catalog_segment_list(f->cat, cam, 0, INT64_MAX, 0, last_cb, &last), 0);
    assert_int_equal(
        catalog_segment_set_status(f->cat, last.id, CATALOG_SEG_OPEN), 0);
    snprintf(path, sizeof(path), "%s/%s", f->storage, last.path);
    assert_int_equal(truncate(path, last.bytes - 3000), 0);
    req.from_us = T0_US + 16000000;
    req.to_us = T0_US + 30000000;
    assert_int_equal(export_run(f->cat, &req, NULL, NULL, &res), 0);
    assert_int_equal(res.actual_from_us, T0_US + 16000000);
    /* Of the open 15-19 s segment only the complete GOPs 16-18 s (its last
     * fragment is torn), then the closed 19-20 s one: a 1 s gap between,
     * and one after the footage ends at 20 s. */
    assert_int_equal(res.frames, 3 * 25);
    assert_int_equal(res.n_segments, 2);
    assert_int_equal(res.n_gaps, 2);
    man = read_text(res.manifest_path);
    assert_non_null(strstr(man, "\"status\": \"open\""));
    free(man);
}

struct prog {
    int calls;
    int64_t last, total;
};

static int prog_cb(void *user, int64_t done, int64_t total)
{
    struct prog *p = user;

    p->calls++;
    assert_true(done >= p->last);
    p->last = done;
    p->total = total;
    return 0;
}

/* Cancels at the n-th progress call: 1 is before anything is written, 2
 * the first read of a source, with the clip's file open. */
static int cancel_cb(void *user, int64_t done, int64_t total)
{
    int *left = user;

    (void)done;
    (void)total;
    return --*left <= 0;
}

static void test_export_cancel(void **state)
{
    struct fixture *f = *state;
    struct export_request req = request(f);
    struct export_result res;
    char path[700];
    const char *const sfx[] = {"", ".partial", ".sha256"};

    for (int at = 1; at <= 2; at++) {
        int left = at;

        assert_int_equal(export_run(f->cat, &req, cancel_cb, &left, &res),
                         -ECANCELED);
        assert_int_equal(left, 0);
        for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
            snprintf(path, sizeof(path), "%s%s", f->out, sfx[i]);
            assert_int_equal(access(path, F_OK), -1);
        }
        assert_int_equal(export_manifest_path(f->out, path, sizeof(path)), 0);
        assert_int_equal(access(path, F_OK), -1);
    }
    /* Nothing was audited: the first complete export is entry 1. */
    assert_int_equal(export_run(f->cat, &req, NULL, NULL, &res), 0);
    assert_int_equal(res.audit_id, 1);
}

/* Writes a small file at dir/name. */
static void put_file(const char *dir, const char *name, const char *text)
{
    char path[800];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static bool exists_in(const char *dir, const char *name)
{
    char path[800];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

/* What a killed export leaves, cleaned by the next one: a half-published
 * set (a manifest linked to its final name) is removed; a file of the same
 * name that is not the staged one stays; a staging folder whose lock is
 * held (an export at work) is not touched; a completely published set is
 * kept. */
static void test_export_cleans_leftovers(void **state)
{
    struct fixture *f = *state;
    struct export_request req = request(f);
    struct export_result res;
    char half[700], live[700], done[700], src[800], dst[800];
    char dst_manifest[800], *text;
    int lock_fd;

    snprintf(half, sizeof(half), "%s/.nvr-export-half01", f->dir);
    snprintf(live, sizeof(live), "%s/.nvr-export-live01", f->dir);
    snprintf(done, sizeof(done), "%s/.nvr-export-done01", f->dir);
    assert_int_equal(mkdir(half, 0700), 0);
    assert_int_equal(mkdir(live, 0700), 0);
    assert_int_equal(mkdir(done, 0700), 0);
    /* Killed after publishing its manifest: the very name this export
     * publishes. */
    put_file(half, "clip.manifest.json", "{}");
    put_file(half, "clip.mp4", "partial");
    put_file(half, "other.mp4.sha256", "staged");
    snprintf(src, sizeof(src), "%s/clip.manifest.json", half);
    snprintf(dst_manifest, sizeof(dst_manifest), "%s/clip.manifest.json",
             f->dir);
    assert_int_equal(link(src, dst_manifest), 0);
    put_file(f->dir, "other.mp4.sha256", "not the staged file");
    /* An export at work. */
    put_file(live, "live.mp4", "being written");
    lock_fd = open(live, O_RDONLY | O_DIRECTORY);
    assert_true(lock_fd >= 0);
    assert_int_equal(flock(lock_fd, LOCK_EX), 0);
    /* Killed after publishing everything. */
    put_file(done, "done.mp4", "complete");
    snprintf(src, sizeof(src), "%s/done.mp4", done);
    snprintf(dst, sizeof(dst), "%s/done.mp4", f->dir);
    assert_int_equal(link(src, dst), 0);

    assert_int_equal(export_run(f->cat, &req, NULL, NULL, &res), 0);
    assert_false(exists_in(f->dir, ".nvr-export-half01"));
    assert_true(exists_in(f->dir, "clip.manifest.json")); /* this export's */
    assert_true(exists_in(f->dir, "other.mp4.sha256"));
    assert_true(exists_in(f->dir, ".nvr-export-live01/live.mp4"));
    assert_false(exists_in(f->dir, ".nvr-export-done01"));
    assert_true(exists_in(f->dir, "done.mp4"));
    close(lock_fd);
    text = read_text(dst_manifest);
    assert_non_null(strstr(text, "nvr-export-manifest"));
    free(text);
}

static void test_export_many_one_manifest(void **state)
{
    struct fixture *f = *state;
    struct export_request reqs[2] = {request(f), request(f)};
    struct export_result res[2];
    char out2[700], manifest[700], *man;
    struct prog p = {0};

    snprintf(out2, sizeof(out2), "%s/second.mp4", f->dir);
    snprintf(manifest, sizeof(manifest), "%s/manifest.json", f->dir);
    reqs[1].out_path = out2;
    reqs[1].from_us = T0_US + 16000000;
    assert_int_equal(
        export_run_many(f->cat, reqs, 2, manifest, prog_cb, &p, res), 0);
    assert_true(p.calls >= 2);
    assert_int_equal(p.last, p.total);
    assert_int_equal(res[1].actual_from_us, T0_US + 16000000);
    assert_int_equal(res[1].n_gaps, 0);
    assert_int_equal(res[1].audit_id, 2);
    man = read_text(manifest);
    assert_non_null(strstr(man, "\"file\": \"clip.mp4\""));
    assert_non_null(strstr(man, "\"file\": \"second.mp4\""));
    assert_non_null(strstr(man, res[1].sha256));
    free(man);
}

/* ---- audio ---- */

struct afix {
    char *dir;
    char storage[512], catalog[600];
    struct catalog *cat;
};

/* Two 4 s segments of camera cam made by the ffmpeg command, catalogued. */
static int make_audio_camera(struct afix *f, const char *cam,
                             const char *acodec, int rate, const char *ext)
{
    int64_t cam_id;
    char dir[700];

    snprintf(dir, sizeof(dir), "%s/%s", f->storage, cam);
    if (mkdir(dir, 0750) != 0)
        return -1;
    if (catalog_camera_ensure(f->cat, cam, &cam_id) < 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        struct catalog_segment seg;
        char cmd[2048], path[1024];

        snprintf(path, sizeof(path), "%s/%s/s%d.%s", f->storage, cam, i, ext);
        snprintf(cmd, sizeof(cmd),
                 "ffmpeg -nostdin -v error -y -f lavfi -i "
                 "testsrc=size=160x120:rate=25 -f lavfi -i "
                 "sine=frequency=%d:sample_rate=%d -t 4 -c:v libx264 -g 25 "
                 "-bf 0 -c:a %s -movflags "
                 "frag_keyframe+empty_moov+default_base_moof -f %s '%s'",
                 440 + 100 * i, rate, acodec, ext, path);
        if (system(cmd) != 0)
            return -1;
        memset(&seg, 0, sizeof(seg));
        seg.camera_id = cam_id;
        seg.start_us = T0_US + (int64_t)i * 4000000;
        seg.end_us = seg.start_us + 4000000;
        snprintf(seg.path, sizeof(seg.path), "%s/s%d.%s", cam, i, ext);
        snprintf(seg.codec, sizeof(seg.codec), "h264");
        seg.width = 160;
        seg.height = 120;
        if (catalog_segment_begin(f->cat, &seg) < 0)
            return -1;
        seg.bytes = file_size(path);
        seg.frames = 100;
        if (sha256_file(path, seg.sha256) < 0 ||
            catalog_segment_finish(f->cat, &seg) < 0)
            return -1;
    }
    return 0;
}

static int setup_audio(void **state)
{
    struct afix *f = calloc(1, sizeof(*f));

    if (!f || system("ffmpeg -version >/dev/null 2>&1") != 0) {
        free(f);
        return -1;
    }
    f->dir = make_tmpdir();
    snprintf(f->storage, sizeof(f->storage), "%s/storage", f->dir);
    snprintf(f->catalog, sizeof(f->catalog), "%s/catalog.db", f->storage);
    if (mkdir(f->storage, 0750) != 0 ||
        catalog_open(f->catalog, CATALOG_READWRITE, &f->cat) < 0 ||
        make_audio_camera(f, "aac", "aac", 16000, "mp4") < 0 ||
        make_audio_camera(f, "alaw", "pcm_alaw", 8000, "mov") < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown_audio(void **state)
{
    struct afix *f = *state;

    catalog_close(f->cat);
    remove_tree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

struct streams {
    char video[16], audio[16], text[16];
    int64_t video_pkts, audio_pkts;
    double audio_first_s, audio_end_s, video_end_s;
};

static void read_streams(const char *path, struct streams *st)
{
    AVFormatContext *fmt = NULL;
    AVPacket *pkt = av_packet_alloc();

    memset(st, 0, sizeof(*st));
    st->audio_first_s = -1;
    assert_non_null(pkt);
    assert_int_equal(avformat_open_input(&fmt, path, NULL, NULL), 0);
    for (unsigned i = 0; i < fmt->nb_streams; i++) {
        const AVCodecParameters *par = fmt->streams[i]->codecpar;
        char *dst = par->codec_type == AVMEDIA_TYPE_VIDEO   ? st->video
                    : par->codec_type == AVMEDIA_TYPE_AUDIO ? st->audio
                                                            : st->text;

        snprintf(dst, 16, "%s", avcodec_get_name(par->codec_id));
    }
    while (av_read_frame(fmt, pkt) >= 0) {
        const AVStream *s = fmt->streams[pkt->stream_index];
        double t = (double)pkt->pts * av_q2d(s->time_base);
        double end = (double)(pkt->pts + pkt->duration) * av_q2d(s->time_base);

        if (s->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) {
            st->video_pkts++;
            if (end > st->video_end_s)
                st->video_end_s = end;
        } else if (s->codecpar->codec_type == AVMEDIA_TYPE_AUDIO) {
            st->audio_pkts++;
            if (st->audio_first_s < 0)
                st->audio_first_s = t;
            if (end > st->audio_end_s)
                st->audio_end_s = end;
        }
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    avformat_close_input(&fmt);
}

static struct export_request audio_request(struct afix *f, const char *cam,
                                           const char *out)
{
    return (struct export_request){
        .storage_dir = f->storage,
        .camera = cam,
        .from_us = T0_US + 1500000,
        .to_us = T0_US + 7000000,
        .out_path = out,
        .reason = "audio test",
    };
}

static void check_audio_clip(const char *path, const struct export_result *res,
                             const char *acodec)
{
    struct streams st;
    char sha[65];

    read_streams(path, &st);
    assert_string_equal(st.video, "h264");
    assert_string_equal(st.audio, acodec);
    assert_string_equal(st.text, "mov_text");
    /* From the keyframe about 1 s in (ffmpeg shifts the video of its
     * AAC files by the encoder delay, 64 ms) to 7 s: six seconds of
     * 25 fps. */
    assert_true(res->actual_from_us >= T0_US + 1000000 &&
                res->actual_from_us <= T0_US + 1100000);
    assert_int_equal(st.video_pkts, res->frames);
    assert_true(res->frames >= 146 && res->frames <= 150);
    assert_int_equal(st.audio_pkts, res->audio_frames);
    /* Audio covers the clip across the segment seam, in sync. */
    assert_true(st.audio_first_s >= 0 && st.audio_first_s < 0.1);
    assert_true(st.audio_end_s > st.video_end_s - 0.2 &&
                st.audio_end_s < st.video_end_s + 0.2);
    assert_int_equal(sha256_file(path, sha), 0);
    assert_string_equal(sha, res->sha256);
}

static void test_export_audio_aac_mp4(void **state)
{
    struct afix *f = *state;
    char out[700], man[800];
    struct export_request req;
    struct export_result res;
    struct export_probe pr;
    char *text;

    snprintf(out, sizeof(out), "%s/aac.mp4", f->dir);
    req = audio_request(f, "aac", out);
    assert_int_equal(export_probe(f->cat, &req, &pr), 0);
    assert_string_equal(pr.extension, ".mp4");
    assert_int_equal(pr.n_audio, 1);
    assert_string_equal(pr.audio_codec[0], "aac");
    assert_string_equal(pr.not_mp4_codec, "");
    assert_int_equal(export_run(f->cat, &req, NULL, NULL, &res), 0);
    check_audio_clip(out, &res, "aac");
    assert_int_equal(export_manifest_path(out, man, sizeof(man)), 0);
    text = read_text(man);
    assert_non_null(strstr(text, "\"container\": \"mp4\""));
    assert_non_null(strstr(text, "\"codec\": \"aac\""));
    assert_non_null(strstr(text, "\"sample_rate\": 16000"));
    free(text);
}

static void test_export_alaw_needs_mov(void **state)
{
    struct afix *f = *state;
    char out[700], side[720];
    struct export_request req;
    struct export_result res;
    struct export_probe pr;

    snprintf(out, sizeof(out), "%s/alaw.mp4", f->dir);
    req = audio_request(f, "alaw", out);
    assert_int_equal(export_probe(f->cat, &req, &pr), 0);
    assert_string_equal(pr.extension, ".mov");
    assert_string_equal(pr.not_mp4_codec, "pcm_alaw");
    assert_int_equal(export_run(f->cat, &req, NULL, NULL, &res), -EMEDIUMTYPE);
    assert_int_equal(access(out, F_OK), -1);
    snprintf(side, sizeof(side), "%s.sha256", out);
    assert_int_equal(access(side, F_OK), -1);

    snprintf(out, sizeof(out), "%s/alaw.mov", f->dir);
    req = audio_request(f, "alaw", out);
    assert_int_equal(export_run(f->cat, &req, NULL, NULL, &res), 0);
    check_audio_clip(out, &res, "pcm_alaw");

    /* Neither .mp4 nor .mov. */
    snprintf(out, sizeof(out), "%s/other.mkv", f->dir);
    req = audio_request(f, "alaw", out);
    assert_int_equal(export_run(f->cat, &req, NULL, NULL, &res), -EINVAL);
}

/* The clip's path from a folder or a file name (export_output_path). */
static void test_export_output_path(void **state)
{
    struct fixture *f = *state;
    struct export_request req = request(f);
    struct export_probe pr;
    char path[700], want[700], named[700];

    snprintf(want, sizeof(want), "%s/gate-20260101-000003.mp4", f->dir);
    assert_int_equal(export_output_path(f->cat, &req, f->dir, EXPORT_OUT_FOLDER,
                                        "-20260101-000003", path, sizeof(path),
                                        &pr),
                     0);
    assert_string_equal(path, want);
    assert_string_equal(pr.video_codec, "h264");
    /* An existing folder is a folder without the flag. */
    snprintf(want, sizeof(want), "%s/gate.mp4", f->dir);
    assert_int_equal(export_output_path(f->cat, &req, f->dir, 0, NULL, path,
                                        sizeof(path), NULL),
                     0);
    assert_string_equal(path, want);
    /* A file name is kept as it is, if it says .mp4 or .mov. */
    snprintf(named, sizeof(named), "%s/incident.MOV", f->dir);
    assert_int_equal(export_output_path(f->cat, &req, named, 0, NULL, path,
                                        sizeof(path), NULL),
                     0);
    assert_string_equal(path, named);
    snprintf(named, sizeof(named), "%s/incident.mkv", f->dir);
    assert_int_equal(export_output_path(f->cat, &req, named, 0, NULL, path,
                                        sizeof(path), NULL),
                     -EINVAL);
    snprintf(named, sizeof(named), "%s/.mp4", f->dir);
    assert_int_equal(export_output_path(f->cat, &req, named, 0, NULL, path,
                                        sizeof(path), NULL),
                     -EINVAL);
    assert_int_equal(export_output_path(f->cat, &req, f->dir, EXPORT_OUT_FOLDER,
                                        NULL, path, 8, NULL),
                     -ENAMETOOLONG);
    req.camera = "nosuch";
    assert_int_equal(export_output_path(f->cat, &req, f->dir, EXPORT_OUT_FOLDER,
                                        NULL, path, sizeof(path), NULL),
                     -ENOENT);
}

/* G.711 audio: a folder gets .mov, a name ending .mp4 is refused. */
static void test_export_output_path_alaw(void **state)
{
    struct afix *f = *state;
    struct export_request req = audio_request(f, "alaw", NULL);
    struct export_probe pr;
    char path[700], want[700], named[700];

    snprintf(want, sizeof(want), "%s/alaw.mov", f->dir);
    assert_int_equal(export_output_path(f->cat, &req, f->dir, EXPORT_OUT_FOLDER,
                                        "", path, sizeof(path), NULL),
                     0);
    assert_string_equal(path, want);
    snprintf(named, sizeof(named), "%s/door.mp4", f->dir);
    assert_int_equal(export_output_path(f->cat, &req, named, 0, NULL, path,
                                        sizeof(path), &pr),
                     -EMEDIUMTYPE);
    assert_string_equal(pr.not_mp4_codec, "pcm_alaw");
    snprintf(named, sizeof(named), "%s/door.mov", f->dir);
    assert_int_equal(export_output_path(f->cat, &req, named, 0, NULL, path,
                                        sizeof(path), NULL),
                     0);
    assert_string_equal(path, named);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_export_range_with_gap, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_export_unknown_camera, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_export_refuses_altered_source,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_many_one_manifest, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_export_cleans_leftovers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_export_audio_aac_mp4, setup_audio,
                                        teardown_audio),
        cmocka_unit_test_setup_teardown(test_export_alaw_needs_mov, setup_audio,
                                        teardown_audio),
        cmocka_unit_test_setup_teardown(test_export_open_segment, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_export_output_path, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_export_output_path_alaw,
                                        setup_audio, teardown_audio),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
