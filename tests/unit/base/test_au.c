/* SPDX-License-Identifier: MIT */
/*
 * Tests of nvr/base/au.c: growth, limits and refcounting.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nvr/base/au.h"

static void test_au_append_grows(void **state)
{
    struct nvr_au *au;
    uint8_t chunk[3000];

    memset(chunk, 0xab, sizeof(chunk));
    assert_int_equal(nvr_au_new(16, &au), 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(nvr_au_append(&au, chunk, sizeof(chunk)), 0);
    assert_int_equal(au->len, 30000);
    assert_true(au->cap >= 30000);
    assert_int_equal(au->data[29999], 0xab);
    nvr_au_unref(au);
}

static void test_au_limit(void **state)
{
    struct nvr_au *au = NULL;
    uint8_t b = 0;

    assert_int_equal(nvr_au_new(NVR_AU_MAX_BYTES + 1, &au), -EMSGSIZE);
    assert_null(au);
    assert_int_equal(nvr_au_new(0, &au), 0);
    au->len = NVR_AU_MAX_BYTES; /* pretend it is full */
    assert_int_equal(nvr_au_append(&au, &b, 1), -EMSGSIZE);
    au->len = 0;
    nvr_au_unref(au);
}

static void test_au_refcount(void **state)
{
    struct nvr_au *au;

    assert_int_equal(nvr_au_new(8, &au), 0);
    assert_ptr_equal(nvr_au_ref(au), au);
    assert_int_equal(atomic_load(&au->refs), 2);
    nvr_au_unref(au);
    assert_int_equal(atomic_load(&au->refs), 1);
    nvr_au_unref(au); /* frees; ASan reports a leak otherwise */
    nvr_au_unref(NULL);
}

static void test_au_codec_names(void **state)
{
    assert_string_equal(nvr_codec_name(NVR_CODEC_H264), "h264");
    assert_string_equal(nvr_codec_name(NVR_CODEC_PCMA), "pcma");
    assert_string_equal(nvr_codec_name(NVR_CODEC_NONE), "unknown");
}

static void test_au_nal_index(void **state)
{
    struct nvr_au *au;

    (void)state;
    assert_int_equal(nvr_au_new(64, &au), 0);
    assert_int_equal(au->n_nals, 0);
    for (size_t i = 0; i < 3; i++) {
        nvr_au_note_nal(au, au->len);
        assert_int_equal(nvr_au_append(&au, "\0\0\0\1\x41\x9a", 6), 0);
    }
    assert_int_equal(au->n_nals, 3);
    assert_int_equal(au->nal_at[2], 12);
    /* Cutting at the third NAL unit's start code forgets it, and only it
     * (what a depacketizer does with a fragment it drops). */
    nvr_au_truncate(au, 12);
    assert_int_equal(au->len, 12);
    assert_int_equal(au->n_nals, 2);
    nvr_au_truncate(au, 99); /* longer than the unit: nothing */
    assert_int_equal(au->len, 12);
    nvr_au_truncate(au, 0);
    assert_int_equal(au->n_nals, 0);
    /* Past the index the count says "not indexed", and stays so. */
    for (size_t i = 0; i < NVR_AU_NAL_INDEX + 5; i++)
        nvr_au_note_nal(au, i * 6);
    assert_int_equal(au->n_nals, NVR_AU_NAL_INDEX + 1);
    nvr_au_truncate(au, 6);
    assert_int_equal(au->n_nals, NVR_AU_NAL_INDEX + 1);
    nvr_au_unref(au);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_au_append_grows),
        cmocka_unit_test(test_au_nal_index),
        cmocka_unit_test(test_au_limit),
        cmocka_unit_test(test_au_refcount),
        cmocka_unit_test(test_au_codec_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
