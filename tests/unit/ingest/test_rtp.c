/* SPDX-License-Identifier: MIT */
/*
 * Tests of ingest/rtp.c: RTP header parsing (CSRCs, extension, padding and
 * their bounds), sequence tracking (order, wrap, loss, duplicates, late
 * packets, SSRC change, large jumps) and timestamp unwrapping.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ingest/rtp.h"

static void test_rtp_parse_plain(void **state)
{
    static const uint8_t pkt[] = {0x80, 0xe1, 0x12, 0x34, 0xde, 0xad, 0xbe,
                                  0xef, 0x01, 0x02, 0x03, 0x04, 0x65, 0xaa};
    struct rtp_hdr h;

    assert_int_equal(rtp_parse(pkt, sizeof(pkt), &h), 0);
    assert_int_equal(h.pt, 97);
    assert_true(h.marker);
    assert_int_equal(h.seq, 0x1234);
    assert_int_equal(h.ts, 0xdeadbeefu);
    assert_int_equal(h.ssrc, 0x01020304u);
    assert_ptr_equal(h.payload, pkt + 12);
    assert_int_equal(h.payload_len, 2);
}

/* Two CSRCs, a one-word extension and 3 bytes of padding around a
 * 2-byte payload. */
static void test_rtp_parse_csrc_ext_padding(void **state)
{
    static const uint8_t pkt[] = {0xb2, 0x60, 0x00, 0x07, 0, 0, 0, 9,
                                  0xaa, 0xbb, 0xcc, 0xdd,             /* hdr */
                                  1,    1,    1,    1,    2, 2, 2, 2, /* CSRC */
                                  0xbe, 0xde, 0x00, 0x01, 9, 9, 9, 9, /* ext */
                                  0x5c, 0x5d,                         /* data */
                                  0,    0,    3};                     /* pad */
    struct rtp_hdr h;

    assert_int_equal(rtp_parse(pkt, sizeof(pkt), &h), 0);
    assert_false(h.marker);
    assert_int_equal(h.pt, 96);
    assert_int_equal(h.seq, 7);
    assert_int_equal(h.ts, 9);
    assert_int_equal(h.payload_len, 2);
    assert_int_equal(h.payload[0], 0x5c);
    assert_int_equal(h.payload[1], 0x5d);
}

static void test_rtp_parse_bad(void **state)
{
    uint8_t pkt[40];
    struct rtp_hdr h;

    memset(pkt, 0, sizeof(pkt));
    pkt[0] = 0x80;
    assert_int_equal(rtp_parse(pkt, 12, &h), 0);
    assert_int_equal(h.payload_len, 0);
    assert_int_equal(rtp_parse(pkt, 11, &h), -EBADMSG);
    assert_int_equal(rtp_parse(NULL, 0, &h), -EBADMSG);

    /* Versions 0, 1 and 3. */
    for (uint8_t v = 0; v < 4; v++) {
        if (v == 2)
            continue;
        pkt[0] = (uint8_t)(v << 6);
        assert_int_equal(rtp_parse(pkt, sizeof(pkt), &h), -EBADMSG);
    }

    /* 15 CSRCs need 72 bytes. */
    pkt[0] = 0x8f;
    assert_int_equal(rtp_parse(pkt, sizeof(pkt), &h), -EBADMSG);

    /* Extension header cut off, then an extension longer than the packet. */
    pkt[0] = 0x90;
    assert_int_equal(rtp_parse(pkt, 14, &h), -EBADMSG);
    pkt[14] = 0;
    pkt[15] = 7; /* 28 bytes of extension after 16 */
    assert_int_equal(rtp_parse(pkt, 40, &h), -EBADMSG);
    pkt[15] = 6; /* 24 bytes: exactly to the end */
    assert_int_equal(rtp_parse(pkt, 39, &h), -EBADMSG);
    assert_int_equal(rtp_parse(pkt, 40, &h), 0);
    assert_int_equal(h.payload_len, 0);

    /* Padding: count 0, count beyond the payload, count equal to it. */
    pkt[0] = 0xa0;
    pkt[19] = 0;
    assert_int_equal(rtp_parse(pkt, 20, &h), -EBADMSG);
    pkt[19] = 9;
    assert_int_equal(rtp_parse(pkt, 20, &h), -EBADMSG);
    pkt[19] = 8;
    assert_int_equal(rtp_parse(pkt, 20, &h), 0);
    assert_int_equal(h.payload_len, 0);
    /* Padding may not eat the extension either. */
    pkt[0] = 0xb0;
    pkt[14] = 0;
    pkt[15] = 1;
    pkt[19] = 5;
    assert_int_equal(rtp_parse(pkt, 20, &h), -EBADMSG);
    pkt[19] = 4;
    assert_int_equal(rtp_parse(pkt, 20, &h), -EBADMSG);
    pkt[23] = 4;
    assert_int_equal(rtp_parse(pkt, 24, &h), 0);
    assert_int_equal(h.payload_len, 0);
}

