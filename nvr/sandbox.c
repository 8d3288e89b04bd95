/* SPDX-License-Identifier: MIT */
/*
 * Self-sandboxing of `nvr run` (see sandbox.h): no-new-privs, no core
 * dumps, Landlock through raw system calls (glibc has no wrappers; the
 * constants newer than the build host's kernel headers are defined here,
 * and the kernel's ABI version decides which are used), and a seccomp
 * allow-list through libseccomp.
 *
 * The allow-list is what the recorder's steady state uses: file I/O in the
 * storage directory (FFmpeg's file protocol, SQLite), libuv's epoll loop
 * and thread pool, TCP sockets to the cameras (and UDP sockets bound and
 * connected to them when a camera uses RTP over UDP), threads, time and
 * memory.
 * Anything else fails with EPERM instead of killing the process, so a
 * forgotten call shows up as an error in the log, not as a crash.
 * Sanitizer builds also allow what the leak checker needs at exit (a
 * ptrace-based stop-the-world helper).
 */
#include "config.h"
#include "nvr/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/landlock.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>
/* libseccomp's SCMP_A0..SCMP_A5 macros leave the second datum of struct
 * scmp_arg_cmp to zero initialisation, which clang flags in our code. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "nvr/base/clock.h"
#include "nvr/base/err.h"
#include "nvr/base/log.h"
#include "nvr/base/json.h"
#include "nvr/base/timefmt.h"

#ifdef NVR_TEST_HOOKS
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#endif

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANDBOX_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define SANDBOX_SANITIZER 1
#endif
#endif
#ifndef SANDBOX_SANITIZER
#define SANDBOX_SANITIZER 0
#endif

/* Landlock ABI 2..6 constants, for kernel headers older than them. */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#define SANDBOX_LL_NET_BIND_TCP    (1ULL << 0)
#define SANDBOX_LL_NET_CONNECT_TCP (1ULL << 1)
#define SANDBOX_LL_RULE_NET_PORT   2
#define SANDBOX_LL_SCOPE_UNIX      (1ULL << 0)
#define SANDBOX_LL_SCOPE_SIGNAL    (1ULL << 1)
#define SANDBOX_LL_FS_ABI1         ((1ULL << 13) - 1)

/* The kernel's struct landlock_ruleset_attr as of ABI 6; older kernels get
 * the prefix they know (its size selects it). */
struct sandbox_ll_ruleset {
    uint64_t handled_access_fs;
    uint64_t handled_access_net; /* ABI 4 */
    uint64_t scoped;             /* ABI 6 */
};

struct sandbox_ll_net_port {
    uint64_t allowed_access;
    uint64_t port;
};

const char *sandbox_protection_name(unsigned bit)
{
    switch (bit) {
    case SANDBOX_NO_NEW_PRIVS:
        return "no-new-privs";
    case SANDBOX_NO_DUMP:
        return "no-core-dumps";
    case SANDBOX_LANDLOCK_FS:
        return "landlock-fs";
    case SANDBOX_LANDLOCK_NET:
        return "landlock-tcp";
    case SANDBOX_SECCOMP:
        return "seccomp";
    default:
        return NULL;
    }
}

NVR_PRINTF(2, 3)
static void add_missing(struct sandbox_report *r, const char *fmt, ...)
{
    size_t len = strlen(r->missing);
    va_list ap;

    if (len + 3 >= sizeof(r->missing))
        return;
    if (len > 0) {
        memcpy(r->missing + len, "; ", 3);
        len += 2;
    }
    va_start(ap, fmt);
    /* clang-analyzer 14 loses the va_start above on some paths. */
    // NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
    vsnprintf(r->missing + len, sizeof(r->missing) - len, fmt, ap);
    va_end(ap);
}

/* ---- Landlock ---- */

