/* SPDX-License-Identifier: MIT */
/*
 * Tests of nvr/ipc_proto.c: frames round-trip; every length is bounded
 * (the prefix, each field, the number of fields); truncated frames ask for
 * more; garbage and repeated tags are malformed; integers keep their sign;
 * text with a NUL byte or too long for the caller is refused.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nvr/ipc_proto.h"

static struct ipc_enc *enc_new(void)
{
    struct ipc_enc *e = calloc(1, sizeof(*e));

    assert_non_null(e);
    return e;
}

static void test_ipc_proto_round_trip(void **state)
{
    struct ipc_enc *e = enc_new();
    struct ipc_msg m;
    char text[64];
    int64_t v;
    int n;

    (void)state;
    ipc_enc_begin(e, IPC_MSG_RECORDINGS);
    ipc_enc_text(e, IPC_TAG_CAMERA, "gate");
    ipc_enc_int(e, IPC_TAG_FROM, -1);
    ipc_enc_int(e, IPC_TAG_TO, INT64_MAX);
    ipc_enc_int(e, IPC_TAG_JSON, INT64_MIN);
    n = ipc_enc_finish(e);
    assert_true(n > IPC_HEADER_BYTES);
    assert_int_equal(ipc_decode(e->buf, (size_t)n, &m), n);
    assert_int_equal(m.type, IPC_MSG_RECORDINGS);
    assert_int_equal(m.n_fields, 4);
    assert_int_equal(ipc_msg_text(&m, IPC_TAG_CAMERA, text, sizeof(text)), 0);
    assert_string_equal(text, "gate");
    assert_int_equal(ipc_msg_int(&m, IPC_TAG_FROM, &v), 0);
    assert_true(v == -1);
    assert_int_equal(ipc_msg_int(&m, IPC_TAG_TO, &v), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(ipc_msg_int(&m, IPC_TAG_JSON, &v), 0);
    assert_true(v == INT64_MIN);
    assert_int_equal(ipc_msg_int(&m, IPC_TAG_VERIFY, &v), -ENOENT);
    /* A text field is not an integer. */
    assert_int_equal(ipc_msg_int(&m, IPC_TAG_CAMERA, &v), -EBADMSG);
    /* Too small a buffer for the text. */
    assert_int_equal(ipc_msg_text(&m, IPC_TAG_CAMERA, text, 4), -EMSGSIZE);
    free(e);
}

static void test_ipc_proto_truncated_asks_for_more(void **state)
{
    struct ipc_enc *e = enc_new();
    struct ipc_msg m;
    int n;

    (void)state;
    ipc_enc_begin(e, IPC_MSG_HELLO);
    ipc_enc_int(e, IPC_TAG_VERSION, IPC_PROTO_VERSION);
    n = ipc_enc_finish(e);
    for (int cut = 0; cut < n; cut++)
        assert_int_equal(ipc_decode(e->buf, (size_t)cut, &m), -EAGAIN);
    /* Two frames back to back: the first is taken alone. */
    memcpy(e->buf + n, e->buf, (size_t)n);
    assert_int_equal(ipc_decode(e->buf, 2 * (size_t)n, &m), n);
    free(e);
}

static void test_ipc_proto_length_bounded(void **state)
{
    uint8_t big[] = {0x00, 0x01, 0x00, 0x01, IPC_MSG_HELLO}; /* 65537 */
    uint8_t zero[] = {0, 0, 0, 0, IPC_MSG_HELLO};
    uint8_t huge[] = {0xff, 0xff, 0xff, 0xff};
    struct ipc_msg m;

    (void)state;
    assert_int_equal(ipc_decode(big, sizeof(big), &m), -EMSGSIZE);
    assert_int_equal(ipc_decode(zero, sizeof(zero), &m), -EMSGSIZE);
    /* Refused from the prefix alone: no waiting for 4 GB. */
    assert_int_equal(ipc_decode(huge, sizeof(huge), &m), -EMSGSIZE);
}

static void test_ipc_proto_garbage_is_malformed(void **state)
{
    /* A field whose length runs past the frame. */
    uint8_t over[] = {0, 0, 0, 5, IPC_MSG_STATUS, IPC_TAG_JSON, 0, 9, 1};
    /* A field header cut by the frame's end. */
    uint8_t cut[] = {0, 0, 0, 3, IPC_MSG_STATUS, IPC_TAG_JSON, 0};
    /* One tag twice. */
    uint8_t twice[] = {
        0, 0, 0, 7, IPC_MSG_STATUS, IPC_TAG_JSON, 0, 0, IPC_TAG_JSON, 0, 0};
    /* "GET / HTTP/1.1": a length prefix of 1.1 GB. */
    const char *http = "GET / HTTP/1.1\r\n\r\n";
    struct ipc_msg m;

    (void)state;
    assert_int_equal(ipc_decode(over, sizeof(over), &m), -EBADMSG);
    assert_int_equal(ipc_decode(cut, sizeof(cut), &m), -EBADMSG);
    assert_int_equal(ipc_decode(twice, sizeof(twice), &m), -EBADMSG);
    assert_int_equal(ipc_decode((const uint8_t *)http, strlen(http), &m),
                     -EMSGSIZE);
}

