/* SPDX-License-Identifier: MIT */
/*
 * Tests of nvr/base/user.c and wipe.c: root's name from the user
 * database, "uid N" for a uid without an entry, and wiping.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nvr/base/user.h"
#include "nvr/base/wipe.h"

static void test_user_name_known_and_unknown(void **state)
{
    char name[NVR_USER_NAME_MAX];

    (void)state;
    assert_int_equal(nvr_user_name(0, name, sizeof(name)), 0);
    assert_string_equal(name, "root");
    /* No system has an entry for this uid. */
    assert_int_equal(nvr_user_name(3999999999u, name, sizeof(name)), -ENOENT);
    assert_string_equal(name, "uid 3999999999");
}

static void test_wipe_zeros(void **state)
{
    char secret[16] = "hunter2";

    (void)state;
    nvr_wipe(secret, sizeof(secret));
    for (size_t i = 0; i < sizeof(secret); i++)
        assert_int_equal(secret[i], 0);
    nvr_wipe(NULL, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_user_name_known_and_unknown),
        cmocka_unit_test(test_wipe_zeros),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
