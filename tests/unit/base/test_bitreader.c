/* SPDX-License-Identifier: MIT */
/*
 * Tests of nvr/base/bitreader.c: fixed-width and Exp-Golomb reads, the
 * overrun flag at the end of the buffer, skips, and RBSP unescaping.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "nvr/base/bitreader.h"

static void test_bitreader_fixed_and_golomb(void **state)
{
    /* 101 | 1 (ue 0) | 010 (ue 1) | 00100 (ue 3) | 011 (se -1) | 1 */
    const uint8_t buf[] = {0xb4, 0x47};
    struct nvr_bitreader b;

    (void)state;
    nvr_bitreader_init(&b, buf, sizeof(buf));
    assert_int_equal(nvr_bitreader_u(&b, 3), 5);
    assert_int_equal(nvr_bitreader_ue(&b), 0);
    assert_int_equal(nvr_bitreader_ue(&b), 1);
    assert_int_equal(nvr_bitreader_ue(&b), 3);
    assert_int_equal(nvr_bitreader_se(&b), -1);
    assert_int_equal(nvr_bitreader_left(&b), 1);
    assert_int_equal(nvr_bitreader_u1(&b), 1);
    assert_false(b.overrun);
    assert_int_equal(nvr_bitreader_u1(&b), 0);
    assert_true(b.overrun);
    assert_int_equal(nvr_bitreader_left(&b), 0);
}

static void test_bitreader_overruns(void **state)
{
    const uint8_t zeros[5] = {0};
    struct nvr_bitreader b;

    (void)state;
    /* A code longer than 32 bits is refused, not read past the end. */
    nvr_bitreader_init(&b, zeros, sizeof(zeros));
    assert_int_equal(nvr_bitreader_ue(&b), 0);
    assert_true(b.overrun);
    nvr_bitreader_init(&b, zeros, 1);
    nvr_bitreader_skip(&b, 8);
    assert_false(b.overrun);
    nvr_bitreader_skip(&b, 1);
    assert_true(b.overrun);
    nvr_bitreader_init(&b, zeros, 0);
    assert_int_equal(nvr_bitreader_u(&b, 32), 0);
    assert_true(b.overrun);
}

static void test_bitreader_rbsp_unescape(void **state)
{
    const uint8_t in[] = {0x00, 0x00, 0x03, 0x01, 0x00, 0x00, 0x03, 0x03};
    uint8_t out[8];
    size_t n;

    (void)state;
    n = nvr_rbsp_unescape(in, sizeof(in), out, sizeof(out));
    assert_int_equal(n, 6);
    assert_int_equal(out[2], 0x01);
    assert_int_equal(out[5], 0x03);
    assert_int_equal(nvr_rbsp_unescape(in, sizeof(in), out, 2), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bitreader_fixed_and_golomb),
        cmocka_unit_test(test_bitreader_overruns),
        cmocka_unit_test(test_bitreader_rbsp_unescape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