static void test_ipc_proto_field_count_bounded(void **state)
{
    uint8_t buf[IPC_HEADER_BYTES + 1 + 3 * (IPC_MAX_FIELDS + 1)];
    struct ipc_enc *e = enc_new();
    struct ipc_msg m;
    size_t len = IPC_HEADER_BYTES + 1;

    (void)state;
    /* The decoder refuses field IPC_MAX_FIELDS + 1 ... */
    for (int i = 0; i <= IPC_MAX_FIELDS; i++) {
        buf[len++] = (uint8_t)(i + 1);
        buf[len++] = 0;
        buf[len++] = 0;
    }
    buf[0] = 0;
    buf[1] = 0;
    buf[2] = (uint8_t)((len - IPC_HEADER_BYTES) >> 8);
    buf[3] = (uint8_t)(len - IPC_HEADER_BYTES);
    buf[4] = IPC_MSG_STATUS;
    assert_int_equal(ipc_decode(buf, len, &m), -EBADMSG);
    /* ... and takes IPC_MAX_FIELDS. */
    buf[3] = (uint8_t)(len - 3 - IPC_HEADER_BYTES);
    buf[2] = (uint8_t)((len - 3 - IPC_HEADER_BYTES) >> 8);
    assert_int_equal(ipc_decode(buf, len - 3, &m), (int)len - 3);
    assert_int_equal(m.n_fields, IPC_MAX_FIELDS);
    /* The encoder has the same bound. */
    ipc_enc_begin(e, IPC_MSG_STATUS);
    for (int i = 0; i <= IPC_MAX_FIELDS; i++)
        ipc_enc_int(e, (uint8_t)(i + 1), i);
    assert_int_equal(ipc_enc_finish(e), -EMSGSIZE);
    free(e);
}

static void test_ipc_proto_encoder_bounded(void **state)
{
    struct ipc_enc *e = enc_new();
    char *big = malloc(IPC_MAX_FRAME + 1);
    struct ipc_msg m;
    int n;

    (void)state;
    assert_non_null(big);
    memset(big, 'a', IPC_MAX_FRAME);
    big[IPC_MAX_FRAME] = '\0';
    ipc_enc_begin(e, IPC_MSG_OUTPUT);
    ipc_enc_text(e, IPC_TAG_DATA, big); /* longer than a field can be */
    assert_int_equal(ipc_enc_finish(e), -EMSGSIZE);
    /* The largest output chunk fits a frame with its stream number. */
    ipc_enc_begin(e, IPC_MSG_OUTPUT);
    ipc_enc_int(e, IPC_TAG_STREAM, 1);
    ipc_enc_bytes(e, IPC_TAG_DATA, big, IPC_OUTPUT_CHUNK);
    n = ipc_enc_finish(e);
    assert_true(n > IPC_OUTPUT_CHUNK);
    assert_int_equal(ipc_decode(e->buf, (size_t)n, &m), n);
    assert_int_equal(ipc_msg_field(&m, IPC_TAG_DATA)->len, IPC_OUTPUT_CHUNK);
    free(big);
    free(e);
}

static void test_ipc_proto_text_with_nul_refused(void **state)
{
    struct ipc_enc *e = enc_new();
    struct ipc_msg m;
    char text[16];
    int n;

    (void)state;
    ipc_enc_begin(e, IPC_MSG_RECORDINGS);
    ipc_enc_bytes(e, IPC_TAG_CAMERA, "ga\0te", 5);
    n = ipc_enc_finish(e);
    assert_int_equal(ipc_decode(e->buf, (size_t)n, &m), n);
    assert_int_equal(ipc_msg_text(&m, IPC_TAG_CAMERA, text, sizeof(text)),
                     -EBADMSG);
    assert_string_equal(ipc_msg_type_name(IPC_MSG_RECORDINGS), "recordings");
    assert_string_equal(ipc_msg_type_name(200), "unknown");
    free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipc_proto_round_trip),
        cmocka_unit_test(test_ipc_proto_truncated_asks_for_more),
        cmocka_unit_test(test_ipc_proto_length_bounded),
        cmocka_unit_test(test_ipc_proto_garbage_is_malformed),
        cmocka_unit_test(test_ipc_proto_field_count_bounded),
        cmocka_unit_test(test_ipc_proto_encoder_bounded),
        cmocka_unit_test(test_ipc_proto_text_with_nul_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
