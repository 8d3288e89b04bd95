/* SPDX-License-Identifier: MIT */
/*
 * The RTSP handshake of one session (RFC 2326 section 10): OPTIONS,
 * DESCRIBE and the choice of tracks, SETUP of each (interleaved, section
 * 10.12, or UDP), PLAY with its RTP-Info, authentication retries on 401,
 * and the requests a server sends us. Each response advances the session's
 * state in one dispatch (rtsp_handshake__on_response); rtsp_session.c owns
 * the connection, the writes, the timers and the teardown.
 */
#include "config.h"

#include "ingest/rtsp_session_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "ingest/rtsp_msg.h"
#include "ingest/rtsp_url.h"
#include "ingest/sdp.h"
#include "nvr/base/clock.h"
#include "nvr/base/err.h"
#include "nvr/base/log.h"

/* ---- the handshake ---- */

void rtsp_handshake__send_options(struct rtsp_session *s)
{
    rtsp_session__request(s, SESS_OPTIONS, "OPTIONS", s->url, "");
}

static void sess_send_describe(struct rtsp_session *s)
{
    rtsp_session__request(s, SESS_DESCRIBE, "DESCRIBE", s->url,
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
        err = rtsp_udp_new(s->loop, &rtsp_session__udp_events, s, &s->udp);
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
        rtsp_session__fail(s, -EMSGSIZE, "SETUP: control URL too long");
        return;
    }
    if (s->use_udp) {
        err = sess_udp_bind(s, t);
        if (err < 0) {
            if (s->udp_probe_ms > 0)
                s->end_flags |= RTSP_SESSION_END_NO_UDP;
            rtsp_session__fail(s, err, "SETUP: cannot open UDP ports: %s",
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
    rtsp_session__request(s, SESS_SETUP, "SETUP", uri, extra);
}

/* The aggregate control URL (RFC 2326 C.1.1), used by PLAY and TEARDOWN. */
int rtsp_handshake__session_uri(const struct rtsp_session *s, char *uri,
                                size_t size)
{
    return rtsp_url_join_control(s->base_url, s->sdp.control, uri, size);
}

static void sess_send_play(struct rtsp_session *s)
{
    char uri[SESS_URL_MAX];

    if (rtsp_handshake__session_uri(s, uri, sizeof(uri)) < 0) {
        rtsp_session__fail(s, -EMSGSIZE, "PLAY: control URL too long");
        return;
    }
    rtsp_session__request(s, SESS_PLAY, "PLAY", uri, "Range: npt=0.000-\r\n");
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
        rtsp_session__fail(s, -EBADMSG, "DESCRIBE: the camera sent no SDP");
        return;
    }
    err = sdp_parse((const char *)m->body, m->body_len, &s->sdp);
    if (err < 0) {
        rtsp_session__fail(s, err, "DESCRIBE: unusable SDP (%s)",
                           nvr_strerror(err));
        return;
    }
    if (sess_set_base(s, m) < 0) {
        rtsp_session__fail(s, -EMSGSIZE, "DESCRIBE: base URL too long");
        return;
    }
    if (s->mode == RTSP_SESSION_MODE_PROBE) {
        if (s->ev->on_described)
            s->ev->on_described(s->user_data, &s->sdp, s->base_url);
        s->ended = 1;
        rtsp_session__close(s);
        return;
    }
    err = sess_pick_tracks(s);
    if (err < 0) {
        rtsp_session__fail(s, err, "cannot set up a depacketizer: %s",
                           nvr_strerror(err));
        return;
    }
    if (s->n_tracks == 0) {
        rtsp_session__fail(s, -ENOTSUP,
                           "no track with a supported codec (of %d)",
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
        rtsp_session__fail(s, -EPROTO,
                           "SETUP: the camera gave no UDP server_port");
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
        rtsp_session__fail(s, err, "SETUP: cannot connect UDP: %s",
                           nvr_strerror(err));
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
        rtsp_session__fail(s, -EBADMSG, "SETUP: malformed Session header");
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
    if (s->udp_fallback && s->setup_next == 0)
        snprintf(s->stats->transport_why, sizeof(s->stats->transport_why),
                 "auto, camera accepted interleaved TCP");
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

static void sess_rtcp_cb(uv_timer_t *timer)
{
    rtsp_media__tick(nvr_container_of(timer, struct rtsp_session, rtcp));
}

/* Whether RTP-Info entry url names track t, whose SETUP went to uri. */
static int sess_rtpinfo_match(const struct sess_track *t, const char *uri,
                              const char *url)
{
    const char *c = t->sdp->control;
    size_t ulen = strlen(url), clen = strlen(c), len = strlen(uri);

    if (ulen == 0)
        return 0;
    if (strcmp(url, uri) == 0 || strcmp(url, c) == 0)
        return 1;
    /* A relative url, or one against another base: compare the ends. */
    if (len > ulen && strcmp(uri + len - ulen, url) == 0 &&
        uri[len - ulen - 1] == '/')
        return 1;
    return clen > 0 && ulen > clen && strcmp(url + ulen - clen, c) == 0 &&
           url[ulen - clen - 1] == '/';
}

/*
 * Takes each track's rtptime from the RTP-Info of the PLAY response
 * (RFC 2326 12.33, RFC 7826 18.45): entries are matched to tracks by url,
 * or by order when no url matches and there is one entry per track.
 * Whether a value is believed is decided against the packets
 * (rtsp_media.c), so wrong ones cost nothing here.
 */
static void sess_take_rtpinfo(struct rtsp_session *s, const struct rtsp_msg *m)
{
    struct rtsp_rtpinfo ri;
    char uri[SESS_URL_MAX];
    const char *v;
    size_t vlen;
    int matched = 0;

    v = rtsp_msg_header(m, "RTP-Info", &vlen);
    if (!v || rtsp_parse_rtpinfo(v, vlen, &ri) < 0 || ri.n == 0) {
        LOG_D("ingest", "camera %s: PLAY gave no usable RTP-Info", s->camera);
        return;
    }
    for (int i = 0; i < s->n_tracks; i++) {
        struct sess_track *t = &s->tracks[i];

        if (rtsp_url_join_control(s->base_url, t->sdp->control, uri,
                                  sizeof(uri)) < 0)
            continue;
        for (int k = 0; k < ri.n; k++) {
            if (!sess_rtpinfo_match(t, uri, ri.entries[k].url))
                continue;
            t->rtpinfo_has = ri.entries[k].has_rtptime;
            t->rtpinfo_rtptime = ri.entries[k].rtptime;
            matched++;
            break;
        }
    }
    if (matched == 0 && ri.n == s->n_tracks) {
        for (int i = 0; i < s->n_tracks; i++) {
            s->tracks[i].rtpinfo_has = ri.entries[i].has_rtptime;
            s->tracks[i].rtpinfo_rtptime = ri.entries[i].rtptime;
        }
    }
    for (int i = 0; i < s->n_tracks; i++) {
        if (s->tracks[i].rtpinfo_has)
            LOG_D("ingest", "camera %s: RTP-Info of track %d: rtptime=%" PRIu32,
                  s->camera, i, s->tracks[i].rtpinfo_rtptime);
        else
            LOG_D("ingest", "camera %s: RTP-Info of track %d: no rtptime",
                  s->camera, i);
    }
}

static void sess_on_play(struct rtsp_session *s, const struct rtsp_msg *m)
{
    uint64_t period_ms;

    s->state = SESS_PLAYING;
    s->end_flags |= RTSP_SESSION_END_PLAYED;
    sess_take_rtpinfo(s, m);
    s->last_media_ms = uv_now(s->loop);
    rtsp_media__unit_deadline_start(s);
    if (!s->udp)
        s->udp_probe_ms = 0;
    uv_timer_start(
        &s->media, rtsp_session__media_cb,
        (uint64_t)(s->udp_probe_ms > 0 && s->udp_probe_ms < s->media_timeout_ms
                       ? s->udp_probe_ms
                       : s->media_timeout_ms),
        0);
    period_ms = rtsp_quirks_keepalive_ms(s->session_timeout_s);
    uv_timer_start(&s->keepalive, rtsp_session__keepalive_cb, period_ms,
                   period_ms);
    uv_timer_start(&s->rtcp, sess_rtcp_cb, SESS_TICK_MS, SESS_TICK_MS);
    rtsp_session__start_batching(s);
    LOG_I("ingest",
          "camera %s: playing %d track(s) over %s; keepalive %s every %g s",
          s->camera, s->n_tracks, s->udp ? "UDP" : "TCP", s->keepalive_method,
          (double)period_ms / 1000.0);
}

static void sess_on_401(struct rtsp_session *s, const struct rtsp_msg *m)
{
    int err;

    if (rtsp_quirks_on_401(s->user[0] || s->pass[0], s->req_auth_retried) !=
        RTSP_QUIRKS_AUTH_ANSWER) {
        s->end_flags |= RTSP_SESSION_END_AUTH;
        /* Without credentials nothing was wrong: none were given. */
        if (!s->user[0] && !s->pass[0])
            rtsp_session__fail(s, -EACCES,
                               "the camera asks for a username and password, "
                               "and none were given");
        else if (!s->pass[0])
            rtsp_session__fail(s, -EACCES,
                               "the camera asks for a password, and none was "
                               "given for user %s",
                               s->user);
        else
            rtsp_session__fail(
                s, -EACCES,
                "authentication failed (wrong username or password?)");
        return;
    }
    err = rtsp_auth_parse_challenge(m, s->authp);
    if (err == -EKEYREJECTED) {
        s->end_flags |= RTSP_SESSION_END_AUTH;
        if (s->authp->policy == RTSP_AUTH_POLICY_BASIC)
            rtsp_session__fail(s, -EKEYREJECTED,
                               "authentication refused: the camera offers "
                               "only Digest, and auth = basic allows only "
                               "Basic; set auth = digest (or any) in "
                               "[camera %s]",
                               s->camera);
        else
            rtsp_session__fail(s, -EKEYREJECTED,
                               "authentication refused: the camera offers "
                               "only Basic, which would send the password "
                               "in clear text; set auth = basic (or any) in "
                               "[camera %s] to allow it",
                               s->camera);
        return;
    }
    if (err == -ENOTSUP) {
        s->end_flags |= RTSP_SESSION_END_AUTH;
        rtsp_session__fail(s, -ENOTSUP,
                           "authentication failed (the camera offers "
                           "no supported scheme)");
        return;
    }
    if (err < 0) {
        rtsp_session__fail(s, -EBADMSG,
                           "%s: malformed authentication challenge",
                           s->req_method);
        return;
    }
    s->have_auth = 1;
    s->req_auth_retried = 1;
    rtsp_session__send_current(s);
}

/* The keepalive follows Public (any answer: OPTIONS is a courtesy). */
static void sess_on_options(struct rtsp_session *s, const struct rtsp_msg *m)
{
    size_t vlen = 0;
    const char *v = m->status >= 200 && m->status < 300
                        ? rtsp_msg_header(m, "Public", &vlen)
                        : NULL;

    snprintf(s->keepalive_method, sizeof(s->keepalive_method), "%s",
             rtsp_quirks_keepalive_method(v, vlen));
    sess_send_describe(s);
}

/*
 * Transport auto: the server refused the interleaved SETUP of track
 * setup_next (461 Unsupported Transport, or 400). The first track's is
 * repeated over UDP on this connection; a later track's ends the session
 * so that the next one sets every track up over UDP.
 */
static void sess_setup_over_udp(struct rtsp_session *s,
                                const struct rtsp_msg *m)
{
    s->end_flags |= RTSP_SESSION_END_NO_TCP;
    snprintf(s->stats->transport_why, sizeof(s->stats->transport_why),
             "camera refused interleaved TCP (%d)", m->status);
    if (s->setup_next > 0) {
        rtsp_session__fail(s, rtsp_quirks_status_errno(m->status),
                           "SETUP of track %d: %d to interleaved TCP after "
                           "an earlier track accepted it; transport auto: "
                           "setting up every track over UDP",
                           s->setup_next, m->status);
        return;
    }
    LOG_W("ingest",
          "camera %s: SETUP: %d %.*s to interleaved TCP; transport auto: "
          "falling back to UDP",
          s->camera, m->status, (int)NVR_MIN(m->reason_len, 80),
          m->reason ? m->reason : "");
    s->use_udp = 1;
    s->udp_fallback = 0;
    s->udp_probe_ms = s->udp_probe_cfg_ms;
    snprintf(s->stats->transport, sizeof(s->stats->transport), "udp");
    sess_send_setup(s);
}

void rtsp_handshake__on_response(struct rtsp_session *s,
                                 const struct rtsp_msg *m)
{
    uint32_t cseq;

    if (rtsp_msg_cseq(m, &cseq) < 0) {
        LOG_D("ingest", "camera %s: ignoring a response without CSeq",
              s->camera);
        return;
    }
    if (s->keepalive_cseq && cseq == s->keepalive_cseq) {
        /* Any answer will do: cameras differ in what they say here. A
         * GET_PARAMETER refused all the same gives way to OPTIONS. */
        s->keepalive_cseq = 0;
        if (m->status >= 400 &&
            strcmp(s->keepalive_method, "GET_PARAMETER") == 0) {
            LOG_I("ingest",
                  "camera %s: keepalive GET_PARAMETER answered %d; using "
                  "OPTIONS instead",
                  s->camera, m->status);
            snprintf(s->keepalive_method, sizeof(s->keepalive_method),
                     "OPTIONS");
        }
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
        rtsp_session__close(s);
        return;
    }
    if (m->status == 401) {
        sess_on_401(s, m);
        return;
    }
    if (s->state == SESS_SETUP && !s->use_udp && s->udp_fallback &&
        rtsp_quirks_tcp_refused(m->status)) {
        sess_setup_over_udp(s, m);
        return;
    }
    /* OPTIONS is only a courtesy: some cameras refuse it, DESCRIBE decides. */
    if ((m->status < 200 || m->status >= 300) && s->state != SESS_OPTIONS) {
        /* A camera that refuses UDP (461 Unsupported Transport, or any
         * error to a UDP SETUP) gets TCP next time under transport auto. */
        if (s->state == SESS_SETUP && s->use_udp && s->udp_probe_ms > 0)
            s->end_flags |= RTSP_SESSION_END_NO_UDP;
        rtsp_session__fail(s, rtsp_quirks_status_errno(m->status),
                           "%s: %d %.*s", s->req_method, m->status,
                           (int)NVR_MIN(m->reason_len, 80),
                           m->reason ? m->reason : "");
        return;
    }
    switch (s->state) {
    case SESS_OPTIONS:
        sess_on_options(s, m);
        break;
    case SESS_DESCRIBE:
        sess_on_describe(s, m);
        break;
    case SESS_SETUP:
        sess_on_setup(s, m);
        break;
    case SESS_PLAY:
        sess_on_play(s, m);
        break;
    case SESS_CONNECTING:
    case SESS_PLAYING:
    case SESS_TEARDOWN:
    case SESS_CLOSED:
        break;
    }
}

/* Requests from the camera (ANNOUNCE, GET_PARAMETER, ...) are refused. */
void rtsp_handshake__on_request(struct rtsp_session *s,
                                const struct rtsp_msg *m)
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
    err = rtsp_session__write(s, buf, (size_t)n);
    if (err == -ENOBUFS)
        rtsp_session__fail(
            s, err,
            "camera sends requests faster than it reads the answers "
            "(more than %d KiB queued)",
            RTSP_SESSION_WQUEUE_MAX_BYTES / 1024);
    else if (err < 0)
        rtsp_session__fail(s, err, "write: %s", uv_strerror(err));
}
