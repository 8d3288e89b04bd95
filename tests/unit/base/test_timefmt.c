/* SPDX-License-Identifier: MIT */
/*
 * Tests of nvr/base/timefmt.c: ISO 8601 in local time (Europe/London, so both
 * GMT and BST), explicit zones, fractions, rejects, and formatting.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "nvr/base/timefmt.h"

#define S 1000000LL /* microseconds per second */

/* UTC seconds of a few instants (computed independently, not with the
 * code under test). */
#define T_2026_07_01_1100Z 1782903600LL
#define T_2026_11_27_1000Z 1795773600LL
#define T_2026_11_27_0900Z 1795770000LL
#define T_2026_11_27_1530Z 1795793400LL
#define T_2026_06_30_2300Z 1782860400LL
#define T_2028_02_29_0000Z 1835395200LL
/* BST ends 2026-10-25 at 01:00Z (02:00 BST -> 01:00 GMT) and starts
 * 2026-03-29 at 01:00Z (01:00 GMT -> 02:00 BST). */
#define T_2026_10_25_0030Z 1792888200LL
#define T_2026_10_25_0130Z 1792891800LL
#define T_2026_10_24_2359Z 1792886340LL
#define T_2026_10_25_0200Z 1792893600LL
#define T_2026_03_29_0100Z 1774746000LL
#define T_2026_03_29_0059Z 1774745940LL

static int setup(void **state)
{
    setenv("TZ", "Europe/London", 1);
    tzset();
    return 0;
}

static int64_t parse_ok(const char *s)
{
    int64_t us = -42;

    assert_int_equal(nvr_time_parse(s, &us), 0);
    return us;
}

static void test_timefmt_zoneinfo_present(void **state)
{
    /* Without tzdata every local-time test below is meaningless. */
    assert_int_equal(access("/usr/share/zoneinfo/Europe/London", R_OK), 0);
}

static void test_timefmt_local_bst_and_gmt(void **state)
{
    /* Summer: BST is UTC+1. */
    assert_int_equal(parse_ok("2026-07-01T12:00:00"), T_2026_07_01_1100Z * S);
    /* Winter: GMT is UTC. */
    assert_int_equal(parse_ok("2026-11-27T10:00:00"), T_2026_11_27_1000Z * S);
    /* Space separator, seconds left out. */
    assert_int_equal(parse_ok("2026-11-27 10:00"), T_2026_11_27_1000Z * S);
    assert_int_equal(parse_ok("2026-07-01 12:00"), T_2026_07_01_1100Z * S);
}

static void test_timefmt_date_only_is_local_midnight(void **state)
{
    assert_int_equal(parse_ok("2026-07-01"), T_2026_06_30_2300Z * S);
    assert_int_equal(parse_ok("2028-02-29"), T_2028_02_29_0000Z * S);
}

static void test_timefmt_explicit_zones(void **state)
{
    assert_int_equal(parse_ok("2026-11-27T10:00:00Z"), T_2026_11_27_1000Z * S);
    assert_int_equal(parse_ok("2026-11-27T10:00Z"), T_2026_11_27_1000Z * S);
    /* In summer, Z must not be shifted by BST. */
    assert_int_equal(parse_ok("2026-07-01T11:00:00Z"), T_2026_07_01_1100Z * S);
    assert_int_equal(parse_ok("2026-11-27T10:00:00+01:00"),
                     T_2026_11_27_0900Z * S);
    assert_int_equal(parse_ok("2026-11-27T10:00:00+0100"),
                     T_2026_11_27_0900Z * S);
    assert_int_equal(parse_ok("2026-11-27T10:00:00-05:30"),
                     T_2026_11_27_1530Z * S);
    assert_int_equal(parse_ok("2026-11-27T10:00:00-0530"),
                     T_2026_11_27_1530Z * S);
    assert_int_equal(parse_ok("2026-11-27T10:00:00+00:00"),
                     T_2026_11_27_1000Z * S);
}

static void test_timefmt_fractions(void **state)
{
    assert_int_equal(parse_ok("2026-11-27T10:00:00.250+01:00"),
                     T_2026_11_27_0900Z * S + 250000);
    assert_int_equal(parse_ok("2026-11-27T10:00:00.123456Z"),
                     T_2026_11_27_1000Z * S + 123456);
    assert_int_equal(parse_ok("2026-11-27T10:00:00.1Z"),
                     T_2026_11_27_1000Z * S + 100000);
    assert_int_equal(parse_ok("2026-11-27T10:00:00.000001"),
                     T_2026_11_27_1000Z * S + 1);
}

