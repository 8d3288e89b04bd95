/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes ingest/rtp.c. The input is a run of packets, each a 16-bit
 * big-endian length and that many bytes; each is parsed, and accepted ones
 * go through sequence tracking and timestamp unwrapping.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "ingest/rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rtp_seq seq = {0};
    struct rtp_hdr h;
    size_t off = 0;

    /* The whole input as one packet too. */
    if (rtp_parse(data, size, &h) == 0 && h.payload_len > 0)
        (void)h.payload[h.payload_len - 1];

    while (size - off >= 2) {
        size_t n = ((size_t)data[off] << 8) | data[off + 1];
        int r;

        off += 2;
        if (n > size - off)
            n = size - off;
        if (rtp_parse(data + off, n, &h) == 0) {
            if (h.payload_len > 0 &&
                (h.payload < data + off ||
                 h.payload + h.payload_len > data + off + n))
                __builtin_trap();
            r = rtp_seq_update(&seq, &h);
            if (r >= 0)
                (void)rtp_seq_ts_unwrap(&seq, h.ts);
        }
        off += n;
    }
    if (seq.received + seq.dropped > size)
        __builtin_trap();
    return 0;
}
