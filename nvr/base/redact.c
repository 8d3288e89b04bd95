/* SPDX-License-Identifier: MIT */
/*
 * nvr_redact_url(): strips userinfo from URLs; nvr_redact_find_password()
 * locates the password in one, for scrubbing it where it lies.
 */
#include "config.h"
#include "nvr/base/redact.h"

#include <stdio.h>
#include <string.h>

/* The '@' ending the userinfo of the authority starting at auth, or
 * NULL. The authority ends at the first '/', '?' or '#'; the last '@'
 * inside it wins, since passwords may hold '@'. */
static const char *userinfo_end(const char *auth)
{
    const char *auth_end = auth + strcspn(auth, "/?#"), *at = NULL;

    for (const char *p = auth; p < auth_end; p++) {
        if (*p == '@')
            at = p;
    }
    return at;
}

int nvr_redact_find_password(const char *url, size_t *off, size_t *len)
{
    const char *scheme_end = strstr(url, "://"), *auth, *at, *colon;

    if (!scheme_end)
        return 0;
    auth = scheme_end + 3;
    at = userinfo_end(auth);
    if (!at)
        return 0;
    colon = memchr(auth, ':', (size_t)(at - auth));
    if (!colon || colon + 1 == at)
        return 0;
    *off = (size_t)(colon + 1 - url);
    *len = (size_t)(at - (colon + 1));
    return 1;
}

char *nvr_redact_url(const char *url, char *out, size_t out_size)
{
    const char *scheme_end, *auth, *at;
    size_t scheme_len;

    if (out_size == 0)
        return out;
    scheme_end = strstr(url, "://");
    auth = scheme_end ? scheme_end + 3 : url;
    scheme_len = (size_t)(auth - url);
    at = userinfo_end(auth);
    if (!at) {
        snprintf(out, out_size, "%s", url);
        return out;
    }
    snprintf(out, out_size, "%.*s%s", (int)scheme_len, url, at + 1);
    return out;
}
