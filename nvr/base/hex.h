/* SPDX-License-Identifier: MIT */
/*
 * Lowercase hexadecimal, the one encoder every folder uses (digests in the
 * catalog, manifests and the audit log; Digest authentication's MD5).
 */
#ifndef NVR_BASE_HEX_H
#define NVR_BASE_HEX_H

#include <stddef.h>
#include <stdint.h>

/*
 * Writes the n bytes at data as 2 * n lowercase hex digits and a NUL into
 * out, which holds at least 2 * n + 1 bytes. Borrows both buffers.
 */
void nvr_hex_encode(const void *data, size_t n, char *out);

/*
 * Decodes exactly 2 * n hex digits (either case) from text into the n bytes
 * at out. Returns 0, or -EINVAL when a character is not a hex digit (out
 * may then hold part of the result).
 */
int nvr_hex_decode(const char *text, size_t n, uint8_t *out);

/* The value of hex digit c (0-15), or -1. */
int nvr_hex_digit(int c);

#endif
