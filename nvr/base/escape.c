/* SPDX-License-Identifier: MIT */
/*
 * The one escaper for text shown on a terminal. A camera, a catalog row or
 * a user may put ESC, CSI (0x9b), OSC (0x9d), carriage returns or
 * backspaces into a string; printed raw they retitle the window, clear the
 * screen or overwrite what came before. This file turns every such byte or
 * character into visible text and keeps everything printable as it is.
 */
#include "config.h"
#include "nvr/base/escape.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "nvr/base/utf8.h"

/* Code points a terminal acts on rather than shows: C1 controls, and the
 * line separators and bidirectional overrides that reorder what follows
 * (the "Trojan Source" characters). */
static int is_unicode_control(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

char *nvr_escape_text(const char *in, char *out, size_t out_size)
{
    const unsigned char *s = (const unsigned char *)(in ? in : "");
    size_t n = strlen((const char *)s);
    size_t o = 0;

    while (n > 0) {
        char piece[8];
        const void *src = piece;
        size_t len = 1, plen;
        uint32_t cp = 0;

        if (*s == '\\') {
            piece[0] = '\\';
            piece[1] = '\\';
            plen = 2;
        } else if (*s < 0x20 || *s == 0x7f) {
            snprintf(piece, sizeof(piece), "\\x%02x", *s);
            plen = 4;
        } else if (*s < 0x80) {
            src = s;
            plen = 1;
        } else if ((len = nvr_utf8_decode(s, n, &cp)) == 0) {
            len = 1;
            snprintf(piece, sizeof(piece), "\\x%02x", *s);
            plen = 4;
        } else if (is_unicode_control(cp)) {
            snprintf(piece, sizeof(piece), "\\u%04x", (unsigned)cp);
            plen = 6;
        } else {
            src = s;
            plen = len;
        }
        if (o + plen >= out_size)
            break;
        memcpy(out + o, src, plen);
        o += plen;
        s += len;
        n -= len;
    }
    if (out_size > 0)
        out[o] = '\0';
    return out;
}
