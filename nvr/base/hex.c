/* SPDX-License-Identifier: MIT */
/*
 * Lowercase hexadecimal encoding and strict decoding.
 */
#include "config.h"
#include "nvr/base/hex.h"

#include <errno.h>

void nvr_hex_encode(const void *data, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *d = data;

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}

int nvr_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int nvr_hex_decode(const char *text, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        int hi = nvr_hex_digit((unsigned char)text[2 * i]);
        int lo = hi < 0 ? -1 : nvr_hex_digit((unsigned char)text[2 * i + 1]);

        if (lo < 0)
            return -EINVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}
