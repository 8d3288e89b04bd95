/* SPDX-License-Identifier: MIT */
/*
 * One RTSP/1.0 connection (RFC 2326) on libuv: TCP connect, writes,
 * reads, keepalives and TEARDOWN on stop. The handshake (OPTIONS, DESCRIBE,
 * SETUP of every recordable track with interleaved RTP, section 10.12, or
 * RTP over UDP, rtsp_udp.c, and PLAY) is rtsp_handshake.c. Incoming bytes
 * go to a fixed per-connection buffer and through the pure parsers
 * (rtsp_msg.h); media goes to rtsp_media.c. Every step has a deadline. The
 * session ends once, through on_end, and frees itself in the last close
 * callback.
 */
#include "config.h"

#include "ingest/rtsp_session_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <uv.h>

#include "ingest/rtsp_msg.h"
#include "nvr/base/clock.h"
#include "nvr/base/err.h"
#include "nvr/base/log.h"
#include "nvr/base/wipe.h"

struct rtsp_session__write {
    uv_write_t req;
    struct rtsp_session *sess;
    size_t len;
    char data[];
};

void rtsp_session__close(struct rtsp_session *s);
static void sess_deadline_cb(uv_timer_t *t);
void rtsp_session__start_batching(struct rtsp_session *s);

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

