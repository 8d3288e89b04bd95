/* SPDX-License-Identifier: MIT */
/*
 * argv_scrub_passwords(): the password leaves the argument memory (what
 * /proc/PID/cmdline shows), the program keeps a copy, other arguments are
 * untouched, and each scrubbed argument gets a warning.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nvr/argv_scrub.h"

static void test_argv_scrub_password(void **state)
{
    /* One block, NUL-separated, as the kernel lays out argv. */
    static const char args[] = "nvr\0probe\0rtsp://admin:s3cr3t@10.0.0.2/x\0"
                               "--timeout\0"
                               "5";
    char mem[sizeof(args)], *argv[6], warn[1024];
    size_t off = 0;
    FILE *f = fmemopen(warn, sizeof(warn), "w");
    int argc = 0;

    (void)state;
    assert_non_null(f);
    memcpy(mem, args, sizeof(args));
    while (off < sizeof(mem)) {
        argv[argc++] = mem + off;
        off += strlen(mem + off) + 1;
    }
    argv[argc] = NULL;
    assert_int_equal(argc, 5);
    assert_int_equal(argv_scrub_passwords(argc, argv, f), 1);
    fclose(f);
    /* The program sees the whole URL... */
    assert_string_equal(argv[2], "rtsp://admin:s3cr3t@10.0.0.2/x");
    assert_true(argv[2] < mem || argv[2] >= mem + sizeof(mem));
    /* ...the argument memory holds it without the password. */
    assert_null(memmem(mem, sizeof(mem), "s3cr3t", 6));
    assert_string_equal(mem + 10, "rtsp://admin@10.0.0.2/x");
    assert_string_equal(argv[1], "probe");
    assert_string_equal(argv[3], "--timeout");
    assert_ptr_equal(argv[3], mem + sizeof(args) - 12);
    assert_non_null(strstr(warn, "argument 2"));
    assert_non_null(strstr(warn, "--password-file FILE or --password-stdin"));
    assert_null(strstr(warn, "s3cr3t"));
    free(argv[2]);
}

static void test_argv_scrub_nothing(void **state)
{
    char a0[] = "nvr", a1[] = "probe", a2[] = "rtsp://admin@10.0.0.2/x";
    char *argv[] = {a0, a1, a2, NULL};

    (void)state;
    assert_int_equal(argv_scrub_passwords(3, argv, NULL), 0);
    assert_ptr_equal(argv[2], a2);
    assert_string_equal(a2, "rtsp://admin@10.0.0.2/x");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_argv_scrub_password),
        cmocka_unit_test(test_argv_scrub_nothing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
