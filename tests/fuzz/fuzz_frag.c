/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes storage/frag.c, which splits the camera's Annex B units at their
 * start codes. The input is a run of pseudo units, each a 16-bit
 * big-endian length, one flag byte (bit 0 keyframe, bit 1 audio track,
 * bit 2 write the fragment after it) and the unit's bytes. Every fragment
 * written is parsed back: its moof must describe exactly the mdat that
 * follows, and each video sample must be a whole number of length-
 * prefixed NAL units.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nvr/base/au.h"
#include "storage/frag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Output of one fragment, which stays small: the input is. */
#define FUZZ_OUT_BYTES ((size_t)1 << 20)

struct fuzz_out {
    uint8_t *buf;
    size_t len;
};

static int fuzz_write(void *opaque, struct iovec *iov, int cnt)
{
    struct fuzz_out *o = opaque;

    for (int i = 0; i < cnt; i++) {
        if (o->len + iov[i].iov_len > FUZZ_OUT_BYTES)
            __builtin_trap();
        memcpy(o->buf + o->len, iov[i].iov_base, iov[i].iov_len);
        o->len += iov[i].iov_len;
    }
    return 0;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

/* Checks one fragment: moof, trafs, mdat of the right size, and video
 * samples made of whole length-prefixed NAL units. */
static void fuzz_check(const struct fuzz_out *o)
{
    const uint8_t *b = o->buf;
    size_t moof, p, mdat, total = 0;

    if (o->len < 16 || memcmp(b + 4, "moof", 4) != 0)
        __builtin_trap();
    moof = rd32(b);
    p = 8 + rd32(b + 8); /* past mfhd */
    if (moof + 8 > o->len)
        __builtin_trap();
    mdat = moof;
    while (p < moof) {
        size_t traf_end = p + rd32(b + p);
        size_t q = p + 8;
        uint32_t id = rd32(b + q + 12);
        uint32_t flags, n, off;

        q += rd32(b + q); /* tfhd */
        q += rd32(b + q); /* tfdt */
        flags = rd32(b + q + 8);
        n = rd32(b + q + 12);
        off = rd32(b + q + 16);
        q += 20 + ((flags & 4) ? 4 : 0);
        for (uint32_t i = 0; i < n; i++, q += 8) {
            uint32_t sz = rd32(b + q + 4);
            size_t s = off, end = (size_t)off + sz;

            if (end > o->len || s < moof + 8)
                __builtin_trap();
            while (id == 1 && s < end) {
                if (s + 4 > end)
                    __builtin_trap();
                s += 4 + rd32(b + s);
            }
            if (s != end && id == 1)
                __builtin_trap();
            off += sz;
            total += sz;
        }
        if (q != traf_end)
            __builtin_trap();
        p = traf_end;
    }
    if (rd32(b + mdat) != 8 + total || memcmp(b + mdat + 4, "mdat", 4) != 0 ||
        o->len != mdat + 8 + total)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct frag f;
    struct fuzz_out o = {.buf = malloc(FUZZ_OUT_BYTES)};
    int64_t dts[2] = {0, 0};
    size_t i = 0;

    if (!o.buf)
        return 0;
    frag_init(&f);
    (void)frag_add_track(&f, 1, true, true);
    (void)frag_add_track(&f, 2, false, false);
    while (i + 3 <= size) {
        size_t len = (size_t)data[i] << 8 | data[i + 1];
        uint8_t flags = data[i + 2];
        int track = (flags & 2) ? 1 : 0;
        struct nvr_au *au;

        i += 3;
        if (len > size - i)
            len = size - i;
        if (nvr_au_new(len ? len : 1, &au) < 0)
            break;
        memcpy(au->data, data + i, len);
        au->len = len;
        i += len;
        if (frag_add(&f, track, au, dts[track], 0, 3600, flags & 1) == 0)
            dts[track] += 1 + (flags >> 4);
        nvr_au_unref(au);
        if (flags & 4) {
            int64_t at = (int64_t)o.len;

            o.len = 0;
            if (frag_pending(&f)) {
                if (frag_flush(&f, at, fuzz_write, &o) != 0)
                    __builtin_trap();
                fuzz_check(&o);
            }
            o.len = 0;
        }
    }
    o.len = 0;
    if (frag_pending(&f)) {
        if (frag_flush(&f, 0, fuzz_write, &o) != 0)
            __builtin_trap();
        fuzz_check(&o);
    }
    o.len = 0;
    if (frag_finish(&f, fuzz_write, &o) != 0)
        __builtin_trap();
    frag_clear(&f);
    free(o.buf);
    return 0;
}
