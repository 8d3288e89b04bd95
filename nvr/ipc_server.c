/* SPDX-License-Identifier: MIT */
/*
 * The recorder's side of the operators' socket (see ipc_server.h).
 *
 * The socket is made on the main thread before the sandbox closes (bind
 * and listen are denied afterwards); the server's thread then only
 * accepts on it (the one accept() seccomp allows), reads frames into a
 * per-connection buffer sized for the largest frame, and answers each
 * request by rendering the command's output (nvr/cmd.h) into memory and
 * sending it as IPC_MSG_OUTPUT frames. The renderers read SQLite: that is
 * why this is a thread of its own, never the cameras' loop.
 *
 * A client that breaks the protocol (a bad frame, no hello first, an
 * unknown request) is logged at warning with its uid and pid, at most
 * IPC_WARN_PER_MIN times a minute with a count of the rest, and
 * disconnected.
 */
#include "config.h"
#include "nvr/ipc_server.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "nvr/access.h"
#include "nvr/base/clock.h"
#include "nvr/base/err.h"
#include "nvr/base/escape.h"
#include "nvr/base/log.h"
#include "nvr/cmd.h"
#include "nvr/ipc_proto.h"
#include "nvr/ipc_socket.h"
#include "storage/audit.h"
#include "storage/catalog.h"
#include "storage/catalog_holds.h"
#include "storage/holds.h"

#define IPC_WARN_PER_MIN 10

struct ipc_conn;

struct ipc_server {
    const struct nvr_config *cfg;
    const char *catalog_path;
    int fd; /* the listening socket */
    uid_t self;
    uv_loop_t loop;
    uv_pipe_t listener;
    uv_async_t stop;
    uv_thread_t thread;
    int loop_ready, thread_started;
    struct catalog *cat; /* server thread only; for reads and audit */
    struct ipc_conn *conns;
    int n_clients;
    int64_t warn_window_end_us; /* rate limit of client warnings */
    int warned, suppressed;
    struct ipc_enc enc; /* server thread only */
};

struct ipc_conn {
    uv_pipe_t pipe;
    uv_timer_t timer;
    uv_shutdown_t shutdown;
    struct ipc_server *s;
    struct ipc_conn *next, *prev;
    struct access_caller who;
    char claim[64]; /* $SUDO_USER of the client, a claim only */
    int hello_done;
    int closing;
    int open_handles;
    size_t len; /* bytes in buf */
    uint8_t buf[IPC_HEADER_BYTES + IPC_MAX_FRAME];
};

struct ipc_write {
    uv_write_t req;
    size_t len;
    uint8_t data[];
};

NVR_PRINTF(3, 4)
static void warn_client(struct ipc_server *s, const struct ipc_conn *c,
                        const char *fmt, ...)
{
    int64_t now = nvr_clock_mono_us();
    char msg[512];
    va_list ap;

    if (now >= s->warn_window_end_us) {
        if (s->suppressed)
            LOG_W("ipc",
                  "%d more warnings about socket clients in the last "
                  "minute were not logged",
                  s->suppressed);
        s->warn_window_end_us = now + 60 * 1000000LL;
        s->warned = 0;
        s->suppressed = 0;
    }
    if (s->warned >= IPC_WARN_PER_MIN) {
        s->suppressed++;
        return;
    }
    s->warned++;
    va_start(ap, fmt);
    /* clang-analyzer 14 loses the va_start above on some paths. */
    // NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    LOG_W("ipc", "client %s (uid %u, pid %ld): %s", c->who.user,
          (unsigned)c->who.uid, (long)c->who.pid, msg);
}

/* ---- connections ---- */

static void conn_handle_closed(uv_handle_t *h)
{
    struct ipc_conn *c = h->data;

    if (--c->open_handles > 0)
        return;
    free(c);
}

static void conn_close(struct ipc_conn *c)
{
    struct ipc_server *s = c->s;

    if (c->closing)
        return;
    c->closing = 1;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->n_clients--;
    uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
    uv_close((uv_handle_t *)&c->pipe, conn_handle_closed);
}

static void conn_shutdown_cb(uv_shutdown_t *req, int status)
{
    struct ipc_conn *c = nvr_container_of(req, struct ipc_conn, shutdown);

    (void)status;
    conn_close(c);
}

/* Closes once what was queued has been written. */
static void conn_finish(struct ipc_conn *c)
{
    if (c->closing)
        return;
    uv_read_stop((uv_stream_t *)&c->pipe);
    if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->pipe, conn_shutdown_cb) <
        0)
        conn_close(c);
}