static int ll_add_path(int ruleset, const char *path, uint64_t dir_access,
                       uint64_t file_access)
{
    struct landlock_path_beneath_attr pb;
    struct stat st;
    int fd = open(path, O_PATH | O_CLOEXEC), err = 0;

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        err = -errno;
        goto out;
    }
    memset(&pb, 0, sizeof(pb));
    pb.allowed_access = S_ISDIR(st.st_mode) ? dir_access : file_access;
    pb.parent_fd = fd;
    if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb,
                0) < 0)
        err = -errno;
out:
    close(fd);
    return err;
}

static void ll_apply(const struct sandbox_config *cfg, struct sandbox_report *r)
{
    struct sandbox_ll_ruleset attr;
    size_t attr_size = sizeof(uint64_t);
    uint64_t fs_all = SANDBOX_LL_FS_ABI1, rw, ro_dir, ro_file;
    long abi;
    int rs, err;

    abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
                  LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 0) {
        add_missing(r, "landlock-fs: %s",
                    errno == EOPNOTSUPP ? "Landlock is disabled in this kernel"
                                        : "this kernel has no Landlock");
        add_missing(r, "landlock-tcp: this kernel has no Landlock");
        return;
    }
    r->landlock_abi = (int)abi;
    if (abi >= 2)
        fs_all |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3)
        fs_all |= LANDLOCK_ACCESS_FS_TRUNCATE;
    if (abi >= 5)
        fs_all |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
    memset(&attr, 0, sizeof(attr));
    attr.handled_access_fs = fs_all;
    if (abi >= 4) {
        attr.handled_access_net =
            SANDBOX_LL_NET_BIND_TCP | SANDBOX_LL_NET_CONNECT_TCP;
        attr_size = 2 * sizeof(uint64_t);
    }
    if (abi >= 6) {
        attr.scoped = SANDBOX_LL_SCOPE_UNIX | SANDBOX_LL_SCOPE_SIGNAL;
        attr_size = sizeof(attr);
    }
    rs = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0);
    if (rs < 0) {
        add_missing(r, "landlock-fs: cannot create a ruleset: %s",
                    nvr_strerror(-errno));
        return;
    }
    ro_file = LANDLOCK_ACCESS_FS_READ_FILE;
    ro_dir = ro_file | LANDLOCK_ACCESS_FS_READ_DIR;
    rw = ro_dir | LANDLOCK_ACCESS_FS_WRITE_FILE |
         LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
         LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG;
    rw |= fs_all & (LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE);
    err = ll_add_path(rs, cfg->storage_dir, rw,
                      rw & (ro_file | LANDLOCK_ACCESS_FS_WRITE_FILE |
                            LANDLOCK_ACCESS_FS_TRUNCATE));
    if (err < 0) {
        add_missing(r, "landlock-fs: storage %s: %s", cfg->storage_dir,
                    nvr_strerror(err));
        close(rs);
        return;
    }
    (void)ll_add_path(rs, "/dev/null", 0,
                      ro_file | LANDLOCK_ACCESS_FS_WRITE_FILE);
    for (int i = 0; i < cfg->n_read_paths; i++) {
        err = ll_add_path(rs, cfg->read_paths[i], ro_dir, ro_file);
        if (err < 0 && err != -ENOENT)
            LOG_W("sandbox", "cannot allow reading %s: %s", cfg->read_paths[i],
                  nvr_strerror(err));
    }
    if (abi >= 4) {
        for (int i = 0; i < cfg->n_tcp_ports; i++) {
            struct sandbox_ll_net_port np = {
                .allowed_access = SANDBOX_LL_NET_CONNECT_TCP,
                .port = cfg->tcp_ports[i],
            };

            if (syscall(SYS_landlock_add_rule, rs, SANDBOX_LL_RULE_NET_PORT,
                        &np, 0) < 0)
                LOG_W("sandbox", "cannot allow TCP port %u: %s",
                      (unsigned)cfg->tcp_ports[i], nvr_strerror(-errno));
        }
    } else {
        add_missing(r,
                    "landlock-tcp: this kernel's Landlock (ABI %ld) has no "
                    "TCP rules (ABI 4, Linux 6.7)",
                    abi);
    }
    if (syscall(SYS_landlock_restrict_self, rs, 0) < 0) {
        add_missing(r, "landlock-fs: cannot restrict the process: %s",
                    nvr_strerror(-errno));
        close(rs);
        return;
    }
    close(rs);
    r->active |= SANDBOX_LANDLOCK_FS;
    if (abi >= 4)
        r->active |= SANDBOX_LANDLOCK_NET;
}

