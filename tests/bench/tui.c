/* SPDX-License-Identifier: MIT */
/*
 * Benchmark of the terminal UI (issue 6). Prints:
 *  - seek-to-first-frame latency of the playback engine (median, p90) on
 *    segments made by ffmpeg (lavfi testsrc2 + libx264, fragmented MP4 as
 *    the recorder writes them), 1080p25 by default;
 *  - the time to load and draw the timelines of 30 days for 16 cameras
 *    (60 s segments with a gap every hour) from a real SQLite catalog, as
 *    the TUI does it (the catalog's recording runs, schema v4), and for
 *    comparison from every segment row (as before v4);
 *  - CPU use of 1x playback in symbols mode (decode, scale, chafa, ncurses
 *    output to /dev/null), as a percentage of one core.
 *
 * usage: bench_tui [--size WxH] [--seconds N] [--seeks N] [--days N]
 *                  [--cameras N] [--play N]
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <curses.h>
#include <sqlite3.h>

#include "nvr/base/clock.h"
#include "storage/catalog.h"
#include "ui-tui/playback.h"
#include "ui-tui/render.h"
#include "ui-tui/timeline.h"

#define BASE_US  INT64_C(1780000000000000)
#define MAX_RUNS 10000

struct opts {
    int w, h, seconds, seeks, days, cameras, play;
};

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

static int run(const char *cmd)
{
    int r = system(cmd);

    if (r != 0)
        fprintf(stderr, "bench_tui: '%s' failed (%d)\n", cmd, r);
    return r;
}

/* Two consecutive segments of `seconds` each, made by ffmpeg. */
static int make_segments(const struct opts *o, const char *dir,
                         struct catalog *cat, int64_t *cam)
{
    char cmd[2048];
    struct catalog_segment seg;

    snprintf(cmd, sizeof(cmd),
             "mkdir -p %s/cam && ffmpeg -v error -y -f lavfi "
             "-i testsrc2=size=%dx%d:rate=25 -t %d -c:v libx264 -preset "
             "ultrafast -tune zerolatency -g 50 -bf 0 -pix_fmt yuv420p "
             "-movflags frag_keyframe+empty_moov+default_base_moof "
             "%s/cam/a.mp4 && cp %s/cam/a.mp4 %s/cam/b.mp4",
             dir, o->w, o->h, o->seconds, dir, dir, dir);
    if (run(cmd) != 0)
        return -EIO;
    if (catalog_camera_ensure(cat, "bench", cam) != 0)
        return -EIO;
    for (int i = 0; i < 2; i++) {
        memset(&seg, 0, sizeof(seg));
        seg.camera_id = *cam;
        seg.start_us = BASE_US + (int64_t)i * o->seconds * 1000000;
        seg.end_us = seg.start_us + (int64_t)o->seconds * 1000000;
        seg.width = o->w;
        seg.height = o->h;
        snprintf(seg.codec, sizeof(seg.codec), "h264");
        snprintf(seg.path, sizeof(seg.path), "cam/%c.mp4", 'a' + i);
        snprintf(seg.sha256, sizeof(seg.sha256), "%064d", 0);
        if (catalog_segment_begin(cat, &seg) != 0 ||
            catalog_segment_finish(cat, &seg) != 0)
            return -EIO;
    }
    return 0;
}

static void bench_seek(const struct opts *o, struct catalog *cat,
                       const char *dir, int64_t cam)
{
    struct playback *pb;
    int64_t *lat = calloc((size_t)o->seeks, sizeof(*lat));
    int64_t span = 2LL * o->seconds * 1000000;
    const uint8_t *px;
    int stride, bad = 0;

    if (!lat || playback_new(cat, dir, cam, &pb) != 0)
        exit(1);
    srand(1);
    for (int i = 0; i < o->seeks; i++) {
        int64_t t =
            BASE_US + (int64_t)((double)rand() / RAND_MAX * (double)(span - 1));
        int64_t t0 = nvr_clock_mono_us();

        if (playback_seek(pb, t) != 0 ||
            playback_frame_rgba(pb, 424, 128, &px, &stride) != 0)
            bad++;
        lat[i] = nvr_clock_mono_us() - t0;
        if (llabs(playback_frame_time(pb) - t) > 40000)
            bad++;
    }
    qsort(lat, (size_t)o->seeks, sizeof(*lat), cmp64);
    printf("seek to first frame (%dx%d, GOP 2 s, %d seeks): median %.1f ms, "
           "p90 %.1f ms, max %.1f ms%s\n",
           o->w, o->h, o->seeks, (double)lat[o->seeks / 2] / 1000,
           (double)lat[o->seeks * 9 / 10] / 1000,
           (double)lat[o->seeks - 1] / 1000, bad ? " (SOME SEEKS FAILED)" : "");
    playback_free(pb);
    free(lat);
}

/*
 * 60 s segments for `days` days per camera, with a 20 s gap every hour,
 * inserted in one transaction with one INSERT per camera: the catalog's
 * triggers build the recording runs row by row as the recorder's inserts
 * would, and a multi-row statement spares the per-statement journal of
 * 691,200 single-row ones.
 */
