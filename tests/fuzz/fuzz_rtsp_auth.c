/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the authentication code: the input becomes the WWW-Authenticate
 * header values of a fake 401 (one header per input line), whose challenge
 * is parsed and, when accepted, answered for a fixed request.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ingest/rtsp_auth.h"
#include "ingest/rtsp_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char head[] = "RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\n";
    static uint8_t msg_buf[RTSP_MAX_HEADER_BYTES];
    struct rtsp_msg msg;
    struct rtsp_auth auth;
    char out[2048];
    size_t n = sizeof(head) - 1, i = 0;

    memcpy(msg_buf, head, n);
    while (i < size) {
        const uint8_t *nl = memchr(data + i, '\n', size - i);
        size_t line = nl ? (size_t)(nl - (data + i)) : size - i;
        static const char name[] = "WWW-Authenticate: ";

        if (n + sizeof(name) - 1 + line + 4 > sizeof(msg_buf))
            break;
        memcpy(msg_buf + n, name, sizeof(name) - 1);
        n += sizeof(name) - 1;
        for (size_t k = 0; k < line; k++) {
            /* A line end inside would end the header or the message. */
            uint8_t c = data[i + k];

            msg_buf[n++] = (c == '\r') ? ' ' : c;
        }
        msg_buf[n++] = '\r';
        msg_buf[n++] = '\n';
        i += line + 1;
    }
    msg_buf[n++] = '\r';
    msg_buf[n++] = '\n';
    if (rtsp_msg_parse(msg_buf, n, &msg) <= 0)
        return 0;
    memset(&auth, 0, sizeof(auth));
    /* Both schemes, so that Basic answers are fuzzed too. */
    auth.policy = RTSP_AUTH_POLICY_ANY;
    memcpy(auth.cnonce, "0a4f113b", 9);
    if (rtsp_auth_parse_challenge(&msg, &auth) != 0)
        return 0;
    if (memchr(auth.realm, '\0', sizeof(auth.realm)) == NULL ||
        memchr(auth.nonce, '\0', sizeof(auth.nonce)) == NULL ||
        memchr(auth.opaque, '\0', sizeof(auth.opaque)) == NULL)
        __builtin_trap();
    (void)rtsp_auth_header(&auth, "DESCRIBE", "rtsp://127.0.0.1/live", "admin",
                           "p\"w\\d", out, sizeof(out));
    (void)rtsp_auth_header(&auth, "PLAY", "rtsp://127.0.0.1/live", "admin",
                           "pw", out, 64);
    return 0;
}