static struct rtp_hdr hdr(uint16_t seq, uint32_t ts, uint32_t ssrc)
{
    struct rtp_hdr h = {.pt = 96, .seq = seq, .ts = ts, .ssrc = ssrc};

    return h;
}

static int feed(struct rtp_seq *s, uint16_t seq)
{
    struct rtp_hdr h = hdr(seq, 1000, 42);

    return rtp_seq_update(s, &h);
}

static void test_rtp_seq_in_order_and_wrap(void **state)
{
    struct rtp_seq s = {0};

    assert_int_equal(feed(&s, 65530), RTP_SEQ_OK);
    for (uint32_t i = 65531; i < 65536 + 10; i++)
        assert_int_equal(feed(&s, (uint16_t)i), RTP_SEQ_OK);
    assert_int_equal(s.max_seq, 9);
    assert_int_equal(s.cycles, 65536);
    assert_int_equal(s.received, 16);
    assert_int_equal(s.lost, 0);
    assert_int_equal(s.dropped, 0);
}

static void test_rtp_seq_loss(void **state)
{
    struct rtp_seq s = {0};

    assert_int_equal(feed(&s, 100), RTP_SEQ_OK);
    assert_int_equal(feed(&s, 101), RTP_SEQ_OK);
    assert_int_equal(feed(&s, 105), RTP_SEQ_LOSS);
    assert_int_equal(s.lost, 3);
    assert_int_equal(feed(&s, 106), RTP_SEQ_OK);
    /* A gap across the wrap. */
    s.max_seq = 65534;
    assert_int_equal(feed(&s, 2), RTP_SEQ_LOSS);
    assert_int_equal(s.lost, 3 + 3);
    assert_int_equal(s.cycles, 65536);
    /* 2999 is still loss, 3000 is a restart. */
    assert_int_equal(feed(&s, 2 + 2999), RTP_SEQ_LOSS);
    assert_int_equal(s.lost, 6 + 2998);
    assert_int_equal(s.received, 6);
}

static void test_rtp_seq_duplicate_and_late(void **state)
{
    struct rtp_seq s = {0};

    assert_int_equal(feed(&s, 10), RTP_SEQ_OK);
    assert_int_equal(feed(&s, 12), RTP_SEQ_LOSS);
    assert_int_equal(s.lost, 1);
    /* 11 arrives late: dropped, it was counted lost. */
    assert_int_equal(feed(&s, 11), -EALREADY);
    assert_int_equal(feed(&s, 12), -EALREADY);
    assert_int_equal(feed(&s, 10), -EALREADY);
    assert_int_equal(s.dropped, 3);
    assert_int_equal(s.max_seq, 12);
    assert_int_equal(feed(&s, 13), RTP_SEQ_OK);
    /* 99 behind (across the wrap) is still late; 100 is a restart. */
    assert_int_equal(feed(&s, (uint16_t)(13 - 99)), -EALREADY);
    assert_int_equal(s.max_seq, 13);
    assert_int_equal(s.cycles, 0);
    assert_int_equal(s.received, 3);
}

