/* SPDX-License-Identifier: MIT */
/*
 * Tests of nvr/base/json.c: exact output for nesting, commas, every escape,
 * invalid UTF-8, numbers, fixed decimals, the time pair and the pretty
 * layout.
 */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nvr/base/json.h"

struct mem {
    FILE *f;
    char *buf;
    size_t len;
    struct json_out j;
};

static int setup(void **state)
{
    struct mem *m = calloc(1, sizeof(*m));

    assert_non_null(m);
    m->f = open_memstream(&m->buf, &m->len);
    assert_non_null(m->f);
    json_init(&m->j, m->f);
    *state = m;
    return 0;
}

static int teardown(void **state)
{
    struct mem *m = *state;

    if (m->f)
        fclose(m->f);
    free(m->buf);
    free(m);
    return 0;
}

/* Closes the stream and returns what was written. */
static const char *text(struct mem *m)
{
    fclose(m->f);
    m->f = NULL;
    return m->buf;
}

static void test_json_nesting_and_commas(void **state)
{
    struct mem *m = *state;
    struct json_out *j = &m->j;

    json_obj_begin(j, NULL);
    json_str(j, "name", "gate");
    json_arr_begin(j, "tracks");
    json_obj_begin(j, NULL);
    json_int(j, "clock_rate", 90000);
    json_bool(j, "recordable", 1);
    json_obj_end(j);
    json_obj_begin(j, NULL);
    json_obj_end(j);
    json_arr_begin(j, NULL);
    json_arr_end(j);
    json_int(j, NULL, -5);
    json_arr_end(j);
    json_obj_begin(j, "storage");
    json_null(j, "error");
    json_bool(j, "ok", 0);
    json_obj_end(j);
    json_arr_begin(j, "empty");
    json_arr_end(j);
    json_obj_end(j);
    json_finish(j);
    assert_string_equal(
        text(m), "{\"name\":\"gate\",\"tracks\":[{\"clock_rate\":90000,"
                 "\"recordable\":true},{},[],-5],\"storage\":{\"error\":null,"
                 "\"ok\":false},\"empty\":[]}\n");
}

static void test_json_escapes(void **state)
{
    struct mem *m = *state;
    struct json_out *j = &m->j;

    json_arr_begin(j, NULL);
    json_str(j, NULL, "q\"b\\s/");
    json_str(j, NULL, "\n\t\r\b\f");
    json_str(j, NULL, "\x01\x1f\x7f");
    json_str(j, NULL, NULL);
    json_str(j, NULL, "");
    json_arr_end(j);
    assert_string_equal(text(m), "[\"q\\\"b\\\\s/\",\"\\n\\t\\r\\b\\f\","
                                 "\"\\u0001\\u001f\\u007f\",null,\"\"]");
}

/* Terminal controls above 0x7f: C1 as UTF-8 becomes \u escapes, raw C1
 * bytes are not UTF-8 and become U+FFFD, NBSP (U+00A0) is kept. */
static void test_json_c1_escaped(void **state)
{
    struct mem *m = *state;
    struct json_out *j = &m->j;

    json_arr_begin(j, NULL);
    json_str(j, NULL,
             "\xc2\x9b"
             "2J\xc2\x9d"
             "0;t\xc2\x80\xc2\x9f\xc2\xa0");
    json_str(j, NULL,
             "\x9b"
             "2J\x9d");
    json_arr_end(j);
    assert_string_equal(text(m),
                        "[\"\\u009b2J\\u009d0;t\\u0080\\u009f\xc2\xa0\","
                        "\"\\ufffd2J\\ufffd\"]");
}

static void test_json_key_escaped(void **state)
{
    struct mem *m = *state;

    json_obj_begin(&m->j, NULL);
    json_int(&m->j, "a\"b", 1);
    json_obj_end(&m->j);
    assert_string_equal(text(m), "{\"a\\\"b\":1}");
}

