/* SPDX-License-Identifier: MIT */
/*
 * The recorder's retention thread (see retention_job.h). It sleeps on a
 * condition variable with a deadline; a kick from a writer thread (disk
 * full) or the deadline wakes it. Kicks that arrive during a pass are
 * coalesced into one more pass. Stopping sets the cancel flag the pass
 * checks between batches, so shutdown waits for one batch at most.
 */
#include "config.h"
#include "nvr/retention_job.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include "nvr/base/clock.h"
#include "nvr/base/err.h"
#include "nvr/base/log.h"

#define JOB_ALERT_MAX 256
#define JOB_PATH_MAX  2048

struct nvr_retention_job {
    const struct nvr_config *cfg;
    const char *catalog_path;
    pthread_t thread;
    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cv;
    bool kicked;     /* a writer hit a full disk: an emergency pass */
    bool kicked_low; /* a writer saw less than min_free: a pass soon */
    atomic_int stop;
    char alert[JOB_ALERT_MAX];
    char reserve_path[JOB_PATH_MAX]; /* job thread only */
};

/*
 * The catalog's space reserve: a file of NVR_RETENTION_RESERVE_BYTES kept
 * in the storage directory, for the catalog's own transactions when the
 * disk is full. An emergency pass (a writer hit ENOSPC) deletes it first,
 * so that the pass's deletions can commit, and works to min_free plus the
 * reserve; the reserve is made again as soon as free space is back above
 * min_free plus the reserve, so making it never takes the disk under
 * min_free. When only held footage is left it stays released, so that
 * status, events and finished rows still commit.
 */
static bool job_reserve_held(const struct nvr_retention_job *job)
{
    return access(job->reserve_path, F_OK) == 0;
}

