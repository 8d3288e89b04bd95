/* SPDX-License-Identifier: MIT */
/*
 * One test per quirk of /work/shared/CAMERA-QUIRKS.md (issue 3 item 4),
 * each named after its quirk and driving the code that handles it: the
 * RTSP message parser and header helpers, authentication, the session's
 * decisions (rtsp_quirks.c), the SDP parser, the H.264 depacketizer, the
 * RTP sequence tracker and the wall clock. Real camera transcripts
 * (NVR_REALCAM_DIR) are used wherever one shows the quirk.
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

#include "ingest/depack.h"
#include "ingest/ingest_int.h"
#include "ingest/rtp.h"
#include "ingest/rtsp_auth.h"
#include "ingest/rtsp_msg.h"
#include "ingest/rtsp_url.h"
#include "ingest/sdp.h"
#include "ingest/wallclock.h"

/* ---- helpers ---- */

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
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Parses a realcam response; the caller frees *buf after using *m. */
static void parse_realcam(const char *name, uint8_t **buf, struct rtsp_msg *m)
{
    size_t len;

    *buf = read_realcam(name, &len);
    assert_true(rtsp_msg_parse(*buf, len, m) > 0);
    assert_true(m->is_response);
}

static int parse_str(const char *s, struct rtsp_msg *m)
{
    return rtsp_msg_parse((const uint8_t *)s, strlen(s), m);
}

static void parse_sdp_str(const char *s, struct sdp_session *out)
{
    assert_int_equal(sdp_parse(s, strlen(s), out), 0);
}

/* Parses the SDP body of a realcam DESCRIBE response. */
static void parse_realcam_sdp(const char *name, struct sdp_session *out)
{
    struct rtsp_msg m;
    uint8_t *buf;

    parse_realcam(name, &buf, &m);
    assert_non_null(m.body);
    assert_int_equal(sdp_parse((const char *)m.body, m.body_len, out), 0);
    free(buf);
}

/* A depacketizer fed by hand, collecting what it emits. */
#define MAX_AUS 32
struct dp {
    struct sdp_track track;
    const struct depack_ops *ops;
    void *st;
    uint16_t seq;
    int n;
    struct nvr_au *aus[MAX_AUS];
};

static void collect(void *user, struct nvr_au *au)
{
    struct dp *d = user;

    assert_true(d->n < MAX_AUS);
    d->aus[d->n++] = au;
}

/* x264's 640x360 SPS, a PPS, and slices (first_mb_in_slice 0). */
static const uint8_t sps[] = {0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40,
                              0xa0, 0x2f, 0xf9, 0x70, 0x11, 0x00, 0x00,
                              0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00,
                              0x32, 0x0f, 0x16, 0x2d, 0x96};
static const uint8_t pps[] = {0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0};
static const uint8_t idr[] = {0x65, 0x88, 0x84, 0x00, 0x33, 0xff, 0x10, 0x20};
static const uint8_t sei[] = {0x06, 0x05, 0x01, 0xaa, 0x80};

static void dp_init(struct dp *d, int with_params)
{
    static const uint8_t sc[4] = {0, 0, 0, 1};

    memset(d, 0, sizeof(*d));
    d->track.pt = 96;
    d->track.codec = NVR_CODEC_H264;
    d->track.clock_rate = 90000;
    d->track.packetization_mode = 1;
    snprintf(d->track.media, sizeof(d->track.media), "video");
    if (with_params) {
        uint8_t *p = d->track.params;

        memcpy(p, sc, 4);
        memcpy(p + 4, sps, sizeof(sps));
        memcpy(p + 4 + sizeof(sps), sc, 4);
        memcpy(p + 8 + sizeof(sps), pps, sizeof(pps));
        d->track.params_len = 8 + sizeof(sps) + sizeof(pps);
    }
    d->ops = depack_find(NVR_CODEC_H264);
    assert_non_null(d->ops);
    assert_int_equal(d->ops->create(&d->track, &d->st), 0);
}

static void dp_fini(struct dp *d)
{
    for (int i = 0; i < d->n; i++)
        nvr_au_unref(d->aus[i]);
    d->ops->destroy(d->st);
}

static int dp_push(struct dp *d, int pt, const void *payload, size_t len,
                   uint32_t ts, int marker)
{
    struct rtp_hdr h = {
        .pt = (uint8_t)pt,
        .marker = marker,
        .seq = d->seq++,
        .ts = ts,
        .ssrc = 7,
        .payload = payload,
        .payload_len = len,
    };

    return d->ops->push(d->st, &h, ts, 0, collect, d);
}

/* The Annex B bytes of one or two NAL units. */
static size_t annexb2(uint8_t *out, const uint8_t *a, size_t alen,
                      const uint8_t *b, size_t blen)
{
    static const uint8_t sc[4] = {0, 0, 0, 1};
    size_t n = 0;

    memcpy(out, sc, 4);
    memcpy(out + 4, a, alen);
    n = 4 + alen;
    if (b) {
        memcpy(out + n, sc, 4);
        memcpy(out + n + 4, b, blen);
        n += 4 + blen;
    }
    return n;
}

/* An FU-A fragment of the IDR: header bits, then idr[from, to). */
static size_t fu(uint8_t *pkt, uint8_t fu_hdr, size_t from, size_t to)
{
    pkt[0] = (uint8_t)((idr[0] & 0xe0) | 28);
    pkt[1] = fu_hdr;
    memcpy(pkt + 2, idr + from, to - from);
    return 2 + to - from;
}

/* ---- RTSP session ---- */

static void test_quirk_auth_digest_preferred_over_basic(void **state)
{
    struct rtsp_auth auth;
    struct rtsp_msg m;
    uint8_t *buf;
    char out[1024];

    (void)state;
    /* Longse: a Digest challenge alone. */
    memset(&auth, 0, sizeof(auth));
    parse_realcam("longse_unauthorized.txt", &buf, &m);
    assert_int_equal(m.status, 401);
    assert_int_equal(rtsp_auth_parse_challenge(&m, &auth), 0);
    assert_int_equal(auth.scheme, RTSP_AUTH_DIGEST);
    assert_true(auth.realm[0] != '\0');
    assert_true(auth.nonce[0] != '\0');
    free(buf);

    /* Basic offered first, Digest second: Digest wins either way. */
    memset(&auth, 0, sizeof(auth));
    assert_true(parse_str("RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\n"
                          "WWW-Authenticate: Basic realm=\"cam\"\r\n"
                          "WWW-Authenticate: Digest realm=\"cam\", "
                          "nonce=\"abc\"\r\n\r\n",
                          &m) > 0);
    assert_int_equal(rtsp_auth_parse_challenge(&m, &auth), 0);
    assert_int_equal(auth.scheme, RTSP_AUTH_DIGEST);
    assert_int_equal(rtsp_auth_header(&auth, "DESCRIBE", "rtsp://c/", "u", "p",
                                      out, sizeof(out)),
                     0);
    assert_memory_equal(out, "Digest ", 7);
    assert_null(strstr(out, "Basic"));

    /* Basic alone is refused unless the camera's policy allows it, and
     * then used when that is all there is. */
    memset(&auth, 0, sizeof(auth));
    assert_true(parse_str("RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\n"
                          "WWW-Authenticate: Basic realm=\"cam\"\r\n\r\n",
                          &m) > 0);
    assert_int_equal(rtsp_auth_parse_challenge(&m, &auth), -EKEYREJECTED);
    auth.policy = RTSP_AUTH_POLICY_ANY;
    assert_int_equal(rtsp_auth_parse_challenge(&m, &auth), 0);
    assert_int_equal(auth.scheme, RTSP_AUTH_BASIC);
}

