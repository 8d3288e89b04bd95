/* SPDX-License-Identifier: MIT */
/*
 * Self-sandboxing of `nvr run` (Linux). Once the config is loaded, the
 * storage opened and recovered and the camera addresses resolved, the
 * recorder gives up everything recording does not need:
 *  - no-new-privs and PR_SET_DUMPABLE 0 (no core dumps holding passwords,
 *    no ptrace by other processes of the same user);
 *  - Landlock: the storage directory read/write, a few files read only
 *    (the config, password files, time zone data, /dev/null, /proc/self),
 *    nothing else; with Landlock ABI 4 TCP connect() only to the cameras'
 *    ports and no TCP bind(); with ABI 6 no signals or abstract Unix
 *    sockets outside the process;
 *  - seccomp (libseccomp): an allow-list of system calls; sockets only
 *    AF_INET/AF_INET6 stream; no bind/listen, accept only on the
 *    operators' Unix socket made before; no exec, fork (threads
 *    only), ptrace, mount, namespaces, module or key management.
 * A protection the kernel lacks is skipped with a warning, never a failure.
 * Landlock applies to the calling thread and the threads it creates later,
 * so apply it on the main thread before any other thread exists; seccomp
 * is synchronised to every thread (TSYNC).
 */
#ifndef NVR_SANDBOX_H
#define NVR_SANDBOX_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nvr/base/compiler.h"
#include "nvr/check.h"
#include "nvr/nvr_config.h"
#include "storage/layout.h"

#define SANDBOX_STATUS_FILE  STORAGE_SANDBOX_STATUS_FILE
#define SANDBOX_MAX_PATHS    64   /* read-only paths of one sandbox */
#define SANDBOX_MAX_PORTS    1024 /* TCP ports of one sandbox */
#define SANDBOX_MAX_ITEMS    8    /* protections listed in a status */
#define SANDBOX_ITEM_MAX     192  /* bytes of one status item */
#define SANDBOX_STATUS_BYTES 4096 /* bytes of the status file read */

enum sandbox_protection {
    SANDBOX_NO_NEW_PRIVS = 1u << 0, /* "no-new-privs" */
    SANDBOX_NO_DUMP = 1u << 1,      /* "no-core-dumps" */
    SANDBOX_LANDLOCK_FS = 1u << 2,  /* "landlock-fs" */
    SANDBOX_LANDLOCK_NET = 1u << 3, /* "landlock-tcp" */
    SANDBOX_SECCOMP = 1u << 4,      /* "seccomp" */
};
#define SANDBOX_ALL 0x1fu

struct sandbox_config {
    const char *storage_dir;       /* read/write (borrowed) */
    const char *const *read_paths; /* read only; missing ones skipped */
    int n_read_paths;              /* at most SANDBOX_MAX_PATHS */
    const uint16_t *tcp_ports;     /* connect() only to these ports */
    int n_tcp_ports;               /* at most SANDBOX_MAX_PORTS */
    int allow_udp;    /* UDP sockets and bind() for RTP over UDP (a camera
                         with transport udp or auto); still no listen/accept */
    int allow_accept; /* 1: accept() on accept_fd, and on nothing else */
    int accept_fd;    /* the operators' Unix socket, made before */
};

struct sandbox_report {
    unsigned active;   /* SANDBOX_* bits in force */
    int landlock_abi;  /* 0: the kernel has no Landlock */
    char missing[512]; /* "; "-separated reasons for what is not active */
};

/* "no-new-privs", "no-core-dumps", "landlock-fs", "landlock-tcp",
 * "seccomp"; NULL for anything else. */
const char *sandbox_protection_name(unsigned bit);

/*
 * Applies every protection the kernel supports to the calling process.
 * Fills *out with what is active and why the rest is not. Returns 0, or
 * -EINVAL for a bad config (too many paths or ports); a protection the
 * kernel lacks or refuses is not an error. Main thread, before any other
 * thread is created. Irreversible.
 */
NVR_NODISCARD int sandbox_apply(const struct sandbox_config *cfg,
                                struct sandbox_report *out);

/*
 * For nvr run: builds the sandbox for cfg and the allowed targets (one per
 * camera, from check_run_targets()) and accept_fd (the operators' socket,
 * -1 for none), applies it, logs each protection
 * (warnings for missing ones) and writes SANDBOX_STATUS_FILE into the
 * storage directory for `nvr status`. Returns 0 or a negative errno from
 * sandbox_apply(). Main thread, before any other thread is created.
 */
NVR_NODISCARD int sandbox_start_recorder(const struct nvr_config *cfg,
                                         const struct check_target *targets,
                                         int n_targets, int accept_fd);

/*
 * A pause point for the integration tests. In nvr-testhooks (this file
 * built with NVR_TEST_HOOKS, never installed), when $NVR_TEST_PAUSE_AT
 * names `point` and $NVR_TEST_PAUSE_FILE a file, it logs "test hook:
 * paused at POINT" and waits while that file exists (60 s at most), so a
 * test can look at the recorder's state at that point. In the nvr program
 * it does nothing. Start-up (main) thread only.
 */
void sandbox_test_pause(const char *point);

/* What `nvr status` shows: the recorder's last start. */
struct sandbox_status {
    int64_t started_us; /* wall clock of the start; 0 if unknown */
    long pid;
    int n_active;
    char active[SANDBOX_MAX_ITEMS][SANDBOX_ITEM_MAX];
    int n_missing;
    char missing[SANDBOX_MAX_ITEMS][SANDBOX_ITEM_MAX];
};

/* Writes the status file for report r into storage_dir (replacing it).
 * Returns 0 or a negative errno. */
NVR_NODISCARD int sandbox_status_write(const char *storage_dir,
                                       const struct sandbox_report *r);

/* Reads the status file of storage_dir. Returns 0, -ENOENT (the recorder
 * never started there), or a negative errno. Unknown lines are skipped. */
NVR_NODISCARD int sandbox_status_read(const char *storage_dir,
                                      struct sandbox_status *out);

/*
 * For nvr status: writes "protections": {"active": [...], "missing": [...],
 * "since": ..., "since_us": ...} from the status file of storage_dir, or
 * "protections": null when there is none.
 */
struct json_out;
void sandbox_status_json(struct json_out *j, const char *storage_dir);

/* For nvr status: prints the protections as text lines to f; `running` says
 * whether they are the running recorder's or its last start's. */
void sandbox_status_print(FILE *f, const char *storage_dir, int running);

#endif
