/* SPDX-License-Identifier: MIT */
/*
 * The UDP side of an RTSP session (see rtsp_udp.h). Sockets are made and
 * bound with plain socket()/bind() so that a port pair that turns out to
 * be taken is closed at once, then handed to libuv. Connecting them to
 * the camera makes the kernel drop datagrams from any other address, and
 * an ICMP error on a connected socket is only counted, never fatal: the
 * session's media deadline judges liveness. One shared receive buffer is
 * enough because libuv delivers each datagram before asking for the next
 * buffer.
 */
#include "config.h"
#include "ingest/rtsp_udp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "ingest/rtp.h"
#include "nvr/base/log.h"

/* Receive buffer asked for each RTP socket. */
#define UDP_RTP_RCVBUF_BYTES (4 * 1024 * 1024)

struct udp_track {
    struct rtsp_udp *u;
    int index;
    int open;      /* rtp and rtcp handles initialised */
    int connected; /* connected and receiving */
    uv_udp_t rtp;
    uv_udp_t rtcp;
    struct rtp_reorder reorder;
};

struct rtsp_udp {
    uv_loop_t *loop;
    const struct rtsp_udp_events *ev;
    void *user;
    uv_timer_t timer; /* the reorder buffers' next deadline */
    int closing;
    int pending_closes;
    struct udp_track tracks[NVR_MAX_TRACKS];
    uint8_t rbuf[RTSP_UDP_MAX_DATAGRAM];
};

int rtsp_udp_new(uv_loop_t *loop, const struct rtsp_udp_events *events,
                 void *user, struct rtsp_udp **out)
{
    struct rtsp_udp *u = calloc(1, sizeof(*u));

    if (!u)
        return -ENOMEM;
    u->loop = loop;
    u->ev = events;
    u->user = user;
    for (int i = 0; i < NVR_MAX_TRACKS; i++) {
        u->tracks[i].u = u;
        u->tracks[i].index = i;
    }
    (void)uv_timer_init(loop, &u->timer); /* cannot fail */
    *out = u;
    return 0;
}

static socklen_t addr_len(const struct sockaddr *sa)
{
    return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                     : sizeof(struct sockaddr_in);
}

