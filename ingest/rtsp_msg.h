/* SPDX-License-Identifier: MIT */
/*
 * RTSP/1.0 message parser (RFC 2326 section 6/7) and interleaved frame
 * framing (RFC 2326 section 10.12). Pure: no I/O, no globals, no allocation.
 *
 * The parser is re-entrant over a growing buffer: call it with everything
 * received so far; it returns -EAGAIN until a whole message is there. It
 * never reads past `len`, and caps every size by the limits below.
 */
#ifndef NVR_INGEST_RTSP_MSG_H
#define NVR_INGEST_RTSP_MSG_H

#include <stddef.h>
#include <stdint.h>

#define RTSP_MAX_HEADER_BYTES 16384 /* status line + headers + CRLFCRLF */
#define RTSP_MAX_HEADERS      64
#define RTSP_MAX_BODY         (64 * 1024) /* an SDP is a few KB */

struct rtsp_header {
    const char *name; /* borrows the parse buffer; not NUL-terminated */
    size_t name_len;
    const char *value; /* leading and trailing whitespace trimmed */
    size_t value_len;
};

struct rtsp_msg {
    int is_response;    /* 1: "RTSP/1.0 200 OK"; 0: a request from the peer */
    int status;         /* responses: 100..999 */
    const char *reason; /* responses: reason phrase (borrowed) */
    size_t reason_len;
    const char *method; /* requests: method (borrowed) */
    size_t method_len;
    const char *uri; /* requests: request URI (borrowed) */
    size_t uri_len;
    size_t n_headers;
    struct rtsp_header headers[RTSP_MAX_HEADERS];
    const uint8_t *body; /* Content-Length bytes (borrowed); NULL if none */
    size_t body_len;
};

/*
 * Parses one whole message at the start of buf.
 * Returns the bytes it spans (> 0) with *msg filled (pointers borrow buf),
 * -EAGAIN if more bytes are needed, -EBADMSG if malformed, or -EMSGSIZE if
 * the head exceeds RTSP_MAX_HEADER_BYTES, there are more than
 * RTSP_MAX_HEADERS headers, or Content-Length exceeds RTSP_MAX_BODY.
 * Accepts bare LF line ends and trailing whitespace in values. Header
 * continuation lines are folded into the previous value's span.
 */
int rtsp_msg_parse(const uint8_t *buf, size_t len, struct rtsp_msg *msg);

/*
 * Finds the first header called `name` (case-insensitive). Returns its value
 * (borrowed, not NUL-terminated) and sets *len, or NULL if absent.
 */
const char *rtsp_msg_header(const struct rtsp_msg *msg, const char *name,
                            size_t *len);

/*
 * Copies header `name` into out as a NUL-terminated string.
 * Returns 0, -ENOENT if absent, -EMSGSIZE if it does not fit.
 */
int rtsp_msg_header_copy(const struct rtsp_msg *msg, const char *name,
                         char *out, size_t out_size);

/* Parses CSeq. Returns 0 with *cseq set, -ENOENT or -EBADMSG. */
int rtsp_msg_cseq(const struct rtsp_msg *msg, uint32_t *cseq);

/*
 * Interleaved binary data: '$', channel, 16-bit big-endian length, payload.
 * Returns the frame's total size (4 + payload) with *channel, *payload and
 * *payload_len set, -EAGAIN if incomplete, or -EBADMSG if buf[0] != '$'.
 */
int rtsp_interleaved_parse(const uint8_t *buf, size_t len, uint8_t *channel,
                           const uint8_t **payload, size_t *payload_len);

/*
 * Session header: "12345678;timeout=60". Copies the id (at most out_size-1
 * bytes) and sets *timeout_s (60 when absent, per RFC 2326 12.37).
 * Returns 0 or -EBADMSG.
 */
int rtsp_parse_session(const char *value, size_t len, char *id, size_t id_size,
                       int *timeout_s);

struct rtsp_transport {
    int interleaved;  /* 1 if "interleaved=a-b" present */
    int channel_rtp;  /* a */
    int channel_rtcp; /* b */
    int has_ssrc;
    uint32_t ssrc;      /* "ssrc=..." (hex), spaces tolerated */
    int client_port[2]; /* UDP, 0 if absent */
    int server_port[2]; /* UDP, 0 if absent */
};

/* Parses a Transport header value. Returns 0 or -EBADMSG. */
int rtsp_parse_transport(const char *value, size_t len,
                         struct rtsp_transport *out);

#define RTSP_MAX_RTPINFO 8
struct rtsp_rtpinfo {
    int n;
    struct {
        char url[512];
        int has_seq;
        uint16_t seq;
        int has_rtptime;
        uint32_t rtptime;
        int has_ssrc; /* "ssrc=" (RFC 7826 18.45; Reolink sends it in
                         RTSP/1.0 instead of in Transport), hex */
        uint32_t ssrc;
    } entries[RTSP_MAX_RTPINFO];
};

/* Parses RTP-Info (RFC 2326 12.33). Unparseable seq/rtptime/ssrc values
 * are left unset rather than failing; a trailing ';' or ',' is accepted.
 * Returns 0 or -EBADMSG. */
int rtsp_parse_rtpinfo(const char *value, size_t len, struct rtsp_rtpinfo *out);

#endif
