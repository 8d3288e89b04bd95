/* SPDX-License-Identifier: MIT */
/*
 * Tests of nvr/base/refusal.c: the names, the catalog's text form (round
 * trip, unknown names, malformed text) and the rate-limited warnings (one
 * line per camera and reason per period, the count since the last line).
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

#include "nvr/base/log.h"
#include "nvr/base/refusal.h"

static char g_last[512];
static int g_lines;
static enum nvr_log_level g_level;

static void sink(void *user, enum nvr_log_level level, const char *module,
                 const char *line)
{
    (void)user;
    (void)module;
    g_level = level;
    snprintf(g_last, sizeof(g_last), "%s", line);
    g_lines++;
}

static int setup(void **state)
{
    (void)state;
    g_lines = 0;
    g_last[0] = '\0';
    nvr_log_set_sink(sink, NULL);
    nvr_log_set_level(NVR_LOG_INFO);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nvr_log_set_sink(NULL, NULL);
    return 0;
}

static void test_refusal_names_unique(void **state)
{
    (void)state;
    assert_string_equal(nvr_refusal_name(NVR_REFUSAL_QUEUE_FULL), "queue_full");
    assert_string_equal(nvr_refusal_name(NVR_REFUSAL_BAD_TIMESTAMP),
                        "bad_timestamp");
    assert_string_equal(nvr_refusal_name(NVR_REFUSAL_COUNT), "?");
    for (int i = 0; i < NVR_REFUSAL_COUNT; i++) {
        assert_non_null(nvr_refusal_name((enum nvr_refusal)i));
        assert_true(strlen(nvr_refusal_why((enum nvr_refusal)i)) > 5);
        for (int k = 0; k < i; k++)
            assert_string_not_equal(nvr_refusal_name((enum nvr_refusal)i),
                                    nvr_refusal_name((enum nvr_refusal)k));
    }
}

static void test_refusal_format_round_trip(void **state)
{
    struct nvr_refusals r = {{0}}, back;
    char buf[256];

    (void)state;
    assert_int_equal(nvr_refusals_format(&r, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");
    assert_int_equal(nvr_refusals_parse(buf, &back), 0);
    assert_int_equal(nvr_refusals_total(&back), 0);
    r.n[NVR_REFUSAL_BAD_TIMESTAMP] = 3;
    r.n[NVR_REFUSAL_SESSION_END] = 12345678901ULL;
    nvr_refusals_count(&r, NVR_REFUSAL_QUEUE_FULL);
    assert_int_equal(nvr_refusals_format(&r, buf, sizeof(buf)), 0);
    assert_string_equal(buf,
                        "queue_full=1,bad_timestamp=3,session_end=12345678901");
    assert_int_equal(nvr_refusals_parse(buf, &back), 0);
    assert_memory_equal(&r, &back, sizeof(r));
    assert_int_equal(nvr_refusals_total(&back), 12345678905ULL);
    nvr_refusals_add(&back, &r);
    assert_int_equal(back.n[NVR_REFUSAL_BAD_TIMESTAMP], 6);
    /* Too small: whole entries only. */
    assert_int_equal(nvr_refusals_format(&r, buf, 20), -ENOSPC);
    assert_string_equal(buf, "queue_full=1");
}

static void test_refusal_parse_rejects(void **state)
{
    struct nvr_refusals r;

    (void)state;
    /* A newer recorder's reason is skipped, not an error. */
    assert_int_equal(nvr_refusals_parse("later_reason=4,disk=2", &r), 0);
    assert_int_equal(r.n[NVR_REFUSAL_DISK], 2);
    assert_int_equal(nvr_refusals_total(&r), 2);
    assert_int_equal(nvr_refusals_parse("disk", &r), -EINVAL);
    assert_int_equal(nvr_refusals_parse("=3", &r), -EINVAL);
    assert_int_equal(nvr_refusals_parse("disk=", &r), -EINVAL);
    assert_int_equal(nvr_refusals_parse("disk=-1", &r), -EINVAL);
    assert_int_equal(nvr_refusals_parse("disk=1x", &r), -EINVAL);
    assert_int_equal(nvr_refusals_parse("disk=1,", &r), -EINVAL);
    assert_int_equal(nvr_refusals_parse("disk=99999999999999999999", &r),
                     -EINVAL);
}

static void test_refusal_log_rate_limited(void **state)
{
    struct nvr_refusal_log l;
    struct nvr_refusals r = {{0}};

    (void)state;
    nvr_refusal_log_init(&l, 1000);
    assert_int_equal(nvr_refusal_log_report(&l, "t", "gate", &r, 2000, 10000),
                     0);
    r.n[NVR_REFUSAL_BAD_TIMESTAMP] = 1;
    assert_int_equal(nvr_refusal_log_report(&l, "t", "gate", &r, 3000, 10000),
                     1);
    assert_int_equal(g_level, NVR_LOG_WARN);
    assert_string_equal(g_last, "camera gate: refused 1 unit in the last 1 s: "
                                "bad_timestamp (pts not after the previous "
                                "unit, or reordered deeper than the stream "
                                "said)");
    /* More within the period: summed into the next line. */
    r.n[NVR_REFUSAL_BAD_TIMESTAMP] = 5;
    r.n[NVR_REFUSAL_QUEUE_FULL] = 2;
    assert_int_equal(nvr_refusal_log_report(&l, "t", "gate", &r, 4000, 10000),
                     1); /* queue_full is new: its own line at once */
    assert_non_null(strstr(g_last, "refused 2 units in the last 1 s: "
                                   "queue_full"));
    r.n[NVR_REFUSAL_BAD_TIMESTAMP] = 12;
    assert_int_equal(nvr_refusal_log_report(&l, "t", "gate", &r, 12000, 10000),
                     0);
    assert_int_equal(nvr_refusal_log_report(&l, "t", "gate", &r, 13000, 10000),
                     1);
    assert_non_null(strstr(g_last, "camera gate: refused 11 units in the "
                                   "last 10 s: bad_timestamp"));
    /* Nothing new: nothing logged, however long. */
    assert_int_equal(nvr_refusal_log_report(&l, "t", "gate", &r, 99000, 10000),
                     0);
    /* Counters that restarted are the new base. */
    r.n[NVR_REFUSAL_BAD_TIMESTAMP] = 0;
    assert_int_equal(nvr_refusal_log_report(&l, "t", "gate", &r, 99500, 10000),
                     0);
    assert_int_equal(g_lines, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusal_names_unique),
        cmocka_unit_test(test_refusal_format_round_trip),
        cmocka_unit_test(test_refusal_parse_rejects),
        cmocka_unit_test_setup_teardown(test_refusal_log_rate_limited, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