static void write_cb(uv_write_t *req, int status)
{
    (void)status; /* a client gone away: its connection closes on read */
    free(nvr_container_of(req, struct ipc_write, req));
}

/* Sends the frame in s->enc. 0 or a negative errno (the caller closes). */
static int conn_send(struct ipc_conn *c)
{
    int n = ipc_enc_finish(&c->s->enc);
    struct ipc_write *w;
    uv_buf_t b;
    int err;

    if (n < 0)
        return n;
    if (c->pipe.write_queue_size > IPC_SERVER_MAX_QUEUED)
        return -ENOBUFS; /* a client that does not read its answers */
    w = malloc(sizeof(*w) + (size_t)n);
    if (!w)
        return -ENOMEM;
    memcpy(w->data, c->s->enc.buf, (size_t)n);
    w->len = (size_t)n;
    b = uv_buf_init((char *)w->data, (unsigned)n);
    err = uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, write_cb);
    if (err < 0)
        free(w);
    return err;
}

static int send_output(struct ipc_conn *c, int stream, const char *p, size_t n)
{
    int err = 0;

    while (n > 0 && err == 0) {
        size_t k = n < IPC_OUTPUT_CHUNK ? n : IPC_OUTPUT_CHUNK;

        ipc_enc_begin(&c->s->enc, IPC_MSG_OUTPUT);
        ipc_enc_int(&c->s->enc, IPC_TAG_STREAM, stream);
        ipc_enc_bytes(&c->s->enc, IPC_TAG_DATA, p, k);
        err = conn_send(c);
        p += k;
        n -= k;
    }
    return err;
}

static int send_end(struct ipc_conn *c, int exit_status)
{
    ipc_enc_begin(&c->s->enc, IPC_MSG_END);
    ipc_enc_int(&c->s->enc, IPC_TAG_EXIT, exit_status);
    return conn_send(c);
}

/* An IPC_MSG_ERROR, then the connection closes. */
static void send_error_close(struct ipc_conn *c, int exit_status,
                             const char *text)
{
    ipc_enc_begin(&c->s->enc, IPC_MSG_ERROR);
    ipc_enc_int(&c->s->enc, IPC_TAG_EXIT, exit_status);
    ipc_enc_text(&c->s->enc, IPC_TAG_TEXT, text);
    if (conn_send(c) < 0)
        conn_close(c);
    else
        conn_finish(c);
}

/* ---- requests ---- */

static int server_catalog(struct ipc_server *s)
{
    if (s->cat)
        return 0;
    return catalog_open(s->catalog_path, CATALOG_READWRITE, &s->cat);
}

/* Writes what the caller asked for (or was refused) to the audit log, the
 * kernel's identity as the actor and the client's $SUDO_USER a claim. */
static void audit_request(struct ipc_conn *c, const char *kind,
                          const char *request, const struct cmd_query *q,
                          const char *outcome)
{
    struct audit_entry *e = calloc(1, sizeof(*e));
    int err;

    if (!e)
        return;
    snprintf(e->user, sizeof(e->user), "%s", c->who.user);
    snprintf(e->kind, sizeof(e->kind), "%s", kind);
    snprintf(e->camera, sizeof(e->camera), "%s", q->camera ? q->camera : "");
    e->from_us = q->has_from ? q->from_us : 0;
    e->to_us = q->has_to ? q->to_us : 0;
    snprintf(e->detail, sizeof(e->detail),
             "nvr %s through the recorder's socket (uid %u, gid %u, pid "
             "%ld%s%s): %s",
             request, (unsigned)c->who.uid, (unsigned)c->who.gid,
             (long)c->who.pid, c->claim[0] ? "; claims sudo by " : "", c->claim,
             outcome);
    err = server_catalog(c->s);
    if (err == 0)
        err = audit_append(c->s->cat, e);
    if (err < 0)
        LOG_W("ipc", "cannot write the audit entry of %s's %s: %s", c->who.user,
              request, nvr_strerror(err));
    free(e);
}

