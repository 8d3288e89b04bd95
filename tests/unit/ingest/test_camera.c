/* SPDX-License-Identifier: MIT */
/*
 * Tests of ingest/camera.c and ingest/rtsp_session.c: a real uv loop runs
 * the camera against a scripted RTSP server in the same process on
 * 127.0.0.1. The server answers with real camera transcripts from
 * NVR_REALCAM_DIR (CSeq rewritten) and, after PLAY, replays the interleaved
 * bytes of a real session (bunny.rtsp). Covers the handshake, Digest
 * authentication, wrong passwords, reconnects with growing backoff,
 * deadlines, malformed answers, and closing in every state.
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
#include <uv.h>

#include "ingest/camera.h"
#include "ingest/rtsp_auth.h"
#include "ingest/rtsp_msg.h"
#include "nvr/base/log.h"

#define MAX_CONNS  16
#define CONN_BUF   65536
#define MAX_EVENTS 64
#define REALM      "Surveillance Server"
#define NONCE      "98481030"

/* ---- fixtures ---- */

static const char *realcam_dir(void)
{
    const char *d = getenv("NVR_REALCAM_DIR");

    return d && d[0] ? d : "../shared/realcam";
}

/* Reads a fixture whole; returns owned bytes, NUL-terminated. */
static char *load(const char *name, size_t *len)
{
    char path[1024];
    FILE *f;
    char *buf;
    long n;

    snprintf(path, sizeof(path), "%s/%s", realcam_dir(), name);
    f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* A transcript with its "CSeq:" line rewritten to cseq. Returns owned. */
static char *load_with_cseq(const char *name, uint32_t cseq, size_t *len)
{
    size_t n;
    char *in = load(name, &n);
    char *at = strstr(in, "CSeq:");
    char *eol, *out;
    int k;

    assert_non_null(at);
    eol = strstr(at, "\r\n");
    assert_non_null(eol);
    out = malloc(n + 32);
    assert_non_null(out);
    k = snprintf(out, n + 32, "%.*sCSeq: %u%s", (int)(at - in), in,
                 (unsigned)cseq, eol);
    free(in);
    *len = (size_t)k;
    return out;
}

/* ---- the fake RTSP server ---- */

enum srv_mode {
    SRV_NORMAL = 0, /* bunny DESCRIBE, SETUP, PLAY, then media */
    SRV_SILENT,     /* accepts, reads, never answers */
    SRV_GARBAGE,    /* answers with bytes that are not RTSP */
    SRV_HIKVISION,  /* Hikvision transcripts, no media */
};

struct fake_server;

struct fake_conn {
    uv_tcp_t tcp;
    uv_shutdown_t shutdown_req;
    struct fake_server *srv;
    int slot;
    int closing;
    size_t len;
    uint8_t buf[CONN_BUF];
};

struct fake_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    int port;
    enum srv_mode mode;
    int require_auth;      /* Digest on everything but OPTIONS */
    int basic_only;        /* with require_auth: challenge Basic instead */
    const char *password;  /* the one the server accepts */
    int close_after_media; /* FIN after the media burst */
    int close_after_401;   /* FIN after every 401 */
    int no_teardown_answer;
    int send_junk_first;      /* a server request and stray data first */
    int session_timeout_s;    /* in the SETUP answer; 0: 60 */
    const char *content_base; /* replaces bunny's Content-Base value */
    int media_again_new_ssrc; /* replay the media with another SSRC */
    int random_frames;        /* then this many frames of noise */
    int endless_fua;          /* after PLAY, only an FU-A that never ends */
    const char *public_hdr;   /* the OPTIONS answer's Public, if set */
    int refuse_tcp;           /* answer interleaved SETUPs with this */
    int bye_after_ms;         /* RTCP BYE on every track after PLAY */
    uv_timer_t bye_timer;
    struct fake_conn *bye_conn;
    int n_get_parameter;
    char get_parameter_uri[512];
    char get_parameter_session[128];
    char setup_transports[4][256]; /* the Transport of the first SETUPs */
    uv_timer_t fua_timer;          /* sends its next fragment */
    struct fake_conn *fua_conn;
    uint16_t fua_seq;
    int n_conns;
    int n_open;
    struct fake_conn *conns[MAX_CONNS];
    int n_options, n_describe, n_setup, n_play, n_teardown, n_other;
    int n_401, n_auth_ok, n_auth_bad, n_501;
    int saw_secret; /* the password appeared in a request */
    char setup_uri[512];
    char setup_transport[256];
    char play_uri[512];
    char teardown_uri[512];
    char options_session[128]; /* Session header of the last OPTIONS */
    char teardown_session[128];
    uint8_t *media;
    size_t media_len;
};

struct srv_write {
    uv_write_t req;
    char data[];
};

static void srv_write_cb(uv_write_t *req, int status)
{
    (void)status;
    free(nvr_container_of(req, struct srv_write, req));
}

static void srv_send(struct fake_conn *c, const void *data, size_t len)
{
    struct srv_write *w;
    uv_buf_t b;

    if (c->closing)
        return;
    w = malloc(sizeof(*w) + len);
    assert_non_null(w);
    memcpy(w->data, data, len);
    b = uv_buf_init(w->data, (unsigned int)len);
    assert_int_equal(
        uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, srv_write_cb), 0);
}

static void srv_send_str(struct fake_conn *c, const char *s)
{
    srv_send(c, s, strlen(s));
}

static void srv_conn_closed(uv_handle_t *h)
{
    struct fake_conn *c = nvr_container_of(h, struct fake_conn, tcp);

    if (c->srv->fua_conn == c)
        c->srv->fua_conn = NULL;
    c->srv->conns[c->slot] = NULL;
    c->srv->n_open--;
    free(c);
}

static void srv_conn_close(struct fake_conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    uv_close((uv_handle_t *)&c->tcp, srv_conn_closed);
}

static void srv_shutdown_cb(uv_shutdown_t *req, int status)
{
    (void)status;
    srv_conn_close(nvr_container_of(req, struct fake_conn, shutdown_req));
}

static int hdr_copy(const struct rtsp_msg *m, const char *name, char *out,
                    size_t size)
{
    return rtsp_msg_header_copy(m, name, out, size);
}

/* Digest without qop is deterministic: compute what the client must send. */
static int auth_ok(struct fake_server *srv, const struct rtsp_msg *m,
                   const char *method, const char *uri)
{
    struct rtsp_auth a;
    char want[1024], got[1024];

    if (hdr_copy(m, "Authorization", got, sizeof(got)) != 0)
        return 0;
    memset(&a, 0, sizeof(a));
    a.scheme = srv->basic_only ? RTSP_AUTH_BASIC : RTSP_AUTH_DIGEST;
    snprintf(a.realm, sizeof(a.realm), "%s", REALM);
    snprintf(a.nonce, sizeof(a.nonce), "%s", NONCE);
    assert_int_equal(rtsp_auth_header(&a, method, uri, "admin", srv->password,
                                      want, sizeof(want)),
                     0);
    if (strcmp(want, got) == 0) {
        srv->n_auth_ok++;
        return 1;
    }
    srv->n_auth_bad++;
    return 0;
}

static void srv_reply_401(struct fake_conn *c, uint32_t cseq)
{
    char buf[512];

    c->srv->n_401++;
    if (c->srv->basic_only)
        snprintf(buf, sizeof(buf),
                 "RTSP/1.0 401 Unauthorized\r\nCSeq: %u\r\n"
                 "WWW-Authenticate: Basic realm=\"" REALM "\"\r\n\r\n",
                 (unsigned)cseq);
    else
        snprintf(buf, sizeof(buf),
                 "RTSP/1.0 401 Unauthorized\r\nCSeq: %u \r\n"
                 "WWW-Authenticate: Digest realm=\"" REALM "\", nonce=\"" NONCE
                 "\"\r\n\r\n",
                 (unsigned)cseq);
    srv_send_str(c, buf);
}

static void srv_send_file(struct fake_conn *c, const char *name, uint32_t cseq)
{
    size_t n;
    char *r = load_with_cseq(name, cseq, &n);

    srv_send(c, r, n);
    free(r);
}

