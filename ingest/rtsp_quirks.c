/* SPDX-License-Identifier: MIT */
/*
 * The RTSP session's decisions about camera quirks (CAMERA-QUIRKS.md,
 * "RTSP session"), kept apart from the libuv state machine in
 * rtsp_session.c so each one is a pure function a unit test can drive:
 * the base URL when Content-Base has no scheme, which Session id to keep
 * when a camera changes it between SETUPs, the keepalive period and
 * method, what a 401 means the second time, and which error a refusing
 * status code becomes (a camera still holding a session that TEARDOWN did
 * not end refuses a new one for about a minute: that is retried).
 */
#include "config.h"

#include "ingest/ingest_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ingest/rtsp_msg.h"

static int has_scheme(const char *v)
{
    return strncasecmp(v, "rtsp://", 7) == 0 ||
           strncasecmp(v, "rtsps://", 8) == 0;
}

int rtsp_quirks_base_url(const char *req_url, const char *content_base,
                         char *out, size_t out_size)
{
    const char *path, *auth_end;
    size_t auth_len;
    int r;

    if (!content_base || !content_base[0]) {
        r = snprintf(out, out_size, "%s", req_url);
    } else if (has_scheme(content_base)) {
        r = snprintf(out, out_size, "%s", content_base);
    } else {
        /* No scheme: Anjvision sends "192.168.1.10:554/stream0/", others a
         * bare "/path/". The camera may not know the address it is reached
         * by, so only the path is kept, after the authority we connected
         * to. A value with no path at all is ignored. */
        path =
            content_base[0] == '/' ? content_base : strchr(content_base, '/');
        if (!path) {
            r = snprintf(out, out_size, "%s", req_url);
        } else {
            /* req_url always has a scheme: "rtsp://authority[/path]". */
            auth_end = strstr(req_url, "://");
            auth_end = strchr(auth_end ? auth_end + 3 : req_url, '/');
            auth_len =
                auth_end ? (size_t)(auth_end - req_url) : strlen(req_url);
            r = snprintf(out, out_size, "%.*s%s", (int)auth_len, req_url, path);
        }
    }
    return r < 0 || (size_t)r >= out_size ? -EMSGSIZE : 0;
}

int rtsp_quirks_session_id(const char *value, size_t len, char *id,
                           size_t id_size, int *timeout_s)
{
    char tmp[256];
    int t = RTSP_SESSION_DEFAULT_TIMEOUT_S;

    /* Some cameras answer each SETUP with a new id; requests carrying any
     * id but the first are refused by others, so the first one wins. */
    if (id[0])
        return 0;
    if (rtsp_parse_session(value, len, tmp, sizeof(tmp), &t) < 0 || !tmp[0])
        return -EBADMSG;
    if (strlen(tmp) >= id_size)
        return -EMSGSIZE;
    memcpy(id, tmp, strlen(tmp) + 1);
    *timeout_s = t > 0 ? t : RTSP_SESSION_DEFAULT_TIMEOUT_S;
    return 1;
}

uint64_t rtsp_quirks_keepalive_ms(int session_timeout_s)
{
    uint64_t ms;

    if (session_timeout_s <= 0)
        session_timeout_s = RTSP_SESSION_DEFAULT_TIMEOUT_S;
    ms = (uint64_t)session_timeout_s * 1000 / 2;
    if (ms < 1000)
        ms = 1000;
    if (ms > RTSP_SESSION_KEEPALIVE_MAX_MS)
        ms = RTSP_SESSION_KEEPALIVE_MAX_MS;
    return ms;
}

const char *rtsp_quirks_keepalive_method(const char *public_hdr, size_t len)
{
    static const char want[] = "GET_PARAMETER";
    size_t i = 0;

    /* Some cameras drop the connection on a GET_PARAMETER they do not
     * know: it is sent only when Public lists it, as a whole token. */
    while (public_hdr && i < len) {
        size_t start, end;

        while (i < len && (public_hdr[i] == ' ' || public_hdr[i] == '\t' ||
                           public_hdr[i] == ','))
            i++;
        start = i;
        while (i < len && public_hdr[i] != ',')
            i++;
        end = i;
        while (end > start &&
               (public_hdr[end - 1] == ' ' || public_hdr[end - 1] == '\t'))
            end--;
        if (end - start == sizeof(want) - 1 &&
            strncasecmp(public_hdr + start, want, sizeof(want) - 1) == 0)
            return "GET_PARAMETER";
    }
    return "OPTIONS";
}

int rtsp_quirks_tcp_refused(int status)
{
    return status == 461 || status == 400;
}

enum rtsp_quirks_auth rtsp_quirks_on_401(int have_credentials, int retried)
{
    if (!have_credentials)
        return RTSP_QUIRKS_AUTH_NEED_CREDENTIALS;
    /* A second 401 after an answered challenge means the password is
     * wrong: retrying at once could lock the camera's account. */
    if (retried)
        return RTSP_QUIRKS_AUTH_REFUSED;
    return RTSP_QUIRKS_AUTH_ANSWER;
}

int rtsp_quirks_status_errno(int status)
{
    switch (status) {
    case 401:
    case 403:
        return -EACCES;
    case 404:
        return -ENOENT;
    case 461:
        return -ENOTSUP;
    case 453: /* Not Enough Bandwidth: an old session still holds it */
    case 454: /* Session Not Found */
    case 503: /* Service Unavailable */
        return -EBUSY;
    default:
        return -EPROTO;
    }
}