static void job_reserve_make(struct nvr_retention_job *job,
                             const struct retention_report *rep)
{
    int fd;

    if (job_reserve_held(job) || rep->free_bytes < 0 ||
        rep->free_bytes < rep->min_free_target + NVR_RETENTION_RESERVE_BYTES)
        return;
    fd = open(job->reserve_path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    if (posix_fallocate(fd, 0, (off_t)NVR_RETENTION_RESERVE_BYTES) != 0 ||
        fsync(fd) != 0) {
        close(fd);
        (void)unlink(job->reserve_path);
        return;
    }
    close(fd);
}

static void job_reserve_release(struct nvr_retention_job *job)
{
    if (unlink(job->reserve_path) == 0)
        LOG_W("nvr",
              "disk full: released the %d MB space reserve so that the "
              "catalog can commit the deletions that make room",
              (int)(NVR_RETENTION_RESERVE_BYTES / ((int64_t)1024 * 1024)));
}

int nvr_retention_setup(const struct nvr_config *cfg, const char *catalog_path,
                        struct retention_config *rc,
                        struct retention_camera **cams)
{
    struct retention_camera *v = calloc((size_t)cfg->n_cameras + 1, sizeof(*v));

    if (!v)
        return -ENOMEM;
    for (int i = 0; i < cfg->n_cameras; i++) {
        v[i].name = cfg->cameras[i].name;
        v[i].retain_days = cfg->cameras[i].retain_days;
        v[i].max_bytes = cfg->cameras[i].max_bytes;
    }
    memset(rc, 0, sizeof(*rc));
    rc->storage_dir = cfg->storage_path;
    rc->catalog_path = catalog_path;
    rc->cameras = v;
    rc->n_cameras = cfg->n_cameras;
    rc->default_retain_days = RETENTION_DEFAULT_DAYS;
    if (cfg->min_free_is_percent)
        rc->min_free_percent = cfg->min_free_percent;
    else
        rc->min_free_bytes = cfg->min_free_bytes;
    *cams = v;
    return 0;
}

static void job_pass(struct nvr_retention_job *job, bool emergency)
{
    struct retention_config rc;
    struct retention_report rep;
    struct retention_camera *cams;
    char alert[JOB_ALERT_MAX] = "";
    int err;

    if (nvr_retention_setup(job->cfg, job->catalog_path, &rc, &cams) < 0)
        return;
    rc.cancel = &job->stop;
    if (emergency) {
        LOG_W("nvr", "disk full: running an emergency retention pass");
        job_reserve_release(job);
    }
    /* While the reserve is released, make room for it too. */
    if (!job_reserve_held(job))
        rc.extra_free_bytes = NVR_RETENTION_RESERVE_BYTES;
    err = retention_run(&rc, &rep);
    free(cams);
    if (err == -ECANCELED)
        return;
    job_reserve_make(job, &rep);
    if (err < 0) {
        snprintf(alert, sizeof(alert), "storage: retention failed: %s",
                 nvr_strerror(err));
    } else if (rep.min_free_only_held) {
        snprintf(alert, sizeof(alert),
                 "storage: under min_free (%" PRId64 " MB free, %" PRId64
                 " MB wanted) and only held footage is left; held footage "
                 "is never deleted",
                 rep.free_bytes / 1000000, rep.min_free_work / 1000000);
    } else if (rep.min_free_unmet) {
        snprintf(alert, sizeof(alert),
                 "storage: under min_free (%" PRId64 " MB free, %" PRId64
                 " MB wanted)",
                 rep.free_bytes / 1000000, rep.min_free_work / 1000000);
    }
    pthread_mutex_lock(&job->mu);
    snprintf(job->alert, sizeof(job->alert), "%s", alert);
    pthread_mutex_unlock(&job->mu);
}

static void *job_main(void *arg)
{
    struct nvr_retention_job *job = arg;
    int64_t next_us = 0; /* the first pass runs at start-up */
    int64_t last_emergency_us = INT64_MIN / 2;

    pthread_mutex_lock(&job->mu);
    while (!atomic_load(&job->stop)) {
        int64_t now = nvr_clock_mono_us();
        bool kicked = job->kicked || job->kicked_low;
        bool due = kicked && now - last_emergency_us >=
                                 NVR_RETENTION_EMERGENCY_GAP_MS * 1000LL;
        bool emergency = due && job->kicked;

        if (!due && now < next_us) {
            int64_t until = next_us;
            struct timespec ts;

            if (kicked)
                until =
                    NVR_MIN(until, last_emergency_us +
                                       NVR_RETENTION_EMERGENCY_GAP_MS * 1000LL);
            /* The condition variable waits on CLOCK_REALTIME: convert. */
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t wake = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 +
                           (until - now);
            ts.tv_sec = (time_t)(wake / 1000000);
            ts.tv_nsec = (long)(wake % 1000000) * 1000;
            pthread_cond_timedwait(&job->cv, &job->mu, &ts);
            continue;
        }
        if (due) {
            job->kicked = false;
            job->kicked_low = false;
            last_emergency_us = now;
        }
        pthread_mutex_unlock(&job->mu);
        job_pass(job, emergency);
        pthread_mutex_lock(&job->mu);
        /* While an alert stands, look again soon so that it clears
         * soon after an operator acts (releases a hold, adds space). */
        if (!due || job->alert[0])
            next_us = nvr_clock_mono_us() +
                      (job->alert[0] ? NVR_RETENTION_ALERT_INTERVAL_S
                                     : NVR_RETENTION_INTERVAL_S) *
                          1000000LL;
    }
    pthread_mutex_unlock(&job->mu);
    return NULL;
}

int nvr_retention_job_new(const struct nvr_config *cfg,
                          const char *catalog_path,
                          struct nvr_retention_job **out)
{
    struct nvr_retention_job *job = calloc(1, sizeof(*job));
    int r;

    if (!job)
        return -ENOMEM;
    job->cfg = cfg;
    job->catalog_path = catalog_path;
    snprintf(job->reserve_path, sizeof(job->reserve_path), "%s/%s",
             cfg->storage_path, NVR_RETENTION_RESERVE_FILE);
    atomic_init(&job->stop, 0);
    r = -pthread_mutex_init(&job->mu, NULL);
    if (r < 0)
        goto err_free;
    r = -pthread_cond_init(&job->cv, NULL);
    if (r < 0)
        goto err_mutex;
    r = -pthread_create(&job->thread, NULL, job_main, job);
    if (r < 0)
        goto err_cond;
    *out = job;
    return 0;

err_cond:
    pthread_cond_destroy(&job->cv);
err_mutex:
    pthread_mutex_destroy(&job->mu);
err_free:
    free(job);
    return r;
}

void nvr_retention_job_kick(struct nvr_retention_job *job)
{
    if (!job)
        return;
    pthread_mutex_lock(&job->mu);
    job->kicked = true;
    pthread_cond_signal(&job->cv);
    pthread_mutex_unlock(&job->mu);
}

void nvr_retention_job_kick_low(struct nvr_retention_job *job)
{
    if (!job)
        return;
    pthread_mutex_lock(&job->mu);
    if (!job->kicked_low) {
        job->kicked_low = true;
        pthread_cond_signal(&job->cv);
    }
    pthread_mutex_unlock(&job->mu);
}

void nvr_retention_job_alert(struct nvr_retention_job *job, char *out,
                             size_t size)
{
    if (size == 0)
        return;
    out[0] = '\0';
    if (!job)
        return;
    pthread_mutex_lock(&job->mu);
    snprintf(out, size, "%s", job->alert);
    pthread_mutex_unlock(&job->mu);
}

void nvr_retention_job_free(struct nvr_retention_job *job)
{
    if (!job)
        return;
    pthread_mutex_lock(&job->mu);
    atomic_store(&job->stop, 1);
    pthread_cond_signal(&job->cv);
    pthread_mutex_unlock(&job->mu);
    pthread_join(job->thread, NULL);
    pthread_cond_destroy(&job->cv);
    pthread_mutex_destroy(&job->mu);
    free(job);
}