/* bunny's DESCRIBE answer with another Content-Base value. */
static void srv_send_describe_with_base(struct fake_conn *c, uint32_t cseq,
                                        const char *base)
{
    size_t n;
    char *in = load_with_cseq("bunny_describe.txt", cseq, &n);
    char *at = strstr(in, "Content-Base: ");
    char *eol, *out;
    int k;

    assert_non_null(at);
    eol = strstr(at, "\r\n");
    assert_non_null(eol);
    out = malloc(n + strlen(base) + 32);
    assert_non_null(out);
    k = sprintf(out, "%.*sContent-Base: %s%s", (int)(at - in), in, base, eol);
    srv_send(c, out, (size_t)k);
    free(out);
    free(in);
}

/* The media again, as if the camera restarted its RTP stream: every
 * packet's SSRC (RTP header bytes 8-11) changed. */
static void srv_send_media_new_ssrc(struct fake_conn *c)
{
    struct fake_server *srv = c->srv;
    uint8_t *m = malloc(srv->media_len);
    size_t pos = 0;

    assert_non_null(m);
    memcpy(m, srv->media, srv->media_len);
    while (pos + 4 <= srv->media_len) {
        size_t len = (size_t)m[pos + 2] << 8 | m[pos + 3];

        assert_int_equal(m[pos], '$');
        if (len >= 12)
            m[pos + 4 + 8] ^= 0x5a;
        pos += 4 + len;
    }
    srv_send(c, m, srv->media_len);
    free(m);
}

/* Interleaved frames of seeded noise on the first 16 channels, some with a
 * valid-looking RTP version and the H.264 track's payload type. */
static void srv_send_random_frames(struct fake_conn *c, int n)
{
    static uint8_t frame[4 + 1500];
    uint64_t x = 0x2545f4914f6cdd1dULL;

    for (int i = 0; i < n; i++) {
        size_t len;

        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        len = (size_t)(x % 1500);
        frame[0] = '$';
        frame[1] = (uint8_t)(x >> 20) & 15;
        frame[2] = (uint8_t)(len >> 8);
        frame[3] = (uint8_t)len;
        for (size_t k = 0; k < len; k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            frame[4 + k] = (uint8_t)x;
        }
        if (len >= 12 && (i & 1)) {
            frame[4] = 0x80;
            frame[5] = (uint8_t)((frame[5] & 0x80) | 97);
        }
        srv_send(c, frame, 4 + len);
    }
}

/* One fragment of an H.264 IDR slice in an FU-A (RFC 6184 5.8) on the
 * video track of bunny (channel 2, payload type 97): the first one starts
 * it, none ever ends it. Valid RTP, so the media deadline never fires. */
static void srv_fua_cb(uv_timer_t *t)
{
    struct fake_server *srv =
        nvr_container_of(t, struct fake_server, fua_timer);
    uint8_t pkt[4 + 12 + 2 + 1000];
    uint16_t seq = srv->fua_seq++;

    if (!srv->fua_conn)
        return;
    memset(pkt, 0xab, sizeof(pkt));
    pkt[0] = '$';
    pkt[1] = 2;
    pkt[2] = (uint8_t)((sizeof(pkt) - 4) >> 8);
    pkt[3] = (uint8_t)(sizeof(pkt) - 4);
    pkt[4] = 0x80;
    pkt[5] = 97;
    pkt[6] = (uint8_t)(seq >> 8);
    pkt[7] = (uint8_t)seq;
    memset(pkt + 8, 0, 4);            /* timestamp */
    memset(pkt + 12, 0x11, 4);        /* SSRC */
    pkt[16] = 0x7c;                   /* FU indicator: NRI 3, type 28 */
    pkt[17] = seq == 0 ? 0x85 : 0x05; /* S on the first, never E */
    srv_send(srv->fua_conn, pkt, sizeof(pkt));
}

/* An RTCP BYE (RFC 3550 6.6) from the SSRC of bunny's SETUP answer on
 * the RTCP channel of each of bunny's two tracks (1 and 3). */
static void srv_bye_cb(uv_timer_t *t)
{
    struct fake_server *srv =
        nvr_container_of(t, struct fake_server, bye_timer);
    static const uint8_t bye[] = {0x81, 203, 0, 1, 0x4c, 0xac, 0xc3, 0xd1};

    if (!srv->bye_conn)
        return;
    for (int ch = 1; ch <= 3; ch += 2) {
        uint8_t frame[4 + sizeof(bye)] = {'$', (uint8_t)ch, 0, sizeof(bye)};

        memcpy(frame + 4, bye, sizeof(bye));
        srv_send(srv->bye_conn, frame, sizeof(frame));
    }
    srv->bye_conn = NULL;
}

static void srv_on_request(struct fake_conn *c, const struct rtsp_msg *m)
{
    struct fake_server *srv = c->srv;
    char method[32], uri[512], buf[1024];
    uint32_t cseq = 0;

    if (m->is_response) {
        if (m->status == 501)
            srv->n_501++;
        return;
    }
    snprintf(method, sizeof(method), "%.*s", (int)m->method_len, m->method);
    snprintf(uri, sizeof(uri), "%.*s", (int)m->uri_len, m->uri);
    assert_int_equal(rtsp_msg_cseq(m, &cseq), 0);

    if (srv->mode == SRV_SILENT)
        return;
    if (srv->mode == SRV_GARBAGE) {
        srv_send_str(c, "\x01\x02 this is not RTSP\r\n\r\n");
        return;
    }
    if (strcmp(method, "OPTIONS") == 0) {
        srv->n_options++;
        if (hdr_copy(m, "Session", srv->options_session,
                     sizeof(srv->options_session)) != 0)
            srv->options_session[0] = '\0';
        if (srv->send_junk_first && srv->n_options == 1) {
            /* A request from the server and data on a channel that was
             * never set up, before the answer. */
            static const uint8_t junk[] = {'$', 7, 0, 4, 1, 2, 3, 4};

            srv_send_str(c, "GET_PARAMETER rtsp://127.0.0.1/ RTSP/1.0\r\n"
                            "CSeq: 99\r\n\r\n");
            srv_send(c, junk, sizeof(junk));
        }
        snprintf(buf, sizeof(buf),
                 "RTSP/1.0 200 OK\r\nCSeq: %u\r\nPublic: %s\r\n\r\n",
                 (unsigned)cseq,
                 srv->public_hdr ? srv->public_hdr
                                 : "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN");
        srv_send_str(c, buf);
        return;
    }
    if (strcmp(method, "GET_PARAMETER") == 0 && srv->public_hdr &&
        strstr(srv->public_hdr, "GET_PARAMETER")) {
        srv->n_get_parameter++;
        snprintf(srv->get_parameter_uri, sizeof(srv->get_parameter_uri), "%s",
                 uri);
        if (hdr_copy(m, "Session", srv->get_parameter_session,
                     sizeof(srv->get_parameter_session)) != 0)
            srv->get_parameter_session[0] = '\0';
        snprintf(buf, sizeof(buf), "RTSP/1.0 200 OK\r\nCSeq: %u\r\n\r\n",
                 (unsigned)cseq);
        srv_send_str(c, buf);
        return;
    }
    if (strcmp(method, "TEARDOWN") == 0) {
        srv->n_teardown++;
        snprintf(srv->teardown_uri, sizeof(srv->teardown_uri), "%s", uri);
        if (hdr_copy(m, "Session", srv->teardown_session,
                     sizeof(srv->teardown_session)) != 0)
            srv->teardown_session[0] = '\0';
        if (srv->no_teardown_answer)
            return;
        snprintf(buf, sizeof(buf), "RTSP/1.0 200 OK\r\nCSeq: %u\r\n\r\n",
                 (unsigned)cseq);
        srv_send_str(c, buf);
        return;
    }
    if (strcmp(method, "DESCRIBE") == 0)
        srv->n_describe++;
    if (srv->require_auth && !auth_ok(srv, m, method, uri)) {
        srv_reply_401(c, cseq);
        if (srv->close_after_401 && !c->closing)
            assert_int_equal(uv_shutdown(&c->shutdown_req,
                                         (uv_stream_t *)&c->tcp,
                                         srv_shutdown_cb),
                             0);
        return;
    }
    if (strcmp(method, "DESCRIBE") == 0) {
        if (srv->content_base)
            srv_send_describe_with_base(c, cseq, srv->content_base);
        else
            srv_send_file(c,
                          srv->mode == SRV_HIKVISION ? "hikvision_describe.txt"
                                                     : "bunny_describe.txt",
                          cseq);
    } else if (strcmp(method, "SETUP") == 0) {
        char tr[256];

        srv->n_setup++;
        snprintf(srv->setup_uri, sizeof(srv->setup_uri), "%s", uri);
        if (hdr_copy(m, "Transport", tr, sizeof(tr)) != 0)
            tr[0] = '\0';
        snprintf(srv->setup_transport, sizeof(srv->setup_transport), "%s", tr);
        if (srv->n_setup <= 4)
            snprintf(srv->setup_transports[srv->n_setup - 1],
                     sizeof(srv->setup_transports[0]), "%s", tr);
        if (srv->refuse_tcp && strstr(tr, "interleaved")) {
            snprintf(buf, sizeof(buf),
                     "RTSP/1.0 %d Unsupported transport\r\nCSeq: %u\r\n\r\n",
                     srv->refuse_tcp, (unsigned)cseq);
            srv_send_str(c, buf);
            return;
        }
        if (strstr(tr, "client_port"))
            strncat(tr, ";server_port=9-10", sizeof(tr) - strlen(tr) - 1);
        snprintf(buf, sizeof(buf),
                 "RTSP/1.0 200 OK\r\nCSeq: %u\r\nSession:   12345678;"
                 "timeout=%d\r\nTransport: %s;ssrc=4cacc3d1\r\n\r\n",
                 (unsigned)cseq,
                 srv->session_timeout_s ? srv->session_timeout_s : 60, tr);
        srv_send_str(c, buf);
    } else if (strcmp(method, "PLAY") == 0) {
        srv->n_play++;
        snprintf(srv->play_uri, sizeof(srv->play_uri), "%s", uri);
        if (srv->mode == SRV_HIKVISION) {
            srv_send_file(c, "hikvision_play.txt", cseq);
            return;
        }
        srv_send_file(c, "bunny_play.txt", cseq);
        if (srv->endless_fua) {
            srv->fua_conn = c;
            srv->fua_seq = 0;
            assert_int_equal(uv_timer_start(&srv->fua_timer, srv_fua_cb, 0, 10),
                             0);
            return;
        }
        srv_send(c, srv->media, srv->media_len);
        if (srv->bye_after_ms) {
            srv->bye_conn = c;
            assert_int_equal(uv_timer_start(&srv->bye_timer, srv_bye_cb,
                                            (uint64_t)srv->bye_after_ms, 0),
                             0);
        }
        if (srv->media_again_new_ssrc)
            srv_send_media_new_ssrc(c);
        if (srv->random_frames)
            srv_send_random_frames(c, srv->random_frames);
        if (srv->close_after_media)
            assert_int_equal(uv_shutdown(&c->shutdown_req,
                                         (uv_stream_t *)&c->tcp,
                                         srv_shutdown_cb),
                             0);
    } else {
        srv->n_other++;
        snprintf(buf, sizeof(buf),
                 "RTSP/1.0 501 Not Implemented\r\nCSeq: %u\r\n\r\n",
                 (unsigned)cseq);
        srv_send_str(c, buf);
    }
}

