/* SPDX-License-Identifier: MIT */
/*
 * Tests of RTSP authentication: RFC 2617's worked example, Digest without
 * qop, Basic, a real camera's challenge and the choice between schemes.
 * Expected digests without a published vector were computed with md5sum.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ingest/rtsp_auth.h"
#include "ingest/rtsp_msg.h"

#define RFC_NONCE  "dcd98b7102dd2f0e8b11d0f600bfb0c093"
#define RFC_OPAQUE "5ccc069c403ebaf9f0171e9517f40e41"

/* Parses a 401 built from the given header lines; the text must outlive
 * the message, so callers pass string literals or long-lived buffers. */
static void parse_401(const char *text, struct rtsp_msg *msg)
{
    int rc = rtsp_msg_parse((const uint8_t *)text, strlen(text), msg);

    assert_int_equal(rc, (int)strlen(text));
    assert_int_equal(msg->status, 401);
}

static void test_rtsp_auth_rfc2617_example(void **state)
{
    static const char resp[] = "RTSP/1.0 401 Unauthorized\r\n"
                               "CSeq: 2\r\n"
                               "WWW-Authenticate: Digest\r\n"
                               "        realm=\"testrealm@host.com\",\r\n"
                               "        qop=\"auth,auth-int\",\r\n"
                               "        nonce=\"" RFC_NONCE "\",\r\n"
                               "        opaque=\"" RFC_OPAQUE "\"\r\n"
                               "\r\n";
    struct rtsp_msg msg;
    struct rtsp_auth auth;
    char out[1024];

    (void)state;
    memset(&auth, 0, sizeof(auth));
    parse_401(resp, &msg);
    assert_int_equal(rtsp_auth_parse_challenge(&msg, &auth), 0);
    assert_int_equal(auth.scheme, RTSP_AUTH_DIGEST);
    assert_string_equal(auth.realm, "testrealm@host.com");
    assert_string_equal(auth.nonce, RFC_NONCE);
    assert_string_equal(auth.opaque, RFC_OPAQUE);
    assert_int_equal(auth.has_opaque, 1);
    assert_int_equal(auth.qop_auth, 1);
    assert_int_equal(auth.nc, 0);
    strcpy(auth.cnonce, "0a4f113b");
    assert_int_equal(rtsp_auth_header(&auth, "GET", "/dir/index.html", "Mufasa",
                                      "Circle Of Life", out, sizeof(out)),
                     0);
    assert_string_equal(out, "Digest username=\"Mufasa\", "
                             "realm=\"testrealm@host.com\", "
                             "nonce=\"" RFC_NONCE "\", "
                             "uri=\"/dir/index.html\", "
                             "response=\"6629fae49393a05397450978507c4ef1\", "
                             "opaque=\"" RFC_OPAQUE "\", "
                             "qop=auth, nc=00000001, cnonce=\"0a4f113b\"");
    assert_int_equal(auth.nc, 1);
    /* The next request counts on. */
    assert_int_equal(rtsp_auth_header(&auth, "GET", "/dir/index.html", "Mufasa",
                                      "Circle Of Life", out, sizeof(out)),
                     0);
    assert_non_null(
        strstr(out, "response=\"15b6bb427e3fecd23a43cb702ce447d5\""));
    assert_non_null(strstr(out, "nc=00000002"));
    assert_int_equal(auth.nc, 2);
    /* The same nonce again keeps the count; a new one restarts it. */
    assert_int_equal(rtsp_auth_parse_challenge(&msg, &auth), 0);
    assert_int_equal(auth.nc, 2);
    strcpy(auth.nonce, "other");
    assert_int_equal(rtsp_auth_parse_challenge(&msg, &auth), 0);
    assert_int_equal(auth.nc, 0);
    assert_string_equal(auth.cnonce, "0a4f113b");
}

