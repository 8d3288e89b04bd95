/* SPDX-License-Identifier: MIT */
/*
 * RTP and RTCP over UDP for one RTSP session (RFC 2326 12.39, RFC 3550
 * 11): per track a pair of UDP sockets on an even/odd port pair, bound to
 * the local address of the RTSP connection and connected to the camera's
 * server_port pair, so the kernel drops datagrams from anyone else. RTP
 * goes through a small reorder buffer (rtp.h) before it is delivered.
 * Loop thread only.
 */
#ifndef NVR_INGEST_RTSP_UDP_H
#define NVR_INGEST_RTSP_UDP_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "nvr/base/au.h"
#include "nvr/base/compiler.h"

/* Attempts at finding a free even/odd port pair. */
#define RTSP_UDP_BIND_ATTEMPTS 16
/* The largest datagram accepted; larger ones are truncated and dropped. */
#define RTSP_UDP_MAX_DATAGRAM 65536

struct rtsp_udp_events {
    /* One RTP packet of track, in sequence order (borrowed for the call). */
    void (*on_rtp)(void *user, int track, const uint8_t *pkt, size_t len);
    /* One RTCP compound packet of track (borrowed for the call). */
    void (*on_rtcp)(void *user, int track, const uint8_t *pkt, size_t len);
    /* Bytes received, datagrams dropped (truncated), for the counters. */
    void (*on_bytes)(void *user, size_t len);
    /* Every handle is closed; the last event. */
    void (*on_closed)(void *user);
};

struct rtsp_udp;

/*
 * Creates the (empty) UDP side of a session. events/user are borrowed
 * until on_closed. Returns 0 or -ENOMEM.
 */
NVR_NODISCARD int rtsp_udp_new(uv_loop_t *loop,
                               const struct rtsp_udp_events *events, void *user,
                               struct rtsp_udp **out);

/*
 * Binds track's socket pair to the address `local` (port ignored) on an
 * even port and the next odd one; *rtp_port receives the even port.
 * Returns 0, -EINVAL (bad track or already bound), -EADDRINUSE (no pair
 * free), or a socket error.
 */
NVR_NODISCARD int rtsp_udp_bind(struct rtsp_udp *u, int track,
                                const struct sockaddr *local,
                                uint16_t *rtp_port);

/*
 * Connects track's sockets to `peer` (port ignored) at rtp_port and
 * rtcp_port and starts receiving. rtcp_port 0 means rtp_port + 1.
 * Returns 0 or a negative errno.
 */
NVR_NODISCARD int rtsp_udp_connect(struct rtsp_udp *u, int track,
                                   const struct sockaddr *peer,
                                   uint16_t rtp_port, uint16_t rtcp_port);

/* Sends one RTCP packet (copied) on track's RTCP socket, best effort.
 * Returns 0 or a negative errno (-ENOTCONN before rtsp_udp_connect). */
int rtsp_udp_send_rtcp(struct rtsp_udp *u, int track, const uint8_t *pkt,
                       size_t len);

/* Packets given up by track's reorder buffer so far. */
uint64_t rtsp_udp_given_up(const struct rtsp_udp *u, int track);

/* Closes every socket and timer; on_closed follows exactly once. */
void rtsp_udp_close(struct rtsp_udp *u);

#endif
