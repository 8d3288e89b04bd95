/* SPDX-License-Identifier: MIT */
/*
 * Terminal-safe text: every string from outside (a camera's reason phrase
 * or SDP, a catalog row, a user's hold reason) passes through
 * nvr_escape_text() before a text output, a log line or the TUI shows it.
 * What could move the cursor, retitle the window or start an escape
 * sequence is shown as visible text instead.
 */
#ifndef NVR_BASE_ESCAPE_H
#define NVR_BASE_ESCAPE_H

#include <stddef.h>

/*
 * Room for any string of n bytes once escaped (each byte becomes at most
 * four characters, e.g. "\x1b"), and its NUL.
 */
#define NVR_ESCAPE_SIZE(n) (4 * (size_t)(n) + 1)

/*
 * Copies `in` (borrowed; NULL is taken as "") to `out` (borrowed,
 * out_size > 0 bytes) so that a terminal shows it as plain text:
 *
 *   - well-formed printable UTF-8 (RFC 3629) is kept as it is;
 *   - C0 controls (0x00-0x1f, tab and newline included) and DEL (0x7f)
 *     become "\xNN", and a backslash becomes "\\", so the result reads
 *     back without ambiguity;
 *   - C1 controls written as UTF-8 (U+0080-U+009F) and the Unicode
 *     controls that reorder or break lines (U+2028, U+2029, U+202A-U+202E,
 *     U+2066-U+2069) become "\uNNNN";
 *   - every byte that is not part of well-formed UTF-8, the raw C1 bytes
 *     0x80-0x9f among them, becomes "\xNN".
 *
 * Always NUL-terminates. When out is too small the text is cut between two
 * whole characters or escapes, never inside one. Returns out, so the call
 * can stand as a printf argument. Any thread.
 */
char *nvr_escape_text(const char *in, char *out, size_t out_size);

#endif