static void srv_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct fake_conn *c = nvr_container_of(h, struct fake_conn, tcp);

    (void)suggested;
    *buf = uv_buf_init((char *)c->buf + c->len,
                       (unsigned int)(sizeof(c->buf) - c->len));
}

static void srv_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct fake_conn *c = nvr_container_of(s, struct fake_conn, tcp);
    size_t pos = 0;

    (void)b;
    if (nread < 0) {
        srv_conn_close(c);
        return;
    }
    c->len += (size_t)nread;
    if (c->srv->password &&
        memmem(c->buf, c->len, c->srv->password, strlen(c->srv->password)))
        c->srv->saw_secret = 1;
    while (pos < c->len && !c->closing) {
        struct rtsp_msg m;
        int r = rtsp_msg_parse(c->buf + pos, c->len - pos, &m);

        if (r == -EAGAIN)
            break;
        assert_true(r > 0);
        srv_on_request(c, &m);
        pos += (size_t)r;
    }
    memmove(c->buf, c->buf + pos, c->len - pos);
    c->len -= pos;
}

static void srv_on_connection(uv_stream_t *listener, int status)
{
    struct fake_server *srv =
        nvr_container_of(listener, struct fake_server, listener);
    struct fake_conn *c;
    int slot = -1;

    assert_int_equal(status, 0);
    for (int i = 0; i < MAX_CONNS; i++) {
        if (!srv->conns[i]) {
            slot = i;
            break;
        }
    }
    assert_true(slot >= 0);
    c = calloc(1, sizeof(*c));
    assert_non_null(c);
    c->srv = srv;
    c->slot = slot;
    srv->conns[slot] = c;
    srv->n_conns++;
    srv->n_open++;
    assert_int_equal(uv_tcp_init(srv->loop, &c->tcp), 0);
    assert_int_equal(uv_accept(listener, (uv_stream_t *)&c->tcp), 0);
    assert_int_equal(
        uv_read_start((uv_stream_t *)&c->tcp, srv_alloc_cb, srv_read_cb), 0);
}

static int bound_port(uv_tcp_t *tcp)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);

    assert_int_equal(uv_tcp_getsockname(tcp, (struct sockaddr *)&ss, &len), 0);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void srv_start(struct fake_server *srv, uv_loop_t *loop)
{
    struct sockaddr_in a;
    size_t n;

    srv->loop = loop;
    srv->media = (uint8_t *)load("bunny.rtsp", &n);
    srv->media_len = n;
    /* On srv->port if one was picked (a camera coming back), else any. */
    assert_int_equal(uv_ip4_addr("127.0.0.1", srv->port, &a), 0);
    assert_int_equal(uv_tcp_init(loop, &srv->listener), 0);
    assert_int_equal(
        uv_tcp_bind(&srv->listener, (const struct sockaddr *)&a, 0), 0);
    assert_int_equal(
        uv_listen((uv_stream_t *)&srv->listener, 8, srv_on_connection), 0);
    srv->port = bound_port(&srv->listener);
    assert_int_equal(uv_timer_init(loop, &srv->fua_timer), 0);
    assert_int_equal(uv_timer_init(loop, &srv->bye_timer), 0);
}

static void srv_stop(struct fake_server *srv)
{
    if (!srv->loop)
        return;
    for (int i = 0; i < MAX_CONNS; i++) {
        if (srv->conns[i])
            srv_conn_close(srv->conns[i]);
    }
    if (!uv_is_closing((uv_handle_t *)&srv->listener))
        uv_close((uv_handle_t *)&srv->listener, NULL);
    if (!uv_is_closing((uv_handle_t *)&srv->fua_timer))
        uv_close((uv_handle_t *)&srv->fua_timer, NULL);
    if (!uv_is_closing((uv_handle_t *)&srv->bye_timer))
        uv_close((uv_handle_t *)&srv->bye_timer, NULL);
    free(srv->media);
    srv->media = NULL;
}

/* A port nobody listens on: bind one, note it, close it. */
static int free_port(uv_loop_t *loop)
{
    struct sockaddr_in a;
    uv_tcp_t t;
    int port;

    assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &a), 0);
    assert_int_equal(uv_tcp_init(loop, &t), 0);
    assert_int_equal(uv_tcp_bind(&t, (const struct sockaddr *)&a, 0), 0);
    port = bound_port(&t);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return port;
}

/* ---- the camera's owner ---- */

struct event {
    char kind; /* 's' state, 'i' stream, 'b' break */
    enum ingest_state st;
    int err;
    uint64_t at_ms;
};

struct harness {
    uv_loop_t loop;
    uv_timer_t tick; /* keeps uv_run(ONCE) from blocking forever */
    struct fake_server srv;
    struct ingest_camera *cam;
    struct ingest_camera_config cfg;
    char url[256];

    struct event ev[MAX_EVENTS];
    int n_ev;
    int n_state[INGEST_STATE_STOPPED + 1];
    enum ingest_state state;
    int last_err;
    char last_msg[256];
    int n_stream, n_au, n_break;
    int au_before_stream;
    int first_au_key;
    int pts_monotonic, wall_monotonic;
    int64_t last_pts[NVR_MAX_TRACKS], last_wall[NVR_MAX_TRACKS]; /* per track */
    int au_bad_track;
    int n_discont;     /* units of track 0 flagged NVR_AU_DISCONT */
    int discont_key;   /* the first of them was a keyframe */
    int au_at_discont; /* n_au when it came */
    struct nvr_stream_info info;
    int last_break_err;
    int n_closed;