/* ---- seccomp ---- */

/* Allowed without conditions. Names unknown on this architecture are
 * skipped. */
static const char *const seccomp_allowed[] = {
    /* files (storage directory, catalog, segment files) */
    "read",
    "write",
    "readv",
    "writev",
    "pread64",
    "pwrite64",
    "preadv",
    "pwritev",
    "preadv2",
    "pwritev2",
    "lseek",
    "_llseek",
    "close",
    "close_range",
    "open",
    "openat",
    "stat",
    "fstat",
    "lstat",
    "newfstatat",
    "fstatat64",
    "stat64",
    "fstat64",
    "lstat64",
    "statx",
    "statfs",
    "fstatfs",
    "statfs64",
    "fstatfs64",
    "access",
    "faccessat",
    "faccessat2",
    "getdents",
    "getdents64",
    "fcntl",
    "fcntl64",
    "flock",
    "fsync",
    "fdatasync",
    "ftruncate",
    "ftruncate64",
    "fallocate",
    "fadvise64",
    "unlink",
    "unlinkat",
    "rename",
    "renameat",
    "renameat2",
    "mkdir",
    "mkdirat",
    "rmdir",
    "readlink",
    "readlinkat",
    "getcwd",
    "fchmod",
    "fchown",
    "umask",
    "msync",
    "chmod",
    "fchmodat",
    "utimensat",
    "link",
    "linkat",
    "sync_file_range",
    "syncfs",
    "sendfile",
    "copy_file_range",
    /* memory */
    "mmap",
    "mmap2",
    "munmap",
    "mprotect",
    "mremap",
    "madvise",
    "brk",
    /* threads and synchronisation */
    "futex",
    "futex_time64",
    "set_robust_list",
    "get_robust_list",
    "rseq",
    "set_tid_address",
    "sched_yield",
    "sched_getaffinity",
    "membarrier",
    /* time */
    "nanosleep",
    "clock_nanosleep",
    "clock_nanosleep_time64",
    "clock_gettime",
    "clock_gettime64",
    "clock_getres",
    "clock_getres_time64",
    "gettimeofday",
    "time",
    /* signals (libuv's signal handles, abort) */
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "sigreturn",
    "sigaltstack",
    /* identity and limits */
    "getpid",
    "gettid",
    "getppid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "getresuid",
    "getresgid",
    "getrandom",
    "uname",
    "getrlimit",
    "ugetrlimit",
    "getrusage",
    "sysinfo",
    "times",
    /* the event loop */
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "eventfd",
    "eventfd2",
    "pipe",
    "pipe2",
    "poll",
    "ppoll",
    "ppoll_time64",
    "select",
    "pselect6",
    "dup",
    "dup2",
    "dup3",
    /* sockets the cameras' connections use; socket() itself below */
    "connect",
    "getsockopt",
    "setsockopt",
    "getsockname",
    "getpeername",
    "recvfrom",
    "recvmsg",
    "recvmmsg",
    "sendto",
    "sendmsg",
    "sendmmsg",
    "shutdown",
    /* ending */
    "exit",
    "exit_group",
    "restart_syscall",
};

/* Sanitizer builds: the leak checker stops the world with a ptrace-based
 * helper task at exit. */
static const char *const seccomp_sanitizer[] = {
    "ptrace",
    "wait4",
    "waitid",
    "clone",
    "prctl",
    "kill",
    "tgkill",
    "tkill",
    "sched_setaffinity",
    "process_vm_readv",
    "prlimit64",
    "ioctl",
};

