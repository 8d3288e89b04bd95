/* SPDX-License-Identifier: MIT */
/*
 * Strict UTF-8 decoding for the writers of outside text (JSON, the
 * terminal escaper).
 */
#ifndef NVR_BASE_UTF8_H
#define NVR_BASE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Length of the well-formed UTF-8 sequence at s (1..4, RFC 3629 section 4)
 * with its code point in *cp, or 0 when the byte at s starts none (a
 * stray continuation byte, an overlong form, a surrogate, beyond
 * U+10FFFF, or a sequence cut short). n > 0 is the number of bytes
 * available at s. Pure; any thread.
 */
size_t nvr_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

#endif