    /* Close the camera from inside a callback. */
    int close_at_au;                  /* at this on_au count */
    enum ingest_state close_on_state; /* in on_state for this state */
    int close_on_state_set;
};

static void cam_closed(void *user)
{
    struct harness *h = user;

    h->n_closed++;
}

static void log_event(struct harness *h, char kind, enum ingest_state st,
                      int err)
{
    if (h->n_ev < MAX_EVENTS) {
        h->ev[h->n_ev].kind = kind;
        h->ev[h->n_ev].st = st;
        h->ev[h->n_ev].err = err;
        h->ev[h->n_ev].at_ms = uv_now(&h->loop);
        h->n_ev++;
    }
}

static void on_state(void *user, enum ingest_state st, int err, const char *msg)
{
    struct harness *h = user;

    assert_true(h->n_closed == 0);
    h->state = st;
    h->n_state[st]++;
    h->last_err = err;
    snprintf(h->last_msg, sizeof(h->last_msg), "%s", msg ? msg : "");
    log_event(h, 's', st, err);
    if (h->close_on_state_set && st == h->close_on_state && h->cam) {
        ingest_camera_close(h->cam, cam_closed, h);
        h->cam = NULL;
    }
}

static void on_stream(void *user, const struct nvr_stream_info *info)
{
    struct harness *h = user;

    assert_true(h->n_closed == 0);
    h->n_stream++;
    h->info = *info;
    log_event(h, 'i', h->state, 0);
}

static void on_au(void *user, struct nvr_au *au)
{
    struct harness *h = user;

    assert_true(h->n_closed == 0);
    if (h->n_stream == 0)
        h->au_before_stream = 1;
    if (au->track < 0 || au->track >= h->info.n_tracks ||
        au->track >= NVR_MAX_TRACKS) {
        h->au_bad_track = 1;
        h->n_au++;
        nvr_au_unref(au);
        return;
    }
    if (h->n_au == 0) {
        h->first_au_key = (au->flags & NVR_AU_KEY) != 0;
        h->pts_monotonic = h->wall_monotonic = 1;
    } else if (!(au->flags & NVR_AU_DISCONT) &&
               h->last_pts[au->track] != INT64_MIN) {
        if (au->pts <= h->last_pts[au->track])
            h->pts_monotonic = 0;
        if (au->wall_us <= h->last_wall[au->track])
            h->wall_monotonic = 0;
    }
    if ((au->flags & NVR_AU_DISCONT) && au->track == 0 && h->n_discont++ == 0) {
        h->discont_key = (au->flags & NVR_AU_KEY) != 0;
        h->au_at_discont = h->n_au;
    }
    h->last_pts[au->track] = au->pts;
    h->last_wall[au->track] = au->wall_us;
    h->n_au++;
    nvr_au_unref(au);
    if (h->close_at_au && h->n_au == h->close_at_au && h->cam) {
        ingest_camera_close(h->cam, cam_closed, h);
        h->cam = NULL;
    }
}

static void on_break(void *user, int err, const char *reason)
{
    struct harness *h = user;

    assert_true(h->n_closed == 0);
    assert_non_null(reason);
    h->n_break++;
    h->last_break_err = err;
    /* A new session starts its own timeline. */
    for (int i = 0; i < NVR_MAX_TRACKS; i++)
        h->last_pts[i] = INT64_MIN;
    log_event(h, 'b', h->state, err);
}

static const struct ingest_camera_events events = {
    .on_state = on_state,
    .on_stream = on_stream,
    .on_au = on_au,
    .on_break = on_break,
};

static void tick_cb(uv_timer_t *t)
{
    (void)t;
}

static int setup(void **state)
{
    struct harness *h = calloc(1, sizeof(*h));

    assert_non_null(h);
    assert_int_equal(uv_loop_init(&h->loop), 0);
    assert_int_equal(uv_timer_init(&h->loop, &h->tick), 0);
    assert_int_equal(uv_timer_start(&h->tick, tick_cb, 5, 5), 0);
    h->cfg.name = "test";
    h->cfg.connect_timeout_ms = 1000;
    h->cfg.request_timeout_ms = 1000;
    h->cfg.media_timeout_ms = 3000;
    h->cfg.backoff_min_ms = 20;
    /* The recorded bunny sends no sender reports: no waiting for them. */
    h->cfg.sync_hold_ms = -1;
    h->cfg.backoff_max_ms = 2000;
    h->cfg.seed = 42;
    for (int i = 0; i < NVR_MAX_TRACKS; i++)
        h->last_pts[i] = INT64_MIN;

    *state = h;
    return 0;
}

static int teardown(void **state)
{
    struct harness *h = *state;

    if (h->cam) {
        ingest_camera_close(h->cam, cam_closed, h);
        h->cam = NULL;
    }
    srv_stop(&h->srv);
    uv_close((uv_handle_t *)&h->tick, NULL);
    assert_int_equal(uv_run(&h->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&h->loop), 0);
    free(h);
    return 0;
}

typedef int (*pred_fn)(struct harness *h);

/* Runs the loop until pred holds or ms pass. Returns pred's value. */
static int run_until(struct harness *h, pred_fn pred, int ms)
{
    uint64_t end;

    uv_update_time(&h->loop);
    end = uv_now(&h->loop) + (uint64_t)ms;
    while (!pred(h) && uv_now(&h->loop) < end)
        uv_run(&h->loop, UV_RUN_ONCE);
    return pred(h);
}

static int never(struct harness *h)
{
    (void)h;
    return 0;
}

static void run_for(struct harness *h, int ms)
{
    (void)run_until(h, never, ms);
}

static void start_camera(struct harness *h, const char *userinfo,
                         const char *path)
{
    snprintf(h->url, sizeof(h->url), "rtsp://%s127.0.0.1:%d%s",
             userinfo ? userinfo : "", h->srv.port, path);
    h->cfg.url = h->url;
    assert_int_equal(ingest_camera_new(&h->loop, &h->cfg, &events, h, &h->cam),
                     0);
    ingest_camera_start(h->cam);
}

static void close_camera(struct harness *h)
{
    assert_non_null(h->cam);
    ingest_camera_close(h->cam, cam_closed, h);
    h->cam = NULL;
}

static int is_closed(struct harness *h)
{
    return h->n_closed > 0;
}

static int got_20_aus(struct harness *h)
{
    return h->n_au >= 20;
}

static int in_backoff(struct harness *h)
{
    return h->state == INGEST_STATE_BACKOFF;
}

static int auth_failed(struct harness *h)
{
    return h->state == INGEST_STATE_AUTH_FAILED;
}

static int recording_twice(struct harness *h)
{
    return h->n_state[INGEST_STATE_RECORDING] >= 2;
}

static int connecting_4_times(struct harness *h)
{
    return h->n_state[INGEST_STATE_CONNECTING] >= 4;
}

static int got_request(struct harness *h)
{
    return h->srv.n_options > 0 || h->srv.n_conns > 0;
}

static int got_play(struct harness *h)
{
    return h->srv.n_play > 0;
}

/* ---- tests ---- */

