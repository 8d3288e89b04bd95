/* SPDX-License-Identifier: MIT */
/*
 * RTCP (RFC 3550 section 6): a bounded walk over compound packets that
 * keeps what the recorder uses (the sender report mapping RTP to NTP time,
 * the CNAME, BYE), and the receiver report plus SDES we send back on UDP.
 * Every length field is checked against the bytes present before use.
 */
#include "config.h"
#include "ingest/rtcp.h"

#include <errno.h>
#include <string.h>

#define RTCP_HDR_BYTES    4
#define RTCP_SR_BYTES     24 /* SSRC + NTP + RTP ts + counts, after hdr */
#define RTCP_REPORT_BYTES 24
#define RTCP_SDES_CNAME   1
#define RTCP_MAX_REPORTS  31

static uint32_t rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | p[3];
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* SDES (6.5): chunks of SSRC + items, each chunk ending with a zero item
 * and padded to 32 bits. Keeps the first CNAME. */
static void rtcp_parse_sdes(const uint8_t *p, size_t len, unsigned count,
                            struct rtcp_info *out)
{
    size_t off = 0;

    for (unsigned c = 0; c < count && len - off >= 4; c++) {
        uint32_t ssrc = rd32(p + off);

        off += 4;
        while (off < len && p[off] != 0) {
            unsigned type = p[off], ilen;

            if (len - off < 2)
                return;
            ilen = p[off + 1];
            if (len - off - 2 < ilen)
                return;
            if (type == RTCP_SDES_CNAME && !out->has_cname) {
                for (unsigned i = 0; i < ilen; i++) {
                    uint8_t ch = p[off + 2 + i];

                    out->cname[i] = (char)(ch < 0x20 || ch == 0x7f ? '?' : ch);
                }
                out->cname[ilen] = '\0';
                out->cname_ssrc = ssrc;
                out->has_cname = 1;
            }
            off += 2 + ilen;
        }
        /* The terminating zero octet(s) up to the next 32-bit boundary. */
        off = (off + 4) & ~(size_t)3;
        if (off > len)
            return;
    }
}

int rtcp_parse(const uint8_t *buf, size_t len, struct rtcp_info *out)
{
    size_t off = 0;

    memset(out, 0, sizeof(*out));
    if (!buf)
        return -EBADMSG;
    while (off < len) {
        const uint8_t *p = buf + off;
        size_t plen, body;
        unsigned count, pt;

        if (len - off < RTCP_HDR_BYTES || (p[0] >> 6) != 2)
            return -EBADMSG;
        count = p[0] & 0x1fu;
        pt = p[1];
        /* The first packet must be SR or RR (6.1); a lone SDES or BYE is
         * accepted too, as cameras send them. */
        if (off == 0 && (pt < RTCP_PT_SR || pt > RTCP_PT_APP))
            return -EBADMSG;
        plen = 4 * ((size_t)((p[2] << 8) | p[3]) + 1);
        if (plen > len - off)
            return -EBADMSG;
        body = plen - RTCP_HDR_BYTES;
        if (p[0] & 0x20u) {
            /* Padding: the last octet counts it, itself included. */
            size_t pad = p[plen - 1];

            if (pad == 0 || pad > body)
                return -EBADMSG;
            body -= pad;
        }
        p += RTCP_HDR_BYTES;
        switch (pt) {
        case RTCP_PT_SR:
            if (body < RTCP_SR_BYTES)
                return -EBADMSG;
            if (!out->has_sr) {
                out->has_sr = 1;
                out->sr.ssrc = rd32(p);
                out->sr.ntp = ((uint64_t)rd32(p + 4) << 32) | rd32(p + 8);
                out->sr.rtp_ts = rd32(p + 12);
                out->sr.packets = rd32(p + 16);
                out->sr.octets = rd32(p + 20);
            }
            if ((body - RTCP_SR_BYTES) / RTCP_REPORT_BYTES < count)
                return -EBADMSG;
            out->n_rr += (int)count;
            break;
        case RTCP_PT_RR:
            if (body < 4 || (body - 4) / RTCP_REPORT_BYTES < count)
                return -EBADMSG;
            out->n_rr += (int)count;
            break;
        case RTCP_PT_SDES:
            rtcp_parse_sdes(p, body, count, out);
            break;
        case RTCP_PT_BYE:
            if (body / 4 < count)
                return -EBADMSG;
            for (unsigned i = 0; i < count && out->n_bye < RTCP_MAX_BYE; i++)
                out->bye_ssrc[out->n_bye++] = rd32(p + (size_t)4 * i);
            break;
        default:
            break; /* APP, XR, feedback: not used */
        }
        out->n_packets++;
        off += plen;
    }
    return out->n_packets > 0 ? 0 : -EBADMSG;
}

