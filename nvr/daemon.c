/* SPDX-License-Identifier: MIT */
/*
 * The recorder daemon. Threads:
 *  - this thread runs the libuv loop: every camera's RTSP session, timers
 *    and signals. It never touches the disk or SQLite once the loop runs.
 *  - one writer thread per camera (storage/writer.c) muxes access units
 *    into segment files and records them in the catalog.
 *  - the libuv thread pool runs the once-a-second status publication (its
 *    own catalog connection, one job in flight at a time).
 * Start-up (storage directory, catalog migration, recovery) runs on this
 * thread before the loop starts; shutdown joins the writers after it ends.
 */
#include "config.h"
#include "nvr/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "ingest/camera.h"
#include "nvr/base/clock.h"
#include "nvr/base/err.h"
#include "nvr/base/log.h"
#include "nvr/base/perm.h"
#include "nvr/base/refusal.h"
#include "nvr/base/thread.h"
#include "nvr/check.h"
#include "nvr/daemon_audit.h"
#include "nvr/ipc_server.h"
#include "nvr/sandbox.h"
#include "nvr/retention_job.h"
#include "storage/catalog.h"
#include "storage/fsops.h"
#include "storage/sha256.h"
#include "storage/recovery.h"
#include "storage/writer.h"

#define DAEMON_TICK_MS 1000
/* Refused units are logged at most once per period per camera and
 * reason (the count since the last line). */
#define DAEMON_REFUSAL_LOG_MS 10000
#define DAEMON_PATH_MAX       2048

struct daemon;

struct daemon_cam {
    struct daemon *d;
    const struct nvr_camera_config *cfg;
    struct ingest_camera *ingest; /* NULL once closed */
    struct writer *writer;
    enum ingest_state state;
    char error[256];        /* last failure, credentials removed */
    uint64_t prev_bytes_in; /* for the bitrate */
    int64_t prev_mono_us;
    int64_t bitrate_bps;
    struct nvr_refusal_log refusal_log; /* warnings about refused units */
};

struct status_job {
    uv_work_t req;
    struct daemon *d;
    int n;
    struct catalog_status *rows; /* owned */
};

struct daemon {
    uv_loop_t loop;
    uv_timer_t tick;
    uv_signal_t sigint, sigterm;
    const struct nvr_config *cfg;
    const struct nvr_daemon_options *opts;
    char catalog_path[DAEMON_PATH_MAX];
    struct daemon_cam *cams;
    int n_cams;
    int open_cams; /* ingest cameras not yet closed */
    int stopping;
    int status_busy;            /* a status job is in flight */
    struct catalog *status_cat; /* used only inside status jobs */
    int64_t start_mono_us;
    struct nvr_daemon_cam_view *views;
    int lock_fd; /* holds NVR_DAEMON_LOCK_FILE while running; -1 if not */
    int64_t run_started_us; /* wall time the lock was taken (this run) */
    struct nvr_retention_job *retention; /* periodic + emergency passes */
    int64_t *prev_last_frame_us;  /* per config camera, from the last run */
    struct check_target *targets; /* per config camera (nvr/check.h) */
    struct ipc_server *ipc;       /* the operators' socket; NULL: none */
};

static void daemon_stop(struct daemon *d, const char *why);

/* ---- camera events (loop thread) ---- */

static void cam_on_state(void *user, enum ingest_state st, int err,
                         const char *msg)
{
    struct daemon_cam *c = user;

    c->state = st;
    if (err < 0 || st == INGEST_STATE_AUTH_FAILED || st == INGEST_STATE_ERROR) {
        snprintf(c->error, sizeof(c->error), "%s", msg ? msg : "");
    } else if (st == INGEST_STATE_RECORDING) {
        c->error[0] = '\0';
    }
}

static void cam_on_stream(void *user, const struct nvr_stream_info *info)
{
    struct daemon_cam *c = user;
    int err = writer_push_stream(c->writer, info);

    if (err < 0)
        LOG_E("nvr", "camera %s: cannot queue stream parameters: %s",
              c->cfg->name, nvr_strerror(err));
}

static void cam_on_au(void *user, struct nvr_au *au)
{
    struct daemon_cam *c = user;

    /* Dropped units are counted by the writer; nothing to do here. */
    (void)writer_push_au(c->writer, au);
}

