/* SPDX-License-Identifier: MIT */
/*
 * Benchmark of evidential export: how long `export_run` takes for an hour
 * of one 4 Mbit/s camera. The footage is made without waiting an hour:
 * the committed test clip (tests/data/clip_160x120_25fps.h264, demuxed
 * into access units by libavformat) is fed through the real segment
 * writer (storage/writer.c, 60 s fragmented MP4 segments, catalog rows,
 * SHA-256) with synthetic 25 fps timestamps, each access unit padded with
 * an H.264 filler NAL unit (type 12, ignored by decoders) to reach the
 * bitrate. Then the whole range is exported (remux, faststart, hashing of
 * every source and of the clip, manifest, audit entry) and timed.
 *
 * usage: bench_export [SECONDS [MBIT_PER_S [FOOTAGE_DIR [cold]]]]
 *        (default 3600 4). With FOOTAGE_DIR the footage is kept there and
 *        reused by the next run with the same folder (so the export can be
 *        timed again without recording an hour); "cold" drops the page
 *        cache before exporting (needs root), so the sources come from the
 *        disk; otherwise they are still in memory from being written.
 * Prints figures; asserts nothing about them.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libavformat/avformat.h>

#include "nvr/base/au.h"
#include "nvr/base/log.h"
#include "storage/catalog.h"
#include "storage/export.h"
#include "storage/writer.h"

#define BENCH_FPS        25
#define BENCH_MAX_AUS    256
#define BENCH_QUEUE_HIGH ((size_t)32 * 1024 * 1024)

struct unit {
    uint8_t *data;
    size_t len;
    int key;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rm_cb(const char *p, const struct stat *sb, int flag,
                 struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

/* Writes back dirty pages and empties the page cache. */
static int drop_caches(void)
{
    int fd;
    ssize_t n;

    sync();
    fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    n = write(fd, "3\n", 2);
    close(fd);
    return n == 2 ? 0 : -EIO;
}

/* Copies the SPS and PPS NAL units of an Annex B access unit. */
static void find_params(const uint8_t *d, size_t n, struct nvr_track_info *t)
{
    for (size_t i = 0; i + 4 < n; i++) {
        size_t j;
        int type;

        if (!(d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 0 && d[i + 3] == 1))
            continue;
        type = d[i + 4] & 0x1f;
        for (j = i + 4; j + 3 < n; j++) {
            if (d[j] == 0 && d[j + 1] == 0 &&
                (d[j + 2] == 1 || (d[j + 2] == 0 && d[j + 3] == 1)))
                break;
        }
        if (j + 3 >= n)
            j = n;
        if ((type == 7 || type == 8) &&
            t->params_len + (j - i) <= sizeof(t->params)) {
            memcpy(t->params + t->params_len, d + i, j - i);
            t->params_len += j - i;
        }
    }
}

static int load_clip(const char *path, struct unit *u, int *n,
                     struct nvr_track_info *t)
{
    AVFormatContext *fmt = NULL;
    AVPacket *pkt = av_packet_alloc();
    int err;

