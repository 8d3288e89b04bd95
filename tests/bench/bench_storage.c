/* SPDX-License-Identifier: MIT */
/*
 * Storage benchmark: builds a synthetic catalog of N segments with the
 * real catalog API (and one empty file per segment, laid out as the writer
 * lays them out), then reports how long start-up recovery and one
 * retention pass take, and how long ingest is stalled during the pass: a
 * real segment writer is fed 25 frames a second by a thread standing in
 * for the loop, and the figures are the longest time a push blocked, the
 * writer's worst lag behind the pushes, and the units dropped.
 *
 *   bench_storage [--segments N] [--cameras C] [--keep-days D]
 *   bench_storage --make DIR [--segments N] [--cameras C]
 *                 [--end-days-ago D]      (catalog and files only)
 *
 * Segments are 60 s long and end now; each camera gets N/C of them, so
 * with the defaults (1,000,000 over 10 cameras: 69 days each) a 68-day
 * retention deletes about one day per camera, what a daily pass does.
 * Prints figures; asserts nothing about them.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../unit/storage/clip.h"
#include "nvr/base/clock.h"
#include "nvr/base/err.h"
#include "nvr/base/log.h"
#include "storage/catalog.h"
#include "storage/catalog_int.h"
#include "storage/fsops.h"
#include "storage/recovery.h"
#include "storage/retention.h"
#include "storage/writer.h"

#define SEG_US   (60LL * 1000000LL)
#define DAY_US   (86400LL * 1000000LL)
#define TXN_ROWS 20000

static double now_s(void)
{
    return (double)nvr_clock_mono_us() / 1e6;
}

static void die(const char *what, int err)
{
    fprintf(stderr, "bench_storage: %s: %s\n", what, nvr_strerror(err));
    exit(1);
}

/* N segments over C cameras ending at now_us, with empty files. */
static void make_catalog(const char *dir, long n, int cams, int64_t now_us)
{
    char db[1024], path[1400], last_dir[1400] = "";
    struct catalog *cat;
    long per = n / cams;
    int err;

    snprintf(db, sizeof(db), "%s/catalog.db", dir);
    err = catalog_open(db, CATALOG_READWRITE, &cat);
    if (err < 0)
        die("catalog", err);
    for (int c = 0; c < cams; c++) {
        char name[32];
        int64_t cam_id;

        snprintf(name, sizeof(name), "cam%02d", c);
        err = catalog_camera_ensure(cat, name, &cam_id);
        if (err < 0)
            die("camera", err);
        for (long i = 0; i < per; i++) {
            struct catalog_segment s;
            int64_t start = now_us - (per - i) * SEG_US;
            time_t t = (time_t)(start / 1000000);
            struct tm tm;
            char *slash;
            int fd;

            if (i % TXN_ROWS == 0)
                sqlite3_exec(catalog__db(cat), "BEGIN", NULL, NULL, NULL);
            gmtime_r(&t, &tm);
            memset(&s, 0, sizeof(s));
            s.camera_id = cam_id;
            s.start_us = start;
            s.end_us = start + SEG_US;
            s.bytes = 0;
            s.frames = 1500;
            snprintf(s.codec, sizeof(s.codec), "h264");
            snprintf(s.path, sizeof(s.path),
                     "%s/%04d-%02d-%02d/%s-%04d%02d%02dT%02d%02d%02d.000000Z"
                     ".mp4",
                     name, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, name,
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
            snprintf(path, sizeof(path), "%s/%s", dir, s.path);
            slash = strrchr(path, '/');
            *slash = '\0';
            if (strcmp(path, last_dir) != 0) {
                err = fsops_mkdir_p(path, 0750);
                if (err < 0)
                    die("mkdir", err);
                snprintf(last_dir, sizeof(last_dir), "%s", path);
            }
            *slash = '/';
            fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0640);
            if (fd < 0)
                die(path, -errno);
            close(fd);
            err = catalog_segment_begin(cat, &s);
            if (err == 0) {
                snprintf(s.sha256, sizeof(s.sha256),
                         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495"
                         "991b7852b855");
                err = catalog_segment_finish(cat, &s);
            }
            if (err < 0)
                die("segment", err);
            if (i % TXN_ROWS == TXN_ROWS - 1 || i == per - 1)
                sqlite3_exec(catalog__db(cat), "COMMIT", NULL, NULL, NULL);
        }
    }
    catalog_close(cat);
}

/* ---- the ingest stand-in ---- */

struct feeder {
    struct writer *w;
    struct clip clip;
    atomic_int stop;
    int64_t max_push_us; /* longest writer_push_au() call */
    int64_t max_lag_us;  /* worst (pushed - written) wall time */
    uint64_t pushed;
};

