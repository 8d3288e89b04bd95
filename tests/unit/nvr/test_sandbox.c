/* SPDX-License-Identifier: MIT */
/*
 * Tests of nvr/sandbox.c. The sandbox is irreversible, so each test forks:
 * the child applies it and tries what a hijacked recorder would try (read
 * a file outside storage, connect to a port that is no camera's, listen,
 * exec, fork, open a UDP or Unix socket, become dumpable again) next to
 * what recording needs (files in storage, a connection to the camera's
 * port, threads, the time zone). The child reports each result as one
 * exit status; the parent asserts on it. This kernel must support every
 * protection: a missing one fails the test rather than skipping it.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "nvr/sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_SANITIZER 1
#endif
#endif
#ifndef TEST_SANITIZER
#define TEST_SANITIZER 0
#endif

struct tmp {
    char dir[256];
    int camera_fd, other_fd; /* listening on 127.0.0.1 */
    uint16_t camera_port, other_port;
};

static int listen_any(uint16_t *port)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 8), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

static int setup_tmp(void **state)
{
    struct tmp *t = calloc(1, sizeof(*t));

    assert_non_null(t);
    snprintf(t->dir, sizeof(t->dir), "/tmp/nvr-test-sandbox-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    t->camera_fd = listen_any(&t->camera_port);
    t->other_fd = listen_any(&t->other_port);
    *state = t;
    return 0;
}

static int teardown_tmp(void **state)
{
    struct tmp *t = *state;
    char cmd[512];

    close(t->camera_fd);
    close(t->other_fd);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
    assert_int_equal(system(cmd), 0);
    free(t);
    return 0;
}

static int connect_port(uint16_t port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

    if (fd < 0)
        return -errno;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}

static void *thread_main(void *arg)
{
    int *result = arg;
    int fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);

    /* Threads created after the sandbox inherit it. */
    *result = fd < 0 ? -errno : 0;
    if (fd >= 0)
        close(fd);
    return NULL;
}

/* The child's checks: bit n of the exit status is check n failing. */
#define CHILD_CHECK(n, cond)                                               \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "sandbox check %d failed: %s (errno %d)\n", n, \
                    #cond, errno);                                         \
            failed |= 1u << (n);                                           \
        }                                                                  \
    } while (0)

static unsigned child_checks(const struct tmp *t)
{
    const char *paths[] = {"/etc/localtime", "/usr/share/zoneinfo"};
    uint16_t ports[] = {t->camera_port};
    struct sandbox_config sc = {
        .storage_dir = t->dir,
        .read_paths = paths,
        .n_read_paths = 2,
        .tcp_ports = ports,
        .n_tcp_ports = 1,
    };
    struct sandbox_report rep;
    char path[512];
    unsigned failed = 0;
    pthread_t th;
    int fd, rc, thread_rc = 1;
    char *argv[] = {"/bin/true", NULL};

    snprintf(path, sizeof(path), "%s/seg", t->dir);
    CHILD_CHECK(0, sandbox_apply(&sc, &rep) == 0);
    CHILD_CHECK(1, rep.active == SANDBOX_ALL);
    if (rep.missing[0])
        fprintf(stderr, "missing: %s\n", rep.missing);
    /* What recording needs. */
    fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0640);
    CHILD_CHECK(2, fd >= 0 && write(fd, "x", 1) == 1 && fsync(fd) == 0);
    if (fd >= 0)
        close(fd);
    CHILD_CHECK(3, unlink(path) == 0);
    CHILD_CHECK(4, connect_port(t->camera_port) == 0);
    CHILD_CHECK(5, pthread_create(&th, NULL, thread_main, &thread_rc) == 0 &&
                       pthread_join(th, NULL) == 0);
    CHILD_CHECK(6, access("/etc/localtime", R_OK) == 0 ||
                       access("/etc/localtime", F_OK) < 0);
    /* What it must not do. */
    errno = 0;
    fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
    CHILD_CHECK(7, fd < 0 && errno == EACCES);
    CHILD_CHECK(8, thread_rc == -EACCES);
    rc = connect_port(t->other_port);
    CHILD_CHECK(9, rc == -EACCES);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHILD_CHECK(10, fd >= 0 && listen(fd, 1) < 0 && errno == EPERM);
    if (fd >= 0)
        close(fd);
    errno = 0;
    CHILD_CHECK(11, socket(AF_INET, SOCK_DGRAM, 0) < 0 && errno == EPERM);
    errno = 0;
    CHILD_CHECK(12, socket(AF_UNIX, SOCK_STREAM, 0) < 0 && errno == EPERM);
    errno = 0;
    CHILD_CHECK(13, socket(AF_NETLINK, SOCK_RAW, 0) < 0 && errno == EPERM);
    errno = 0;
    CHILD_CHECK(14, execve("/bin/true", argv, NULL) < 0 && errno == EPERM);
    CHILD_CHECK(15, prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0);
    if (!TEST_SANITIZER) {
        /* Sanitizer builds keep fork-like clone() for the leak checker. */
        pid_t p = fork();

        if (p == 0)
            _exit(0);
        CHILD_CHECK(16, p < 0 && errno == EPERM);
        CHILD_CHECK(17, prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0);
    }
    errno = 0;
    fd = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHILD_CHECK(18, fd < 0 && errno == EACCES);
    return failed;
}

