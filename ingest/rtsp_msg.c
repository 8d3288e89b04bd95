/* SPDX-License-Identifier: MIT */
/*
 * RTSP/1.0 message parser (RFC 2326 sections 6 and 7), interleaved '$'
 * framing (RFC 2326 section 10.12) and the Session, Transport and RTP-Info
 * header helpers the client needs (RFC 2326 sections 12.37, 12.39, 12.33).
 *
 * rtsp_msg_parse() is called with everything received so far and rescans
 * from the start each time; one call is linear in the bytes it looks at,
 * and it never looks past RTSP_MAX_HEADER_BYTES of head plus the declared
 * (capped) body, so a peer that never ends its head costs bounded memory
 * and time. It is picohttpparser-style: no allocation, spans borrow the
 * caller's buffer. Camera quirks handled here: bare LF line ends, trailing
 * whitespace in values, a missing Content-Length (no body), SSRC values
 * with spaces, a trailing ';' in RTP-Info, unparseable seq/rtptime and an
 * SSRC given only in RTP-Info.
 */
#include "config.h"

#include "ingest/rtsp_msg.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

static int is_ws(char c)
{
    return c == ' ' || c == '\t';
}

static int is_lws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static int ieq(const char *a, size_t a_len, const char *b)
{
    size_t b_len = strlen(b);

    if (a_len != b_len)
        return 0;
    for (size_t i = 0; i < a_len; i++) {
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return 0;
    }
    return 1;
}

/* Trims SP/HT/CR/LF on both ends of [*s, *s + *n). */
static void trim(const char **s, size_t *n)
{
    while (*n > 0 && is_lws((*s)[0])) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && is_lws((*s)[*n - 1]))
        (*n)--;
}

/* Method names (RFC 2326 section 6.1 extension-method is a token, but all
 * methods in use are letters and '_'); rejecting anything else makes a
 * stray '$' frame or binary noise fail at once. */
static int is_method_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* RFC 2326 section 15.1 token characters for a header name. */
static int is_token(unsigned char c)
{
    if (c <= 32 || c >= 127)
        return 0;
    return strchr("()<>@,;:\\\"/[]?={}", c) == NULL;
}

/*
 * Parses an unsigned decimal in [s, s+n) (already trimmed) into *out.
 * Returns 0, or -EBADMSG if empty, not all digits, or above max.
 */
