/* SPDX-License-Identifier: MIT */
/*
 * nvr demo: starts the simulated camera (tests/camsim) with two cameras on
 * 127.0.0.1, writes a config for them under --dir, records them with the
 * real recorder, opens the terminal UI on them (or shows a status table),
 * and prints what it recorded and where.
 */
#include "config.h"
#include "nvr/cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nvr/base/clock.h"
#include "nvr/base/err.h"
#include "nvr/daemon.h"
#include "nvr/base/timefmt.h"
#include "storage/catalog.h"
#include "ui-tui/tui.h"

#define DEMO_DEFAULT_SECONDS 30
#define DEMO_CAMSIM_READY_MS 15000
#define DEMO_SEGMENT_SECONDS 10

static const char *const demo_cameras[] = {"entrance", "car-park"};
#define DEMO_N_CAMERAS 2

struct demo {
    char dir[PATH_MAX];
    char storage[PATH_MAX + 16];
    char config[PATH_MAX + 16];
    char camsim[PATH_MAX];
    pid_t camsim_pid;
    int port;
    int tty;
    int64_t seconds;
    int64_t started_us;
    int table_lines; /* lines of the live table drawn last time */
    /* With the TUI: the recorder runs on its own thread. */
    const struct nvr_config *cfg;
    const struct nvr_daemon_options *dopts;
    int daemon_err;
    volatile int daemon_ticking; /* its signal handlers are in place */
    volatile int daemon_done;
};

static int find_camsim(struct demo *d)
{
    const char *env = getenv("NVR_CAMSIM");
    char exe[PATH_MAX - 32];
    ssize_t n;
    char *slash;

    if (env && env[0]) {
        snprintf(d->camsim, sizeof(d->camsim), "%s", env);
        return access(d->camsim, X_OK) == 0 ? 0 : -errno;
    }
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n < 0)
        return -errno;
    exe[n] = '\0';
    slash = strrchr(exe, '/');
    if (!slash)
        return -ENOENT;
    *slash = '\0';
    /* build/nvr/nvr -> build/tests/camsim/camsim */
    snprintf(d->camsim, sizeof(d->camsim), "%s/../tests/camsim/camsim", exe);
    if (access(d->camsim, X_OK) == 0)
        return 0;
    snprintf(d->camsim, sizeof(d->camsim), "%s/nvr-camsim", exe);
    return access(d->camsim, X_OK) == 0 ? 0 : -ENOENT;
}

/* Reads camsim's stdout until "READY port=N". */
static int wait_ready(int fd, int *port)
{
    char buf[4096];
    size_t used = 0;
    int64_t deadline = nvr_clock_mono_us() + DEMO_CAMSIM_READY_MS * 1000LL;

    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int64_t left = (deadline - nvr_clock_mono_us()) / 1000;
        ssize_t n;
        char *line;

        if (left <= 0)
            return -ETIMEDOUT;
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        n = read(fd, buf + used, sizeof(buf) - 1 - used);
        if (n <= 0)
            return -EPIPE;
        used += (size_t)n;
        buf[used] = '\0';
        line = strstr(buf, "READY port=");
        if (line && strchr(line, '\n')) {
            *port = atoi(line + strlen("READY port="));
            return *port > 0 ? 0 : -EPROTO;
        }
        if (used == sizeof(buf) - 1)
            return -EPROTO;
    }
}

