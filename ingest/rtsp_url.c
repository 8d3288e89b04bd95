/* SPDX-License-Identifier: MIT */
/*
 * rtsp:// URLs (RFC 2326 section 3.2 over RFC 3986 syntax): splitting a
 * configured camera URL into host, port, credentials and path, formatting
 * the credential-free form that goes on the wire, and joining SDP control
 * attributes to a base URL the way LIVE555-derived cameras expect.
 *
 * The authority ends at the first '/', '?' or '#', and within it the LAST
 * '@' separates userinfo, so a password may hold a raw '@' (cameras' admin
 * pages accept one and users paste it unencoded); nvr_redact_url() draws the
 * same boundary, so what is parsed as a password is what gets redacted.
 */
#include "config.h"

#include "ingest/rtsp_url.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static int has_prefix_ci(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        if (lower((unsigned char)*s) != lower((unsigned char)*prefix))
            return 0;
    }
    return 1;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)lower((unsigned char)c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/*
 * Percent-decodes [s, s+n) into out (NUL-terminated). Returns 0, or
 * -EINVAL on a bad escape, a decoded NUL, or if it does not fit.
 */
static int pct_decode(const char *s, size_t n, char *out, size_t out_size)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (c == '%') {
            int hi, lo;

            if (n - i < 3)
                return -EINVAL;
            hi = hexval(s[i + 1]);
            lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return -EINVAL;
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if (o + 1 >= out_size)
            return -EINVAL;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

static int copy_span(const char *s, size_t n, char *out, size_t out_size)
{
    if (n >= out_size)
        return -EINVAL;
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

static int parse_port(const char *s, size_t n, uint16_t *port)
{
    unsigned v = 0;

    if (n == 0) {
        *port = 554; /* "host:" with an empty port means the default */
        return 0;
    }
    if (n > 5)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v == 0 || v > 65535)
        return -EINVAL;
    *port = (uint16_t)v;
    return 0;
}

static int parse_hostport(const char *s, size_t n, struct rtsp_url *out)
{
    const char *host = s, *port = NULL;
    size_t host_len, port_len = 0;

    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);

        if (close == NULL)
            return -EINVAL;
        host = s + 1;
        host_len = (size_t)(close - host);
        if (host_len == 0 || memchr(host, ':', host_len) == NULL)
            return -EINVAL;
        for (size_t i = 0; i < host_len; i++) {
            char c = host[i];

            if (hexval(c) < 0 && c != ':' && c != '.')
                return -EINVAL;
        }
        if (close + 1 < s + n) {
            if (close[1] != ':')
                return -EINVAL;
            port = close + 2;
            port_len = (size_t)(s + n - port);
        }
    } else {
        const char *colon = memchr(s, ':', n);

        host_len = colon ? (size_t)(colon - s) : n;
        if (colon) {
            port = colon + 1;
            port_len = (size_t)(s + n - port);
        }
        if (host_len == 0)
            return -EINVAL;
        for (size_t i = 0; i < host_len; i++) {
            char c = host[i];

            if (c == '[' || c == ']' || c == '@' || c == '%')
                return -EINVAL;
        }
    }
    out->port = 554;
    if (port && parse_port(port, port_len, &out->port) != 0)
        return -EINVAL;
    return copy_span(host, host_len, out->host, sizeof(out->host));
}

int rtsp_url_parse(const char *url, struct rtsp_url *out)
{
    const char *auth, *auth_end, *at = NULL, *frag;
    struct rtsp_url u;
    size_t path_len;

    memset(&u, 0, sizeof(u));
    if (!has_prefix_ci(url, "rtsp://"))
        return -EINVAL;
    /* Spaces and control bytes would break the request line. */
    for (const char *p = url; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return -EINVAL;
    }
    auth = url + 7;
    auth_end = auth + strcspn(auth, "/?#");
    for (const char *p = auth; p < auth_end; p++) {
        if (*p == '@')
            at = p;
    }
    if (at) {
        const char *colon = memchr(auth, ':', (size_t)(at - auth));
        size_t user_len = colon ? (size_t)(colon - auth) : (size_t)(at - auth);

        if (pct_decode(auth, user_len, u.user, sizeof(u.user)) != 0)
            return -EINVAL;
        if (colon && pct_decode(colon + 1, (size_t)(at - colon - 1), u.pass,
                                sizeof(u.pass)) != 0)
            return -EINVAL;
        u.has_userinfo = 1;
        auth = at + 1;
    }
    if (memchr(auth, ' ', (size_t)(auth_end - auth)) != NULL)
        return -EINVAL;
    if (parse_hostport(auth, (size_t)(auth_end - auth), &u) != 0)
        return -EINVAL;
    /* A fragment is never sent to the server. */
    frag = strchr(auth_end, '#');
    path_len = frag ? (size_t)(frag - auth_end) : strlen(auth_end);
    if (memchr(auth_end, ' ', path_len) != NULL)
        return -EINVAL;
    if (path_len == 0) {
        strcpy(u.path, "/");
    } else if (auth_end[0] == '?') {
        if (path_len + 1 >= sizeof(u.path))
            return -EINVAL;
        u.path[0] = '/';
        memcpy(u.path + 1, auth_end, path_len);
        u.path[path_len + 1] = '\0';
    } else if (copy_span(auth_end, path_len, u.path, sizeof(u.path)) != 0) {
        return -EINVAL;
    }
    *out = u;
    return 0;
}

int rtsp_url_format(const struct rtsp_url *url, char *out, size_t out_size)
{
    int ipv6 = strchr(url->host, ':') != NULL;
    int n;

    n = snprintf(out, out_size, "rtsp://%s%s%s:%u%s", ipv6 ? "[" : "",
                 url->host, ipv6 ? "]" : "", (unsigned)url->port,
                 url->path[0] ? url->path : "/");
    if (n < 0 || (size_t)n >= out_size)
        return -EMSGSIZE;
    return 0;
}

int rtsp_url_is_absolute(const char *url)
{
    return has_prefix_ci(url, "rtsp://") || has_prefix_ci(url, "rtsps://");
}

int rtsp_url_join_control(const char *base, const char *control, char *out,
                          size_t out_size)
{
    size_t base_len = strlen(base), ctl_len;
    const char *src = control;

    if (control[0] == '\0' || strcmp(control, "*") == 0)
        src = base;
    if (src != control || rtsp_url_is_absolute(control)) {
        if (strlen(src) >= out_size)
            return -EMSGSIZE;
        memmove(out, src, strlen(src) + 1);
        return 0;
    }
    /* LIVE555 (RTSPClient::constructSubsessionURL) appends with a '/';
     * cameras built on it expect exactly that, even after a query. */
    while (base_len > 0 && base[base_len - 1] == '/')
        base_len--;
    while (control[0] == '/')
        control++;
    ctl_len = strlen(control);
    if (base_len + 1 + ctl_len >= out_size)
        return -EMSGSIZE;
    memmove(out, base, base_len);
    if (base_len > 0)
        out[base_len++] = '/';
    memmove(out + base_len, control, ctl_len);
    out[base_len + ctl_len] = '\0';
    return 0;
}
