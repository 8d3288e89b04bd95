/* SPDX-License-Identifier: MIT */
/*
 * Tests of the RTSP message parser, the '$' interleaved framing and the
 * Session/Transport/RTP-Info helpers, against real camera responses
 * (NVR_REALCAM_DIR) fed whole and cut at every byte, plus synthetic
 * malformed and oversized input.
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

#include "ingest/rtsp_msg.h"

static uint8_t *read_realcam(const char *name, size_t *len)
{
    const char *dir = getenv("NVR_REALCAM_DIR");
    char path[1024];
    uint8_t *buf;
    FILE *f;
    long n;

    assert_non_null(dir);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static int parse_str(const char *s, struct rtsp_msg *msg)
{
    return rtsp_msg_parse((const uint8_t *)s, strlen(s), msg);
}

static void assert_span(const char *p, size_t n, const char *want)
{
    assert_non_null(p);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(p, want, n);
}

static void assert_header(const struct rtsp_msg *msg, const char *name,
                          const char *want)
{
    size_t n = 0;
    const char *v = rtsp_msg_header(msg, name, &n);

    assert_span(v, n, want);
}

/* The message length a correct parser must report: head + Content-Length
 * (several captures hold more SDP than their Content-Length says). */
static size_t expected_len(const uint8_t *buf, size_t len)
{
    const char *s = (const char *)buf;
    size_t head = 0, cl = 0;

    for (size_t i = 0; i + 4 <= len; i++) {
        if (memcmp(s + i, "\r\n\r\n", 4) == 0) {
            head = i + 4;
            break;
        }
    }
    assert_true(head > 0);
    for (size_t i = 0; i + 16 < head; i++) {
        if (strncmp(s + i, "\nContent-Length:", 16) == 0)
            cl = (size_t)strtoul(s + i + 16, NULL, 10);
    }
    return head + cl;
}

/* Parses a file whole, then every strict prefix as an exact-size heap
 * copy (so ASan flags any read past len): each must ask for more. */
static void parse_file(const char *name, struct rtsp_msg *msg)
{
    size_t len, want;
    uint8_t *buf = read_realcam(name, &len);
    struct rtsp_msg again;
    int rc;

    want = expected_len(buf, len);
    rc = rtsp_msg_parse(buf, len, msg);
    assert_int_equal(rc, (int)want);
    assert_int_equal(msg->is_response, 1);
    for (size_t k = 0; k < want; k++) {
        uint8_t *part = malloc(k ? k : 1);

        assert_non_null(part);
        memcpy(part, buf, k);
        rc = rtsp_msg_parse(part, k, &again);
        if (rc != -EAGAIN)
            fail_msg("%s: prefix %zu gave %d", name, k, rc);
        free(part);
    }
    {
        uint8_t *exact = malloc(want ? want : 1);

        assert_non_null(exact);
        memcpy(exact, buf, want);
        assert_int_equal(rtsp_msg_parse(exact, want, &again), (int)want);
        assert_int_equal(again.status, msg->status);
        assert_int_equal(again.n_headers, msg->n_headers);
        assert_int_equal(again.body_len, msg->body_len);
        for (size_t i = 0; i < msg->n_headers; i++) {
            assert_int_equal(again.headers[i].value_len,
                             msg->headers[i].value_len);
            assert_memory_equal(again.headers[i].value, msg->headers[i].value,
                                msg->headers[i].value_len);
        }
        free(exact);
    }
    /* Borrowed spans point into buf; keep a copy of what the caller reads
     * by re-parsing a buffer that outlives this function. */
    free(buf);
}

/* Parses a file and keeps its buffer alive for the caller (freed by it). */
static uint8_t *load_msg(const char *name, struct rtsp_msg *msg)
{
    size_t len;
    uint8_t *buf = read_realcam(name, &len);

    assert_true(rtsp_msg_parse(buf, len, msg) > 0);
    return buf;
}