static void test_rtsp_auth_digest_no_qop(void **state)
{
    static const char resp[] =
        "RTSP/1.0 401 Unauthorized\r\n"
        "WWW-Authenticate: Digest realm=\"testrealm@host.com\", "
        "nonce=\"" RFC_NONCE "\", algorithm=MD5\r\n"
        "\r\n";
    struct rtsp_msg msg;
    struct rtsp_auth auth;
    char out[1024];

    (void)state;
    memset(&auth, 0, sizeof(auth));
    parse_401(resp, &msg);
    assert_int_equal(rtsp_auth_parse_challenge(&msg, &auth), 0);
    assert_int_equal(auth.scheme, RTSP_AUTH_DIGEST);
    assert_int_equal(auth.qop_auth, 0);
    assert_int_equal(auth.has_opaque, 0);
    assert_int_equal(rtsp_auth_header(&auth, "GET", "/dir/index.html", "Mufasa",
                                      "Circle Of Life", out, sizeof(out)),
                     0);
    assert_string_equal(out, "Digest username=\"Mufasa\", "
                             "realm=\"testrealm@host.com\", "
                             "nonce=\"" RFC_NONCE "\", "
                             "uri=\"/dir/index.html\", "
                             "response=\"670fd8c2df070c60b045671b8b24ff02\"");
    assert_int_equal(auth.nc, 0);
    assert_null(strstr(out, "qop"));
    assert_null(strstr(out, "cnonce"));
}

static void test_rtsp_auth_longse(void **state)
{
    const char *dir = getenv("NVR_REALCAM_DIR");
    char path[1024], buf[1024];
    struct rtsp_msg msg;
    struct rtsp_auth auth;
    char out[1024];
    size_t n;
    FILE *f;

    (void)state;
    assert_non_null(dir);
    snprintf(path, sizeof(path), "%s/longse_unauthorized.txt", dir);
    f = fopen(path, "rb");
    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    assert_true(rtsp_msg_parse((uint8_t *)buf, n, &msg) > 0);
    memset(&auth, 0, sizeof(auth));
    assert_int_equal(rtsp_auth_parse_challenge(&msg, &auth), 0);
    assert_int_equal(auth.scheme, RTSP_AUTH_DIGEST);
    assert_string_equal(auth.realm, "Surveillance Server");
    assert_string_equal(auth.nonce, "98481030");
    assert_int_equal(auth.qop_auth, 0);
    assert_int_equal(rtsp_auth_header(&auth, "DESCRIBE",
                                      "rtsp://127.0.0.1:554/live", "admin",
                                      "12345", out, sizeof(out)),
                     0);
    assert_string_equal(out, "Digest username=\"admin\", "
                             "realm=\"Surveillance Server\", "
                             "nonce=\"98481030\", "
                             "uri=\"rtsp://127.0.0.1:554/live\", "
                             "response=\"9b033cabd740dcb587d2e547c8b7f7c4\"");
}

