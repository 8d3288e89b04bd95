/* SPDX-License-Identifier: MIT */
/*
 * Tests of nvr/base/log.c: the sink receives one line, with outside bytes
 * (newlines, ESC, DEL, C1 controls) escaped so a terminal only shows them.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "nvr/base/log.h"

static char got[8192];

static void capture(void *user, enum nvr_log_level level, const char *module,
                    const char *line)
{
    (void)user;
    (void)level;
    (void)module;
    snprintf(got, sizeof(got), "%s", line);
}

static int setup(void **state)
{
    (void)state;
    got[0] = '\0';
    nvr_log_set_sink(capture, NULL);
    nvr_log_set_level(NVR_LOG_INFO);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nvr_log_set_sink(NULL, NULL);
    return 0;
}

static void test_log_plain_line(void **state)
{
    (void)state;
    LOG_I("test", "camera %s: %d", "gate", 5);
    assert_string_equal(got, "camera gate: 5");
    LOG_D("test", "not shown");
    assert_string_equal(got, "camera gate: 5");
}

static void test_log_escapes_controls(void **state)
{
    (void)state;
    LOG_W("test", "camera gate: DESCRIBE: 503 %s",
          "\x1b]0;owned\x07\x1b[2J\r\b\x7f\x9b\xc2\x9dz\nforged");
    assert_string_equal(got, "camera gate: DESCRIBE: 503 "
                             "\\x1b]0;owned\\x07\\x1b[2J\\x0d\\x08\\x7f"
                             "\\x9b\\u009dz\\x0aforged");
    /* Printable UTF-8 passes. */
    LOG_I("test", "camera %s", "caf\xc3\xa9");
    assert_string_equal(got, "camera caf\xc3\xa9");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_log_plain_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_escapes_controls, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
