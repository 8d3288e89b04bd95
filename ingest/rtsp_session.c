/* SPDX-License-Identifier: MIT */
/*
 * One RTSP/1.0 connection (RFC 2326) on libuv: TCP connect, OPTIONS,
 * DESCRIBE, SETUP of every recordable track with interleaved RTP (section
 * 10.12), PLAY, OPTIONS keepalives, and TEARDOWN on stop. Incoming bytes go
 * to a fixed per-connection buffer and through the pure parsers
 * (rtsp_msg.h, rtp.h, depack.h); access units come out timestamped with the
 * recorder's wall clock. Every step has a deadline. The session ends once,
 * through on_end, and frees itself in the last close callback.
 */
#include "config.h"

#include "ingest/ingest_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <uv.h>

#include "ingest/depack.h"
#include "ingest/rtp.h"
#include "ingest/rtsp_auth.h"
#include "ingest/rtsp_msg.h"
#include "ingest/rtsp_url.h"
#include "ingest/sdp.h"
#include "nvr/base/clock.h"
#include "nvr/base/err.h"
#include "nvr/base/log.h"

#define SESS_URL_MAX        1024
#define SESS_REQ_MAX        8192  /* one request we send, headers included */
#define SESS_EXTRA_MAX      512   /* request-specific header lines */
#define SESS_MSG_MAX        256   /* failure messages */
#define SESS_WARN_PERIOD_MS 10000 /* per-packet warnings: one per period */
/* Clock ticks from a track's anchor beyond which it is re-anchored: about
 * 100 days at 1 MHz, and far below where ticks * 1e6 overflows. */
#define SESS_MAX_PTS_SPAN ((int64_t)1 << 43)
#define SESS_N_HANDLES    5 /* tcp, deadline, media, keepalive, total */

enum sess_state {
    SESS_CONNECTING = 0,
    SESS_OPTIONS,
    SESS_DESCRIBE,
    SESS_SETUP,
    SESS_PLAY,
    SESS_PLAYING,
    SESS_TEARDOWN,
    SESS_CLOSED,
};

struct sess_track {
    struct rtsp_session *sess;
    int stream_index;            /* index in nvr_stream_info.tracks */
    const struct sdp_track *sdp; /* points into sess->sdp */
    const struct depack_ops *ops;
    void *depack; /* owned */
    struct rtp_seq seq;
    int seen_packet; /* a packet was accepted this session */
    int discont;     /* flag the next unit NVR_AU_DISCONT */
    int video;       /* first unit after on_stream must be key */
    int need_key;
    int announced; /* on_stream carried this track's params */
    uint32_t announced_gen;
    int anchored;
    int64_t anchor_pts; /* clock_rate units */
    int64_t anchor_wall_us;
    uint64_t lost_seen;    /* seq.lost already added to stats */
    uint64_t dropped_seen; /* depack aus_dropped already added */
};

struct rtsp_session {
    uv_loop_t *loop;
    uv_tcp_t tcp;
    uv_connect_t connect_req;
    uv_timer_t deadline;  /* connect, each request, TEARDOWN */
    uv_timer_t media;     /* RTP silence after PLAY */
    uv_timer_t keepalive; /* OPTIONS while playing */
    uv_timer_t total;     /* whole-session bound (probe) */
    int pending_closes;

    enum sess_state state;
    enum rtsp_session_mode mode;
    int ended;       /* on_end emitted or suppressed: no more failures */
    int stopping;    /* the owner stopped us: no events but on_closed */
    int closing;     /* handles are closing */
    int bad_host;    /* fail from the loop: host is not an IP literal */
    int connect_err; /* fail from the loop: uv_tcp_connect() refused */
    unsigned end_flags;

    char camera[64];
    char url[SESS_URL_MAX];
    char host[256];
    uint16_t port;
    char user[128];
    char pass[128];
    int connect_timeout_ms;
    int request_timeout_ms;
    int media_timeout_ms;
    int total_timeout_ms;
    struct ingest_stats *stats;

    const struct rtsp_session_events *ev;
    void *user_data;

    /* The request in flight, kept so a 401 can resend it. */
    int req_pending;
    uint32_t req_cseq;
    int req_auth_retried;
    char req_method[16];
    char req_uri[SESS_URL_MAX];
    char req_extra[SESS_EXTRA_MAX];
    uint32_t next_cseq;
    uint32_t keepalive_cseq; /* 0: no keepalive outstanding */

    struct rtsp_auth auth;
    int have_auth;

    char session_id[128]; /* from the first SETUP answer */
    int session_timeout_s;
    char base_url[SESS_URL_MAX];
    struct sdp_session sdp;
    struct sess_track tracks[NVR_MAX_TRACKS];
    int n_tracks;
    int setup_next;       /* track whose SETUP runs */
    int8_t chan_rtp[256]; /* interleaved channel -> track, or -1 */
    uint8_t chan_rtcp[256];

    struct nvr_stream_info info;
    int recording;
    uint64_t last_media_ms; /* uv_now() of the last RTP packet */
    uint64_t warn_last_ms;
    uint64_t warn_suppressed;

    size_t rlen;
    uint8_t rbuf[RTSP_SESSION_RBUF_BYTES];
};

struct sess_write {
    uv_write_t req;
    struct rtsp_session *sess;
    size_t len;
    char data[];
};

static void sess_close(struct rtsp_session *s);
static void sess_deadline_cb(uv_timer_t *t);

static double ms_to_s(int ms)
{
    return (double)ms / 1000.0;
}

