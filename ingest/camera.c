/* SPDX-License-Identifier: MIT */
/*
 * The per-camera supervisor and the probe. A camera runs one RTSP session
 * (rtsp_session.c) at a time; when it ends, the camera reports why, waits
 * with capped exponential backoff plus jitter (at most 2 s for a while
 * after it was recording, none after an RTCP BYE), and tries again,
 * forever, until its owner closes it. Under transport auto it follows
 * what the camera refused (TCP, then UDP, and back). Credentials are taken out
 * of the URL here and never reach a log line or a state message. Loop thread
 * only.
 */
#include "config.h"

#include "ingest/camera.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "ingest/ingest_int.h"
#include "ingest/rtsp_url.h"
#include "nvr/base/log.h"
#include "nvr/base/redact.h"
#include "nvr/base/wipe.h"

#define CAMERA_URL_MAX            1024
#define CAMERA_CONNECT_TIMEOUT_MS 5000
#define CAMERA_REQUEST_TIMEOUT_MS 10000
#define CAMERA_MEDIA_TIMEOUT_MS   10000
#define CAMERA_BACKOFF_MIN_MS     1000
#define CAMERA_BACKOFF_MAX_MS     30000
/* Cameras lock accounts after a few wrong passwords: wait this long at
 * least after the credentials were refused. */
#define CAMERA_AUTH_BACKOFF_MS 30000
#define PROBE_TIMEOUT_MS       10000
/* How long a new session's first units wait for RTCP sender reports:
 * longer than RFC 3550's 5 s minimum report interval (6.2), which ffmpeg's
 * RTP sender keeps to. A report that comes only after the hold moves the
 * track already being written, and its overlapping units are refused. */
#define CAMERA_SYNC_HOLD_MS 6000
/* transport auto, fallen back to UDP: how long after PLAY UDP may stay
 * silent before the camera is tried over TCP interleaved again. */
#define CAMERA_UDP_PROBE_MS 5000
/* A camera that was recording until just now is tried again at most this
 * long apart (jitter included), for CAMERA_PROMPT_WINDOW_MS after it
 * stopped: one back after a short outage is recording again within 2 s,
 * while the backoff goes on growing underneath, so one that stays down
 * is tried at the full backoff once the window is over. */
#define CAMERA_PROMPT_MAX_MS    2000
#define CAMERA_PROMPT_WINDOW_MS 20000
/* After an RTCP BYE on every track the camera is tried again at once,
 * if that session recorded at least this long (else it backs off, so a
 * server that ends every session at once is not hammered). */
#define CAMERA_BYE_MIN_RECORDED_MS 1000
/* While a camera whose port refused (or did not answer) the connection
 * waits out a backoff longer than this, its port is probed this often
 * with a bare TCP connect; once one succeeds the wait is cut short. A
 * camera whose port is open but whose RTSP server fails is not probed:
 * its backoff stands. */
#define CAMERA_PORT_PROBE_MS 1000

struct ingest_camera {
    uv_loop_t *loop;
    uv_timer_t backoff;     /* between attempts */
    uv_timer_t probe_timer; /* port probes during a backoff */
    uv_tcp_t probe_tcp;     /* the probe's connection, while probe_busy */
    uv_connect_t probe_req;
    int probe_busy;   /* probe_tcp initialised, not yet closed */
    int probe_closed; /* probe_timer closed (camera closing) */
    char name[64];
    char url[CAMERA_URL_MAX]; /* the wire URL: no credentials */
    char host[256];
    uint16_t port;
    char user[128];
    char pass[128];
    int connect_timeout_ms;
    int request_timeout_ms;
    int media_timeout_ms;
    int backoff_min_ms;
    int backoff_max_ms;
    int backoff_ms; /* the next delay before jitter */
    uint64_t rng;   /* xorshift64 state, never 0 */

    const struct ingest_camera_events *ev;
    void *user_data;

    enum ingest_transport transport;
    int auto_udp;          /* transport auto: the camera refused TCP */
    char udp_why[96];      /* why (transport_why while auto_udp) */
    uint64_t recording_ms; /* uv_now() when this session began recording,
                              or 0 */
    uint64_t lost_ms;      /* uv_now() when the last recording ended */
    int sync_hold_ms;      /* 0: none */
    int retry_now; /* the next session repeats an attempt (no backoff) */
    /* The last authentication challenge, answered at once by the next
     * session: some cameras close the connection after each 401. */
    struct rtsp_auth auth;