static void test_quirk_auth_digest_opaque_and_qop(void **state)
{
    struct rtsp_auth auth;
    struct rtsp_msg m;
    char out[1024];

    (void)state;
    memset(&auth, 0, sizeof(auth));
    snprintf(auth.cnonce, sizeof(auth.cnonce), "0a4f113b");
    assert_true(parse_str("RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\n"
                          "WWW-Authenticate: Digest realm=\"cam\", "
                          "nonce=\"n1\", opaque=\"op\", "
                          "qop=\"auth,auth-int\"\r\n\r\n",
                          &m) > 0);
    assert_int_equal(rtsp_auth_parse_challenge(&m, &auth), 0);
    assert_true(auth.has_opaque);
    assert_true(auth.qop_auth);
    assert_int_equal(rtsp_auth_header(&auth, "PLAY", "rtsp://c/", "u", "p", out,
                                      sizeof(out)),
                     0);
    assert_non_null(strstr(out, "opaque=\"op\""));
    assert_non_null(strstr(out, "qop=auth, nc=00000001"));
    assert_int_equal(rtsp_auth_header(&auth, "PLAY", "rtsp://c/", "u", "p", out,
                                      sizeof(out)),
                     0);
    assert_non_null(strstr(out, "nc=00000002"));
}

static void test_quirk_auth_second_401_is_wrong_password(void **state)
{
    (void)state;
    /* The first 401 is answered once; a second one for the same request
     * means the password is wrong: stop (camera.c then waits at least
     * 30 s, so the camera's account is not locked). */
    assert_int_equal(rtsp_quirks_on_401(1, 0), RTSP_QUIRKS_AUTH_ANSWER);
    assert_int_equal(rtsp_quirks_on_401(1, 1), RTSP_QUIRKS_AUTH_REFUSED);
    assert_int_equal(rtsp_quirks_on_401(0, 0),
                     RTSP_QUIRKS_AUTH_NEED_CREDENTIALS);
    assert_int_equal(rtsp_quirks_status_errno(401), -EACCES);
}

static void test_quirk_cseq_trailing_whitespace(void **state)
{
    struct rtsp_msg m;
    uint8_t *buf;
    uint32_t cseq = 0;
    size_t n;
    const char *v;

    (void)state;
    /* Longse sends "CSeq: 1 " (a space before CRLF). */
    parse_realcam("longse_unauthorized.txt", &buf, &m);
    v = rtsp_msg_header(&m, "CSeq", &n);
    assert_non_null(v);
    assert_true(strstr((const char *)buf, "CSeq: 1 \r\n") != NULL);
    assert_int_equal(rtsp_msg_cseq(&m, &cseq), 0);
    assert_int_equal(cseq, 1);
    free(buf);
    assert_true(parse_str("RTSP/1.0 200 OK\r\nCSeq:\t42 \t\r\n\r\n", &m) > 0);
    assert_int_equal(rtsp_msg_cseq(&m, &cseq), 0);
    assert_int_equal(cseq, 42);
}

static void test_quirk_ssrc_with_spaces(void **state)
{
    struct rtsp_transport tr;
    static const char v[] =
        "RTP/AVP/TCP;unicast;interleaved=0-1;ssrc= 30A98EE7 ;mode=play";
    struct rtsp_msg m;
    uint8_t *buf;
    size_t n;
    const char *t;

    (void)state;
    assert_int_equal(rtsp_parse_transport(v, strlen(v), &tr), 0);
    assert_true(tr.has_ssrc);
    assert_int_equal(tr.ssrc, 0x30a98ee7);
    assert_int_equal(tr.channel_rtp, 0);
    /* Hikvision pads its Session value with spaces and sends the SSRC in
     * lowercase; Dahua in uppercase. */
    parse_realcam("hikvision_setup.txt", &buf, &m);
    t = rtsp_msg_header(&m, "Transport", &n);
    assert_int_equal(rtsp_parse_transport(t, n, &tr), 0);
    assert_true(tr.has_ssrc);
    assert_int_equal(tr.ssrc, 0x4cacc3d1);
    free(buf);
    parse_realcam("dahua_setup.txt", &buf, &m);
    t = rtsp_msg_header(&m, "Transport", &n);
    assert_int_equal(rtsp_parse_transport(t, n, &tr), 0);
    assert_int_equal(tr.ssrc, 0x30a98ee7);
    free(buf);
}

static void test_quirk_rtpinfo_trailing_semicolon(void **state)
{
    struct rtsp_rtpinfo ri;
    static const char v[] = "url=rtsp://c/trackID=1;seq=7;rtptime=99;";
    static const char v2[] = "url=rtsp://c/trackID=1;seq=7;rtptime=99,";

    (void)state;
    assert_int_equal(rtsp_parse_rtpinfo(v, strlen(v), &ri), 0);
    assert_int_equal(ri.n, 1);
    assert_string_equal(ri.entries[0].url, "rtsp://c/trackID=1");
    assert_true(ri.entries[0].has_seq);
    assert_int_equal(ri.entries[0].seq, 7);
    assert_int_equal(ri.entries[0].rtptime, 99);
    assert_int_equal(rtsp_parse_rtpinfo(v2, strlen(v2), &ri), 0);
    assert_int_equal(ri.n, 1);
}

static void test_quirk_describe_without_content_type(void **state)
{
    static const char head[] = "RTSP/1.0 200 OK\r\nCSeq: 2\r\n"
                               "Content-Length: %zu\r\n\r\n%s";
    static const char sdp[] = "v=0\r\ns=x\r\nm=video 0 RTP/AVP 96\r\n"
                              "a=rtpmap:96 H264/90000\r\n"
                              "a=control:trackID=1\r\n";
    char buf[512];
    struct rtsp_msg m;
    struct sdp_session s;

    (void)state;
    snprintf(buf, sizeof(buf), head, strlen(sdp), sdp);
    assert_int_equal(parse_str(buf, &m), (int)strlen(buf));
    assert_null(rtsp_msg_header(&m, "Content-Type", NULL));
    /* The body is taken as SDP whatever the type says (or doesn't). */
    assert_non_null(m.body);
    assert_int_equal(m.body_len, strlen(sdp));
    assert_int_equal(sdp_parse((const char *)m.body, m.body_len, &s), 0);
    assert_int_equal(s.n_tracks, 1);
    assert_true(s.tracks[0].recordable);
}