static void test_sandbox_confines(void **state)
{
    struct tmp *t = *state;
    pid_t pid;
    int status;

    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        unsigned failed = child_checks(t);

        /* The exit status holds 8 bits: fold the rest in. */
        _exit(failed == 0
                  ? 0
                  : (int)((failed & 0x7f) | ((failed >> 7) ? 0x80 : 0)));
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_sandbox_bad_config(void **state)
{
    struct sandbox_config sc;
    struct sandbox_report rep;

    (void)state;
    memset(&sc, 0, sizeof(sc));
    assert_int_equal(sandbox_apply(&sc, &rep), -EINVAL);
    sc.storage_dir = "/tmp";
    sc.n_tcp_ports = SANDBOX_MAX_PORTS + 1;
    assert_int_equal(sandbox_apply(&sc, &rep), -EINVAL);
    sc.n_tcp_ports = 0;
    sc.n_read_paths = -1;
    assert_int_equal(sandbox_apply(&sc, &rep), -EINVAL);
}

static void test_sandbox_status_roundtrip(void **state)
{
    struct tmp *t = *state;
    struct sandbox_report rep;
    struct sandbox_status st;

    assert_int_equal(sandbox_status_read(t->dir, &st), -ENOENT);
    memset(&rep, 0, sizeof(rep));
    rep.active = SANDBOX_LANDLOCK_FS | SANDBOX_SECCOMP | SANDBOX_NO_DUMP;
    snprintf(rep.missing, sizeof(rep.missing),
             "landlock-tcp: no TCP rules; no-new-privs: test");
    assert_int_equal(sandbox_status_write(t->dir, &rep), 0);
    assert_int_equal(sandbox_status_read(t->dir, &st), 0);
    assert_int_equal(st.pid, (long)getpid());
    assert_true(st.started_us > 0);
    assert_int_equal(st.n_active, 3);
    assert_string_equal(st.active[0], "no-core-dumps");
    assert_string_equal(st.active[1], "landlock-fs");
    assert_string_equal(st.active[2], "seccomp");
    assert_int_equal(st.n_missing, 2);
    assert_string_equal(st.missing[0], "landlock-tcp: no TCP rules");
    assert_string_equal(st.missing[1], "no-new-privs: test");
    assert_null(sandbox_protection_name(1u << 9));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sandbox_confines, setup_tmp,
                                        teardown_tmp),
        cmocka_unit_test(test_sandbox_bad_config),
        cmocka_unit_test_setup_teardown(test_sandbox_status_roundtrip,
                                        setup_tmp, teardown_tmp),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
