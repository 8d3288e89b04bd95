/* SPDX-License-Identifier: MIT */
/*
 * The state of one RTSP session, shared by the files that make it up:
 * rtsp_session.c (connection, handshake, timers, teardown) and
 * rtsp_media.c (RTP and RTCP in, access units out, receiver reports),
 * with rtsp_udp.c underneath for UDP transport. Loop thread only.
 */
#ifndef NVR_INGEST_RTSP_SESSION_INT_H
#define NVR_INGEST_RTSP_SESSION_INT_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "ingest/depack.h"
#include "ingest/ingest_int.h"
#include "ingest/rtp.h"
#include "ingest/rtsp_auth.h"
#include "ingest/rtsp_udp.h"
#include "ingest/sdp.h"
#include "ingest/wallclock.h"

#define SESS_URL_MAX        1024
#define SESS_REQ_MAX        8192  /* one request we send, headers included */
#define SESS_EXTRA_MAX      512   /* request-specific header lines */
#define SESS_MSG_MAX        256   /* failure messages */
#define SESS_WARN_PERIOD_MS 10000 /* per-packet warnings: one per period */
/* tcp, deadline, media, keepalive, total, rtcp, batch */
#define SESS_N_HANDLES 7
/* While media comes interleaved on the RTSP connection, the kernel wakes
 * the loop for it only once this many bytes are buffered (SO_RCVLOWAT);
 * below that, the batch tick reads whatever has come. */
#define SESS_RCVLOWAT_BYTES (64 * 1024)
/* The batch tick: every SESS_BATCH_TICK_MS on a grid of the loop clock,
 * the same for every session, so that one loop pass reads every camera's
 * socket. Shorter than a frame at up to 50 fps: no unit waits for a later
 * one. */
#define SESS_BATCH_TICK_MS 20
/* The media tick while playing: ends a hold, sends receiver reports. */
#define SESS_TICK_MS 1000
/* RTCP receiver reports over UDP: about every 5 s (RFC 3550 6.2). */
#define SESS_RR_PERIOD_MS 5000
/* Sender reports whose NTP time is further than this from the recorder's
 * clock are not believed. */
#define SESS_SR_MAX_SKEW_US ((int64_t)86400 * 1000000)
/* A session with several tracks holds its first units back until they
 * can be aligned: by RTP-Info that agrees with the packets, as soon as the
 * reference track's first unit anchors the time line, or else once every
 * track has a sender report (RFC 3550 6.4.1), so even the first segment
 * has audio and video in sync; at most hold_ms, this many units, or this
 * many bytes, then they go out anchored by arrival. */
#define SESS_HOLD_UNITS 1024
/* After that, units wait at most this long to be put in time order with
 * the other tracks' (a track delivered late is not waited for longer). */
#define SESS_INTERLEAVE_US ((int64_t)500000)
#define SESS_HOLD_BYTES    ((size_t)32 * 1024 * 1024)

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
    int video;       /* first unit after on_stream must be key */
    int need_key;
    int announced; /* on_stream carried this track's params */
    uint32_t announced_gen;
    struct wallclock_track clock;     /* RTP time to wall time */
    uint64_t lost_seen;               /* seq.lost already added to stats */
    uint64_t dropped_seen;            /* depack aus_dropped already added */
    struct nvr_refusals refused_seen; /* and its refused, by reason */

    int udp;              /* RTP and RTCP come over UDP */
    uint16_t client_port; /* our RTP port (UDP) */
    /* The last sane RTCP sender report (RFC 3550 6.4.1). */
    int sr_valid;
    uint32_t sr_ssrc;
    int64_t sr_ntp_us;   /* its NTP time, UTC us */
    uint32_t sr_rtp;     /* the same instant in RTP time */
    uint32_t sr_lsr;     /* middle 32 bits of its NTP time (for LSR) */
    uint64_t sr_recv_ms; /* uv_now() when it came (for DLSR) */
    /* Receiver report state (RFC 3550 A.3, A.8). */
    uint64_t rr_received; /* seq.received at the last report */
    uint64_t rr_lost;     /* seq.lost at the last report */
    uint32_t jitter16;    /* interarrival jitter * 16, RTP units */
    int64_t last_transit; /* arrival minus RTP time, RTP units */
    int have_transit;
    int bye;              /* the server sent an RTCP BYE on this track */
    int stamped;          /* a unit was stamped (queued or delivered) */
    int64_t last_wall_us; /* the wall time of the last one */
    /* RTP-Info of the PLAY response (RFC 2326 12.33): the track's RTP
     * time at the start of the PLAY range, the same instant for every
     * track. Checked against the packets before use. */
    int rtpinfo_has;          /* an rtptime was given (this RTP stream) */
    uint32_t rtpinfo_rtptime; /* the rtptime */
    int rtpinfo_done;         /* used to place the track (or tried) */
    uint32_t first_ts;        /* RTP timestamp of the first packet */
    /* What the packets since the last unit looked like, watched here (not
     * in the depacketizer) to say why no unit came (rtsp_media__stall). */
    size_t frame_bytes; /* payload of the frame arriving (since a marker
                           bit or a timestamp change), bytes */
    uint32_t frame_ts;  /* its RTP timestamp */
    size_t frame_max;   /* the largest frame since the last unit, bytes */
    int fu_open;        /* a fragmented NAL unit started, not ended */
    size_t fu_bytes;    /* its payload so far, bytes */
    uint64_t fu_ends;   /* fragmented NAL units ended since the last unit */
};