static int seccomp_add_named(scmp_filter_ctx ctx, const char *const *names,
                             size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int nr = seccomp_syscall_resolve_name(names[i]);
        int err;

        if (nr == __NR_SCMP_ERROR)
            continue;
        err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        if (err < 0 && err != -EEXIST)
            return err;
    }
    return 0;
}

static int seccomp_add_conditional(scmp_filter_ctx ctx, int allow_udp,
                                   int accept_fd)
{
    /* FS_IOC_GETFLAGS only reads: the catalog names an immutable or
     * append-only file of its own when SQLite cannot write it. */
    static const unsigned long ioctls[] = {FIONBIO,        FIOCLEX, FIONCLEX,
                                           FIONREAD,       TCGETS,  TIOCGWINSZ,
                                           FS_IOC_GETFLAGS};
    static const int families[] = {AF_INET, AF_INET6};
    static const int prctls[] = {PR_SET_NAME, PR_GET_NAME, PR_GET_DUMPABLE};
    scmp_datum_t pid;
    int err = 0;

    /* Sockets: TCP over IPv4 or IPv6 only (type without its flags). */
    for (size_t i = 0; i < NVR_ARRAY_SIZE(families) && err == 0; i++)
        err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
                               SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)families[i]),
                               SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_STREAM));
    /* RTP over UDP: datagram sockets, bound to a local port pair and
     * connected to the camera (rtsp_udp.c). Landlock still refuses a TCP
     * bind, and listen/accept stay denied. */
    for (size_t i = 0; allow_udp && i < NVR_ARRAY_SIZE(families) && err == 0;
         i++)
        err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
                               SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)families[i]),
                               SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_DGRAM));
    if (allow_udp && err == 0)
        err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(bind), 0);
    /* The operators' socket (nvr/ipc_server.c): accept on it alone. */
    if (accept_fd >= 0 && err == 0)
        err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(accept4), 1,
                               SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)accept_fd));
    if (accept_fd >= 0 && err == 0)
        err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(accept), 1,
                               SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)accept_fd));
    /* glibc tries clone3 first and falls back to clone on ENOSYS; clone3
     * passes its flags in memory, where seccomp cannot look. */
    if (err == 0)
        err =
            seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    /* prlimit64 only to read limits (getrlimit). */
    if (err == 0 && !SANDBOX_SANITIZER)
        err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 1,
                               SCMP_A2(SCMP_CMP_EQ, 0));
    if (SANDBOX_SANITIZER)
        return err;
    /* Threads, never processes. */
    if (err == 0)
        err = seccomp_rule_add(
            ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
            SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
    for (size_t i = 0; i < NVR_ARRAY_SIZE(ioctls) && err == 0; i++)
        err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                               SCMP_A1(SCMP_CMP_EQ, ioctls[i]));
    for (size_t i = 0; i < NVR_ARRAY_SIZE(prctls) && err == 0; i++)
        err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
                               SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)prctls[i]));
    /* Signals to this process only (abort(), raise()). */
    pid = (scmp_datum_t)getpid();
    if (err == 0)
        err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
                               SCMP_A0(SCMP_CMP_EQ, pid));
    if (err == 0)
        err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1,
                               SCMP_A0(SCMP_CMP_EQ, pid));
    return err;
}

static void seccomp_apply(const struct sandbox_config *cfg,
                          struct sandbox_report *r)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
    int err;

    if (!ctx) {
        add_missing(r, "seccomp: cannot create a filter");
        return;
    }
    err = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    if (err == 0)
        err = seccomp_add_named(ctx, seccomp_allowed,
                                NVR_ARRAY_SIZE(seccomp_allowed));
    if (err == 0 && SANDBOX_SANITIZER)
        err = seccomp_add_named(ctx, seccomp_sanitizer,
                                NVR_ARRAY_SIZE(seccomp_sanitizer));
    if (err == 0)
        err = seccomp_add_conditional(ctx, cfg->allow_udp,
                                      cfg->allow_accept ? cfg->accept_fd : -1);
    if (err == 0)
        err = seccomp_load(ctx);
    if (err < 0)
        add_missing(r, "seccomp: %s", nvr_strerror(err));
    else
        r->active |= SANDBOX_SECCOMP;
    seccomp_release(ctx);
}

