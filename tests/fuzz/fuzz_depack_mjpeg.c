/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes ingest/depack_mjpeg.c (RFC 2435, payload type 26). The input
 * is a run of pseudo packets, each a 16-bit big-endian payload length,
 * one flag byte (bit 0 marker, bit 1 packets lost before, bit 2 next
 * timestamp, bit 3 another payload type) and the RTP payload. Every
 * emitted unit must be a JPEG from SOI to EOI within the limits, with
 * increasing timestamps.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ingest/depack.h"
#include "ingest/sdp.h"
#include "nvr/base/au.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_emit(void *user, struct nvr_au *au)
{
    int64_t *last_pts = user;

    if (au->len < 4 || au->len > (size_t)NVR_AU_MAX_BYTES ||
        au->len > au->cap || memcmp(au->data, "\xff\xd8", 2) != 0 ||
        memcmp(au->data + au->len - 2, "\xff\xd9", 2) != 0 ||
        au->pts <= *last_pts || au->flags != NVR_AU_KEY)
        __builtin_trap();
    *last_pts = au->pts;
    nvr_au_unref(au);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sdp_track track;
    const struct depack_ops *ops = depack_find(NVR_CODEC_MJPEG);
    struct nvr_track_info info;
    void *st;
    size_t off = 0;
    int64_t ts = 0, last_pts = -1;

    track.pt = 26;
    track.codec = NVR_CODEC_MJPEG;
    track.clock_rate = 90000;
    if (!ops || ops->create(&track, &st) < 0)
        return 0;
    while (size - off >= 3) {
        size_t n = ((size_t)data[off] << 8) | data[off + 1];
        uint8_t flags = data[off + 2];
        struct rtp_hdr h = {0};

        off += 3;
        if (n > size - off)
            n = size - off;
        if (flags & 4)
            ts += 3600;
        h.pt = (flags & 8) ? 50 : 26;
        h.marker = flags & 1;
        h.ts = (uint32_t)ts;
        h.payload = data + off;
        h.payload_len = n;
        (void)ops->push(st, &h, ts, flags & 2, fuzz_emit, &last_pts);
        off += n;
    }
    ops->get_info(st, &info);
    if (info.width < 0 || info.width > 2040 || info.height < 0 ||
        info.height > 2040 || info.params_len != 0)
        __builtin_trap();
    ops->destroy(st);
    return 0;
}
