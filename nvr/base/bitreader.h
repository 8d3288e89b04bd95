/* SPDX-License-Identifier: MIT */
/*
 * A bounded MSB-first bit reader for the parameter sets and headers of
 * outside streams (H.264/H.265 SPS, AAC AudioSpecificConfig and AU
 * headers). A read past the end returns zeros and sets `overrun`, which the
 * caller checks once after a run of reads; no read ever touches memory past
 * the buffer.
 */
#ifndef NVR_BASE_BITREADER_H
#define NVR_BASE_BITREADER_H

#include <stddef.h>
#include <stdint.h>

struct nvr_bitreader {
    const uint8_t *buf; /* borrowed */
    size_t len_bits;
    size_t pos;  /* bits read so far */
    int overrun; /* set once a read went past the end */
};

/* Reads the len bytes at buf (borrowed until the last read). */
void nvr_bitreader_init(struct nvr_bitreader *b, const uint8_t *buf,
                        size_t len);

/* One bit. */
unsigned nvr_bitreader_u1(struct nvr_bitreader *b);

/* n bits (0 <= n <= 32), most significant first. */
uint32_t nvr_bitreader_u(struct nvr_bitreader *b, int n);

/* Skips n bits. */
void nvr_bitreader_skip(struct nvr_bitreader *b, size_t n);

/*
 * ue(v), Exp-Golomb (H.264 9.1, H.265 9.2). Codes longer than 32 bits are
 * not valid in any syntax read here; they set overrun and return 0.
 */
uint32_t nvr_bitreader_ue(struct nvr_bitreader *b);

/* se(v) (H.264 9.1.1). */
int32_t nvr_bitreader_se(struct nvr_bitreader *b);

/* Bits left to read (0 after an overrun). */
size_t nvr_bitreader_left(const struct nvr_bitreader *b);

/*
 * Copies the len bytes of a NAL unit payload at src into dst (cap bytes)
 * without its emulation prevention bytes (H.264 7.4.1, H.265 7.4.2: a 3
 * after two zero bytes). Returns the bytes written, at most cap.
 */
size_t nvr_rbsp_unescape(const uint8_t *src, size_t len, uint8_t *dst,
                         size_t cap);

#endif
