/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes ingest/depack_g711.c. The first input byte picks PCMA or PCMU
 * and the channel count from the rtpmap; then a run of pseudo packets,
 * each a 16-bit big-endian payload length, one flag byte (bit 1 packets
 * lost before, bit 2 next timestamp, bit 3 another payload type) and the
 * RTP payload. Every emitted unit must hold its packet's bytes.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ingest/depack.h"
#include "ingest/sdp.h"
#include "nvr/base/au.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_state {
    const uint8_t *payload;
    size_t len;
    int64_t last_pts;
};

static void fuzz_emit(void *user, struct nvr_au *au)
{
    struct fuzz_state *fs = user;

    if (au->len != fs->len || memcmp(au->data, fs->payload, au->len) != 0 ||
        au->pts == fs->last_pts || au->flags != NVR_AU_KEY)
        __builtin_trap();
    fs->last_pts = au->pts;
    nvr_au_unref(au);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const sdps[] = {
        "m=audio 0 RTP/AVP 8\r\n",
        "m=audio 0 RTP/AVP 0\r\n",
        "m=audio 0 RTP/AVP 97\r\na=rtpmap:97 PCMA/16000/2\r\n",
        "m=audio 0 RTP/AVP 97\r\na=rtpmap:97 PCMU/8000/6\r\n",
    };
    const struct depack_ops *ops;
    static struct sdp_session sdp;
    struct fuzz_state fs = {NULL, 0, -1};
    const char *text;
    void *st;
    size_t off = 1;
    int64_t ts = 0;

    if (size < 1)
        return 0;
    text = sdps[data[0] % 4];
    if (sdp_parse(text, strlen(text), &sdp) < 0)
        __builtin_trap();
    ops = depack_find(sdp.tracks[0].codec);
    if (!ops || ops->create(&sdp.tracks[0], &st) < 0)
        __builtin_trap();
    while (size - off >= 3) {
        size_t n = ((size_t)data[off] << 8) | data[off + 1];
        uint8_t flags = data[off + 2];
        struct rtp_hdr h = {0};

        off += 3;
        if (n > size - off)
            n = size - off;
        if (flags & 4)
            ts += 160;
        h.pt = (flags & 8) ? 50 : (uint8_t)sdp.tracks[0].pt;
        h.ts = (uint32_t)ts;
        h.payload = data + off;
        h.payload_len = n;
        fs.payload = h.payload;
        fs.len = n;
        (void)ops->push(st, &h, ts, flags & 2, fuzz_emit, &fs);
        off += n;
    }
    ops->destroy(st);
    return 0;
}