static void cam_on_break(void *user, int err, const char *reason)
{
    struct daemon_cam *c = user;
    int rc = writer_push_break(c->writer, reason ? reason : "");

    if (rc < 0)
        LOG_E("nvr", "camera %s: cannot queue session end: %s", c->cfg->name,
              nvr_strerror(rc));
}

static const struct ingest_camera_events cam_events = {
    .on_state = cam_on_state,
    .on_stream = cam_on_stream,
    .on_au = cam_on_au,
    .on_break = cam_on_break,
};

/* ---- status publication ---- */

/* The last frame written, this run or (until this run writes one) the
 * previous one, so "offline since" survives a restart. */
static int64_t daemon_last_frame(const struct daemon *d,
                                 const struct daemon_cam *c, int64_t now_us)
{
    if (now_us > 0 || !d->prev_last_frame_us)
        return now_us;
    return d->prev_last_frame_us[c->cfg - d->cfg->cameras];
}

/* The units a camera refused, ingest's (is, NULL once closed) and the
 * writer's, by reason. */
static void cam_refusals(const struct ingest_stats *is,
                         const struct writer_stats *ws,
                         struct nvr_refusals *out)
{
    *out = ws->refused;
    if (is)
        nvr_refusals_add(out, &is->refused);
}

/* Warns about the units a camera refused since the last warning (at most
 * one line per reason and DAEMON_REFUSAL_LOG_MS). */
static void cam_report_refusals(struct daemon_cam *c,
                                const struct nvr_refusals *refused,
                                int64_t now_mono_us)
{
    (void)nvr_refusal_log_report(&c->refusal_log, "nvr", c->cfg->name, refused,
                                 now_mono_us / 1000, DAEMON_REFUSAL_LOG_MS);
}

static void status_fill(struct daemon *d, struct catalog_status *rows,
                        int final)
{
    int64_t now = nvr_clock_wall_us();

    for (int i = 0; i < d->n_cams; i++) {
        struct daemon_cam *c = &d->cams[i];
        struct catalog_status *st = &rows[i];
        struct writer_stats ws;
        struct ingest_stats is;

        memset(st, 0, sizeof(*st));
        snprintf(st->name, sizeof(st->name), "%s", c->cfg->name);
        writer_get_stats(c->writer, &ws);
        /* A camera whose footage cannot be written is not recording,
         * however well its stream arrives. */
        snprintf(st->state, sizeof(st->state), "%s",
                 final          ? "stopped"
                 : ws.disk_full ? "disk_full"
                                : ingest_state_name(c->state));
        st->last_frame_us = daemon_last_frame(d, c, ws.last_wall_us);
        st->bitrate_bps = final ? 0 : c->bitrate_bps;
        st->frames = (int64_t)ws.aus_written;
        st->dropped = (int64_t)ws.aus_dropped;
        /* Never before this run's start, even if the wall clock steps
         * back: nvr status would take the row for a previous run's. */
        st->updated_us = now > d->run_started_us ? now : d->run_started_us;
        if (c->ingest) {
            ingest_camera_get_stats(c->ingest, &is);
            st->lost_packets = (int64_t)is.rtp_lost;
            st->reconnects = (int64_t)is.reconnects;
            st->dropped += (int64_t)is.aus_dropped;
            snprintf(st->transport, sizeof(st->transport), "%s%s%s",
                     is.transport,
                     is.transport[0] && is.transport_why[0] ? ": " : "",
                     is.transport[0] ? is.transport_why : "");
            snprintf(st->auth, sizeof(st->auth), "%s", is.auth);
            st->drift_us = is.drift_us;
            st->ts_jumps = (int64_t)is.ts_jumps;
            st->frames_lost = (int64_t)is.aus_dropped;
            st->rtcp_sr = is.rtcp_sr;
        }
        cam_refusals(c->ingest ? &is : NULL, &ws, &st->refused);
        /* Retention's alert (only held footage left) comes first. */
        nvr_retention_job_alert(d->retention, st->error, sizeof(st->error));
        if (!st->error[0] && ws.last_err < 0 && ws.last_error[0])
            snprintf(st->error, sizeof(st->error), "storage: %.200s",
                     ws.last_error);
        else if (!st->error[0])
            snprintf(st->error, sizeof(st->error), "%s", c->error);
    }
}