/* ---- the whole sandbox ---- */

int sandbox_apply(const struct sandbox_config *cfg, struct sandbox_report *out)
{
    if (cfg->n_read_paths < 0 || cfg->n_read_paths > SANDBOX_MAX_PATHS ||
        cfg->n_tcp_ports < 0 || cfg->n_tcp_ports > SANDBOX_MAX_PORTS ||
        !cfg->storage_dir)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0)
        out->active |= SANDBOX_NO_NEW_PRIVS;
    else
        add_missing(out, "no-new-privs: %s", nvr_strerror(-errno));
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0)
        out->active |= SANDBOX_NO_DUMP;
    else
        add_missing(out, "no-core-dumps: %s", nvr_strerror(-errno));
    /* Both need no-new-privs when the process lacks CAP_SYS_ADMIN. */
    ll_apply(cfg, out);
    seccomp_apply(cfg, out);
    return 0;
}

#ifdef NVR_TEST_HOOKS
/* Test builds only: what a hijacked recorder would try once sandboxed.
 * NVR_TEST_ESCAPE_FILE names a file outside storage to open and
 * NVR_TEST_ESCAPE_PORT a TCP port on 127.0.0.1 that is no camera's. */
static void *test_escape(void *arg)
{
    const char *who = arg;
    const char *file = getenv("NVR_TEST_ESCAPE_FILE");
    const char *port = getenv("NVR_TEST_ESCAPE_PORT");

    if (file) {
        int fd = open(file, O_RDONLY | O_CLOEXEC);

        if (fd >= 0) {
            LOG_E("sandbox", "test hook (%s): open %s: allowed", who, file);
            close(fd);
        } else {
            LOG_W("sandbox", "test hook (%s): open %s: denied (%s)", who, file,
                  strerror(errno));
        }
    }
    if (port) {
        struct sockaddr_in sa;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)atoi(port));
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd < 0) {
            LOG_W("sandbox", "test hook (%s): socket: denied (%s)", who,
                  strerror(errno));
        } else if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            LOG_E("sandbox", "test hook (%s): connect 127.0.0.1:%s: allowed",
                  who, port);
        } else {
            LOG_W("sandbox",
                  "test hook (%s): connect 127.0.0.1:%s: denied (%s)", who,
                  port, strerror(errno));
        }
        if (fd >= 0)
            close(fd);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && listen(fd, 1) == 0)
            LOG_E("sandbox", "test hook (%s): listen: allowed", who);
        else
            LOG_W("sandbox", "test hook (%s): listen: denied (%s)", who,
                  strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    return NULL;
}

static void sandbox_test_hook(void)
{
    pthread_t t;

    test_escape("main thread");
    if (pthread_create(&t, NULL, test_escape, (void *)"new thread") == 0)
        pthread_join(t, NULL);
}

void sandbox_test_pause(const char *point)
{
    const char *at = getenv("NVR_TEST_PAUSE_AT");
    const char *file = getenv("NVR_TEST_PAUSE_FILE");
    const struct timespec step = {.tv_nsec = 10L * 1000 * 1000};

    if (!at || !file || strcmp(at, point) != 0)
        return;
    LOG_I("sandbox", "test hook: paused at %s while %s exists", point, file);
    for (int i = 0; i < 6000 && access(file, F_OK) == 0; i++)
        (void)nanosleep(&step, NULL);
    LOG_I("sandbox", "test hook: resumed at %s", point);
}
#else
void sandbox_test_pause(const char *point)
{
    (void)point;
}
#endif

