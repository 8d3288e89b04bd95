/* SPDX-License-Identifier: MIT */
/*
 * Tests of the loop-thread mark: storage refuses to run on the loop thread
 * (SQLite and file writes abort there), and other threads are unaffected.
 */
#include "config.h"

#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "nvr/base/thread.h"
#include "storage/catalog.h"
#include "storage/fsops.h"

static void *other_thread(void *arg)
{
    int *seen = arg;

    *seen = nvr_thread_is_loop();
    return NULL;
}

static void test_thread_mark_is_per_thread(void **state)
{
    pthread_t t;
    int seen = -1;

    assert_int_equal(nvr_thread_is_loop(), 0);
    nvr_thread_set_loop(1);
    assert_int_equal(nvr_thread_is_loop(), 1);
    assert_int_equal(pthread_create(&t, NULL, other_thread, &seen), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(seen, 0);
    nvr_thread_set_loop(0);
    assert_int_equal(nvr_thread_is_loop(), 0);
}

/* Runs fn in a child marked as the loop thread; returns its wait status. */
static int run_marked(void (*fn)(void))
{
    pid_t pid = fork();
    int status = 0;

    assert_true(pid >= 0);
    if (pid == 0) {
        /* Keep the expected abort quiet. */
        int devnull = open("/dev/null", O_WRONLY);

        dup2(devnull, STDERR_FILENO);
        nvr_thread_set_loop(1);
        fn();
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void open_catalog(void)
{
    struct catalog *cat;

    if (catalog_open(":memory:", CATALOG_READWRITE, &cat) == 0)
        catalog_close(cat);
}

static void write_file(void)
{
    ssize_t n = fsops_write(STDERR_FILENO, "x", 1);

    _exit(n == 1 ? 0 : 3); /* not reached: the write aborts first */
}

static void test_thread_storage_aborts_on_loop(void **state)
{
    int status = run_marked(open_catalog);

    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    status = run_marked(write_file);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}

static void test_thread_storage_runs_elsewhere(void **state)
{
    struct catalog *cat;

    assert_int_equal(catalog_open(":memory:", CATALOG_READWRITE, &cat), 0);
    catalog_close(cat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thread_mark_is_per_thread),
        cmocka_unit_test(test_thread_storage_aborts_on_loop),
        cmocka_unit_test(test_thread_storage_runs_elsewhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
