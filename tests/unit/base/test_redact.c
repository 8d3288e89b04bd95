/* SPDX-License-Identifier: MIT */
/*
 * Tests of nvr_redact_url(): credentials never survive.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nvr/base/redact.h"

static void check(const char *in, const char *want)
{
    char out[256];

    assert_string_equal(nvr_redact_url(in, out, sizeof(out)), want);
}

static void test_redact_userinfo(void **state)
{
    check("rtsp://admin:secret@10.0.0.2:554/Streaming/Channels/101",
          "rtsp://10.0.0.2:554/Streaming/Channels/101");
    check("rtsp://admin@10.0.0.2/x", "rtsp://10.0.0.2/x");
    /* A password holding '@' is removed whole. */
    check("rtsp://u:p@ss@w0rd@127.0.0.1/live", "rtsp://127.0.0.1/live");
}

static void test_redact_no_userinfo(void **state)
{
    check("rtsp://127.0.0.1:8554/cam1", "rtsp://127.0.0.1:8554/cam1");
    /* An '@' after the authority is not userinfo. */
    check("rtsp://127.0.0.1/a@b", "rtsp://127.0.0.1/a@b");
}

static void test_redact_truncates(void **state)
{
    char out[8];

    nvr_redact_url("rtsp://user:pw@host/path", out, sizeof(out));
    assert_string_equal(out, "rtsp://");
    assert_null(strstr(out, "pw"));
}

static void test_redact_find_password(void **state)
{
    static const char url[] = "rtsp://admin:p@ss:w@10.0.0.2:554/x@y";
    size_t off = 99, len = 99;

    (void)state;
    assert_int_equal(nvr_redact_find_password(url, &off, &len), 1);
    assert_int_equal(off, strlen("rtsp://admin:"));
    assert_int_equal(len, strlen("p@ss:w"));
    assert_int_equal(nvr_redact_find_password("rtsp://a:b@h/", &off, &len), 1);
    assert_int_equal(off, 9);
    assert_int_equal(len, 1);
    /* No password: no userinfo, a user alone, an empty one, no scheme. */
    assert_int_equal(nvr_redact_find_password("rtsp://h/a:b@c", &off, &len), 0);
    assert_int_equal(nvr_redact_find_password("rtsp://admin@h/", &off, &len),
                     0);
    assert_int_equal(nvr_redact_find_password("rtsp://admin:@h/", &off, &len),
                     0);
    assert_int_equal(nvr_redact_find_password("admin:pw@host", &off, &len), 0);
    assert_int_equal(nvr_redact_find_password("--timeout=5", &off, &len), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redact_userinfo),
        cmocka_unit_test(test_redact_no_userinfo),
        cmocka_unit_test(test_redact_truncates),
        cmocka_unit_test(test_redact_find_password),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