static void test_quirk_content_base_without_scheme(void **state)
{
    struct rtsp_msg m;
    struct sdp_session s;
    uint8_t *buf;
    char base[256], v[256], url[512];

    (void)state;
    /* Anjvision: "Content-Base: 192.168.1.10:554/stream0/". */
    parse_realcam("anjvision_describe.txt", &buf, &m);
    assert_int_equal(rtsp_msg_header_copy(&m, "Content-Base", v, sizeof(v)), 0);
    assert_string_equal(v, "192.168.1.10:554/stream0/");
    assert_int_equal(rtsp_quirks_base_url("rtsp://127.0.0.1:8554/stream0", v,
                                          base, sizeof(base)),
                     0);
    /* The authority we connected to, the camera's path. */
    assert_string_equal(base, "rtsp://127.0.0.1:8554/stream0/");
    assert_int_equal(sdp_parse((const char *)m.body, m.body_len, &s), 0);
    assert_string_equal(s.tracks[0].control, "trackID=1");
    assert_int_equal(
        rtsp_url_join_control(base, s.tracks[0].control, url, sizeof(url)), 0);
    assert_string_equal(url, "rtsp://127.0.0.1:8554/stream0/trackID=1");
    free(buf);

    /* A bare path; no path at all; a full URL; none. */
    assert_int_equal(
        rtsp_quirks_base_url("rtsp://10.0.0.2/a", "/b/", base, sizeof(base)),
        0);
    assert_string_equal(base, "rtsp://10.0.0.2/b/");
    assert_int_equal(rtsp_quirks_base_url("rtsp://10.0.0.2/a", "10.0.0.9:554",
                                          base, sizeof(base)),
                     0);
    assert_string_equal(base, "rtsp://10.0.0.2/a");
    assert_int_equal(rtsp_quirks_base_url("rtsp://10.0.0.2/a",
                                          "RTSP://10.0.0.3/c/", base,
                                          sizeof(base)),
                     0);
    assert_string_equal(base, "RTSP://10.0.0.3/c/");
    assert_int_equal(
        rtsp_quirks_base_url("rtsp://10.0.0.2/a", NULL, base, sizeof(base)), 0);
    assert_string_equal(base, "rtsp://10.0.0.2/a");
    assert_int_equal(rtsp_quirks_base_url("rtsp://10.0.0.2/a", "/b/", base, 10),
                     -EMSGSIZE);
}

static void test_quirk_control_url_live555_join(void **state)
{
    struct rtsp_msg m;
    struct sdp_session s;
    uint8_t *buf;
    char base[256], url[512];

    (void)state;
    /* LIVE555 appends the control with '/', where RFC 3986 would replace
     * the last path segment: rtsp://h/a/b + trackID=1 -> .../b/trackID=1. */
    assert_int_equal(rtsp_url_join_control("rtsp://10.0.0.2/live/ch0",
                                           "trackID=1", url, sizeof(url)),
                     0);
    assert_string_equal(url, "rtsp://10.0.0.2/live/ch0/trackID=1");
    assert_int_equal(rtsp_url_join_control("rtsp://10.0.0.2/live/ch0/",
                                           "trackID=1", url, sizeof(url)),
                     0);
    assert_string_equal(url, "rtsp://10.0.0.2/live/ch0/trackID=1");
    /* An absolute control is used as is; "*" is the base itself. */
    assert_int_equal(rtsp_url_join_control("rtsp://10.0.0.2/x",
                                           "rtsp://10.0.0.2/x/track2", url,
                                           sizeof(url)),
                     0);
    assert_string_equal(url, "rtsp://10.0.0.2/x/track2");
    assert_int_equal(
        rtsp_url_join_control("rtsp://10.0.0.2/x", "*", url, sizeof(url)), 0);
    assert_string_equal(url, "rtsp://10.0.0.2/x");
    /* Foscam (LIVE555 inside): Content-Base plus "track1". */
    parse_realcam("foscam_describe.txt", &buf, &m);
    assert_int_equal(
        rtsp_msg_header_copy(&m, "Content-Base", base, sizeof(base)), 0);
    assert_int_equal(sdp_parse((const char *)m.body, m.body_len, &s), 0);
    assert_int_equal(
        rtsp_url_join_control(base, s.tracks[0].control, url, sizeof(url)), 0);
    assert_int_equal(strncmp(url, base, strlen(base)), 0);
    assert_string_equal(url + strlen(base), s.tracks[0].control);
    free(buf);
}

static void test_quirk_control_before_other_attributes(void **state)
{
    struct sdp_session a, b;

    (void)state;
    /* Reolink sends the same SDP with a=control first; both parse alike. */
    parse_realcam_sdp("reolink_describe.txt", &a);
    parse_realcam_sdp("reolink_describe_control_first.txt", &b);
    assert_int_equal(a.n_tracks, b.n_tracks);
    assert_true(b.n_tracks >= 1);
    for (int i = 0; i < b.n_tracks; i++) {
        assert_string_equal(a.tracks[i].control, b.tracks[i].control);
        assert_true(b.tracks[i].control[0] != '\0');
        assert_int_equal(a.tracks[i].codec, b.tracks[i].codec);
        assert_int_equal(a.tracks[i].pt, b.tracks[i].pt);
    }
    assert_int_equal(b.tracks[0].codec, NVR_CODEC_H264);
    assert_true(b.tracks[0].recordable);
}

static void test_quirk_session_id_change_between_setups(void **state)
{
    struct rtsp_msg m;
    uint8_t *buf;
    char id[64] = "";
    int timeout_s = 0;
    size_t n;
    const char *v;

    (void)state;
    parse_realcam("hikvision_setup.txt", &buf, &m);
    v = rtsp_msg_header(&m, "Session", &n);
    assert_int_equal(rtsp_quirks_session_id(v, n, id, sizeof(id), &timeout_s),
                     1);
    assert_string_equal(id, "708345999");
    assert_int_equal(timeout_s, 60);
    free(buf);
    /* The second SETUP answers with another id: the first one is kept. */
    assert_int_equal(rtsp_quirks_session_id("12345;timeout=30", 16, id,
                                            sizeof(id), &timeout_s),
                     0);
    assert_string_equal(id, "708345999");
    assert_int_equal(timeout_s, 60);
    id[0] = '\0';
    assert_int_equal(
        rtsp_quirks_session_id(";timeout=5", 10, id, sizeof(id), &timeout_s),
        -EBADMSG);
}

static void test_quirk_ssrc_only_in_rtp_info(void **state)
{
    struct rtsp_transport tr;
    struct rtsp_rtpinfo ri;
    struct rtsp_msg m;
    uint8_t *buf;
    size_t n;
    const char *v;

    (void)state;
    /* Reolink: no ssrc= in the SETUP Transport ... */
    parse_realcam("reolink_setup.txt", &buf, &m);
    v = rtsp_msg_header(&m, "Transport", &n);
    assert_int_equal(rtsp_parse_transport(v, n, &tr), 0);
    assert_false(tr.has_ssrc);
    assert_true(tr.interleaved);
    free(buf);
    /* ... but one per track in the PLAY RTP-Info. */
    parse_realcam("reolink_play.txt", &buf, &m);
    v = rtsp_msg_header(&m, "RTP-Info", &n);
    assert_int_equal(rtsp_parse_rtpinfo(v, n, &ri), 0);
    assert_int_equal(ri.n, 2);
    assert_string_equal(ri.entries[0].url, "trackID=1");
    assert_true(ri.entries[0].has_ssrc);
    assert_int_equal(ri.entries[0].ssrc, 0xdcc4a0d8);
    assert_true(ri.entries[1].has_ssrc);
    assert_int_equal(ri.entries[1].ssrc, 0x9fc9fff8);
    assert_int_equal(ri.entries[1].seq, 39409);
    free(buf);
}

