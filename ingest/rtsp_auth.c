/* SPDX-License-Identifier: MIT */
/*
 * RTSP authentication (RFC 2326 section 16 defers to HTTP): Basic (RFC 7617)
 * and Digest (RFC 2617 section 3.2) with MD5, with qop=auth or without qop.
 *
 * Challenges come from every WWW-Authenticate header of a 401; cameras
 * often offer Basic and Digest side by side, and Digest wins because Basic
 * sends the password in the clear; Basic is answered at all only when the
 * camera's policy allows it. Parameter values may be tokens or quoted
 * strings with backslash escapes (RFC 7230 section 3.2.6). Nothing here
 * allocates; MD5 and base64 come from libavutil.
 */
#include "config.h"

#include "ingest/rtsp_auth.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/base64.h>
#include <libavutil/md5.h>
#include <libavutil/random_seed.h>

#include "nvr/base/hex.h"

/* Bounds of the strings hashed for Digest: HA1 = user:realm:pass and
 * HA2 = method:uri. Longer credentials or URIs are refused (-EMSGSIZE). */
#define RTSP_AUTH_MAX_HA1_INPUT   768
#define RTSP_AUTH_MAX_HA2_INPUT   2048
#define RTSP_AUTH_MAX_BASIC_INPUT 512

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static int ieq(const char *a, size_t a_len, const char *b)
{
    if (a_len != strlen(b))
        return 0;
    for (size_t i = 0; i < a_len; i++) {
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return 0;
    }
    return 1;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* One parsed challenge, kept apart so a bad one cannot clobber *auth. */
struct challenge {
    enum rtsp_auth_scheme scheme;
    char realm[sizeof(((struct rtsp_auth *)0)->realm)];
    char nonce[sizeof(((struct rtsp_auth *)0)->nonce)];
    char opaque[sizeof(((struct rtsp_auth *)0)->opaque)];
    int has_opaque;
    int has_nonce;
    int qop_auth;
    int qop_other; /* qop offered, but without "auth" */
    int bad_algorithm;
};

/*
 * Reads one auth-param value at *p (token or quoted-string) into out,
 * unescaping. Advances *p. Returns 0, -EBADMSG (unterminated quote) or
 * -EMSGSIZE (does not fit out_size with its NUL).
 */
static int read_value(const char **p, const char *end, char *out,
                      size_t out_size)
{
    const char *s = *p;
    size_t o = 0;
    int rc = 0;

    if (s < end && *s == '"') {
        s++;
        for (;;) {
            char c;

            if (s >= end)
                return -EBADMSG;
            c = *s++;
            if (c == '"')
                break;
            if (c == '\\') {
                if (s >= end)
                    return -EBADMSG;
                c = *s++;
            }
            if (o + 1 < out_size)
                out[o++] = c;
            else
                rc = -EMSGSIZE;
        }
    } else {
        while (s < end && *s != ',' && !is_space(*s)) {
            if (o + 1 < out_size)
                out[o++] = *s;
            else
                rc = -EMSGSIZE;
            s++;
        }
    }
    if (out_size > 0)
        out[o] = '\0';
    *p = s;
    return rc;
}

/* True if the comma/space separated list in s holds the token "auth". */
static int list_has_auth(const char *s)
{
    while (*s) {
        size_t n;

        while (*s == ',' || is_space(*s))
            s++;
        n = strcspn(s, ", \t");
        if (ieq(s, n, "auth"))
            return 1;
        s += n;
    }
    return 0;
}

static int apply_param(struct challenge *c, const char *name, size_t name_len,
                       const char **p, const char *end)
{
    char tmp[256];
    int rc;

    if (ieq(name, name_len, "realm"))
        return read_value(p, end, c->realm, sizeof(c->realm));
    if (ieq(name, name_len, "nonce")) {
        c->has_nonce = 1;
        return read_value(p, end, c->nonce, sizeof(c->nonce));
    }
    if (ieq(name, name_len, "opaque")) {
        c->has_opaque = 1;
        return read_value(p, end, c->opaque, sizeof(c->opaque));
    }
    rc = read_value(p, end, tmp, sizeof(tmp));
    if (rc == -EBADMSG)
        return rc;
    if (ieq(name, name_len, "qop")) {
        if (list_has_auth(tmp))
            c->qop_auth = 1;
        else
            c->qop_other = 1;
    } else if (ieq(name, name_len, "algorithm")) {
        if (rc != 0 || !ieq(tmp, strlen(tmp), "MD5"))
            c->bad_algorithm = 1;
    }
    return 0;
}

/*
 * Parses one header value: scheme, then comma-separated name=value pairs.
 * Returns 0 with c filled, -ENOTSUP for a scheme or algorithm we do not
 * implement, or -EBADMSG.
 */
static int parse_one(const char *v, size_t len, struct challenge *c)
{
    const char *p = v, *end = v + len, *scheme = v;
    size_t scheme_len;

    memset(c, 0, sizeof(*c));
    while (p < end && !is_space(*p) && *p != ',')
        p++;
    scheme_len = (size_t)(p - scheme);
    if (ieq(scheme, scheme_len, "Basic"))
        c->scheme = RTSP_AUTH_BASIC;
    else if (ieq(scheme, scheme_len, "Digest"))
        c->scheme = RTSP_AUTH_DIGEST;
    else
        return scheme_len > 0 ? -ENOTSUP : -EBADMSG;
    while (p < end) {
        const char *name;
        size_t name_len;
        int rc;

        while (p < end && (is_space(*p) || *p == ','))
            p++;
        if (p >= end)
            break;
        name = p;
        while (p < end && *p != '=' && *p != ',' && !is_space(*p))
            p++;
        name_len = (size_t)(p - name);
        while (p < end && is_space(*p))
            p++;
        if (p >= end || *p != '=') {
            /* A bare token (RFC 7235 token68) carries nothing we use. */
            continue;
        }
        p++;
        while (p < end && is_space(*p))
            p++;
        rc = apply_param(c, name, name_len, &p, end);
        if (rc < 0)
            return -EBADMSG;
    }
    if (c->scheme == RTSP_AUTH_DIGEST) {
        if (c->bad_algorithm || (c->qop_other && !c->qop_auth))
            return -ENOTSUP;
        if (!c->has_nonce || c->nonce[0] == '\0')
            return -EBADMSG;
    }
    return 0;
}

const char *rtsp_auth_policy_name(enum rtsp_auth_policy p)
{
    switch (p) {
    case RTSP_AUTH_POLICY_BASIC:
        return "basic";
    case RTSP_AUTH_POLICY_ANY:
        return "any";
    case RTSP_AUTH_POLICY_DIGEST:
    default:
        return "digest";
    }
}

const char *rtsp_auth_scheme_name(enum rtsp_auth_scheme s)
{
    switch (s) {
    case RTSP_AUTH_BASIC:
        return "basic";
    case RTSP_AUTH_DIGEST:
        return "digest";
    case RTSP_AUTH_NONE:
    default:
        return "none";
    }
}

static int policy_allows(enum rtsp_auth_policy p, enum rtsp_auth_scheme s)
{
    switch (p) {
    case RTSP_AUTH_POLICY_ANY:
        return 1;
    case RTSP_AUTH_POLICY_BASIC:
        return s == RTSP_AUTH_BASIC;
    case RTSP_AUTH_POLICY_DIGEST:
    default:
        return s == RTSP_AUTH_DIGEST;
    }
}

int rtsp_auth_parse_challenge(const struct rtsp_msg *resp,
                              struct rtsp_auth *auth)
{
    struct challenge best, c;
    int have = 0, saw_unsupported = 0, saw_refused = 0;

    memset(&best, 0, sizeof(best));
    for (size_t i = 0; i < resp->n_headers; i++) {
        const struct rtsp_header *h = &resp->headers[i];
        int rc;

        if (!ieq(h->name, h->name_len, "WWW-Authenticate"))
            continue;
        rc = parse_one(h->value, h->value_len, &c);
        if (rc == -ENOTSUP)
            saw_unsupported = 1;
        if (rc < 0)
            continue;
        if (!policy_allows(auth->policy, c.scheme)) {
            saw_refused = 1;
            continue;
        }
        if (!have || c.scheme > best.scheme) {
            best = c;
            have = 1;
        }
    }
    if (!have && saw_refused)
        return -EKEYREJECTED;
    if (!have)
        return saw_unsupported ? -ENOTSUP : -EBADMSG;
    /* A new nonce restarts the nonce count (RFC 2617 section 3.2.2). */
    if (best.scheme != RTSP_AUTH_DIGEST || strcmp(best.nonce, auth->nonce) != 0)
        auth->nc = 0;
    auth->scheme = best.scheme;
    memcpy(auth->realm, best.realm, sizeof(auth->realm));
    memcpy(auth->nonce, best.nonce, sizeof(auth->nonce));
    memcpy(auth->opaque, best.opaque, sizeof(auth->opaque));
    auth->has_opaque = best.has_opaque;
    auth->qop_auth = best.scheme == RTSP_AUTH_DIGEST && best.qop_auth;
    return 0;
}

/* A growing output string; overflow is sticky and reported once. */
struct out {
    char *buf;
    size_t size;
    size_t len;
    int overflow;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->overflow || o->len + n >= o->size) {
        o->overflow = 1;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* Appends name="value" with '"' and '\' escaped, preceded by ", ". */
static void put_quoted(struct out *o, const char *name, const char *value,
                       int first)
{
    if (!first)
        puts_(o, ", ");
    puts_(o, name);
    puts_(o, "=\"");
    for (const char *s = value; *s; s++) {
        if (*s == '"' || *s == '\\')
            put(o, "\\", 1);
        put(o, s, 1);
    }
    put(o, "\"", 1);
}

/* MD5 of the NUL-terminated parts joined by ':' into 32 lowercase hex. */
static int md5_hex(const char *const *parts, size_t n_parts, size_t cap,
                   char hex[33])
{
    char in[RTSP_AUTH_MAX_HA2_INPUT];
    struct out o = {in, cap < sizeof(in) ? cap : sizeof(in), 0, 0};
    uint8_t d[16];

    in[0] = '\0';
    for (size_t i = 0; i < n_parts; i++) {
        if (i > 0)
            put(&o, ":", 1);
        puts_(&o, parts[i]);
    }
    if (o.overflow)
        return -EMSGSIZE;
    av_md5_sum(d, (const uint8_t *)in, o.len);
    nvr_hex_encode(d, sizeof(d), hex);
    return 0;
}

static int basic_header(const char *user, const char *pass, char *out,
                        size_t out_size)
{
    char in[RTSP_AUTH_MAX_BASIC_INPUT];
    int n = snprintf(in, sizeof(in), "%s:%s", user, pass);
    int room;

    if (n < 0 || (size_t)n >= sizeof(in) || out_size < 7)
        return -EMSGSIZE;
    memcpy(out, "Basic ", 7);
    room = out_size - 6 > INT_MAX ? INT_MAX : (int)(out_size - 6);
    if (av_base64_encode(out + 6, room, (const uint8_t *)in, n) == NULL)
        return -EMSGSIZE;
    return 0;
}

static void make_cnonce(char cnonce[33])
{
    uint32_t a = av_get_random_seed(), b = av_get_random_seed();

    snprintf(cnonce, 33, "%08x%08x", (unsigned)a, (unsigned)b);
}

static int digest_header(struct rtsp_auth *auth, const char *method,
                         const char *uri, const char *user, const char *pass,
                         char *out, size_t out_size)
{
    char ha1[33], ha2[33], resp[33], nc[9];
    struct out o = {out, out_size, 0, 0};
    int rc;

    {
        const char *p[] = {user, auth->realm, pass};

        rc = md5_hex(p, 3, RTSP_AUTH_MAX_HA1_INPUT, ha1);
        if (rc < 0)
            return rc;
    }
    {
        const char *p[] = {method, uri};

        rc = md5_hex(p, 2, RTSP_AUTH_MAX_HA2_INPUT, ha2);
        if (rc < 0)
            return rc;
    }
    if (auth->qop_auth) {
        if (auth->cnonce[0] == '\0')
            make_cnonce(auth->cnonce);
        snprintf(nc, sizeof(nc), "%08x", (unsigned)(auth->nc + 1));
        {
            const char *p[] = {ha1, auth->nonce, nc, auth->cnonce, "auth", ha2};

            rc = md5_hex(p, 6, RTSP_AUTH_MAX_HA2_INPUT, resp);
        }
    } else {
        const char *p[] = {ha1, auth->nonce, ha2};

        rc = md5_hex(p, 3, RTSP_AUTH_MAX_HA2_INPUT, resp);
    }
    if (rc < 0)
        return rc;
    if (out_size == 0)
        return -EMSGSIZE;
    out[0] = '\0';
    puts_(&o, "Digest ");
    put_quoted(&o, "username", user, 1);
    put_quoted(&o, "realm", auth->realm, 0);
    put_quoted(&o, "nonce", auth->nonce, 0);
    put_quoted(&o, "uri", uri, 0);
    put_quoted(&o, "response", resp, 0);
    if (auth->has_opaque)
        put_quoted(&o, "opaque", auth->opaque, 0);
    if (auth->qop_auth) {
        puts_(&o, ", qop=auth, nc=");
        puts_(&o, nc);
        put_quoted(&o, "cnonce", auth->cnonce, 0);
    }
    if (o.overflow)
        return -EMSGSIZE;
    if (auth->qop_auth)
        auth->nc++;
    return 0;
}

int rtsp_auth_header(struct rtsp_auth *auth, const char *method,
                     const char *uri, const char *user, const char *pass,
                     char *out, size_t out_size)
{
    switch (auth->scheme) {
    case RTSP_AUTH_BASIC:
        return basic_header(user, pass, out, out_size);
    case RTSP_AUTH_DIGEST:
        return digest_header(auth, method, uri, user, pass, out, out_size);
    case RTSP_AUTH_NONE:
    default:
        return -EINVAL;
    }
}