static void test_rtp_seq_reset(void **state)
{
    struct rtp_seq s = {0};
    struct rtp_hdr h;

    assert_int_equal(feed(&s, 10), RTP_SEQ_OK);
    assert_int_equal(feed(&s, 11), RTP_SEQ_OK);
    /* A jump of 3000 restarts without counting loss. */
    assert_int_equal(feed(&s, 3011), RTP_SEQ_RESET);
    assert_int_equal(s.max_seq, 3011);
    assert_int_equal(s.lost, 0);
    assert_int_equal(feed(&s, 3012), RTP_SEQ_OK);
    /* So does a step back of more than 100. */
    assert_int_equal(feed(&s, 3012 - 101), RTP_SEQ_RESET);
    assert_int_equal(feed(&s, 3012 - 100), RTP_SEQ_OK);
    /* A new SSRC restarts even at the next number. */
    h = hdr(3012 - 99, 1000, 43);
    assert_int_equal(rtp_seq_update(&s, &h), RTP_SEQ_RESET);
    assert_int_equal(s.ssrc, 43);
    h = hdr(3012 - 98, 1000, 43);
    assert_int_equal(rtp_seq_update(&s, &h), RTP_SEQ_OK);
    assert_int_equal(s.lost, 0);
    assert_int_equal(s.received, 8);
}

static int64_t feed_ts(struct rtp_seq *s, uint16_t seq, uint32_t ts,
                       uint32_t ssrc, int want)
{
    struct rtp_hdr h = hdr(seq, ts, ssrc);

    assert_int_equal(rtp_seq_update(s, &h), want);
    return rtp_seq_ts_unwrap(s, ts);
}

static void test_rtp_ts_unwrap(void **state)
{
    struct rtp_seq s = {0};
    int64_t t0, t1, t2, t3, t4;

    t0 = feed_ts(&s, 1, 0xffffd8f0u, 7, RTP_SEQ_OK); /* 2^32 - 10000 */
    assert_int_equal(t0, 0xffffd8f0LL);
    t1 = feed_ts(&s, 2, 0xfffffc18u, 7, RTP_SEQ_OK); /* +9000 */
    assert_int_equal(t1 - t0, 9000);
    t2 = feed_ts(&s, 3, 0x00000b40u, 7, RTP_SEQ_OK); /* across 2^32 */
    assert_int_equal(t2 - t1, 3880);
    assert_int_equal(t2, 0x100000b40LL);
    /* A small step back (B-frame style) stays signed, not +2^32. */
    t3 = feed_ts(&s, 4, 0x00000b00u, 7, RTP_SEQ_OK);
    assert_int_equal(t3 - t2, -64);
    /* Several wraps. */
    for (int i = 0; i < 5; i++) {
        uint32_t ts = 0x00000b00u + (uint32_t)(i + 1) * 0x40000000u;
        t4 = feed_ts(&s, (uint16_t)(5 + i), ts, 7, RTP_SEQ_OK);
        assert_int_equal(t4 - t3, (int64_t)(i + 1) * 0x40000000LL);
    }
    /* After a restart the unwrapped time continues forward. */
    t4 = feed_ts(&s, 10, 0x00000b00u + 5 * 0x40000000u, 7, RTP_SEQ_OK);
    t1 = feed_ts(&s, 20000, 5, 7, RTP_SEQ_RESET);
    assert_int_equal(t1, t4 + 1);
    t2 = feed_ts(&s, 20001, 3005, 7, RTP_SEQ_OK);
    assert_int_equal(t2 - t1, 3000);
}

/* ---- reorder buffer ---- */

struct got {
    int n;
    uint16_t seq[64];
};

static void got_cb(void *user, const uint8_t *pkt, size_t len)
{
    struct got *g = user;

    assert_true(len >= 4);
    if (g->n < 64)
        g->seq[g->n++] = (uint16_t)((pkt[2] << 8) | pkt[3]);
}

static void push_seq(struct rtp_reorder *r, uint16_t seq, uint64_t now,
                     struct got *g)
{
    uint8_t pkt[20] = {0x80, 96};

    pkt[2] = (uint8_t)(seq >> 8);
    pkt[3] = (uint8_t)seq;
    rtp_reorder_push(r, pkt, sizeof(pkt), now, got_cb, g);
}

/* Swapped packets come out in order, across the sequence wrap. */
static void test_rtp_reorder_swap(void **state)
{
    struct rtp_reorder *r = test_calloc(1, sizeof(*r));
    struct got g = {0};
    static const uint16_t in[] = {65534, 0, 65535, 2, 1, 3};

    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
        push_seq(r, in[i], 10, &g);
    assert_int_equal(g.n, 6);
    for (int i = 0; i < 6; i++)
        assert_int_equal(g.seq[i], (uint16_t)(65534 + i));
    assert_int_equal(rtp_reorder_next_ms(r, 10), -1);
    assert_int_equal(r->given_up, 0);
    test_free(r);
}