int sandbox_start_recorder(const struct nvr_config *cfg,
                           const struct check_target *targets, int n_targets,
                           int accept_fd)
{
    const char *paths[SANDBOX_MAX_PATHS];
    uint16_t *ports;
    struct sandbox_config sc;
    struct sandbox_report rep;
    int n_paths = 0, n_ports = 0, err;

    ports = calloc((size_t)n_targets + 1, sizeof(*ports));
    if (!ports)
        return -ENOMEM;
    paths[n_paths++] = cfg->path;
    paths[n_paths++] = "/etc/localtime";
    paths[n_paths++] = "/usr/share/zoneinfo";
    paths[n_paths++] = "/dev/urandom";
    paths[n_paths++] = "/proc/self";
    /* The audit log names the user (getpwuid_r); nscd's socket is denied
     * by seccomp, so glibc falls back to these files. */
    paths[n_paths++] = "/etc/nsswitch.conf";
    paths[n_paths++] = "/etc/passwd";
    paths[n_paths++] = "/etc/group";
    for (int i = 0; i < n_targets && i < cfg->n_cameras; i++) {
        int dup = 0;

        if (!targets[i].allowed)
            continue;
        for (int k = 0; k < n_ports; k++)
            dup |= ports[k] == targets[i].port;
        if (!dup && n_ports < SANDBOX_MAX_PORTS)
            ports[n_ports++] = targets[i].port;
        if (cfg->cameras[i].password_file[0] && n_paths < SANDBOX_MAX_PATHS)
            paths[n_paths++] = cfg->cameras[i].password_file;
    }
    /* SQLite writes no temporary files (catalog_open() keeps them in
     * memory): its temporary directory, picked when SQLite initialised,
     * lies outside what Landlock allows. */
    memset(&sc, 0, sizeof(sc));
    sc.storage_dir = cfg->storage_path;
    sc.read_paths = paths;
    sc.n_read_paths = n_paths;
    sc.tcp_ports = ports;
    sc.n_tcp_ports = n_ports;
    sc.allow_accept = accept_fd >= 0;
    sc.accept_fd = accept_fd;
    for (int i = 0; i < n_targets && i < cfg->n_cameras; i++)
        if (targets[i].allowed && cfg->cameras[i].enabled &&
            cfg->cameras[i].transport != NVR_TRANSPORT_TCP)
            sc.allow_udp = 1;
    err = sandbox_apply(&sc, &rep);
    free(ports);
    if (err < 0)
        return err;
    for (unsigned bit = 1; bit <= SANDBOX_ALL; bit <<= 1) {
        if (rep.active & bit)
            LOG_I("sandbox", "active: %s", sandbox_protection_name(bit));
    }
    if (rep.missing[0])
        LOG_W("sandbox", "not active: %s", rep.missing);
    err = sandbox_status_write(cfg->storage_path, &rep);
    if (err < 0)
        LOG_W("sandbox", "cannot write %s/%s: %s", cfg->storage_path,
              SANDBOX_STATUS_FILE, nvr_strerror(err));
#ifdef NVR_TEST_HOOKS
    sandbox_test_hook();
#endif
    return 0;
}

/* ---- the status file ---- */