static void addr_set_port(struct sockaddr_storage *ss, uint16_t port)
{
    if (ss->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
    else
        ((struct sockaddr_in *)ss)->sin_port = htons(port);
}

static uint16_t addr_port(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

/* A UDP socket bound to local at port (0: any). Returns an fd or a
 * negative errno; *bound gets the port. */
static int udp_socket(const struct sockaddr *local, uint16_t port,
                      uint16_t *bound)
{
    struct sockaddr_storage ss;
    socklen_t len = addr_len(local);
    int fd, err;

    memset(&ss, 0, sizeof(ss));
    memcpy(&ss, local, len);
    addr_set_port(&ss, port);
    fd = socket(local->sa_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
        err = -errno;
        close(fd);
        return err;
    }
    *bound = addr_port(&ss);
    return fd;
}

int rtsp_udp_bind(struct rtsp_udp *u, int track, const struct sockaddr *local,
                  uint16_t *rtp_port)
{
    struct udp_track *t;
    int err = -EADDRINUSE;

    if (track < 0 || track >= NVR_MAX_TRACKS || u->closing ||
        u->tracks[track].open)
        return -EINVAL;
    if (local->sa_family != AF_INET && local->sa_family != AF_INET6)
        return -EINVAL;
    t = &u->tracks[track];
    for (int i = 0; i < RTSP_UDP_BIND_ATTEMPTS; i++) {
        uint16_t p = 0, q = 0;
        int fd1, fd2, fd_rtp, fd_rtcp;

        /* The kernel picks a free port; its neighbour completes the
         * pair (RFC 3550 11: RTP even, RTCP the next odd port). */
        fd1 = udp_socket(local, 0, &p);
        if (fd1 < 0)
            return fd1;
        if (p == 0 || p == UINT16_MAX) {
            close(fd1);
            continue;
        }
        fd2 = udp_socket(local, (p & 1) ? (uint16_t)(p - 1) : (uint16_t)(p + 1),
                         &q);
        if (fd2 < 0) {
            close(fd1);
            err = fd2 == -EADDRINUSE || fd2 == -EACCES ? -EADDRINUSE : fd2;
            if (err != -EADDRINUSE)
                return err;
            continue;
        }
        fd_rtp = (p & 1) ? fd2 : fd1;
        fd_rtcp = (p & 1) ? fd1 : fd2;
        /* Without an address family uv_udp_init creates no socket and
         * cannot fail; uv_udp_open below attaches the bound ones. */
        (void)uv_udp_init(u->loop, &t->rtp);
        (void)uv_udp_init(u->loop, &t->rtcp);
        t->open = 1;
        err = uv_udp_open(&t->rtp, fd_rtp);
        if (err < 0) {
            close(fd_rtp);
            close(fd_rtcp);
            return err;
        }
        {
            /* Datagrams wait in this buffer while the loop thread is busy
             * with other cameras: ask for much more than the default,
             * which holds a 1080p keyframe; the kernel caps it at
             * net.core.rmem_max. */
            int rcvbuf = UDP_RTP_RCVBUF_BYTES;

            (void)uv_recv_buffer_size((uv_handle_t *)&t->rtp, &rcvbuf);
        }
        err = uv_udp_open(&t->rtcp, fd_rtcp);
        if (err < 0) {
            close(fd_rtcp);
            return err;
        }
        *rtp_port = (p & 1) ? q : p;
        rtp_reorder_reset(&t->reorder);
        return 0;
    }
    return err;
}

static void udp_alloc_rtp(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct udp_track *t = nvr_container_of(h, struct udp_track, rtp);

    (void)suggested;
    *buf = uv_buf_init((char *)t->u->rbuf, sizeof(t->u->rbuf));
}

static void udp_alloc_rtcp(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct udp_track *t = nvr_container_of(h, struct udp_track, rtcp);

    (void)suggested;
    *buf = uv_buf_init((char *)t->u->rbuf, sizeof(t->u->rbuf));
}

static void udp_deliver(void *user, const uint8_t *pkt, size_t len)
{
    struct udp_track *t = user;

    if (!t->u->closing && t->u->ev->on_rtp)
        t->u->ev->on_rtp(t->u->user, t->index, pkt, len);
}

static void udp_timer_cb(uv_timer_t *timer);

/* Arms the timer for the earliest reorder deadline, if any. */
static void udp_schedule(struct rtsp_udp *u)
{
    uint64_t now = uv_now(u->loop);
    int64_t next = -1;

    if (u->closing)
        return;
    for (int i = 0; i < NVR_MAX_TRACKS; i++) {
        int64_t n;

        if (!u->tracks[i].connected)
            continue;
        n = rtp_reorder_next_ms(&u->tracks[i].reorder, now);
        if (n >= 0 && (next < 0 || n < next))
            next = n;
    }
    if (next >= 0)
        uv_timer_start(&u->timer, udp_timer_cb, (uint64_t)next, 0);
    else
        uv_timer_stop(&u->timer);
}

static void udp_timer_cb(uv_timer_t *timer)
{
    struct rtsp_udp *u = nvr_container_of(timer, struct rtsp_udp, timer);
    uint64_t now = uv_now(u->loop);

    for (int i = 0; i < NVR_MAX_TRACKS && !u->closing; i++)
        if (u->tracks[i].connected)
            rtp_reorder_poll(&u->tracks[i].reorder, now, udp_deliver,
                             &u->tracks[i]);
    udp_schedule(u);
}

static void udp_recv_rtp(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                         const struct sockaddr *addr, unsigned flags)
{
    struct udp_track *t = nvr_container_of(h, struct udp_track, rtp);
    struct rtsp_udp *u = t->u;

    if (u->closing || nread <= 0 || !addr)
        return; /* errors (ICMP) and empty reads are not fatal */
    if (u->ev->on_bytes)
        u->ev->on_bytes(u->user, (size_t)nread);
    if (flags & UV_UDP_PARTIAL || u->closing)
        return;
    rtp_reorder_push(&t->reorder, (const uint8_t *)buf->base, (size_t)nread,
                     uv_now(u->loop), udp_deliver, t);
    udp_schedule(u);
}

static void udp_recv_rtcp(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                          const struct sockaddr *addr, unsigned flags)
{
    struct udp_track *t = nvr_container_of(h, struct udp_track, rtcp);
    struct rtsp_udp *u = t->u;

    if (u->closing || nread <= 0 || !addr)
        return;
    if (u->ev->on_bytes)
        u->ev->on_bytes(u->user, (size_t)nread);
    if (flags & UV_UDP_PARTIAL || u->closing)
        return;
    if (u->ev->on_rtcp)
        u->ev->on_rtcp(u->user, t->index, (const uint8_t *)buf->base,
                       (size_t)nread);
}

int rtsp_udp_connect(struct rtsp_udp *u, int track, const struct sockaddr *peer,
                     uint16_t rtp_port, uint16_t rtcp_port)
{
    struct sockaddr_storage ss;
    struct udp_track *t;
    int err;

    if (track < 0 || track >= NVR_MAX_TRACKS || u->closing ||
        !u->tracks[track].open || u->tracks[track].connected || !rtp_port)
        return -EINVAL;
    t = &u->tracks[track];
    if (!rtcp_port)
        rtcp_port = (uint16_t)(rtp_port + 1);
    memset(&ss, 0, sizeof(ss));
    memcpy(&ss, peer, addr_len(peer));
    addr_set_port(&ss, rtp_port);
    err = uv_udp_connect(&t->rtp, (const struct sockaddr *)&ss);
    if (err < 0)
        return err;
    addr_set_port(&ss, rtcp_port);
    err = uv_udp_connect(&t->rtcp, (const struct sockaddr *)&ss);
    if (err < 0)
        return err;
    err = uv_udp_recv_start(&t->rtp, udp_alloc_rtp, udp_recv_rtp);
    if (err == 0)
        err = uv_udp_recv_start(&t->rtcp, udp_alloc_rtcp, udp_recv_rtcp);
    if (err < 0)
        return err;
    t->connected = 1;
    return 0;
}

int rtsp_udp_send_rtcp(struct rtsp_udp *u, int track, const uint8_t *pkt,
                       size_t len)
{
    uv_buf_t buf;
    int r;

    if (track < 0 || track >= NVR_MAX_TRACKS || u->closing ||
        !u->tracks[track].connected)
        return -ENOTCONN;
    buf = uv_buf_init((char *)pkt, (unsigned int)len);
    r = uv_udp_try_send(&u->tracks[track].rtcp, &buf, 1, NULL);
    return r < 0 ? r : 0;
}

uint64_t rtsp_udp_given_up(const struct rtsp_udp *u, int track)
{
    if (track < 0 || track >= NVR_MAX_TRACKS)
        return 0;
    return u->tracks[track].reorder.given_up;
}

static void udp_closed_one(struct rtsp_udp *u)
{
    if (--u->pending_closes > 0)
        return;
    if (u->ev->on_closed)
        u->ev->on_closed(u->user);
    free(u);
}

static void udp_timer_closed(uv_handle_t *h)
{
    udp_closed_one(nvr_container_of(h, struct rtsp_udp, timer));
}

static void udp_rtp_closed(uv_handle_t *h)
{
    udp_closed_one(nvr_container_of(h, struct udp_track, rtp)->u);
}

static void udp_rtcp_closed(uv_handle_t *h)
{
    udp_closed_one(nvr_container_of(h, struct udp_track, rtcp)->u);
}

void rtsp_udp_close(struct rtsp_udp *u)
{
    if (u->closing)
        return;
    u->closing = 1;
    u->pending_closes = 1;
    for (int i = 0; i < NVR_MAX_TRACKS; i++) {
        struct udp_track *t = &u->tracks[i];

        if (!t->open)
            continue;
        u->pending_closes += 2;
        uv_close((uv_handle_t *)&t->rtp, udp_rtp_closed);
        uv_close((uv_handle_t *)&t->rtcp, udp_rtcp_closed);
    }
    uv_close((uv_handle_t *)&u->timer, udp_timer_closed);
}
