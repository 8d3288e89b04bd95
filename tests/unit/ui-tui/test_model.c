/* SPDX-License-Identifier: MIT */
/*
 * Tests of ui-tui/tui_model.c's time reader for the `g` prompt: a time
 * alone is on the cursor's local day, and a time the clocks skip or repeat
 * is refused with both offsets named (Europe/London, so GMT and BST).
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

#include <cmocka.h>

#include "ui-tui/tui_model.h"

#define S 1000000LL
/* Computed independently: 2026-10-25 is the day BST ends (01:00Z). */
#define T_2026_10_25_0030Z 1792888200LL
#define T_2026_10_25_0130Z 1792891800LL
#define T_2026_10_25_1200Z 1792929600LL
#define T_2026_10_24_2300Z 1792882800LL /* 2026-10-25 00:00 BST */

static int setup(void **state)
{
    setenv("TZ", "Europe/London", 1);
    tzset();
    return 0;
}

static void test_model_time_alone_is_on_the_cursor_day(void **state)
{
    int64_t us = 0;
    char why[128];

    assert_int_equal(tui_model_parse_time(" 12:00 ", T_2026_10_25_1200Z * S,
                                          &us, why, sizeof(why)),
                     0);
    assert_int_equal(us, T_2026_10_25_1200Z * S);
    /* One hour digit is read as it always was. */
    assert_int_equal(tui_model_parse_time("0:00", T_2026_10_25_1200Z * S, &us,
                                          why, sizeof(why)),
                     0);
    assert_int_equal(us, T_2026_10_24_2300Z * S);
    assert_int_equal(
        tui_model_parse_time("2026-10-25 12:00", 0, &us, why, sizeof(why)), 0);
    assert_int_equal(us, T_2026_10_25_1200Z * S);
}

static void test_model_repeated_hour_names_both(void **state)
{
    int64_t us = -42;
    char why[128];

    assert_int_equal(tui_model_parse_time("01:30", T_2026_10_25_1200Z * S, &us,
                                          why, sizeof(why)),
                     -EDOM);
    assert_int_equal(us, -42);
    assert_string_equal(why, "2026-10-25 01:30 happens twice (clocks go back): "
                             "add +01:00 BST or +00:00 GMT");
    /* The message fits the TUI's 80-column message line. */
    assert_true(strlen(why) <= 80);
    assert_int_equal(tui_model_parse_time("01:30+01:00", T_2026_10_25_1200Z * S,
                                          &us, why, sizeof(why)),
                     0);
    assert_int_equal(us, T_2026_10_25_0030Z * S);
    assert_int_equal(tui_model_parse_time("01:30+00:00", T_2026_10_25_1200Z * S,
                                          &us, why, sizeof(why)),
                     0);
    assert_int_equal(us, T_2026_10_25_0130Z * S);
}

static void test_model_rejects(void **state)
{
    int64_t us = -42;
    char why[128];

    assert_int_equal(tui_model_parse_time("soon", 0, &us, why, sizeof(why)),
                     -EINVAL);
    assert_non_null(strstr(why, "not a time"));
    assert_int_equal(tui_model_parse_time("", 0, &us, why, sizeof(why)),
                     -EINVAL);
    assert_int_equal(tui_model_parse_time("25:00", 0, &us, why, sizeof(why)),
                     -EINVAL);
    assert_int_equal(us, -42);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_time_alone_is_on_the_cursor_day),
        cmocka_unit_test(test_model_repeated_hour_names_both),
        cmocka_unit_test(test_model_rejects),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