int64_t rtcp_ntp_to_unix_us(uint64_t ntp)
{
    int64_t sec = (int64_t)(ntp >> 32) - (int64_t)RTCP_NTP_UNIX_OFFSET_S;
    uint64_t frac = ntp & 0xffffffffu;

    return sec * 1000000 + (int64_t)((frac * 1000000) >> 32);
}

uint64_t rtcp_unix_us_to_ntp(int64_t unix_us)
{
    uint64_t sec = (uint64_t)(unix_us / 1000000) + RTCP_NTP_UNIX_OFFSET_S;
    uint64_t usec = (uint64_t)(unix_us % 1000000);

    return (sec << 32) | (((usec << 32) + 500000) / 1000000);
}

size_t rtcp_rr_size(int n, size_t cname_len)
{
    /* RR: header + SSRC + blocks; SDES: header + SSRC + item + NUL, padded
     * to 32 bits. */
    size_t sdes = 4 + 4 + 2 + cname_len + 1;

    return 8 + (size_t)n * RTCP_REPORT_BYTES + ((sdes + 3) & ~(size_t)3);
}

int rtcp_build_rr(uint32_t our_ssrc, const struct rtcp_report *reports, int n,
                  const char *cname, uint8_t *out, size_t out_size)
{
    size_t clen = cname ? strlen(cname) : 0;
    size_t total, rr_len, sdes_len;
    uint8_t *p;

    if (n < 0 || n > RTCP_MAX_REPORTS || clen == 0 || clen > 255)
        return -EINVAL;
    total = rtcp_rr_size(n, clen);
    if (total > out_size)
        return -EMSGSIZE;
    memset(out, 0, total);
    rr_len = 8 + (size_t)n * RTCP_REPORT_BYTES;
    out[0] = (uint8_t)(0x80u | (unsigned)n);
    out[1] = RTCP_PT_RR;
    out[2] = (uint8_t)((rr_len / 4 - 1) >> 8);
    out[3] = (uint8_t)(rr_len / 4 - 1);
    wr32(out + 4, our_ssrc);
    p = out + 8;
    for (int i = 0; i < n; i++, p += RTCP_REPORT_BYTES) {
        const struct rtcp_report *r = &reports[i];
        int32_t lost = r->cumulative_lost;

        if (lost > 0x7fffff)
            lost = 0x7fffff;
        if (lost < -0x800000)
            lost = -0x800000;
        wr32(p, r->ssrc);
        wr32(p + 4,
             ((uint32_t)r->fraction_lost << 24) | ((uint32_t)lost & 0xffffffu));
        wr32(p + 8, r->ext_max_seq);
        wr32(p + 12, r->jitter);
        wr32(p + 16, r->lsr);
        wr32(p + 20, r->dlsr);
    }
    sdes_len = total - rr_len;
    p = out + rr_len;
    p[0] = 0x81; /* one chunk */
    p[1] = RTCP_PT_SDES;
    p[2] = (uint8_t)((sdes_len / 4 - 1) >> 8);
    p[3] = (uint8_t)(sdes_len / 4 - 1);
    wr32(p + 4, our_ssrc);
    p[8] = RTCP_SDES_CNAME;
    p[9] = (uint8_t)clen;
    /* An SDES item carries its length, not a NUL (RFC 3550 6.5). */
    // NOLINTNEXTLINE(bugprone-not-null-terminated-result)
    memcpy(p + 10, cname, clen);
    /* The rest is the zero item ending the chunk, and padding (zeroed). */
    return (int)total;
}

uint8_t rtcp_fraction_lost(int64_t expected, int64_t lost)
{
    if (expected <= 0 || lost <= 0)
        return 0;
    if (lost >= expected)
        return 255;
    return (uint8_t)((lost << 8) / expected);
}
