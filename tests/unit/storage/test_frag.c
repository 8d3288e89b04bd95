/* SPDX-License-Identifier: MIT */
/*
 * Tests of storage/frag.c: Annex B units split at their start codes and
 * written length-prefixed, byte for byte; the moof fields (sequence, tfdt,
 * durations from decode-time differences, sizes, data offsets, keyframe
 * flags) for one and two tracks; gaps kept; mfra listing the fragments
 * that start with a keyframe. The bytes go to memory and are parsed back
 * here; test_segment and test_segment_av read whole files with
 * libavformat.
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

#include "storage/frag.h"

struct sink {
    uint8_t *buf;
    size_t len, cap;
    int calls;
    int fail_at; /* 1-based call that fails with -ENOSPC; 0 never */
};

static int sink_write(void *opaque, struct iovec *iov, int cnt)
{
    struct sink *s = opaque;

    if (++s->calls == s->fail_at)
        return -ENOSPC;
    for (int i = 0; i < cnt; i++) {
        if (s->len + iov[i].iov_len > s->cap) {
            s->cap = (s->len + iov[i].iov_len) * 2;
            s->buf = realloc(s->buf, s->cap);
            assert_non_null(s->buf);
        }
        memcpy(s->buf + s->len, iov[i].iov_base, iov[i].iov_len);
        s->len += iov[i].iov_len;
    }
    return 0;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static uint64_t be64(const uint8_t *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static struct nvr_au *unit(const void *data, size_t len)
{
    struct nvr_au *au;

    assert_int_equal(nvr_au_new(len ? len : 1, &au), 0);
    memcpy(au->data, data, len);
    au->len = len;
    return au;
}

/* What one traf of a parsed fragment says. */
struct traf {
    uint32_t id;
    uint32_t tfhd_flags, default_flags;
    uint64_t tfdt;
    uint32_t trun_flags, count, first_flags;
    uint8_t trun_version;
    int32_t data_off;
    uint32_t dur[16], size[16];
    int32_t cto[16]; /* composition offsets, when the trun has them */
};

/* Parses the moof at buf[off]; returns the trafs found and sets *mdat to
 * the offset of the mdat that follows. */
static int parse_moof(const uint8_t *buf, size_t off, uint32_t *seq,
                      struct traf *t, size_t *mdat)
{
    uint32_t moof = be32(buf + off);
    size_t p = off + 8;
    int n = 0;

    assert_memory_equal(buf + off + 4, "moof", 4);
    assert_memory_equal(buf + p + 4, "mfhd", 4);
    *seq = be32(buf + p + 12);
    p += be32(buf + p);
    while (p < off + moof) {
        size_t end = p + be32(buf + p);
        size_t q = p + 8;
        struct traf *x = &t[n++];

        assert_memory_equal(buf + p + 4, "traf", 4);
        memset(x, 0, sizeof(*x));
        assert_memory_equal(buf + q + 4, "tfhd", 4);
        x->tfhd_flags = be32(buf + q + 8);
        x->id = be32(buf + q + 12);
        x->default_flags = be32(buf + q + 16);
        q += be32(buf + q);
        assert_memory_equal(buf + q + 4, "tfdt", 4);
        assert_int_equal(buf[q + 8], 1);
        x->tfdt = be64(buf + q + 12);
        q += be32(buf + q);
        assert_memory_equal(buf + q + 4, "trun", 4);
        x->trun_version = buf[q + 8];
        x->trun_flags = be32(buf + q + 8) & 0xffffffu;
        x->count = be32(buf + q + 12);
        x->data_off = (int32_t)be32(buf + q + 16);
        q += 20;
        if (x->trun_flags & 4) {
            x->first_flags = be32(buf + q);
            q += 4;
        }
        assert_true(x->count <= 16);
        for (uint32_t i = 0; i < x->count; i++) {
            x->dur[i] = be32(buf + q);
            x->size[i] = be32(buf + q + 4);
            q += 8;
            if (x->trun_flags & 0x800) {
                x->cto[i] = (int32_t)be32(buf + q);
                q += 4;
            }
        }
        assert_int_equal(q, end);
        p = end;
    }
    assert_int_equal(p, off + moof);
    assert_memory_equal(buf + p + 4, "mdat", 4);
    *mdat = p;
    return n;
}

static void test_frag_annexb_length_prefixed(void **state)
{
    (void)state;
    /* SPS, PPS and a slice ending in zero bytes (cabac_zero_words), each
     * after a four-byte start code; then an SEI after a three-byte one.
     * A zero byte just before a start code is taken as the four-byte
     * form's; the slice keeps the others. */
    static const uint8_t au1[] = {
        0, 0, 0, 1,    0x67, 0x42, 0xc0, 0x1e, 0, 0, 0, 1, 0x68, 0xce, 0,
        0, 0, 1, 0x65, 0x88, 0x84, 0,    0,    0, 0, 0, 0, 1,    0x06, 0x05};
    static const uint8_t want[] = {
        0, 0, 0, 4,    0x67, 0x42, 0xc0, 0x1e, 0, 0, 0, 2, 0x68, 0xce, 0,
        0, 0, 6, 0x65, 0x88, 0x84, 0,    0,    0, 0, 0, 0, 2,    0x06, 0x05};
    struct frag f;
    struct sink s = {0};
    struct traf t[2];
    struct nvr_au *au = unit(au1, sizeof(au1));
    uint32_t seq;
    size_t mdat;

    frag_init(&f);
    assert_int_equal(frag_add_track(&f, 1, true, true), 0);
    assert_int_equal(frag_add(&f, 0, au, 0, 0, 3600, true), 0);
    nvr_au_unref(au); /* the fragment holds its own reference */
    assert_true(frag_pending(&f));
    assert_int_equal(frag_flush(&f, 1000, sink_write, &s), 0);
    assert_false(frag_pending(&f));

    assert_int_equal(parse_moof(s.buf, 0, &seq, t, &mdat), 1);
    assert_int_equal(seq, 1);
    assert_int_equal(t[0].id, 1);
    assert_int_equal(t[0].tfhd_flags, 0x020020);
    assert_int_equal(t[0].default_flags, 0x01010000);
    assert_int_equal(t[0].count, 1);
    assert_int_equal(t[0].first_flags, 0x02000000);
    assert_int_equal(t[0].size[0], sizeof(want));
    assert_int_equal(t[0].dur[0], 3600);
    assert_int_equal(t[0].data_off, mdat + 8);
    assert_int_equal(be32(s.buf + mdat), 8 + sizeof(want));
    assert_int_equal(s.len, mdat + 8 + sizeof(want));
    assert_memory_equal(s.buf + mdat + 8, want, sizeof(want));
    /* A keyframe started it: the index lists it at the offset given. */
    assert_int_equal(f.nra, 1);
    assert_int_equal(f.ra[0].offset, 1000);
    frag_clear(&f);
    free(s.buf);
}

static void test_frag_composition_offsets(void **state)
{
    (void)state;
    /* I0 P3 B1 B2 in decode order, decoded a frame before shown. */
    static const uint8_t nal[] = {0, 0, 0, 1, 0x41, 0x9a};
    static const int64_t pts[] = {3600, 14400, 7200, 10800};
    struct frag f;
    struct sink s = {0};
    struct traf t[2];
    uint32_t seq;
    size_t mdat;

    frag_init(&f);
    assert_int_equal(frag_add_track(&f, 1, true, true), 0);
    for (int i = 0; i < 4; i++) {
        struct nvr_au *au = unit(nal, sizeof(nal));
        int64_t dts = (int64_t)i * 3600;

        assert_int_equal(
            frag_add(&f, 0, au, dts, (int32_t)(pts[i] - dts), 3600, i == 0), 0);
        nvr_au_unref(au);
    }
    assert_int_equal(frag_flush(&f, 0, sink_write, &s), 0);
    assert_int_equal(parse_moof(s.buf, 0, &seq, t, &mdat), 1);
    /* trun version 1 with data offset, duration, size and composition
     * offset per sample, and the first sample's flags. */
    assert_int_equal(t[0].trun_version, 1);
    assert_int_equal(t[0].trun_flags, 0x000b05);
    assert_int_equal(t[0].count, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(t[0].cto[i], pts[i] - (int64_t)i * 3600);
        assert_int_equal(t[0].dur[i], 3600);
    }
    assert_int_equal(t[0].data_off, mdat + 8);
    assert_int_equal(s.len, mdat + 8 + 4 * 6);
    /* The keyframe is listed at its presentation time. */
    assert_int_equal(f.nra, 1);
    assert_int_equal(f.ra[0].time, 3600);
    frag_clear(&f);

    /* Negative offsets (a decode time after the presentation time) keep
     * their sign; a fragment without offsets stays version 0. */
    free(s.buf);
    memset(&s, 0, sizeof(s));
    frag_init(&f);
    assert_int_equal(frag_add_track(&f, 1, true, true), 0);
    for (int i = 0; i < 2; i++) {
        struct nvr_au *au = unit(nal, sizeof(nal));

        assert_int_equal(
            frag_add(&f, 0, au, i * 3600, i ? -1800 : 0, 3600, i == 0), 0);
        nvr_au_unref(au);
    }
    assert_int_equal(frag_flush(&f, 0, sink_write, &s), 0);
    for (int i = 0; i < 2; i++) {
        struct nvr_au *au = unit(nal, sizeof(nal));

        assert_int_equal(frag_add(&f, 0, au, 7200 + i * 3600, 0, 3600, false),
                         0);
        nvr_au_unref(au);
    }
    {
        size_t first = s.len;

        assert_int_equal(frag_flush(&f, (int64_t)first, sink_write, &s), 0);
        assert_int_equal(parse_moof(s.buf, 0, &seq, t, &mdat), 1);
        assert_int_equal(t[0].trun_version, 1);
        assert_int_equal(t[0].cto[1], -1800);
        assert_int_equal(parse_moof(s.buf, first, &seq, t, &mdat), 1);
        assert_int_equal(t[0].trun_version, 0);
        assert_int_equal(t[0].trun_flags, 0x000305);
    }
    frag_clear(&f);
    free(s.buf);
}

static void test_frag_uses_the_depacketizers_index(void **state)
{
    (void)state;
    /* A slice holding 00 00 01 (a camera that skipped emulation
     * prevention): scanning would cut it in three, the depacketizer's
     * index keeps it whole, as the camera sent it. */
    static const uint8_t au1[] = {0, 0,    0, 1, 0x65, 0, 0,
                                  1, 0x88, 0, 0, 0,    1, 0x06};
    static const uint8_t want_indexed[] = {0, 0,    0, 5, 0x65, 0, 0,
                                           1, 0x88, 0, 0, 0,    1, 0x06};
    static const uint8_t want_scanned[] = {0, 0,    0, 1, 0x65, 0, 0,   0,
                                           1, 0x88, 0, 0, 0,    1, 0x06};
    struct frag f;
    struct sink s = {0};
    struct traf t[2];
    uint32_t seq;
    size_t mdat;
    struct nvr_au *a = unit(au1, sizeof(au1));
    struct nvr_au *b = unit(au1, sizeof(au1));
    struct nvr_au *c = unit(au1, sizeof(au1));

    nvr_au_note_nal(a, 0);
    nvr_au_note_nal(a, 9);
    /* An index that does not match the bytes is not trusted. */
    nvr_au_note_nal(c, 0);
    nvr_au_note_nal(c, 8);
    frag_init(&f);
    assert_int_equal(frag_add_track(&f, 1, true, true), 0);
    assert_int_equal(frag_add(&f, 0, a, 0, 0, 1, true), 0);
    assert_int_equal(frag_add(&f, 0, b, 1, 0, 1, false), 0);
    assert_int_equal(frag_add(&f, 0, c, 2, 0, 1, false), 0);
    assert_int_equal(frag_flush(&f, 0, sink_write, &s), 0);
    assert_int_equal(parse_moof(s.buf, 0, &seq, t, &mdat), 1);
    assert_int_equal(t[0].size[0], sizeof(want_indexed));
    assert_memory_equal(s.buf + mdat + 8, want_indexed, sizeof(want_indexed));
    assert_int_equal(t[0].size[1], sizeof(want_scanned));
    assert_memory_equal(s.buf + mdat + 8 + sizeof(want_indexed), want_scanned,
                        sizeof(want_scanned));
    assert_int_equal(t[0].size[2], sizeof(want_scanned));
    assert_memory_equal(s.buf + mdat + 8 + sizeof(want_indexed) +
                            sizeof(want_scanned),
                        want_scanned, sizeof(want_scanned));
    nvr_au_unref(a);
    nvr_au_unref(b);
    nvr_au_unref(c);
    frag_clear(&f);
    free(s.buf);
}

static void test_frag_refuses_units_without_nal(void **state)
{
    (void)state;
    static const uint8_t none[] = {0x65, 0x88, 0x84, 0x00};
    static const uint8_t empty[] = {0, 0, 0, 1, 0, 0, 0, 1};
    struct frag f;
    struct nvr_au *a = unit(none, sizeof(none));
    struct nvr_au *b = unit(empty, sizeof(empty));
    struct nvr_au *c;
    uint8_t *many = malloc(4 * (FRAG_MAX_NALS_PER_UNIT + 1));

    assert_non_null(many);
    for (size_t i = 0; i <= FRAG_MAX_NALS_PER_UNIT; i++)
        memcpy(many + 4 * i, "\0\0\1\x41", 4);
    c = unit(many, 4 * (FRAG_MAX_NALS_PER_UNIT + 1));
    frag_init(&f);
    assert_int_equal(frag_add_track(&f, 1, true, true), 0);
    assert_int_equal(frag_add(&f, 0, a, 0, 0, 1, true), 1);
    assert_int_equal(frag_add(&f, 0, b, 0, 0, 1, true), 1);
    assert_int_equal(frag_add(&f, 0, c, 0, 0, 1, true), 1);
    assert_int_equal(frag_add(&f, 1, a, 0, 0, 1, true), -EINVAL);
    assert_false(frag_pending(&f));
    assert_int_equal(f.nnal, 0);
    /* Nothing was kept: these are the only references. */
    assert_int_equal(atomic_load(&a->refs), 1);
    assert_int_equal(atomic_load(&c->refs), 1);
    nvr_au_unref(a);
    nvr_au_unref(b);
    nvr_au_unref(c);
    free(many);
    frag_clear(&f);
}

static void test_frag_two_tracks_and_gaps(void **state)
{
    (void)state;
    static const uint8_t v[] = {0, 0, 0, 1, 0x41, 0x9a, 0x22};
    static const uint8_t a[] = {0xd5, 0xd5, 0xd5, 0xd5, 0xd5};
    struct frag f;
    struct sink s = {0};
    struct traf t[2];
    uint32_t seq;
    size_t mdat;

    frag_init(&f);
    assert_int_equal(frag_add_track(&f, 1, true, true), 0);
    assert_int_equal(frag_add_track(&f, 2, false, false), 1);
    /* Video at 0, 3600, 9000 (a late frame), the last lasting 3600;
     * audio at 800, 805, then after a gap at 900. */
    for (int i = 0; i < 3; i++) {
        struct nvr_au *au = unit(v, sizeof(v));
        int64_t dts = i == 2 ? 9000 : i * 3600;

        assert_int_equal(frag_add(&f, 0, au, dts, 0, 3600, false), 0);
        nvr_au_unref(au);
    }
    for (int i = 0; i < 3; i++) {
        struct nvr_au *au = unit(a, sizeof(a));

        assert_int_equal(
            frag_add(&f, 1, au, i == 2 ? 900 : 800 + 5 * i, 0, 5, true), 0);
        nvr_au_unref(au);
    }
    assert_int_equal(frag_flush(&f, 0, sink_write, &s), 0);
    assert_int_equal(parse_moof(s.buf, 0, &seq, t, &mdat), 2);
    assert_int_equal(t[0].id, 1);
    assert_int_equal(t[0].tfdt, 0);
    assert_int_equal(t[0].count, 3);
    assert_int_equal(t[0].first_flags, 0x01010000); /* not a keyframe */
    assert_int_equal(t[0].dur[0], 3600);
    assert_int_equal(t[0].dur[1], 5400);
    assert_int_equal(t[0].dur[2], 3600);
    assert_int_equal(t[1].id, 2);
    assert_int_equal(t[1].trun_flags, 0x000301); /* no first-sample flags */
    assert_int_equal(t[1].default_flags, 0x02000000);
    assert_int_equal(t[1].tfdt, 800);
    assert_int_equal(t[1].dur[0], 5);
    assert_int_equal(t[1].dur[1], 95);
    assert_int_equal(t[1].dur[2], 5);
    /* Video bytes first, then audio, where the data offsets say. */
    assert_int_equal(t[0].data_off, mdat + 8);
    assert_int_equal(t[1].data_off, mdat + 8 + 3 * sizeof(v));
    assert_memory_equal(s.buf + t[1].data_off, a, sizeof(a));
    assert_int_equal(s.len, t[1].data_off + 3 * sizeof(a));
    /* No keyframe started it: nothing to index, no mfra. */
    assert_int_equal(f.nra, 0);
    assert_int_equal(frag_finish(&f, sink_write, &s), 0);
    assert_int_equal(s.len, t[1].data_off + 3 * sizeof(a));

    /* A fragment of audio alone is a moof with one traf. */
    {
        struct nvr_au *au = unit(a, sizeof(a));
        size_t at = s.len;

        assert_int_equal(frag_add(&f, 1, au, 1000, 0, 5, true), 0);
        nvr_au_unref(au);
        assert_int_equal(frag_flush(&f, (int64_t)at, sink_write, &s), 0);
        assert_int_equal(parse_moof(s.buf, at, &seq, t, &mdat), 1);
        assert_int_equal(seq, 2);
        assert_int_equal(t[0].id, 2);
        assert_int_equal(t[0].tfdt, 1000);
        assert_int_equal(t[0].data_off, mdat + 8 - at);
    }
    frag_clear(&f);
    free(s.buf);
}

static void test_frag_mfra_lists_keyframe_fragments(void **state)
{
    (void)state;
    static const uint8_t v[] = {0, 0, 0, 1, 0x41, 0x9a};
    struct frag f;
    struct sink s = {0};
    const bool keys[] = {true, false, true};
    size_t at[3];
    size_t p;

    frag_init(&f);
    assert_int_equal(frag_add_track(&f, 1, true, true), 0);
    for (int i = 0; i < 3; i++) {
        struct nvr_au *au = unit(v, sizeof(v));

        at[i] = s.len;
        assert_int_equal(frag_add(&f, 0, au, 90000 * i, 0, 3600, keys[i]), 0);
        nvr_au_unref(au);
        assert_int_equal(frag_flush(&f, (int64_t)at[i], sink_write, &s), 0);
    }
    p = s.len;
    assert_int_equal(frag_finish(&f, sink_write, &s), 0);
    assert_memory_equal(s.buf + p + 4, "mfra", 4);
    assert_int_equal(be32(s.buf + p), s.len - p);
    assert_memory_equal(s.buf + p + 12, "tfra", 4);
    assert_int_equal(be32(s.buf + p + 16), 1u << 24);
    assert_int_equal(be32(s.buf + p + 20), 1); /* track */
    assert_int_equal(be32(s.buf + p + 28), 2); /* entries */
    assert_int_equal(be64(s.buf + p + 32), 0); /* time */
    assert_int_equal(be64(s.buf + p + 40), at[0]);
    assert_int_equal(be64(s.buf + p + 51), 180000);
    assert_int_equal(be64(s.buf + p + 59), at[2]);
    /* mfro closes it with the mfra's size. */
    assert_memory_equal(s.buf + s.len - 12, "mfro", 4);
    assert_int_equal(be32(s.buf + s.len - 4), s.len - p);
    frag_clear(&f);
    free(s.buf);
}

static void test_frag_write_error_drops_samples(void **state)
{
    (void)state;
    static const uint8_t v[] = {0, 0, 0, 1, 0x65, 0x88};
    struct frag f;
    struct sink s = {.fail_at = 1};
    struct nvr_au *au = unit(v, sizeof(v));

    frag_init(&f);
    assert_int_equal(frag_add_track(&f, 1, true, true), 0);
    assert_int_equal(frag_add(&f, 0, au, 0, 0, 3600, true), 0);
    assert_int_equal(atomic_load(&au->refs), 2);
    assert_int_equal(frag_flush(&f, 0, sink_write, &s), -ENOSPC);
    /* The unit's reference was dropped with the failed fragment. */
    assert_false(frag_pending(&f));
    assert_int_equal(atomic_load(&au->refs), 1);
    nvr_au_unref(au);
    frag_clear(&f);
    free(s.buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frag_annexb_length_prefixed),
        cmocka_unit_test(test_frag_composition_offsets),
        cmocka_unit_test(test_frag_uses_the_depacketizers_index),
        cmocka_unit_test(test_frag_refuses_units_without_nal),
        cmocka_unit_test(test_frag_two_tracks_and_gaps),
        cmocka_unit_test(test_frag_mfra_lists_keyframe_fragments),
        cmocka_unit_test(test_frag_write_error_drops_samples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
