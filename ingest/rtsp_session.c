/* SPDX-License-Identifier: MIT */
/*
 * One RTSP/1.0 connection (RFC 2326) on libuv: TCP connect, OPTIONS,
 * DESCRIBE, SETUP of every recordable track with interleaved RTP (section
 * 10.12) or RTP over UDP (rtsp_udp.c), PLAY, OPTIONS keepalives, and
 * TEARDOWN on stop. Incoming bytes go to a fixed per-connection buffer and
 * through the pure parsers (rtsp_msg.h); media goes to rtsp_media.c. Every
 * step has a deadline. The session ends once, through on_end, and frees
 * itself in the last close callback.
 */
#include "config.h"

#include "ingest/rtsp_session_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <uv.h>

#include "ingest/rtsp_msg.h"
#include "ingest/rtsp_url.h"
#include "ingest/sdp.h"
#include "nvr/base/clock.h"
#include "nvr/base/err.h"
#include "nvr/base/log.h"

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
    rtsp_media__drop_held(s);
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

static void sess_rtcp_closed(uv_handle_t *h)
{
    sess_closed_one(nvr_container_of(h, struct rtsp_session, rtcp));
}

static void sess_udp_on_closed(void *user)
{
    sess_closed_one(user);
}

static void sess_udp_on_rtp(void *user, int track, const uint8_t *pkt,
                            size_t len)
{
    rtsp_media__on_rtp(user, track, pkt, len);
}

static void sess_udp_on_rtcp(void *user, int track, const uint8_t *pkt,
                             size_t len)
{
    rtsp_media__on_rtcp(user, track, pkt, len);
}

static void sess_udp_on_bytes(void *user, size_t len)
{
    struct rtsp_session *s = user;

    s->stats->bytes_in += len;
}

static const struct rtsp_udp_events sess_udp_events = {
    .on_rtp = sess_udp_on_rtp,
    .on_rtcp = sess_udp_on_rtcp,
    .on_bytes = sess_udp_on_bytes,
    .on_closed = sess_udp_on_closed,
};

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
    uv_close((uv_handle_t *)&s->rtcp, sess_rtcp_closed);
    if (s->udp) {
        s->pending_closes++;
        rtsp_udp_close(s->udp);
    }
}

/* ---- writing ---- */

static void sess_write_cb(uv_write_t *req, int status)
{
    struct sess_write *w = nvr_container_of(req, struct sess_write, req);
    struct rtsp_session *s = w->sess;

    s->wqueued -= sizeof(*w) + w->len;
    free(w);
    if (status < 0 && !s->closing)
        sess_fail(s, status, "write: %s", uv_strerror(status));
}

