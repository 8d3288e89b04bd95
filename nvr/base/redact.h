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

/*
 * Finds the password of a URL's userinfo ("scheme://user:PASS@host/..."):
 * sets *off and *len to the bytes of PASS inside url and returns 1, or
 * returns 0 when the URL carries no password (no "://", no userinfo, or
 * no ':' in it, or an empty one). The same authority rules as
 * nvr_redact_url(): it ends at '/', '?' or '#' and the last '@' wins.
 */
int nvr_redact_find_password(const char *url, size_t *off, size_t *len);

#endif
