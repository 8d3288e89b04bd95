/* SPDX-License-Identifier: MIT */
/*
 * RTCP (RFC 3550 section 6): parsing the compound packets cameras send
 * (SR, RR, SDES, BYE; others skipped) and building our receiver reports.
 * Pure: no I/O, no globals, no allocation; every length is checked
 * against the packet.
 */
#ifndef NVR_INGEST_RTCP_H
#define NVR_INGEST_RTCP_H

#include <stddef.h>
#include <stdint.h>

#define RTCP_PT_SR   200
#define RTCP_PT_RR   201
#define RTCP_PT_SDES 202
#define RTCP_PT_BYE  203
#define RTCP_PT_APP  204

/* The most BYE sources kept from one compound packet. */
#define RTCP_MAX_BYE 8
/* The longest CNAME kept (SDES items are at most 255 bytes). */
#define RTCP_CNAME_MAX 256
/* Seconds from 1900-01-01 (NTP) to 1970-01-01 (Unix). */
#define RTCP_NTP_UNIX_OFFSET_S 2208988800u

struct rtcp_sr {
    uint32_t ssrc;    /* the sender */
    uint64_t ntp;     /* NTP timestamp, 32.32 fixed point */
    uint32_t rtp_ts;  /* the same instant in the RTP clock */
    uint32_t packets; /* sender's packet count */
    uint32_t octets;  /* sender's payload octet count */
};

struct rtcp_info {
    int n_packets; /* RTCP packets in the compound */
    int has_sr;
    struct rtcp_sr sr; /* the first SR */
    int n_rr;          /* reception report blocks seen (SR and RR) */
    int has_cname;
    uint32_t cname_ssrc;
    char cname[RTCP_CNAME_MAX]; /* NUL-terminated, control bytes replaced */
    int n_bye;
    uint32_t bye_ssrc[RTCP_MAX_BYE];
};

/*
 * Parses one compound RTCP packet (RFC 3550 6.1). Every packet must be
 * version 2 and fit; padding is honoured only where its length is
 * consistent. Unknown packet types are skipped. Returns 0 with *out
 * filled, or -EBADMSG if the first packet is not RTCP or any length is
 * inconsistent (what parsed before that is still in *out).
 */
int rtcp_parse(const uint8_t *buf, size_t len, struct rtcp_info *out);

/* NTP 32.32 time to UTC microseconds since the Unix epoch. */
int64_t rtcp_ntp_to_unix_us(uint64_t ntp);

/* UTC microseconds to NTP 32.32 time. */
uint64_t rtcp_unix_us_to_ntp(int64_t unix_us);

/* One reception report block (RFC 3550 6.4.1). */
struct rtcp_report {
    uint32_t ssrc;           /* the source reported on */
    uint8_t fraction_lost;   /* since the last report, 8-bit fixed point */
    int32_t cumulative_lost; /* clamped to 24-bit signed */
    uint32_t ext_max_seq;    /* cycles << 16 | highest sequence number */
    uint32_t jitter;         /* interarrival jitter, RTP clock units */
    uint32_t lsr;            /* middle 32 bits of the last SR's NTP, or 0 */
    uint32_t dlsr;           /* delay since that SR, 1/65536 s, or 0 */
};

/* The size rtcp_build_rr() needs for n reports and a CNAME of cname_len. */
size_t rtcp_rr_size(int n, size_t cname_len);

/*
 * Writes a compound packet: a receiver report (RFC 3550 6.4.2) from
 * our_ssrc with n (0..31) report blocks, then an SDES with our CNAME
 * (6.5.1; at most 255 bytes). Returns the bytes written, -EINVAL for a
 * bad n or CNAME, or -EMSGSIZE if out_size is too small.
 */
int rtcp_build_rr(uint32_t our_ssrc, const struct rtcp_report *reports, int n,
                  const char *cname, uint8_t *out, size_t out_size);

/*
 * Fraction lost over an interval (RFC 3550 A.3): expected and lost are
 * the differences since the previous report. Returns 0..255.
 */
uint8_t rtcp_fraction_lost(int64_t expected, int64_t lost);

#endif