static void test_camera_full_session(void **state)
{
    struct harness *h = *state;
    struct ingest_stats st;

    h->srv.send_junk_first = 1;
    srv_start(&h->srv, &h->loop);
    start_camera(h, NULL, "/vod/mp4:BigBuckBunny_115k.mov");
    assert_true(run_until(h, got_20_aus, 3000));

    assert_int_equal(h->state, INGEST_STATE_RECORDING);
    assert_int_equal(h->n_state[INGEST_STATE_RECORDING], 1);
    assert_int_equal(h->n_stream, 1);
    assert_false(h->au_before_stream);
    assert_true(h->first_au_key);
    assert_true(h->pts_monotonic);
    assert_true(h->wall_monotonic);
    assert_false(h->au_bad_track);
    /* Both tracks are set up, the AAC audio (SDP track 0) on channels 0-1
     * first, then the H.264 video on channels 2-3 (SDP track 1). */
    assert_int_equal(h->srv.n_setup, 2);
    assert_non_null(
        strstr(h->srv.setup_transport, "RTP/AVP/TCP;unicast;interleaved=2-3"));
    assert_string_equal(h->srv.setup_uri,
                        "rtsp://wowzaec2demo.streamlock.net/vod/"
                        "mp4:BigBuckBunny_115k.mov/trackID=2");
    assert_string_equal(h->srv.play_uri,
                        "rtsp://wowzaec2demo.streamlock.net/vod/"
                        "mp4:BigBuckBunny_115k.mov/");
    assert_int_equal(h->info.n_tracks, 2);
    assert_int_equal(h->info.tracks[0].codec, NVR_CODEC_AAC);
    assert_int_equal(h->info.tracks[1].codec, NVR_CODEC_H264);
    assert_int_equal(h->info.tracks[1].clock_rate, 90000);
    assert_true(h->info.tracks[1].params_len > 0);
    /* The server's own request was refused; stray data was ignored. */
    assert_int_equal(h->srv.n_501, 1);
    ingest_camera_get_stats(h->cam, &st);
    assert_int_equal(st.state, INGEST_STATE_RECORDING);
    assert_true(st.rtp_packets >= 100);
    assert_true(st.aus >= 20);
    assert_true(st.rtp_ignored >= 1);
    assert_true(st.bytes_in > 100000);
    assert_true(st.last_au_wall_us > 0);
    assert_int_equal(st.rtp_lost, 0);
    assert_int_equal(st.reconnects, 0);

    close_camera(h);
    assert_true(run_until(h, is_closed, 2000));
    assert_int_equal(h->n_closed, 1);
    assert_int_equal(h->srv.n_teardown, 1);
    assert_string_equal(h->srv.teardown_uri, h->srv.play_uri);
    assert_int_equal(h->n_break, 1); /* the owner's stop ends the session */
    assert_int_equal(h->state, INGEST_STATE_STOPPED);
}

static void test_camera_content_base_without_scheme(void **state)
{
    struct harness *h = *state;
    char want[256];

    h->srv.content_base = "/other/base/";
    srv_start(&h->srv, &h->loop);
    start_camera(h, NULL, "/vod/x");
    assert_true(run_until(h, got_20_aus, 3000));
    snprintf(want, sizeof(want), "rtsp://127.0.0.1:%d/other/base/trackID=2",
             h->srv.port);
    assert_string_equal(h->srv.setup_uri, want);
}

/* Anjvision: "Content-Base: 192.168.1.10:554/stream0/", host and no scheme.
 * Only its path counts; the host is the one we connected to. */
static void test_camera_content_base_host_without_scheme(void **state)
{
    struct harness *h = *state;
    char want[256];

    h->srv.content_base = "192.168.1.10:554/stream0/";
    srv_start(&h->srv, &h->loop);
    start_camera(h, NULL, "/vod/x");
    assert_true(run_until(h, got_20_aus, 3000));
    snprintf(want, sizeof(want), "rtsp://127.0.0.1:%d/stream0/trackID=2",
             h->srv.port);
    assert_string_equal(h->srv.setup_uri, want);
}

static int got_discont_and_more(struct harness *h)
{
    return h->n_discont > 0 && h->n_au > h->au_at_discont + 20;
}

static void test_camera_ssrc_change_is_discontinuity(void **state)
{
    struct harness *h = *state;
    struct ingest_stats st;

    h->srv.media_again_new_ssrc = 1;
    srv_start(&h->srv, &h->loop);
    start_camera(h, NULL, "/vod/mp4:BigBuckBunny_115k.mov");
    assert_true(run_until(h, got_discont_and_more, 3000));
    assert_int_equal(h->n_discont, 1);
    assert_true(h->discont_key);
    assert_true(h->pts_monotonic);   /* within each run of the timeline */
    assert_int_equal(h->n_break, 0); /* same session */
    assert_int_equal(h->n_stream, 1);
    ingest_camera_get_stats(h->cam, &st);
    assert_int_equal(st.reconnects, 0);
}

static int got_many_bytes(struct harness *h)
{
    struct ingest_stats st;

    ingest_camera_get_stats(h->cam, &st);
    return st.bytes_in > h->srv.media_len + 500 * 700;
}

static void test_camera_survives_noise(void **state)
{
    struct harness *h = *state;
    struct ingest_stats st;

    h->srv.random_frames = 2000;
    srv_start(&h->srv, &h->loop);
    start_camera(h, NULL, "/vod/mp4:BigBuckBunny_115k.mov");
    assert_true(run_until(h, got_many_bytes, 3000));
    run_for(h, 50);
    ingest_camera_get_stats(h->cam, &st);
    assert_int_equal(h->state, INGEST_STATE_RECORDING);
    assert_true(st.rtp_ignored > 100);
    assert_true(st.rtcp_packets > 0);
    assert_int_equal(h->n_break, 0);
}

static int got_keepalive(struct harness *h)
{
    return h->srv.n_options >= 2;
}

static void test_camera_keepalive(void **state)
{
    struct harness *h = *state;

    h->srv.session_timeout_s = 1; /* keepalive every max(0.5, 1) s */
    srv_start(&h->srv, &h->loop);
    start_camera(h, NULL, "/vod/mp4:BigBuckBunny_115k.mov");
    assert_true(run_until(h, got_keepalive, 2500));
    /* The first session id stays, though PLAY's answer named another. */
    assert_string_equal(h->srv.options_session, "12345678");
    assert_int_equal(h->state, INGEST_STATE_RECORDING);
    close_camera(h);
    assert_true(run_until(h, is_closed, 2000));
    assert_string_equal(h->srv.teardown_session, "12345678");
}

static int got_get_parameter(struct harness *h)
{
    return h->srv.n_get_parameter >= 2;
}

/* A server whose Public lists GET_PARAMETER (VLC's) gets it as the
 * keepalive, on the session's URL with its Session, and no OPTIONS. */
static void test_camera_keepalive_get_parameter(void **state)
{
    struct harness *h = *state;

    h->srv.session_timeout_s = 1;
    h->srv.public_hdr = "DESCRIBE,SETUP,TEARDOWN,PLAY,PAUSE,GET_PARAMETER";
    srv_start(&h->srv, &h->loop);
    start_camera(h, NULL, "/vod/mp4:BigBuckBunny_115k.mov");
    assert_true(run_until(h, got_get_parameter, 2500));
    assert_int_equal(h->srv.n_options, 1); /* the handshake's only */
    assert_int_equal(h->srv.n_other, 0);
    assert_string_equal(h->srv.get_parameter_session, "12345678");
    assert_string_equal(h->srv.get_parameter_uri, h->srv.play_uri);
    assert_int_equal(h->state, INGEST_STATE_RECORDING);
}

static int setup_3_times(struct harness *h)
{
    return h->srv.n_setup >= 3 && h->srv.n_play >= 1;
}

/* transport auto (the default): a server that refuses the interleaved
 * SETUP with status gets the same SETUP over UDP, on the same connection,
 * and status says why. */
static void auto_falls_back_to_udp(struct harness *h, int status)
{
    struct ingest_stats st;
    char why[96];

    h->srv.refuse_tcp = status;
    h->cfg.transport = INGEST_TRANSPORT_AUTO;
    srv_start(&h->srv, &h->loop);
    start_camera(h, NULL, "/vod/mp4:BigBuckBunny_115k.mov");
    assert_true(run_until(h, setup_3_times, 2000));
    assert_int_equal(h->srv.n_conns, 1);
    assert_non_null(strstr(h->srv.setup_transports[0], "interleaved="));
    assert_non_null(
        strstr(h->srv.setup_transports[1], "RTP/AVP;unicast;client_port="));
    assert_non_null(strstr(h->srv.setup_transports[2], "client_port="));
    ingest_camera_get_stats(h->cam, &st);
    assert_string_equal(st.transport, "udp");
    snprintf(why, sizeof(why), "camera refused interleaved TCP (%d)", status);
    assert_string_equal(st.transport_why, why);
}

static void test_camera_auto_udp_after_461(void **state)
{
    auto_falls_back_to_udp(*state, 461);
}

static void test_camera_auto_udp_after_400(void **state)
{
    auto_falls_back_to_udp(*state, 400);
}