    struct rtsp_session *sess; /* the running session, or NULL */
    int live_sessions;         /* sessions whose on_closed is pending */
    uint64_t sessions;         /* sessions started */
    int started;
    int closing;
    int timer_closed;
    void (*close_cb)(void *cb_user);
    void *close_user;

    struct ingest_stats stats;
};

const char *ingest_state_name(enum ingest_state st)
{
    switch (st) {
    case INGEST_STATE_CONNECTING:
        return "connecting";
    case INGEST_STATE_RECORDING:
        return "recording";
    case INGEST_STATE_BACKOFF:
        return "backoff";
    case INGEST_STATE_AUTH_FAILED:
        return "auth_failed";
    case INGEST_STATE_ERROR:
        return "error";
    case INGEST_STATE_STOPPED:
        return "stopped";
    }
    return "unknown";
}

const char *ingest_transport_name(enum ingest_transport t)
{
    switch (t) {
    case INGEST_TRANSPORT_TCP:
        return "tcp";
    case INGEST_TRANSPORT_UDP:
        return "udp";
    case INGEST_TRANSPORT_AUTO:
        return "auto";
    }
    return "?";
}

static uint64_t cam_rand(struct ingest_camera *cam)
{
    uint64_t x = cam->rng;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    cam->rng = x;
    return x;
}

static void cam_set_state(struct ingest_camera *cam, enum ingest_state st,
                          int err, const char *msg)
{
    cam->stats.state = st;
    if (err < 0) {
        cam->stats.last_err = err;
        snprintf(cam->stats.last_error, sizeof(cam->stats.last_error), "%s",
                 msg ? msg : "");
    }
    if (!cam->closing && cam->ev->on_state)
        cam->ev->on_state(cam->user_data, st, err, msg);
}

/* ---- session events ---- */

static void cam_on_recording(void *user)
{
    struct ingest_camera *cam = user;

    cam->backoff_ms = cam->backoff_min_ms;
    cam->recording_ms = uv_now(cam->loop);
    LOG_I("ingest", "camera %s: recording over %s (%s)", cam->name,
          cam->stats.transport, cam->stats.transport_why);
    cam_set_state(cam, INGEST_STATE_RECORDING, 0, "recording");
}

static void cam_on_stream(void *user, const struct nvr_stream_info *info)
{
    struct ingest_camera *cam = user;

    if (!cam->closing && cam->ev->on_stream)
        cam->ev->on_stream(cam->user_data, info);
}

static void cam_on_au(void *user, struct nvr_au *au)
{
    struct ingest_camera *cam = user;

    if (cam->closing || !cam->ev->on_au) {
        nvr_au_unref(au);
        return;
    }
    cam->ev->on_au(cam->user_data, au);
}

/* The delay before the next attempt: the current step plus up to 25 %
 * jitter, so cameras that failed together do not retry together. */
static int cam_next_delay(struct ingest_camera *cam, int auth)
{
    int base = cam->backoff_ms;
    int delay = base + (int)(cam_rand(cam) % ((uint64_t)base / 4 + 1));

    cam->backoff_ms =
        base > cam->backoff_max_ms / 2 ? cam->backoff_max_ms : base * 2;
    if (auth && delay < CAMERA_AUTH_BACKOFF_MS)
        delay = CAMERA_AUTH_BACKOFF_MS;
    return delay;
}

/* The delay, cut to at most CAMERA_PROMPT_MAX_MS while the camera was
 * recording until less than CAMERA_PROMPT_WINDOW_MS ago. */
static int cam_prompt_delay(struct ingest_camera *cam, int delay)
{
    uint64_t now = uv_now(cam->loop);

    if (cam->lost_ms == 0 || now - cam->lost_ms >= CAMERA_PROMPT_WINDOW_MS ||
        delay <= CAMERA_PROMPT_MAX_MS)
        return delay;
    return CAMERA_PROMPT_MAX_MS * 3 / 4 +
           (int)(cam_rand(cam) % (CAMERA_PROMPT_MAX_MS / 4 + 1));
}

static void cam_connect(struct ingest_camera *cam);

static void cam_backoff_cb(uv_timer_t *timer)
{
    struct ingest_camera *cam =
        nvr_container_of(timer, struct ingest_camera, backoff);

    uv_timer_stop(&cam->probe_timer);
    if (!cam->closing)
        cam_connect(cam);
}

static void cam_maybe_finish(struct ingest_camera *cam);