static int render(struct ipc_server *s, uint8_t type, FILE *out, FILE *err,
                  const struct cmd_query *q)
{
    switch (type) {
    case IPC_MSG_STATUS:
        return cmd_status_render(out, err, s->cfg, s->cat, q);
    case IPC_MSG_RECORDINGS:
        return cmd_recordings_render(out, err, s->cfg, s->cat, q);
    case IPC_MSG_HOLD_ADD:
        return cmd_hold_add_render(out, err, s->cfg, s->cat, q);
    case IPC_MSG_HOLD_LIST:
        return cmd_hold_list_render(out, err, s->cfg, s->cat, q);
    case IPC_MSG_HOLD_RELEASE:
        return cmd_hold_release_render(out, err, s->cfg, s->cat, q);
    default:
        return cmd_audit_render(out, err, s->cfg, s->cat, q);
    }
}

/* The right a request needs, and on which camera (NULL: any one). A hold
 * to release is checked against the camera it holds. */
static int request_right(struct ipc_server *s, uint8_t type,
                         const struct cmd_query *q, enum nvr_right *right,
                         char *camera, size_t camera_size)
{
    struct hold h;
    int err;

    camera[0] = '\0';
    if (q->camera)
        snprintf(camera, camera_size, "%s", q->camera);
    switch (type) {
    case IPC_MSG_AUDIT:
        *right = NVR_RIGHT_AUDIT;
        /* The whole chain's check speaks of every camera's entries. */
        if (q->verify)
            snprintf(camera, camera_size, "*");
        return 0;
    case IPC_MSG_HOLD_ADD:
        *right = NVR_RIGHT_HOLD;
        return 0;
    case IPC_MSG_HOLD_RELEASE:
        *right = NVR_RIGHT_HOLD;
        memset(&h, 0, sizeof(h));
        err = catalog_holds_get(s->cat, q->hold_id, &h);
        if (err == 0)
            snprintf(camera, camera_size, "%s", h.camera);
        return err;
    case IPC_MSG_STATUS:
        camera[0] = '\0'; /* filtered per camera */
        *right = NVR_RIGHT_VIEW;
        return 0;
    default:
        *right = NVR_RIGHT_VIEW;
        return 0;
    }
}

/* Answers with the caller's message on stderr and an exit status. */
static int answer_message(struct ipc_conn *c, const char *request,
                          const char *msg, int exit_status)
{
    char line[NVR_ESCAPE_SIZE(ACCESS_WHY_MAX) + 64], shown[sizeof(line)];
    int n = snprintf(line, sizeof(line), "nvr %s: %s\n", request,
                     nvr_escape_text(msg, shown, sizeof(shown)));
    int err = send_output(c, 2, line, (size_t)NVR_MIN(n, (int)sizeof(line)));

    return err == 0 ? send_end(c, exit_status) : err;
}

static int serve(struct ipc_conn *c, uint8_t type, struct cmd_query *q)
{
    struct ipc_server *s = c->s;
    const char *request = ipc_msg_type_name(type);
    char why[ACCESS_WHY_MAX], outcome[64], camera[NVR_CAMERA_NAME_MAX];
    char *obuf = NULL, *ebuf = NULL;
    size_t olen = 0, elen = 0;
    enum nvr_right right;
    FILE *out, *errf;
    int rc, err;

    if ((type == IPC_MSG_RECORDINGS || type == IPC_MSG_HOLD_ADD) && !q->camera)
        return answer_message(c, request, "--camera is required",
                              NVR_EXIT_USAGE);
    err = server_catalog(s);
    if (err < 0) {
        snprintf(why, sizeof(why), "the recorder cannot open its catalog: %s",
                 nvr_strerror(err));
        return answer_message(c, request, why, NVR_EXIT_FAILURE);
    }
    err = request_right(s, type, q, &right, camera, sizeof(camera));
    if (err == -ENOENT && type == IPC_MSG_HOLD_RELEASE) {
        snprintf(why, sizeof(why), "no hold %lld", (long long)q->hold_id);
        return answer_message(c, request, why, NVR_EXIT_FAILURE);
    }
    if (err < 0) {
        snprintf(why, sizeof(why), "%s", nvr_strerror(err));
        return answer_message(c, request, why, NVR_EXIT_FAILURE);
    }
    if (!access_allows(s->cfg, &c->who, right, camera[0] ? camera : NULL, why,
                       sizeof(why))) {
        struct cmd_query aq = *q;

        LOG_I("ipc", "refused: %s", why);
        aq.camera = camera[0] ? camera : NULL;
        audit_request(c, AUDIT_REFUSED, request, &aq, why);
        return answer_message(c, request, why, NVR_EXIT_FAILURE);
    }
    out = open_memstream(&obuf, &olen);
    errf = open_memstream(&ebuf, &elen);
    if (!out || !errf) {
        if (out)
            fclose(out);
        if (errf)
            fclose(errf);
        free(obuf);
        free(ebuf);
        return -ENOMEM;
    }
    q->who = &c->who;
    rc = render(s, type, out, errf, q);
    fclose(out);
    fclose(errf);
    /* Holds write their own audit entries, with the caller as the user. */
    if (type != IPC_MSG_HOLD_ADD && type != IPC_MSG_HOLD_RELEASE) {
        snprintf(outcome, sizeof(outcome), "shown (exit %d)", rc);
        audit_request(c, AUDIT_VIEW, request, q, outcome);
    }
    err = send_output(c, 1, obuf, olen);
    if (err == 0)
        err = send_output(c, 2, ebuf, elen);
    if (err == 0)
        err = send_end(c, rc);
    free(obuf);
    free(ebuf);
    return err;
}

