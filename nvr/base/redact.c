/* SPDX-License-Identifier: MIT */
/*
 * nvr_redact_url(): strips userinfo from URLs.
 */
#include "config.h"
#include "nvr/base/redact.h"

#include <stdio.h>
#include <string.h>

char *nvr_redact_url(const char *url, char *out, size_t out_size)
{
    const char *scheme_end, *auth, *auth_end, *at;
    size_t scheme_len;

    if (out_size == 0)
        return out;
    scheme_end = strstr(url, "://");
    auth = scheme_end ? scheme_end + 3 : url;
    scheme_len = (size_t)(auth - url);
    /* The authority ends at the first '/', '?' or '#'; a '@' inside it
     * separates userinfo. The last '@' wins, since passwords may hold '@'. */
    auth_end = auth + strcspn(auth, "/?#");
    at = NULL;
    for (const char *p = auth; p < auth_end; p++) {
        if (*p == '@')
            at = p;
    }
    if (!at) {
        snprintf(out, out_size, "%s", url);
        return out;
    }
    snprintf(out, out_size, "%.*s%s", (int)scheme_len, url, at + 1);
    return out;
}
