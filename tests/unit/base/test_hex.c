/* SPDX-License-Identifier: MIT */
/*
 * Tests of nvr/base/hex.c: lowercase encoding, strict decoding of either
 * case, and refusal of non-hex text.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nvr/base/hex.h"

static void test_hex_encode_lowercase(void **state)
{
    const uint8_t d[] = {0x00, 0x01, 0xab, 0xff, 0x7e};
    char out[2 * sizeof(d) + 1];

    (void)state;
    memset(out, 'x', sizeof(out));
    nvr_hex_encode(d, sizeof(d), out);
    assert_string_equal(out, "0001abff7e");
    nvr_hex_encode(d, 0, out);
    assert_string_equal(out, "");
}

static void test_hex_decode_round_trip(void **state)
{
    uint8_t out[4];

    (void)state;
    assert_int_equal(nvr_hex_decode("00aBfF12", 4, out), 0);
    assert_int_equal(out[0], 0x00);
    assert_int_equal(out[1], 0xab);
    assert_int_equal(out[2], 0xff);
    assert_int_equal(out[3], 0x12);
}

static void test_hex_decode_rejects(void **state)
{
    uint8_t out[2];

    (void)state;
    assert_int_equal(nvr_hex_decode("0g", 1, out), -EINVAL);
    assert_int_equal(nvr_hex_decode("g0", 1, out), -EINVAL);
    assert_int_equal(nvr_hex_decode("00 1", 2, out), -EINVAL);
    assert_int_equal(nvr_hex_decode("0", 1, out), -EINVAL); /* NUL */
    assert_int_equal(nvr_hex_digit('F'), 15);
    assert_int_equal(nvr_hex_digit('/'), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hex_encode_lowercase),
        cmocka_unit_test(test_hex_decode_round_trip),
        cmocka_unit_test(test_hex_decode_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