static void test_quirk_keepalive_half_session_timeout(void **state)
{
    struct rtsp_msg m;
    uint8_t *buf;
    char id[64];
    int timeout_s = 0;
    size_t n;
    const char *v;

    (void)state;
    /* GW Security: "Session: 9a90de54; timeout=120" -> capped. */
    parse_realcam("gw_main_play.txt", &buf, &m);
    v = rtsp_msg_header(&m, "Session", &n);
    assert_int_equal(rtsp_parse_session(v, n, id, sizeof(id), &timeout_s), 0);
    assert_string_equal(id, "9a90de54");
    assert_int_equal(timeout_s, 120);
    free(buf);
    assert_int_equal(rtsp_quirks_keepalive_ms(timeout_s),
                     RTSP_SESSION_KEEPALIVE_MAX_MS);
    assert_true(RTSP_SESSION_KEEPALIVE_MAX_MS <= 60000);
    assert_int_equal(rtsp_quirks_keepalive_ms(30), 15000);
    assert_int_equal(rtsp_quirks_keepalive_ms(10), 5000);
    assert_int_equal(rtsp_quirks_keepalive_ms(1), 1000);
    /* No timeout given: the RFC's 60 s. */
    assert_int_equal(rtsp_quirks_keepalive_ms(0), 30000);
}

static const char *keepalive_for(const char *public_hdr)
{
    return rtsp_quirks_keepalive_method(public_hdr, strlen(public_hdr));
}

static void test_quirk_keepalive_method_from_public(void **state)
{
    struct rtsp_msg m;
    uint8_t *buf;
    size_t n;
    const char *v;

    (void)state;
    /* Dahua advertises GET_PARAMETER and SET_PARAMETER: GET_PARAMETER,
     * which servers such as VLC's need to keep a session. */
    parse_realcam("dahua_options.txt", &buf, &m);
    v = rtsp_msg_header(&m, "Public", &n);
    assert_non_null(v);
    assert_non_null(memmem(v, n, "GET_PARAMETER", 13));
    assert_string_equal(rtsp_quirks_keepalive_method(v, n), "GET_PARAMETER");
    free(buf);
    /* VLC 3.0's Public header. */
    assert_string_equal(keepalive_for("DESCRIBE,SETUP,TEARDOWN,PLAY,PAUSE,"
                                      "GET_PARAMETER"),
                        "GET_PARAMETER");
    assert_string_equal(keepalive_for(" get_parameter "), "GET_PARAMETER");
    /* Not listed, or only as part of another token: OPTIONS. */
    assert_string_equal(rtsp_quirks_keepalive_method(NULL, 0), "OPTIONS");
    assert_string_equal(keepalive_for(""), "OPTIONS");
    assert_string_equal(keepalive_for("OPTIONS, DESCRIBE, SETUP, PLAY, "
                                      "TEARDOWN, SET_PARAMETER"),
                        "OPTIONS");
    assert_string_equal(keepalive_for("X_GET_PARAMETER, GET_PARAMETERS"),
                        "OPTIONS");
    /* The length bounds the value: no read past it. */
    assert_string_equal(rtsp_quirks_keepalive_method("PLAY, GET_PARAMETER", 6),
                        "OPTIONS");
}

static void test_quirk_tcp_refused(void **state)
{
    (void)state;
    assert_true(rtsp_quirks_tcp_refused(461));
    assert_true(rtsp_quirks_tcp_refused(400));
    assert_false(rtsp_quirks_tcp_refused(404));
    assert_false(rtsp_quirks_tcp_refused(401));
    assert_false(rtsp_quirks_tcp_refused(453));
    assert_false(rtsp_quirks_tcp_refused(500));
}

static void test_quirk_teardown_ignored(void **state)
{
    struct rtsp_msg m;
    uint8_t *buf;
    uint32_t cseq;

    (void)state;
    /* Reolink answers TEARDOWN (and keeps sending for a while); nothing
     * waits for it longer than RTSP_SESSION_TEARDOWN_MS. */
    parse_realcam("reolink_teardown.txt", &buf, &m);
    assert_int_equal(m.status, 200);
    assert_int_equal(rtsp_msg_cseq(&m, &cseq), 0);
    assert_int_equal(cseq, 7);
    free(buf);
    assert_true(RTSP_SESSION_TEARDOWN_MS <= 1000);
    /* Meanwhile the camera refuses a new session: a transient error the
     * supervisor retries with backoff, not a configuration error. */
    assert_int_equal(rtsp_quirks_status_errno(453), -EBUSY);
    assert_int_equal(rtsp_quirks_status_errno(503), -EBUSY);
    assert_int_equal(rtsp_quirks_status_errno(454), -EBUSY);
    assert_int_equal(rtsp_quirks_status_errno(404), -ENOENT);
    assert_int_equal(rtsp_quirks_status_errno(500), -EPROTO);
}

/*
 * Splits a TCP byte stream the way the session's read loop does: stray
 * line ends skipped, '$' frames, RTSP messages. Records each item as a
 * channel number (0..255) or -status for a response.
 */
static int demux(const uint8_t *buf, size_t len, int *items, int max)
{
    size_t pos = 0;
    int n = 0;

    while (pos < len && n < max) {
        const uint8_t *p = buf + pos;
        int r;

        if (p[0] == '\r' || p[0] == '\n') {
            pos++;
            continue;
        }
        if (p[0] == '$') {
            const uint8_t *payload;
            size_t plen;
            uint8_t ch;

            r = rtsp_interleaved_parse(p, len - pos, &ch, &payload, &plen);
            if (r <= 0)
                return r;
            items[n++] = ch;
        } else {
            struct rtsp_msg m;

            r = rtsp_msg_parse(p, len - pos, &m);
            if (r <= 0)
                return r;
            items[n++] = -m.status;
        }
        pos += (size_t)r;
    }
    return n;
}

static size_t put_frame(uint8_t *out, uint8_t ch, const uint8_t *p, size_t n)
{
    out[0] = '$';
    out[1] = ch;
    out[2] = (uint8_t)(n >> 8);
    out[3] = (uint8_t)n;
    memcpy(out + 4, p, n);
    return 4 + n;
}