/* The enabled cameras the air-gap rules (or the password file's) refused:
 * never contacted, but shown as "refused" with the rule that refused
 * them, refreshed like the others so that status does not read them as
 * stopped. Fills rows (room for every configured camera) and returns how
 * many. */
static int daemon_refused_fill(const struct daemon *d,
                               struct catalog_status *rows)
{
    int64_t now = nvr_clock_wall_us();
    int n = 0;

    if (!d->targets)
        return 0;
    for (int i = 0; i < d->cfg->n_cameras; i++) {
        const struct nvr_camera_config *cc = &d->cfg->cameras[i];
        struct catalog_status *st = &rows[n];

        if (!cc->enabled || d->targets[i].allowed)
            continue;
        memset(st, 0, sizeof(*st));
        snprintf(st->name, sizeof(st->name), "%s", cc->name);
        snprintf(st->state, sizeof(st->state), "refused");
        snprintf(st->error, sizeof(st->error), "%.*s",
                 (int)sizeof(st->error) - 1, d->targets[i].refused);
        st->last_frame_us =
            d->prev_last_frame_us ? d->prev_last_frame_us[i] : 0;
        st->updated_us = now > d->run_started_us ? now : d->run_started_us;
        n++;
    }
    return n;
}

/*
 * Runs the loop until no handle is left. The thread only ever waits in
 * the loop's poll: it never sleeps to batch work, so timers fire on time
 * and packets are seen when they arrive. Wake-ups are batched by the
 * sessions themselves (SO_RCVLOWAT on TCP media sockets and a read tick on
 * a shared grid, see rtsp_session.c).
 */
static void daemon_run_loop(struct daemon *d)
{
    (void)uv_run(&d->loop, UV_RUN_DEFAULT);
}

static int status_write(struct catalog **cat, const char *path,
                        const struct catalog_status *rows, int n)
{
    int err;

    if (!*cat) {
        err = catalog_open(path, CATALOG_READWRITE, cat);
        if (err < 0)
            return err;
    }
    for (int i = 0; i < n; i++) {
        err = catalog_status_put(*cat, &rows[i]);
        if (err < 0)
            return err;
    }
    return 0;
}

static void status_work(uv_work_t *req)
{
    struct status_job *job = nvr_container_of(req, struct status_job, req);
    struct daemon *d = job->d;
    int err = status_write(&d->status_cat, d->catalog_path, job->rows, job->n);

    if (err < 0)
        LOG_W("nvr", "cannot publish camera status: %s", nvr_strerror(err));
}

static void status_after(uv_work_t *req, int status)
{
    struct status_job *job = nvr_container_of(req, struct status_job, req);

    job->d->status_busy = 0;
    free(job->rows);
    free(job);
}

static void status_publish(struct daemon *d)
{
    struct status_job *job;
    int err;

    if (d->status_busy || d->n_cams == 0)
        return; /* the disk is slow: skip a beat rather than queue up */
    job = calloc(1, sizeof(*job));
    if (!job)
        return;
    job->rows = calloc((size_t)d->n_cams + (size_t)d->cfg->n_cameras,
                       sizeof(*job->rows));
    if (!job->rows) {
        free(job);
        return;
    }
    job->d = d;
    status_fill(d, job->rows, 0);
    job->n = d->n_cams + daemon_refused_fill(d, job->rows + d->n_cams);
    err = uv_queue_work(&d->loop, &job->req, status_work, status_after);
    if (err < 0) {
        LOG_W("nvr", "cannot queue the status publication: %s",
              nvr_strerror(err));
        free(job->rows);
        free(job);
        return;
    }
    d->status_busy = 1;
}

/* ---- the loop ---- */

