/* SPDX-License-Identifier: MIT */
/*
 * Tests of storage/mp4box.c: box headers (32-bit, 64-bit and "to the end"
 * sizes, sizes that cannot be), and the prefix of complete boxes of a
 * segment cut short: a torn mdat, a moof without its mdat, a box still
 * being written, read from a file and from memory alike.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "storage/mp4box.h"

/* Appends a box of `size` bytes (header included) of type t. */
static size_t put_box(uint8_t *p, uint32_t size, const char *t)
{
    p[0] = (uint8_t)(size >> 24);
    p[1] = (uint8_t)(size >> 16);
    p[2] = (uint8_t)(size >> 8);
    p[3] = (uint8_t)size;
    memcpy(p + 4, t, 4);
    memset(p + 8, 0x5a, size > 8 ? size - 8 : 0);
    return size;
}

/* The prefix of the first len bytes of buf, read back from a file, and
 * checked against the in-memory scan. */
static int64_t file_prefix(const uint8_t *buf, size_t len, unsigned flags)
{
    char path[] = "/tmp/test_mp4box.XXXXXX";
    int fd = mkstemp(path);
    int64_t valid = -1;

    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(write(fd, buf, len), (ssize_t)len);
    assert_int_equal(mp4box_complete_prefix(fd, (int64_t)len, flags, &valid),
                     0);
    close(fd);
    assert_int_equal(mp4box_complete_prefix_buf(buf, len, flags),
                     (size_t)valid);
    return valid;
}

static void test_mp4box_parse_sizes(void **state)
{
    uint8_t b[32] = {0};
    struct mp4box box;

    (void)state;
    put_box(b, 24, "ftyp");
    assert_int_equal(mp4box_parse(b, 24, 24, &box), 0);
    assert_int_equal(box.size, 24);
    assert_int_equal(box.header_len, 8);
    assert_false(box.to_end);
    assert_true(mp4box_is(&box, "ftyp"));
    assert_false(mp4box_is(&box, "mdat"));

    /* Larger than what is left, smaller than its header. */
    assert_int_equal(mp4box_parse(b, 20, 20, &box), -EBADMSG);
    put_box(b, 7, "free");
    assert_int_equal(mp4box_parse(b, 8, 32, &box), -EBADMSG);
    /* Fewer than 8 bytes at hand: more may come, or not. */
    assert_int_equal(mp4box_parse(b, 4, 32, &box), -EAGAIN);
    assert_int_equal(mp4box_parse(b, 4, 4, &box), -EBADMSG);

    /* A 64-bit size: 1, the type, then the size. */
    memset(b, 0, sizeof(b));
    b[3] = 1;
    memcpy(b + 4, "mdat", 4);
    b[15] = 20;
    assert_int_equal(mp4box_parse(b, 16, 32, &box), 0);
    assert_int_equal(box.size, 20);
    assert_int_equal(box.header_len, 16);
    assert_int_equal(mp4box_parse(b, 12, 32, &box), -EAGAIN);
    assert_int_equal(mp4box_parse(b, 12, 12, &box), -EBADMSG);
    b[15] = 12; /* below its own 16-byte header */
    assert_int_equal(mp4box_parse(b, 16, 32, &box), -EBADMSG);

    /* Size 0: to the end of the data. */
    memset(b, 0, 4);
    assert_int_equal(mp4box_parse(b, 16, 30, &box), 0);
    assert_true(box.to_end);
    assert_int_equal(box.size, 30);
}

static void test_mp4box_prefix_fragments(void **state)
{
    uint8_t b[512];
    size_t n = 0, head, frag1;

    (void)state;
    n += put_box(b + n, 24, "ftyp");
    n += put_box(b + n, 40, "moov");
    head = n;
    n += put_box(b + n, 32, "moof");
    n += put_box(b + n, 64, "mdat");
    frag1 = n;
    n += put_box(b + n, 32, "moof");
    n += put_box(b + n, 64, "mdat");

    assert_int_equal(file_prefix(b, n, 0), (int64_t)n);
    /* The second mdat torn: the prefix ends after the first fragment. */
    assert_int_equal(file_prefix(b, n - 1, 0), (int64_t)frag1);
    /* A moof alone does not count. */
    assert_int_equal(file_prefix(b, frag1 + 32, 0), (int64_t)frag1);
    assert_int_equal(file_prefix(b, head + 20, 0), (int64_t)head);
    /* Nothing whole. */
    assert_int_equal(file_prefix(b, 20, 0), 0);
    assert_int_equal(file_prefix(b, 0, 0), 0);
}

static void test_mp4box_prefix_to_end(void **state)
{
    uint8_t b[256];
    size_t n = 0, head;

    (void)state;
    n += put_box(b + n, 24, "ftyp");
    n += put_box(b + n, 40, "moov");
    head = n;
    n += put_box(b + n, 32, "moof");
    n += put_box(b + n, 64, "mdat");
    memset(b + head + 32, 0, 4); /* the mdat's size not written yet */

    /* A finished file: the mdat runs to its end. */
    assert_int_equal(file_prefix(b, n, 0), (int64_t)n);
    /* A file still being written: it is not complete. */
    assert_int_equal(file_prefix(b, n, MP4BOX_GROWING), (int64_t)head);
}

static void test_mp4box_read_short_file(void **state)
{
    char path[] = "/tmp/test_mp4box.XXXXXX";
    int fd = mkstemp(path);
    uint8_t b[64];
    struct mp4box box;
    int64_t valid;

    (void)state;
    assert_true(fd >= 0);
    unlink(path);
    put_box(b, 24, "ftyp");
    assert_int_equal(write(fd, b, 4), 4);
    /* The caller believes the file is longer than it is. */
    assert_int_equal(mp4box_read(fd, 0, 24, &box), -EIO);
    assert_int_equal(mp4box_complete_prefix(fd, 24, 0, &valid), -EIO);
    assert_int_equal(mp4box_read(fd, 0, 4, &box), -EBADMSG);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mp4box_parse_sizes),
        cmocka_unit_test(test_mp4box_prefix_fragments),
        cmocka_unit_test(test_mp4box_prefix_to_end),
        cmocka_unit_test(test_mp4box_read_short_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
