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

#endif