static void tick_cb(uv_timer_t *t)
{
    struct daemon *d = nvr_container_of(t, struct daemon, tick);
    int64_t now = nvr_clock_mono_us();

    for (int i = 0; i < d->n_cams; i++) {
        struct daemon_cam *c = &d->cams[i];
        struct ingest_stats is;
        struct writer_stats ws;
        struct nvr_daemon_cam_view *v = &d->views[i];

        if (!c->ingest)
            continue;
        ingest_camera_get_stats(c->ingest, &is);
        if (c->prev_mono_us && now > c->prev_mono_us) {
            c->bitrate_bps =
                (int64_t)((is.bytes_in - c->prev_bytes_in) * 8 * 1000000 /
                          (uint64_t)(now - c->prev_mono_us));
        }
        c->prev_bytes_in = is.bytes_in;
        c->prev_mono_us = now;
        writer_get_stats(c->writer, &ws);
        v->name = c->cfg->name;
        v->state = ingest_state_name(c->state);
        v->last_frame_us = daemon_last_frame(d, c, ws.last_wall_us);
        v->bitrate_bps = c->bitrate_bps;
        v->frames = ws.aus_written;
        v->segments = ws.segments;
        v->dropped = ws.aus_dropped + is.aus_dropped;
        v->error = c->error;
        cam_refusals(&is, &ws, &v->refused);
        cam_report_refusals(c, &v->refused, now);
    }
    status_publish(d);
    if (d->opts && d->opts->tick)
        d->opts->tick(d->opts->user, d->views, d->n_cams);
    if (d->opts && d->opts->stop_after_ms > 0 &&
        now - d->start_mono_us >= d->opts->stop_after_ms * 1000)
        daemon_stop(d, "time limit reached");
}

static void signal_cb(uv_signal_t *s, int signum)
{
    struct daemon *d = s->loop->data;

    daemon_stop(d, signum == SIGINT ? "SIGINT" : "SIGTERM");
}

static void cam_closed(void *user)
{
    struct daemon_cam *c = user;
    struct daemon *d = c->d;

    c->ingest = NULL;
    if (--d->open_cams == 0) {
        uv_close((uv_handle_t *)&d->tick, NULL);
        uv_close((uv_handle_t *)&d->sigint, NULL);
        uv_close((uv_handle_t *)&d->sigterm, NULL);
    }
}

static void daemon_stop(struct daemon *d, const char *why)
{
    if (d->stopping)
        return;
    d->stopping = 1;
    LOG_I("nvr", "stopping (%s): closing camera sessions", why);
    uv_timer_stop(&d->tick);
    if (d->open_cams == 0) {
        uv_close((uv_handle_t *)&d->tick, NULL);
        uv_close((uv_handle_t *)&d->sigint, NULL);
        uv_close((uv_handle_t *)&d->sigterm, NULL);
        return;
    }
    for (int i = 0; i < d->n_cams; i++) {
        if (d->cams[i].ingest)
            ingest_camera_close(d->cams[i].ingest, cam_closed, &d->cams[i]);
    }
}

/* ---- start-up and shutdown (not on the running loop) ---- */

static int mkdir_p(const char *path)
{
    char buf[DAEMON_PATH_MAX];
    size_t len = strlen(path);

    if (len == 0 || len >= sizeof(buf))
        return -ENAMETOOLONG;
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0750) != 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(buf, 0750) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

/*
 * One recorder per storage directory: two would write the same catalog
 * rows and fight over retention. The lock also tells `nvr status` whether
 * a recorder is running (see nvr_daemon_is_running()); the kernel drops it
 * when the process dies, however it dies.
 */
static int daemon_lock_storage(struct daemon *d)
{
    char path[DAEMON_PATH_MAX + 32];
    int fd;

    snprintf(path, sizeof(path), "%s/" NVR_DAEMON_LOCK_FILE,
             d->cfg->storage_path);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        int err = -errno;
        char why[NVR_PERM_WHY_MAX];

        if (err == -EACCES &&
            nvr_perm_explain(path, NVR_PERM_WRITE, why, sizeof(why)) == 0)
            LOG_E("nvr", "cannot create %s: permission denied: %s", path, why);
        else
            LOG_E("nvr", "cannot create %s: %s", path, nvr_strerror(err));
        return err;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno == EWOULDBLOCK ? -EBUSY : -errno;

        LOG_E("nvr",
              "another nvr is already recording into %s (it holds %s); "
              "stop it first",
              d->cfg->storage_path, path);
        close(fd);
        return err;
    }
    /* A previous run's record (see daemon_publish_run()) is not ours. */
    if (ftruncate(fd, 0) != 0) {
        int err = -errno;

        LOG_E("nvr", "cannot clear %s: %s", path, nvr_strerror(err));
        close(fd);
        return err;
    }
    d->lock_fd = fd;
    d->run_started_us = nvr_clock_wall_us();
    return 0;
}

