/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes ingest/depack_aac.c. The first input byte picks the fmtp
 * (AAC-hbr as bunny.rtsp has it, AAC-lbr, no AU headers, constantSize,
 * or every optional header field and an auxiliary section); then a run of
 * pseudo packets, each a 16-bit big-endian payload length, one flag byte
 * (bit 0 marker, bit 1 packets lost before, bit 2 next timestamp, bit 3
 * another payload type) and the RTP payload. Every emitted unit is
 * checked against the limits, then freed.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ingest/depack.h"
#include "ingest/sdp.h"
#include "nvr/base/au.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_sdps[] = {
    "m=audio 0 RTP/AVP 96\r\na=rtpmap:96 mpeg4-generic/12000/2\r\n"
    "a=fmtp:96 mode=AAC-hbr;sizelength=13;indexlength=3;"
    "indexdeltalength=3;config=1490\r\n",
    "m=audio 0 RTP/AVP 96\r\na=rtpmap:96 mpeg4-generic/16000\r\n"
    "a=fmtp:96 mode=AAC-lbr;config=1408;constantduration=960\r\n",
    "m=audio 0 RTP/AVP 96\r\na=rtpmap:96 mpeg4-generic/8000\r\n"
    "a=fmtp:96 config=1588\r\n",
    "m=audio 0 RTP/AVP 96\r\na=rtpmap:96 mpeg4-generic/8000\r\n"
    "a=fmtp:96 config=1588;constantsize=7\r\n",
    "m=audio 0 RTP/AVP 96\r\na=rtpmap:96 mpeg4-generic/48000/2\r\n"
    "a=fmtp:96 config=1190;sizelength=16;indexlength=32;"
    "indexdeltalength=32;ctsdeltalength=3;dtsdeltalength=32;"
    "randomaccessindication=1;streamstateindication=5;"
    "auxiliarydatasizelength=12\r\n",
};

static void fuzz_emit(void *user, struct nvr_au *au)
{
    (void)user;
    if (au->len == 0 || au->len > (size_t)64 * 1024 || au->len > au->cap ||
        !(au->flags & NVR_AU_KEY))
        __builtin_trap();
    nvr_au_unref(au);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct depack_ops *ops = depack_find(NVR_CODEC_AAC);
    static struct sdp_session sdp;
    const char *text;
    struct nvr_track_info info;
    void *st;
    size_t off = 1;
    int64_t ts = 0;
    uint16_t seq = 0;

    if (size < 1)
        return 0;
    text = fuzz_sdps[data[0] % (sizeof(fuzz_sdps) / sizeof(fuzz_sdps[0]))];
    if (sdp_parse(text, strlen(text), &sdp) < 0 || !sdp.tracks[0].recordable)
        __builtin_trap();
    if (!ops || ops->create(&sdp.tracks[0], &st) < 0)
        return 0;
    while (size - off >= 3) {
        size_t n = ((size_t)data[off] << 8) | data[off + 1];
        uint8_t flags = data[off + 2];
        struct rtp_hdr h = {0};

        off += 3;
        if (n > size - off)
            n = size - off;
        if (flags & 4)
            ts += 1024;
        h.pt = (flags & 8) ? 50 : 96;
        h.marker = flags & 1;
        h.seq = seq++;
        h.ts = (uint32_t)ts;
        h.payload = data + off;
        h.payload_len = n;
        (void)ops->push(st, &h, ts, flags & 2, fuzz_emit, NULL);
        off += n;
    }
    ops->get_info(st, &info);
    if (info.params_len > sizeof(info.params))
        __builtin_trap();
    ops->destroy(st);
    return 0;
}
