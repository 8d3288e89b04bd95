/* SPDX-License-Identifier: MIT */
/*
 * The export worker (see tui_export.h). The UI thread and the worker
 * share only the atomics below; the request's strings are copies the
 * worker reads, its outcome is read after the join.
 */
#include "config.h"
#include "ui-tui/tui_export.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nvr/base/timefmt.h"
#include "storage/catalog.h"

struct tui_export {
    pthread_t thread;
    /* The request: written before the worker starts, then read only. */
    char catalog_path[PATH_MAX];
    char storage_dir[PATH_MAX];
    char export_dir[PATH_MAX];
    char camera[128];
    char reason[EXPORT_MAX_REASON + 1];
    int64_t from_us, to_us;
    /* Shared with the worker. */
    atomic_llong done, total; /* source bytes */
    atomic_int cancel;        /* set by the UI thread */
    atomic_int finished;      /* set by the worker, last */
    /* The worker's, read after the join. */
    int reports; /* progress calls so far */
    struct tui_export_outcome outcome;
};

#ifdef NVR_TEST_HOOKS
/* Test builds only: with NVR_TEST_EXPORT_GATE set, the worker waits at
 * its second progress report (reading the first source, the clip's file
 * open) until that file exists or the export is cancelled, so a test can
 * watch the UI during an export and cancel it midway. */
static void test_gate(struct tui_export *e)
{
    const char *gate = getenv("NVR_TEST_EXPORT_GATE");
    const struct timespec pause = {0, 10 * 1000000L};

    if (!gate || e->reports != 2)
        return;
    while (!atomic_load(&e->cancel) && access(gate, F_OK) != 0)
        nanosleep(&pause, NULL);
}
#endif

static int on_progress(void *user, int64_t done, int64_t total)
{
    struct tui_export *e = user;

    atomic_store(&e->total, total);
    atomic_store(&e->done, done);
    e->reports++;
#ifdef NVR_TEST_HOOKS
    test_gate(e);
#endif
    return atomic_load(&e->cancel);
}

/* The worker's catalog connection lives and dies on the worker. */
static int run(struct tui_export *e)
{
    struct tui_export_outcome *o = &e->outcome;
    struct export_request req;
    struct catalog *cat;
    char stamp[32];
    int err;

    err = catalog_open(e->catalog_path, CATALOG_READWRITE, &cat);
    if (err < 0)
        return err;
    memset(&req, 0, sizeof(req));
    req.storage_dir = e->storage_dir;
    req.camera = e->camera;
    req.from_us = e->from_us;
    req.to_us = e->to_us;
    req.out_path = o->path;
    req.reason = e->reason;
    /* "<dir>/<camera>-<YYYYmmdd-HHMMSS>.mp4", or .mov when the audio is
     * G.711 (MP4 cannot hold it): the same rule as nvr export's. */
    nvr_time_format_local_strf(e->from_us, "-%Y%m%d-%H%M%S", stamp,
                               sizeof(stamp));
    err = export_output_path(cat, &req, e->export_dir[0] ? e->export_dir : ".",
                             EXPORT_OUT_FOLDER, stamp, o->path, sizeof(o->path),
                             NULL);
    if (err == 0)
        err = export_run(cat, &req, on_progress, e, &o->res);
    catalog_close(cat);
    return err;
}

static void *worker(void *arg)
{
    struct tui_export *e = arg;

    e->outcome.err = run(e);
    atomic_store(&e->finished, 1);
    return NULL;
}

static int copy(char *out, size_t size, const char *s)
{
    int n = snprintf(out, size, "%s", s ? s : "");

    return n < 0 || (size_t)n >= size ? -EINVAL : 0;
}

int tui_export_start(const struct tui_export_spec *spec,
                     struct tui_export **out)
{
    struct tui_export *e = calloc(1, sizeof(*e));
    sigset_t block, old;
    int err;

    if (!e)
        return -ENOMEM;
    err = copy(e->catalog_path, sizeof(e->catalog_path), spec->catalog_path);
    err = err ? err
              : copy(e->storage_dir, sizeof(e->storage_dir), spec->storage_dir);
    err = err ? err
              : copy(e->export_dir, sizeof(e->export_dir), spec->export_dir);
    err = err ? err : copy(e->camera, sizeof(e->camera), spec->camera);
    err = err ? err : copy(e->reason, sizeof(e->reason), spec->reason);
    if (err < 0) {
        free(e);
        return err;
    }
    e->from_us = spec->from_us;
    e->to_us = spec->to_us;
    /* The UI thread takes the stop signals and SIGWINCH, not the worker. */
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGWINCH);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    err = -pthread_create(&e->thread, NULL, worker, e);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err < 0) {
        free(e);
        return err;
    }
    *out = e;
    return 0;
}

int tui_export_percent(const struct tui_export *e)
{
    int64_t total = atomic_load(&e->total), done = atomic_load(&e->done);

    return total > 0 ? (int)(done * 100 / total) : 0;
}

int tui_export_done(const struct tui_export *e)
{
    return atomic_load(&e->finished);
}

void tui_export_cancel(struct tui_export *e)
{
    atomic_store(&e->cancel, 1);
}

int tui_export_cancelling(const struct tui_export *e)
{
    return atomic_load(&e->cancel);
}

void tui_export_finish(struct tui_export *e, struct tui_export_outcome *out)
{
    if (!e)
        return;
    pthread_join(e->thread, NULL);
    if (out)
        *out = e->outcome;
    free(e);
}