struct rtsp_session {
    uv_loop_t *loop;
    uv_tcp_t tcp;
    uv_connect_t connect_req;
    uv_timer_t deadline;  /* connect, each request, TEARDOWN */
    uv_timer_t media;     /* RTP silence after PLAY */
    uv_timer_t keepalive; /* OPTIONS while playing */
    uv_timer_t total;     /* whole-session bound (probe) */
    uv_timer_t rtcp;      /* media tick: holds, receiver reports */
    uv_timer_t batch;     /* reads below SO_RCVLOWAT (TCP, playing) */
    uint64_t ticks;
    struct rtsp_udp *udp; /* UDP sockets, or NULL (TCP interleaved) */
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
    int use_udp;          /* SETUP asks for UDP */
    int udp_probe_ms;     /* > 0: give up UDP if no RTP came this long after
                             PLAY (transport auto) */
    int udp_probe_cfg_ms; /* udp_probe_ms once a SETUP fell back to UDP */
    int udp_fallback;     /* transport auto over TCP: a SETUP refused as
                             interleaved is repeated over UDP */
    char keepalive_method[16]; /* from the OPTIONS answer's Public */
    int n_bye;                 /* tracks that sent an RTCP BYE */

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

    struct rtsp_auth auth;   /* used when the camera keeps none */
    struct rtsp_auth *authp; /* the challenge answered: &auth or the
                                camera's, kept across connections */
    int have_auth;

    char session_id[128]; /* from the first SETUP answer */
    int session_timeout_s;
    char base_url[SESS_URL_MAX];
    struct sdp_session sdp;
    struct sess_track tracks[NVR_MAX_TRACKS];
    int n_tracks;
    int setup_next;         /* track whose SETUP runs */
    int8_t chan_rtp[256];   /* interleaved channel -> track, or -1 */
    int8_t chan_rtcp[256];  /* interleaved channel -> track, or -1 */
    int ref_track;          /* whose arrivals steer the wall clock */
    struct wallclock clock; /* the session's time line */
    uint32_t our_ssrc;      /* in our receiver reports */
    uint64_t rtp_received;  /* RTP packets this session, any track */
    int sr_logged;          /* "using sender reports" logged */
    /* Units held back until the tracks are aligned (SESS_HOLD_*), then
     * queued to go out in time order (SESS_INTERLEAVE_US). */
    int hold_ms;            /* from rtsp_session_config */
    int holding;            /* 1 until the first release */
    uint64_t hold_start_ms; /* uv_now() of the first held unit */
    int n_held;
    size_t held_bytes;
    struct {
        struct nvr_au *au; /* owned reference */
        struct sess_track *t;
        int64_t arrival_us; /* recorder clock when it was complete */
    } held[SESS_HOLD_UNITS];