static void cam_probe_closed(uv_handle_t *h)
{
    struct ingest_camera *cam =
        nvr_container_of(h, struct ingest_camera, probe_tcp);

    cam->probe_busy = 0;
    cam_maybe_finish(cam);
}

static void cam_probe_connected(uv_connect_t *req, int status)
{
    struct ingest_camera *cam =
        nvr_container_of(req, struct ingest_camera, probe_req);

    if (!uv_is_closing((uv_handle_t *)&cam->probe_tcp))
        uv_close((uv_handle_t *)&cam->probe_tcp, cam_probe_closed);
    if (status < 0 || cam->closing ||
        !uv_is_active((uv_handle_t *)&cam->backoff))
        return;
    /* The port answers again: the camera is back, try it now. */
    LOG_I("ingest", "camera %s: port %u open again; connecting now", cam->name,
          (unsigned)cam->port);
    uv_timer_stop(&cam->probe_timer);
    uv_timer_stop(&cam->backoff);
    cam_connect(cam);
}

/* Every CAMERA_PORT_PROBE_MS of a backoff after a failed connection: one
 * bare TCP connect (no request), unless the last one is still open. */
static void cam_probe_cb(uv_timer_t *timer)
{
    struct ingest_camera *cam =
        nvr_container_of(timer, struct ingest_camera, probe_timer);
    struct sockaddr_storage addr;

    if (cam->closing || cam->probe_busy ||
        rtsp_session_addr(cam->host, cam->port, &addr) < 0)
        return;
    (void)uv_tcp_init(cam->loop, &cam->probe_tcp); /* cannot fail */
    cam->probe_busy = 1;
    if (uv_tcp_connect(&cam->probe_req, &cam->probe_tcp,
                       (const struct sockaddr *)&addr, cam_probe_connected) < 0)
        uv_close((uv_handle_t *)&cam->probe_tcp, cam_probe_closed);
}

static void cam_on_end(void *user, int err, const char *msg, unsigned flags)
{
    struct ingest_camera *cam = user;
    int auth = (flags & RTSP_SESSION_END_AUTH) != 0;
    uint64_t now = uv_now(cam->loop);
    uint64_t recorded_ms = cam->recording_ms ? now - cam->recording_ms : 0;
    int was_recording = cam->recording_ms != 0;
    int delay;

    cam->sess = NULL;
    cam->recording_ms = 0;
    if (cam->closing)
        return;
    if (was_recording)
        cam->lost_ms = now;
    if (cam->transport == INGEST_TRANSPORT_AUTO) {
        int no_tcp = (flags & RTSP_SESSION_END_NO_TCP) != 0;
        int no_udp = (flags & RTSP_SESSION_END_NO_UDP) != 0;

        if (no_tcp && !no_udp && !cam->auto_udp) {
            /* Kept for the next sessions: they set up over UDP at once. */
            cam->auto_udp = 1;
            snprintf(cam->udp_why, sizeof(cam->udp_why), "%s",
                     cam->stats.transport_why);
            if (!(flags & RTSP_SESSION_END_PLAYED)) {
                /* A later track refused TCP: again at once, over UDP. */
                cam->retry_now = 1;
                LOG_W("ingest", "camera %s: %s", cam->name, msg);
                uv_timer_start(&cam->backoff, cam_backoff_cb, 0, 0);
                return;
            }
        } else if (no_udp && cam->auto_udp) {
            /* UDP brought nothing: interleaved TCP again next time. */
            cam->auto_udp = 0;
            LOG_W("ingest",
                  "camera %s: %s; transport auto: trying interleaved TCP "
                  "again",
                  cam->name, msg);
        }
    }
    if ((flags & RTSP_SESSION_END_PLAYED) && cam->ev->on_break)
        cam->ev->on_break(cam->user_data, err, msg);
    if (cam->closing)
        return;
    delay = cam_next_delay(cam, auth);
    if (!auth)
        delay = cam_prompt_delay(cam, delay);
    if ((flags & RTSP_SESSION_END_BYE) &&
        recorded_ms >= CAMERA_BYE_MIN_RECORDED_MS)
        delay = 0;
    if (delay < 1000)
        LOG_W("ingest", "camera %s: %s; retrying in %d ms", cam->name, msg,
              delay);
    else
        LOG_W("ingest", "camera %s: %s; retrying in %.1f s", cam->name, msg,
              delay / 1000.0);
    cam_set_state(cam, auth ? INGEST_STATE_AUTH_FAILED : INGEST_STATE_BACKOFF,
                  err, msg);
    if (cam->closing)
        return;
    uv_timer_start(&cam->backoff, cam_backoff_cb, (uint64_t)delay, 0);
    if ((flags & RTSP_SESSION_END_CONNECT) && !auth &&
        delay > 2 * CAMERA_PORT_PROBE_MS)
        uv_timer_start(&cam->probe_timer, cam_probe_cb, CAMERA_PORT_PROBE_MS,
                       CAMERA_PORT_PROBE_MS);
}