static void test_timefmt_rejects(void **state)
{
    static const char *const bad[] = {
        "",
        "2026",
        "2026-11",
        "26-11-27",
        "2026-1-27",
        "2026-13-01",
        "2026-00-10",
        "2026-11-00",
        "2026-11-32",
        "2026-02-30",
        "2026-02-29", /* 2026 is not a leap year */
        "2026-04-31",
        "2026-11-27T",
        "2026-11-27T10",
        "2026-11-27T10:",
        "2026-11-27T1:00",
        "2026-11-27T24:00",
        "2026-11-27T10:60",
        "2026-11-27T10:00:60",
        "2026-11-27T10:00:00.",
        "2026-11-27T10:00:00.Z",
        "2026-11-27T10:00:00.1234567Z",
        "2026-11-27T10:00:00Zjunk",
        "2026-11-27T10:00:00 ",
        "2026-11-27 ",
        "2026-11-27X10:00",
        "2026-11-27T10:00:00+1:00",
        "2026-11-27T10:00:00+01:0",
        "2026-11-27T10:00:00+24:00",
        "2026-11-27T10:00:00+01:60",
        "2026-11-27T10:00:00+01",
        "2026-11-27Z",
        "yesterday",
        " 2026-11-27",
    };
    int64_t us = 7;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (nvr_time_parse(bad[i], &us) != -EINVAL)
            fail_msg("accepted '%s'", bad[i]);
    }
    assert_int_equal(us, 7);
    assert_int_equal(nvr_time_parse(NULL, &us), -EINVAL);
}

static void test_timefmt_format_utc(void **state)
{
    char buf[64];

    assert_string_equal(
        nvr_time_format_utc(T_2026_11_27_1000Z * S, buf, sizeof(buf)),
        "2026-11-27T10:00:00Z");
    assert_string_equal(
        nvr_time_format_utc(T_2026_07_01_1100Z * S + 123456, buf, sizeof(buf)),
        "2026-07-01T11:00:00.123456Z");
    assert_string_equal(nvr_time_format_utc(0, buf, sizeof(buf)),
                        "1970-01-01T00:00:00Z");
    assert_string_equal(nvr_time_format_utc(-1, buf, sizeof(buf)),
                        "1969-12-31T23:59:59.999999Z");
    /* A short buffer is cut, still terminated. */
    assert_string_equal(nvr_time_format_utc(0, buf, 5), "1970");
}

static void test_timefmt_round_trip(void **state)
{
    static const int64_t vals[] = {
        T_2026_11_27_1000Z * S,
        T_2026_07_01_1100Z * S + 1,
        T_2028_02_29_0000Z * S + 999999,
        1 * S,
    };
    char buf[64];

    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        nvr_time_format_utc(vals[i], buf, sizeof(buf));
        assert_int_equal(parse_ok(buf), vals[i]);
    }
}

static void test_timefmt_format_local(void **state)
{
    char buf[64];

    assert_string_equal(
        nvr_time_format_local(T_2026_07_01_1100Z * S, buf, sizeof(buf)),
        "2026-07-01 12:00:00 BST");
    assert_string_equal(
        nvr_time_format_local(T_2026_11_27_1000Z * S + 5, buf, sizeof(buf)),
        "2026-11-27 10:00:00 GMT");
    /* Local text without the zone parses back to the same second. */
    buf[19] = '\0';
    assert_int_equal(parse_ok(buf), T_2026_11_27_1000Z * S);
}

/* The shared formatters: fixed microseconds, UTC dates, local ISO with
 * offset and zone, strftime formats, and local midnights across the BST
 * change (2026-10-25 is 25 hours long in Europe/London). */
static void test_timefmt_shared_formats(void **state)
{
    char buf[64];
    int64_t day;

    (void)state;
    assert_string_equal(
        nvr_time_format_utc_us(T_2026_11_27_1000Z * S, buf, sizeof(buf)),
        "2026-11-27T10:00:00.000000Z");
    assert_string_equal(
        nvr_time_format_utc_date(T_2026_06_30_2300Z * S, buf, sizeof(buf)),
        "2026-06-30");
    assert_string_equal(nvr_time_format_local_iso(
                            T_2026_06_30_2300Z * S + 250000, buf, sizeof(buf)),
                        "2026-07-01T00:00:00.250000+01:00 BST");
    assert_string_equal(
        nvr_time_format_local_iso(T_2026_11_27_1000Z * S, buf, sizeof(buf)),
        "2026-11-27T10:00:00+00:00 GMT");
    assert_string_equal(nvr_time_format_local_strf(T_2026_07_01_1100Z * S,
                                                   "%H:%M %Z", buf,
                                                   sizeof(buf)),
                        "12:00 BST");
    day = nvr_time_local_day_start(T_2026_07_01_1100Z * S);
    assert_int_equal(day, T_2026_06_30_2300Z * S);
    /* 2026-10-25 00:00 BST is 2026-10-24T23:00Z; the next midnight (GMT)
     * is 25 hours later. */
    day = nvr_time_local_day_start(1792882800LL * S);
    assert_int_equal(nvr_time_local_day_shift(day, 1) - day, 25 * 3600 * S);
}