static int fill_catalog(const struct opts *o, const char *db)
{
    sqlite3 *s;
    sqlite3_stmt *st;
    int64_t per_day = 1440;
    int r = -EIO;

    if (sqlite3_open(db, &s) != SQLITE_OK)
        return -EIO;
    sqlite3_exec(s, "BEGIN", NULL, NULL, NULL);
    for (int c = 0; c < o->cameras; c++) {
        char name[32], sql[256];

        snprintf(name, sizeof(name), "tl%02d", c);
        snprintf(sql, sizeof(sql),
                 "INSERT INTO cameras(name, created_us) VALUES('%s', 0)", name);
        sqlite3_exec(s, sql, NULL, NULL, NULL);
    }
    if (sqlite3_prepare_v2(
            s,
            "WITH RECURSIVE i(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i"
            " WHERE n + 1 < ?2)"
            " INSERT INTO segments(camera_id, start_us, end_us, path, bytes,"
            " frames, codec, width, height, sha256, status)"
            " SELECT c.id, ?3 + n * 60000000, ?3 + n * 60000000 +"
            " CASE WHEN n % 60 = 59 THEN 40000000 ELSE 60000000 END,"
            " ?1 || '/' || n || '.mp4', 1, 1, 'h264', 1920, 1080, '', 1"
            " FROM cameras c, i WHERE c.name = ?1 ORDER BY n",
            -1, &st, NULL) != SQLITE_OK)
        goto out;
    for (int c = 0; c < o->cameras; c++) {
        char name[32];

        snprintf(name, sizeof(name), "tl%02d", c);
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, per_day * o->days);
        sqlite3_bind_int64(st, 3, BASE_US);
        if (sqlite3_step(st) != SQLITE_DONE)
            goto out_fin;
        sqlite3_reset(st);
    }
    r = 0;
out_fin:
    sqlite3_finalize(st);
out:
    sqlite3_exec(s, r == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(s);
    return r;
}

static struct tl_spans spans;

static int span_cb(void *user, const struct catalog_segment *seg)
{
    (void)user;
    return tl_spans_add(&spans, seg->start_us, seg->end_us,
                        PLAYBACK_GAP_MIN_US) < 0;
}

static int run_cb(void *user, const struct catalog_run *run)
{
    (void)user;
    return tl_spans_add(&spans, run->start_us, run->end_us,
                        PLAYBACK_GAP_MIN_US) < 0;
}

/*
 * Loads the spans of every camera over the whole range (from its runs, or
 * from its segment rows when `rows` is set), computes 160 timeline cells
 * each and draws them. Returns the best of `reps` timings in us; *n_spans
 * is the number of spans of all cameras.
 */
static int64_t time_timeline(const struct opts *o, struct catalog *cat,
                             int rows, int reps, size_t *n_spans)
{
    int64_t from = BASE_US, to = BASE_US + o->days * 86400000000LL;
    uint8_t cells[160];
    int64_t t0, best = INT64_MAX;

    for (int rep = 0; rep < reps; rep++) {
        *n_spans = 0;
        t0 = nvr_clock_mono_us();
        for (int c = 0; c < o->cameras; c++) {
            char name[32];
            int64_t id;
            int r;

            snprintf(name, sizeof(name), "tl%02d", c);
            tl_spans_clear(&spans);
            if (catalog_camera_find(cat, name, &id) != 0)
                exit(1);
            r = rows ? catalog_segment_list(cat, id, from, to,
                                            1u << CATALOG_SEG_CLOSED, span_cb,
                                            NULL)
                     : catalog_run_list(cat, id, from, to, run_cb, NULL);
            if (r != 0)
                exit(1);
            *n_spans += spans.n;
            timeline_cells(&spans, NULL, from, to, to, cells, 160);
            for (int x = 0; x < 160; x++)
                mvaddch(c % LINES, x % COLS, cells[x] == TL_FULL ? '#' : '.');
        }
        refresh();
        t0 = nvr_clock_mono_us() - t0;
        if (t0 < best)
            best = t0;
    }
    return best;
}

static void bench_timeline(const struct opts *o, const char *dir,
                           struct catalog *cat)
{
    char db[1100];
    int64_t t_fill, t_runs, t_rows;
    size_t n_runs, n_rows;