/* transport tcp never tries UDP: the 461 fails the attempt. */
static void test_camera_tcp_no_fallback(void **state)
{
    struct harness *h = *state;
    struct ingest_stats st;

    h->srv.refuse_tcp = 461;
    h->cfg.transport = INGEST_TRANSPORT_TCP;
    srv_start(&h->srv, &h->loop);
    start_camera(h, NULL, "/vod/mp4:BigBuckBunny_115k.mov");
    assert_true(run_until(h, in_backoff, 2000));
    assert_int_equal(h->srv.n_setup, 1);
    assert_int_equal(h->last_err, -ENOTSUP);
    assert_int_equal(h->srv.n_play, 0);
    ingest_camera_get_stats(h->cam, &st);
    assert_string_equal(st.transport, "tcp");
    assert_string_equal(st.transport_why, "configured");
}

/* An RTCP BYE on every track ends the session at once (not after the
 * media deadline), and the camera connects again without backing off. */
static void test_camera_bye_reconnects_at_once(void **state)
{
    struct harness *h = *state;
    uint64_t break_at = 0, again_at = 0;

    h->cfg.backoff_min_ms = 800;
    h->cfg.media_timeout_ms = 10000;
    h->srv.bye_after_ms = 1200;
    srv_start(&h->srv, &h->loop);
    start_camera(h, NULL, "/vod/mp4:BigBuckBunny_115k.mov");
    assert_true(run_until(h, recording_twice, 4000));
    assert_int_equal(h->n_break, 1);
    assert_int_equal(h->last_break_err, -ECONNRESET);
    assert_int_equal(h->srv.n_conns, 2);
    for (int i = 0; i < h->n_ev; i++) {
        if (h->ev[i].kind == 'b')
            break_at = h->ev[i].at_ms;
        else if (break_at && !again_at && h->ev[i].kind == 's' &&
                 h->ev[i].st == INGEST_STATE_CONNECTING)
            again_at = h->ev[i].at_ms;
    }
    assert_true(break_at > 0 && again_at >= break_at);
    /* At once: well under the 800 ms the backoff would wait. */
    assert_true(again_at - break_at < 400);
}

static void test_camera_hikvision_controls(void **state)
{
    struct harness *h = *state;

    h->srv.mode = SRV_HIKVISION;
    srv_start(&h->srv, &h->loop);
    start_camera(h, NULL, "/Streaming/Channels/101");
    assert_true(run_until(h, got_play, 3000));
    /* The metadata track is skipped; absolute controls are used as is. */
    assert_int_equal(h->srv.n_setup, 1);
    assert_string_equal(h->srv.setup_uri,
                        "rtsp://192.168.5.106:554/Streaming/Channels/101/"
                        "trackID=1?transportmode=unicast&profile=Profile_1");
    assert_string_equal(h->srv.play_uri,
                        "rtsp://192.168.5.106:554/Streaming/Channels/101/"
                        "?transportmode=unicast&profile=Profile_1");
    assert_non_null(strstr(h->srv.setup_transport, "interleaved=0-1"));
    run_for(h, 50); /* let the client read PLAY's answer */
    close_camera(h);
    assert_true(run_until(h, is_closed, 2000));
    assert_int_equal(h->srv.n_teardown, 1);
    assert_int_equal(h->n_break, 1); /* it had started playing */
    assert_int_equal(h->last_break_err, -ECANCELED);
}

static char *captured_logs;
static size_t captured_len;

static void capture_sink(void *user, enum nvr_log_level level,
                         const char *module, const char *line)
{
    size_t n = strlen(line);
    char *p = realloc(captured_logs, captured_len + n + 2);

    (void)user;
    (void)level;
    (void)module;
    assert_non_null(p);
    captured_logs = p;
    memcpy(p + captured_len, line, n);
    captured_len += n;
    p[captured_len++] = '\n';
    p[captured_len] = '\0';
}

static void test_camera_digest(void **state)
{
    struct harness *h = *state;
    enum nvr_log_level old = nvr_log_level_current;

    nvr_log_set_sink(capture_sink, NULL);
    nvr_log_set_level(NVR_LOG_DEBUG);
    h->srv.require_auth = 1;
    h->srv.password = "s3cr3t-pw";
    srv_start(&h->srv, &h->loop);
    start_camera(h, "admin:s3cr3t-pw@", "/vod/mp4:BigBuckBunny_115k.mov");
    assert_true(run_until(h, got_20_aus, 3000));
    close_camera(h);
    assert_true(run_until(h, is_closed, 2000));
    nvr_log_set_sink(NULL, NULL);
    nvr_log_set_level(old);

    assert_int_equal(h->srv.n_401, 1);
    assert_int_equal(h->srv.n_auth_bad, 0);
    /* DESCRIBE retried, then SETUP and PLAY carried Authorization too. */
    assert_int_equal(h->srv.n_describe, 2);
    assert_true(h->srv.n_auth_ok >= 3);
    assert_false(h->srv.saw_secret);
    assert_non_null(captured_logs);
    assert_null(strstr(captured_logs, "s3cr3t"));
    assert_null(strstr(h->last_msg, "s3cr3t"));
    free(captured_logs);
    captured_logs = NULL;
    captured_len = 0;
}

/* A camera that closes the connection after each 401: the challenge of
 * the first connection is answered at once on the next one. */
static void test_camera_digest_kept_across_connections(void **state)
{
    struct harness *h = *state;

    h->srv.require_auth = 1;
    h->srv.close_after_401 = 1;
    h->srv.password = "s3cr3t-pw";
    srv_start(&h->srv, &h->loop);
    start_camera(h, "admin:s3cr3t-pw@", "/vod/mp4:BigBuckBunny_115k.mov");
    assert_true(run_until(h, got_20_aus, 5000));
    assert_int_equal(h->srv.n_401, 1);
    assert_int_equal(h->srv.n_auth_bad, 0);
    assert_true(h->srv.n_conns >= 2);
    assert_int_equal(h->state, INGEST_STATE_RECORDING);
    close_camera(h);
    assert_true(run_until(h, is_closed, 2000));
}

static void test_camera_wrong_password(void **state)
{
    struct harness *h = *state;

    h->srv.require_auth = 1;
    h->srv.password = "right";
    h->cfg.username = "admin";
    h->cfg.password = "wrong";
    srv_start(&h->srv, &h->loop);
    start_camera(h, NULL, "/vod");
    assert_true(run_until(h, auth_failed, 3000));
    assert_string_equal(h->last_msg,
                        "authentication failed (wrong username or password?)");
    assert_true(h->last_err < 0);
    assert_int_equal(h->srv.n_describe, 2);
    assert_int_equal(h->srv.n_401, 2);
    /* No new attempt soon after: accounts get locked. */
    run_for(h, 300);
    assert_int_equal(h->srv.n_conns, 1);
    assert_int_equal(h->n_state[INGEST_STATE_CONNECTING], 1);
    assert_int_equal(h->n_break, 0);
}

static void test_camera_no_credentials(void **state)
{
    struct harness *h = *state;

    h->srv.require_auth = 1;
    h->srv.password = "right";
    srv_start(&h->srv, &h->loop);
    start_camera(h, NULL, "/vod");
    assert_true(run_until(h, auth_failed, 3000));
    assert_int_equal(h->srv.n_describe, 1);
    assert_int_equal(h->srv.n_401, 1);
    /* Nothing was wrong: none were given. */
    assert_string_equal(h->last_msg, "the camera asks for a username and "
                                     "password, and none were given");
}

/* A camera offering only Basic under the default policy: refused as an
 * authentication failure naming the key, and no Authorization header (the
 * password in clear text) is ever sent. */
static void test_camera_basic_refused(void **state)
{
    struct harness *h = *state;
    struct ingest_stats st;

    h->srv.require_auth = 1;
    h->srv.basic_only = 1;
    h->srv.password = "s3cr3t-pw";
    srv_start(&h->srv, &h->loop);
    start_camera(h, "admin:s3cr3t-pw@", "/vod");
    assert_true(run_until(h, auth_failed, 3000));
    assert_int_equal(h->last_err, -EKEYREJECTED);
    assert_non_null(strstr(h->last_msg, "offers only Basic"));
    assert_non_null(strstr(h->last_msg, "set auth = basic (or any) in "
                                        "[camera test]"));
    assert_int_equal(h->srv.n_describe, 1);
    assert_int_equal(h->srv.n_auth_ok + h->srv.n_auth_bad, 0);
    assert_false(h->srv.saw_secret);
    ingest_camera_get_stats(h->cam, &st);
    assert_string_equal(st.auth, "none");
    /* Backs off like any authentication failure. */
    run_for(h, 300);
    assert_int_equal(h->srv.n_conns, 1);
}

