/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes sdp_parse(): any body gives 0 or an error, fields stay
 * NUL-terminated, counts and parameter sets stay within their caps.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ingest/sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sdp_session s; /* large; keep it off the stack */

    if (sdp_parse((const char *)data, size, &s) != 0)
        return 0;
    if (s.n_tracks < 1 || s.n_tracks > SDP_MAX_TRACKS)
        __builtin_trap();
    if (memchr(s.control, '\0', sizeof(s.control)) == NULL)
        __builtin_trap();
    for (int i = 0; i < s.n_tracks; i++) {
        const struct sdp_track *t = &s.tracks[i];

        if (t->params_len > sizeof(t->params) ||
            memchr(t->media, '\0', sizeof(t->media)) == NULL ||
            memchr(t->encoding, '\0', sizeof(t->encoding)) == NULL ||
            memchr(t->control, '\0', sizeof(t->control)) == NULL ||
            memchr(t->fmtp, '\0', sizeof(t->fmtp)) == NULL)
            __builtin_trap();
        if (t->recordable && t->codec == NVR_CODEC_NONE)
            __builtin_trap();
        /* Parameter sets are Annex B with 4-byte start codes. */
        if (t->params_len > 0 && memcmp(t->params, "\0\0\0\1", 4) != 0)
            __builtin_trap();
    }
    return 0;
}