    snprintf(db, sizeof(db), "%s/catalog.db", dir);
    t_fill = nvr_clock_mono_us();
    if (fill_catalog(o, db) != 0) {
        fprintf(stderr, "bench_tui: cannot fill the catalog\n");
        exit(1);
    }
    t_fill = nvr_clock_mono_us() - t_fill;
    tl_spans_init(&spans);
    t_runs = time_timeline(o, cat, 0, 5, &n_runs);
    t_rows = time_timeline(o, cat, 1, 3, &n_rows);
    printf("timeline: %d cameras x %d days = %lld segments "
           "(catalog filled in %.1f s), %zu spans\n",
           o->cameras, o->days, (long long)o->cameras * o->days * 1440,
           (double)t_fill / 1e6, n_runs);
    if (n_runs != n_rows)
        printf("timeline: SPANS DIFFER: %zu from runs, %zu from rows\n", n_runs,
               n_rows);
    printf("timeline of %d days for %d cameras (catalog query + cells + "
           "draw): %.1f ms (best of 5)\n",
           o->days, o->cameras, (double)t_runs / 1000);
    printf("  the same from every segment row instead of the runs: %.1f ms "
           "(best of 3)\n",
           (double)t_rows / 1000);
    tl_spans_fini(&spans);
}

static void bench_play(const struct opts *o, struct catalog *cat,
                       const char *dir, int64_t cam)
{
    struct playback *pb;
    struct render *r;
    struct rusage ru0, ru1;
    int64_t wall0, frames = 0, late = 0;
    int rows, cols, fw = o->w, fh = o->h;
    const uint8_t *px;
    int stride;

    if (playback_new(cat, dir, cam, &pb) != 0 ||
        render_new(RENDER_SYMBOLS, 1, &r) != 0)
        exit(1);
    /* The video pane of an 80x24 terminal: 53 x 17 cells. */
    render_fit(fw, fh, 16, 53, &rows, &cols);
    if (playback_seek(pb, BASE_US) != 0)
        exit(1);
    getrusage(RUSAGE_SELF, &ru0);
    wall0 = nvr_clock_mono_us();
    for (int64_t next = wall0;
         nvr_clock_mono_us() - wall0 < (int64_t)o->play * 1000000;
         next += 40000) {
        int64_t now = nvr_clock_mono_us();

        if (next > now)
            usleep((useconds_t)(next - now));
        else if (now - next > 40000)
            late++;
        if (playback_step(pb) != 0 && playback_seek(pb, BASE_US) != 0)
            break;
        if (playback_frame_rgba(pb, cols * 8, rows * 8, &px, &stride) != 0 ||
            render_draw(r, stdscr, 1, 27, 1, 27, rows, cols, px, cols * 8,
                        rows * 8, stride) != 0)
            break;
        refresh();
        frames++;
    }
    getrusage(RUSAGE_SELF, &ru1);
    {
        double cpu =
            (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
            (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
            (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
            (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
        double wall = (double)(nvr_clock_mono_us() - wall0) / 1e6;

        printf("1x playback %dx%d@25 in symbols mode (%dx%d cells): %lld "
               "frames in %.1f s, CPU %.0f%% of one core, %lld late\n",
               o->w, o->h, cols, rows, (long long)frames, wall,
               100.0 * cpu / wall, (long long)late);
    }
    render_free(r);
    playback_free(pb);
}

int main(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"size", required_argument, NULL, 's'},
        {"seconds", required_argument, NULL, 'S'},
        {"seeks", required_argument, NULL, 'k'},
        {"days", required_argument, NULL, 'd'},
        {"cameras", required_argument, NULL, 'c'},
        {"play", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    struct opts o = {1920, 1080, 20, 100, 30, 16, 10};
    char tmpl[] = "/tmp/nvr-bench-tui-XXXXXX", db[1100], cmd[1200];
    struct catalog *cat;
    SCREEN *scr;
    FILE *null_out;
    int64_t cam;
    int c;

    while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (sscanf(optarg, "%dx%d", &o.w, &o.h) != 2)
                return 2;
            break;
        case 'S':
            o.seconds = atoi(optarg);
            break;
        case 'k':
            o.seeks = atoi(optarg);
            break;
        case 'd':
            o.days = atoi(optarg);
            break;
        case 'c':
            o.cameras = atoi(optarg);
            break;
        case 'p':
            o.play = atoi(optarg);
            break;
        default:
            return 2;
        }
    }
    if (o.w < 16 || o.h < 16 || o.seconds < 1 || o.seeks < 1 ||
        o.seeks > MAX_RUNS || o.days < 1 || o.cameras < 1 || o.cameras > 99 ||
        o.play < 1)
        return 2;
    if (!mkdtemp(tmpl))
        return 1;
    snprintf(db, sizeof(db), "%s/catalog.db", tmpl);
    if (catalog_open(db, CATALOG_READWRITE, &cat) != 0)
        return 1;
    if (make_segments(&o, tmpl, cat, &cam) != 0)
        return 1;
    setlocale(LC_ALL, "C.UTF-8");
    null_out = fopen("/dev/null", "w");
    scr = newterm("xterm-256color", null_out, stdin);
    if (!scr)
        return 1;
    start_color();
    use_default_colors();
    bench_seek(&o, cat, tmpl, cam);
    bench_timeline(&o, tmpl, cat);
    bench_play(&o, cat, tmpl, cam);
    endwin();
    delscreen(scr);
    fclose(null_out);
    catalog_close(cat);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpl);
    return run(cmd) == 0 ? 0 : 1;
}