int rtsp_session_addr(const char *host, uint16_t port,
                      struct sockaddr_storage *out)
{
    memset(out, 0, sizeof(*out));
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)out) == 0)
        return 0;
    if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)out) == 0)
        return 0;
    return -EINVAL;
}

/* ---- failure and teardown ---- */

NVR_PRINTF(3, 4)
static void sess_fail(struct rtsp_session *s, int err, const char *fmt, ...)
{
    char msg[SESS_MSG_MAX];
    va_list ap;

    if (s->ended) {
        sess_close(s);
        return;
    }
    s->ended = 1;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!s->stopping) {
        LOG_D("ingest", "camera %s: session failed: %s", s->camera, msg);
        if (s->ev->on_end)
            s->ev->on_end(s->user_data, err, msg, s->end_flags);
    }
    sess_close(s);
}

static void sess_closed_one(struct rtsp_session *s)
{
    const struct rtsp_session_events *ev;
    void *user;

    if (--s->pending_closes > 0)
        return;
    for (int i = 0; i < s->n_tracks; i++)
        s->tracks[i].ops->destroy(s->tracks[i].depack);
    ev = s->ev;
    user = s->user_data;
    free(s);
    if (ev->on_closed)
        ev->on_closed(user);
}

static void sess_tcp_closed(uv_handle_t *h)
{
    sess_closed_one(nvr_container_of(h, struct rtsp_session, tcp));
}

static void sess_deadline_closed(uv_handle_t *h)
{
    sess_closed_one(nvr_container_of(h, struct rtsp_session, deadline));
}

static void sess_media_closed(uv_handle_t *h)
{
    sess_closed_one(nvr_container_of(h, struct rtsp_session, media));
}

static void sess_keepalive_closed(uv_handle_t *h)
{
    sess_closed_one(nvr_container_of(h, struct rtsp_session, keepalive));
}

static void sess_total_closed(uv_handle_t *h)
{
    sess_closed_one(nvr_container_of(h, struct rtsp_session, total));
}

/* Idempotent: stops everything and starts closing each handle once. */
static void sess_close(struct rtsp_session *s)
{
    if (s->closing)
        return;
    s->closing = 1;
    s->ended = 1;
    s->state = SESS_CLOSED;
    s->pending_closes = SESS_N_HANDLES;
    uv_close((uv_handle_t *)&s->tcp, sess_tcp_closed);
    uv_close((uv_handle_t *)&s->deadline, sess_deadline_closed);
    uv_close((uv_handle_t *)&s->media, sess_media_closed);
    uv_close((uv_handle_t *)&s->keepalive, sess_keepalive_closed);
    uv_close((uv_handle_t *)&s->total, sess_total_closed);
}

/* Per-packet problems: the first one of each period at WARN, the rest
 * counted and summarised with the next. */