static void test_quirk_interleaved_unknown_channel(void **state)
{
    uint8_t stream[4096], junk[300];
    size_t n = 0;
    int items[8];
    uint8_t ch;
    const uint8_t *payload;
    size_t plen;

    (void)state;
    memset(junk, 0xab, sizeof(junk));
    /* Channels 9 and 200 were never set up: framed, skipped by the
     * session (it counts them as rtp_ignored), never fatal. */
    n += put_frame(stream + n, 9, junk, sizeof(junk));
    n += put_frame(stream + n, 200, junk, 0);
    memcpy(stream + n, "RTSP/1.0 200 OK\r\nCSeq: 5\r\n\r\n", 28);
    n += 28;
    n += put_frame(stream + n, 0, junk, 12);
    assert_int_equal(demux(stream, n, items, 8), 4);
    assert_int_equal(items[0], 9);
    assert_int_equal(items[1], 200);
    assert_int_equal(items[2], -200);
    assert_int_equal(items[3], 0);
    /* The largest frame length is framed exactly, never over-read. */
    stream[0] = '$';
    stream[1] = 255;
    stream[2] = 0xff;
    stream[3] = 0xff;
    assert_int_equal(
        rtsp_interleaved_parse(stream, 4 + 65534, &ch, &payload, &plen),
        -EAGAIN);
}

static void test_quirk_rtcp_before_play_response(void **state)
{
    /* An RTCP sender report (RFC 3550 6.4.1) on channel 1. */
    static const uint8_t sr[28] = {0x80, 200,  0x00, 0x06, 0x4c, 0xac,
                                   0xc3, 0xd1, 0xe4, 0x3c, 0x9f, 0x1a};
    uint8_t *play, stream[2048];
    size_t play_len, n = 0;
    int items[8];

    (void)state;
    play = read_realcam("hikvision_play.txt", &play_len);
    n += put_frame(stream + n, 1, sr, sizeof(sr));
    memcpy(stream + n, play, play_len);
    n += play_len;
    assert_int_equal(demux(stream, n, items, 8), 2);
    assert_int_equal(items[0], 1);
    assert_int_equal(items[1], -200);
    free(play);
}

static void test_quirk_rtp_between_play_request_and_response(void **state)
{
    uint8_t *bunny, *play, *stream;
    size_t bunny_len, play_len, n = 0, first = 0;
    int items[16], got, frames = 0;

    (void)state;
    /* Real Wowza RTP frames arrive before the PLAY response. */
    bunny = read_realcam("bunny.rtsp", &bunny_len);
    play = read_realcam("bunny_play.txt", &play_len);
    stream = malloc(bunny_len + play_len);
    assert_non_null(stream);
    /* The first three interleaved frames, the response, three more. */
    for (int i = 0; i < 3; i++)
        first += 4 + (((size_t)bunny[first + 2] << 8) | bunny[first + 3]);
    memcpy(stream, bunny, first);
    n = first;
    memcpy(stream + n, play, play_len);
    n += play_len;
    size_t rest = first;
    for (int i = 0; i < 3; i++)
        rest += 4 + (((size_t)bunny[rest + 2] << 8) | bunny[rest + 3]);
    memcpy(stream + n, bunny + first, rest - first);
    n += rest - first;
    got = demux(stream, n, items, 16);
    assert_int_equal(got, 7);
    for (int i = 0; i < got; i++) {
        if (items[i] >= 0)
            frames++;
    }
    assert_int_equal(frames, 6);
    assert_int_equal(items[3], -200);
    /* Each of them is real RTP. */
    for (size_t off = 0; off < first;) {
        size_t len = ((size_t)bunny[off + 2] << 8) | bunny[off + 3];
        struct rtp_hdr h;

        assert_int_equal(rtp_parse(bunny + off + 4, len, &h), 0);
        off += 4 + len;
    }
    free(stream);
    free(play);
    free(bunny);
}

/* ---- SDP ---- */

static void test_quirk_sdp_missing_o_line(void **state)
{
    struct sdp_session s;

    (void)state;
    parse_sdp_str("v=0\r\ns=No Name\r\nt=0 0\r\n"
                  "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
                  "a=control:track1\r\n",
                  &s);
    assert_int_equal(s.n_tracks, 1);
    assert_int_equal(s.tracks[0].codec, NVR_CODEC_H264);
    assert_true(s.tracks[0].recordable);
    /* No v=, s= or t= either. */
    parse_sdp_str("m=video 0 RTP/AVP 96\na=rtpmap:96 H264/90000\n", &s);
    assert_true(s.tracks[0].recordable);
}

static void test_quirk_rtpmap_trailing_space(void **state)
{
    struct sdp_session s;

    (void)state;
    parse_sdp_str("v=0\r\nm=video 0 RTP/AVP 96 \r\n"
                  "a=rtpmap:96 H264/90000 \r\n"
                  "m=audio 0 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\t \r\n",
                  &s);
    assert_int_equal(s.n_tracks, 2);
    assert_string_equal(s.tracks[0].encoding, "H264");
    assert_int_equal(s.tracks[0].clock_rate, 90000);
    assert_true(s.tracks[0].recordable);
    assert_int_equal(s.tracks[1].codec, NVR_CODEC_PCMA);
    assert_int_equal(s.tracks[1].clock_rate, 8000);
}

static void test_quirk_empty_fmtp(void **state)
{
    struct sdp_session s;

    (void)state;
    parse_sdp_str("v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
                  "a=fmtp:96\r\n",
                  &s);
    assert_true(s.tracks[0].recordable);
    assert_string_equal(s.tracks[0].fmtp, "");
    assert_int_equal(s.tracks[0].params_len, 0);
    assert_int_equal(s.tracks[0].packetization_mode, 0);
    parse_sdp_str("v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
                  "a=fmtp:96 \r\n",
                  &s);
    assert_true(s.tracks[0].recordable);
}

static void test_quirk_unknown_media_skipped(void **state)
{
    struct sdp_session s;

    (void)state;
    parse_sdp_str("v=0\r\n"
                  "m=text 0 RTP/AVP 98\r\na=rtpmap:98 t140/1000\r\n"
                  "m=video 0 RTP/AVP 97\r\na=rtpmap:97 VP9/90000\r\n"
                  "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n",
                  &s);
    assert_int_equal(s.n_tracks, 3);
    assert_false(s.tracks[0].recordable);
    assert_false(s.tracks[1].recordable);
    assert_int_equal(s.tracks[1].codec, NVR_CODEC_NONE);
    assert_true(s.tracks[2].recordable);
    /* Only unknown media: parses, and nothing is recordable (the session
     * then fails the camera with a message, it does not crash). */
    parse_sdp_str("v=0\r\nm=video 0 RTP/AVP 97\r\na=rtpmap:97 VP8/90000\r\n",
                  &s);
    assert_int_equal(s.n_tracks, 1);
    assert_false(s.tracks[0].recordable);
}

static void test_quirk_onvif_metadata_track_skipped(void **state)
{
    struct sdp_session s;
    int video = -1, meta = -1;

    (void)state;
    parse_realcam_sdp("hikvision_describe.txt", &s);
    assert_int_equal(s.n_tracks, 2);
    for (int i = 0; i < s.n_tracks; i++) {
        if (strcmp(s.tracks[i].media, "video") == 0)
            video = i;
        if (strcmp(s.tracks[i].encoding, "vnd.onvif.metadata") == 0)
            meta = i;
    }
    assert_true(video >= 0 && meta >= 0);
    assert_true(s.tracks[video].recordable);
    assert_false(s.tracks[meta].recordable);
    assert_string_equal(s.tracks[meta].media, "application");
    /* Dahua: H.264 + AAC + ONVIF metadata. */
    parse_realcam_sdp("dahua_describe_h264_aac_onvif.txt", &s);
    meta = -1;
    for (int i = 0; i < s.n_tracks; i++) {
        if (strcmp(s.tracks[i].encoding, "vnd.onvif.metadata") == 0)
            meta = i;
    }
    assert_true(meta >= 0);
    assert_false(s.tracks[meta].recordable);
    assert_true(s.tracks[0].recordable);
}