/* auth = basic: the same camera records, and the stats say Basic. */
static void test_camera_basic_allowed(void **state)
{
    struct harness *h = *state;
    struct ingest_stats st;

    h->srv.require_auth = 1;
    h->srv.basic_only = 1;
    h->srv.password = "s3cr3t-pw";
    h->cfg.auth = RTSP_AUTH_POLICY_BASIC;
    srv_start(&h->srv, &h->loop);
    start_camera(h, "admin:s3cr3t-pw@", "/vod/mp4:BigBuckBunny_115k.mov");
    assert_true(run_until(h, got_20_aus, 3000));
    assert_int_equal(h->srv.n_auth_bad, 0);
    assert_true(h->srv.n_auth_ok >= 3);
    ingest_camera_get_stats(h->cam, &st);
    assert_string_equal(st.auth, "basic");
    close_camera(h);
    assert_true(run_until(h, is_closed, 2000));
}

static void test_camera_reconnect_after_close(void **state)
{
    struct harness *h = *state;
    int saw_break = 0, order_ok = 0;
    struct ingest_stats st;

    h->srv.close_after_media = 1;
    srv_start(&h->srv, &h->loop);
    start_camera(h, NULL, "/vod/mp4:BigBuckBunny_115k.mov");
    assert_true(run_until(h, recording_twice, 5000));
    assert_true(h->n_break >= 1);
    assert_int_equal(h->last_break_err, -ECONNRESET);
    assert_true(h->n_state[INGEST_STATE_BACKOFF] >= 1);
    assert_int_equal(h->n_stream, 2);
    /* on_break comes before the camera reports BACKOFF. */
    for (int i = 0; i < h->n_ev; i++) {
        if (h->ev[i].kind == 'b')
            saw_break = 1;
        if (h->ev[i].kind == 's' && h->ev[i].st == INGEST_STATE_BACKOFF) {
            order_ok = saw_break;
            break;
        }
    }
    assert_true(order_ok);
    assert_true(h->srv.n_conns >= 2);
    ingest_camera_get_stats(h->cam, &st);
    assert_true(st.reconnects >= 1);
    assert_int_equal(st.last_err, -ECONNRESET);
    assert_string_equal(st.last_error, "connection closed by camera");
}

static void test_camera_connect_refused_backoff_grows(void **state)
{
    struct harness *h = *state;
    uint64_t backoff_at = 0, gap[8] = {0};
    int n = 0;

    h->cfg.backoff_min_ms = 40;
    h->cfg.backoff_max_ms = 10000;
    h->srv.port = free_port(&h->loop);
    start_camera(h, NULL, "/x");
    assert_true(run_until(h, connecting_4_times, 3000));
    assert_int_equal(h->last_err, 0);
    /* Time spent in BACKOFF before each new attempt. Timers never fire
     * early, so the lower bounds hold however loaded the machine is. */
    for (int i = 0; i < h->n_ev && n < 8; i++) {
        if (h->ev[i].kind != 's')
            continue;
        if (h->ev[i].st == INGEST_STATE_BACKOFF) {
            assert_int_equal(h->ev[i].err, UV_ECONNREFUSED);
            backoff_at = h->ev[i].at_ms;
        } else if (h->ev[i].st == INGEST_STATE_CONNECTING && backoff_at) {
            gap[n++] = h->ev[i].at_ms - backoff_at;
        }
    }
    assert_true(n >= 3);
    /* 40 ms plus at most 25 % jitter, then doubling: 160 > 50. */
    assert_true(gap[0] >= 40);
    assert_true(gap[1] >= 80);
    assert_true(gap[2] >= 160);
    assert_int_equal(h->n_break, 0);
}

static int is_recording(struct harness *h)
{
    return h->state == INGEST_STATE_RECORDING;
}

/* A camera whose port refused the connection has its port probed during
 * the backoff: once it listens again the camera is tried at once, not
 * after the 5 s the backoff says. */
static void test_camera_port_probe_cuts_backoff(void **state)
{
    struct harness *h = *state;
    uint64_t up_at;

    h->cfg.backoff_min_ms = 5000;
    h->cfg.backoff_max_ms = 30000;
    h->srv.port = free_port(&h->loop);
    start_camera(h, NULL, "/vod/mp4:BigBuckBunny_115k.mov");
    assert_true(run_until(h, in_backoff, 2000));
    assert_int_equal(h->last_err, UV_ECONNREFUSED);
    run_for(h, 300);
    srv_start(&h->srv, &h->loop);
    up_at = uv_now(&h->loop);
    assert_true(run_until(h, is_recording, 2500));
    assert_true(uv_now(&h->loop) - up_at <= 2500);
    assert_int_equal(h->n_state[INGEST_STATE_CONNECTING], 2);
}

static void test_camera_request_deadline(void **state)
{
    struct harness *h = *state;

    h->srv.mode = SRV_SILENT;
    h->cfg.request_timeout_ms = 100;
    h->cfg.backoff_min_ms = 5000;
    srv_start(&h->srv, &h->loop);
    start_camera(h, NULL, "/x");
    assert_true(run_until(h, in_backoff, 2000));
    assert_int_equal(h->last_err, -ETIMEDOUT);
    assert_string_equal(h->last_msg, "OPTIONS: no response within 0.1 s");
}

static void test_camera_media_deadline(void **state)
{
    struct harness *h = *state;

    h->cfg.media_timeout_ms = 200;
    h->cfg.backoff_min_ms = 5000;
    srv_start(&h->srv, &h->loop);
    start_camera(h, NULL, "/vod/mp4:BigBuckBunny_115k.mov");
    assert_true(run_until(h, in_backoff, 3000));
    assert_int_equal(h->last_err, -ETIMEDOUT);
    assert_string_equal(h->last_msg, "no media for 0.2 s");
    assert_int_equal(h->n_break, 1);
    assert_true(h->n_au > 0);
}

/* Valid RTP that never makes a unit ends the session too, with the
 * reason, instead of leaving the camera connecting. */
static void test_camera_unit_deadline_endless_fua(void **state)
{
    struct harness *h = *state;

    h->srv.endless_fua = 1;
    h->cfg.media_timeout_ms = 300;
    h->cfg.backoff_min_ms = 5000;
    srv_start(&h->srv, &h->loop);
    start_camera(h, NULL, "/vod/mp4:BigBuckBunny_115k.mov");
    assert_true(run_until(h, in_backoff, 3000));
    assert_int_equal(h->last_err, -ETIMEDOUT);
    assert_non_null(strstr(h->last_msg, "no complete frame within 0.3 s: "
                                        "FU-A never ended ("));
    assert_int_equal(h->n_au, 0);
    assert_int_equal(h->srv.n_play, 1);
}

static void test_camera_garbage(void **state)
{
    struct harness *h = *state;

    h->srv.mode = SRV_GARBAGE;
    h->cfg.backoff_min_ms = 5000;
    srv_start(&h->srv, &h->loop);
    start_camera(h, NULL, "/x");
    assert_true(run_until(h, in_backoff, 2000));
    assert_true(h->last_err == -EBADMSG || h->last_err == -EMSGSIZE);
    assert_non_null(strstr(h->last_msg, "malformed"));
    run_for(h, 100);
    assert_int_equal(h->n_state[INGEST_STATE_BACKOFF], 1);
}

static void test_camera_hostname_refused(void **state)
{
    struct harness *h = *state;

    h->cfg.url = "rtsp://admin:pw@camera.local/x";
    assert_int_equal(ingest_camera_new(&h->loop, &h->cfg, &events, h, &h->cam),
                     0);
    ingest_camera_start(h->cam);
    assert_int_equal(h->state, INGEST_STATE_ERROR);
    assert_int_equal(h->last_err, -EINVAL);
    assert_non_null(strstr(h->last_msg, "camera.local"));
    assert_null(strstr(h->last_msg, "pw"));
    run_for(h, 50);
    assert_int_equal(h->n_state[INGEST_STATE_CONNECTING], 0);
}