static void test_rtsp_msg_all_files_split(void **state)
{
    static const char *const files[] = {
        "anjvision_describe.txt",
        "bunny_describe.txt",
        "bunny_play.txt",
        "bunny_setup.txt",
        "dahua_describe_h264_aac_onvif.txt",
        "dahua_describe_h265_pcma.txt",
        "dahua_options.txt",
        "dahua_play.txt",
        "dahua_setup.txt",
        "foscam_describe.txt",
        "gw_main_describe.txt",
        "gw_main_play.txt",
        "gw_main_setup_audio.txt",
        "gw_main_setup_video.txt",
        "gw_sub_describe.txt",
        "gw_sub_play.txt",
        "gw_sub_setup.txt",
        "hikvision_describe.txt",
        "hikvision_play.txt",
        "hikvision_setup.txt",
        "longse_unauthorized.txt",
        "reolink_describe.txt",
        "reolink_describe_control_first.txt",
        "reolink_play.txt",
        "reolink_setup.txt",
        "reolink_teardown.txt",
        "vstarcam_describe.txt",
    };
    struct rtsp_msg msg;

    (void)state;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        parse_file(files[i], &msg);
        if (strstr(files[i], "longse"))
            assert_int_equal(msg.status, 401);
        else
            assert_int_equal(msg.status, 200);
    }
}

static void test_rtsp_msg_describe_body(void **state)
{
    struct rtsp_msg msg;
    uint8_t *buf = load_msg("hikvision_describe.txt", &msg);
    uint32_t cseq;

    (void)state;
    assert_span(msg.reason, msg.reason_len, "OK");
    assert_int_equal(rtsp_msg_cseq(&msg, &cseq), 0);
    assert_int_equal(cseq, 1);
    assert_header(&msg, "content-base",
                  "rtsp://192.168.5.106:554/Streaming/Channels/101/");
    assert_non_null(msg.body);
    assert_int_equal(msg.body_len, 902);
    assert_memory_equal(msg.body, "v=0\r\n", 5);
    free(buf);
}

static void test_rtsp_msg_cseq_trailing_space(void **state)
{
    struct rtsp_msg msg;
    uint8_t *buf = load_msg("longse_unauthorized.txt", &msg);
    uint32_t cseq = 0;
    char copy[8];

    (void)state;
    assert_int_equal(msg.status, 401);
    assert_span(msg.reason, msg.reason_len, "Unauthorized");
    assert_header(&msg, "CSeq", "1");
    assert_int_equal(rtsp_msg_cseq(&msg, &cseq), 0);
    assert_int_equal(cseq, 1);
    assert_null(msg.body);
    assert_int_equal(rtsp_msg_header_copy(&msg, "CSeq", copy, sizeof(copy)), 0);
    assert_string_equal(copy, "1");
    assert_int_equal(rtsp_msg_header_copy(&msg, "Server", copy, sizeof(copy)),
                     -EMSGSIZE);
    assert_int_equal(rtsp_msg_header_copy(&msg, "Session", copy, 8), -ENOENT);
    free(buf);
}

static void check_session(const char *file, const char *want_id,
                          int want_timeout)
{
    struct rtsp_msg msg;
    uint8_t *buf = load_msg(file, &msg);
    const char *v;
    size_t n;
    char id[64];
    int timeout = -1;

    v = rtsp_msg_header(&msg, "Session", &n);
    assert_non_null(v);
    assert_int_equal(rtsp_parse_session(v, n, id, sizeof(id), &timeout), 0);
    assert_string_equal(id, want_id);
    assert_int_equal(timeout, want_timeout);
    free(buf);
}