static void test_quirk_dahua_packetization_supported(void **state)
{
    struct sdp_session s;
    uint8_t *buf;
    size_t len;

    (void)state;
    buf = read_realcam("dahua_describe_h265_pcma.txt", &len);
    assert_non_null(strstr((const char *)buf, "packetization-supported:DH"));
    free(buf);
    parse_realcam_sdp("dahua_describe_h265_pcma.txt", &s);
    assert_int_equal(s.tracks[0].codec, NVR_CODEC_H265);
    assert_true(s.tracks[0].recordable);
    assert_true(s.tracks[0].params_len > 0);
    assert_int_equal(s.tracks[1].codec, NVR_CODEC_PCMA);
    assert_true(s.tracks[1].recordable);
}

static void test_quirk_payload_type_outside_dynamic_range(void **state)
{
    struct sdp_session s;

    (void)state;
    /* H.264 announced with a static-range payload type. */
    parse_sdp_str("v=0\r\nm=video 0 RTP/AVP 35\r\na=rtpmap:35 H264/90000\r\n"
                  "m=video 0 RTP/AVP 26\r\n",
                  &s);
    assert_int_equal(s.tracks[0].pt, 35);
    assert_int_equal(s.tracks[0].codec, NVR_CODEC_H264);
    assert_true(s.tracks[0].recordable);
    /* Static JPEG (RFC 3551) without an rtpmap. */
    assert_int_equal(s.tracks[1].pt, 26);
    assert_int_equal(s.tracks[1].codec, NVR_CODEC_MJPEG);
    assert_int_equal(s.tracks[1].clock_rate, 90000);
}

static void test_quirk_sprop_missing_params_from_stream(void **state)
{
    struct sdp_session s;
    struct nvr_track_info ti;
    struct dp d;
    uint8_t stap[128];
    size_t n = 1;

    (void)state;
    parse_sdp_str("v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
                  "a=fmtp:96 packetization-mode=1\r\n",
                  &s);
    assert_int_equal(s.tracks[0].params_len, 0);
    assert_true(s.tracks[0].recordable);
    /* Without parameters no unit comes out: no segment can start. */
    dp_init(&d, 0);
    (void)dp_push(&d, 96, idr, sizeof(idr), 0, 1);
    assert_int_equal(d.n, 0);
    /* SPS and PPS in band (STAP-A) before the next IDR: they are used. */
    stap[0] = 24;
    stap[n++] = 0;
    stap[n++] = sizeof(sps);
    memcpy(stap + n, sps, sizeof(sps));
    n += sizeof(sps);
    stap[n++] = 0;
    stap[n++] = sizeof(pps);
    memcpy(stap + n, pps, sizeof(pps));
    n += sizeof(pps);
    assert_int_equal(dp_push(&d, 96, stap, n, 3000, 0), 0);
    assert_int_equal(dp_push(&d, 96, idr, sizeof(idr), 3000, 1), 0);
    assert_int_equal(d.n, 1);
    assert_true(d.aus[0]->flags & NVR_AU_KEY);
    d.ops->get_info(d.st, &ti);
    assert_true(ti.params_len >= 8 + sizeof(sps) + sizeof(pps));
    assert_int_equal(ti.width, 640);
    assert_int_equal(ti.height, 360);
    dp_fini(&d);
}

static void test_quirk_sprop_missing_h265_params_from_stream(void **state)
{
    /* An IDR_W_RADL slice (type 19), first_slice_segment_in_pic_flag 1. */
    static const uint8_t idr265[] = {0x26, 0x01, 0xaf, 0x08, 0x40, 0x12};
    struct sdp_session s;
    struct sdp_track t;
    struct nvr_track_info ti;
    struct dp d;
    const uint8_t *nal[3];
    size_t nal_len[3], off = 0;
    int n = 0;

    (void)state;
    /* Dahua's VPS, SPS and PPS, sent in band instead of in the SDP. */
    parse_realcam_sdp("dahua_describe_h265_pcma.txt", &s);
    t = s.tracks[0];
    assert_int_equal(t.codec, NVR_CODEC_H265);
    while (off + 4 < t.params_len && n < 3) {
        size_t end = off + 4;

        while (end + 4 <= t.params_len &&
               memcmp(t.params + end, "\0\0\0\1", 4) != 0)
            end++;
        if (end + 4 > t.params_len)
            end = t.params_len;
        nal[n] = t.params + off + 4;
        nal_len[n++] = end - off - 4;
        off = end;
    }
    assert_int_equal(n, 3);
    t.params_len = 0;
    memset(&d, 0, sizeof(d));
    d.track = t;
    d.ops = depack_find(NVR_CODEC_H265);
    assert_non_null(d.ops);
    assert_int_equal(d.ops->create(&d.track, &d.st), 0);
    /* No parameters yet: the picture cannot start a segment. */
    (void)dp_push(&d, t.pt, idr265, sizeof(idr265), 0, 1);
    assert_int_equal(d.n, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(dp_push(&d, t.pt, nal[i], nal_len[i], 3600, 0), 0);
    assert_int_equal(dp_push(&d, t.pt, idr265, sizeof(idr265), 3600, 1), 0);
    assert_int_equal(d.n, 1);
    assert_true(d.aus[0]->flags & NVR_AU_KEY);
    d.ops->get_info(d.st, &ti);
    assert_true(ti.params_len >= 12 + nal_len[0] + nal_len[1] + nal_len[2]);
    dp_fini(&d);
}

static void test_quirk_sprop_invalid(void **state)
{
    struct sdp_session s;

    (void)state;
    /* Not base64, and base64 of something that is no SPS/PPS. */
    parse_sdp_str("v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
                  "a=fmtp:96 packetization-mode=1;"
                  "sprop-parameter-sets=!!!!,QUJD\r\n",
                  &s);
    assert_true(s.tracks[0].recordable);
    assert_int_equal(s.tracks[0].params_len, 0);
    assert_int_equal(s.tracks[0].packetization_mode, 1);
}

static void test_quirk_sprop_annexb(void **state)
{
    struct sdp_session s;
    uint8_t want[128];
    size_t want_len;

    (void)state;
    /* base64 of 00 00 00 01 <SPS> 00 00 00 01 <PPS>, in one item. */
    parse_sdp_str("v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
                  "a=fmtp:96 sprop-parameter-sets=AAAAAWdkAB6s2UCgL/lwEQAAAwAB"
                  "AAADADIPFi2WAAAAAWjr48siwA==\r\n",
                  &s);
    want_len = annexb2(want, sps, sizeof(sps), pps, sizeof(pps));
    assert_int_equal(s.tracks[0].params_len, want_len);
    assert_memory_equal(s.tracks[0].params, want, want_len);
}

static void test_quirk_sprop_extra_bytes_after_sps(void **state)
{
    struct sdp_session s;
    uint8_t want[128];
    size_t want_len;

    (void)state;
    /* The SPS item carries trailing zero bytes (00 00 00 00 after the
     * SPS), as some cameras send. */
    parse_sdp_str("v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
                  "a=fmtp:96 sprop-parameter-sets=Z2QAHqzZQKAv+XARAAADAAEAAAMA"
                  "Mg8WLZYAAAAA,aOvjyyLA\r\n",
                  &s);
    want_len = annexb2(want, sps, sizeof(sps), pps, sizeof(pps));
    assert_int_equal(s.tracks[0].params_len, want_len);
    assert_memory_equal(s.tracks[0].params, want, want_len);
}

/* ---- RTP and timing ---- */

static void test_quirk_marker_bit_on_sps_sei(void **state)
{
    struct dp d;
    uint8_t want[256];
    size_t n;

    (void)state;
    dp_init(&d, 1);
    /* Marker set on SPS, PPS and SEI: the unit still ends at the slice. */
    assert_int_equal(dp_push(&d, 96, sps, sizeof(sps), 0, 1), 0);
    assert_int_equal(dp_push(&d, 96, pps, sizeof(pps), 0, 1), 0);
    assert_int_equal(dp_push(&d, 96, sei, sizeof(sei), 0, 1), 0);
    assert_int_equal(d.n, 0);
    assert_int_equal(dp_push(&d, 96, idr, sizeof(idr), 0, 1), 0);
    assert_int_equal(d.n, 1);
    n = annexb2(want, sps, sizeof(sps), pps, sizeof(pps));
    n += annexb2(want + n, sei, sizeof(sei), idr, sizeof(idr));
    assert_int_equal(d.aus[0]->len, n);
    assert_memory_equal(d.aus[0]->data, want, n);
    dp_fini(&d);
}

static void test_quirk_fu_type_changes_mid_frame(void **state)
{
    struct dp d;
    struct depack_stats ds;
    uint8_t pkt[64];

    (void)state;
    dp_init(&d, 1);
    assert_int_equal(dp_push(&d, 96, pkt, fu(pkt, 0x80 | 5, 1, 4), 0, 0), 0);
    /* The middle fragment says non-IDR slice (type 1). */
    assert_int_equal(dp_push(&d, 96, pkt, fu(pkt, 1, 4, 6), 0, 0), -EBADMSG);
    (void)dp_push(&d, 96, pkt, fu(pkt, 0x40 | 5, 6, sizeof(idr)), 0, 1);
    /* That picture is dropped, never emitted half-assembled ... */
    assert_int_equal(d.n, 0);
    d.ops->get_stats(d.st, &ds);
    assert_true(ds.aus_dropped >= 1);
    /* ... and the next one comes through whole. */
    assert_int_equal(dp_push(&d, 96, pkt, fu(pkt, 0x80 | 5, 1, 4), 3000, 0), 0);
    assert_int_equal(
        dp_push(&d, 96, pkt, fu(pkt, 0x40 | 5, 4, sizeof(idr)), 3000, 1), 0);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.aus[0]->len, 4 + sizeof(idr));
    assert_memory_equal(d.aus[0]->data + 4, idr, sizeof(idr));
    dp_fini(&d);
}