    struct nvr_stream_info info;
    int recording;
    uint64_t last_media_ms; /* uv_now() of the last RTP packet */
    uint64_t last_unit_ms;  /* uv_now() of PLAY or of the last complete unit
                               (of a video track if there is one) */
    uint64_t unit_rtp;      /* rtp_received at that moment */
    uint64_t unit_dropped;  /* stats->aus_dropped at that moment */
    uint64_t units_gated;   /* units dropped since, waiting for a keyframe */
    uint64_t refused_mark;  /* stats->aus_dropped told with a unit already
                               (nvr_au.refused_before) */
    uint64_t warn_last_ms;
    uint64_t warn_suppressed;

    size_t wqueued; /* bytes of writes whose callback has not run yet */
    size_t rlen;
    uint8_t rbuf[RTSP_SESSION_RBUF_BYTES];
};

/* ---- rtsp_session.c: the connection ---- */

/* Ends the session once with err; fmt (printf) says what happened. */
void rtsp_session__fail(struct rtsp_session *s, int err, const char *fmt, ...)
    NVR_PRINTF(3, 4);

/* Closes every handle; the session is freed in the last close callback. */
void rtsp_session__close(struct rtsp_session *s);

/* Queues len bytes at data for the server. Returns 0, -ENOBUFS when the
 * output queue is full, or a libuv error. */
int rtsp_session__write(struct rtsp_session *s, const char *data, size_t len);

/* Sends the request of state st (method, uri, extra header lines) and
 * arms its deadline. */
void rtsp_session__request(struct rtsp_session *s, enum sess_state st,
                           const char *method, const char *uri,
                           const char *extra);

/* Sends (again) the request of the current state, e.g. after a 401. */
void rtsp_session__send_current(struct rtsp_session *s);

/* Playing over TCP: batch reads with SO_RCVLOWAT and the batch timer. */
void rtsp_session__start_batching(struct rtsp_session *s);

/* What the session's UDP sockets report (RTP, RTCP, bytes, closed). */
extern const struct rtsp_udp_events rtsp_session__udp_events;

/* Timer callbacks: keepalive and media silence. */
void rtsp_session__keepalive_cb(uv_timer_t *timer);
void rtsp_session__media_cb(uv_timer_t *timer);

/* ---- rtsp_handshake.c: the requests and responses ---- */

/* Starts the handshake with OPTIONS (the TCP connection is up). */
void rtsp_handshake__send_options(struct rtsp_session *s);

/* One parsed response m to the request in flight. */
void rtsp_handshake__on_response(struct rtsp_session *s,
                                 const struct rtsp_msg *m);

/* One request m from the server (RFC 2326 10: it may send some). */
void rtsp_handshake__on_request(struct rtsp_session *s,
                                const struct rtsp_msg *m);

/* The URI for session-wide requests (PLAY, keepalive, TEARDOWN). */
int rtsp_handshake__session_uri(const struct rtsp_session *s, char *uri,
                                size_t size);

/* ---- rtsp_media.c ---- */

/* Starts the deadline for a complete unit (PLAY answered). */
void rtsp_media__unit_deadline_start(struct rtsp_session *s);

/* Writes into buf[size] why no complete unit came since last_unit_ms (the
 * packets rtsp_media__on_rtp watched); returns -EMSGSIZE when a frame was
 * larger than units may be (NVR_AU_MAX_BYTES), else -ETIMEDOUT. */
int rtsp_media__stall(const struct rtsp_session *s, char *buf, size_t size);

/* Interleaved data on channel ch (RFC 2326 10.12): RTP or RTCP of a set-up
 * track, or ignored and counted. */
void rtsp_media__on_interleaved(struct rtsp_session *s, uint8_t ch,
                                const uint8_t *payload, size_t len);

/* One RTP packet of track index (in sequence order). */
void rtsp_media__on_rtp(struct rtsp_session *s, int track, const uint8_t *pkt,
                        size_t len);

/* One RTCP compound packet of track index. */
void rtsp_media__on_rtcp(struct rtsp_session *s, int track, const uint8_t *pkt,
                         size_t len);

/* Drops the units still held back (the session is closing). */
void rtsp_media__drop_held(struct rtsp_session *s);

/* Every SESS_TICK_MS while playing: releases held units whose hold is
 * over, and every SESS_RR_PERIOD_MS sends a receiver report for every UDP
 * track that received RTP. */
void rtsp_media__tick(struct rtsp_session *s);

#endif