static void test_rtsp_msg_session(void **state)
{
    char id[4];
    int timeout;

    (void)state;
    check_session("hikvision_setup.txt", "708345999", 60);
    check_session("hikvision_play.txt", "708345999", 60);
    check_session("dahua_setup.txt", "634214675641", 60);
    check_session("dahua_options.txt", "136527041864", 60);
    check_session("gw_main_play.txt", "9a90de54", 120);
    check_session("gw_main_setup_video.txt", "9a90de54", 60);
    check_session("reolink_setup.txt", "F8F8E425", 60);
    check_session("bunny_setup.txt", "1642021126", 60);
    /* Truncation to the caller's buffer, and odd timeouts. */
    assert_int_equal(
        rtsp_parse_session("abcdef;timeout=5", 16, id, sizeof(id), &timeout),
        0);
    assert_string_equal(id, "abc");
    assert_int_equal(timeout, 5);
    assert_int_equal(
        rtsp_parse_session("ab;timeout=0", 12, id, sizeof(id), &timeout), 0);
    assert_int_equal(timeout, 60);
    assert_int_equal(
        rtsp_parse_session("ab;timeout=x", 12, id, sizeof(id), &timeout), 0);
    assert_int_equal(timeout, 60);
    assert_int_equal(
        rtsp_parse_session(" ;timeout=5", 11, id, sizeof(id), &timeout),
        -EBADMSG);
    assert_int_equal(rtsp_parse_session("", 0, id, sizeof(id), &timeout),
                     -EBADMSG);
}

static void check_transport_file(const char *file, int ch0, int ch1,
                                 int has_ssrc, uint32_t ssrc)
{
    struct rtsp_msg msg;
    uint8_t *buf = load_msg(file, &msg);
    struct rtsp_transport t;
    const char *v;
    size_t n;

    v = rtsp_msg_header(&msg, "Transport", &n);
    assert_non_null(v);
    assert_int_equal(rtsp_parse_transport(v, n, &t), 0);
    assert_int_equal(t.interleaved, 1);
    assert_int_equal(t.channel_rtp, ch0);
    assert_int_equal(t.channel_rtcp, ch1);
    assert_int_equal(t.has_ssrc, has_ssrc);
    if (has_ssrc)
        assert_int_equal(t.ssrc, ssrc);
    free(buf);
}

static void check_transport(const char *v, int has_ssrc, uint32_t ssrc)
{
    struct rtsp_transport t;

    assert_int_equal(rtsp_parse_transport(v, strlen(v), &t), 0);
    assert_int_equal(t.has_ssrc, has_ssrc);
    if (has_ssrc)
        assert_int_equal(t.ssrc, ssrc);
}

static void test_rtsp_msg_transport(void **state)
{
    struct rtsp_transport t;
    const char *udp = "RTP/AVP;unicast;client_port=5000-5001;"
                      "server_port=6970-6971;ssrc=DEADBEEF";

    (void)state;
    check_transport_file("hikvision_setup.txt", 0, 1, 1, 0x4cacc3d1);
    check_transport_file("dahua_setup.txt", 0, 1, 1, 0x30A98EE7);
    check_transport_file("gw_main_setup_audio.txt", 2, 3, 0, 0);
    check_transport_file("reolink_setup.txt", 0, 1, 0, 0);
    check_transport_file("bunny_setup.txt", 0, 1, 0, 0);
    /* Hikvision firmware with a space (and 7 digits) in the SSRC. */
    check_transport("RTP/AVP/TCP;unicast;interleaved=0-1;ssrc= d6d6627", 1,
                    0x0d6d6627);
    check_transport("RTP/AVP/TCP;interleaved=0-1;ssrc=0x00AB12CD", 1, 0xab12cd);
    check_transport("RTP/AVP/TCP;interleaved=0-1;ssrc=1234", 1, 0x1234);
    check_transport("RTP/AVP/TCP;interleaved=0-1;ssrc=123456789", 0, 0);
    check_transport("RTP/AVP/TCP;interleaved=0-1;ssrc=zz", 0, 0);
    assert_int_equal(rtsp_parse_transport(udp, strlen(udp), &t), 0);
    assert_int_equal(t.interleaved, 0);
    assert_int_equal(t.client_port[0], 5000);
    assert_int_equal(t.client_port[1], 5001);
    assert_int_equal(t.server_port[0], 6970);
    assert_int_equal(t.server_port[1], 6971);
    assert_int_equal(t.ssrc, 0xdeadbeef);
    assert_int_equal(rtsp_parse_transport("RTP/AVP/TCP;interleaved=x", 25, &t),
                     -EBADMSG);
    assert_int_equal(
        rtsp_parse_transport("RTP/AVP/TCP;interleaved=256-257", 31, &t),
        -EBADMSG);
    assert_int_equal(rtsp_parse_transport("", 0, &t), -EBADMSG);
}