/* The query fields of a request; -EBADMSG when one is malformed. */
static int parse_query(const struct ipc_msg *m, char *camera,
                       size_t camera_size, char *reason, size_t reason_size,
                       struct cmd_query *q)
{
    int64_t v;
    int err;

    memset(q, 0, sizeof(*q));
    q->from_us = INT64_MIN;
    q->to_us = INT64_MAX;
    err = ipc_msg_text(m, IPC_TAG_CAMERA, camera, camera_size);
    if (err == 0 && strlen(camera) < NVR_CAMERA_NAME_MAX)
        q->camera = camera;
    else if (err != -ENOENT)
        return -EBADMSG;
    err = ipc_msg_text(m, IPC_TAG_REASON, reason, reason_size);
    if (err == 0)
        q->reason = reason;
    else if (err != -ENOENT)
        return -EBADMSG;
    if ((err = ipc_msg_int(m, IPC_TAG_ID, &q->hold_id)) < 0 && err != -ENOENT)
        return err;
    if ((err = ipc_msg_int(m, IPC_TAG_ALL, &v)) == 0)
        q->all = v != 0;
    else if (err != -ENOENT)
        return err;
    if ((err = ipc_msg_int(m, IPC_TAG_CHECK, &v)) == 0)
        q->check = v != 0;
    else if (err != -ENOENT)
        return err;
    if ((err = ipc_msg_int(m, IPC_TAG_FROM, &q->from_us)) == 0)
        q->has_from = 1;
    else if (err != -ENOENT)
        return err;
    if ((err = ipc_msg_int(m, IPC_TAG_TO, &q->to_us)) == 0)
        q->has_to = 1;
    else if (err != -ENOENT)
        return err;
    if ((err = ipc_msg_int(m, IPC_TAG_JSON, &v)) == 0)
        q->json = v != 0;
    else if (err != -ENOENT)
        return err;
    if ((err = ipc_msg_int(m, IPC_TAG_VERIFY, &v)) == 0)
        q->verify = v != 0;
    else if (err != -ENOENT)
        return err;
    return 0;
}

static int welcome(struct ipc_conn *c, const struct ipc_msg *m)
{
    struct ipc_enc *e = &c->s->enc;
    char groups[1024], rights[2048], msg[256];
    int64_t version;

    if (ipc_msg_int(m, IPC_TAG_VERSION, &version) < 0) {
        warn_client(c->s, c, "hello without a protocol version; disconnected");
        send_error_close(c, NVR_EXIT_FAILURE, "hello needs a version");
        return -EPROTO;
    }
    if (version != IPC_PROTO_VERSION) {
        warn_client(c->s, c,
                    "speaks protocol version %lld, this recorder %d; "
                    "disconnected",
                    (long long)version, IPC_PROTO_VERSION);
        snprintf(msg, sizeof(msg),
                 "this recorder speaks protocol version %d, the client "
                 "version %lld: use the nvr program of the recorder's version",
                 IPC_PROTO_VERSION, (long long)version);
        send_error_close(c, NVR_EXIT_FAILURE, msg);
        return -EPROTO;
    }
    if (ipc_msg_text(m, IPC_TAG_CLAIM, c->claim, sizeof(c->claim)) < 0)
        c->claim[0] = '\0';
    c->hello_done = 1;
    ipc_enc_begin(e, IPC_MSG_WELCOME);
    ipc_enc_int(e, IPC_TAG_VERSION, IPC_PROTO_VERSION);
    ipc_enc_text(e, IPC_TAG_STORAGE, c->s->cfg->storage_path);
    ipc_enc_int(e, IPC_TAG_UID, c->who.uid);
    ipc_enc_int(e, IPC_TAG_GID, c->who.gid);
    ipc_enc_int(e, IPC_TAG_PID, c->who.pid);
    ipc_enc_text(e, IPC_TAG_USER, c->who.user);
    ipc_enc_text(e, IPC_TAG_GROUPS,
                 access_groups_text(&c->who, groups, sizeof(groups)));
    ipc_enc_text(
        e, IPC_TAG_RIGHTS,
        access_rights_text(c->s->cfg, &c->who, rights, sizeof(rights)));
    return conn_send(c);
}

