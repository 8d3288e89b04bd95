/* SPDX-License-Identifier: MIT */
/*
 * Tests of ingest/rtsp_udp.c on a real uv loop over 127.0.0.1: the port
 * pair is even/odd, RTP sent out of order comes out in order, RTCP goes
 * its own way both directions, and datagrams from any other address or
 * port are dropped by the connected sockets. Every handle closes.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "ingest/rtp.h"
#include "ingest/rtsp_udp.h"

struct ctx {
    int n_rtp, n_rtcp, closed;
    uint16_t seq[16];
    size_t bytes;
};

static void on_rtp(void *user, int track, const uint8_t *pkt, size_t len)
{
    struct ctx *c = user;

    assert_int_equal(track, 1);
    assert_true(len >= 12);
    if (c->n_rtp < 16)
        c->seq[c->n_rtp] = (uint16_t)((pkt[2] << 8) | pkt[3]);
    c->n_rtp++;
}

static void on_rtcp(void *user, int track, const uint8_t *pkt, size_t len)
{
    struct ctx *c = user;

    assert_int_equal(track, 1);
    assert_int_equal(len, 8);
    assert_int_equal(pkt[1], 201);
    c->n_rtcp++;
}

static void on_bytes(void *user, size_t len)
{
    ((struct ctx *)user)->bytes += len;
}

static void on_closed(void *user)
{
    ((struct ctx *)user)->closed++;
}

static const struct rtsp_udp_events events = {
    .on_rtp = on_rtp,
    .on_rtcp = on_rtcp,
    .on_bytes = on_bytes,
    .on_closed = on_closed,
};

/* A plain UDP socket on 127.0.0.1 (port 0: any); returns its fd. */
static int peer_socket(uint16_t *port)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

static void send_to(int fd, uint16_t port, const uint8_t *buf, size_t len)
{
    struct sockaddr_in sa;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(
        sendto(fd, buf, len, 0, (struct sockaddr *)&sa, sizeof(sa)),
        (ssize_t)len);
}

static void send_rtp(int fd, uint16_t port, uint16_t seq)
{
    uint8_t pkt[20] = {0x80, 96};

    pkt[2] = (uint8_t)(seq >> 8);
    pkt[3] = (uint8_t)seq;
    send_to(fd, port, pkt, sizeof(pkt));
}

static void spin(uv_loop_t *loop, int ms)
{
    uint64_t end = uv_now(loop) + (uint64_t)ms;

    while (uv_now(loop) < end) {
        uv_run(loop, UV_RUN_NOWAIT);
        usleep(1000);
        uv_update_time(loop);
    }
}

static void test_rtsp_udp_pair_order_filter(void **state)
{
    uv_loop_t loop;
    struct rtsp_udp *u;
    struct ctx c = {0};
    struct sockaddr_in local, peer;
    uint16_t port, cam_rtp, cam_rtcp, stranger_port;
    int fd_rtp, fd_rtcp, fd_stranger;
    uint8_t rr[8] = {0x80, 201, 0, 1, 1, 2, 3, 4}, got[64];

    (void)state;
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(rtsp_udp_new(&loop, &events, &c, &u), 0);
    assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &local), 0);
    assert_int_equal(rtsp_udp_bind(u, 1, (struct sockaddr *)&local, &port), 0);
    assert_int_equal(port % 2, 0);
    assert_true(port > 0);
    assert_int_equal(rtsp_udp_bind(u, 1, (struct sockaddr *)&local, &port),
                     -EINVAL);
    assert_int_equal(rtsp_udp_send_rtcp(u, 1, rr, sizeof(rr)), -ENOTCONN);

    fd_rtp = peer_socket(&cam_rtp);
    fd_rtcp = peer_socket(&cam_rtcp);
    fd_stranger = peer_socket(&stranger_port);
    assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &peer), 0);
    assert_int_equal(
        rtsp_udp_connect(u, 1, (struct sockaddr *)&peer, cam_rtp, cam_rtcp), 0);

    /* Out of order from the camera, plus a stranger's packet. */
    send_rtp(fd_rtp, port, 10);
    send_rtp(fd_rtp, port, 12);
    send_rtp(fd_stranger, port, 11);
    send_rtp(fd_rtcp, port, 11); /* the camera's other port: not RTP's */
    send_rtp(fd_rtp, port, 11);
    send_to(fd_rtcp, (uint16_t)(port + 1), rr, sizeof(rr));
    spin(&loop, 100);
    assert_int_equal(c.n_rtp, 3);
    assert_int_equal(c.seq[0], 10);
    assert_int_equal(c.seq[1], 11);
    assert_int_equal(c.seq[2], 12);
    assert_int_equal(c.n_rtcp, 1);
    assert_true(c.bytes == 3 * 20 + 8);

    /* A gap is given up after the reorder wait. */
    send_rtp(fd_rtp, port, 14);
    spin(&loop, 20);
    assert_int_equal(c.n_rtp, 3);
    spin(&loop, RTP_REORDER_WAIT_MS + 30);
    assert_int_equal(c.n_rtp, 4);
    assert_int_equal(c.seq[3], 14);
    assert_int_equal(rtsp_udp_given_up(u, 1), 1);

    /* Our receiver report reaches the camera's RTCP port. */
    assert_int_equal(rtsp_udp_send_rtcp(u, 1, rr, sizeof(rr)), 0);
    spin(&loop, 20);
    assert_int_equal(recv(fd_rtcp, got, sizeof(got), MSG_DONTWAIT), 8);

    rtsp_udp_close(u);
    spin(&loop, 20);
    assert_int_equal(c.closed, 1);
    close(fd_rtp);
    close(fd_rtcp);
    close(fd_stranger);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* Closing before anything was bound runs on_closed too. */
static void test_rtsp_udp_close_empty(void **state)
{
    uv_loop_t loop;
    struct rtsp_udp *u;
    struct ctx c = {0};

    (void)state;
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(rtsp_udp_new(&loop, &events, &c, &u), 0);
    rtsp_udp_close(u);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(c.closed, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rtsp_udp_pair_order_filter),
        cmocka_unit_test(test_rtsp_udp_close_empty),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