void rtsp_session__fail(struct rtsp_session *s, int err, const char *fmt, ...)
{
    char msg[SESS_MSG_MAX];
    va_list ap;

    if (s->ended) {
        rtsp_session__close(s);
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
    rtsp_session__close(s);
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
    nvr_wipe(s->pass, sizeof(s->pass));
    nvr_wipe(&s->auth, sizeof(s->auth));
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

static void sess_batch_closed(uv_handle_t *h)
{
    sess_closed_one(nvr_container_of(h, struct rtsp_session, batch));
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

const struct rtsp_udp_events rtsp_session__udp_events = {
    .on_rtp = sess_udp_on_rtp,
    .on_rtcp = sess_udp_on_rtcp,
    .on_bytes = sess_udp_on_bytes,
    .on_closed = sess_udp_on_closed,
};

/* Idempotent: stops everything and starts closing each handle once. */
void rtsp_session__close(struct rtsp_session *s)
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
    uv_close((uv_handle_t *)&s->batch, sess_batch_closed);
    if (s->udp) {
        s->pending_closes++;
        rtsp_udp_close(s->udp);
    }
}

/* ---- writing ---- */

static void sess_write_cb(uv_write_t *req, int status)
{
    struct rtsp_session__write *w =
        nvr_container_of(req, struct rtsp_session__write, req);
    struct rtsp_session *s = w->sess;

    s->wqueued -= sizeof(*w) + w->len;
    free(w);
    if (status < 0 && !s->closing)
        rtsp_session__fail(s, status, "write: %s", uv_strerror(status));
}

/* Queues len bytes. Returns 0 or a negative errno (the caller fails). */
int rtsp_session__write(struct rtsp_session *s, const char *data, size_t len)
{
    struct rtsp_session__write *w;
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
void rtsp_session__send_current(struct rtsp_session *s)
{
    char buf[SESS_REQ_MAX];
    uint32_t cseq = s->next_cseq++;
    int n, err;

    n = sess_format_request(s, s->req_method, s->req_uri, s->req_extra, cseq,
                            buf, sizeof(buf));
    if (n < 0) {
        rtsp_session__fail(s, n, "%s: request too long", s->req_method);
        return;
    }
    err = rtsp_session__write(s, buf, (size_t)n);
    if (err < 0) {
        rtsp_session__fail(s, err, "%s: write: %s", s->req_method,
                           uv_strerror(err));
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

void rtsp_session__request(struct rtsp_session *s, enum sess_state st,
                           const char *method, const char *uri,
                           const char *extra)
{
    s->state = st;
    snprintf(s->req_method, sizeof(s->req_method), "%s", method);
    if (snprintf(s->req_uri, sizeof(s->req_uri), "%s", uri) >=
        (int)sizeof(s->req_uri)) {
        rtsp_session__fail(s, -EMSGSIZE, "%s: URL too long", method);
        return;
    }
    snprintf(s->req_extra, sizeof(s->req_extra), "%s", extra);
    s->req_auth_retried = 0;
    rtsp_session__send_current(s);
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
                rtsp_session__fail(s, -EBADMSG,
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
                rtsp_session__fail(s, r == -EMSGSIZE ? -EMSGSIZE : -EBADMSG,
                                   "camera sent a malformed RTSP response%s",
                                   r == -EMSGSIZE ? " (too large)" : "");
                return;
            }
            if (m.is_response)
                rtsp_handshake__on_response(s, &m);
            else
                rtsp_handshake__on_request(s, &m);
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
            rtsp_session__fail(s, -ECONNRESET, "connection closed by camera");
        else if (nread == UV_ENOBUFS)
            rtsp_session__fail(s, -EMSGSIZE,
                               "camera sent a message too large to "
                               "buffer");
        else
            rtsp_session__fail(s, (int)nread, "read: %s",
                               uv_strerror((int)nread));
        return;
    }
    if (nread == 0)
        return;
    s->stats->bytes_in += (uint64_t)nread;
    s->rlen += (size_t)nread;
    sess_parse(s);
}

/*
 * Reads what the kernel holds below SO_RCVLOWAT, until EAGAIN (or a read
 * that leaves the buffer's space unfilled, which means the same), and
 * parses it. Returns 0, or a negative errno after failing the session.
 */
static int sess_drain_socket(struct rtsp_session *s)
{
    uv_os_fd_t fd;

    if (uv_fileno((uv_handle_t *)&s->tcp, &fd) < 0)
        return 0;
    while (!s->closing) {
        size_t space = sizeof(s->rbuf) - s->rlen;
        ssize_t n;

        if (space == 0) {
            rtsp_session__fail(s, -EMSGSIZE,
                               "camera sent a message too large to buffer");
            return -EMSGSIZE;
        }
        n = recv(fd, s->rbuf + s->rlen, space, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n < 0) {
            int err = -errno;

            rtsp_session__fail(s, err, "read: %s", nvr_strerror(err));
            return err;
        }
        if (n == 0) {
            rtsp_session__fail(s, -ECONNRESET, "connection closed by camera");
            return -ECONNRESET;
        }
        s->stats->bytes_in += (uint64_t)n;
        s->rlen += (size_t)n;
        sess_parse(s);
        if ((size_t)n < space)
            return 0;
    }
    return 0;
}

/* Milliseconds to the next point of the SESS_BATCH_TICK_MS grid. */
static uint64_t sess_batch_delay(const struct rtsp_session *s)
{
    uint64_t rem = uv_now(s->loop) % SESS_BATCH_TICK_MS;

    return SESS_BATCH_TICK_MS - rem;
}

static void sess_batch_cb(uv_timer_t *timer)
{
    struct rtsp_session *s =
        nvr_container_of(timer, struct rtsp_session, batch);

    if (s->closing || sess_drain_socket(s) < 0 || s->closing)
        return;
    /* Re-armed on the grid (not as a repeating timer, which drifts with
     * each late pass), so every session's tick stays in one pass. */
    (void)uv_timer_start(&s->batch, sess_batch_cb, sess_batch_delay(s), 0);
}

/*
 * Batches the reads of interleaved media (STYLE 6: the loop never sleeps):
 * the kernel wakes the loop for this socket only once SESS_RCVLOWAT_BYTES
 * are buffered, and the batch tick reads the rest. Without SO_RCVLOWAT
 * every frame would wake the loop on its own. Best effort: if either
 * cannot be set up, every arrival wakes the loop as before.
 */
void rtsp_session__start_batching(struct rtsp_session *s)
{
    int lowat = SESS_RCVLOWAT_BYTES;
    uv_os_fd_t fd;

    if (s->udp || uv_fileno((uv_handle_t *)&s->tcp, &fd) < 0)
        return;
    if (uv_timer_start(&s->batch, sess_batch_cb, sess_batch_delay(s), 0) < 0)
        return;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat)) != 0) {
        LOG_D("ingest", "camera %s: SO_RCVLOWAT: %s", s->camera,
              nvr_strerror(-errno));
        uv_timer_stop(&s->batch);
    }
}

/* ---- timers ---- */

static void sess_deadline_cb(uv_timer_t *timer)
{
    struct rtsp_session *s =
        nvr_container_of(timer, struct rtsp_session, deadline);

    if (s->bad_host) {
        rtsp_session__fail(s, -EINVAL,
                           "host \"%s\" is not an IP address (DNS "
                           "names are not supported yet)",
                           s->host);
        return;
    }
    if (s->connect_err < 0) {
        s->end_flags |= RTSP_SESSION_END_CONNECT;
        rtsp_session__fail(s, s->connect_err, "connect: %s",
                           uv_strerror(s->connect_err));
        return;
    }
    switch (s->state) {
    case SESS_CONNECTING:
        s->end_flags |= RTSP_SESSION_END_CONNECT;
        rtsp_session__fail(s, -ETIMEDOUT, "connect: timed out after %g s",
                           ms_to_s(s->connect_timeout_ms));
        break;
    case SESS_TEARDOWN:
        rtsp_session__close(s);
        break;
    case SESS_OPTIONS:
    case SESS_DESCRIBE:
    case SESS_SETUP:
    case SESS_PLAY:
        rtsp_session__fail(s, -ETIMEDOUT, "%s: no response within %g s",
                           s->req_method, ms_to_s(s->request_timeout_ms));
        break;
    case SESS_PLAYING:
    case SESS_CLOSED:
        break;
    }
}

void rtsp_session__media_cb(uv_timer_t *timer)
{
    struct rtsp_session *s =
        nvr_container_of(timer, struct rtsp_session, media);
    uint64_t idle = uv_now(s->loop) - s->last_media_ms, unit_idle;

    if (s->state != SESS_PLAYING)
        return;
    if (s->udp_probe_ms > 0) {
        if (s->rtp_received == 0) {
            /* A firewall or NAT in the way: transport auto falls back to
             * TCP interleaved (the camera decides). */
            s->end_flags |= RTSP_SESSION_END_NO_UDP;
            rtsp_session__fail(s, -ETIMEDOUT,
                               "no RTP over UDP within %g s of PLAY",
                               ms_to_s(s->udp_probe_ms));
            return;
        }
        s->udp_probe_ms = 0;
    }
    if (idle >= (uint64_t)s->media_timeout_ms) {
        rtsp_session__fail(s, -ETIMEDOUT, "no media for %g s",
                           ms_to_s(s->media_timeout_ms));
        return;
    }
    /* Media that never makes a complete unit (an FU-A that never ends, a
     * frame larger than a unit may be, no keyframe) is no better than
     * silence: the same deadline, with what went wrong. */
    unit_idle = uv_now(s->loop) - s->last_unit_ms;
    if (unit_idle >= (uint64_t)s->media_timeout_ms) {
        char why[SESS_MSG_MAX / 2];
        int err = rtsp_media__stall(s, why, sizeof(why));

        rtsp_session__fail(s, err, "no complete frame within %g s: %s",
                           ms_to_s(s->media_timeout_ms), why);
        return;
    }
    if (unit_idle > idle)
        idle = unit_idle;
    uv_timer_start(&s->media, rtsp_session__media_cb,
                   (uint64_t)s->media_timeout_ms - idle, 0);
}

void rtsp_session__keepalive_cb(uv_timer_t *timer)
{
    struct rtsp_session *s =
        nvr_container_of(timer, struct rtsp_session, keepalive);
    char buf[SESS_REQ_MAX], uri[SESS_URL_MAX];
    uint32_t cseq;
    int n, err;

    if (s->state != SESS_PLAYING || s->stopping)
        return;
    /* GET_PARAMETER on the session when Public lists it, else OPTIONS
     * (rtsp_quirks_keepalive_method); liveness itself is judged by the
     * media deadline. */
    if (strcmp(s->keepalive_method, "GET_PARAMETER") != 0 ||
        rtsp_handshake__session_uri(s, uri, sizeof(uri)) < 0)
        snprintf(uri, sizeof(uri), "%s", s->url);
    cseq = s->next_cseq++;
    n = sess_format_request(s, s->keepalive_method, uri, "", cseq, buf,
                            sizeof(buf));
    if (n < 0) {
        rtsp_session__fail(s, n, "%s: request too long", s->keepalive_method);
        return;
    }
    err = rtsp_session__write(s, buf, (size_t)n);
    if (err < 0) {
        rtsp_session__fail(s, err, "keepalive: write: %s", uv_strerror(err));
        return;
    }
    s->keepalive_cseq = cseq;
}

static void sess_total_cb(uv_timer_t *timer)
{
    struct rtsp_session *s =
        nvr_container_of(timer, struct rtsp_session, total);

    rtsp_session__fail(s, -ETIMEDOUT, "timed out after %g s",
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
        s->end_flags |= RTSP_SESSION_END_CONNECT;
        rtsp_session__fail(s, status, "connect: %s", uv_strerror(status));
        return;
    }
    uv_timer_stop(&s->deadline);
    (void)uv_tcp_nodelay(&s->tcp, 1); /* small requests; best effort */
    (void)uv_tcp_keepalive(&s->tcp, 1, 30);
    err = uv_read_start((uv_stream_t *)&s->tcp, sess_alloc_cb, sess_read_cb);
    if (err < 0) {
        rtsp_session__fail(s, err, "read: %s", uv_strerror(err));
        return;
    }
    if (s->stopping) {
        rtsp_session__close(s);
        return;
    }
    LOG_D("ingest", "camera %s: connected", s->camera);
    rtsp_handshake__send_options(s);
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
    s->udp_probe_cfg_ms = cfg->udp_probe_ms;
    s->udp_fallback = cfg->udp_fallback && !cfg->udp;
    snprintf(s->keepalive_method, sizeof(s->keepalive_method), "OPTIONS");
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

    /* Neither can fail: uv_tcp_init without an address family creates no
     * socket, and uv_timer_init only fills in the handle (libuv's
     * src/unix/tcp.c and src/timer.c return 0 unconditionally). */
    (void)uv_tcp_init(loop, &s->tcp);
    (void)uv_timer_init(loop, &s->deadline);
    (void)uv_timer_init(loop, &s->media);
    (void)uv_timer_init(loop, &s->keepalive);
    (void)uv_timer_init(loop, &s->total);
    (void)uv_timer_init(loop, &s->rtcp);
    (void)uv_timer_init(loop, &s->batch);
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
        if (rtsp_handshake__session_uri(s, uri, sizeof(uri)) == 0) {
            rtsp_session__request(s, SESS_TEARDOWN, "TEARDOWN", uri, "");
            if (!s->closing)
                return;
        }
    }
    rtsp_session__close(s);
}