    err = avformat_open_input(&fmt, path, av_find_input_format("h264"), NULL);
    if (err < 0 || !pkt)
        return err < 0 ? err : -ENOMEM;
    if (avformat_find_stream_info(fmt, NULL) < 0) {
        avformat_close_input(&fmt);
        av_packet_free(&pkt);
        return -EBADMSG;
    }
    t->codec = NVR_CODEC_H264;
    t->clock_rate = 90000;
    t->width = fmt->streams[0]->codecpar->width;
    t->height = fmt->streams[0]->codecpar->height;
    t->params_gen = 1;
    *n = 0;
    while (*n < BENCH_MAX_AUS && av_read_frame(fmt, pkt) >= 0) {
        u[*n].data = malloc((size_t)pkt->size);
        if (!u[*n].data)
            return -ENOMEM;
        memcpy(u[*n].data, pkt->data, (size_t)pkt->size);
        u[*n].len = (size_t)pkt->size;
        u[*n].key = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
        if (u[*n].key && t->params_len == 0)
            find_params(pkt->data, (size_t)pkt->size, t);
        (*n)++;
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    avformat_close_input(&fmt);
    return *n > 0 && t->params_len > 0 ? 0 : -EBADMSG;
}

int main(int argc, char **argv)
{
    int seconds = argc > 1 ? atoi(argv[1]) : 3600;
    double mbps = argc > 2 ? atof(argv[2]) : 4.0;
    const char *keep = argc > 3 ? argv[3] : NULL;
    bool cold = argc > 4 && strcmp(argv[4], "cold") == 0;
    const char *datadir = getenv("NVR_TESTDATA_DIR");
    char clip_path[1024], dir[256] = "/tmp/nvr-bench-export-XXXXXX";
    char storage[300], catalog_path[320], out[300], path[400];
    struct stat sb;
    bool reuse = false;
    static struct unit units[BENCH_MAX_AUS];
    struct nvr_stream_info info;
    struct writer_config wc;
    struct writer *w = NULL;
    struct catalog *cat = NULL;
    struct export_request req;
    struct export_result res;
    int n_units = 0, err, frames;
    size_t frame_bytes = (size_t)(mbps * 1e6 / 8 / BENCH_FPS);
    int64_t t0_us = 1767225600000000LL; /* 2026-01-01T00:00:00Z */
    double t_gen, t_exp;

    nvr_log_set_level(NVR_LOG_WARN);
    av_log_set_level(AV_LOG_WARNING);
    if (seconds < 2 || mbps <= 0) {
        fprintf(stderr, "usage: bench_export [SECONDS [MBIT_PER_S]]\n");
        return 2;
    }
    snprintf(clip_path, sizeof(clip_path), "%s/clip_160x120_25fps.h264",
             datadir ? datadir : "tests/data");
    memset(&info, 0, sizeof(info));
    info.n_tracks = 1;
    if (load_clip(clip_path, units, &n_units, &info.tracks[0]) < 0) {
        fprintf(stderr, "bench_export: cannot read %s\n", clip_path);
        return 1;
    }
    if (keep) {
        snprintf(dir, sizeof(dir), "%s", keep);
        if (mkdir(dir, 0750) != 0 && errno != EEXIST)
            return 1;
    } else if (!mkdtemp(dir)) {
        return 1;
    }
    snprintf(storage, sizeof(storage), "%s/storage", dir);
    snprintf(catalog_path, sizeof(catalog_path), "%s/catalog.db", storage);
    snprintf(out, sizeof(out), "%s/hour.mp4", dir);
    /* A previous run's clip and sidecars. */
    unlink(out);
    snprintf(path, sizeof(path), "%s.sha256", out);
    unlink(path);
    snprintf(path, sizeof(path), "%s/hour.manifest.json", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/done", dir);
    reuse = keep && stat(path, &sb) == 0;

    memset(&wc, 0, sizeof(wc));
    wc.storage_dir = storage;
    wc.catalog_path = catalog_path;
    wc.camera = "bench";
    wc.segment_seconds = 60;
    mkdir(storage, 0750);
    {
        struct catalog *c0 = NULL;

        if (catalog_open(catalog_path, CATALOG_READWRITE, &c0) < 0)
            return 1;
        catalog_close(c0);
    }
    t_gen = now_s();
    if (reuse)
        goto export;
    if (writer_new(&wc, &w) < 0 || writer_push_stream(w, &info) < 0)
        return 1;
    frames = seconds * BENCH_FPS;
    for (int i = 0; i < frames; i++) {
        const struct unit *u = &units[i % n_units];
        size_t pad = frame_bytes > u->len + 6 ? frame_bytes - u->len - 6 : 0;
        struct nvr_au *au = NULL;
        struct writer_stats st;

        if (nvr_au_new(u->len + pad + 6, &au) < 0)
            return 1;
        memcpy(au->data, u->data, u->len);
        /* Filler data NAL unit: start code, type 12, 0xff..., trailing
         * bits. */
        au->data[u->len] = 0;
        au->data[u->len + 1] = 0;
        au->data[u->len + 2] = 0;
        au->data[u->len + 3] = 1;
        au->data[u->len + 4] = 12;
        memset(au->data + u->len + 5, 0xff, pad);
        au->data[u->len + 5 + pad] = 0x80;
        au->len = u->len + pad + 6;
        au->flags = u->key ? NVR_AU_KEY : 0;
        au->pts = (int64_t)i * (90000 / BENCH_FPS);
        au->dts = au->pts;
        au->wall_us = t0_us + (int64_t)i * (1000000 / BENCH_FPS);
        au->params_gen = 1;
        for (;;) {
            writer_get_stats(w, &st);
            if (st.queued_bytes < BENCH_QUEUE_HIGH)
                break;
            usleep(1000);
        }
        (void)writer_push_au(w, au);
    }
    writer_free(w);
    if (keep) {
        FILE *f = fopen(path, "w");

        if (f)
            fclose(f);
    }
    export : t_gen = now_s() - t_gen;
    if (cold && drop_caches() < 0) {
        fprintf(stderr, "bench_export: cannot drop the page cache\n");
        return 1;
    }

    if (catalog_open(catalog_path, CATALOG_READWRITE, &cat) < 0)
        return 1;
    memset(&req, 0, sizeof(req));
    req.storage_dir = storage;
    req.camera = "bench";
    req.from_us = t0_us;
    req.to_us = t0_us + (int64_t)seconds * 1000000;
    req.out_path = out;
    req.reason = "benchmark";
    t_exp = now_s();
    err = export_run(cat, &req, NULL, NULL, &res);
    t_exp = now_s() - t_exp;
    catalog_close(cat);
    if (err < 0) {
        fprintf(stderr, "bench_export: export failed: %d\n", err);
        return 1;
    }
    printf("footage: %d s of one %.1f Mbit/s camera, %d frames, %d segments "
           "(%s in %.1f s by the real writer)\n",
           seconds, mbps, seconds * BENCH_FPS, res.n_segments,
           reuse ? "reused, made earlier" : "made", reuse ? 0.0 : t_gen);
    printf("export (%s page cache): %.2f s for %.1f MB (%.0f MB/s), %lld "
           "frames, %d gaps, "
           "sha256 %.16s...\n",
           cold ? "cold" : "warm", t_exp, (double)res.bytes / 1e6,
           (double)res.bytes / 1e6 / t_exp, (long long)res.frames, res.n_gaps,
           res.sha256);
    if (!keep)
        nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    for (int i = 0; i < n_units; i++)
        free(units[i].data);
    return 0;
}