static void *feeder_main(void *arg)
{
    struct feeder *f = arg;
    struct nvr_stream_info info;
    int64_t t0 = nvr_clock_wall_us();

    memset(&info, 0, sizeof(info));
    info.n_tracks = 1;
    info.tracks[0] = f->clip.track;
    if (writer_push_stream(f->w, &info) < 0)
        return NULL;
    for (int i = 0; !atomic_load(&f->stop); i++) {
        int64_t wall = t0 + (int64_t)i * CLIP_US;
        struct nvr_au *au =
            clip_au(&f->clip, i, (int64_t)i * CLIP_TICKS, wall, 0);
        int64_t a = nvr_clock_mono_us(), b;
        struct writer_stats st;
        struct timespec ts = {0, CLIP_US * 1000L};

        (void)writer_push_au(f->w, au);
        b = nvr_clock_mono_us();
        f->max_push_us = NVR_MAX(f->max_push_us, b - a);
        f->pushed++;
        writer_get_stats(f->w, &st);
        if (st.last_wall_us > 0)
            f->max_lag_us = NVR_MAX(f->max_lag_us, wall - st.last_wall_us);
        nanosleep(&ts, NULL);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long n = 1000000;
    int cams = 10, keep_days = -1;
    const char *make_dir = NULL;
    int64_t now_us = nvr_clock_wall_us();
    struct recovery_report rrep;
    struct retention_report rep;
    struct retention_config rc;
    struct retention_camera *rcams;
    struct feeder fd;
    pthread_t th;
    char *dir, db[1024];
    double t;
    int err;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--segments") == 0 && i + 1 < argc)
            n = atol(argv[++i]);
        else if (strcmp(argv[i], "--cameras") == 0 && i + 1 < argc)
            cams = atoi(argv[++i]);
        else if (strcmp(argv[i], "--keep-days") == 0 && i + 1 < argc)
            keep_days = atoi(argv[++i]);
        else if (strcmp(argv[i], "--make") == 0 && i + 1 < argc)
            make_dir = argv[++i];
        else if (strcmp(argv[i], "--end-days-ago") == 0 && i + 1 < argc)
            now_us -= atol(argv[++i]) * DAY_US;
        else {
            fprintf(stderr, "usage: bench_storage [--segments N] [--cameras C] "
                            "[--keep-days D] [--make DIR]\n");
            return 2;
        }
    }
    if (n < cams || cams < 1 || cams > 99) {
        fprintf(stderr, "bench_storage: need 1..99 cameras, N >= cameras\n");
        return 2;
    }
    nvr_log_set_level(NVR_LOG_WARN);
    if (make_dir) {
        make_catalog(make_dir, n, cams, now_us);
        return 0;
    }
    /* Default: a retention that deletes about one day per camera. */
    if (keep_days < 0)
        keep_days = (int)NVR_MAX(1, (n / cams) * SEG_US / DAY_US - 1);

    dir = make_tmpdir();
    snprintf(db, sizeof(db), "%s/catalog.db", dir);
    printf("bench_storage: %ld segments, %d cameras, %ld per camera "
           "(%.1f days of 60 s segments)\n",
           n, cams, n / cams, (double)(n / cams) * SEG_US / DAY_US);
    t = now_s();
    make_catalog(dir, n, cams, now_us);
    printf("  build catalog + files:   %8.2f s\n", now_s() - t);

    t = now_s();
    err = recovery_run(dir, db, &rrep);
    if (err < 0)
        die("recovery", err);
    printf("  recovery:                %8.2f s  (%d date dirs counted, %d "
           "compared, %d indexed, %d missing)\n",
           now_s() - t, rrep.dirs_counted, rrep.dirs_compared, rrep.indexed,
           rrep.missing);

    /* A writer records while the pass runs. */
    memset(&fd, 0, sizeof(fd));
    clip_load(&fd.clip);
    {
        struct writer_config wc = {.storage_dir = dir,
                                   .catalog_path = db,
                                   .camera = "live",
                                   .segment_seconds = 2};
        err = writer_new(&wc, &fd.w);
        if (err < 0)
            die("writer", err);
    }
    atomic_init(&fd.stop, 0);
    pthread_create(&th, NULL, feeder_main, &fd);
    sleep(2); /* steady state first */

    rcams = calloc((size_t)cams, sizeof(*rcams));
    char(*names)[32] = calloc((size_t)cams, sizeof(*names));
    for (int c = 0; c < cams; c++) {
        snprintf(names[c], sizeof(names[c]), "cam%02d", c);
        rcams[c].name = names[c];
        rcams[c].retain_days = keep_days;
    }
    memset(&rc, 0, sizeof(rc));
    rc.storage_dir = dir;
    rc.catalog_path = db;
    rc.cameras = rcams;
    rc.n_cameras = cams;
    rc.default_retain_days = 0;
    rc.now_us = now_us;
    fd.max_push_us = 0;
    fd.max_lag_us = 0;
    t = now_s();
    err = retention_run(&rc, &rep);
    if (err < 0)
        die("retention", err);
    double pass = now_s() - t;
    int64_t push = fd.max_push_us, lag = fd.max_lag_us;
    sleep(1);
    atomic_store(&fd.stop, 1);
    pthread_join(th, NULL);
    struct writer_stats st;
    writer_get_stats(fd.w, &st);
    writer_free(fd.w);
    printf("  retention pass (%d days): %7.2f s  (%" PRId64 " segments "
           "deleted, %.0f/s)\n",
           keep_days, pass, rep.deleted,
           pass > 0 ? (double)rep.deleted / pass : 0.0);
    printf("  ingest during the pass:  longest push %.3f ms, worst writer "
           "lag %.1f ms (one frame is 40 ms), %" PRIu64 " units dropped of "
           "%" PRIu64 "\n",
           (double)push / 1000.0, (double)lag / 1000.0, st.aus_dropped,
           fd.pushed);

    t = now_s();
    err = recovery_run(dir, db, &rrep);
    if (err < 0)
        die("recovery", err);
    printf("  recovery after the pass: %8.2f s\n", now_s() - t);
    clip_free(&fd.clip);
    free(rcams);
    free(names);
    remove_tree(dir);
    free(dir);
    return 0;
}
