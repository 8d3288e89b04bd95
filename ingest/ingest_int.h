/* SPDX-License-Identifier: MIT */
/*
 * ingest internals shared between camera.c (the supervisor and the probe)
 * and rtsp_session.c (one RTSP/1.0 connection over TCP with interleaved RTP,
 * RFC 2326 sections 10 and 10.12). A session lives for one connection: it
 * connects, runs OPTIONS, DESCRIBE, SETUP and PLAY (or stops after DESCRIBE
 * for a probe), delivers access units, and ends once; the supervisor makes a
 * new one for each attempt. Loop thread only.
 */
#ifndef NVR_INGEST_INGEST_INT_H
#define NVR_INGEST_INGEST_INT_H

#include <stdint.h>

#include <uv.h>

#include "ingest/camera.h"
#include "ingest/sdp.h"
#include "nvr/base/au.h"
#include "nvr/base/compiler.h"

/* Bytes buffered per connection. One RTSP message is at most
 * RTSP_MAX_HEADER_BYTES + RTSP_MAX_BODY and one interleaved frame at most
 * 4 + 65535 bytes, so a whole item always fits. */
#define RTSP_SESSION_RBUF_BYTES (256 * 1024)
/* How long a TEARDOWN may take before the connection is simply closed. */
#define RTSP_SESSION_TEARDOWN_MS 500
/* The longest keepalive period, whatever the session timeout says. */
#define RTSP_SESSION_KEEPALIVE_MAX_MS 30000
/* Session timeout assumed when SETUP gives none (RFC 2326 12.37). */
#define RTSP_SESSION_DEFAULT_TIMEOUT_S 60

enum rtsp_session_mode {
    RTSP_SESSION_MODE_PLAY = 0, /* OPTIONS .. PLAY, then media */
    RTSP_SESSION_MODE_PROBE,    /* OPTIONS, DESCRIBE, then stop */
};

struct rtsp_session_config {
    enum rtsp_session_mode mode;
    const char *camera; /* name for log lines (copied) */
    const char *url;    /* request URL without credentials (copied) */
    const char *host;   /* from the URL; must be an IP literal (copied) */
    uint16_t port;
    const char *username;       /* NULL or "" for none (copied) */
    const char *password;       /* NULL or "" for none (copied) */
    int connect_timeout_ms;     /* > 0 */
    int request_timeout_ms;     /* > 0, per request */
    int media_timeout_ms;       /* > 0, RTP silence after PLAY */
    int total_timeout_ms;       /* 0: none; bounds the whole session (probe) */
    uint64_t seed;              /* for the Digest client nonce */
    struct ingest_stats *stats; /* counters to add to (borrowed; must
                                   outlive the session) */
};

/* Flags passed to on_end. */
#define RTSP_SESSION_END_PLAYED 1u /* the session had started playing */
#define RTSP_SESSION_END_AUTH   2u /* credentials were refused */

/*
 * Events of one session. Any may be NULL. None runs after
 * rtsp_session_stop() except on_closed.
 */
struct rtsp_session_events {
    /* The first access unit of the session is about to be delivered. */
    void (*on_recording)(void *user);
    /* As ingest_camera_events.on_stream. */
    void (*on_stream)(void *user, const struct nvr_stream_info *info);
    /* As ingest_camera_events.on_au: takes ownership of the reference. */
    void (*on_au)(void *user, struct nvr_au *au);
    /* Probe mode: DESCRIBE succeeded; sdp and base_url are borrowed for the
     * call. The session then closes without on_end. */
    void (*on_described)(void *user, const struct sdp_session *sdp,
                         const char *base_url);
    /* The session failed; called at most once, msg borrowed and free of
     * credentials, flags from RTSP_SESSION_END_*. Handles are closing. */
    void (*on_end)(void *user, int err, const char *msg, unsigned flags);
    /* Every handle is closed and the session is freed; always the last
     * event, exactly once for each session rtsp_session_new() made. */
    void (*on_closed)(void *user);
};

struct rtsp_session;

/*
 * Fills *out from an IP literal host and a port. Returns 0 or -EINVAL when
 * host is not an IPv4/IPv6 literal (names are not resolved: no DNS).
 */
int rtsp_session_addr(const char *host, uint16_t port,
                      struct sockaddr_storage *out);

/*
 * Creates a session and starts connecting. events and user are borrowed
 * until on_closed. A host that is not an IP literal fails the session
 * asynchronously through on_end. Returns 0 (on_closed will run once) or
 * -ENOMEM (nothing runs). *out is borrowed: valid until on_end or
 * on_closed, whichever comes first.
 */
NVR_NODISCARD int rtsp_session_new(uv_loop_t *loop,
                                   const struct rtsp_session_config *cfg,
                                   const struct rtsp_session_events *events,
                                   void *user, struct rtsp_session **out);

/* Nonzero once PLAY was answered. */
int rtsp_session_played(const struct rtsp_session *s);

/*
 * Stops the session: sends TEARDOWN if it has an RTSP session (waiting at
 * most RTSP_SESSION_TEARDOWN_MS for the answer), then closes every handle.
 * No event but on_closed runs afterwards. Safe from inside the session's own
 * events. Must not be called after on_end.
 */
void rtsp_session_stop(struct rtsp_session *s);

#endif
