/* SPDX-License-Identifier: MIT */
/*
 * Credential redaction: every URL that reaches a log line, status output or
 * the catalog goes through nvr_redact_url() first.
 */
#ifndef NVR_BASE_REDACT_H
#define NVR_BASE_REDACT_H

#include <stddef.h>

/*
 * Copies `url` to `out` with any userinfo ("user:pass@") removed, so
 * "rtsp://admin:secret@10.0.0.2/x" becomes "rtsp://10.0.0.2/x". Always
 * NUL-terminates (truncating if out_size is small). Returns out.
 */
char *nvr_redact_url(const char *url, char *out, size_t out_size);

#endif