static void cam_maybe_finish(struct ingest_camera *cam)
{
    void (*cb)(void *);
    void *cb_user;

    if (!cam->closing || !cam->timer_closed || !cam->probe_closed ||
        cam->probe_busy || cam->live_sessions > 0)
        return;
    cb = cam->close_cb;
    cb_user = cam->close_user;
    LOG_D("ingest", "camera %s: closed", cam->name);
    nvr_wipe(cam->pass, sizeof(cam->pass));
    free(cam);
    if (cb)
        cb(cb_user);
}

static void cam_on_closed(void *user)
{
    struct ingest_camera *cam = user;

    cam->live_sessions--;
    cam_maybe_finish(cam);
}

static const struct rtsp_session_events cam_session_events = {
    .on_recording = cam_on_recording,
    .on_stream = cam_on_stream,
    .on_au = cam_on_au,
    .on_end = cam_on_end,
    .on_closed = cam_on_closed,
};

static void cam_connect(struct ingest_camera *cam)
{
    struct rtsp_session_config sc;
    int err;

    int udp = cam->transport == INGEST_TRANSPORT_UDP ||
              (cam->transport == INGEST_TRANSPORT_AUTO && cam->auto_udp);

    if (cam->sessions > 0 && !cam->retry_now)
        cam->stats.reconnects++;
    cam->retry_now = 0;
    cam->sessions++;
    snprintf(cam->stats.transport, sizeof(cam->stats.transport), "%s",
             udp ? "udp" : "tcp");
    if (cam->transport != INGEST_TRANSPORT_AUTO)
        snprintf(cam->stats.transport_why, sizeof(cam->stats.transport_why),
                 "configured");
    else if (udp)
        snprintf(cam->stats.transport_why, sizeof(cam->stats.transport_why),
                 "%s", cam->udp_why);
    else
        snprintf(cam->stats.transport_why, sizeof(cam->stats.transport_why),
                 "auto, trying interleaved TCP first");
    LOG_I("ingest", "camera %s: connecting to %s", cam->name, cam->url);
    cam_set_state(cam, INGEST_STATE_CONNECTING, 0, "connecting");
    if (cam->closing)
        return;
    memset(&sc, 0, sizeof(sc));
    sc.mode = RTSP_SESSION_MODE_PLAY;
    sc.camera = cam->name;
    sc.url = cam->url;
    sc.host = cam->host;
    sc.port = cam->port;
    sc.username = cam->user;
    sc.password = cam->pass;
    sc.connect_timeout_ms = cam->connect_timeout_ms;
    sc.request_timeout_ms = cam->request_timeout_ms;
    sc.media_timeout_ms = cam->media_timeout_ms;
    sc.seed = cam_rand(cam);
    sc.stats = &cam->stats;
    sc.udp = udp;
    sc.udp_probe_ms =
        cam->transport == INGEST_TRANSPORT_AUTO ? CAMERA_UDP_PROBE_MS : 0;
    sc.udp_fallback = cam->transport == INGEST_TRANSPORT_AUTO && !udp;
    sc.auth = &cam->auth;
    sc.hold_ms = cam->sync_hold_ms;
    err =
        rtsp_session_new(cam->loop, &sc, &cam_session_events, cam, &cam->sess);
    if (err < 0) {
        int delay = cam_next_delay(cam, 0);

        cam->sess = NULL;
        LOG_W("ingest", "camera %s: cannot start a session: %s", cam->name,
              uv_strerror(err));
        cam_set_state(cam, INGEST_STATE_BACKOFF, err,
                      "out of memory starting a session");
        if (!cam->closing)
            uv_timer_start(&cam->backoff, cam_backoff_cb, (uint64_t)delay, 0);
        return;
    }
    cam->live_sessions++;
}

/* ---- public API ---- */

static int pick(int v, int dflt)
{
    return v > 0 ? v : dflt;
}

int ingest_camera_new(uv_loop_t *loop, const struct ingest_camera_config *cfg,
                      const struct ingest_camera_events *events, void *user,
                      struct ingest_camera **out)
{
    struct ingest_camera *cam;
    struct rtsp_url *u;
    int err = 0;

