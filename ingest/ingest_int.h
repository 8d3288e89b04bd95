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
#include "ingest/rtsp_auth.h"
#include "ingest/sdp.h"
#include "nvr/base/au.h"
#include "nvr/base/compiler.h"

/* Bytes buffered per connection. One RTSP message is at most
 * RTSP_MAX_HEADER_BYTES + RTSP_MAX_BODY and one interleaved frame at most
 * 4 + 65535 bytes, so a whole item always fits. */
#define RTSP_SESSION_RBUF_BYTES (256 * 1024)
/* Bytes of pending writes (requests and answers with their bookkeeping)
 * beyond which the session fails: a camera that does not read, or sends
 * requests faster than it reads our answers, costs bounded memory. */
#define RTSP_SESSION_WQUEUE_MAX_BYTES (64 * 1024)
/* How long a TEARDOWN may take before the connection is simply closed. */
#define RTSP_SESSION_TEARDOWN_MS 500
/* The longest keepalive period, whatever the session timeout says. */
#define RTSP_SESSION_KEEPALIVE_MAX_MS 60000
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
    int udp;                    /* SETUP asks for RTP over UDP */
    int udp_probe_ms;           /* > 0 (transport auto): end with
                                   RTSP_SESSION_END_NO_UDP when UDP brings
                                   no RTP this long after PLAY, or the
                                   camera refuses it */
    int udp_fallback;           /* transport auto over TCP: a 461 or 400
                                   to the interleaved SETUP repeats it
                                   with UDP (RTSP_SESSION_END_NO_TCP) */
    int hold_ms;                /* > 0: with several tracks, hold the first
                                   units back this long at most until
                                   sender reports align the tracks */
    struct rtsp_auth *auth;     /* NULL, or the camera's last challenge,
                                   answered at once and updated (borrowed;
                                   must outlive the session) */
};

/* Flags passed to on_end. */
#define RTSP_SESSION_END_PLAYED  1u  /* the session had started playing */
#define RTSP_SESSION_END_AUTH    2u  /* credentials were refused */
#define RTSP_SESSION_END_NO_UDP  4u  /* UDP did not work (transport auto) */
#define RTSP_SESSION_END_NO_TCP  8u  /* interleaved TCP refused (auto) */
#define RTSP_SESSION_END_BYE     16u /* RTCP BYE on every track */
#define RTSP_SESSION_END_CONNECT 32u /* the TCP connection failed */

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

/* ---- camera quirks of the session (rtsp_quirks.c; pure) ---- */

/*
 * The base URL for control URLs (RFC 2326 C.1.1) from req_url (with a
 * scheme) and the Content-Base (or Content-Location) value, NULL or "" if
 * absent. A value without a scheme keeps only its path, put after
 * req_url's authority. Returns 0 or -EMSGSIZE. Strings are borrowed.
 */
int rtsp_quirks_base_url(const char *req_url, const char *content_base,
                         char *out, size_t out_size);

/*
 * Takes the Session header of a SETUP answer unless *id is already set
 * (cameras that change the id between SETUPs: the first one wins).
 * Returns 1 with id and *timeout_s set, 0 when an id was already kept,
 * -EBADMSG (malformed) or -EMSGSIZE (does not fit id_size).
 */
int rtsp_quirks_session_id(const char *value, size_t len, char *id,
                           size_t id_size, int *timeout_s);

/* Keepalive period: half the session timeout (RTSP_SESSION_DEFAULT_-
 * TIMEOUT_S if <= 0), at least 1 s, at most RTSP_SESSION_KEEPALIVE_MAX_MS. */
uint64_t rtsp_quirks_keepalive_ms(int session_timeout_s);

/* The keepalive request's method (a static string) from the Public
 * header of the OPTIONS answer (value, len; NULL if none): GET_PARAMETER
 * when it is listed (servers such as VLC's refresh a session only on
 * SETUP, PLAY, PAUSE, GET_PARAMETER and TEARDOWN), else OPTIONS. */
const char *rtsp_quirks_keepalive_method(const char *public_hdr, size_t len);

/* Whether a status answering an interleaved SETUP means the server does
 * not do RTP over the RTSP connection: 461 Unsupported Transport, or 400
 * Bad Request (servers that cannot parse an interleaved Transport). */
int rtsp_quirks_tcp_refused(int status);

enum rtsp_quirks_auth {
    RTSP_QUIRKS_AUTH_ANSWER = 0,       /* answer the challenge once */
    RTSP_QUIRKS_AUTH_NEED_CREDENTIALS, /* none configured: fail */
    RTSP_QUIRKS_AUTH_REFUSED,          /* second 401: wrong password */
};

/* What a 401 calls for, given whether credentials are configured and
 * whether this request already answered a challenge. */
enum rtsp_quirks_auth rtsp_quirks_on_401(int have_credentials, int retried);

/* The negative errno for a refusing RTSP status: -EACCES, -ENOENT,
 * -ENOTSUP, -EBUSY (the camera is still busy with an old session:
 * retry later) or -EPROTO. */
int rtsp_quirks_status_errno(int status);

#endif
