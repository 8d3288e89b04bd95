/* SPDX-License-Identifier: MIT */
/*
 * RTP (RFC 3550): header parsing, sequence tracking with loss counting, and
 * timestamp unwrapping. Pure.
 */
#ifndef NVR_INGEST_RTP_H
#define NVR_INGEST_RTP_H

#include <stddef.h>
#include <stdint.h>

struct rtp_hdr {
    uint8_t pt;
    int marker;
    uint16_t seq;
    uint32_t ts;
    uint32_t ssrc;
    const uint8_t *payload; /* borrows the packet; CSRCs, extension and
                               padding removed */
    size_t payload_len;
};

/* Parses one RTP packet (RFC 3550 5.1). Returns 0 or -EBADMSG. */
int rtp_parse(const uint8_t *buf, size_t len, struct rtp_hdr *out);

/* Per-source sequence state (after RFC 3550 appendix A.1). */
struct rtp_seq {
    int initialized;
    uint32_t ssrc;
    uint16_t max_seq;
    uint32_t cycles;   /* seq wraps, shifted by 16 */
    uint64_t received; /* packets accepted */
    uint64_t lost;     /* packets never seen (by sequence gap) */
    uint64_t dropped;  /* duplicates and stale packets dropped */
    uint32_t last_ts;
    int64_t ts_ext; /* unwrapped timestamp of the last packet */
};

enum rtp_seq_result {
    RTP_SEQ_OK = 0,    /* next in order */
    RTP_SEQ_LOSS = 1,  /* in order after a gap; loss counted */
    RTP_SEQ_RESET = 2, /* new SSRC or a large jump: state restarted */
};

/*
 * Feeds one packet's header. Returns an enum rtp_seq_result, or -EALREADY
 * for a duplicate or late packet (the caller drops it). A jump of more than
 * 3000 packets, or an SSRC change, returns RTP_SEQ_RESET.
 */
int rtp_seq_update(struct rtp_seq *s, const struct rtp_hdr *h);

/* The packet's timestamp, extended to 64 bits across 32-bit wraps relative
 * to the previous packet. Call after rtp_seq_update() accepted it. */
int64_t rtp_seq_ts_unwrap(struct rtp_seq *s, uint32_t ts);

/*
 * A small reorder buffer for RTP over UDP (RFC 3550 leaves ordering to the
 * receiver). Packets come out in sequence order; one that does not arrive
 * within RTP_REORDER_WAIT_MS, or while RTP_REORDER_SLOTS later ones wait,
 * is given up (the sequence tracker then counts it lost). Late and
 * duplicate packets, packets that do not parse, packets larger than a
 * slot and jumps of RTP_REORDER_MAX_JUMP or more pass straight through
 * (after what is buffered, for the latter two) for the caller to judge.
 */
#define RTP_REORDER_SLOTS      8
#define RTP_REORDER_WAIT_MS    50
#define RTP_REORDER_SLOT_BYTES 1600 /* an Ethernet MTU with room */
#define RTP_REORDER_MAX_JUMP   3000 /* like RTP_MAX_DROPOUT in rtp.c */

struct rtp_reorder {
    int started;
    uint16_t next_seq; /* the sequence number due next */
    int n;             /* slots in use */
    uint64_t given_up; /* packets skipped after waiting */
    struct {
        int used;
        uint16_t seq;
        uint64_t arrival_ms;
        size_t len;
        uint8_t data[RTP_REORDER_SLOT_BYTES];
    } slot[RTP_REORDER_SLOTS];
};

/* Receives one packet in order; pkt is borrowed for the call. */
typedef void (*rtp_reorder_cb)(void *user, const uint8_t *pkt, size_t len);

/* Empties the buffer and forgets the sequence (a new stream). */
void rtp_reorder_reset(struct rtp_reorder *r);

/*
 * Adds one packet (borrowed) that arrived at now_ms, and delivers every
 * packet that is due through cb. cb must not call back into r.
 */
void rtp_reorder_push(struct rtp_reorder *r, const uint8_t *pkt, size_t len,
                      uint64_t now_ms, rtp_reorder_cb cb, void *user);

/* Delivers what has waited RTP_REORDER_WAIT_MS by now_ms. */
void rtp_reorder_poll(struct rtp_reorder *r, uint64_t now_ms, rtp_reorder_cb cb,
                      void *user);

/* Delivers everything buffered, in order. */
void rtp_reorder_flush(struct rtp_reorder *r, rtp_reorder_cb cb, void *user);

/* Milliseconds from now_ms until rtp_reorder_poll() has work, or -1 when
 * nothing is buffered. */
int64_t rtp_reorder_next_ms(const struct rtp_reorder *r, uint64_t now_ms);

/* The 32-bit RTP timestamp ts extended on the same time line as the
 * tracker's last packet, without changing the tracker. */
int64_t rtp_seq_ts_extend(const struct rtp_seq *s, uint32_t ts);

#endif