    if (!loop || !cfg || !cfg->url || !events || !out)
        return -EINVAL;
    u = malloc(sizeof(*u));
    cam = calloc(1, sizeof(*cam));
    if (!u || !cam) {
        err = -ENOMEM;
        goto err_free;
    }
    if (rtsp_url_parse(cfg->url, u) < 0 || !u->host[0]) {
        err = -EINVAL;
        goto err_free;
    }
    nvr_redact_url(cfg->url, cam->url, sizeof(cam->url));
    if (strlen(cam->url) + 1 >= sizeof(cam->url)) {
        err = -EINVAL;
        goto err_free;
    }
    snprintf(cam->host, sizeof(cam->host), "%s", u->host);
    cam->port = u->port;
    snprintf(cam->user, sizeof(cam->user), "%s",
             cfg->username ? cfg->username : u->user);
    snprintf(cam->pass, sizeof(cam->pass), "%s",
             cfg->password ? cfg->password : u->pass);
    nvr_wipe(u, sizeof(*u)); /* do not leave the password in freed memory */
    free(u);
    u = NULL;

    cam->loop = loop;
    snprintf(cam->name, sizeof(cam->name), "%s", cfg->name ? cfg->name : "?");
    cam->connect_timeout_ms =
        pick(cfg->connect_timeout_ms, CAMERA_CONNECT_TIMEOUT_MS);
    cam->request_timeout_ms =
        pick(cfg->request_timeout_ms, CAMERA_REQUEST_TIMEOUT_MS);
    cam->media_timeout_ms =
        pick(cfg->media_timeout_ms, CAMERA_MEDIA_TIMEOUT_MS);
    cam->backoff_min_ms = pick(cfg->backoff_min_ms, CAMERA_BACKOFF_MIN_MS);
    cam->backoff_max_ms = pick(cfg->backoff_max_ms, CAMERA_BACKOFF_MAX_MS);
    if (cam->backoff_max_ms < cam->backoff_min_ms)
        cam->backoff_max_ms = cam->backoff_min_ms;
    cam->backoff_ms = cam->backoff_min_ms;
    cam->transport = cfg->transport;
    cam->auth.policy = cfg->auth;
    cam->sync_hold_ms = cfg->sync_hold_ms < 0    ? 0
                        : cfg->sync_hold_ms == 0 ? CAMERA_SYNC_HOLD_MS
                                                 : cfg->sync_hold_ms;
    cam->rng = cfg->seed ? cfg->seed : uv_hrtime() ^ (uintptr_t)cam;
    if (!cam->rng)
        cam->rng = 0x9e3779b97f4a7c15ULL;
    cam->ev = events;
    cam->user_data = user;
    cam->stats.state = INGEST_STATE_CONNECTING;
    (void)uv_timer_init(loop, &cam->backoff); /* cannot fail */
    (void)uv_timer_init(loop, &cam->probe_timer);
    *out = cam;
    return 0;

err_free:
    if (u)
        nvr_wipe(u, sizeof(*u));
    free(u);
    nvr_wipe(cam->pass, sizeof(cam->pass));
    free(cam);
    return err;
}

void ingest_camera_start(struct ingest_camera *cam)
{
    struct sockaddr_storage addr;
    char msg[400];

    if (cam->started || cam->closing)
        return;
    cam->started = 1;
    if (rtsp_session_addr(cam->host, cam->port, &addr) < 0) {
        snprintf(msg, sizeof(msg),
                 "host \"%s\" is not an IP address (DNS names are not "
                 "supported yet)",
                 cam->host);
        LOG_W("ingest", "camera %s: %s", cam->name, msg);
        cam_set_state(cam, INGEST_STATE_ERROR, -EINVAL, msg);
        return;
    }
    cam_connect(cam);
}

static void cam_timer_closed(uv_handle_t *h)
{
    struct ingest_camera *cam =
        nvr_container_of(h, struct ingest_camera, backoff);

    cam->timer_closed = 1;
    cam_maybe_finish(cam);
}

static void cam_probe_timer_closed(uv_handle_t *h)
{
    struct ingest_camera *cam =
        nvr_container_of(h, struct ingest_camera, probe_timer);

    cam->probe_closed = 1;
    cam_maybe_finish(cam);
}

