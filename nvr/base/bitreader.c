/* SPDX-License-Identifier: MIT */
/*
 * The bounded bit reader of nvr/base/bitreader.h.
 */
#include "config.h"
#include "nvr/base/bitreader.h"

void nvr_bitreader_init(struct nvr_bitreader *b, const uint8_t *buf, size_t len)
{
    b->buf = buf;
    b->len_bits = 8 * len;
    b->pos = 0;
    b->overrun = 0;
}

unsigned nvr_bitreader_u1(struct nvr_bitreader *b)
{
    unsigned bit;

    if (b->pos >= b->len_bits) {
        b->overrun = 1;
        return 0;
    }
    bit = (b->buf[b->pos >> 3] >> (7 - (b->pos & 7))) & 1u;
    b->pos++;
    return bit;
}

uint32_t nvr_bitreader_u(struct nvr_bitreader *b, int n)
{
    uint32_t v = 0;

    for (int i = 0; i < n; i++)
        v = (v << 1) | nvr_bitreader_u1(b);
    return v;
}

void nvr_bitreader_skip(struct nvr_bitreader *b, size_t n)
{
    if (n > b->len_bits - b->pos || b->pos > b->len_bits) {
        b->pos = b->len_bits;
        b->overrun = 1;
        return;
    }
    b->pos += n;
}

uint32_t nvr_bitreader_ue(struct nvr_bitreader *b)
{
    int zeros = 0;

    while (nvr_bitreader_u1(b) == 0) {
        if (b->overrun || ++zeros > 31) {
            b->overrun = 1;
            return 0;
        }
    }
    return ((1u << zeros) - 1u) + nvr_bitreader_u(b, zeros);
}

int32_t nvr_bitreader_se(struct nvr_bitreader *b)
{
    uint32_t k = nvr_bitreader_ue(b);

    if (k & 1u)
        return (int32_t)((k >> 1) + 1);
    return -(int32_t)(k >> 1);
}

size_t nvr_bitreader_left(const struct nvr_bitreader *b)
{
    return b->overrun || b->pos >= b->len_bits ? 0 : b->len_bits - b->pos;
}

size_t nvr_rbsp_unescape(const uint8_t *src, size_t len, uint8_t *dst,
                         size_t cap)
{
    size_t n = 0;
    int zeros = 0;

    for (size_t i = 0; i < len && n < cap; i++) {
        if (zeros >= 2 && src[i] == 3) {
            zeros = 0;
            continue;
        }
        zeros = src[i] == 0 ? zeros + 1 : 0;
        dst[n++] = src[i];
    }
    return n;
}
