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
#include <string.h>

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

int64_t rtp_seq_ts_extend(const struct rtp_seq *s, uint32_t ts)
{
    return s->ts_ext + (int32_t)(ts - s->last_ts);
}

/* ---- reorder buffer ---- */

void rtp_reorder_reset(struct rtp_reorder *r)
{
    r->started = 0;
    r->n = 0;
    for (int i = 0; i < RTP_REORDER_SLOTS; i++)
        r->slot[i].used = 0;
}

/* The slot holding seq, or -1. */
static int reorder_find(const struct rtp_reorder *r, uint16_t seq)
{
    for (int i = 0; i < RTP_REORDER_SLOTS; i++)
        if (r->slot[i].used && r->slot[i].seq == seq)
            return i;
    return -1;
}

/* The buffered slot closest after next_seq, or -1. */
static int reorder_first(const struct rtp_reorder *r)
{
    int best = -1;
    uint16_t best_d = 0;

    for (int i = 0; i < RTP_REORDER_SLOTS; i++) {
        uint16_t d;

        if (!r->slot[i].used)
            continue;
        d = (uint16_t)(r->slot[i].seq - r->next_seq);
        if (best < 0 || d < best_d) {
            best = i;
            best_d = d;
        }
    }
    return best;
}

static void reorder_emit(struct rtp_reorder *r, int i, rtp_reorder_cb cb,
                         void *user)
{
    r->slot[i].used = 0;
    r->n--;
    r->next_seq = (uint16_t)(r->slot[i].seq + 1);
    cb(user, r->slot[i].data, r->slot[i].len);
}

/* Delivers the packets that continue the sequence without a gap. */
static void reorder_drain(struct rtp_reorder *r, rtp_reorder_cb cb, void *user)
{
    int i;

    while (r->n > 0 && (i = reorder_find(r, r->next_seq)) >= 0)
        reorder_emit(r, i, cb, user);
}

/* Gives up the gap before the first buffered packet. */
static void reorder_skip(struct rtp_reorder *r, rtp_reorder_cb cb, void *user)
{
    int i = reorder_first(r);

    if (i < 0)
        return;
    r->given_up += (uint16_t)(r->slot[i].seq - r->next_seq);
    reorder_emit(r, i, cb, user);
    reorder_drain(r, cb, user);
}

void rtp_reorder_flush(struct rtp_reorder *r, rtp_reorder_cb cb, void *user)
{
    while (r->n > 0)
        reorder_skip(r, cb, user);
}

void rtp_reorder_push(struct rtp_reorder *r, const uint8_t *pkt, size_t len,
                      uint64_t now_ms, rtp_reorder_cb cb, void *user)
{
    uint16_t seq, d;
    int i;

    if (len < RTP_HDR_BYTES || (pkt[0] >> 6) != 2) {
        cb(user, pkt, len); /* the caller counts it malformed */
        return;
    }
    seq = (uint16_t)((pkt[2] << 8) | pkt[3]);
    if (!r->started) {
        r->started = 1;
        r->next_seq = seq;
    }
    d = (uint16_t)(seq - r->next_seq);
    if (d == 0) {
        r->next_seq = (uint16_t)(seq + 1);
        cb(user, pkt, len);
        reorder_drain(r, cb, user);
        return;
    }
    if (d >= RTP_REORDER_MAX_JUMP || len > RTP_REORDER_SLOT_BYTES) {
        /* Late or duplicate (a large d is a step back), a restart, or too
         * big to hold: what waits goes first, then this one as it is. */
        if (d < RTP_REORDER_MAX_JUMP || d <= RTP_SEQ_MOD - RTP_MAX_MISORDER) {
            rtp_reorder_flush(r, cb, user);
            r->next_seq = (uint16_t)(seq + 1);
        }
        cb(user, pkt, len);
        return;
    }
    if (reorder_find(r, seq) >= 0)
        return; /* a duplicate of one waiting */
    if (r->n == RTP_REORDER_SLOTS) {
        /* Full: give up the oldest gap. This packet may be due now, or
         * already behind what came out. */
        reorder_skip(r, cb, user);
        d = (uint16_t)(seq - r->next_seq);
        if (d == 0)
            r->next_seq = (uint16_t)(seq + 1);
        if (d == 0 || d >= RTP_REORDER_MAX_JUMP) {
            cb(user, pkt, len);
            reorder_drain(r, cb, user);
            return;
        }
    }
    for (i = 0; r->slot[i].used; i++)
        ;
    r->slot[i].used = 1;
    r->slot[i].seq = seq;
    r->slot[i].arrival_ms = now_ms;
    r->slot[i].len = len;
    memcpy(r->slot[i].data, pkt, len);
    r->n++;
    /* The gap may have closed by skipping above. */
    reorder_drain(r, cb, user);
}

/* The arrival time of the packet that waits longest. */
static int reorder_oldest(const struct rtp_reorder *r, uint64_t *arrival)
{
    int found = 0;

    for (int i = 0; i < RTP_REORDER_SLOTS; i++) {
        if (r->slot[i].used && (!found || r->slot[i].arrival_ms < *arrival)) {
            *arrival = r->slot[i].arrival_ms;
            found = 1;
        }
    }
    return found;
}

void rtp_reorder_poll(struct rtp_reorder *r, uint64_t now_ms, rtp_reorder_cb cb,
                      void *user)
{
    uint64_t oldest = 0;

    while (reorder_oldest(r, &oldest) && now_ms - oldest >= RTP_REORDER_WAIT_MS)
        reorder_skip(r, cb, user);
}

int64_t rtp_reorder_next_ms(const struct rtp_reorder *r, uint64_t now_ms)
{
    uint64_t oldest = 0;

    if (!reorder_oldest(r, &oldest))
        return -1;
    if (now_ms - oldest >= RTP_REORDER_WAIT_MS)
        return 0;
    return (int64_t)(RTP_REORDER_WAIT_MS - (now_ms - oldest));
}