/* A lost packet is waited for RTP_REORDER_WAIT_MS, then given up. */
static void test_rtp_reorder_loss_timeout(void **state)
{
    struct rtp_reorder *r = test_calloc(1, sizeof(*r));
    struct got g = {0};

    push_seq(r, 10, 100, &g);
    push_seq(r, 12, 110, &g);
    push_seq(r, 13, 120, &g);
    assert_int_equal(g.n, 1);
    assert_int_equal(rtp_reorder_next_ms(r, 120), RTP_REORDER_WAIT_MS - 10);
    rtp_reorder_poll(r, 159, got_cb, &g);
    assert_int_equal(g.n, 1);
    rtp_reorder_poll(r, 160, got_cb, &g);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.seq[1], 12);
    assert_int_equal(g.seq[2], 13);
    assert_int_equal(r->given_up, 1);
    /* 11 turns up after all: late, passed through for the tracker. */
    push_seq(r, 11, 170, &g);
    assert_int_equal(g.n, 4);
    assert_int_equal(g.seq[3], 11);
    push_seq(r, 14, 171, &g);
    assert_int_equal(g.seq[4], 14);
    test_free(r);
}

/* A full buffer gives up the gap at once rather than grow. */
static void test_rtp_reorder_full(void **state)
{
    struct rtp_reorder *r = test_calloc(1, sizeof(*r));
    struct got g = {0};

    push_seq(r, 0, 0, &g);
    for (int i = 0; i < RTP_REORDER_SLOTS + 1; i++)
        push_seq(r, (uint16_t)(2 + i), 0, &g);
    assert_int_equal(g.n, RTP_REORDER_SLOTS + 2);
    for (int i = 1; i < g.n; i++)
        assert_int_equal(g.seq[i], (uint16_t)(1 + i));
    assert_int_equal(r->n, 0);
    assert_int_equal(r->given_up, 1);
    test_free(r);
}

/* A jump (camera restart), a duplicate and a malformed packet. */
static void test_rtp_reorder_jump_dup_bad(void **state)
{
    struct rtp_reorder *r = test_calloc(1, sizeof(*r));
    struct got g = {0};
    uint8_t bad[4] = {0x40, 0, 0, 0};

    push_seq(r, 100, 0, &g);
    push_seq(r, 102, 0, &g);
    push_seq(r, 102, 0, &g); /* duplicate of one waiting */
    push_seq(r, 30000, 0, &g);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.seq[1], 102);
    assert_int_equal(g.seq[2], 30000);
    push_seq(r, 30001, 0, &g);
    assert_int_equal(g.seq[3], 30001);
    rtp_reorder_push(r, bad, sizeof(bad), 0, got_cb, &g);
    assert_int_equal(g.n, 5);
    rtp_reorder_reset(r);
    push_seq(r, 7, 0, &g);
    assert_int_equal(g.seq[5], 7);
    test_free(r);
}

static void test_rtp_ts_extend(void **state)
{
    struct rtp_seq s = {0};

    s.last_ts = 0xfffffff0u;
    s.ts_ext = 0xfffffff0LL;
    assert_true(rtp_seq_ts_extend(&s, 0x10) == 0x100000010LL);
    assert_true(rtp_seq_ts_extend(&s, 0xffffff00u) == 0xffffff00LL);
    assert_int_equal(s.last_ts, 0xfffffff0u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rtp_parse_plain),
        cmocka_unit_test(test_rtp_parse_csrc_ext_padding),
        cmocka_unit_test(test_rtp_parse_bad),
        cmocka_unit_test(test_rtp_seq_in_order_and_wrap),
        cmocka_unit_test(test_rtp_seq_loss),
        cmocka_unit_test(test_rtp_seq_duplicate_and_late),
        cmocka_unit_test(test_rtp_seq_reset),
        cmocka_unit_test(test_rtp_ts_unwrap),
        cmocka_unit_test(test_rtp_reorder_swap),
        cmocka_unit_test(test_rtp_reorder_loss_timeout),
        cmocka_unit_test(test_rtp_reorder_full),
        cmocka_unit_test(test_rtp_reorder_jump_dup_bad),
        cmocka_unit_test(test_rtp_ts_extend),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
