/* SPDX-License-Identifier: MIT */
/*
 * The per-camera supervisor and the probe. A camera runs one RTSP session
 * (rtsp_session.c) at a time; when it ends, the camera reports why, waits
 * with capped exponential backoff plus jitter, and tries again, forever,
 * until its owner closes it. Credentials are taken out of the URL here and
 * never reach a log line or a state message. Loop thread only.
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
/* How long a new session's first units wait for RTCP sender reports. */
#define CAMERA_SYNC_HOLD_MS 4000
/* transport auto: how long after PLAY UDP may stay silent before the
 * camera is tried over TCP interleaved instead. */
#define CAMERA_UDP_PROBE_MS 5000

struct ingest_camera {
    uv_loop_t *loop;
    uv_timer_t backoff; /* between attempts */
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
    int auto_tcp;     /* transport auto settled on TCP */
    int sync_hold_ms; /* 0: none */
    int retry_now;    /* the next session repeats an attempt (no backoff) */
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
    LOG_I("ingest", "camera %s: recording", cam->name);
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

static void cam_connect(struct ingest_camera *cam);

static void cam_backoff_cb(uv_timer_t *timer)
{
    struct ingest_camera *cam =
        nvr_container_of(timer, struct ingest_camera, backoff);

    if (!cam->closing)
        cam_connect(cam);
}

static void cam_on_end(void *user, int err, const char *msg, unsigned flags)
{
    struct ingest_camera *cam = user;
    int auth = (flags & RTSP_SESSION_END_AUTH) != 0;
    int delay;

    cam->sess = NULL;
    if (cam->closing)
        return;
    if ((flags & RTSP_SESSION_END_NO_UDP) &&
        cam->transport == INGEST_TRANSPORT_AUTO && !cam->auto_tcp) {
        /* Nothing was recorded over UDP: repeat the attempt over TCP at
         * once, and keep TCP for this camera from now on. */
        cam->auto_tcp = 1;
        cam->retry_now = 1;
        LOG_W("ingest",
              "camera %s: %s; transport auto: using TCP interleaved from "
              "now on",
              cam->name, msg);
        uv_timer_start(&cam->backoff, cam_backoff_cb, 0, 0);
        return;
    }
    if ((flags & RTSP_SESSION_END_PLAYED) && cam->ev->on_break)
        cam->ev->on_break(cam->user_data, err, msg);
    if (cam->closing)
        return;
    delay = cam_next_delay(cam, auth);
    if (delay < 1000)
        LOG_W("ingest", "camera %s: %s; retrying in %d ms", cam->name, msg,
              delay);
    else
        LOG_W("ingest", "camera %s: %s; retrying in %.1f s", cam->name, msg,
              delay / 1000.0);
    cam_set_state(cam, auth ? INGEST_STATE_AUTH_FAILED : INGEST_STATE_BACKOFF,
                  err, msg);
    if (!cam->closing)
        uv_timer_start(&cam->backoff, cam_backoff_cb, (uint64_t)delay, 0);
}

static void cam_maybe_finish(struct ingest_camera *cam)
{
    void (*cb)(void *);
    void *cb_user;

    if (!cam->closing || !cam->timer_closed || cam->live_sessions > 0)
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
              (cam->transport == INGEST_TRANSPORT_AUTO && !cam->auto_tcp);

    if (cam->sessions > 0 && !cam->retry_now)
        cam->stats.reconnects++;
    cam->retry_now = 0;
    cam->sessions++;
    snprintf(cam->stats.transport, sizeof(cam->stats.transport), "%s",
             udp ? "udp" : "tcp");
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
    sc.udp_probe_ms = cam->transport == INGEST_TRANSPORT_AUTO && udp
                          ? CAMERA_UDP_PROBE_MS
                          : 0;
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