static int parse_uint(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (n == 0)
        return -EBADMSG;
    for (size_t i = 0; i < n; i++) {
        uint64_t d = (uint64_t)(s[i] - '0');

        if (!is_digit(s[i]) || d > max || v > (max - d) / 10)
            return -EBADMSG;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* Line [s, s+n) without its '\n'; drops one trailing '\r'. */
static size_t strip_cr(const char *s, size_t n)
{
    if (n > 0 && s[n - 1] == '\r')
        n--;
    return n;
}

/*
 * Checks that the available prefix of the first line can still become a
 * status or request line, so garbage fails at once instead of after
 * RTSP_MAX_HEADER_BYTES. [s, s+n) may be incomplete (no '\n' yet).
 */
static int start_plausible(const char *s, size_t n)
{
    static const char resp[] = "RTSP/";
    size_t i;

    for (i = 0; i < n && i < sizeof(resp) - 1; i++) {
        if (s[i] != resp[i])
            break;
    }
    if (i == n || i == sizeof(resp) - 1)
        return 1;
    /* A request: the method is a token followed by a space. */
    for (i = 0; i < n && s[i] != ' '; i++) {
        if (!is_method_char((unsigned char)s[i]))
            return 0;
    }
    return i > 0 || n == 0;
}

static int parse_status_line(const char *s, size_t n, struct rtsp_msg *msg)
{
    size_t i = 5; /* after "RTSP/" */
    uint64_t status;
    const char *reason;
    size_t reason_len;

    /* Version: digits '.' digits. */
    if (i >= n || !is_digit(s[i]))
        return -EBADMSG;
    while (i < n && is_digit(s[i]))
        i++;
    if (i >= n || s[i] != '.')
        return -EBADMSG;
    i++;
    if (i >= n || !is_digit(s[i]))
        return -EBADMSG;
    while (i < n && is_digit(s[i]))
        i++;
    if (i >= n || !is_ws(s[i]))
        return -EBADMSG;
    while (i < n && is_ws(s[i]))
        i++;
    if (n - i < 3 || parse_uint(s + i, 3, 999, &status) != 0 || status < 100)
        return -EBADMSG;
    i += 3;
    if (i < n && !is_ws(s[i]))
        return -EBADMSG;
    reason = s + i;
    reason_len = n - i;
    trim(&reason, &reason_len);
    msg->is_response = 1;
    msg->status = (int)status;
    msg->reason = reason;
    msg->reason_len = reason_len;
    return 0;
}

static int parse_request_line(const char *s, size_t n, struct rtsp_msg *msg)
{
    size_t i = 0, uri_start, uri_end;

    while (i < n && is_method_char((unsigned char)s[i]))
        i++;
    if (i == 0 || i >= n || s[i] != ' ')
        return -EBADMSG;
    msg->method = s;
    msg->method_len = i;
    while (i < n && is_ws(s[i]))
        i++;
    uri_start = i;
    while (i < n && !is_ws(s[i]))
        i++;
    uri_end = i;
    if (uri_end == uri_start)
        return -EBADMSG;
    while (i < n && is_ws(s[i]))
        i++;
    /* Only RTSP/1.x requests; trailing whitespace is tolerated. */
    if (n - i < 6 || memcmp(s + i, "RTSP/1", 6) != 0)
        return -EBADMSG;
    msg->is_response = 0;
    msg->uri = s + uri_start;
    msg->uri_len = uri_end - uri_start;
    return 0;
}

static int add_header(const char *s, size_t n, struct rtsp_msg *msg)
{
    struct rtsp_header *h;
    const char *colon = memchr(s, ':', n);
    const char *name = s, *value;
    size_t name_len, value_len;

    if (colon == NULL)
        return -EBADMSG;
    name_len = (size_t)(colon - s);
    while (name_len > 0 && is_ws(name[name_len - 1]))
        name_len--;
    if (name_len == 0)
        return -EBADMSG;
    for (size_t i = 0; i < name_len; i++) {
        if (!is_token((unsigned char)name[i]))
            return -EBADMSG;
    }
    if (msg->n_headers >= RTSP_MAX_HEADERS)
        return -EMSGSIZE;
    value = colon + 1;
    value_len = (size_t)(s + n - value);
    trim(&value, &value_len);
    h = &msg->headers[msg->n_headers++];
    h->name = name;
    h->name_len = name_len;
    h->value = value;
    h->value_len = value_len;
    return 0;
}

/* Extends the last header's value over a continuation line ending at end. */
static int fold_header(const char *s, size_t n, struct rtsp_msg *msg)
{
    struct rtsp_header *h;
    const char *v = s;
    size_t vn = n;

    if (msg->n_headers == 0)
        return -EBADMSG;
    h = &msg->headers[msg->n_headers - 1];
    trim(&v, &vn);
    if (vn == 0)
        return 0;
    if (h->value_len == 0)
        h->value = v;
    h->value_len = (size_t)(v + vn - h->value);
    return 0;
}

static int content_length(const struct rtsp_msg *msg, size_t *out)
{
    const char *v;
    size_t n;
    uint64_t cl;

    v = rtsp_msg_header(msg, "Content-Length", &n);
    if (v == NULL) {
        *out = 0;
        return 0;
    }
    if (parse_uint(v, n, (uint64_t)RTSP_MAX_BODY, &cl) != 0) {
        /* All digits but too big is a size problem, not a syntax one. */
        for (size_t i = 0; i < n; i++) {
            if (!is_digit(v[i]))
                return -EBADMSG;
        }
        return n == 0 ? -EBADMSG : -EMSGSIZE;
    }
    *out = (size_t)cl;
    return 0;
}

int rtsp_msg_parse(const uint8_t *buf, size_t len, struct rtsp_msg *msg)
{
    const char *s = (const char *)buf;
    size_t limit = len < RTSP_MAX_HEADER_BYTES ? len : RTSP_MAX_HEADER_BYTES;
    size_t pos = 0, body_len;
    int first = 1, rc;

    memset(msg, 0, sizeof(*msg));
    /* Stray line ends between messages (after a body) are skipped. */
    while (pos < limit && (s[pos] == '\r' || s[pos] == '\n'))
        pos++;
    for (;;) {
        const char *line = s + pos;
        const char *nl = memchr(line, '\n', limit - pos);
        size_t n;

        if (nl == NULL) {
            if (first && !start_plausible(line, limit - pos))
                return -EBADMSG;
            return len >= RTSP_MAX_HEADER_BYTES ? -EMSGSIZE : -EAGAIN;
        }
        n = strip_cr(line, (size_t)(nl - line));
        pos = (size_t)(nl - s) + 1;
        if (first) {
            if (n >= 5 && memcmp(line, "RTSP/", 5) == 0)
                rc = parse_status_line(line, n, msg);
            else
                rc = parse_request_line(line, n, msg);
            if (rc < 0)
                return rc;
            first = 0;
            continue;
        }
        if (n == 0)
            break;
        if (is_ws(line[0]))
            rc = fold_header(line, n, msg);
        else
            rc = add_header(line, n, msg);
        if (rc < 0)
            return rc;
    }
    rc = content_length(msg, &body_len);
    if (rc < 0)
        return rc;
    if (len - pos < body_len)
        return -EAGAIN;
    if (body_len > 0) {
        msg->body = buf + pos;
        msg->body_len = body_len;
    }
    return (int)(pos + body_len);
}

const char *rtsp_msg_header(const struct rtsp_msg *msg, const char *name,
                            size_t *len)
{
    for (size_t i = 0; i < msg->n_headers; i++) {
        const struct rtsp_header *h = &msg->headers[i];

        if (ieq(h->name, h->name_len, name)) {
            if (len)
                *len = h->value_len;
            return h->value;
        }
    }
    return NULL;
}

int rtsp_msg_header_copy(const struct rtsp_msg *msg, const char *name,
                         char *out, size_t out_size)
{
    size_t n;
    const char *v = rtsp_msg_header(msg, name, &n);

    if (v == NULL)
        return -ENOENT;
    if (n >= out_size)
        return -EMSGSIZE;
    memcpy(out, v, n);
    out[n] = '\0';
    return 0;
}

int rtsp_msg_cseq(const struct rtsp_msg *msg, uint32_t *cseq)
{
    size_t n;
    const char *v = rtsp_msg_header(msg, "CSeq", &n);
    uint64_t x;

    if (v == NULL)
        return -ENOENT;
    if (parse_uint(v, n, UINT32_MAX, &x) != 0)
        return -EBADMSG;
    *cseq = (uint32_t)x;
    return 0;
}

int rtsp_interleaved_parse(const uint8_t *buf, size_t len, uint8_t *channel,
                           const uint8_t **payload, size_t *payload_len)
{
    size_t n;

    if (len < 1)
        return -EAGAIN;
    if (buf[0] != '$')
        return -EBADMSG;
    if (len < 4)
        return -EAGAIN;
    n = ((size_t)buf[2] << 8) | buf[3];
    if (len - 4 < n)
        return -EAGAIN;
    *channel = buf[1];
    *payload = buf + 4;
    *payload_len = n;
    return (int)(4 + n);
}

/*
 * Splits [*s, end) at the next `sep` outside double quotes. Sets the item
 * span (trimmed) and advances *s past the separator. Returns 0 at the end.
 */
static int next_item(const char **s, const char *end, char sep,
                     const char **item, size_t *item_len)
{
    const char *p = *s;
    int quoted = 0;

    if (p >= end)
        return 0;
    while (p < end && (quoted || *p != sep)) {
        if (*p == '"')
            quoted = !quoted;
        p++;
    }
    *item = *s;
    *item_len = (size_t)(p - *s);
    trim(item, item_len);
    *s = p < end ? p + 1 : p;
    return 1;
}

/* Splits "name=value" (either side trimmed); value empty if no '='. */
static void split_param(const char *s, size_t n, const char **name,
                        size_t *name_len, const char **value, size_t *value_len)
{
    const char *eq = memchr(s, '=', n);

    *name = s;
    *name_len = eq ? (size_t)(eq - s) : n;
    *value = eq ? eq + 1 : s + n;
    *value_len = eq ? (size_t)(s + n - (eq + 1)) : 0;
    trim(name, name_len);
    trim(value, value_len);
}

int rtsp_parse_session(const char *value, size_t len, char *id, size_t id_size,
                       int *timeout_s)
{
    const char *p = value, *end = value + len, *item, *name, *v;
    size_t item_len, name_len, v_len, n;
    uint64_t t;

    *timeout_s = 60;
    if (!next_item(&p, end, ';', &item, &item_len) || item_len == 0)
        return -EBADMSG;
    if (id_size > 0) {
        n = item_len < id_size - 1 ? item_len : id_size - 1;
        memcpy(id, item, n);
        id[n] = '\0';
    }
    while (next_item(&p, end, ';', &item, &item_len)) {
        split_param(item, item_len, &name, &name_len, &v, &v_len);
        /* A zero or unparseable timeout keeps the RFC default, so that a
         * keepalive period derived from it is never zero. */
        if (ieq(name, name_len, "timeout") &&
            parse_uint(v, v_len, 86400, &t) == 0 && t > 0)
            *timeout_s = (int)t;
    }
    return 0;
}

/* Parses "a-b" (or just "a") port or channel pairs. */
static int parse_pair(const char *s, size_t n, uint64_t max, int out[2])
{
    const char *dash = memchr(s, '-', n);
    const char *a = s, *b;
    size_t an = dash ? (size_t)(dash - s) : n, bn;
    uint64_t x, y;

    trim(&a, &an);
    if (parse_uint(a, an, max, &x) != 0)
        return -EBADMSG;
    y = x + 1;
    if (dash) {
        b = dash + 1;
        bn = (size_t)(s + n - b);
        trim(&b, &bn);
        if (parse_uint(b, bn, max, &y) != 0)
            return -EBADMSG;
    }
    out[0] = (int)x;
    out[1] = (int)y;
    return 0;
}

/*
 * SSRC is 8 hex digits per RFC 2326 12.39, but cameras send fewer digits,
 * spaces ("ssrc= d6d6627") or a "0x" prefix. Returns 0 or -EBADMSG.
 */
static int parse_ssrc(const char *s, size_t n, uint32_t *out)
{
    uint32_t v = 0;
    int digits = 0;
    size_t i = 0;

    while (i < n && is_ws(s[i]))
        i++;
    if (n - i >= 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X'))
        i += 2;
    for (; i < n; i++) {
        int c = lower((unsigned char)s[i]), d;

        if (is_ws((char)c))
            continue;
        if (is_digit((char)c))
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else
            return -EBADMSG;
        if (++digits > 8)
            return -EBADMSG;
        v = (v << 4) | (uint32_t)d;
    }
    if (digits == 0)
        return -EBADMSG;
    *out = v;
    return 0;
}

int rtsp_parse_transport(const char *value, size_t len,
                         struct rtsp_transport *out)
{
    const char *p = value, *end = value + len, *item, *name, *v;
    size_t item_len, name_len, v_len;
    int pair[2];

    memset(out, 0, sizeof(*out));
    /* Only the first transport spec of a comma-separated list matters: a
     * SETUP response carries the one the server chose. */
    for (const char *c = value; c < end; c++) {
        if (*c == ',') {
            end = c;
            break;
        }
    }
    if (!next_item(&p, end, ';', &item, &item_len) || item_len == 0)
        return -EBADMSG;
    while (next_item(&p, end, ';', &item, &item_len)) {
        split_param(item, item_len, &name, &name_len, &v, &v_len);
        if (ieq(name, name_len, "interleaved")) {
            if (parse_pair(v, v_len, 255, pair) != 0)
                return -EBADMSG;
            out->interleaved = 1;
            out->channel_rtp = pair[0];
            out->channel_rtcp = pair[1] > 255 ? 255 : pair[1];
        } else if (ieq(name, name_len, "ssrc")) {
            /* An unusable SSRC is not fatal: the packets carry it too. */
            out->has_ssrc = parse_ssrc(v, v_len, &out->ssrc) == 0;
        } else if (ieq(name, name_len, "client_port")) {
            if (parse_pair(v, v_len, 65535, pair) == 0) {
                out->client_port[0] = pair[0];
                out->client_port[1] = pair[1];
            }
        } else if (ieq(name, name_len, "server_port")) {
            if (parse_pair(v, v_len, 65535, pair) == 0) {
                out->server_port[0] = pair[0];
                out->server_port[1] = pair[1];
            }
        }
    }
    return 0;
}

/*
 * RTP-Info entries are separated by ',', but a url may itself hold commas;
 * an entry starts only at ",url=" (RFC 2326 12.33 puts url first).
 */
static const char *rtpinfo_entry_end(const char *p, const char *end)
{
    for (const char *c = p; c < end; c++) {
        const char *q;

        if (*c != ',')
            continue;
        q = c + 1;
        while (q < end && is_lws(*q))
            q++;
        if (end - q >= 4 && lower((unsigned char)q[0]) == 'u' &&
            lower((unsigned char)q[1]) == 'r' &&
            lower((unsigned char)q[2]) == 'l' && q[3] == '=')
            return c;
        /* A trailing ',' with nothing after it ends the list too. */
        if (q == end)
            return c;
    }
    return end;
}

/* Bytes in [p, end) once trimmed: zero for the empty leftovers of ",,". */
static size_t item_len_total(const char *p, const char *end)
{
    size_t n = (size_t)(end - p);

    trim(&p, &n);
    return n;
}

int rtsp_parse_rtpinfo(const char *value, size_t len, struct rtsp_rtpinfo *out)
{
    const char *p = value, *end = value + len;

    memset(out, 0, sizeof(*out));
    while (p < end && out->n < RTSP_MAX_RTPINFO) {
        const char *e_end = rtpinfo_entry_end(p, end);
        const char *q = p, *item, *name, *v;
        size_t item_len, name_len, v_len;
        uint64_t x;
        int has_url = 0, idx = out->n;

        while (next_item(&q, e_end, ';', &item, &item_len)) {
            split_param(item, item_len, &name, &name_len, &v, &v_len);
            if (ieq(name, name_len, "url")) {
                if (v_len >= sizeof(out->entries[idx].url))
                    return -EBADMSG;
                memcpy(out->entries[idx].url, v, v_len);
                out->entries[idx].url[v_len] = '\0';
                has_url = 1;
            } else if (ieq(name, name_len, "seq")) {
                if (parse_uint(v, v_len, UINT16_MAX, &x) == 0) {
                    out->entries[idx].has_seq = 1;
                    out->entries[idx].seq = (uint16_t)x;
                }
            } else if (ieq(name, name_len, "rtptime")) {
                if (parse_uint(v, v_len, UINT32_MAX, &x) == 0) {
                    out->entries[idx].has_rtptime = 1;
                    out->entries[idx].rtptime = (uint32_t)x;
                }
            } else if (ieq(name, name_len, "ssrc")) {
                out->entries[idx].has_ssrc =
                    parse_ssrc(v, v_len, &out->entries[idx].ssrc) == 0;
            }
        }
        if (has_url || item_len_total(p, e_end) != 0)
            out->n++;
        else
            memset(&out->entries[idx], 0, sizeof(out->entries[idx]));
        p = e_end < end ? e_end + 1 : end;
    }
    return 0;
}