NVR_PRINTF(2, 3)
static void sess_warn_rl(struct rtsp_session *s, const char *fmt, ...)
{
    uint64_t now = uv_now(s->loop);
    char line[SESS_MSG_MAX];
    va_list ap;

    if (s->warn_last_ms && now - s->warn_last_ms < SESS_WARN_PERIOD_MS) {
        s->warn_suppressed++;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (s->warn_suppressed)
        LOG_W("ingest",
              "camera %s: %s (and %" PRIu64 " other packet problems in the "
              "last %d s)",
              s->camera, line, s->warn_suppressed, SESS_WARN_PERIOD_MS / 1000);
    else
        LOG_W("ingest", "camera %s: %s", s->camera, line);
    s->warn_last_ms = now ? now : 1;
    s->warn_suppressed = 0;
}

/* ---- writing ---- */

static void sess_write_cb(uv_write_t *req, int status)
{
    struct sess_write *w = nvr_container_of(req, struct sess_write, req);
    struct rtsp_session *s = w->sess;

    free(w);
    if (status < 0 && !s->closing)
        sess_fail(s, status, "write: %s", uv_strerror(status));
}

/* Queues len bytes. Returns 0 or a negative errno (the caller fails). */
static int sess_write(struct rtsp_session *s, const char *data, size_t len)
{
    struct sess_write *w = malloc(sizeof(*w) + len);
    uv_buf_t buf;
    int err;

    if (!w)
        return -ENOMEM;
    w->sess = s;
    w->len = len;
    memcpy(w->data, data, len);
    buf = uv_buf_init(w->data, (unsigned int)len);
    err = uv_write(&w->req, (uv_stream_t *)&s->tcp, &buf, 1, sess_write_cb);
    if (err < 0)
        free(w);
    return err;
}

/*
 * Formats one request into out. Adds Authorization once a challenge was
 * answered, and Session once SETUP gave one. Returns bytes or -EMSGSIZE.
 */
static int sess_format_request(struct rtsp_session *s, const char *method,
                               const char *uri, const char *extra,
                               uint32_t cseq, char *out, size_t out_size)
{
    size_t n;
    int r;

    r = snprintf(out, out_size,
                 "%s %s RTSP/1.0\r\nCSeq: %" PRIu32
                 "\r\nUser-Agent: nvr/%s\r\n",
                 method, uri, cseq, NVR_VERSION);
    if (r < 0 || (size_t)r >= out_size)
        return -EMSGSIZE;
    n = (size_t)r;
    if (s->have_auth) {
        char auth[1024];

        if (rtsp_auth_header(&s->auth, method, uri, s->user, s->pass, auth,
                             sizeof(auth)) < 0)
            return -EMSGSIZE;
        r = snprintf(out + n, out_size - n, "Authorization: %s\r\n", auth);
        if (r < 0 || (size_t)r >= out_size - n)
            return -EMSGSIZE;
        n += (size_t)r;
    }
    if (s->session_id[0]) {
        r = snprintf(out + n, out_size - n, "Session: %s\r\n", s->session_id);
        if (r < 0 || (size_t)r >= out_size - n)
            return -EMSGSIZE;
        n += (size_t)r;
    }
    r = snprintf(out + n, out_size - n, "%s\r\n", extra);
    if (r < 0 || (size_t)r >= out_size - n)
        return -EMSGSIZE;
    return (int)(n + (size_t)r);
}

/* (Re)sends the request stored in req_* with a fresh CSeq and deadline. */
static void sess_send_current(struct rtsp_session *s)
{
    char buf[SESS_REQ_MAX];
    uint32_t cseq = s->next_cseq++;
    int n, err;

    n = sess_format_request(s, s->req_method, s->req_uri, s->req_extra, cseq,
                            buf, sizeof(buf));
    if (n < 0) {
        sess_fail(s, n, "%s: request too long", s->req_method);
        return;
    }
    err = sess_write(s, buf, (size_t)n);
    if (err < 0) {
        sess_fail(s, err, "%s: write: %s", s->req_method, uv_strerror(err));
        return;
    }
    s->req_pending = 1;
    s->req_cseq = cseq;
    uv_timer_start(&s->deadline, sess_deadline_cb,
                   (uint64_t)(s->state == SESS_TEARDOWN
                                  ? RTSP_SESSION_TEARDOWN_MS
                                  : s->request_timeout_ms),
                   0);
}

static void sess_request(struct rtsp_session *s, enum sess_state st,
                         const char *method, const char *uri, const char *extra)
{
    s->state = st;
    snprintf(s->req_method, sizeof(s->req_method), "%s", method);
    if (snprintf(s->req_uri, sizeof(s->req_uri), "%s", uri) >=
        (int)sizeof(s->req_uri)) {
        sess_fail(s, -EMSGSIZE, "%s: URL too long", method);
        return;
    }
    snprintf(s->req_extra, sizeof(s->req_extra), "%s", extra);
    s->req_auth_retried = 0;
    sess_send_current(s);
}

/* ---- the handshake ---- */

static void sess_send_options(struct rtsp_session *s)
{
    sess_request(s, SESS_OPTIONS, "OPTIONS", s->url, "");
}

static void sess_send_describe(struct rtsp_session *s)
{
    sess_request(s, SESS_DESCRIBE, "DESCRIBE", s->url,
                 "Accept: application/sdp\r\n");
}

static void sess_send_setup(struct rtsp_session *s)
{
    const struct sess_track *t = &s->tracks[s->setup_next];
    int sdp_index = (int)(t->sdp - s->sdp.tracks);
    char uri[SESS_URL_MAX];
    char extra[128];

    if (rtsp_url_join_control(s->base_url, t->sdp->control, uri, sizeof(uri)) <
        0) {
        sess_fail(s, -EMSGSIZE, "SETUP: control URL too long");
        return;
    }
    /* Channels 2i and 2i+1 for SDP track i, so they never collide. */
    snprintf(extra, sizeof(extra),
             "Transport: RTP/AVP/TCP;unicast;interleaved=%d-%d\r\n",
             2 * sdp_index, 2 * sdp_index + 1);
    sess_request(s, SESS_SETUP, "SETUP", uri, extra);
}

/* The aggregate control URL (RFC 2326 C.1.1), used by PLAY and TEARDOWN. */
static int sess_session_uri(const struct rtsp_session *s, char *uri,
                            size_t size)
{
    return rtsp_url_join_control(s->base_url, s->sdp.control, uri, size);
}

static void sess_send_play(struct rtsp_session *s)
{
    char uri[SESS_URL_MAX];

    if (sess_session_uri(s, uri, sizeof(uri)) < 0) {
        sess_fail(s, -EMSGSIZE, "PLAY: control URL too long");
        return;
    }
    sess_request(s, SESS_PLAY, "PLAY", uri, "Range: npt=0.000-\r\n");
}

static int has_scheme(const char *v)
{
    return strncasecmp(v, "rtsp://", 7) == 0 ||
           strncasecmp(v, "rtsps://", 8) == 0;
}

/*
 * The base for control URLs (RFC 2326 C.1.1): Content-Base, else
 * Content-Location, else the request URL. Some cameras send Content-Base
 * without a scheme; it is then taken relative to the request's authority.
 */
static int sess_set_base(struct rtsp_session *s, const struct rtsp_msg *m)
{
    char v[SESS_URL_MAX];
    const char *auth_end;
    size_t auth_len;
    int r;

    if (rtsp_msg_header_copy(m, "Content-Base", v, sizeof(v)) != 0 &&
        rtsp_msg_header_copy(m, "Content-Location", v, sizeof(v)) != 0)
        v[0] = '\0';
    if (!v[0]) {
        snprintf(s->base_url, sizeof(s->base_url), "%s", s->url);
        return 0;
    }
    if (has_scheme(v)) {
        snprintf(s->base_url, sizeof(s->base_url), "%s", v);
        return 0;
    }
    /*
     * No scheme: Anjvision sends "192.168.1.10:554/stream0/", others a bare
     * "/path/". Keep only the path and put it after the authority we
     * connected to (the camera may not know the address we reach it by).
     * A value with no path at all is ignored.
     */
    if (v[0] != '/') {
        const char *path = strchr(v, '/');

        if (!path) {
            snprintf(s->base_url, sizeof(s->base_url), "%s", s->url);
            return 0;
        }
        memmove(v, path, strlen(path) + 1);
    }
    /* s->url always has a scheme: "rtsp://authority[/path]". */
    auth_end = strstr(s->url, "://");
    auth_end = strchr(auth_end ? auth_end + 3 : s->url, '/');
    auth_len = auth_end ? (size_t)(auth_end - s->url) : strlen(s->url);
    r = snprintf(s->base_url, sizeof(s->base_url), "%.*s%s", (int)auth_len,
                 s->url, v);
    return r < 0 || (size_t)r >= sizeof(s->base_url) ? -EMSGSIZE : 0;
}

/* Picks the tracks to SETUP: recordable, with a depacketizer. */
static int sess_pick_tracks(struct rtsp_session *s)
{
    s->n_tracks = 0;
    for (int i = 0; i < s->sdp.n_tracks; i++) {
        const struct sdp_track *st = &s->sdp.tracks[i];
        const struct depack_ops *ops;
        struct sess_track *t;
        int err;

        if (!st->recordable) {
            LOG_I("ingest",
                  "camera %s: skipping %s track %d (%s): not "
                  "recordable",
                  s->camera, st->media, i,
                  st->encoding[0] ? st->encoding : "unknown");
            continue;
        }
        ops = depack_find(st->codec);
        if (!ops) {
            LOG_I("ingest",
                  "camera %s: skipping %s track %d (%s): codec "
                  "not supported yet",
                  s->camera, st->media, i, nvr_codec_name(st->codec));
            continue;
        }
        if (s->n_tracks == NVR_MAX_TRACKS) {
            LOG_I("ingest",
                  "camera %s: skipping %s track %d: at most %d "
                  "tracks are recorded",
                  s->camera, st->media, i, NVR_MAX_TRACKS);
            continue;
        }
        t = &s->tracks[s->n_tracks];
        memset(t, 0, sizeof(*t));
        t->sess = s;
        t->stream_index = s->n_tracks;
        t->sdp = st;
        t->ops = ops;
        t->video = st->codec == NVR_CODEC_H264 || st->codec == NVR_CODEC_H265;
        err = ops->create(st, &t->depack);
        if (err < 0)
            return err;
        s->n_tracks++;
    }
    return 0;
}

static void sess_on_describe(struct rtsp_session *s, const struct rtsp_msg *m)
{
    int err;

    if (!m->body || m->body_len == 0) {
        sess_fail(s, -EBADMSG, "DESCRIBE: the camera sent no SDP");
        return;
    }
    err = sdp_parse((const char *)m->body, m->body_len, &s->sdp);
    if (err < 0) {
        sess_fail(s, err, "DESCRIBE: unusable SDP (%s)", nvr_strerror(err));
        return;
    }
    if (sess_set_base(s, m) < 0) {
        sess_fail(s, -EMSGSIZE, "DESCRIBE: base URL too long");
        return;
    }
    if (s->mode == RTSP_SESSION_MODE_PROBE) {
        if (s->ev->on_described)
            s->ev->on_described(s->user_data, &s->sdp, s->base_url);
        s->ended = 1;
        sess_close(s);
        return;
    }
    err = sess_pick_tracks(s);
    if (err < 0) {
        sess_fail(s, err, "cannot set up a depacketizer: %s",
                  nvr_strerror(err));
        return;
    }
    if (s->n_tracks == 0) {
        sess_fail(s, -ENOTSUP, "no track with a supported codec (of %d)",
                  s->sdp.n_tracks);
        return;
    }
    s->setup_next = 0;
    sess_send_setup(s);
}

static void sess_on_setup(struct rtsp_session *s, const struct rtsp_msg *m)
{
    struct sess_track *t = &s->tracks[s->setup_next];
    int sdp_index = (int)(t->sdp - s->sdp.tracks);
    int ch_rtp = 2 * sdp_index, ch_rtcp = 2 * sdp_index + 1;
    struct rtsp_transport tr;
    const char *v;
    size_t vlen;

    /* Cameras may change the id on later SETUPs: the first one wins. */
    v = rtsp_msg_header(m, "Session", &vlen);
    if (v && !s->session_id[0]) {
        int timeout_s = RTSP_SESSION_DEFAULT_TIMEOUT_S;

        if (rtsp_parse_session(v, vlen, s->session_id, sizeof(s->session_id),
                               &timeout_s) < 0 ||
            !s->session_id[0]) {
            s->session_id[0] = '\0';
            sess_fail(s, -EBADMSG, "SETUP: malformed Session header");
            return;
        }
        s->session_timeout_s =
            timeout_s > 0 ? timeout_s : RTSP_SESSION_DEFAULT_TIMEOUT_S;
    }
    /* The camera may pick other channels than asked; follow its answer. */
    v = rtsp_msg_header(m, "Transport", &vlen);
    if (v && rtsp_parse_transport(v, vlen, &tr) == 0 && tr.interleaved &&
        tr.channel_rtp >= 0 && tr.channel_rtp < 256) {
        ch_rtp = tr.channel_rtp;
        ch_rtcp = tr.channel_rtcp >= 0 && tr.channel_rtcp < 256
                      ? tr.channel_rtcp
                      : -1;
    }
    s->chan_rtp[ch_rtp] = (int8_t)t->stream_index;
    if (ch_rtcp >= 0 && ch_rtcp != ch_rtp)
        s->chan_rtcp[ch_rtcp] = 1;
    LOG_D("ingest", "camera %s: track %d (%s) on channel %d", s->camera,
          t->stream_index, nvr_codec_name(t->sdp->codec), ch_rtp);
    if (++s->setup_next < s->n_tracks)
        sess_send_setup(s);
    else
        sess_send_play(s);
}

static void sess_keepalive_cb(uv_timer_t *timer);
static void sess_media_cb(uv_timer_t *timer);

static void sess_on_play(struct rtsp_session *s)
{
    uint64_t period_ms;

    s->state = SESS_PLAYING;
    s->end_flags |= RTSP_SESSION_END_PLAYED;
    s->last_media_ms = uv_now(s->loop);
    uv_timer_start(&s->media, sess_media_cb, (uint64_t)s->media_timeout_ms, 0);
    if (!s->session_timeout_s)
        s->session_timeout_s = RTSP_SESSION_DEFAULT_TIMEOUT_S;
    period_ms = (uint64_t)s->session_timeout_s * 1000 / 2;
    if (period_ms < 1000)
        period_ms = 1000;
    if (period_ms > RTSP_SESSION_KEEPALIVE_MAX_MS)
        period_ms = RTSP_SESSION_KEEPALIVE_MAX_MS;
    uv_timer_start(&s->keepalive, sess_keepalive_cb, period_ms, period_ms);
    LOG_I("ingest", "camera %s: playing %d track(s)", s->camera, s->n_tracks);
}

static void sess_on_401(struct rtsp_session *s, const struct rtsp_msg *m)
{
    int err;

    if ((!s->user[0] && !s->pass[0]) || s->req_auth_retried) {
        s->end_flags |= RTSP_SESSION_END_AUTH;
        sess_fail(s, -EACCES,
                  "authentication failed (wrong username or password?)");
        return;
    }
    err = rtsp_auth_parse_challenge(m, &s->auth);
    if (err == -ENOTSUP) {
        s->end_flags |= RTSP_SESSION_END_AUTH;
        sess_fail(s, -ENOTSUP,
                  "authentication failed (the camera offers "
                  "no supported scheme)");
        return;
    }
    if (err < 0) {
        sess_fail(s, -EBADMSG, "%s: malformed authentication challenge",
                  s->req_method);
        return;
    }
    s->have_auth = 1;
    s->req_auth_retried = 1;
    sess_send_current(s);
}

static int status_errno(int status)
{
    switch (status) {
    case 403:
        return -EACCES;
    case 404:
        return -ENOENT;
    case 461:
        return -ENOTSUP;
    default:
        return -EPROTO;
    }
}

static void sess_on_response(struct rtsp_session *s, const struct rtsp_msg *m)
{
    uint32_t cseq;

    if (rtsp_msg_cseq(m, &cseq) < 0) {
        LOG_D("ingest", "camera %s: ignoring a response without CSeq",
              s->camera);
        return;
    }
    if (s->keepalive_cseq && cseq == s->keepalive_cseq) {
        /* Any answer will do: cameras differ in what they say here. */
        s->keepalive_cseq = 0;
        return;
    }
    if (!s->req_pending || cseq != s->req_cseq || m->status < 200) {
        LOG_D("ingest", "camera %s: ignoring a response with CSeq %" PRIu32,
              s->camera, cseq);
        return;
    }
    s->req_pending = 0;
    uv_timer_stop(&s->deadline);
    if (s->state == SESS_TEARDOWN) {
        sess_close(s);
        return;
    }
    if (m->status == 401) {
        sess_on_401(s, m);
        return;
    }
    /* OPTIONS is only a courtesy: some cameras refuse it, DESCRIBE decides. */
    if ((m->status < 200 || m->status >= 300) && s->state != SESS_OPTIONS) {
        sess_fail(s, status_errno(m->status), "%s: %d %.*s", s->req_method,
                  m->status, (int)NVR_MIN(m->reason_len, 80),
                  m->reason ? m->reason : "");
        return;
    }
    switch (s->state) {
    case SESS_OPTIONS:
        sess_send_describe(s);
        break;
    case SESS_DESCRIBE:
        sess_on_describe(s, m);
        break;
    case SESS_SETUP:
        sess_on_setup(s, m);
        break;
    case SESS_PLAY:
        sess_on_play(s);
        break;
    case SESS_CONNECTING:
    case SESS_PLAYING:
    case SESS_TEARDOWN:
    case SESS_CLOSED:
        break;
    }
}

/* Requests from the camera (ANNOUNCE, GET_PARAMETER, ...) are refused. */
static void sess_on_request(struct rtsp_session *s, const struct rtsp_msg *m)
{
    char buf[128];
    uint32_t cseq;
    int n, err;

    LOG_D("ingest", "camera %s: refusing a %.*s request from the camera",
          s->camera, (int)NVR_MIN(m->method_len, 32),
          m->method ? m->method : "");
    if (rtsp_msg_cseq(m, &cseq) == 0)
        n = snprintf(
            buf, sizeof(buf),
            "RTSP/1.0 501 Not Implemented\r\nCSeq: %" PRIu32 "\r\n\r\n", cseq);
    else
        n = snprintf(buf, sizeof(buf), "RTSP/1.0 501 Not Implemented\r\n\r\n");
    err = sess_write(s, buf, (size_t)n);
    if (err < 0)
        sess_fail(s, err, "write: %s", uv_strerror(err));
}

/* ---- media ---- */

/* Builds the stream description from every set-up track. */
static void sess_build_info(struct rtsp_session *s)
{
    memset(&s->info, 0, sizeof(s->info));
    s->info.n_tracks = s->n_tracks;
    for (int i = 0; i < s->n_tracks; i++) {
        struct sess_track *t = &s->tracks[i];
        struct nvr_track_info *ti = &s->info.tracks[i];

        t->ops->get_info(t->depack, ti);
        ti->codec = t->sdp->codec;
        ti->clock_rate = t->sdp->clock_rate;
        ti->channels = t->sdp->channels;
        if (ti->params_len == 0 && t->sdp->params_len > 0 &&
            t->sdp->params_len <= sizeof(ti->params)) {
            memcpy(ti->params, t->sdp->params, t->sdp->params_len);
            ti->params_len = t->sdp->params_len;
        }
        t->announced = 1;
        t->announced_gen = ti->params_gen;
        t->need_key = t->video;
    }
}

static void sess_emit(void *user, struct nvr_au *au)
{
    struct sess_track *t = user;
    struct rtsp_session *s = t->sess;
    struct nvr_track_info ti;
    int is_key = (au->flags & NVR_AU_KEY) != 0;

    if (s->stopping || s->closing || s->state == SESS_TEARDOWN) {
        nvr_au_unref(au);
        return;
    }
    t->ops->get_info(t->depack, &ti);
    if (!t->announced || ti.params_gen != t->announced_gen) {
        /* A video track announces new parameters only with a keyframe,
         * so the first unit after on_stream can be decoded. */
        if (t->video && !is_key) {
            s->stats->aus_dropped++;
            nvr_au_unref(au);
            return;
        }
        sess_build_info(s);
        if (!s->recording) {
            s->recording = 1;
            if (s->ev->on_recording)
                s->ev->on_recording(s->user_data);
            if (s->stopping) {
                nvr_au_unref(au);
                return;
            }
        }
        if (s->ev->on_stream)
            s->ev->on_stream(s->user_data, &s->info);
        if (s->stopping) {
            nvr_au_unref(au);
            return;
        }
    }
    if (t->need_key) {
        if (!is_key) {
            s->stats->aus_dropped++;
            nvr_au_unref(au);
            return;
        }
        t->need_key = 0;
    }
    /* Each track's timeline is pinned to the recorder's clock at its first
     * unit (the session's first unit for the first track), and again after
     * a restart or an absurd jump that would overflow the arithmetic. */
    if (t->anchored && (au->pts - t->anchor_pts > SESS_MAX_PTS_SPAN ||
                        t->anchor_pts - au->pts > SESS_MAX_PTS_SPAN)) {
        t->anchored = 0;
        t->discont = 1;
    }
    if (!t->anchored) {
        t->anchored = 1;
        t->anchor_pts = au->pts;
        t->anchor_wall_us = nvr_clock_wall_us();
    }
    au->track = t->stream_index;
    au->wall_us = t->anchor_wall_us;
    if (t->sdp->clock_rate > 0)
        au->wall_us +=
            (au->pts - t->anchor_pts) * 1000000 / (int64_t)t->sdp->clock_rate;
    if (t->discont) {
        au->flags |= NVR_AU_DISCONT;
        t->discont = 0;
    }
    s->stats->aus++;
    s->stats->last_au_wall_us = au->wall_us;
    if (s->ev->on_au)
        s->ev->on_au(s->user_data, au);
    else
        nvr_au_unref(au);
}

static void sess_on_frame(struct rtsp_session *s, uint8_t ch,
                          const uint8_t *payload, size_t len)
{
    struct sess_track *t;
    struct depack_stats ds;
    struct rtp_hdr h;
    int64_t ts;
    int r, lost_before;

    if (s->chan_rtp[ch] < 0) {
        if (s->chan_rtcp[ch]) {
            s->stats->rtcp_packets++; /* sender reports: not used yet */
            return;
        }
        s->stats->rtp_ignored++;
        sess_warn_rl(s,
                     "ignoring data on interleaved channel %u, which was "
                     "never set up",
                     ch);
        return;
    }
    if (s->state == SESS_TEARDOWN || s->stopping)
        return;
    t = &s->tracks[s->chan_rtp[ch]];
    s->last_media_ms = uv_now(s->loop);
    if (rtp_parse(payload, len, &h) < 0) {
        s->stats->rtp_ignored++;
        sess_warn_rl(s, "ignoring a malformed RTP packet on channel %u", ch);
        return;
    }
    s->stats->rtp_packets++;
    if (h.pt != t->sdp->pt) {
        s->stats->rtp_ignored++;
        sess_warn_rl(s,
                     "ignoring RTP payload type %u on channel %u "
                     "(expected %d)",
                     h.pt, ch, t->sdp->pt);
        return;
    }
    r = rtp_seq_update(&t->seq, &h);
    if (r < 0)
        return; /* duplicate or late */
    if (t->seq.lost > t->lost_seen) {
        s->stats->rtp_lost += t->seq.lost - t->lost_seen;
        t->lost_seen = t->seq.lost;
    } else if (t->seq.lost < t->lost_seen) {
        t->lost_seen = t->seq.lost; /* the tracker restarted */
    }
    lost_before = r == RTP_SEQ_LOSS;
    if (r == RTP_SEQ_RESET && t->seen_packet) {
        /* New SSRC or a sequence jump: media time restarted. */
        LOG_I("ingest", "camera %s: RTP stream of track %d restarted",
              s->camera, t->stream_index);
        t->discont = 1;
        t->anchored = 0;
        lost_before = 1;
    }
    t->seen_packet = 1;
    ts = rtp_seq_ts_unwrap(&t->seq, h.ts);
    (void)t->ops->push(t->depack, &h, ts, lost_before, sess_emit, t);
    if (s->closing)
        return;
    t->ops->get_stats(t->depack, &ds);
    if (ds.aus_dropped > t->dropped_seen) {
        s->stats->aus_dropped += ds.aus_dropped - t->dropped_seen;
        t->dropped_seen = ds.aus_dropped;
    }
}

/* ---- reading ---- */

/* Runs the parsers over everything buffered until one needs more bytes. */
static void sess_parse(struct rtsp_session *s)
{
    size_t pos = 0;

    while (pos < s->rlen && !s->closing) {
        const uint8_t *p = s->rbuf + pos;
        size_t n = s->rlen - pos;
        int r;

        if (p[0] == '\r' || p[0] == '\n') {
            pos++; /* stray line ends between messages */
            continue;
        }
        if (p[0] == '$') {
            const uint8_t *payload;
            size_t payload_len;
            uint8_t ch;

            r = rtsp_interleaved_parse(p, n, &ch, &payload, &payload_len);
            if (r == -EAGAIN)
                break;
            if (r <= 0) {
                sess_fail(s, -EBADMSG,
                          "camera sent malformed interleaved "
                          "data");
                return;
            }
            sess_on_frame(s, ch, payload, payload_len);
        } else {
            struct rtsp_msg m;

            r = rtsp_msg_parse(p, n, &m);
            if (r == -EAGAIN)
                break;
            if (r <= 0) {
                sess_fail(s, r == -EMSGSIZE ? -EMSGSIZE : -EBADMSG,
                          "camera sent a malformed RTSP response%s",
                          r == -EMSGSIZE ? " (too large)" : "");
                return;
            }
            if (m.is_response)
                sess_on_response(s, &m);
            else
                sess_on_request(s, &m);
        }
        pos += (size_t)r;
    }
    if (s->closing)
        return;
    if (pos > 0) {
        memmove(s->rbuf, s->rbuf + pos, s->rlen - pos);
        s->rlen -= pos;
    }
}

static void sess_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct rtsp_session *s = nvr_container_of(h, struct rtsp_session, tcp);

    (void)suggested;
    /* A full buffer yields a zero-length buffer: libuv reports UV_ENOBUFS. */
    *buf = uv_buf_init((char *)s->rbuf + s->rlen,
                       (unsigned int)(sizeof(s->rbuf) - s->rlen));
}