void ingest_camera_close(struct ingest_camera *cam, void (*cb)(void *cb_user),
                         void *cb_user)
{
    struct rtsp_session *sess;

    if (cam->closing)
        return;
    /* Last events first, while they may still run. */
    if (cam->sess && rtsp_session_played(cam->sess) && cam->ev->on_break)
        cam->ev->on_break(cam->user_data, -ECANCELED, "stopped");
    if (cam->ev->on_state)
        cam->ev->on_state(cam->user_data, INGEST_STATE_STOPPED, 0, "stopped");
    cam->closing = 1;
    cam->close_cb = cb;
    cam->close_user = cb_user;
    cam->stats.state = INGEST_STATE_STOPPED;
    LOG_I("ingest", "camera %s: stopping", cam->name);
    sess = cam->sess;
    cam->sess = NULL;
    if (sess)
        rtsp_session_stop(sess); /* on_closed follows from the loop */
    uv_timer_stop(&cam->backoff);
    uv_close((uv_handle_t *)&cam->backoff, cam_timer_closed);
    uv_close((uv_handle_t *)&cam->probe_timer, cam_probe_timer_closed);
    if (cam->probe_busy && !uv_is_closing((uv_handle_t *)&cam->probe_tcp))
        uv_close((uv_handle_t *)&cam->probe_tcp, cam_probe_closed);
}

void ingest_camera_get_stats(const struct ingest_camera *cam,
                             struct ingest_stats *out)
{
    *out = cam->stats;
    snprintf(out->auth, sizeof(out->auth), "%s",
             rtsp_auth_scheme_name(cam->auth.scheme));
}

/* ---- probe ---- */

struct probe {
    ingest_probe_cb cb;
    void *user;
    int done;
    struct ingest_stats stats;
    struct rtsp_auth auth; /* the session's challenge state, with policy */
};

static void probe_on_described(void *user, const struct sdp_session *sdp,
                               const char *base_url)
{
    struct probe *p = user;

    p->done = 1;
    p->cb(p->user, 0, NULL, sdp, base_url);
}

static void probe_on_end(void *user, int err, const char *msg, unsigned flags)
{
    struct probe *p = user;

    (void)flags;
    if (p->done)
        return;
    p->done = 1;
    p->cb(p->user, err, msg, NULL, NULL);
}

static void probe_on_closed(void *user)
{
    struct probe *p = user;

    nvr_wipe(&p->auth, sizeof(p->auth));
    free(p);
}

static const struct rtsp_session_events probe_events = {
    .on_described = probe_on_described,
    .on_end = probe_on_end,
    .on_closed = probe_on_closed,
};

int ingest_probe(uv_loop_t *loop, const char *url, const char *username,
                 const char *password, enum rtsp_auth_policy auth,
                 int timeout_ms, ingest_probe_cb cb, void *user)
{
    struct rtsp_session_config sc;
    struct rtsp_session *sess;
    char wire[CAMERA_URL_MAX];
    struct rtsp_url *u;
    struct probe *p;
    int err;

    if (!loop || !url || !cb)
        return -EINVAL;
    u = malloc(sizeof(*u));
    p = calloc(1, sizeof(*p));
    if (!u || !p) {
        err = -ENOMEM;
        goto out;
    }
    if (rtsp_url_parse(url, u) < 0 || !u->host[0]) {
        err = -EINVAL;
        goto out;
    }
    nvr_redact_url(url, wire, sizeof(wire));
    if (strlen(wire) + 1 >= sizeof(wire)) {
        err = -EINVAL;
        goto out;
    }
    p->cb = cb;
    p->user = user;
    timeout_ms = pick(timeout_ms, PROBE_TIMEOUT_MS);
    memset(&sc, 0, sizeof(sc));
    sc.mode = RTSP_SESSION_MODE_PROBE;
    sc.camera = wire;
    sc.url = wire;
    sc.host = u->host;
    sc.port = u->port;
    sc.username = username ? username : u->user;
    sc.password = password ? password : u->pass;
    sc.connect_timeout_ms = timeout_ms;
    sc.request_timeout_ms = timeout_ms;
    sc.media_timeout_ms = timeout_ms;
    sc.total_timeout_ms = timeout_ms;
    sc.stats = &p->stats;
    p->auth.policy = auth;
    sc.auth = &p->auth;
    err = rtsp_session_new(loop, &sc, &probe_events, p, &sess);
    if (err == 0)
        p = NULL; /* owned by the session until on_closed */
out:
    if (u)
        nvr_wipe(u, sizeof(*u));
    free(u);
    free(p);
    return err;
}