/* Queues len bytes. Returns 0 or a negative errno (the caller fails). */
static int sess_write(struct rtsp_session *s, const char *data, size_t len)
{
    struct sess_write *w;
    uv_buf_t buf;
    int err;

    /* A camera that stops reading, or floods us with requests to answer,
     * must not make the output grow without bound. Counted until each
     * write's callback runs: libuv reads many times before it calls back
     * writes that completed at once, so its own queue size is not enough. */
    if (s->wqueued + sizeof(*w) + len > (size_t)RTSP_SESSION_WQUEUE_MAX_BYTES)
        return -ENOBUFS;
    w = malloc(sizeof(*w) + len);
    if (!w)
        return -ENOMEM;
    w->sess = s;
    w->len = len;
    memcpy(w->data, data, len);
    buf = uv_buf_init(w->data, (unsigned int)len);
    err = uv_write(&w->req, (uv_stream_t *)&s->tcp, &buf, 1, sess_write_cb);
    if (err < 0)
        free(w);
    else
        s->wqueued += sizeof(*w) + len;
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

        if (rtsp_auth_header(s->authp, method, uri, s->user, s->pass, auth,
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

/*
 * Binds the UDP port pair of track t on the local address of the RTSP
 * connection (the interface the camera is reached by). Returns 0 or a
 * negative errno; the caller fails the session.
 */
static int sess_udp_bind(struct rtsp_session *s, struct sess_track *t)
{
    struct sockaddr_storage local;
    int len = sizeof(local);
    int err;

    if (!s->udp) {
        err = rtsp_udp_new(s->loop, &sess_udp_events, s, &s->udp);
        if (err < 0)
            return err;
    }
    err = uv_tcp_getsockname(&s->tcp, (struct sockaddr *)&local, &len);
    if (err < 0)
        return err;
    return rtsp_udp_bind(s->udp, t->stream_index, (struct sockaddr *)&local,
                         &t->client_port);
}

static void sess_send_setup(struct rtsp_session *s)
{
    struct sess_track *t = &s->tracks[s->setup_next];
    int sdp_index = (int)(t->sdp - s->sdp.tracks);
    char uri[SESS_URL_MAX];
    char extra[128];
    int err;

    if (rtsp_url_join_control(s->base_url, t->sdp->control, uri, sizeof(uri)) <
        0) {
        sess_fail(s, -EMSGSIZE, "SETUP: control URL too long");
        return;
    }
    if (s->use_udp) {
        err = sess_udp_bind(s, t);
        if (err < 0) {
            if (s->udp_probe_ms > 0)
                s->end_flags |= RTSP_SESSION_END_NO_UDP;
            sess_fail(s, err, "SETUP: cannot open UDP ports: %s",
                      nvr_strerror(err));
            return;
        }
        snprintf(extra, sizeof(extra),
                 "Transport: RTP/AVP;unicast;client_port=%u-%u\r\n",
                 (unsigned)t->client_port, (unsigned)t->client_port + 1);
    } else {
        /* Channels 2i and 2i+1 for SDP track i, so they never collide. */
        snprintf(extra, sizeof(extra),
                 "Transport: RTP/AVP/TCP;unicast;interleaved=%d-%d\r\n",
                 2 * sdp_index, 2 * sdp_index + 1);
    }
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

/*
 * The base for control URLs (RFC 2326 C.1.1): Content-Base, else
 * Content-Location, else the request URL; rtsp_quirks_base_url() copes
 * with a Content-Base that has no scheme.
 */
static int sess_set_base(struct rtsp_session *s, const struct rtsp_msg *m)
{
    char v[SESS_URL_MAX];

    if (rtsp_msg_header_copy(m, "Content-Base", v, sizeof(v)) != 0 &&
        rtsp_msg_header_copy(m, "Content-Location", v, sizeof(v)) != 0)
        v[0] = '\0';
    return rtsp_quirks_base_url(s->url, v, s->base_url, sizeof(s->base_url));
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
        t->video = st->codec == NVR_CODEC_H264 || st->codec == NVR_CODEC_H265 ||
                   st->codec == NVR_CODEC_MJPEG;
        wallclock_track_init(&t->clock, st->clock_rate);
        err = ops->create(st, &t->depack);
        if (err < 0)
            return err;
        /* The first video track steers the time line: its frames arrive
         * evenly, audio packets in bursts. */
        if (t->video && !s->tracks[s->ref_track].video)
            s->ref_track = s->n_tracks;
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

/* The next SETUP, or PLAY once every track is set up. */
static void sess_setup_next(struct rtsp_session *s)
{
    if (++s->setup_next < s->n_tracks)
        sess_send_setup(s);
    else
        sess_send_play(s);
}

/* A SETUP answer for UDP (RFC 2326 12.39): connect the track's sockets to
 * the camera's server_port pair, at the address of the RTSP connection. */
static void sess_on_setup_udp(struct rtsp_session *s, struct sess_track *t,
                              const struct rtsp_transport *tr)
{
    struct sockaddr_storage peer;
    int len = sizeof(peer);
    int err;

    if (!tr || tr->server_port[0] <= 0 || tr->server_port[0] > 65535) {
        if (s->udp_probe_ms > 0)
            s->end_flags |= RTSP_SESSION_END_NO_UDP;
        sess_fail(s, -EPROTO, "SETUP: the camera gave no UDP server_port");
        return;
    }
    err = uv_tcp_getpeername(&s->tcp, (struct sockaddr *)&peer, &len);
    if (err == 0)
        err = rtsp_udp_connect(
            s->udp, t->stream_index, (struct sockaddr *)&peer,
            (uint16_t)tr->server_port[0],
            tr->server_port[1] > 0 && tr->server_port[1] <= 65535
                ? (uint16_t)tr->server_port[1]
                : 0);
    if (err < 0) {
        if (s->udp_probe_ms > 0)
            s->end_flags |= RTSP_SESSION_END_NO_UDP;
        sess_fail(s, err, "SETUP: cannot connect UDP: %s", nvr_strerror(err));
        return;
    }
    t->udp = 1;
    LOG_D("ingest", "camera %s: track %d (%s) over UDP, ports %u-%u", s->camera,
          t->stream_index, nvr_codec_name(t->sdp->codec),
          (unsigned)t->client_port, (unsigned)t->client_port + 1);
    sess_setup_next(s);
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
    if (v &&
        rtsp_quirks_session_id(v, vlen, s->session_id, sizeof(s->session_id),
                               &s->session_timeout_s) < 0) {
        sess_fail(s, -EBADMSG, "SETUP: malformed Session header");
        return;
    }
    /* The camera may pick other channels than asked, or interleave when
     * UDP was asked for; follow its answer. */
    v = rtsp_msg_header(m, "Transport", &vlen);
    if (v && rtsp_parse_transport(v, vlen, &tr) == 0) {
        if (tr.interleaved && tr.channel_rtp >= 0 && tr.channel_rtp < 256) {
            ch_rtp = tr.channel_rtp;
            ch_rtcp = tr.channel_rtcp >= 0 && tr.channel_rtcp < 256
                          ? tr.channel_rtcp
                          : -1;
        } else if (s->use_udp) {
            sess_on_setup_udp(s, t, &tr);
            return;
        }
    } else if (s->use_udp) {
        sess_on_setup_udp(s, t, NULL);
        return;
    }
    s->chan_rtp[ch_rtp] = (int8_t)t->stream_index;
    if (ch_rtcp >= 0 && ch_rtcp != ch_rtp)
        s->chan_rtcp[ch_rtcp] = (int8_t)t->stream_index;
    LOG_D("ingest", "camera %s: track %d (%s) on channel %d", s->camera,
          t->stream_index, nvr_codec_name(t->sdp->codec), ch_rtp);
    if (++s->setup_next < s->n_tracks)
        sess_send_setup(s);
    else
        sess_send_play(s);
}

static void sess_keepalive_cb(uv_timer_t *timer);
static void sess_media_cb(uv_timer_t *timer);

static void sess_rtcp_cb(uv_timer_t *timer)
{
    rtsp_media__tick(nvr_container_of(timer, struct rtsp_session, rtcp));
}

static void sess_on_play(struct rtsp_session *s)
{
    uint64_t period_ms;

    s->state = SESS_PLAYING;
    s->end_flags |= RTSP_SESSION_END_PLAYED;
    s->last_media_ms = uv_now(s->loop);
    if (!s->udp)
        s->udp_probe_ms = 0;
    uv_timer_start(
        &s->media, sess_media_cb,
        (uint64_t)(s->udp_probe_ms > 0 && s->udp_probe_ms < s->media_timeout_ms
                       ? s->udp_probe_ms
                       : s->media_timeout_ms),
        0);
    period_ms = rtsp_quirks_keepalive_ms(s->session_timeout_s);
    uv_timer_start(&s->keepalive, sess_keepalive_cb, period_ms, period_ms);
    uv_timer_start(&s->rtcp, sess_rtcp_cb, SESS_TICK_MS, SESS_TICK_MS);
    LOG_I("ingest", "camera %s: playing %d track(s) over %s", s->camera,
          s->n_tracks, s->udp ? "UDP" : "TCP");
}

static void sess_on_401(struct rtsp_session *s, const struct rtsp_msg *m)
{
    int err;

    if (rtsp_quirks_on_401(s->user[0] || s->pass[0], s->req_auth_retried) !=
        RTSP_QUIRKS_AUTH_ANSWER) {
        s->end_flags |= RTSP_SESSION_END_AUTH;
        sess_fail(s, -EACCES,
                  "authentication failed (wrong username or password?)");
        return;
    }
    err = rtsp_auth_parse_challenge(m, s->authp);
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
        /* A camera that refuses UDP (461 Unsupported Transport, or any
         * error to a UDP SETUP) gets TCP next time under transport auto. */
        if (s->state == SESS_SETUP && s->use_udp && s->udp_probe_ms > 0)
            s->end_flags |= RTSP_SESSION_END_NO_UDP;
        sess_fail(s, rtsp_quirks_status_errno(m->status), "%s: %d %.*s",
                  s->req_method, m->status, (int)NVR_MIN(m->reason_len, 80),
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
    if (err == -ENOBUFS)
        sess_fail(s, err,
                  "camera sends requests faster than it reads the answers "
                  "(more than %d KiB queued)",
                  RTSP_SESSION_WQUEUE_MAX_BYTES / 1024);
    else if (err < 0)
        sess_fail(s, err, "write: %s", uv_strerror(err));
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
            rtsp_media__on_interleaved(s, ch, payload, payload_len);
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
    if (s->udp_probe_ms > 0) {
        if (s->rtp_received == 0) {
            /* A firewall or NAT in the way: transport auto falls back to
             * TCP interleaved (the camera decides). */
            s->end_flags |= RTSP_SESSION_END_NO_UDP;
            sess_fail(s, -ETIMEDOUT, "no RTP over UDP within %g s of PLAY",
                      ms_to_s(s->udp_probe_ms));
            return;
        }
        s->udp_probe_ms = 0;
    }
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
    n = sess_format_request(s, rtsp_quirks_keepalive_method(), s->url, "", cseq,
                            buf, sizeof(buf));
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
    memset(s->chan_rtcp, -1, sizeof(s->chan_rtcp));
    s->hold_ms = cfg->hold_ms;
    s->holding = cfg->hold_ms > 0;
    s->use_udp = cfg->udp;
    s->udp_probe_ms = cfg->udp ? cfg->udp_probe_ms : 0;
    s->authp = cfg->auth ? cfg->auth : &s->auth;
    /* A challenge this camera sent on an earlier connection is answered
     * at once: some cameras close the connection after every 401. */
    s->have_auth =
        s->authp->scheme != RTSP_AUTH_NONE && (s->user[0] || s->pass[0]);
    wallclock_init(&s->clock);
    /* The client nonce only has to be unpredictable enough to differ
     * between requests and clients (RFC 2617 3.2.2). */
    x = cfg->seed ? cfg->seed : uv_hrtime() ^ (uint64_t)(uintptr_t)s;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    snprintf(s->authp->cnonce, sizeof(s->authp->cnonce),
             "%016" PRIx64 "%016" PRIx64, x,
             (uint64_t)(x * 0xc4ceb9fe1a85ec53ULL));
    s->our_ssrc = (uint32_t)(x >> 17) ^ (uint32_t)x;

    (void)uv_tcp_init(loop, &s->tcp); /* cannot fail on Unix */
    (void)uv_timer_init(loop, &s->deadline);
    (void)uv_timer_init(loop, &s->media);
    (void)uv_timer_init(loop, &s->keepalive);
    (void)uv_timer_init(loop, &s->total);
    (void)uv_timer_init(loop, &s->rtcp);
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