static void test_rtsp_auth_basic(void **state)
{
    static const char resp[] = "RTSP/1.0 401 Unauthorized\r\n"
                               "WWW-Authenticate: Basic realm=\"cam\"\r\n"
                               "\r\n";
    struct rtsp_msg msg;
    struct rtsp_auth auth;
    char out[64];

    (void)state;
    memset(&auth, 0, sizeof(auth));
    auth.policy = RTSP_AUTH_POLICY_BASIC;
    parse_401(resp, &msg);
    assert_int_equal(rtsp_auth_parse_challenge(&msg, &auth), 0);
    assert_int_equal(auth.scheme, RTSP_AUTH_BASIC);
    assert_string_equal(auth.realm, "cam");
    assert_int_equal(rtsp_auth_header(&auth, "OPTIONS", "*", "Aladdin",
                                      "open sesame", out, sizeof(out)),
                     0);
    assert_string_equal(out, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    assert_int_equal(rtsp_auth_header(&auth, "OPTIONS", "*", "Aladdin",
                                      "open sesame", out, 20),
                     -EMSGSIZE);
}

static void test_rtsp_auth_prefers_digest(void **state)
{
    static const char basic_first[] =
        "RTSP/1.0 401 Unauthorized\r\n"
        "WWW-Authenticate: Basic realm=\"cam\"\r\n"
        "WWW-Authenticate: Digest realm=\"cam\", nonce=\"n1\"\r\n"
        "\r\n";
    static const char digest_first[] =
        "RTSP/1.0 401 Unauthorized\r\n"
        "WWW-Authenticate: Digest realm=\"cam\", nonce=\"n2\"\r\n"
        "WWW-Authenticate: Basic realm=\"cam\"\r\n"
        "\r\n";
    static const char sha_and_basic[] =
        "RTSP/1.0 401 Unauthorized\r\n"
        "WWW-Authenticate: Digest realm=\"cam\", nonce=\"n3\", "
        "algorithm=SHA-256\r\n"
        "WWW-Authenticate: Basic realm=\"cam\"\r\n"
        "\r\n";
    struct rtsp_msg msg;
    struct rtsp_auth auth;

    (void)state;
    memset(&auth, 0, sizeof(auth));
    parse_401(basic_first, &msg);
    assert_int_equal(rtsp_auth_parse_challenge(&msg, &auth), 0);
    assert_int_equal(auth.scheme, RTSP_AUTH_DIGEST);
    assert_string_equal(auth.nonce, "n1");
    parse_401(digest_first, &msg);
    assert_int_equal(rtsp_auth_parse_challenge(&msg, &auth), 0);
    assert_int_equal(auth.scheme, RTSP_AUTH_DIGEST);
    assert_string_equal(auth.nonce, "n2");
    auth.policy = RTSP_AUTH_POLICY_ANY;
    parse_401(sha_and_basic, &msg);
    assert_int_equal(rtsp_auth_parse_challenge(&msg, &auth), 0);
    assert_int_equal(auth.scheme, RTSP_AUTH_BASIC);
}

/* The policy decides which schemes are answered at all: Basic only when
 * allowed, Digest only when allowed, and a refusal leaves auth alone. */
static void test_rtsp_auth_policy(void **state)
{
    static const char basic[] = "RTSP/1.0 401 Unauthorized\r\n"
                                "WWW-Authenticate: Basic realm=\"cam\"\r\n"
                                "\r\n";
    static const char digest[] =
        "RTSP/1.0 401 Unauthorized\r\n"
        "WWW-Authenticate: Digest realm=\"cam\", nonce=\"n1\"\r\n"
        "\r\n";
    static const char both[] =
        "RTSP/1.0 401 Unauthorized\r\n"
        "WWW-Authenticate: Basic realm=\"cam\"\r\n"
        "WWW-Authenticate: Digest realm=\"cam\", nonce=\"n2\"\r\n"
        "\r\n";
    struct rtsp_msg msg;
    struct rtsp_auth auth;

    (void)state;
    memset(&auth, 0, sizeof(auth));
    assert_int_equal(auth.policy, RTSP_AUTH_POLICY_DIGEST);
    parse_401(basic, &msg);
    assert_int_equal(rtsp_auth_parse_challenge(&msg, &auth), -EKEYREJECTED);
    assert_int_equal(auth.scheme, RTSP_AUTH_NONE);
    parse_401(both, &msg);
    assert_int_equal(rtsp_auth_parse_challenge(&msg, &auth), 0);
    assert_int_equal(auth.scheme, RTSP_AUTH_DIGEST);
    /* A later Basic-only challenge does not downgrade the kept one. */
    parse_401(basic, &msg);
    assert_int_equal(rtsp_auth_parse_challenge(&msg, &auth), -EKEYREJECTED);
    assert_int_equal(auth.scheme, RTSP_AUTH_DIGEST);
    assert_string_equal(auth.nonce, "n2");

    memset(&auth, 0, sizeof(auth));
    auth.policy = RTSP_AUTH_POLICY_BASIC;
    parse_401(digest, &msg);
    assert_int_equal(rtsp_auth_parse_challenge(&msg, &auth), -EKEYREJECTED);
    parse_401(both, &msg);
    assert_int_equal(rtsp_auth_parse_challenge(&msg, &auth), 0);
    assert_int_equal(auth.scheme, RTSP_AUTH_BASIC);
    assert_int_equal(auth.policy, RTSP_AUTH_POLICY_BASIC);

    memset(&auth, 0, sizeof(auth));
    auth.policy = RTSP_AUTH_POLICY_ANY;
    parse_401(basic, &msg);
    assert_int_equal(rtsp_auth_parse_challenge(&msg, &auth), 0);
    assert_int_equal(auth.scheme, RTSP_AUTH_BASIC);
    parse_401(both, &msg);
    assert_int_equal(rtsp_auth_parse_challenge(&msg, &auth), 0);
    assert_int_equal(auth.scheme, RTSP_AUTH_DIGEST);

    assert_string_equal(rtsp_auth_policy_name(RTSP_AUTH_POLICY_DIGEST),
                        "digest");
    assert_string_equal(rtsp_auth_policy_name(RTSP_AUTH_POLICY_BASIC), "basic");
    assert_string_equal(rtsp_auth_policy_name(RTSP_AUTH_POLICY_ANY), "any");
    assert_string_equal(rtsp_auth_scheme_name(RTSP_AUTH_NONE), "none");
}

static void test_rtsp_auth_unsupported(void **state)
{
    static const char ntlm[] = "RTSP/1.0 401 Unauthorized\r\n"
                               "WWW-Authenticate: NTLM\r\n"
                               "WWW-Authenticate: Negotiate abc=\r\n"
                               "\r\n";
    static const char sha[] = "RTSP/1.0 401 Unauthorized\r\n"
                              "WWW-Authenticate: Digest realm=\"r\", "
                              "nonce=\"n\", algorithm=MD5-sess\r\n"
                              "\r\n";
    static const char auth_int[] = "RTSP/1.0 401 Unauthorized\r\n"
                                   "WWW-Authenticate: Digest realm=\"r\", "
                                   "nonce=\"n\", qop=\"auth-int\"\r\n"
                                   "\r\n";
    static const char none[] = "RTSP/1.0 401 Unauthorized\r\n"
                               "CSeq: 1\r\n"
                               "\r\n";
    static const char no_nonce[] = "RTSP/1.0 401 Unauthorized\r\n"
                                   "WWW-Authenticate: Digest realm=\"r\"\r\n"
                                   "\r\n";
    static const char unterminated[] =
        "RTSP/1.0 401 Unauthorized\r\n"
        "WWW-Authenticate: Digest nonce=\"n\", realm=\"r\r\n"
        "\r\n";
    struct rtsp_msg msg;
    struct rtsp_auth auth;

    (void)state;
    memset(&auth, 0, sizeof(auth));
    parse_401(ntlm, &msg);
    assert_int_equal(rtsp_auth_parse_challenge(&msg, &auth), -ENOTSUP);
    parse_401(sha, &msg);
    assert_int_equal(rtsp_auth_parse_challenge(&msg, &auth), -ENOTSUP);
    parse_401(auth_int, &msg);
    assert_int_equal(rtsp_auth_parse_challenge(&msg, &auth), -ENOTSUP);
    parse_401(none, &msg);
    assert_int_equal(rtsp_auth_parse_challenge(&msg, &auth), -EBADMSG);
    parse_401(no_nonce, &msg);
    assert_int_equal(rtsp_auth_parse_challenge(&msg, &auth), -EBADMSG);
    parse_401(unterminated, &msg);
    assert_int_equal(rtsp_auth_parse_challenge(&msg, &auth), -EBADMSG);
    assert_int_equal(auth.scheme, RTSP_AUTH_NONE);
}

static void test_rtsp_auth_quoted_escapes(void **state)
{
    static const char resp[] =
        "RTSP/1.0 401 Unauthorized\r\n"
        "WWW-Authenticate: Digest realm=\"a \\\"quoted\\\", realm\","
        "nonce=abc123,stale=FALSE, qop=auth\r\n"
        "\r\n";
    struct rtsp_msg msg;
    struct rtsp_auth auth;
    char out[512];

    (void)state;
    memset(&auth, 0, sizeof(auth));
    parse_401(resp, &msg);
    assert_int_equal(rtsp_auth_parse_challenge(&msg, &auth), 0);
    assert_string_equal(auth.realm, "a \"quoted\", realm");
    assert_string_equal(auth.nonce, "abc123");
    assert_int_equal(auth.qop_auth, 1);
    /* With no cnonce set, one is generated. */
    assert_int_equal(rtsp_auth_header(&auth, "OPTIONS", "rtsp://127.0.0.1/",
                                      "u\"ser", "p", out, sizeof(out)),
                     0);
    assert_true(strlen(auth.cnonce) >= 8);
    assert_non_null(strstr(out, "username=\"u\\\"ser\""));
    assert_non_null(strstr(out, "realm=\"a \\\"quoted\\\", realm\""));
    assert_int_equal(rtsp_auth_header(&auth, "OPTIONS", "rtsp://127.0.0.1/",
                                      "u", "p", out, 40),
                     -EMSGSIZE);
    /* A failed write does not consume a nonce count. */
    assert_int_equal(auth.nc, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rtsp_auth_rfc2617_example),
        cmocka_unit_test(test_rtsp_auth_digest_no_qop),
        cmocka_unit_test(test_rtsp_auth_longse),
        cmocka_unit_test(test_rtsp_auth_basic),
        cmocka_unit_test(test_rtsp_auth_prefers_digest),
        cmocka_unit_test(test_rtsp_auth_policy),
        cmocka_unit_test(test_rtsp_auth_unsupported),
        cmocka_unit_test(test_rtsp_auth_quoted_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