/* One decoded frame. A negative return has closed (or is closing) c. */
static int conn_frame(struct ipc_conn *c, const struct ipc_msg *m)
{
    char camera[IPC_MAX_TEXT], reason[IPC_MAX_TEXT];
    struct cmd_query q;
    int err;

    if (!c->hello_done) {
        if (m->type != IPC_MSG_HELLO) {
            warn_client(c->s, c,
                        "sent %s (type %u) before hello; "
                        "disconnected",
                        ipc_msg_type_name(m->type), m->type);
            send_error_close(c, NVR_EXIT_FAILURE, "hello first");
            return -EPROTO;
        }
        err = welcome(c, m);
    } else if (m->type >= IPC_MSG_STATUS && m->type <= IPC_MSG_HOLD_RELEASE) {
        err =
            parse_query(m, camera, sizeof(camera), reason, sizeof(reason), &q);
        if (err < 0) {
            warn_client(c->s, c, "sent a malformed %s request; disconnected",
                        ipc_msg_type_name(m->type));
            send_error_close(c, NVR_EXIT_USAGE, "malformed request");
            return -EPROTO;
        }
        err = serve(c, m->type, &q);
    } else {
        warn_client(c->s, c,
                    "sent an unknown request (type %u); "
                    "disconnected",
                    m->type);
        send_error_close(c, NVR_EXIT_FAILURE, "unknown request");
        return -EPROTO;
    }
    if (err < 0 && !c->closing)
        conn_close(c);
    return err;
}

static void timer_cb(uv_timer_t *t)
{
    struct ipc_conn *c = nvr_container_of(t, struct ipc_conn, timer);

    LOG_D("ipc", "client %s (pid %ld): idle for %d s, closed", c->who.user,
          (long)c->who.pid, IPC_SERVER_IDLE_MS / 1000);
    conn_close(c);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    struct ipc_conn *c = h->data;

    (void)suggested;
    *b = uv_buf_init((char *)c->buf + c->len,
                     (unsigned)(sizeof(c->buf) - c->len));
}

static void read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
    struct ipc_conn *c = st->data;

    (void)b;
    if (nread < 0) {
        conn_close(c);
        return;
    }
    c->len += (size_t)nread;
    while (!c->closing) {
        struct ipc_msg m;
        int n = ipc_decode(c->buf, c->len, &m);

        if (n == -EAGAIN)
            break;
        if (n < 0) {
            warn_client(c->s, c, "sent a %s; disconnected",
                        n == -EMSGSIZE ? "frame longer than the protocol "
                                         "allows"
                                       : "malformed frame");
            send_error_close(c, NVR_EXIT_FAILURE, "malformed frame");
            return;
        }
        uv_timer_again(&c->timer);
        if (conn_frame(c, &m) < 0)
            return;
        memmove(c->buf, c->buf + n, c->len - (size_t)n);
        c->len -= (size_t)n;
    }
}

static void connection_cb(uv_stream_t *server, int status)
{
    struct ipc_server *s = server->data;
    struct ucred cred;
    socklen_t cl = sizeof(cred);
    struct ipc_conn *c;
    uv_os_fd_t fd;

    if (status < 0) {
        LOG_W("ipc", "accept on %s: %s", s->cfg->socket_path,
              nvr_strerror(status));
        return;
    }
    c = calloc(1, sizeof(*c));
    if (!c || uv_pipe_init(&s->loop, &c->pipe, 0) < 0) {
        free(c);
        return;
    }
    c->s = s;
    c->pipe.data = c;
    c->timer.data = c;
    c->open_handles = 2;
    (void)uv_timer_init(&s->loop, &c->timer);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->n_clients++;
    snprintf(c->who.user, sizeof(c->who.user), "?");
    if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0 ||
        uv_fileno((uv_handle_t *)&c->pipe, &fd) < 0 ||
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0) {
        conn_close(c);
        return;
    }
    /* Identity from the kernel, never from what the client says. */
    access_caller_resolve(cred.uid, cred.gid, cred.pid, s->self, &c->who);
    if (s->n_clients > IPC_SERVER_MAX_CLIENTS) {
        warn_client(s, c, "more than %d clients at once; disconnected",
                    IPC_SERVER_MAX_CLIENTS);
        conn_close(c);
        return;
    }
    LOG_D("ipc", "client %s (uid %u, pid %ld) connected", c->who.user,
          (unsigned)cred.uid, (long)cred.pid);
    if (uv_timer_start(&c->timer, timer_cb, IPC_SERVER_IDLE_MS,
                       IPC_SERVER_IDLE_MS) < 0 ||
        uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, read_cb) < 0)
        conn_close(c);
}