struct rtpinfo_want {
    const char *url;
    int seq;         /* -1: unset */
    int64_t rtptime; /* -1: unset */
};

static void check_rtpinfo(const struct rtsp_rtpinfo *ri,
                          const struct rtpinfo_want *want, int n)
{
    assert_int_equal(ri->n, n);
    for (int i = 0; i < n; i++) {
        assert_string_equal(ri->entries[i].url, want[i].url);
        assert_int_equal(ri->entries[i].has_seq, want[i].seq >= 0);
        if (want[i].seq >= 0)
            assert_int_equal(ri->entries[i].seq, want[i].seq);
        assert_int_equal(ri->entries[i].has_rtptime, want[i].rtptime >= 0);
        if (want[i].rtptime >= 0)
            assert_int_equal(ri->entries[i].rtptime, want[i].rtptime);
    }
}

static void check_rtpinfo_file(const char *file,
                               const struct rtpinfo_want *want, int n)
{
    struct rtsp_msg msg;
    uint8_t *buf = load_msg(file, &msg);
    struct rtsp_rtpinfo ri;
    const char *v;
    size_t len;

    v = rtsp_msg_header(&msg, "RTP-Info", &len);
    assert_non_null(v);
    assert_int_equal(rtsp_parse_rtpinfo(v, len, &ri), 0);
    check_rtpinfo(&ri, want, n);
    free(buf);
}

static void test_rtsp_msg_rtpinfo_files(void **state)
{
    static const struct rtpinfo_want bunny[] = {
        {"trackID=1", 1, 0},
        {"rtsp://wowzaec2demo.streamlock.net/vod/mp4:BigBuckBunny_115k.mov/"
         "trackID=2",
         1, 0},
    };
    static const struct rtpinfo_want dahua[] = {
        {"trackID=0", 47121, 3475222385},
        {"trackID=1", 45186, 2234446919},
        {"trackID=4", 36583, 816418535},
    };
    static const struct rtpinfo_want gw_main[] = {
        {"rtsp://192.168.1.110:5050/H264/video", 271, 1621990950},
    };
    static const struct rtpinfo_want gw_sub[] = {
        {"rtsp://192.168.1.110:5049/H264/video", 273, 1621810809},
    };
    static const struct rtpinfo_want hik[] = {
        {"rtsp://192.168.5.106:554/Streaming/Channels/101/trackID=1"
         "?transportmode=unicast&profile=Profile_1",
         24104, 1270711678},
    };
    static const struct rtpinfo_want reolink[] = {
        {"trackID=1", 16852, 1070938629},
        {"trackID=2", 39409, 3075976528},
    };

    (void)state;
    check_rtpinfo_file("bunny_play.txt", bunny, 2);
    check_rtpinfo_file("dahua_play.txt", dahua, 3);
    check_rtpinfo_file("gw_main_play.txt", gw_main, 1);
    check_rtpinfo_file("gw_sub_play.txt", gw_sub, 1);
    check_rtpinfo_file("hikvision_play.txt", hik, 1);
    check_rtpinfo_file("reolink_play.txt", reolink, 2);
}

