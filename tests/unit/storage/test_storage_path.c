/* SPDX-License-Identifier: MIT */
/*
 * Tests of storage/storage_path.c: the lexical check of catalog paths, and
 * opening and deleting beneath a storage directory with no symlink
 * followed, through openat2() and through the component walk.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "storage/storage_int.h"
#include "storage/storage_path.h"

struct fx {
    char dir[64];     /* the test's temporary directory */
    char st[96];      /* dir/storage */
    char victim[128]; /* dir/victim/x, outside the storage */
    int root;         /* fd of st */
};

static void put_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    char p[256];

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/nvr-test-spath-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->st, sizeof(f->st), "%s/storage", f->dir);
    assert_int_equal(mkdir(f->st, 0750), 0);
    snprintf(p, sizeof(p), "%s/victim", f->dir);
    assert_int_equal(mkdir(p, 0750), 0);
    snprintf(f->victim, sizeof(f->victim), "%s/victim/x", f->dir);
    put_file(f->victim, "precious");
    snprintf(p, sizeof(p), "%s/cam", f->st);
    assert_int_equal(mkdir(p, 0750), 0);
    snprintf(p, sizeof(p), "%s/cam/2026-01-01", f->st);
    assert_int_equal(mkdir(p, 0750), 0);
    snprintf(p, sizeof(p), "%s/cam/2026-01-01/a.mp4", f->st);
    put_file(p, "segment");
    /* A segment that is a symlink to the victim, and a date folder that
     * is a symlink to the victim's folder. */
    snprintf(p, sizeof(p), "%s/cam/2026-01-01/link.mp4", f->st);
    assert_int_equal(symlink(f->victim, p), 0);
    snprintf(p, sizeof(p), "%s/cam/2026-01-02", f->st);
    {
        char to[160];

        snprintf(to, sizeof(to), "%s/victim", f->dir);
        assert_int_equal(symlink(to, p), 0);
    }
    f->root = storage_path_open_root(f->st);
    assert_true(f->root >= 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];

    close(f->root);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void assert_victim_intact(const struct fx *f)
{
    char buf[16] = "";
    FILE *in = fopen(f->victim, "r");

    assert_non_null(in);
    assert_non_null(fgets(buf, sizeof(buf), in));
    fclose(in);
    assert_string_equal(buf, "precious");
}

static void test_storage_path_check(void **state)
{
    char long_path[STORAGE_PATH_MAX + 1];

    (void)state;
    assert_int_equal(storage_path_check("cam/2026-01-01/a.mp4"), 0);
    assert_int_equal(storage_path_check("a"), 0);
    assert_int_equal(storage_path_check("cam/..x/a"), 0);
    assert_int_equal(storage_path_check("cam/.../a"), 0);
    assert_int_equal(storage_path_check(""), -EINVAL);
    assert_int_equal(storage_path_check(NULL), -EINVAL);
    assert_int_equal(storage_path_check("../victim/x"), -EINVAL);
    assert_int_equal(storage_path_check("cam/../../x"), -EINVAL);
    assert_int_equal(storage_path_check("cam/.."), -EINVAL);
    assert_int_equal(storage_path_check("./cam/a"), -EINVAL);
    assert_int_equal(storage_path_check("/etc/shadow"), -EINVAL);
    assert_int_equal(storage_path_check("cam//a"), -EINVAL);
    assert_int_equal(storage_path_check("cam/a/"), -EINVAL);
    memset(long_path, 'a', sizeof(long_path) - 1);
    long_path[sizeof(long_path) - 1] = '\0';
    assert_int_equal(storage_path_check(long_path), -EINVAL);
    assert_true(storage_path_refused(-EINVAL));
    assert_true(storage_path_refused(-ELOOP));
    assert_false(storage_path_refused(-ENOENT));
}

static void test_storage_path_open(void **state)
{
    struct fx *f = *state;
    char buf[16] = "";
    int fd = storage_path_open(f->root, "cam/2026-01-01/a.mp4", O_RDONLY);

    assert_true(fd >= 0);
    assert_int_equal(read(fd, buf, sizeof(buf) - 1), 7);
    assert_string_equal(buf, "segment");
    close(fd);
    assert_int_equal(storage_path_open(f->root, "cam/nope.mp4", O_RDONLY),
                     -ENOENT);
    assert_int_equal(storage_path_open(f->root, "../victim/x", O_RDONLY),
                     -EINVAL);
    assert_int_equal(
        storage_path_open(f->root, "cam/2026-01-01/link.mp4", O_RDONLY),
        -ELOOP);
    fd = storage_path_open(f->root, "cam/2026-01-02/x", O_RDONLY);
    assert_true(storage_path_refused(fd));
    fd = storage_path_open(f->root, "cam/2026-01-02", O_RDONLY | O_DIRECTORY);
    assert_int_equal(fd, -ELOOP);
    assert_int_equal(storage_path_open(f->root, "cam/a", O_RDWR | O_CREAT),
                     -EINVAL);
}

/* The fallback for kernels without openat2() refuses the same. */
static void test_storage_path_walk(void **state)
{
    struct fx *f = *state;
    int fl = O_RDONLY | O_NOFOLLOW | O_CLOEXEC;
    int fd = storage_path__walk(f->root, "cam/2026-01-01/a.mp4", fl);

    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(storage_path__walk(f->root, "cam/2026-01-01/link.mp4", fl),
                     -ELOOP);
    assert_int_equal(storage_path__walk(f->root, "cam/2026-01-02/x", fl),
                     -ELOOP);
    assert_int_equal(storage_path__walk(f->root, "cam/none/x", fl), -ENOENT);
}

static void test_storage_path_unlink(void **state)
{
    struct fx *f = *state;
    char p[256];
    struct stat sb;

    assert_int_equal(storage_path_unlink(f->root, "../victim/x"), -EINVAL);
    assert_int_equal(storage_path_unlink(f->root, f->victim), -EINVAL);
    assert_int_equal(storage_path_unlink(f->root, "cam/2026-01-02/x"), -ELOOP);
    assert_victim_intact(f);
    /* A symlinked segment: the link goes, never its target. */
    assert_int_equal(storage_path_unlink(f->root, "cam/2026-01-01/link.mp4"),
                     0);
    assert_victim_intact(f);
    assert_int_equal(storage_path_unlink(f->root, "cam/2026-01-01/a.mp4"), 0);
    snprintf(p, sizeof(p), "%s/cam/2026-01-01/a.mp4", f->st);
    assert_int_equal(stat(p, &sb), -1);
    assert_int_equal(storage_path_unlink(f->root, "cam/2026-01-01/a.mp4"),
                     -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_storage_path_check),
        cmocka_unit_test_setup_teardown(test_storage_path_open, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_storage_path_walk, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_storage_path_unlink, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