static int start_camsim(struct demo *d)
{
    int pipefd[2], err;
    char control[PATH_MAX + 16];

    snprintf(control, sizeof(control), "%s/control", d->dir);
    if (mkdir(control, 0750) != 0 && errno != EEXIST)
        return -errno;
    if (pipe2(pipefd, O_CLOEXEC) != 0)
        return -errno;
    d->camsim_pid = fork();
    if (d->camsim_pid < 0) {
        err = -errno;
        close(pipefd[0]);
        close(pipefd[1]);
        return err;
    }
    if (d->camsim_pid == 0) {
        /* The simulated cameras end with the demo, however it ends. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        dup2(pipefd[1], STDOUT_FILENO);
        execl(d->camsim, "camsim", "--port", "0", "--mount", demo_cameras[0],
              "--mount", demo_cameras[1], "--control", control, (char *)NULL);
        fprintf(stderr, "nvr demo: cannot run %s: %s\n", d->camsim,
                strerror(errno));
        _exit(127);
    }
    close(pipefd[1]);
    err = wait_ready(pipefd[0], &d->port);
    close(pipefd[0]);
    return err;
}

static void stop_camsim(struct demo *d)
{
    int status;

    if (d->camsim_pid <= 0)
        return;
    kill(d->camsim_pid, SIGTERM);
    for (int i = 0; i < 50; i++) {
        if (waitpid(d->camsim_pid, &status, WNOHANG) == d->camsim_pid) {
            d->camsim_pid = 0;
            return;
        }
        usleep(100000);
    }
    kill(d->camsim_pid, SIGKILL);
    waitpid(d->camsim_pid, &status, 0);
    d->camsim_pid = 0;
}

static int write_config(const struct demo *d)
{
    FILE *f = fopen(d->config, "w");

    if (!f)
        return -errno;
    fprintf(f,
            "; Written by 'nvr demo': two simulated cameras on this "
            "machine.\n"
            "[storage]\n"
            "path = %s\n"
            "segment_seconds = %d\n",
            d->storage, DEMO_SEGMENT_SECONDS);
    for (int i = 0; i < DEMO_N_CAMERAS; i++)
        fprintf(f,
                "\n[camera %s]\n"
                "url = rtsp://127.0.0.1:%d/%s\n"
                "transport = tcp\n",
                demo_cameras[i], d->port, demo_cameras[i]);
    if (fclose(f) != 0)
        return -errno;
    return 0;
}

static void demo_tick(void *user, const struct nvr_daemon_cam_view *cams, int n)
{
    struct demo *d = user;
    int64_t now = nvr_clock_wall_us();
    int64_t elapsed_s = (now - d->started_us) / 1000000;

    if (d->cfg) {
        /* The TUI shows the cameras; the loop is up and owns SIGTERM. */
        __atomic_store_n(&d->daemon_ticking, 1, __ATOMIC_RELEASE);
        return;
    }
    if (!d->tty) {
        /* A log-friendly line per camera every five seconds. */
        if (elapsed_s % 5 != 0)
            return;
        for (int i = 0; i < n; i++)
            printf("demo: %3llds %-9s %-10s %6llu frames %3llu segments "
                   "%6lld kbit/s %s\n",
                   (long long)elapsed_s, cams[i].name, cams[i].state,
                   (unsigned long long)cams[i].frames,
                   (unsigned long long)cams[i].segments,
                   (long long)(cams[i].bitrate_bps / 1000), cams[i].error);
        fflush(stdout);
        return;
    }
    /* Redraw the table in place. */
    if (d->table_lines > 0)
        printf("\033[%dA", d->table_lines);
    printf("\033[2K nvr demo: %llds", (long long)elapsed_s);
    if (d->seconds > 0)
        printf(" of %llds", (long long)d->seconds);
    printf(", Ctrl-C stops   storage: %s\n", d->storage);
    printf("\033[2K %-10s %-11s %-9s %8s %8s %9s %s\n", "CAMERA", "STATE",
           "LAST", "FRAMES", "SEGMENTS", "KBIT/S", "ERROR");
    for (int i = 0; i < n; i++) {
        char last[16] = "-";

        if (cams[i].last_frame_us > 0) {
            nvr_time_format_local_strf(cams[i].last_frame_us, "%H:%M:%S", last,
                                       sizeof(last));
        }
        printf("\033[2K %-10s %-11s %-9s %8llu %8llu %9lld %.40s\n",
               cams[i].name, cams[i].state, last,
               (unsigned long long)cams[i].frames,
               (unsigned long long)cams[i].segments,
               (long long)(cams[i].bitrate_bps / 1000), cams[i].error);
    }
    d->table_lines = 2 + n;
    fflush(stdout);
}