/* Start-up is done: from now on `nvr status` shows the status rows this
 * run writes (nvr_daemon_run_started()). */
static int daemon_publish_run(struct daemon *d)
{
    char buf[96];
    int n = snprintf(buf, sizeof(buf), "pid %ld\nstarted_us %lld\n",
                     (long)getpid(), (long long)d->run_started_us);

    if (pwrite(d->lock_fd, buf, (size_t)n, 0) != n) {
        int err = errno ? -errno : -EIO;

        LOG_E("nvr", "cannot write %s/" NVR_DAEMON_LOCK_FILE ": %s",
              d->cfg->storage_path, nvr_strerror(err));
        return err;
    }
    return 0;
}

int nvr_daemon_is_running(const char *storage_path)
{
    char path[DAEMON_PATH_MAX + 32];
    int fd, running;

    snprintf(path, sizeof(path), "%s/" NVR_DAEMON_LOCK_FILE, storage_path);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    running = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    return running;
}

int nvr_daemon_run_started(const char *storage_path, int64_t *started_us)
{
    char path[DAEMON_PATH_MAX + 32], buf[96];
    long pid = 0;
    long long started = 0;
    ssize_t n;
    int fd, held;

    snprintf(path, sizeof(path), "%s/" NVR_DAEMON_LOCK_FILE, storage_path);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    n = held ? pread(fd, buf, sizeof(buf) - 1, 0) : -1;
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    if (sscanf(buf, "pid %ld started_us %lld", &pid, &started) != 2 ||
        pid <= 0 || started <= 0)
        return 0;
    /* The record is the lock holder's unless that recorder was killed and
     * a new one has taken the lock but not yet cleared it: the pid in it is
     * then gone. */
    if (kill((pid_t)pid, 0) != 0 && errno != EPERM)
        return 0;
    *started_us = (int64_t)started;
    return 1;
}

static int prev_status_cb(void *user, const struct catalog_status *st)
{
    struct daemon *d = user;

    for (int i = 0; i < d->cfg->n_cameras; i++) {
        if (strcmp(d->cfg->cameras[i].name, st->name) == 0)
            d->prev_last_frame_us[i] = st->last_frame_us;
    }
    return 0;
}

static int daemon_prepare_storage(struct daemon *d)
{
    const struct nvr_config *cfg = d->cfg;
    struct recovery_report rep;
    struct catalog *cat;
    int err;

    err = mkdir_p(cfg->storage_path);
    if (err < 0) {
        LOG_E("nvr", "storage directory %s: %s", cfg->storage_path,
              nvr_strerror(err));
        return err;
    }
    err = daemon_lock_storage(d);
    if (err < 0)
        return err;
    sandbox_test_pause("locked");
    snprintf(d->catalog_path, sizeof(d->catalog_path), "%s/" CATALOG_FILE,
             cfg->storage_path);
    err = catalog_open(d->catalog_path, CATALOG_READWRITE, &cat);
    if (err < 0) {
        LOG_E("nvr", "catalog %s: %s", d->catalog_path, nvr_strerror(err));
        return err;
    }
    /* Rows left by a previous run (perhaps killed while "recording") must
     * not read as current now that this recorder holds the lock; only
     * their last frame time is kept. */
    if (catalog_status_list(cat, prev_status_cb, d) < 0)
        LOG_W("nvr", "cannot read the previous camera status");
    for (int i = 0; i < cfg->n_cameras; i++) {
        struct catalog_status st;

        memset(&st, 0, sizeof(st));
        st.last_frame_us = d->prev_last_frame_us[i];
        snprintf(st.name, sizeof(st.name), "%s", cfg->cameras[i].name);
        snprintf(st.state, sizeof(st.state), "%s",
                 cfg->cameras[i].enabled ? "connecting" : "disabled");
        st.updated_us = nvr_clock_wall_us();
        if (catalog_status_put(cat, &st) < 0)
            LOG_W("nvr", "camera %s: cannot reset its status row", st.name);
    }
    catalog_close(cat);
    memset(&rep, 0, sizeof(rep));
    err = recovery_run(cfg->storage_path, d->catalog_path, &rep);
    if (err < 0) {
        LOG_E("nvr", "recovery of %s failed: %s", cfg->storage_path,
              nvr_strerror(err));
        return err;
    }
    if (rep.finished || rep.missing || rep.indexed || rep.unreadable)
        LOG_I("nvr",
              "recovery: %d interrupted segments finished, %d missing, "
              "%d indexed, %d unreadable",
              rep.finished, rep.missing, rep.indexed, rep.unreadable);
    return daemon_publish_run(d);
}