static void test_quirk_fu_reserved_bit_set(void **state)
{
    struct dp d;
    uint8_t pkt[64];

    (void)state;
    dp_init(&d, 1);
    /* R (0x20) set on every fragment: ignored. */
    assert_int_equal(dp_push(&d, 96, pkt, fu(pkt, 0x80 | 0x20 | 5, 1, 4), 0, 0),
                     0);
    assert_int_equal(dp_push(&d, 96, pkt, fu(pkt, 0x20 | 5, 4, 6), 0, 0), 0);
    assert_int_equal(
        dp_push(&d, 96, pkt, fu(pkt, 0x40 | 0x20 | 5, 6, sizeof(idr)), 0, 1),
        0);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.aus[0]->len, 4 + sizeof(idr));
    assert_memory_equal(d.aus[0]->data + 4, idr, sizeof(idr));
    dp_fini(&d);
}

static void test_quirk_fu_empty_fragment(void **state)
{
    struct dp d;
    uint8_t pkt[64];

    (void)state;
    dp_init(&d, 1);
    assert_int_equal(dp_push(&d, 96, pkt, fu(pkt, 0x80 | 5, 1, 4), 0, 0), 0);
    /* A middle fragment with no payload byte, then an empty end. */
    assert_int_equal(dp_push(&d, 96, pkt, fu(pkt, 5, 4, 4), 0, 0), 0);
    assert_int_equal(dp_push(&d, 96, pkt, fu(pkt, 5, 4, sizeof(idr)), 0, 0), 0);
    assert_int_equal(dp_push(&d, 96, pkt, fu(pkt, 0x40 | 5, 8, 8), 0, 1), 0);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.aus[0]->len, 4 + sizeof(idr));
    assert_memory_equal(d.aus[0]->data + 4, idr, sizeof(idr));
    dp_fini(&d);
}

static void test_quirk_payload_type_50_mixed_in(void **state)
{
    struct dp d;

    (void)state;
    dp_init(&d, 1);
    /* Geovision's payload type 50 between the video packets: refused
     * without disturbing the unit being assembled. */
    assert_int_equal(dp_push(&d, 96, sei, sizeof(sei), 0, 0), 0);
    assert_int_equal(dp_push(&d, 50, idr, sizeof(idr), 0, 1), -EPROTO);
    assert_int_equal(d.n, 0);
    assert_int_equal(dp_push(&d, 96, idr, sizeof(idr), 0, 1), 0);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.aus[0]->len, 8 + sizeof(sei) + sizeof(idr));
    dp_fini(&d);
}

static void test_quirk_rtpinfo_bad_seq_rtptime(void **state)
{
    struct rtsp_rtpinfo ri;
    static const char v[] = "url=trackID=1;seq=-1;rtptime=abc,"
                            "url=trackID=2;seq=70000;rtptime=4294967296,"
                            "url=trackID=3;seq=0;rtptime=1";
    struct rtp_seq sq;
    struct rtp_hdr h;

    (void)state;
    assert_int_equal(rtsp_parse_rtpinfo(v, strlen(v), &ri), 0);
    assert_int_equal(ri.n, 3);
    assert_false(ri.entries[0].has_seq);
    assert_false(ri.entries[0].has_rtptime);
    assert_false(ri.entries[1].has_seq);
    assert_false(ri.entries[1].has_rtptime);
    /* 0 and 1 parse, but are not trusted: the packets are. */
    assert_true(ri.entries[2].has_seq);
    memset(&sq, 0, sizeof(sq));
    memset(&h, 0, sizeof(h));
    h.pt = 96;
    h.seq = 40000;
    h.ts = 123456;
    h.ssrc = 5;
    assert_true(rtp_seq_update(&sq, &h) >= 0);
    h.seq++;
    assert_int_equal(rtp_seq_update(&sq, &h), RTP_SEQ_OK);
    assert_int_equal(sq.lost, 0);
}