/* ---- the thread ---- */

static void stop_cb(uv_async_t *a)
{
    struct ipc_server *s = nvr_container_of(a, struct ipc_server, stop);

    while (s->conns)
        conn_close(s->conns);
    uv_close((uv_handle_t *)&s->listener, NULL);
    uv_close((uv_handle_t *)&s->stop, NULL);
}

static void server_thread(void *arg)
{
    struct ipc_server *s = arg;

    (void)uv_run(&s->loop, UV_RUN_DEFAULT);
    catalog_close(s->cat);
    s->cat = NULL;
}

int ipc_server_new(const struct nvr_config *cfg, const char *catalog_path,
                   struct ipc_server **out)
{
    struct ipc_server *s = calloc(1, sizeof(*s));
    struct access_caller me;
    int err;

    if (!s)
        return -ENOMEM;
    s->cfg = cfg;
    s->catalog_path = catalog_path;
    s->self = geteuid();
    s->fd = -1;
    /* The user database's modules load now, while the file system is
     * still open; the sandbox would refuse them later. */
    access_caller_resolve(s->self, getegid(), getpid(), s->self, &me);
    err = ipc_socket_listen(cfg, &s->fd);
    if (err < 0)
        goto err_free;
    err = uv_loop_init(&s->loop);
    if (err < 0)
        goto err_close;
    s->loop_ready = 1;
    err = uv_async_init(&s->loop, &s->stop, stop_cb);
    if (err < 0)
        goto err_loop;
    err = uv_pipe_init(&s->loop, &s->listener, 0);
    if (err < 0) {
        uv_close((uv_handle_t *)&s->stop, NULL);
        goto err_loop;
    }
    s->listener.data = s;
    err = uv_pipe_open(&s->listener, s->fd);
    if (err == 0)
        err = uv_listen((uv_stream_t *)&s->listener, IPC_SERVER_BACKLOG,
                        connection_cb);
    if (err < 0) {
        uv_close((uv_handle_t *)&s->stop, NULL);
        uv_close((uv_handle_t *)&s->listener, NULL);
        goto err_loop;
    }
    LOG_I("ipc", "operators' socket %s (mode 0660, group %s)", cfg->socket_path,
          cfg->socket_group[0] ? cfg->socket_group : "the recorder's");
    *out = s;
    return 0;

err_loop:
    LOG_E("ipc", "operators' socket %s: %s", cfg->socket_path,
          nvr_strerror(err));
    (void)uv_run(&s->loop, UV_RUN_DEFAULT);
    (void)uv_loop_close(&s->loop);
err_close:
    close(s->fd); /* uv_close of the listener closed it too: harmless */
    (void)unlink(cfg->socket_path);
err_free:
    free(s);
    return err;
}

int ipc_server_fd(const struct ipc_server *s)
{
    return s ? s->fd : -1;
}

int ipc_server_start(struct ipc_server *s)
{
    int err = uv_thread_create(&s->thread, server_thread, s);

    if (err < 0) {
        LOG_E("ipc", "cannot start the socket's thread: %s", nvr_strerror(err));
        return err;
    }
    s->thread_started = 1;
    return 0;
}

void ipc_server_free(struct ipc_server *s)
{
    if (!s)
        return;
    if (s->thread_started) {
        uv_async_send(&s->stop);
        uv_thread_join(&s->thread);
    } else {
        stop_cb(&s->stop);
        (void)uv_run(&s->loop, UV_RUN_DEFAULT);
    }
    (void)uv_loop_close(&s->loop);
    /* Landlock may refuse: the next start removes the stale socket. */
    if (unlink(s->cfg->socket_path) != 0)
        LOG_D("ipc", "socket %s left behind: %s", s->cfg->socket_path,
              nvr_strerror(-errno));
    catalog_close(s->cat);
    free(s);
}