/* The operators' socket is made before the sandbox, which denies bind and
 * listen. Without it the recorder still records (operators' commands then
 * read the storage themselves); why is logged. */
static void daemon_open_socket(struct daemon *d)
{
    if (ipc_server_new(d->cfg, d->catalog_path, &d->ipc) < 0)
        d->ipc = NULL;
}

/* The air-gap rules (nvr/check.h): resolves every camera, refuses those
 * that break a rule, then confines the process (nvr/sandbox.h) while this
 * is still its only thread. */
static int daemon_guard(struct daemon *d)
{
    int err = check_run_targets(d->cfg, NULL, &d->targets);

    if (err < 0)
        return err;
    if (err == 0) {
        LOG_E("nvr", "%s: every enabled camera was refused; nothing to record",
              d->cfg->path);
        return -EINVAL;
    }
    /* libcrypto reads its configuration on first use: do it while the
     * file system is still open. */
    err = nvr_sha256_prepare();
    if (err < 0)
        return err;
    daemon_open_socket(d);
    if (d->opts && d->opts->sandbox)
        return sandbox_start_recorder(d->cfg, d->targets, d->cfg->n_cameras,
                                      ipc_server_fd(d->ipc));
    return 0;
}

/* A writer thread hit ENOSPC/EIO: run an emergency retention pass. */
static void daemon_disk_full(void *user, const char *camera, int err)
{
    struct daemon *d = user;

    nvr_retention_job_kick(d->retention);
}

/* A writer thread opening a segment saw less free space than min_free:
 * retention makes room before the disk fills. */
static void daemon_low_space(void *user, const char *camera, int err)
{
    struct daemon *d = user;

    nvr_retention_job_kick_low(d->retention);
}

/* min_free in bytes, as retention works it out (a percentage of the file
 * system's size, or bytes); 0 if unknown or off. */
static int64_t daemon_min_free_bytes(const struct nvr_config *cfg)
{
    int64_t avail, total;

    if (!cfg->min_free_is_percent)
        return nvr_config_min_free_bytes(cfg, 0);
    if (fsops_statvfs(cfg->storage_path, &avail, &total) != 0)
        return 0;
    return nvr_config_min_free_bytes(cfg, total);
}

static int daemon_start_cameras(struct daemon *d)
{
    const struct nvr_config *cfg = d->cfg;
    int err;

    for (int i = 0; i < cfg->n_cameras; i++) {
        const struct nvr_camera_config *cc = &cfg->cameras[i];
        struct daemon_cam *c;
        struct writer_config wc;
        struct ingest_camera_config ic;

        if (!cc->enabled) {
            LOG_I("nvr", "camera %s: disabled in the config", cc->name);
            continue;
        }
        if (!d->targets[i].allowed)
            continue; /* refused by the air-gap rules, logged by check */
        c = &d->cams[d->n_cams];
        memset(c, 0, sizeof(*c));
        c->d = d;
        c->cfg = cc;
        c->state = INGEST_STATE_CONNECTING;
        nvr_refusal_log_init(&c->refusal_log, nvr_clock_mono_us() / 1000);
        memset(&wc, 0, sizeof(wc));
        wc.storage_dir = cfg->storage_path;
        wc.catalog_path = d->catalog_path;
        wc.camera = cc->name;
        wc.segment_seconds = cfg->segment_seconds;
        wc.on_disk_full = daemon_disk_full;
        wc.on_low_space = daemon_low_space;
        wc.min_free_bytes = daemon_min_free_bytes(cfg);
        wc.user = d;
        err = writer_new(&wc, &c->writer);
        if (err < 0) {
            LOG_E("nvr", "camera %s: cannot start its writer: %s", cc->name,
                  nvr_strerror(err));
            return err;
        }
        memset(&ic, 0, sizeof(ic));
        ic.name = cc->name;
        ic.url = d->targets[i].url;
        ic.username = d->targets[i].username;
        ic.password = d->targets[i].password;
        ic.transport = cc->transport == NVR_TRANSPORT_UDP ? INGEST_TRANSPORT_UDP
                       : cc->transport == NVR_TRANSPORT_AUTO
                           ? INGEST_TRANSPORT_AUTO
                           : INGEST_TRANSPORT_TCP;
        ic.auth = cc->auth == NVR_AUTH_ANY     ? RTSP_AUTH_POLICY_ANY
                  : cc->auth == NVR_AUTH_BASIC ? RTSP_AUTH_POLICY_BASIC
                                               : RTSP_AUTH_POLICY_DIGEST;
        err = ingest_camera_new(&d->loop, &ic, &cam_events, c, &c->ingest);
        if (err < 0) {
            LOG_E("nvr", "camera %s (config line %d): %s", cc->name, cc->line,
                  nvr_strerror(err));
            writer_free(c->writer);
            return err;
        }
        d->n_cams++;
        d->open_cams++;
    }
    return 0;
}