static void test_quirk_timestamp_jump_new_segment(void **state)
{
    struct rtp_seq sq;
    struct rtp_hdr h;
    struct wallclock wc;
    struct wallclock_track t;
    int64_t now = 1700000000000000, wall, prev;
    unsigned fl;

    (void)state;
    memset(&sq, 0, sizeof(sq));
    memset(&h, 0, sizeof(h));
    h.seq = 100;
    h.ssrc = 1;
    (void)rtp_seq_update(&sq, &h);
    h.seq = 101;
    assert_int_equal(rtp_seq_update(&sq, &h), RTP_SEQ_OK);
    /* A camera reboot: new SSRC, or a sequence reset. */
    h.ssrc = 2;
    h.seq = 7;
    assert_int_equal(rtp_seq_update(&sq, &h), RTP_SEQ_RESET);
    h.seq = 30000;
    assert_int_equal(rtp_seq_update(&sq, &h), RTP_SEQ_RESET);
    /* A timestamp jump starts a new time line (a new segment). */
    wallclock_init(&wc);
    wallclock_track_init(&t, 90000);
    (void)wallclock_unit(&wc, &t, 0, now, 1, &prev);
    fl = wallclock_unit(&wc, &t, 3600, now + 40000, 1, &wall);
    assert_false(fl & WALLCLOCK_DISCONT);
    assert_true(wall > prev);
    prev = wall;
    fl = wallclock_unit(&wc, &t, 3600 + 90000 * 3600LL, now + 80000, 1, &wall);
    assert_true(fl & WALLCLOCK_DISCONT);
    /* Never backwards. */
    assert_true(wall > prev);
    fl = wallclock_unit(&wc, &t, 3600 - 90000 * 60LL, now + 120000, 1, &wall);
    assert_true(fl & WALLCLOCK_DISCONT);
}

static void test_quirk_fps_lies_and_clock_drift(void **state)
{
    struct wallclock wc;
    struct wallclock_track t;
    int64_t start = 1700000000000000, wall, prev = 0, first = 0;
    const int64_t step_ticks = 90000 / 21; /* says 25 fps, sends 21 */

    (void)state;
    wallclock_init(&wc);
    wallclock_track_init(&t, 90000);
    /* Ten minutes; the camera's clock runs 1000 ppm fast against ours,
     * and no RTCP sender report ever arrives. */
    for (int64_t i = 0; i < 21 * 600; i++) {
        int64_t media_us = i * step_ticks * 1000000 / 90000;
        int64_t now = start + media_us - media_us / 1000;
        unsigned fl = wallclock_unit(&wc, &t, i * step_ticks, now, 1, &wall);

        if (i == 0)
            first = wall;
        else
            assert_true(wall > prev);
        assert_false(fl & WALLCLOCK_DISCONT);
        prev = wall;
    }
    /* Wall time follows the recorder's clock, not the camera's: after
     * 600 s the slewed time line is within a second of ours. */
    {
        int64_t media_us = (21 * 600 - 1) * step_ticks * 1000000 / 90000;
        int64_t ours = start + media_us - media_us / 1000;

        assert_true(prev - ours < 1000000 && ours - prev < 1000000);
        assert_true(prev - first > 590 * 1000000LL);
    }
}

static void test_quirk_udp_reorder_and_loss(void **state)
{
    struct rtp_seq sq;
    struct rtp_hdr h;

    (void)state;
    memset(&sq, 0, sizeof(sq));
    memset(&h, 0, sizeof(h));
    h.ssrc = 9;
    h.seq = 65534;
    (void)rtp_seq_update(&sq, &h);
    h.seq = 65535;
    assert_int_equal(rtp_seq_update(&sq, &h), RTP_SEQ_OK);
    /* Wraps, then two packets lost. */
    h.seq = 2;
    assert_int_equal(rtp_seq_update(&sq, &h), RTP_SEQ_LOSS);
    assert_int_equal(sq.lost, 2);
    /* A late duplicate is dropped, not counted as a restart. */
    h.seq = 65535;
    assert_true(rtp_seq_update(&sq, &h) < 0);
    h.seq = 3;
    assert_int_equal(rtp_seq_update(&sq, &h), RTP_SEQ_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quirk_auth_digest_preferred_over_basic),
        cmocka_unit_test(test_quirk_auth_digest_opaque_and_qop),
        cmocka_unit_test(test_quirk_auth_second_401_is_wrong_password),
        cmocka_unit_test(test_quirk_cseq_trailing_whitespace),
        cmocka_unit_test(test_quirk_ssrc_with_spaces),
        cmocka_unit_test(test_quirk_rtpinfo_trailing_semicolon),
        cmocka_unit_test(test_quirk_describe_without_content_type),
        cmocka_unit_test(test_quirk_content_base_without_scheme),
        cmocka_unit_test(test_quirk_control_url_live555_join),
        cmocka_unit_test(test_quirk_control_before_other_attributes),
        cmocka_unit_test(test_quirk_session_id_change_between_setups),
        cmocka_unit_test(test_quirk_ssrc_only_in_rtp_info),
        cmocka_unit_test(test_quirk_keepalive_half_session_timeout),
        cmocka_unit_test(test_quirk_keepalive_method_from_public),
        cmocka_unit_test(test_quirk_tcp_refused),
        cmocka_unit_test(test_quirk_teardown_ignored),
        cmocka_unit_test(test_quirk_interleaved_unknown_channel),
        cmocka_unit_test(test_quirk_rtcp_before_play_response),
        cmocka_unit_test(test_quirk_rtp_between_play_request_and_response),
        cmocka_unit_test(test_quirk_sdp_missing_o_line),
        cmocka_unit_test(test_quirk_rtpmap_trailing_space),
        cmocka_unit_test(test_quirk_empty_fmtp),
        cmocka_unit_test(test_quirk_unknown_media_skipped),
        cmocka_unit_test(test_quirk_onvif_metadata_track_skipped),
        cmocka_unit_test(test_quirk_dahua_packetization_supported),
        cmocka_unit_test(test_quirk_payload_type_outside_dynamic_range),
        cmocka_unit_test(test_quirk_sprop_missing_params_from_stream),
        cmocka_unit_test(test_quirk_sprop_missing_h265_params_from_stream),
        cmocka_unit_test(test_quirk_sprop_invalid),
        cmocka_unit_test(test_quirk_sprop_annexb),
        cmocka_unit_test(test_quirk_sprop_extra_bytes_after_sps),
        cmocka_unit_test(test_quirk_marker_bit_on_sps_sei),
        cmocka_unit_test(test_quirk_fu_type_changes_mid_frame),
        cmocka_unit_test(test_quirk_fu_reserved_bit_set),
        cmocka_unit_test(test_quirk_fu_empty_fragment),
        cmocka_unit_test(test_quirk_payload_type_50_mixed_in),
        cmocka_unit_test(test_quirk_rtpinfo_bad_seq_rtptime),
        cmocka_unit_test(test_quirk_timestamp_jump_new_segment),
        cmocka_unit_test(test_quirk_fps_lies_and_clock_drift),
        cmocka_unit_test(test_quirk_udp_reorder_and_loss),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
