/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the RTSP-over-TCP read loop: '$' interleaved frames mixed with
 * RTSP messages, consumed the way the connection's read callback does,
 * and each frame re-parsed from an exact-size copy of a cut prefix.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/rtsp_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;

    while (off < size) {
        const uint8_t *p = data + off;
        size_t left = size - off;
        uint8_t ch;
        const uint8_t *payload;
        size_t plen;
        int rc;

        if (p[0] == '$') {
            rc = rtsp_interleaved_parse(p, left, &ch, &payload, &plen);
            if (rc > 0 && (payload != p + 4 || plen + 4 != (size_t)rc ||
                           (size_t)rc > left))
                __builtin_trap();
        } else {
            struct rtsp_msg msg;

            rc = rtsp_msg_parse(p, left, &msg);
        }
        if (rc == -EAGAIN)
            break;
        if (rc <= 0) {
            /* Resynchronise as a client would: skip to the next '$'. */
            const uint8_t *next = memchr(p + 1, '$', left - 1);

            if (next == NULL)
                break;
            off = (size_t)(next - data);
            continue;
        }
        if (p[0] == '$' && rc > 4) {
            /* A cut copy of the frame must ask for more, never overread. */
            size_t cut = (size_t)rc - 1;
            uint8_t *copy = malloc(cut);

            if (copy) {
                memcpy(copy, p, cut);
                if (rtsp_interleaved_parse(copy, cut, &ch, &payload, &plen) !=
                    -EAGAIN)
                    __builtin_trap();
                free(copy);
            }
        }
        off += (size_t)rc;
    }
    return 0;
}
