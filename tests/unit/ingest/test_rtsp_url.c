/* SPDX-License-Identifier: MIT */
/*
 * Tests of rtsp:// URL parsing, formatting and LIVE555-style control joins.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ingest/rtsp_url.h"

static void check(const char *url, const char *host, unsigned port,
                  const char *user, const char *pass, const char *path)
{
    struct rtsp_url u;

    if (rtsp_url_parse(url, &u) != 0)
        fail_msg("%s did not parse", url);
    assert_string_equal(u.host, host);
    assert_int_equal(u.port, port);
    assert_string_equal(u.user, user);
    assert_string_equal(u.pass, pass);
    assert_int_equal(u.has_userinfo, user[0] != '\0' || pass[0] != '\0');
    assert_string_equal(u.path, path);
}

static void test_rtsp_url_parse_variants(void **state)
{
    (void)state;
    check("rtsp://127.0.0.1/Streaming/Channels/101", "127.0.0.1", 554, "", "",
          "/Streaming/Channels/101");
    check("rtsp://127.0.0.1:8554", "127.0.0.1", 8554, "", "", "/");
    check("RTSP://cam.local:10554/", "cam.local", 10554, "", "", "/");
    check("rtsp://admin:12345@127.0.0.1:554/cam/realmonitor?channel=1&"
          "subtype=0",
          "127.0.0.1", 554, "admin", "12345",
          "/cam/realmonitor?channel=1&subtype=0");
    check("rtsp://admin@127.0.0.1/live", "127.0.0.1", 554, "admin", "",
          "/live");
    check("rtsp://admin:@127.0.0.1/live", "127.0.0.1", 554, "admin", "",
          "/live");
    check("rtsp://127.0.0.1?x=1", "127.0.0.1", 554, "", "", "/?x=1");
    check("rtsp://127.0.0.1/live#frag", "127.0.0.1", 554, "", "", "/live");
    check("rtsp://127.0.0.1:/live", "127.0.0.1", 554, "", "", "/live");
    /* An '@' after the authority belongs to the path. */
    check("rtsp://127.0.0.1/a@b", "127.0.0.1", 554, "", "", "/a@b");
}

static void test_rtsp_url_ipv6(void **state)
{
    (void)state;
    check("rtsp://[::1]/live", "::1", 554, "", "", "/live");
    check("rtsp://u:p@[::1]:8554/live", "::1", 8554, "u", "p", "/live");
    check("rtsp://[fe80::1:2]", "fe80::1:2", 554, "", "", "/");
}

static void test_rtsp_url_credentials(void **state)
{
    (void)state;
    /* The last '@' before the path separates userinfo. */
    check("rtsp://admin:p@ss@w0rd@127.0.0.1/live", "127.0.0.1", 554, "admin",
          "p@ss@w0rd", "/live");
    check("rtsp://ad%40min:p%3Ass%2Fw%25rd@127.0.0.1/live", "127.0.0.1", 554,
          "ad@min", "p:ss/w%rd", "/live");
    check("rtsp://us er:pa ss@127.0.0.1/x", "127.0.0.1", 554, "us er", "pa ss",
          "/x");
}

static void test_rtsp_url_bad(void **state)
{
    static const char *const bad[] = {
        "",
        "http://127.0.0.1/",
        "rtsp:/127.0.0.1/",
        "rtsp://",
        "rtsp:///path",
        "rtsp://user:pass@/path",
        "rtsp://127.0.0.1:0/",
        "rtsp://127.0.0.1:65536/",
        "rtsp://127.0.0.1:12ab/",
        "rtsp://127.0.0.1:123456/",
        "rtsp://[::1/",
        "rtsp://[::1]x/",
        "rtsp://[zz]/",
        "rtsp://[]/",
        "rtsp://u:p%4@127.0.0.1/",
        "rtsp://u:p%zz@127.0.0.1/",
        "rtsp://u:p%00@127.0.0.1/",
        "rtsp://127.0.0.1/a b",
        "rtsp://127.0.0.1/a\r\nInjected: 1",
        "rtsp://host name/",
    };
    struct rtsp_url u;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = rtsp_url_parse(bad[i], &u);

        if (rc != -EINVAL)
            fail_msg("\"%s\" gave %d", bad[i], rc);
    }
}

static void test_rtsp_url_too_long(void **state)
{
    char url[2048], user[201];
    struct rtsp_url u;

    (void)state;
    snprintf(url, sizeof(url), "rtsp://127.0.0.1/");
    memset(url + 17, 'a', 1100);
    url[1117] = '\0';
    assert_int_equal(rtsp_url_parse(url, &u), -EINVAL);
    memset(user, 'u', sizeof(user) - 1);
    user[sizeof(user) - 1] = '\0';
    snprintf(url, sizeof(url), "rtsp://%s@127.0.0.1/", user);
    assert_int_equal(rtsp_url_parse(url, &u), -EINVAL);
}

