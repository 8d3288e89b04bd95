/* SPDX-License-Identifier: MIT */
/*
 * Tests of nvr/base/escape.c: printable UTF-8 kept, C0, DEL and C1 (raw
 * and as UTF-8) shown as text, invalid UTF-8 shown byte by byte, and cuts
 * that never split an escape or a character.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nvr/base/escape.h"

static const char *esc(const char *in)
{
    static char out[256];

    return nvr_escape_text(in, out, sizeof(out));
}

static void test_escape_keeps_printable(void **state)
{
    (void)state;
    assert_string_equal(esc(""), "");
    assert_string_equal(esc(NULL), "");
    assert_string_equal(esc("gate 503 Service Unavailable"),
                        "gate 503 Service Unavailable");
    /* Latin-1 supplement, CJK and an emoji are printable UTF-8. */
    assert_string_equal(esc("caf\xc3\xa9 \xe9\x96\x80 \xf0\x9f\x93\xb7"),
                        "caf\xc3\xa9 \xe9\x96\x80 \xf0\x9f\x93\xb7");
    assert_string_equal(esc("\xc2\xa0nbsp"), "\xc2\xa0nbsp");
}

static void test_escape_c0_and_del(void **state)
{
    (void)state;
    /* OSC title change, CSI clear screen, carriage return, backspace. */
    assert_string_equal(esc("\x1b]0;owned\x07"), "\\x1b]0;owned\\x07");
    assert_string_equal(esc("\x1b[2J"), "\\x1b[2J");
    assert_string_equal(esc("a\rb\bc\x7f"), "a\\x0db\\x08c\\x7f");
    assert_string_equal(esc("l1\nl2\tx"), "l1\\x0al2\\x09x");
    assert_string_equal(esc("\x01\x1f"), "\\x01\\x1f");
    /* A backslash is doubled, so "\x1b" typed by a camera stays apart. */
    assert_string_equal(esc("\\x1b"), "\\\\x1b");
}

static void test_escape_c1(void **state)
{
    (void)state;
    /* Raw 8-bit CSI and OSC are not UTF-8: shown as bytes. */
    assert_string_equal(esc("\x9b"
                            "2J\x9d"
                            "0;t\x80\x9f"),
                        "\\x9b2J\\x9d0;t\\x80\\x9f");
    /* U+009B and U+009D written as UTF-8. */
    assert_string_equal(esc("\xc2\x9b"
                            "2J\xc2\x9d"),
                        "\\u009b2J\\u009d");
    assert_string_equal(esc("\xc2\x80\xc2\x9f"), "\\u0080\\u009f");
    /* Bidirectional override and line separator. */
    assert_string_equal(esc("a\xe2\x80\xae"
                            "b\xe2\x80\xa8"),
                        "a\\u202eb\\u2028");
}

static void test_escape_invalid_utf8(void **state)
{
    (void)state;
    assert_string_equal(esc("\xff\xfe"), "\\xff\\xfe");
    /* Overlong '/', a surrogate, a truncated sequence, above U+10FFFF. */
    assert_string_equal(esc("\xc0\xaf"), "\\xc0\\xaf");
    assert_string_equal(esc("\xed\xa0\x80"), "\\xed\\xa0\\x80");
    assert_string_equal(esc("\xe9\x96"), "\\xe9\\x96");
    assert_string_equal(esc("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
    /* A lead byte followed by ESC: both escaped, the ESC not swallowed. */
    assert_string_equal(esc("\xc3\x1b[2J"), "\\xc3\\x1b[2J");
}

static void test_escape_cuts_whole_units(void **state)
{
    char out[8];

    (void)state;
    assert_string_equal(nvr_escape_text("abcdefghij", out, sizeof(out)),
                        "abcdefg");
    /* "ab" + "\x1b" is 6, "ab\x1bc" 7, then "\x07" no longer fits. */
    assert_string_equal(nvr_escape_text("ab\x1b"
                                        "c\x07",
                                        out, sizeof(out)),
                        "ab\\x1bc");
    assert_string_equal(nvr_escape_text("abcde\xc3\xa9", out, 7), "abcde");
    assert_string_equal(nvr_escape_text("x", out, 1), "");
}

static void test_escape_worst_case_fits(void **state)
{
    char in[33], out[NVR_ESCAPE_SIZE(32)];

    (void)state;
    memset(in, 0x9b, 32);
    in[32] = '\0';
    nvr_escape_text(in, out, sizeof(out));
    assert_int_equal(strlen(out), 4 * 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_keeps_printable),
        cmocka_unit_test(test_escape_c0_and_del),
        cmocka_unit_test(test_escape_c1),
        cmocka_unit_test(test_escape_invalid_utf8),
        cmocka_unit_test(test_escape_cuts_whole_units),
        cmocka_unit_test(test_escape_worst_case_fits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