static void sess_read_cb(uv_stream_t *stream, ssize_t nread,
                         const uv_buf_t *buf)
{
    struct rtsp_session *s = nvr_container_of(stream, struct rtsp_session, tcp);

    (void)buf;
    if (s->closing)
        return;
    if (nread < 0) {
        if (nread == UV_EOF)
            sess_fail(s, -ECONNRESET, "connection closed by camera");
        else if (nread == UV_ENOBUFS)
            sess_fail(s, -EMSGSIZE,
                      "camera sent a message too large to "
                      "buffer");
        else
            sess_fail(s, (int)nread, "read: %s", uv_strerror((int)nread));
        return;
    }
    if (nread == 0)
        return;
    s->stats->bytes_in += (uint64_t)nread;
    s->rlen += (size_t)nread;
    sess_parse(s);
}

/* ---- timers ---- */

static void sess_deadline_cb(uv_timer_t *timer)
{
    struct rtsp_session *s =
        nvr_container_of(timer, struct rtsp_session, deadline);

    if (s->bad_host) {
        sess_fail(s, -EINVAL,
                  "host \"%s\" is not an IP address (DNS "
                  "names are not supported yet)",
                  s->host);
        return;
    }
    if (s->connect_err < 0) {
        sess_fail(s, s->connect_err, "connect: %s",
                  uv_strerror(s->connect_err));
        return;
    }
    switch (s->state) {
    case SESS_CONNECTING:
        sess_fail(s, -ETIMEDOUT, "connect: timed out after %g s",
                  ms_to_s(s->connect_timeout_ms));
        break;
    case SESS_TEARDOWN:
        sess_close(s);
        break;
    case SESS_OPTIONS:
    case SESS_DESCRIBE:
    case SESS_SETUP:
    case SESS_PLAY:
        sess_fail(s, -ETIMEDOUT, "%s: no response within %g s", s->req_method,
                  ms_to_s(s->request_timeout_ms));
        break;
    case SESS_PLAYING:
    case SESS_CLOSED:
        break;
    }
}