int sandbox_status_write(const char *storage_dir,
                         const struct sandbox_report *r)
{
    char path[2048], buf[SANDBOX_STATUS_BYTES];
    size_t len = 0;
    int fd, n, err = 0;

    n = snprintf(path, sizeof(path), "%s/%s", storage_dir, SANDBOX_STATUS_FILE);
    if (n < 0 || (size_t)n >= sizeof(path))
        return -ENAMETOOLONG;
    n = snprintf(buf, sizeof(buf), "started_us %lld\npid %ld\n",
                 (long long)nvr_clock_wall_us(), (long)getpid());
    len = (size_t)n;
    for (unsigned bit = 1; bit <= SANDBOX_ALL; bit <<= 1) {
        if (!(r->active & bit))
            continue;
        n = snprintf(buf + len, sizeof(buf) - len, "active %s\n",
                     sandbox_protection_name(bit));
        if (n < 0 || (size_t)n >= sizeof(buf) - len)
            return -EMSGSIZE;
        len += (size_t)n;
    }
    if (r->missing[0]) {
        const char *p = r->missing;

        while (*p) {
            const char *e = strstr(p, "; ");
            size_t l = e ? (size_t)(e - p) : strlen(p);

            n = snprintf(buf + len, sizeof(buf) - len, "missing %.*s\n",
                         (int)NVR_MIN(l, (size_t)SANDBOX_ITEM_MAX - 1), p);
            if (n < 0 || (size_t)n >= sizeof(buf) - len)
                return -EMSGSIZE;
            len += (size_t)n;
            p += l + (e ? 2 : 0);
        }
    }
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return -errno;
    if (write(fd, buf, len) != (ssize_t)len)
        err = -EIO;
    if (close(fd) < 0 && err == 0)
        err = -errno;
    return err;
}

int sandbox_status_read(const char *storage_dir, struct sandbox_status *out)
{
    char path[2048], buf[SANDBOX_STATUS_BYTES];
    char *save = NULL;
    ssize_t n;
    int fd;

    memset(out, 0, sizeof(*out));
    if (snprintf(path, sizeof(path), "%s/%s", storage_dir,
                 SANDBOX_STATUS_FILE) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 0)
        return -EIO;
    buf[n] = '\0';
    for (char *l = strtok_r(buf, "\n", &save); l;
         l = strtok_r(NULL, "\n", &save)) {
        if (strncmp(l, "started_us ", 11) == 0) {
            out->started_us = strtoll(l + 11, NULL, 10);
        } else if (strncmp(l, "pid ", 4) == 0) {
            out->pid = strtol(l + 4, NULL, 10);
        } else if (strncmp(l, "active ", 7) == 0 &&
                   out->n_active < SANDBOX_MAX_ITEMS) {
            snprintf(out->active[out->n_active++], SANDBOX_ITEM_MAX, "%s",
                     l + 7);
        } else if (strncmp(l, "missing ", 8) == 0 &&
                   out->n_missing < SANDBOX_MAX_ITEMS) {
            snprintf(out->missing[out->n_missing++], SANDBOX_ITEM_MAX, "%s",
                     l + 8);
        }
    }
    return 0;
}

void sandbox_status_json(struct json_out *j, const char *storage_dir)
{
    struct sandbox_status st;

    if (sandbox_status_read(storage_dir, &st) < 0) {
        json_null(j, "protections");
        return;
    }
    json_obj_begin(j, "protections");
    json_arr_begin(j, "active");
    for (int i = 0; i < st.n_active; i++)
        json_str(j, NULL, st.active[i]);
    json_arr_end(j);
    json_arr_begin(j, "missing");
    for (int i = 0; i < st.n_missing; i++)
        json_str(j, NULL, st.missing[i]);
    json_arr_end(j);
    json_time(j, "since", st.started_us);
    json_obj_end(j);
}

void sandbox_status_print(FILE *f, const char *storage_dir, int running)
{
    struct sandbox_status st;
    char when[64] = "?";

    if (sandbox_status_read(storage_dir, &st) < 0) {
        fprintf(f, "\nprotections: unknown (no recorder has started here)\n");
        return;
    }
    if (st.started_us > 0)
        nvr_time_format_local(st.started_us, when, sizeof(when));
    fprintf(f,
            "\nprotections%s (since %s):", running ? "" : " at the last start",
            when);
    for (int i = 0; i < st.n_active; i++)
        fprintf(f, "%s %s", i ? "," : "", st.active[i]);
    if (st.n_active == 0)
        fprintf(f, " none");
    fprintf(f, "\n");
    for (int i = 0; i < st.n_missing; i++)
        fprintf(f, "  not active: %s\n", st.missing[i]);
}