static void test_rtsp_msg_rtpinfo_quirks(void **state)
{
    static const struct rtpinfo_want trailing[] = {
        {"rtsp://127.0.0.1/a/trackID=1", 5, 7},
    };
    static const struct rtpinfo_want bad[] = {
        {"trackID=1", -1, -1},
        {"trackID=2", 65535, -1},
    };
    static const struct rtpinfo_want comma[] = {
        {"rtsp://127.0.0.1/x,y", 1, 2},
        {"b", 3, -1},
    };
    struct rtsp_rtpinfo ri;
    const char *v;

    (void)state;
    v = "url=rtsp://127.0.0.1/a/trackID=1;seq=5;rtptime=7;";
    assert_int_equal(rtsp_parse_rtpinfo(v, strlen(v), &ri), 0);
    check_rtpinfo(&ri, trailing, 1);
    v = "url=rtsp://127.0.0.1/a/trackID=1;seq=5;rtptime=7,";
    assert_int_equal(rtsp_parse_rtpinfo(v, strlen(v), &ri), 0);
    check_rtpinfo(&ri, trailing, 1);
    v = "url=trackID=1;seq=abc;rtptime=-5, url=trackID=2;seq=65535;"
        "rtptime=4294967296";
    assert_int_equal(rtsp_parse_rtpinfo(v, strlen(v), &ri), 0);
    check_rtpinfo(&ri, bad, 2);
    v = "url=rtsp://127.0.0.1/x,y;seq=1;rtptime=2,url=b;seq=3";
    assert_int_equal(rtsp_parse_rtpinfo(v, strlen(v), &ri), 0);
    check_rtpinfo(&ri, comma, 2);
    assert_int_equal(rtsp_parse_rtpinfo("", 0, &ri), 0);
    assert_int_equal(ri.n, 0);
}

static void test_rtsp_msg_bare_lf_and_request(void **state)
{
    struct rtsp_msg msg;
    const char *resp = "RTSP/1.0 200 OK\nCSeq: 5\nContent-Length: 3\n\nabcX";
    const char *req = "GET_PARAMETER rtsp://127.0.0.1/x RTSP/1.0\r\n"
                      "CSeq: 9\r\n"
                      "X-Long: part one\r\n"
                      "  part two \r\n"
                      "\r\n";
    uint32_t cseq;

    (void)state;
    assert_int_equal(parse_str(resp, &msg), (int)strlen(resp) - 1);
    assert_int_equal(msg.status, 200);
    assert_header(&msg, "cseq", "5");
    assert_int_equal(msg.body_len, 3);
    assert_memory_equal(msg.body, "abc", 3);

    assert_int_equal(parse_str(req, &msg), (int)strlen(req));
    assert_int_equal(msg.is_response, 0);
    assert_span(msg.method, msg.method_len, "GET_PARAMETER");
    assert_span(msg.uri, msg.uri_len, "rtsp://127.0.0.1/x");
    assert_int_equal(rtsp_msg_cseq(&msg, &cseq), 0);
    assert_int_equal(cseq, 9);
    assert_header(&msg, "X-Long", "part one\r\n  part two");
    assert_int_equal(msg.n_headers, 2);
    assert_null(msg.body);

    /* Stray line ends before a message are skipped and counted. */
    assert_int_equal(parse_str("\r\nRTSP/1.0 200 OK\r\n\r\n", &msg), 21);
    assert_int_equal(parse_str("\r\n", &msg), -EAGAIN);
    assert_int_equal(parse_str("", &msg), -EAGAIN);
    /* A reason phrase is optional. */
    assert_int_equal(parse_str("RTSP/1.0 404\r\n\r\n", &msg), 16);
    assert_int_equal(msg.status, 404);
    assert_int_equal(msg.reason_len, 0);
}