static void sess_media_cb(uv_timer_t *timer)
{
    struct rtsp_session *s =
        nvr_container_of(timer, struct rtsp_session, media);
    uint64_t idle = uv_now(s->loop) - s->last_media_ms;

    if (s->state != SESS_PLAYING)
        return;
    if (idle >= (uint64_t)s->media_timeout_ms) {
        sess_fail(s, -ETIMEDOUT, "no media for %g s",
                  ms_to_s(s->media_timeout_ms));
        return;
    }
    uv_timer_start(&s->media, sess_media_cb,
                   (uint64_t)s->media_timeout_ms - idle, 0);
}

static void sess_keepalive_cb(uv_timer_t *timer)
{
    struct rtsp_session *s =
        nvr_container_of(timer, struct rtsp_session, keepalive);
    char buf[SESS_REQ_MAX];
    uint32_t cseq;
    int n, err;

    if (s->state != SESS_PLAYING || s->stopping)
        return;
    /* OPTIONS keeps every camera's session alive (CAMERA-QUIRKS.md);
     * liveness itself is judged by the media deadline. */
    cseq = s->next_cseq++;
    n = sess_format_request(s, "OPTIONS", s->url, "", cseq, buf, sizeof(buf));
    if (n < 0) {
        sess_fail(s, n, "OPTIONS: request too long");
        return;
    }
    err = sess_write(s, buf, (size_t)n);
    if (err < 0) {
        sess_fail(s, err, "keepalive: write: %s", uv_strerror(err));
        return;
    }
    s->keepalive_cseq = cseq;
}

