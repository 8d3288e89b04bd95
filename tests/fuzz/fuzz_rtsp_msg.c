/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes rtsp_msg_parse() and every header helper on what it returns: a
 * parsed message's borrowed spans must stay inside the input, and the
 * Session/Transport/RTP-Info/CSeq helpers, and the keepalive's choice
 * from Public (rtsp_quirks_keepalive_method), must cope with any value.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ingest/ingest_int.h"
#include "ingest/rtsp_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_span(const uint8_t *data, size_t size, const void *p,
                       size_t n)
{
    const uint8_t *b = p;

    if (n == 0)
        return;
    if (b < data || b + n > data + size)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rtsp_msg msg;
    int rc = rtsp_msg_parse(data, size, &msg);
    char buf[256];
    uint32_t cseq;
    size_t n;
    const char *v;

    if (rc <= 0)
        return 0;
    if ((size_t)rc > size || msg.n_headers > RTSP_MAX_HEADERS)
        __builtin_trap();
    check_span(data, size, msg.reason, msg.reason_len);
    check_span(data, size, msg.method, msg.method_len);
    check_span(data, size, msg.uri, msg.uri_len);
    check_span(data, size, msg.body, msg.body_len);
    for (size_t i = 0; i < msg.n_headers; i++) {
        check_span(data, size, msg.headers[i].name, msg.headers[i].name_len);
        check_span(data, size, msg.headers[i].value, msg.headers[i].value_len);
    }
    (void)rtsp_msg_cseq(&msg, &cseq);
    (void)rtsp_msg_header_copy(&msg, "Content-Base", buf, sizeof(buf));
    v = rtsp_msg_header(&msg, "Session", &n);
    if (v) {
        int timeout;

        (void)rtsp_parse_session(v, n, buf, sizeof(buf), &timeout);
        if (timeout <= 0)
            __builtin_trap();
    }
    v = rtsp_msg_header(&msg, "Transport", &n);
    if (v) {
        struct rtsp_transport t;

        (void)rtsp_parse_transport(v, n, &t);
    }
    v = rtsp_msg_header(&msg, "RTP-Info", &n);
    if (v) {
        struct rtsp_rtpinfo ri;

        if (rtsp_parse_rtpinfo(v, n, &ri) == 0 &&
            (ri.n < 0 || ri.n > RTSP_MAX_RTPINFO))
            __builtin_trap();
    }
    v = rtsp_msg_header(&msg, "Public", &n);
    {
        const char *k = rtsp_quirks_keepalive_method(v, v ? n : 0);

        if (strcmp(k, "OPTIONS") != 0 && strcmp(k, "GET_PARAMETER") != 0)
            __builtin_trap();
    }
    /* Every header value also goes through each helper. */
    for (size_t i = 0; i < msg.n_headers; i++) {
        struct rtsp_transport t;
        struct rtsp_rtpinfo ri;
        int timeout;

        v = msg.headers[i].value;
        n = msg.headers[i].value_len;
        (void)rtsp_parse_session(v, n, buf, sizeof(buf), &timeout);
        (void)rtsp_parse_transport(v, n, &t);
        (void)rtsp_parse_rtpinfo(v, n, &ri);
        (void)rtsp_quirks_keepalive_method(v, n);
    }
    return 0;
}