static void test_rtsp_msg_garbage(void **state)
{
    static const char *const bad[] = {
        "\x01\x02garbage",
        "RTSP/1.0 20 OK\r\n\r\n",
        "RTSP/1.0 2000 OK\r\n\r\n",
        "RTSP/1.0 099 OK\r\n\r\n",
        "RTSP/x.0 200 OK\r\n\r\n",
        "RTSP/1.0\r\n\r\n",
        "OPTIONS\r\n\r\n",
        "OPTIONS rtsp://127.0.0.1/ HTTP/1.1\r\n\r\n",
        "RTSP/1.0 200 OK\r\nno colon here\r\n\r\n",
        "RTSP/1.0 200 OK\r\n: empty name\r\n\r\n",
        "RTSP/1.0 200 OK\r\n continuation first\r\n\r\n",
        "RTSP/1.0 200 OK\r\nContent-Length: abc\r\n\r\n",
        "RTSP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n",
        "RTSP/1.0 200 OK\r\nContent-Length:\r\n\r\n",
        "$\001\002abcd",
        " RTSP/1.0 200 OK\r\n\r\n",
    };
    struct rtsp_msg msg;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = parse_str(bad[i], &msg);

        if (rc != -EBADMSG)
            fail_msg("input %zu gave %d", i, rc);
    }
    /* Garbage is rejected before a whole line arrives. */
    assert_int_equal(parse_str("\x16\x03\x01", &msg), -EBADMSG);
    assert_int_equal(parse_str("RTS", &msg), -EAGAIN);
    assert_int_equal(parse_str("OPTIO", &msg), -EAGAIN);
}

