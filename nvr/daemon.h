/* SPDX-License-Identifier: MIT */
/*
 * The recorder: wires every configured camera's ingest session (on one libuv
 * loop, this thread) to its storage writer thread, publishes per-camera
 * status to the catalog about once a second (on the libuv thread pool), and
 * shuts down cleanly on SIGINT/SIGTERM.
 */
#ifndef NVR_DAEMON_H
#define NVR_DAEMON_H

#include <stdint.h>

#include "nvr/base/compiler.h"
#include "nvr/nvr_config.h"
#include "nvr/base/refusal.h"
#include "storage/layout.h"

/* A camera's live state as the loop thread sees it, for the tick callback. */
struct nvr_daemon_cam_view {
    const char *name;
    const char *state;     /* ingest_state_name() */
    int64_t last_frame_us; /* wall time of the last unit, 0 if none */
    int64_t bitrate_bps;
    uint64_t frames;   /* units written by the writer */
    uint64_t segments; /* segments closed */
    uint64_t dropped;  /* units refused, ingest and storage: the sum of
                          refused */
    const char *error; /* "" if none */
    struct nvr_refusals refused; /* by reason (nvr/base/refusal.h) */
};

/* Called on the loop thread about once a second with every camera's view
 * (borrowed for the call). */
typedef void (*nvr_daemon_tick_cb)(void *user,
                                   const struct nvr_daemon_cam_view *cams,
                                   int n_cams);

struct nvr_daemon_options {
    int64_t stop_after_ms;   /* 0: run until SIGINT/SIGTERM */
    nvr_daemon_tick_cb tick; /* may be NULL */
    void *user;
    int sandbox; /* 1: confine the process (nvr/sandbox.h) once storage is
                    open, before any thread starts; nvr run sets it */
};

/* The lock file in the storage directory held by a running recorder. Once
 * its start-up (crash recovery) is done, the recorder writes its run into
 * it: "pid N\nstarted_us T\n". */
#define NVR_DAEMON_LOCK_FILE STORAGE_LOCK_FILE

/* 1 if a recorder holds the lock of storage_path, else 0. Any thread. */
int nvr_daemon_is_running(const char *storage_path);

/*
 * 1 if a recorder holds the lock of storage_path and has finished its
 * start-up, with *started_us set to the wall time (UTC us) at which it took
 * the lock; else 0 (no recorder, or one still recovering), *started_us
 * untouched. Status rows updated before *started_us were written by an
 * earlier run, perhaps killed while "recording", and are not current.
 * Any thread.
 */
int nvr_daemon_run_started(const char *storage_path, int64_t *started_us);

/*
 * Runs the recorder with cfg until a signal (or stop_after_ms). Start-up
 * (storage directory, catalog migration, crash recovery) happens before the
 * loop starts. Returns 0 after a clean shutdown, -EINVAL if no camera is
 * enabled, -EBUSY if another recorder holds the storage directory, or a
 * negative errno if storage could not be opened.
 */
NVR_NODISCARD int nvr_daemon_run(const struct nvr_config *cfg,
                                 const struct nvr_daemon_options *opts);

#endif