static void sess_total_cb(uv_timer_t *timer)
{
    struct rtsp_session *s =
        nvr_container_of(timer, struct rtsp_session, total);

    sess_fail(s, -ETIMEDOUT, "timed out after %g s",
              ms_to_s(s->total_timeout_ms));
}

/* ---- connecting ---- */

static void sess_connect_cb(uv_connect_t *req, int status)
{
    struct rtsp_session *s =
        nvr_container_of(req, struct rtsp_session, connect_req);
    int err;

    if (s->closing)
        return;
    if (status < 0) {
        sess_fail(s, status, "connect: %s", uv_strerror(status));
        return;
    }
    uv_timer_stop(&s->deadline);
    (void)uv_tcp_nodelay(&s->tcp, 1); /* small requests; best effort */
    (void)uv_tcp_keepalive(&s->tcp, 1, 30);
    err = uv_read_start((uv_stream_t *)&s->tcp, sess_alloc_cb, sess_read_cb);
    if (err < 0) {
        sess_fail(s, err, "read: %s", uv_strerror(err));
        return;
    }
    if (s->stopping) {
        sess_close(s);
        return;
    }
    LOG_D("ingest", "camera %s: connected", s->camera);
    sess_send_options(s);
}

int rtsp_session_new(uv_loop_t *loop, const struct rtsp_session_config *cfg,
                     const struct rtsp_session_events *events, void *user,
                     struct rtsp_session **out)
{
    struct sockaddr_storage addr;
    struct rtsp_session *s;
    uint64_t x;
    int err;

    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->loop = loop;
    s->mode = cfg->mode;
    s->ev = events;
    s->user_data = user;
    s->stats = cfg->stats;
    snprintf(s->camera, sizeof(s->camera), "%s",
             cfg->camera ? cfg->camera : "?");
    snprintf(s->url, sizeof(s->url), "%s", cfg->url);
    snprintf(s->host, sizeof(s->host), "%s", cfg->host);
    s->port = cfg->port;
    snprintf(s->user, sizeof(s->user), "%s",
             cfg->username ? cfg->username : "");
    snprintf(s->pass, sizeof(s->pass), "%s",
             cfg->password ? cfg->password : "");
    s->connect_timeout_ms = cfg->connect_timeout_ms;
    s->request_timeout_ms = cfg->request_timeout_ms;
    s->media_timeout_ms = cfg->media_timeout_ms;
    s->total_timeout_ms = cfg->total_timeout_ms;
    s->next_cseq = 1;
    memset(s->chan_rtp, -1, sizeof(s->chan_rtp));
    /* The client nonce only has to be unpredictable enough to differ
     * between requests and clients (RFC 2617 3.2.2). */
    x = cfg->seed ? cfg->seed : uv_hrtime() ^ (uint64_t)(uintptr_t)s;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    snprintf(s->auth.cnonce, sizeof(s->auth.cnonce),
             "%016" PRIx64 "%016" PRIx64, x,
             (uint64_t)(x * 0xc4ceb9fe1a85ec53ULL));

