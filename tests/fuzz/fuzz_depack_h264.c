/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes ingest/depack_h264.c. The input is a run of pseudo packets, each
 * a 16-bit big-endian payload length, one flag byte (bit 0 marker, bit 1
 * packets lost before, bit 2 next timestamp, bit 3 another payload type)
 * and the RTP payload. The track starts with Big Buck Bunny's SPS and PPS.
 * Every emitted unit is checked for its start code and limits, then freed.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ingest/depack.h"
#include "ingest/sdp.h"
#include "nvr/base/au.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fuzz_params[] = {
    0x00, 0x00, 0x00, 0x01, 0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x03, 0xc5,
    0x68, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00, 0x00, 0x0c, 0x03,
    0xc5, 0x8b, 0x92, 0x00, 0x00, 0x00, 0x01, 0x68, 0xcb, 0x8c, 0xb2};

static void fuzz_emit(void *user, struct nvr_au *au)
{
    int64_t *last_pts = user;

    if (au->len < 5 || au->len > (size_t)NVR_AU_MAX_BYTES ||
        au->len > au->cap || memcmp(au->data, "\0\0\0\1", 4) != 0 ||
        au->pts < *last_pts)
        __builtin_trap();
    /* The index of start codes the writer trusts points at start codes,
     * in order. */
    for (uint32_t i = 0; i < au->n_nals && i < NVR_AU_NAL_INDEX; i++)
        if ((size_t)au->nal_at[i] + 4 > au->len ||
            memcmp(au->data + au->nal_at[i], "\0\0\0\1", 4) != 0 ||
            (i > 0 && au->nal_at[i] <= au->nal_at[i - 1]))
            __builtin_trap();
    *last_pts = au->pts;
    nvr_au_unref(au);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sdp_track track;
    const struct depack_ops *ops = depack_find(NVR_CODEC_H264);
    struct nvr_track_info info;
    void *st;
    size_t off = 0;
    int64_t ts = 0, last_pts = 0;
    uint16_t seq = 0;

    track.pt = 96;
    track.codec = NVR_CODEC_H264;
    memcpy(track.params, fuzz_params, sizeof(fuzz_params));
    track.params_len = sizeof(fuzz_params);
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
            ts += 3000;
        h.pt = (flags & 8) ? 50 : 96;
        h.marker = flags & 1;
        h.seq = seq++;
        h.ts = (uint32_t)ts;
        h.payload = data + off;
        h.payload_len = n;
        (void)ops->push(st, &h, ts, flags & 2, fuzz_emit, &last_pts);
        off += n;
    }
    ops->get_info(st, &info);
    if (info.params_len > sizeof(info.params))
        __builtin_trap();
    ops->destroy(st);
    return 0;
}