static void test_camera_bad_url(void **state)
{
    struct harness *h = *state;
    struct ingest_camera *cam = NULL;

    h->cfg.url = "http://127.0.0.1/x";
    assert_int_equal(ingest_camera_new(&h->loop, &h->cfg, &events, h, &cam),
                     -EINVAL);
    assert_null(cam);
}

static void test_camera_close_before_start(void **state)
{
    struct harness *h = *state;

    h->cfg.url = "rtsp://127.0.0.1:1/x";
    assert_int_equal(ingest_camera_new(&h->loop, &h->cfg, &events, h, &h->cam),
                     0);
    close_camera(h);
    assert_true(run_until(h, is_closed, 1000));
    assert_int_equal(h->n_closed, 1);
}

static void test_camera_close_while_connecting(void **state)
{
    struct harness *h = *state;

    srv_start(&h->srv, &h->loop);
    start_camera(h, NULL, "/x");
    close_camera(h);
    assert_true(run_until(h, is_closed, 1000));
    run_for(h, 50);
    assert_int_equal(h->n_closed, 1);
    assert_int_equal(h->srv.n_teardown, 0);
}

static void test_camera_close_mid_request(void **state)
{
    struct harness *h = *state;

    h->srv.mode = SRV_SILENT;
    srv_start(&h->srv, &h->loop);
    start_camera(h, NULL, "/x");
    assert_true(run_until(h, got_request, 1000));
    run_for(h, 30);
    close_camera(h);
    assert_true(run_until(h, is_closed, 1000));
    run_for(h, 50);
    assert_int_equal(h->n_closed, 1);
}

static void test_camera_close_inside_on_au(void **state)
{
    struct harness *h = *state;

    h->close_at_au = 5;
    srv_start(&h->srv, &h->loop);
    start_camera(h, NULL, "/vod/mp4:BigBuckBunny_115k.mov");
    assert_true(run_until(h, is_closed, 3000));
    run_for(h, 50);
    assert_int_equal(h->n_closed, 1);
    assert_int_equal(h->n_au, 5); /* nothing after close */
    assert_int_equal(h->srv.n_teardown, 1);
}

static void test_camera_close_inside_backoff_state(void **state)
{
    struct harness *h = *state;

    h->close_on_state_set = 1;
    h->close_on_state = INGEST_STATE_BACKOFF;
    h->srv.port = free_port(&h->loop);
    start_camera(h, NULL, "/x");
    assert_true(run_until(h, is_closed, 2000));
    run_for(h, 100);
    assert_int_equal(h->n_closed, 1);
    assert_int_equal(h->n_state[INGEST_STATE_CONNECTING], 1);
}

static void test_camera_close_teardown_unanswered(void **state)
{
    struct harness *h = *state;
    uint64_t t0;

    h->srv.no_teardown_answer = 1;
    srv_start(&h->srv, &h->loop);
    start_camera(h, NULL, "/vod/mp4:BigBuckBunny_115k.mov");
    assert_true(run_until(h, got_20_aus, 3000));
    uv_update_time(&h->loop);
    t0 = uv_now(&h->loop);
    close_camera(h);
    assert_true(run_until(h, is_closed, 2000));
    assert_int_equal(h->srv.n_teardown, 1);
    assert_true(uv_now(&h->loop) - t0 >= 400);
    assert_true(uv_now(&h->loop) - t0 < 1500);
}

/* ---- probe ---- */

struct probe_result {
    struct harness *h;
    int calls;
    int err;
    char msg[256];
    int n_tracks;
    char base[512];
};

static void probe_cb(void *user, int err, const char *msg,
                     const struct sdp_session *sdp, const char *base_url)
{
    struct probe_result *r = user;

    r->calls++;
    r->err = err;
    snprintf(r->msg, sizeof(r->msg), "%s", msg ? msg : "");
    if (err == 0) {
        assert_non_null(sdp);
        r->n_tracks = sdp->n_tracks;
        snprintf(r->base, sizeof(r->base), "%s", base_url);
    }
    /* Let the loop end by itself. */
    srv_stop(&r->h->srv);
    uv_close((uv_handle_t *)&r->h->tick, NULL);
}

static void test_probe_describes(void **state)
{
    struct harness *h = *state;
    struct probe_result r = {.h = h};
    char url[128];

    h->srv.require_auth = 1;
    h->srv.password = "pw";
    srv_start(&h->srv, &h->loop);
    snprintf(url, sizeof(url), "rtsp://admin:pw@127.0.0.1:%d/vod", h->srv.port);
    assert_int_equal(ingest_probe(&h->loop, url, NULL, NULL,
                                  RTSP_AUTH_POLICY_DIGEST, 2000, probe_cb, &r),
                     0);
    assert_int_equal(uv_run(&h->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.n_tracks, 2);
    assert_string_equal(r.base, "rtsp://wowzaec2demo.streamlock.net/vod/"
                                "mp4:BigBuckBunny_115k.mov/");
    assert_int_equal(h->srv.n_setup, 0);
    assert_int_equal(uv_loop_close(&h->loop), 0);
    /* teardown() finds nothing left to close. */
    assert_int_equal(uv_loop_init(&h->loop), 0);
    assert_int_equal(uv_timer_init(&h->loop, &h->tick), 0);
    h->srv.loop = NULL;
}

static void test_probe_timeout(void **state)
{
    struct harness *h = *state;
    struct probe_result r = {.h = h};
    char url[128];

    h->srv.mode = SRV_SILENT;
    srv_start(&h->srv, &h->loop);
    snprintf(url, sizeof(url), "rtsp://127.0.0.1:%d/vod", h->srv.port);
    assert_int_equal(ingest_probe(&h->loop, url, NULL, NULL,
                                  RTSP_AUTH_POLICY_DIGEST, 150, probe_cb, &r),
                     0);
    assert_int_equal(uv_run(&h->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.err, -ETIMEDOUT);
    assert_true(r.msg[0] != '\0');
    assert_int_equal(uv_loop_close(&h->loop), 0);
    assert_int_equal(uv_loop_init(&h->loop), 0);
    assert_int_equal(uv_timer_init(&h->loop, &h->tick), 0);
    h->srv.loop = NULL;
}

static void test_camera_state_names(void **state)
{
    (void)state;
    assert_string_equal(ingest_state_name(INGEST_STATE_CONNECTING),
                        "connecting");
    assert_string_equal(ingest_state_name(INGEST_STATE_AUTH_FAILED),
                        "auth_failed");
    assert_string_equal(ingest_state_name(INGEST_STATE_STOPPED), "stopped");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_camera_full_session),
        T(test_camera_keepalive),
        T(test_camera_keepalive_get_parameter),
        T(test_camera_auto_udp_after_461),
        T(test_camera_auto_udp_after_400),
        T(test_camera_tcp_no_fallback),
        T(test_camera_bye_reconnects_at_once),
        T(test_camera_port_probe_cuts_backoff),
        T(test_camera_survives_noise),
        T(test_camera_content_base_without_scheme),
        T(test_camera_content_base_host_without_scheme),
        T(test_camera_ssrc_change_is_discontinuity),
        T(test_camera_hikvision_controls),
        T(test_camera_digest),
        T(test_camera_wrong_password),
        T(test_camera_digest_kept_across_connections),
        T(test_camera_no_credentials),
        T(test_camera_basic_refused),
        T(test_camera_basic_allowed),
        T(test_camera_reconnect_after_close),
        T(test_camera_connect_refused_backoff_grows),
        T(test_camera_request_deadline),
        T(test_camera_media_deadline),
        T(test_camera_unit_deadline_endless_fua),
        T(test_camera_garbage),
        T(test_camera_hostname_refused),
        T(test_camera_bad_url),
        T(test_camera_close_before_start),
        T(test_camera_close_while_connecting),
        T(test_camera_close_mid_request),
        T(test_camera_close_inside_on_au),
        T(test_camera_close_inside_backoff_state),
        T(test_camera_close_teardown_unanswered),
        T(test_probe_describes),
        T(test_probe_timeout),
        T(test_camera_state_names),
    };

    nvr_log_set_level(NVR_LOG_WARN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