static void test_rtsp_url_format(void **state)
{
    struct rtsp_url u;
    char out[128];

    (void)state;
    assert_int_equal(rtsp_url_parse("rtsp://admin:secret@127.0.0.1/a?b=1", &u),
                     0);
    assert_int_equal(rtsp_url_format(&u, out, sizeof(out)), 0);
    assert_string_equal(out, "rtsp://127.0.0.1:554/a?b=1");
    assert_int_equal(rtsp_url_parse("rtsp://u:p@[::1]:8554", &u), 0);
    assert_int_equal(rtsp_url_format(&u, out, sizeof(out)), 0);
    assert_string_equal(out, "rtsp://[::1]:8554/");
    assert_int_equal(rtsp_url_format(&u, out, 18), -EMSGSIZE);
    assert_int_equal(rtsp_url_format(&u, out, 19), 0);
}

static void join(const char *base, const char *control, const char *want)
{
    char out[256];

    assert_int_equal(rtsp_url_join_control(base, control, out, sizeof(out)), 0);
    assert_string_equal(out, want);
}

static void test_rtsp_url_join_control(void **state)
{
    char out[24];

    (void)state;
    /* Absolute controls (Hikvision) are used as is. */
    join("rtsp://127.0.0.1/Streaming/Channels/101/",
         "rtsp://127.0.0.1:554/Streaming/Channels/101/trackID=1?"
         "transportmode=unicast",
         "rtsp://127.0.0.1:554/Streaming/Channels/101/trackID=1?"
         "transportmode=unicast");
    join("rtsp://127.0.0.1/x", "RTSP://127.0.0.1/y", "RTSP://127.0.0.1/y");
    /* Relative, with and without slashes on either side. */
    join("rtsp://127.0.0.1/h264Preview_01_main/", "trackID=1",
         "rtsp://127.0.0.1/h264Preview_01_main/trackID=1");
    join("rtsp://127.0.0.1/videoMain", "track1",
         "rtsp://127.0.0.1/videoMain/track1");
    join("rtsp://127.0.0.1/videoMain/", "/track1",
         "rtsp://127.0.0.1/videoMain/track1");
    join("rtsp://127.0.0.1/videoMain", "/track1",
         "rtsp://127.0.0.1/videoMain/track1");
    /* "*" and empty mean the base itself. */
    join("rtsp://127.0.0.1/live/", "*", "rtsp://127.0.0.1/live/");
    join("rtsp://127.0.0.1/live", "", "rtsp://127.0.0.1/live");
    /* A query in the base is not special (Dahua, GW Security). */
    join("rtsp://127.0.0.1:554/cam/realmonitor?channel=1&subtype=0/",
         "trackID=0",
         "rtsp://127.0.0.1:554/cam/realmonitor?channel=1&subtype=0/"
         "trackID=0");
    join("rtsp://127.0.0.1:5050/H264?channel=1&subtype=0&unicast=true&"
         "proto=Onvif",
         "video",
         "rtsp://127.0.0.1:5050/H264?channel=1&subtype=0&unicast=true&"
         "proto=Onvif/video");
    /* Too small an output buffer is an error, not a truncation. */
    assert_int_equal(rtsp_url_join_control("rtsp://127.0.0.1/live", "trackID=1",
                                           out, sizeof(out)),
                     -EMSGSIZE);
    assert_int_equal(rtsp_url_join_control("rtsp://127.0.0.1/live/x/y/z", "*",
                                           out, sizeof(out)),
                     -EMSGSIZE);
}

static void test_rtsp_url_is_absolute(void **state)
{
    (void)state;
    assert_true(rtsp_url_is_absolute("rtsp://127.0.0.1/"));
    assert_true(rtsp_url_is_absolute("Rtsp://127.0.0.1/"));
    assert_true(rtsp_url_is_absolute("rtsps://127.0.0.1/"));
    /* Anjvision's Content-Base has no scheme. */
    assert_false(rtsp_url_is_absolute("192.168.1.10:554/stream0/"));
    assert_false(rtsp_url_is_absolute("trackID=1"));
    assert_false(rtsp_url_is_absolute(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rtsp_url_parse_variants),
        cmocka_unit_test(test_rtsp_url_ipv6),
        cmocka_unit_test(test_rtsp_url_credentials),
        cmocka_unit_test(test_rtsp_url_bad),
        cmocka_unit_test(test_rtsp_url_too_long),
        cmocka_unit_test(test_rtsp_url_format),
        cmocka_unit_test(test_rtsp_url_join_control),
        cmocka_unit_test(test_rtsp_url_is_absolute),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
