/* SPDX-License-Identifier: MIT */
/*
 * RTSP authentication: Basic and Digest (RFC 2617; MD5, with qop=auth or
 * without qop). Pure apart from MD5 (libavutil) and base64.
 */
#ifndef NVR_INGEST_RTSP_AUTH_H
#define NVR_INGEST_RTSP_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/rtsp_msg.h"

enum rtsp_auth_scheme {
    RTSP_AUTH_NONE = 0,
    RTSP_AUTH_BASIC,
    RTSP_AUTH_DIGEST,
};

/*
 * Which schemes the client may answer (a camera's `auth` key). Basic sends
 * the password in clear text (base64), so it is only used when allowed.
 */
enum rtsp_auth_policy {
    RTSP_AUTH_POLICY_DIGEST = 0, /* Digest only (the default) */
    RTSP_AUTH_POLICY_BASIC,      /* Basic only */
    RTSP_AUTH_POLICY_ANY,        /* either, Digest when both are offered */
};

/* "digest", "basic", "any" */
const char *rtsp_auth_policy_name(enum rtsp_auth_policy p);

/* "none", "basic", "digest" */
const char *rtsp_auth_scheme_name(enum rtsp_auth_scheme s);

struct rtsp_auth {
    enum rtsp_auth_policy policy; /* set by the owner; never changed here */
    enum rtsp_auth_scheme scheme;
    char realm[128];
    char nonce[256];
    char opaque[256];
    int has_opaque;
    int qop_auth;    /* the server offered qop=auth */
    uint32_t nc;     /* nonce count, incremented per request */
    char cnonce[33]; /* client nonce; set by the caller (tests fix it) */
};

/*
 * Reads every WWW-Authenticate header of a 401 response and keeps the
 * strongest scheme offered that auth->policy allows (Digest MD5 over
 * Basic). Resets nc when the nonce changes. Returns 0, -EKEYREJECTED if
 * the camera offers only schemes the policy refuses (auth is then left
 * as it was), -ENOTSUP if only unsupported schemes (or algorithms) are
 * offered, or -EBADMSG if none parses.
 */
int rtsp_auth_parse_challenge(const struct rtsp_msg *resp,
                              struct rtsp_auth *auth);

/*
 * Writes the Authorization header value (without "Authorization: ") for one
 * request into out. Digest increments auth->nc when qop=auth (only on
 * success) and, if auth->cnonce is empty, fills it from a random seed.
 * Returns 0, -EMSGSIZE (out too small, or user/pass/uri too long to hash),
 * or -EINVAL if no challenge was accepted (scheme NONE).
 * `user`/`pass` are borrowed.
 */
int rtsp_auth_header(struct rtsp_auth *auth, const char *method,
                     const char *uri, const char *user, const char *pass,
                     char *out, size_t out_size);

#endif