static void test_json_utf8(void **state)
{
    struct mem *m = *state;
    struct json_out *j = &m->j;

    json_arr_begin(j, NULL);
    /* Valid: 2, 3 and 4 byte sequences pass through. */
    json_str(j, NULL, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xa5");
    /* Latin-1 byte, lone continuation, truncated sequence at the end. */
    json_str(j, NULL, "a\xe9z\x80\xe2\x82");
    /* Overlong '/', a UTF-16 surrogate, beyond U+10FFFF, 0xff. */
    json_str(j, NULL, "\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\xff");
    json_arr_end(j);
    assert_string_equal(text(m),
                        "[\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xa5\","
                        "\"a\\ufffdz\\ufffd\\ufffd\\ufffd\","
                        "\"\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|"
                        "\\ufffd\\ufffd\\ufffd\\ufffd|\\ufffd\"]");
}

static void test_json_numbers(void **state)
{
    struct mem *m = *state;
    struct json_out *j = &m->j;

    json_arr_begin(j, NULL);
    json_int(j, NULL, INT64_MAX);
    json_int(j, NULL, INT64_MIN);
    json_double(j, NULL, 0.1);
    json_double(j, NULL, 1.5);
    json_double(j, NULL, 1.0 / 3.0);
    json_double(j, NULL, 1e300);
    json_double(j, NULL, NAN);
    json_double(j, NULL, INFINITY);
    json_double(j, NULL, -INFINITY);
    json_arr_end(j);
    assert_string_equal(text(m), "[9223372036854775807,-9223372036854775808,"
                                 "0.1,1.5,0.3333333333333333,1e+300,null,"
                                 "null,null]");
}

static void test_json_time(void **state)
{
    struct mem *m = *state;
    struct json_out *j = &m->j;

    json_obj_begin(j, NULL);
    json_time(j, "start", 1795773600LL * 1000000 + 250000);
    json_time(j, "end", 0);
    json_arr_begin(j, "at");
    json_time(j, NULL, 1795773600LL * 1000000);
    json_arr_end(j);
    json_obj_end(j);
    assert_string_equal(text(m), "{\"start\":\"2026-11-27T10:00:00.250000Z\","
                                 "\"start_us\":1795773600250000,"
                                 "\"end\":null,\"end_us\":null,"
                                 "\"at\":[\"2026-11-27T10:00:00Z\"]}");
}

static void test_json_fixed(void **state)
{
    struct mem *m = *state;
    struct json_out *j = &m->j;

    json_arr_begin(j, NULL);
    json_fixed(j, NULL, 60.0, 6);
    json_fixed(j, NULL, 1.0 / 3.0, 6);
    json_fixed(j, NULL, -0.5, 1);
    json_fixed(j, NULL, 2.5, 0);
    json_fixed(j, NULL, NAN, 6);
    json_fixed(j, NULL, 1e20, 2);
    json_arr_end(j);
    assert_string_equal(text(m), "[60.000000,0.333333,-0.5,2,null,"
                                 "100000000000000000000.00]");
}

/* The layout of an export manifest: two spaces per level, ": " after
 * keys, empty containers kept on one line. */
static void test_json_pretty(void **state)
{
    struct mem *m = *state;
    struct json_out *j = &m->j;

    json_init_pretty(j, m->f);
    json_obj_begin(j, NULL);
    json_str(j, "format", "nvr");
    json_arr_begin(j, "clips");
    json_obj_begin(j, NULL);
    json_int(j, "bytes", 12);
    json_arr_begin(j, "audio");
    json_arr_end(j);
    json_fixed(j, "duration_s", 1.5, 6);
    json_obj_end(j);
    json_arr_end(j);
    json_obj_begin(j, "empty");
    json_obj_end(j);
    json_time(j, "at", 1795773600LL * 1000000);
    json_obj_end(j);
    json_finish(j);
    assert_string_equal(text(m), "{\n"
                                 "  \"format\": \"nvr\",\n"
                                 "  \"clips\": [\n"
                                 "    {\n"
                                 "      \"bytes\": 12,\n"
                                 "      \"audio\": [],\n"
                                 "      \"duration_s\": 1.500000\n"
                                 "    }\n"
                                 "  ],\n"
                                 "  \"empty\": {},\n"
                                 "  \"at\": \"2026-11-27T10:00:00Z\",\n"
                                 "  \"at_us\": 1795773600000000\n"
                                 "}\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_json_nesting_and_commas, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_json_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_c1_escaped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_key_escaped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_fixed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_pretty, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