/* Closes the first n of the daemon's own handles (tick, sigint, sigterm)
 * and the loop: start-up failed before any camera existed. */
static void daemon_abort_loop(struct daemon *d, int n)
{
    uv_handle_t *h[] = {(uv_handle_t *)&d->tick, (uv_handle_t *)&d->sigint,
                        (uv_handle_t *)&d->sigterm};

    for (int i = 0; i < n; i++)
        uv_close(h[i], NULL);
    (void)uv_run(&d->loop, UV_RUN_DEFAULT);
    (void)uv_loop_close(&d->loop);
}

/* Initialises the tick timer and the signal watchers. On failure nothing
 * is left open, the loop included. */
static int daemon_init_handles(struct daemon *d)
{
    const char *what = "timer";
    int err, n = 0;

    err = uv_timer_init(&d->loop, &d->tick);
    if (err == 0) {
        n = 1;
        what = "SIGINT watcher";
        err = uv_signal_init(&d->loop, &d->sigint);
    }
    if (err == 0) {
        n = 2;
        what = "SIGTERM watcher";
        err = uv_signal_init(&d->loop, &d->sigterm);
    }
    if (err == 0)
        return 0;
    LOG_E("nvr", "cannot set up the event loop's %s: %s", what,
          nvr_strerror(err));
    daemon_abort_loop(d, n);
    return err;
}

/* Starts the signal watchers and the tick. On failure the caller stops
 * the daemon (daemon_stop() closes every handle). */
static int daemon_start_handles(struct daemon *d)
{
    int err;

    err = uv_signal_start(&d->sigint, signal_cb, SIGINT);
    if (err == 0)
        err = uv_signal_start(&d->sigterm, signal_cb, SIGTERM);
    if (err < 0) {
        LOG_E("nvr", "cannot watch SIGINT/SIGTERM: %s", nvr_strerror(err));
        return err;
    }
    err = uv_timer_start(&d->tick, tick_cb, DAEMON_TICK_MS, DAEMON_TICK_MS);
    if (err < 0) {
        LOG_E("nvr", "cannot start the status tick: %s", nvr_strerror(err));
        return err;
    }
    return 0;
}

