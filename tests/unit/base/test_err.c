/* SPDX-License-Identifier: MIT */
/*
 * Tests of nvr/base/err.c: every code reads as what it is, in either
 * sign, and no errno borrows another failure's meaning.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nvr/base/err.h"

static void test_err_eacces_is_permission_denied(void **state)
{
    (void)state;
    /* A file the user may not open is no camera refusing a password. */
    assert_string_equal(nvr_strerror(-EACCES), "permission denied");
    assert_string_equal(nvr_strerror(EACCES), "permission denied");
}

static void test_err_no_borrowed_meaning(void **state)
{
    (void)state;
    for (int e = 1; e < 134; e++) {
        const char *s = nvr_strerror(-e);

        assert_non_null(s);
        assert_null(strstr(s, "authentication"));
    }
    assert_string_equal(nvr_strerror(0), "success");
    assert_string_equal(nvr_strerror(-ETIMEDOUT), "timed out");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_eacces_is_permission_denied),
        cmocka_unit_test(test_err_no_borrowed_meaning),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
