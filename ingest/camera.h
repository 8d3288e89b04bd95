/* SPDX-License-Identifier: MIT */
/*
 * One camera: the RTSP session (OPTIONS, DESCRIBE, SETUP, PLAY, keepalive,
 * TEARDOWN over TCP with interleaved RTP) and its supervisor (deadlines,
 * reconnect with capped exponential backoff plus jitter, forever).
 *
 * Everything here runs on the libuv loop thread: no disk, no SQLite, no DNS.
 */
#ifndef NVR_INGEST_CAMERA_H
#define NVR_INGEST_CAMERA_H

#include <stdint.h>

#include <uv.h>

#include "nvr/base/au.h"
#include "nvr/base/compiler.h"
#include "ingest/rtsp_auth.h"
#include "nvr/base/refusal.h"
#include "ingest/sdp.h"

enum ingest_state {
    INGEST_STATE_CONNECTING = 0, /* connecting, or RTSP handshake running */
    INGEST_STATE_RECORDING,      /* PLAY answered and media arriving */
    INGEST_STATE_BACKOFF,        /* waiting before the next attempt */
    INGEST_STATE_AUTH_FAILED,    /* credentials refused; backing off */
    INGEST_STATE_ERROR,          /* unrecoverable config error; stopped */
    INGEST_STATE_STOPPED,        /* closed by the owner */
};

/* "connecting", "recording", "backoff", "auth_failed", "error", "stopped" */
const char *ingest_state_name(enum ingest_state st);

/* How RTP reaches us (RFC 2326 10.12 and 12.39). */
enum ingest_transport {
    INGEST_TRANSPORT_TCP = 0, /* interleaved on the RTSP connection */
    INGEST_TRANSPORT_UDP,     /* RTP/AVP over UDP, a port pair per track */
    INGEST_TRANSPORT_AUTO,    /* TCP; UDP if the camera refuses
                                 interleaved transport (461, 400) */
};

/* "tcp", "udp", "auto" */
const char *ingest_transport_name(enum ingest_transport t);

struct ingest_camera_config {
    const char *name;       /* camera name for log lines (borrowed, copied) */
    const char *url;        /* rtsp:// URL; may hold credentials (copied) */
    const char *username;   /* overrides URL userinfo if non-NULL (copied) */
    const char *password;   /* overrides URL userinfo if non-NULL (copied) */
    int connect_timeout_ms; /* 0: 5000 */
    int request_timeout_ms; /* 0: 10000 per RTSP request */
    int media_timeout_ms;   /* 0: 10000 of RTP silence after PLAY */
    int backoff_min_ms;     /* 0: 1000 */
    int backoff_max_ms;     /* 0: 30000 (auth failures: at least 30000) */
    uint64_t seed;          /* jitter seed; 0 picks one */
    enum ingest_transport transport; /* default TCP */
    int sync_hold_ms;           /* 0: 6000; < 0: none. How long a session with
                                   several tracks holds its first units back waiting
                                   for RTP-Info or RTCP sender reports to align
                                   them */
    enum rtsp_auth_policy auth; /* schemes that may be answered; default
                                   Digest only */
};

struct ingest_camera;

struct ingest_camera_events {
    /* The state changed. err is 0 or the negative errno that caused it;
     * msg is a human-readable reason without credentials (borrowed). */
    void (*on_state)(void *user, enum ingest_state st, int err,
                     const char *msg);
    /* A session started playing, or codec parameters changed. info is
     * borrowed; every later on_au refers to it until the next call. */
    void (*on_stream)(void *user, const struct nvr_stream_info *info);
    /* One access unit, wall_us filled; takes ownership of the reference.
     * The first unit after on_stream of each track is a keyframe. */
    void (*on_au)(void *user, struct nvr_au *au);
    /* The session ended (connection lost, timeout, camera closed, or
     * stop); reason borrowed. Units after this belong to a new session. */
    void (*on_break)(void *user, int err, const char *reason);
};

struct ingest_stats {
    enum ingest_state state;
    uint64_t bytes_in; /* bytes read from the camera, all sessions */
    uint64_t aus;      /* access units delivered */
    uint64_t rtp_packets;
    uint64_t rtp_lost;           /* by sequence gaps */
    uint64_t aus_dropped;        /* units refused in ingest: the sum of
                                    refused */
    uint64_t reconnects;         /* sessions started after the first */
    int64_t last_au_wall_us;     /* 0 if none yet */
    int last_err;                /* negative errno of the last failure, or 0 */
    char last_error[256];        /* its text, credentials removed */
    uint64_t rtp_ignored;        /* RTP dropped: malformed, unexpected payload
                                    type, or on a channel never set up */
    uint64_t rtcp_packets;       /* RTCP packets received */
    char transport[4];           /* in use: "tcp", "udp", "" before a session */
    char transport_why[96];      /* why that one: "configured", "camera
                                    refused interleaved TCP (461)", ... */
    int rtcp_sr;                 /* a sane RTCP sender report was seen */
    int64_t drift_us;            /* wall time given to units minus the
                                    recorder clock at their arrival (filtered;
                                    wallclock.h): what the slew still has to
                                    correct, signed */
    int slew_ppm;                /* rate correction applied now */
    uint64_t ts_jumps;           /* timestamp discontinuities: jumps, SSRC
                                    changes, sequence resets, clock steps */
    struct nvr_refusals refused; /* units refused by the depacketizers
                                    and the keyframe gate, by reason */
    char auth[8];                /* scheme of the last challenge answered:
                                    "digest", "basic", or "none" (the camera
                                    asked for none yet) */
};

/*
 * Creates a camera on `loop`. Nothing happens until ingest_camera_start().
 * events and user are borrowed for the camera's lifetime. Returns 0,
 * -EINVAL (bad URL: config error), -ENOMEM. Loop thread only.
 */
NVR_NODISCARD int ingest_camera_new(uv_loop_t *loop,
                                    const struct ingest_camera_config *cfg,
                                    const struct ingest_camera_events *events,
                                    void *user, struct ingest_camera **out);

/* Starts connecting; retries forever until ingest_camera_close(). */
void ingest_camera_start(struct ingest_camera *cam);

/*
 * Stops the camera: sends TEARDOWN if a session is playing (best effort,
 * bounded by a short deadline), closes every handle, then calls cb exactly
 * once and frees the camera. No event runs after cb.
 */
void ingest_camera_close(struct ingest_camera *cam, void (*cb)(void *cb_user),
                         void *cb_user);

/* Copies counters. Loop thread only. */
void ingest_camera_get_stats(const struct ingest_camera *cam,
                             struct ingest_stats *out);

/*
 * Probe: connects to url, runs OPTIONS and DESCRIBE (with authentication),
 * then calls cb once with the parsed SDP (borrowed) and the base URL used to
 * resolve controls, or with err < 0 and a message. Loop thread only; the
 * loop ends by itself after cb. timeout_ms bounds the whole probe. auth
 * says which schemes may be answered, as for a camera; a challenge it
 * refuses ends the probe with -EKEYREJECTED.
 */
typedef void (*ingest_probe_cb)(void *user, int err, const char *msg,
                                const struct sdp_session *sdp,
                                const char *base_url);
NVR_NODISCARD int ingest_probe(uv_loop_t *loop, const char *url,
                               const char *username, const char *password,
                               enum rtsp_auth_policy auth, int timeout_ms,
                               ingest_probe_cb cb, void *user);

#endif