static void test_rtsp_msg_oversized_head(void **state)
{
    size_t cap = RTSP_MAX_HEADER_BYTES + 2000, n = 0;
    char *buf = malloc(cap);
    char pad[991];
    struct rtsp_msg msg;

    (void)state;
    assert_non_null(buf);
    n += (size_t)snprintf(buf, cap, "RTSP/1.0 200 OK\r\n");
    /* Few, long lines: the byte limit is hit, not the header count. */
    memset(pad, 'a', sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    while (n + 1000 < cap)
        n += (size_t)snprintf(buf + n, cap - n, "X-Pad: %s\r\n", pad);
    /* Below the limit the parser keeps waiting, at it, it gives up. */
    assert_int_equal(
        rtsp_msg_parse((uint8_t *)buf, RTSP_MAX_HEADER_BYTES - 1, &msg),
        -EAGAIN);
    assert_int_equal(rtsp_msg_parse((uint8_t *)buf, n, &msg), -EMSGSIZE);
    /* A single endless header line (slowloris) too. */
    memset(buf + 17, 'a', cap - 17);
    assert_int_equal(rtsp_msg_parse((uint8_t *)buf, cap, &msg), -EMSGSIZE);
    free(buf);
}

static void test_rtsp_msg_too_many_headers(void **state)
{
    char buf[4096];
    size_t n = 0;
    struct rtsp_msg msg;

    (void)state;
    n += (size_t)snprintf(buf, sizeof(buf), "RTSP/1.0 200 OK\r\n");
    for (int i = 0; i < RTSP_MAX_HEADERS; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "H%d: v\r\n", i);
    n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\r\n");
    assert_int_equal(rtsp_msg_parse((uint8_t *)buf, n, &msg), (int)n);
    assert_int_equal(msg.n_headers, RTSP_MAX_HEADERS);
    n -= 2;
    n += (size_t)snprintf(buf + n, sizeof(buf) - n, "One-More: v\r\n\r\n");
    assert_int_equal(rtsp_msg_parse((uint8_t *)buf, n, &msg), -EMSGSIZE);
}

static void test_rtsp_msg_content_length(void **state)
{
    struct rtsp_msg msg;
    char buf[128];

    (void)state;
    assert_int_equal(
        parse_str("RTSP/1.0 200 OK\r\nContent-Length: 99999999999999999999"
                  "9999\r\n\r\n",
                  &msg),
        -EMSGSIZE);
    snprintf(buf, sizeof(buf), "RTSP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n",
             RTSP_MAX_BODY + 1);
    assert_int_equal(parse_str(buf, &msg), -EMSGSIZE);
    snprintf(buf, sizeof(buf), "RTSP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n",
             RTSP_MAX_BODY);
    assert_int_equal(parse_str(buf, &msg), -EAGAIN);
    assert_int_equal(
        parse_str("RTSP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", &msg), 38);
    assert_null(msg.body);
    /* Two pipelined messages: only the first is consumed. */
    assert_int_equal(parse_str("RTSP/1.0 200 OK\r\nContent-Length: 2 \r\n\r\n"
                               "hiRTSP/1.0 200 OK\r\n\r\n",
                               &msg),
                     41);
    assert_memory_equal(msg.body, "hi", 2);
}

static void test_rtsp_msg_interleaved(void **state)
{
    size_t len, off = 0;
    uint8_t *buf = read_realcam("bunny.rtsp", &len);
    int frames = 0, ch0 = 0, ch2 = 0;

    (void)state;
    while (off < len) {
        uint8_t ch = 0xff;
        const uint8_t *payload = NULL;
        size_t plen = 0;
        int rc =
            rtsp_interleaved_parse(buf + off, len - off, &ch, &payload, &plen);

        assert_true(rc > 4);
        assert_int_equal((size_t)rc, plen + 4);
        assert_ptr_equal(payload, buf + off + 4);
        assert_int_equal(payload[0] >> 6, 2); /* RTP version 2 */
        if (ch == 0)
            ch0++;
        else if (ch == 2)
            ch2++;
        else
            fail_msg("unexpected channel %u", ch);
        /* The first frames again, cut at every byte. */
        if (frames < 8) {
            for (size_t k = 0; k < (size_t)rc; k++) {
                uint8_t *part = malloc(k ? k : 1);

                assert_non_null(part);
                memcpy(part, buf + off, k);
                assert_int_equal(
                    rtsp_interleaved_parse(part, k, &ch, &payload, &plen),
                    -EAGAIN);
                free(part);
            }
        }
        off += (size_t)rc;
        frames++;
    }
    assert_int_equal(off, len);
    assert_int_equal(frames, 371);
    assert_int_equal(ch0, 102);
    assert_int_equal(ch2, 269);
    free(buf);
}

static void test_rtsp_msg_interleaved_edges(void **state)
{
    static const uint8_t empty[] = {'$', 1, 0, 0};
    static const uint8_t max_hdr[] = {'$', 7, 0xff, 0xff};
    static const uint8_t rtsp[] = {'R', 'T', 'S', 'P'};
    uint8_t ch;
    const uint8_t *p;
    size_t n;

    (void)state;
    assert_int_equal(rtsp_interleaved_parse(empty, 4, &ch, &p, &n), 4);
    assert_int_equal(ch, 1);
    assert_int_equal(n, 0);
    assert_int_equal(rtsp_interleaved_parse(max_hdr, 4, &ch, &p, &n), -EAGAIN);
    assert_int_equal(rtsp_interleaved_parse(rtsp, 4, &ch, &p, &n), -EBADMSG);
    assert_int_equal(rtsp_interleaved_parse(rtsp, 0, &ch, &p, &n), -EAGAIN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rtsp_msg_all_files_split),
        cmocka_unit_test(test_rtsp_msg_describe_body),
        cmocka_unit_test(test_rtsp_msg_cseq_trailing_space),
        cmocka_unit_test(test_rtsp_msg_session),
        cmocka_unit_test(test_rtsp_msg_transport),
        cmocka_unit_test(test_rtsp_msg_rtpinfo_files),
        cmocka_unit_test(test_rtsp_msg_rtpinfo_quirks),
        cmocka_unit_test(test_rtsp_msg_bare_lf_and_request),
        cmocka_unit_test(test_rtsp_msg_garbage),
        cmocka_unit_test(test_rtsp_msg_oversized_head),
        cmocka_unit_test(test_rtsp_msg_too_many_headers),
        cmocka_unit_test(test_rtsp_msg_content_length),
        cmocka_unit_test(test_rtsp_msg_interleaved),
        cmocka_unit_test(test_rtsp_msg_interleaved_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