int nvr_daemon_run(const struct nvr_config *cfg,
                   const struct nvr_daemon_options *opts)
{
    struct daemon *d;
    struct catalog_status *final_rows;
    int err, enabled = 0;

    for (int i = 0; i < cfg->n_cameras; i++)
        enabled += cfg->cameras[i].enabled != 0;
    if (enabled == 0) {
        LOG_E("nvr", "%s: no enabled camera to record", cfg->path);
        return -EINVAL;
    }
    d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->cfg = cfg;
    d->opts = opts;
    d->lock_fd = -1;
    d->cams = calloc((size_t)cfg->n_cameras, sizeof(*d->cams));
    d->views = calloc((size_t)cfg->n_cameras, sizeof(*d->views));
    d->prev_last_frame_us =
        calloc((size_t)cfg->n_cameras, sizeof(*d->prev_last_frame_us));
    if (!d->cams || !d->views || !d->prev_last_frame_us) {
        err = -ENOMEM;
        goto err_free;
    }
    err = daemon_prepare_storage(d);
    if (err < 0)
        goto err_free;
    nvr_daemon_audit_start(cfg, d->catalog_path);
    err = daemon_guard(d);
    if (err < 0)
        goto err_free;
    if (d->ipc && ipc_server_start(d->ipc) < 0) {
        ipc_server_free(d->ipc);
        d->ipc = NULL;
    }
    err = nvr_retention_job_new(cfg, d->catalog_path, &d->retention);
    if (err < 0)
        goto err_free;
    err = uv_loop_init(&d->loop);
    if (err < 0) {
        LOG_E("nvr", "cannot create the event loop: %s", nvr_strerror(err));
        goto err_free;
    }
    d->loop.data = d;
    err = daemon_init_handles(d);
    if (err < 0)
        goto err_free;
    err = daemon_start_cameras(d);
    if (err < 0)
        goto err_stop_writers;
    err = daemon_start_handles(d);
    if (err < 0)
        goto err_stop_writers;
    d->start_mono_us = nvr_clock_mono_us();
    LOG_I("nvr", "recording %d camera%s into %s", d->n_cams,
          d->n_cams == 1 ? "" : "s", cfg->storage_path);
    for (int i = 0; i < d->n_cams; i++)
        ingest_camera_start(d->cams[i].ingest);

    /* From here until the loop ends, storage asserts it is not called on
     * this thread. */
    nvr_thread_set_loop(1);
    daemon_run_loop(d);
    nvr_thread_set_loop(0);
    err = uv_loop_close(&d->loop);
    if (err < 0)
        LOG_W("nvr", "event loop closed with handles open: %s",
              nvr_strerror(err));

    /* The loop has ended: finish every open segment, then say so. */
    for (int i = 0; i < d->n_cams; i++) {
        writer_free(d->cams[i].writer);
        d->cams[i].writer = NULL;
    }
    nvr_retention_job_free(d->retention);
    d->retention = NULL;
    ipc_server_free(d->ipc);
    d->ipc = NULL;
    final_rows = calloc((size_t)d->n_cams, sizeof(*final_rows));
    if (final_rows) {
        for (int i = 0; i < d->n_cams; i++) {
            struct daemon_cam *c = &d->cams[i];

            memset(&final_rows[i], 0, sizeof(final_rows[i]));
            snprintf(final_rows[i].name, sizeof(final_rows[i].name), "%s",
                     c->cfg->name);
            snprintf(final_rows[i].state, sizeof(final_rows[i].state),
                     "stopped");
            final_rows[i].last_frame_us = d->views[i].last_frame_us;
            final_rows[i].frames = (int64_t)d->views[i].frames;
            final_rows[i].dropped = (int64_t)d->views[i].dropped;
            final_rows[i].refused = d->views[i].refused;
            final_rows[i].updated_us = nvr_clock_wall_us();
            snprintf(final_rows[i].error, sizeof(final_rows[i].error), "%s",
                     c->error);
        }
        if (status_write(&d->status_cat, d->catalog_path, final_rows,
                         d->n_cams) < 0)
            LOG_W("nvr", "cannot publish the final camera status");
        free(final_rows);
    }
    catalog_close(d->status_cat);
    nvr_daemon_audit_stop(cfg, d->catalog_path, "clean shutdown");
    LOG_I("nvr", "stopped; every open segment was finished");
    if (d->lock_fd >= 0)
        close(d->lock_fd);
    free(d->prev_last_frame_us);
    free(d->views);
    free(d->cams);
    check_targets_free(d->targets, cfg->n_cameras);
    free(d);
    return 0;

err_stop_writers:
    daemon_stop(d, "start-up failed");
    uv_run(&d->loop, UV_RUN_DEFAULT);
    for (int i = 0; i < d->n_cams; i++)
        writer_free(d->cams[i].writer);
    (void)uv_loop_close(&d->loop);
err_free:
    ipc_server_free(d->ipc);
    nvr_retention_job_free(d->retention);
    if (d->lock_fd >= 0)
        close(d->lock_fd);
    free(d->prev_last_frame_us);
    free(d->views);
    free(d->cams);
    check_targets_free(d->targets, cfg->n_cameras);
    free(d);
    return err;
}
