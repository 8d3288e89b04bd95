/* SPDX-License-Identifier: MIT */
/*
 * RTP (RFC 3550): the fixed header with its CSRC list, header extension and
 * padding (5.1, 5.3.1), per-source sequence tracking after appendix A.1,
 * and 32-bit timestamp unwrapping. Pure functions over caller-owned state;
 * every length taken from the packet is checked against the packet size.
 */
#include "config.h"
#include "ingest/rtp.h"

#include <errno.h>

/* RFC 3550 A.1: a forward jump of up to MAX_DROPOUT packets is loss, a
 * backward step of up to MAX_MISORDER packets is a late or duplicate
 * packet; anything else means the source restarted. */
#define RTP_MAX_DROPOUT  3000u
#define RTP_MAX_MISORDER 100u
#define RTP_SEQ_MOD      65536u
#define RTP_HDR_BYTES    12u

int rtp_parse(const uint8_t *buf, size_t len, struct rtp_hdr *out)
{
    size_t off, end;
    unsigned cc;

    if (!buf || len < RTP_HDR_BYTES)
        return -EBADMSG;
    if ((buf[0] >> 6) != 2)
        return -EBADMSG;
    cc = buf[0] & 0x0fu;
    off = RTP_HDR_BYTES + 4u * cc;
    if (off > len)
        return -EBADMSG;
    if (buf[0] & 0x10u) {
        size_t ext_words;

        /* 5.3.1: 16-bit profile word, 16-bit length in 32-bit words. */
        if (len - off < 4)
            return -EBADMSG;
        ext_words = ((size_t)buf[off + 2] << 8) | buf[off + 3];
        off += 4;
        if (len - off < 4 * ext_words)
            return -EBADMSG;
        off += 4 * ext_words;
    }
    end = len;
    if (buf[0] & 0x20u) {
        /* The last octet counts the padding octets, itself included. */
        size_t pad = buf[len - 1];

        if (pad == 0 || pad > len - off)
            return -EBADMSG;
        end -= pad;
    }
    out->marker = (buf[1] & 0x80u) != 0;
    out->pt = buf[1] & 0x7fu;
    out->seq = (uint16_t)((buf[2] << 8) | buf[3]);
    out->ts = ((uint32_t)buf[4] << 24) | ((uint32_t)buf[5] << 16) |
              ((uint32_t)buf[6] << 8) | buf[7];
    out->ssrc = ((uint32_t)buf[8] << 24) | ((uint32_t)buf[9] << 16) |
                ((uint32_t)buf[10] << 8) | buf[11];
    out->payload = buf + off;
    out->payload_len = end - off;
    return 0;
}

/* Starts over at packet h. The unwrapped timestamp continues one tick past
 * the previous one so media time never runs backwards inside a session;
 * the caller cuts a segment on RTP_SEQ_RESET anyway. */
static void rtp_seq_restart(struct rtp_seq *s, const struct rtp_hdr *h)
{
    if (s->initialized)
        s->ts_ext += 1;
    else
        s->ts_ext = h->ts;
    s->initialized = 1;
    s->ssrc = h->ssrc;
    s->max_seq = h->seq;
    s->cycles = 0;
    s->last_ts = h->ts;
    s->received++;
}

int rtp_seq_update(struct rtp_seq *s, const struct rtp_hdr *h)
{
    uint16_t udelta;

    if (!s->initialized) {
        rtp_seq_restart(s, h);
        return RTP_SEQ_OK;
    }
    if (h->ssrc != s->ssrc) {
        rtp_seq_restart(s, h);
        return RTP_SEQ_RESET;
    }
    udelta = (uint16_t)(h->seq - s->max_seq);
    if (udelta == 0) {
        s->dropped++;
        return -EALREADY;
    }
    if (udelta < RTP_MAX_DROPOUT) {
        if (h->seq < s->max_seq)
            s->cycles += RTP_SEQ_MOD;
        s->max_seq = h->seq;
        s->received++;
        if (udelta == 1)
            return RTP_SEQ_OK;
        s->lost += (uint64_t)udelta - 1;
        return RTP_SEQ_LOSS;
    }
    if (udelta <= RTP_SEQ_MOD - RTP_MAX_MISORDER) {
        /* A.1 waits for a second packet to confirm a large jump; over
         * TCP interleaving packets cannot be stray, so restart at once. */
        rtp_seq_restart(s, h);
        return RTP_SEQ_RESET;
    }
    s->dropped++;
    return -EALREADY;
}

int64_t rtp_seq_ts_unwrap(struct rtp_seq *s, uint32_t ts)
{
    /* The signed 32-bit difference is the step, whichever way it wraps. */
    int32_t delta = (int32_t)(ts - s->last_ts);

    s->ts_ext += delta;
    s->last_ts = ts;
    return s->ts_ext;
}
