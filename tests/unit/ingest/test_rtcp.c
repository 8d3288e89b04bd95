/* SPDX-License-Identifier: MIT */
/*
 * Tests of ingest/rtcp.c: compound SR + SDES (as GStreamer and cameras
 * send it), RR, BYE, unknown types, padding, every truncation of a valid
 * packet, NTP conversion, and the receiver report we build (parsed back).
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ingest/rtcp.h"

/* SR (no blocks) + SDES CNAME "cam" + BYE of one source. */
static const uint8_t compound[] = {
    0x80, 200,  0x00, 0x06, 0x11, 0x22, 0x33, 0x44, /* SR hdr, SSRC */
    0xe9, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, /* NTP */
    0x00, 0x01, 0x00, 0x00,                         /* RTP ts */
    0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x10, 0x00, /* counts */
    0x81, 202,  0x00, 0x03, 0x11, 0x22, 0x33, 0x44, /* SDES hdr, SSRC */
    0x01, 0x03, 'c',  'a',  'm',  0x00, 0x00, 0x00, /* CNAME, end, pad */
    0x81, 203,  0x00, 0x01, 0x11, 0x22, 0x33, 0x44, /* BYE */
};

static void test_rtcp_parse_compound(void **state)
{
    struct rtcp_info ri;

    (void)state;
    assert_int_equal(rtcp_parse(compound, sizeof(compound), &ri), 0);
    assert_int_equal(ri.n_packets, 3);
    assert_true(ri.has_sr);
    assert_int_equal(ri.sr.ssrc, 0x11223344u);
    assert_true(ri.sr.ntp == (((uint64_t)0xe9000000u << 32) | 0x80000000u));
    assert_int_equal(ri.sr.rtp_ts, 0x10000u);
    assert_int_equal(ri.sr.packets, 10);
    assert_int_equal(ri.sr.octets, 4096);
    assert_true(ri.has_cname);
    assert_string_equal(ri.cname, "cam");
    assert_int_equal(ri.n_bye, 1);
    assert_int_equal(ri.bye_ssrc[0], 0x11223344u);
}

/* Every prefix of a valid compound either parses to what it holds so far
 * or is refused; none reads past its end (ASan watches). */
static void test_rtcp_parse_truncated(void **state)
{
    (void)state;
    for (size_t n = 0; n < sizeof(compound); n++) {
        uint8_t *copy = test_malloc(n ? n : 1);
        struct rtcp_info ri;
        int r;

        memcpy(copy, compound, n);
        r = rtcp_parse(copy, n, &ri);
        if (n == 28 || n == 44)
            assert_int_equal(r, 0); /* whole packets */
        else
            assert_int_equal(r, -EBADMSG);
        test_free(copy);
    }
}

static void test_rtcp_parse_bad(void **state)
{
    uint8_t pkt[sizeof(compound)];
    struct rtcp_info ri;

    (void)state;
    assert_int_equal(rtcp_parse(NULL, 0, &ri), -EBADMSG);
    /* An RTP packet (version 2, payload type 96) on the RTCP channel. */
    memcpy(pkt, compound, sizeof(pkt));
    pkt[1] = 96;
    assert_int_equal(rtcp_parse(pkt, sizeof(pkt), &ri), -EBADMSG);
    /* Version 1. */
    memcpy(pkt, compound, sizeof(pkt));
    pkt[0] = 0x40;
    assert_int_equal(rtcp_parse(pkt, sizeof(pkt), &ri), -EBADMSG);
    /* A length beyond the packet. */
    memcpy(pkt, compound, sizeof(pkt));
    pkt[3] = 0x40;
    assert_int_equal(rtcp_parse(pkt, sizeof(pkt), &ri), -EBADMSG);
    /* An SR claiming report blocks it does not hold. */
    memcpy(pkt, compound, sizeof(pkt));
    pkt[0] = 0x81;
    assert_int_equal(rtcp_parse(pkt, sizeof(pkt), &ri), -EBADMSG);
    /* A BYE claiming 5 sources in one word. */
    memcpy(pkt, compound, sizeof(pkt));
    pkt[44] = 0x85;
    assert_int_equal(rtcp_parse(pkt, sizeof(pkt), &ri), -EBADMSG);
    /* Padding longer than the packet body. */
    memcpy(pkt, compound, sizeof(pkt));
    pkt[44] = 0xa1;
    pkt[51] = 0x09;
    assert_int_equal(rtcp_parse(pkt, sizeof(pkt), &ri), -EBADMSG);
}

/* SDES items running past their packet, a CNAME with control bytes, and
 * an unknown packet type in between are survived. */