static void *demo_daemon_thread(void *arg)
{
    struct demo *d = arg;

    d->daemon_err = nvr_daemon_run(d->cfg, d->dopts);
    __atomic_store_n(&d->daemon_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/*
 * The recorder on its own thread and the TUI on this one, live on the demo
 * cameras. When the TUI ends (q, Ctrl-C) the recorder is stopped the way
 * systemd stops it, with SIGTERM, once its loop handles the signal; when
 * the recorder ends (--seconds) the TUI ends too. Returns the recorder's
 * result.
 */
static int demo_with_tui(struct demo *d, const struct nvr_config *cfg,
                         const struct nvr_daemon_options *dopts)
{
    struct tui_options topts;
    pthread_t th;
    int err;

    d->cfg = cfg;
    d->dopts = dopts;
    tui_log_capture_begin();
    err = pthread_create(&th, NULL, demo_daemon_thread, d);
    if (err != 0) {
        tui_log_capture_end();
        return -err;
    }
    /* The catalog exists once the recorder's start-up is done. */
    for (int i = 0;
         i < 200 && !__atomic_load_n(&d->daemon_ticking, __ATOMIC_ACQUIRE) &&
         !__atomic_load_n(&d->daemon_done, __ATOMIC_ACQUIRE);
         i++)
        usleep(50000);
    memset(&topts, 0, sizeof(topts));
    topts.storage_dir = cfg->storage_path;
    topts.cameras = demo_cameras;
    topts.n_cameras = DEMO_N_CAMERAS;
    topts.start_live = 1;
    topts.export_dir = d->dir;
    topts.stop = &d->daemon_done;
    err = tui_run(&topts);
    if (!__atomic_load_n(&d->daemon_done, __ATOMIC_ACQUIRE)) {
        while (!__atomic_load_n(&d->daemon_ticking, __ATOMIC_ACQUIRE) &&
               !__atomic_load_n(&d->daemon_done, __ATOMIC_ACQUIRE))
            usleep(20000);
        if (!__atomic_load_n(&d->daemon_done, __ATOMIC_ACQUIRE))
            kill(getpid(), SIGTERM);
    }
    pthread_join(th, NULL);
    tui_log_capture_end();
    if (err < 0)
        fprintf(stderr, "nvr demo: the terminal UI failed: %s\n",
                nvr_strerror(err));
    return d->daemon_err;
}

struct summary {
    int64_t segments, bytes, frames, us;
    char first[256];
};

static int summary_cb(void *user, const struct catalog_segment *seg)
{
    struct summary *s = user;

    if (s->segments == 0)
        snprintf(s->first, sizeof(s->first), "%s", seg->path);
    s->segments++;
    s->bytes += seg->bytes;
    s->frames += seg->frames;
    s->us += seg->end_us - seg->start_us;
    return 0;
}

/* Prints what was recorded; returns the number of cameras with footage. */
static int print_summary(const struct demo *d)
{
    struct catalog *cat;
    char path[PATH_MAX + 32];
    int with_footage = 0;

    snprintf(path, sizeof(path), "%s/" CATALOG_FILE, d->storage);
    if (catalog_open(path, CATALOG_READONLY, &cat) != 0) {
        printf("demo: nothing was recorded (no catalog at %s)\n", path);
        return 0;
    }
    printf("\ndemo: recorded into %s\n", d->storage);
    for (int i = 0; i < DEMO_N_CAMERAS; i++) {
        struct summary s = {0};
        int64_t id;

        if (catalog_camera_find(cat, demo_cameras[i], &id) == 0 &&
            catalog_segment_list(cat, id, INT64_MIN, INT64_MAX,
                                 (1u << CATALOG_SEG_CLOSED) |
                                     (1u << CATALOG_SEG_OPEN),
                                 summary_cb, &s) != 0)
            printf("  %-9s cannot list segments\n", demo_cameras[i]);
        printf("  %-9s %lld segment%s, %.1f s of video, %lld frames, "
               "%.1f MB%s%s\n",
               demo_cameras[i], (long long)s.segments,
               s.segments == 1 ? "" : "s", (double)s.us / 1e6,
               (long long)s.frames, (double)s.bytes / 1e6,
               s.segments ? ", first: " : "", s.first);
        with_footage += s.segments > 0;
    }
    catalog_close(cat);
    printf("\nexplore it:\n"
           "  ./build/nvr/nvr status -c %s\n"
           "  ./build/nvr/nvr recordings -c %s --camera %s\n"
           "  ffplay %s/<path from recordings>\n",
           d->config, d->config, demo_cameras[0], d->storage);
    return with_footage;
}

/* --seconds: 0 when not given, -1 when not valid. */
static int64_t demo_seconds(const struct cli_args *a)
{
    const char *v = cli_args_get(a, "seconds");
    char *end;
    long long n;

    if (!v)
        return 0;
    n = strtoll(v, &end, 10);
    if (*end || n <= 0 || n > 365LL * 86400)
        return -1;
    return n;
}

static int demo_check(const struct cli_args *a)
{
    if (demo_seconds(a) < 0) {
        fprintf(stderr,
                "nvr demo: --seconds: expected a positive "
                "number, got '%s'\n",
                cli_args_get(a, "seconds"));
        return NVR_EXIT_USAGE;
    }
    return 0;
}

/* The demo's folder, storage, config and simulated cameras. 0, or an exit
 * status after a message (camsim stopped). */
static int demo_setup(struct demo *d, const char *dir)
{
    int err;

    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        fprintf(stderr, "nvr demo: cannot create %s: %s\n", dir,
                strerror(errno));
        return NVR_EXIT_FAILURE;
    }
    if (!realpath(dir, d->dir)) {
        fprintf(stderr, "nvr demo: %s: %s\n", dir, strerror(errno));
        return NVR_EXIT_FAILURE;
    }
    snprintf(d->storage, sizeof(d->storage), "%s/storage", d->dir);
    snprintf(d->config, sizeof(d->config), "%s/nvr.ini", d->dir);
    err = find_camsim(d);
    if (err < 0) {
        fprintf(stderr,
                "nvr demo: the simulated camera program was not found "
                "(looked for %s);\nbuild it with ./setup.sh build or set "
                "NVR_CAMSIM\n",
                d->camsim);
        return NVR_EXIT_FAILURE;
    }
    printf("demo: starting two simulated cameras (%s)\n", d->camsim);
    fflush(stdout);
    err = start_camsim(d);
    if (err < 0) {
        fprintf(stderr,
                "nvr demo: the simulated cameras did not start: "
                "%s\n",
                nvr_strerror(err));
        stop_camsim(d);
        return NVR_EXIT_FAILURE;
    }
    err = write_config(d);
    if (err < 0) {
        fprintf(stderr, "nvr demo: cannot write %s: %s\n", d->config,
                nvr_strerror(err));
        stop_camsim(d);
        return NVR_EXIT_FAILURE;
    }
    return 0;
}

static int demo_exec(const struct cli_args *a, const struct nvr_config *none,
                     struct catalog *cat)
{
    const char *dir = cli_args_get(a, "dir");
    struct demo d;
    struct nvr_config *cfg = NULL;
    struct nvr_daemon_options dopts = {0};
    int err, rc;

    memset(&d, 0, sizeof(d));
    d.seconds = demo_seconds(a);
    d.tty = !cli_args_has(a, "no-tui") && isatty(STDOUT_FILENO) &&
            isatty(STDIN_FILENO);
    if (d.seconds == 0 && !d.tty)
        d.seconds = DEMO_DEFAULT_SECONDS;
    rc = demo_setup(&d, dir ? dir : "nvr-demo");
    if (rc != 0)
        return rc;
    /* The config is the one written here, not -c's. */
    rc = nvr_cli_load_config(d.config, &cfg);
    if (rc != 0) {
        stop_camsim(&d);
        return rc;
    }
    printf("demo: cameras at rtsp://127.0.0.1:%d/{%s,%s}\n"
           "demo: config %s\n"
           "demo: recording %s\n",
           d.port, demo_cameras[0], demo_cameras[1], d.config,
           d.seconds > 0 ? "(time-limited)" : "until Ctrl-C");
    fflush(stdout);
    d.started_us = nvr_clock_wall_us();
    dopts.stop_after_ms = d.seconds * 1000;
    dopts.tick = demo_tick;
    dopts.user = &d;
    if (d.tty)
        err = demo_with_tui(&d, cfg, &dopts);
    else
        err = nvr_daemon_run(cfg, &dopts);
    stop_camsim(&d);
    nvr_config_free(cfg);
    if (err < 0) {
        fprintf(stderr, "nvr demo: the recorder failed: %s\n",
                nvr_strerror(err));
        return NVR_EXIT_FAILURE;
    }
    if (print_summary(&d) != DEMO_N_CAMERAS) {
        fprintf(stderr, "nvr demo: not every camera was recorded\n");
        return NVR_EXIT_FAILURE;
    }
    return NVR_EXIT_OK;
}

static const struct cli_option demo_options[] = {
    {"dir", 0, 1, "D", "where the config, catalog and segments go"},
    {"seconds", 0, 1, "N", "stop after N seconds"},
    {"no-tui", 0, 0, NULL, "plain output, even on a terminal"},
    CLI_OPT_HELP,
    CLI_OPT_END,
};

const struct cli_entry cmd_demo_entry = {
    .name = "demo",
    .summary = "record simulated cameras and show them",
    .usage = "nvr demo [--dir D] [--seconds N] [--no-tui]",
    .about = "Starts two simulated cameras on 127.0.0.1, records them with "
             "the real\nrecorder into D (default ./nvr-demo) and opens the "
             "terminal UI on them,\nlive, until q or Ctrl-C (or N "
             "seconds); without a terminal, or\nwith --no-tui, it records "
             "for N seconds (default 30), prints a\nsummary of what it "
             "recorded and where, and exits.",
    .footer = "The simulated camera program is found next to nvr "
              "(tests/camsim/camsim\nin the build tree) or at $NVR_CAMSIM.",
    .options = demo_options,
    .check = demo_check,
    .exec = demo_exec,
};