static void test_timefmt_repeated_hour_refused(void **state)
{
    int64_t us = -42;
    char why[160];

    /* 01:30 on the night BST ends happens at 00:30Z and at 01:30Z. */
    assert_int_equal(
        nvr_time_parse_why("2026-10-25T01:30", &us, why, sizeof(why)), -EDOM);
    assert_int_equal(us, -42);
    assert_string_equal(why, "2026-10-25 01:30 happens twice (clocks go back): "
                             "add +01:00 BST or +00:00 GMT");
    assert_int_equal(nvr_time_parse("2026-10-25 01:00:00", &us), -EDOM);
    assert_int_equal(nvr_time_parse("2026-10-25T01:59:59", &us), -EDOM);
    /* Either reading, given its offset. */
    assert_int_equal(parse_ok("2026-10-25T01:30+01:00"),
                     T_2026_10_25_0030Z * S);
    assert_int_equal(parse_ok("2026-10-25T01:30+00:00"),
                     T_2026_10_25_0130Z * S);
    /* Either side of the repeated hour there is one reading. */
    assert_int_equal(parse_ok("2026-10-25T00:59"), T_2026_10_24_2359Z * S);
    assert_int_equal(parse_ok("2026-10-25T02:00"), T_2026_10_25_0200Z * S);
    assert_int_equal(parse_ok("2026-10-25"),
                     (T_2026_10_24_2359Z - 59 * 60) * S);
}

static void test_timefmt_skipped_hour_refused(void **state)
{
    int64_t us = -42;
    char why[160];

    assert_int_equal(
        nvr_time_parse_why("2026-03-29T01:30", &us, why, sizeof(why)), -EDOM);
    assert_int_equal(us, -42);
    assert_string_equal(why, "2026-03-29 01:30 is skipped (clocks go "
                             "forward): add +00:00 GMT or +01:00 BST");
    assert_int_equal(parse_ok("2026-03-29T00:59"), T_2026_03_29_0059Z * S);
    assert_int_equal(parse_ok("2026-03-29T02:00"), T_2026_03_29_0100Z * S);
}

static void test_timefmt_readings(void **state)
{
    struct tm w = {0};
    struct nvr_time_readings r;

    w.tm_year = 2026 - 1900;
    w.tm_mon = 9;
    w.tm_mday = 25;
    w.tm_hour = 1;
    w.tm_min = 30;
    assert_int_equal(nvr_time_local_readings(&w, &r), 0);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.us[0], T_2026_10_25_0030Z * S);
    assert_int_equal(r.us[1], T_2026_10_25_0130Z * S);
    assert_int_equal(r.off_before_s, 3600);
    assert_int_equal(r.off_after_s, 0);
    w.tm_hour = 12;
    assert_int_equal(nvr_time_local_readings(&w, &r), 0);
    assert_int_equal(r.n, 1);
    w.tm_mon = 2;
    w.tm_mday = 29;
    w.tm_hour = 1;
    assert_int_equal(nvr_time_local_readings(&w, &r), 0);
    assert_int_equal(r.n, 0);
    /* A zone without summer time reads the same wall time once. */
    setenv("TZ", "UTC", 1);
    tzset();
    w.tm_mon = 9;
    w.tm_mday = 25;
    assert_int_equal(nvr_time_local_readings(&w, &r), 0);
    setenv("TZ", "Europe/London", 1);
    tzset();
    assert_int_equal(r.n, 1);
    assert_int_equal(r.us[0], T_2026_10_25_0130Z * S);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timefmt_zoneinfo_present),
        cmocka_unit_test(test_timefmt_local_bst_and_gmt),
        cmocka_unit_test(test_timefmt_date_only_is_local_midnight),
        cmocka_unit_test(test_timefmt_explicit_zones),
        cmocka_unit_test(test_timefmt_fractions),
        cmocka_unit_test(test_timefmt_rejects),
        cmocka_unit_test(test_timefmt_format_utc),
        cmocka_unit_test(test_timefmt_round_trip),
        cmocka_unit_test(test_timefmt_format_local),
        cmocka_unit_test(test_timefmt_shared_formats),
        cmocka_unit_test(test_timefmt_repeated_hour_refused),
        cmocka_unit_test(test_timefmt_skipped_hour_refused),
        cmocka_unit_test(test_timefmt_readings),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