    (void)uv_tcp_init(loop, &s->tcp); /* cannot fail on Unix */
    (void)uv_timer_init(loop, &s->deadline);
    (void)uv_timer_init(loop, &s->media);
    (void)uv_timer_init(loop, &s->keepalive);
    (void)uv_timer_init(loop, &s->total);
    s->state = SESS_CONNECTING;
    *out = s;

    if (s->total_timeout_ms > 0)
        uv_timer_start(&s->total, sess_total_cb, (uint64_t)s->total_timeout_ms,
                       0);
    if (rtsp_session_addr(s->host, s->port, &addr) < 0) {
        /* Reported from the loop, like every other failure. */
        s->bad_host = 1;
        uv_timer_start(&s->deadline, sess_deadline_cb, 0, 0);
        return 0;
    }
    uv_timer_start(&s->deadline, sess_deadline_cb,
                   (uint64_t)s->connect_timeout_ms, 0);
    err = uv_tcp_connect(&s->connect_req, &s->tcp,
                         (const struct sockaddr *)&addr, sess_connect_cb);
    if (err < 0) {
        /* Also reported from the loop, never from inside the caller. */
        s->connect_err = err;
        uv_timer_start(&s->deadline, sess_deadline_cb, 0, 0);
    }
    return 0;
}

int rtsp_session_played(const struct rtsp_session *s)
{
    return (s->end_flags & RTSP_SESSION_END_PLAYED) != 0;
}

void rtsp_session_stop(struct rtsp_session *s)
{
    if (s->stopping)
        return;
    s->stopping = 1;
    if (s->closing)
        return;
    s->ended = 1; /* the owner knows: no on_end */
    if (s->session_id[0] && s->state >= SESS_SETUP &&
        s->state <= SESS_PLAYING) {
        char uri[SESS_URL_MAX];

        uv_timer_stop(&s->media);
        uv_timer_stop(&s->keepalive);
        if (sess_session_uri(s, uri, sizeof(uri)) == 0) {
            sess_request(s, SESS_TEARDOWN, "TEARDOWN", uri, "");
            if (!s->closing)
                return;
        }
    }
    sess_close(s);
}