static void test_rtcp_parse_sdes_odd(void **state)
{
    static const uint8_t pkt[] = {
        0x80, 201,  0x00, 0x01, 1,    2,    3,    4, /* RR, no blocks */
        0x80, 206,  0x00, 0x00,                      /* feedback: skipped */
        0x81, 202,  0x00, 0x03, 1,    2,    3,    4, /* SDES */
        0x01, 0x02, 'a',  0x01, 0x00, 0x00, 0x00, 0x00,
        0x81, 202,  0x00, 0x01, 1,    2,    3,    4, /* item cut short */
    };
    static const uint8_t cut[] = {
        0x81, 202, 0x00, 0x02, 1, 2, 3, 4, 0x01, 0x09, 'a', 'b',
    };
    struct rtcp_info ri;

    (void)state;
    assert_int_equal(rtcp_parse(pkt, sizeof(pkt), &ri), 0);
    assert_int_equal(ri.n_packets, 4);
    assert_false(ri.has_sr);
    assert_true(ri.has_cname);
    assert_string_equal(ri.cname, "a?");
    assert_int_equal(rtcp_parse(cut, sizeof(cut), &ri), 0);
    assert_false(ri.has_cname);
}

static void test_rtcp_ntp(void **state)
{
    int64_t t = (int64_t)1790000000 * 1000000 + 123456;
    uint64_t ntp = rtcp_unix_us_to_ntp(t);

    (void)state;
    assert_int_equal(ntp >> 32, 1790000000u + RTCP_NTP_UNIX_OFFSET_S);
    assert_true(rtcp_ntp_to_unix_us(ntp) - t <= 1);
    assert_true(t - rtcp_ntp_to_unix_us(ntp) <= 1);
    assert_int_equal(
        rtcp_ntp_to_unix_us((uint64_t)RTCP_NTP_UNIX_OFFSET_S << 32), 0);
}

static void test_rtcp_build_rr(void **state)
{
    struct rtcp_report r[2] = {
        {.ssrc = 0xaabbccdd,
         .fraction_lost = 25,
         .cumulative_lost = 100000000,
         .ext_max_seq = 0x00012345,
         .jitter = 77,
         .lsr = 0x01020304,
         .dlsr = 65536},
        {.ssrc = 5, .cumulative_lost = -3},
    };
    uint8_t out[256];
    struct rtcp_info ri;
    int n;

    (void)state;
    n = rtcp_build_rr(0x01020304, r, 2, "nvr", out, sizeof(out));
    assert_int_equal((size_t)n, rtcp_rr_size(2, 3));
    assert_int_equal(n % 4, 0);
    assert_int_equal(out[0], 0x82);
    assert_int_equal(out[1], RTCP_PT_RR);
    assert_int_equal(out[8], 0xaa);
    assert_int_equal(out[12], 25);
    /* Clamped to the largest 24-bit value. */
    assert_int_equal(out[13], 0x7f);
    assert_int_equal(out[14], 0xff);
    assert_int_equal(out[15], 0xff);
    /* -3 in 24-bit two's complement. */
    assert_int_equal(out[8 + 24 + 5], 0xff);
    assert_int_equal(out[8 + 24 + 7], 0xfd);
    assert_int_equal(rtcp_parse(out, (size_t)n, &ri), 0);
    assert_int_equal(ri.n_packets, 2);
    assert_int_equal(ri.n_rr, 2);
    assert_string_equal(ri.cname, "nvr");
    assert_int_equal(ri.cname_ssrc, 0x01020304u);

    assert_int_equal(rtcp_build_rr(1, r, 2, "nvr", out, 20), -EMSGSIZE);
    assert_int_equal(rtcp_build_rr(1, r, 32, "nvr", out, sizeof(out)), -EINVAL);
    assert_int_equal(rtcp_build_rr(1, r, 0, "", out, sizeof(out)), -EINVAL);
}

static void test_rtcp_fraction_lost(void **state)
{
    (void)state;
    assert_int_equal(rtcp_fraction_lost(0, 0), 0);
    assert_int_equal(rtcp_fraction_lost(100, 0), 0);
    assert_int_equal(rtcp_fraction_lost(100, 10), 25);
    assert_int_equal(rtcp_fraction_lost(100, 100), 255);
    assert_int_equal(rtcp_fraction_lost(100, -5), 0); /* duplicates */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rtcp_parse_compound),
        cmocka_unit_test(test_rtcp_parse_truncated),
        cmocka_unit_test(test_rtcp_parse_bad),
        cmocka_unit_test(test_rtcp_parse_sdes_odd),
        cmocka_unit_test(test_rtcp_ntp),
        cmocka_unit_test(test_rtcp_build_rr),
        cmocka_unit_test(test_rtcp_fraction_lost),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
