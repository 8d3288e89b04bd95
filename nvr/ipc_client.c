/* SPDX-License-Identifier: MIT */
/*
 * The operator's side of the socket (see ipc_client.h): connect, hello,
 * one request, then OUTPUT frames copied out until END.
 */
#include "config.h"
#include "nvr/ipc_client.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "nvr/base/err.h"
#include "nvr/base/perm.h"
#include "nvr/ipc_proto.h"

struct conn {
    int fd;
    const char *path;
    const char *cmd;
    const char *storage; /* the config's storage */
    FILE *err;
    uint8_t *buf; /* IPC_HEADER_BYTES + IPC_MAX_FRAME */
    size_t len;   /* bytes in buf */
    size_t taken; /* bytes of the last frame returned */
};

static int send_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The next frame into *m (borrowing c->buf until the next call). */
static int read_frame(struct conn *c, struct ipc_msg *m)
{
    memmove(c->buf, c->buf + c->taken, c->len - c->taken);
    c->len -= c->taken;
    c->taken = 0;
    for (;;) {
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int n = ipc_decode(c->buf, c->len, m), pr;
        ssize_t r;

        if (n > 0) {
            c->taken = (size_t)n;
            return 0;
        }
        if (n != -EAGAIN)
            return n;
        pr = poll(&pfd, 1, IPC_CLIENT_TIMEOUT_MS);
        if (pr == 0)
            return -ETIMEDOUT;
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            return -errno;
        r = recv(c->fd, c->buf + c->len,
                 IPC_HEADER_BYTES + IPC_MAX_FRAME - c->len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return -ECONNRESET;
        c->len += (size_t)r;
    }
}

/* Connects; -ENOTCONN when nobody listens at path. */
static int connect_socket(struct conn *c)
{
    struct sockaddr_un sa;
    int fd, err;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(c->path) >= sizeof(sa.sun_path))
        return -ENOTCONN; /* the config loader refuses such a path */
    memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        c->fd = fd;
        return 0;
    }
    err = -errno;
    close(fd);
    if (err == -ENOENT || err == -ECONNREFUSED || err == -ENOTDIR)
        return -ENOTCONN;
    return err;
}

static void say_refused(const struct conn *c)
{
    char why[NVR_PERM_WHY_MAX];

    if (nvr_perm_explain(c->path, NVR_PERM_WRITE, why, sizeof(why)) != 0)
        snprintf(why, sizeof(why), "refused by the system");
    fprintf(c->err,
            "nvr %s: cannot connect to the recorder's socket %s: permission "
            "denied: %s (ask to be put in the socket's group, [access] "
            "socket_group)\n",
            c->cmd, c->path, why);
}

/* Whether the recorder that answered records into the config's storage:
 * two recorders given the same socket path (the default) would otherwise
 * answer for each other's cameras. Says so when not. */
static bool same_storage(const struct conn *c, const struct ipc_msg *m)
{
    char theirs[IPC_MAX_TEXT], a[PATH_MAX], b[PATH_MAX];

    if (ipc_msg_text(m, IPC_TAG_STORAGE, theirs, sizeof(theirs)) < 0)
        return true; /* a recorder that does not say */
    if (strcmp(theirs, c->storage) == 0 ||
        (realpath(theirs, a) && realpath(c->storage, b) && strcmp(a, b) == 0))
        return true;
    fprintf(c->err,
            "nvr %s: the recorder at %s records into %s, not %s: reading "
            "the storage directly (give each recorder a socket of its own, "
            "[access] socket)\n",
            c->cmd, c->path, theirs, c->storage);
    return false;
}

/* 0: welcomed; 1: refused, with the recorder's message printed and its
 * exit status in *code; -ENOTCONN: another storage's recorder answered;
 * or a negative errno. */
static int hello(struct conn *c, struct ipc_enc *e, int *code)
{
    const char *sudo = getenv("SUDO_USER");
    struct ipc_msg m;
    char text[IPC_MAX_TEXT];
    int64_t v = NVR_EXIT_FAILURE;
    int n;

    memset(&m, 0, sizeof(m));
    ipc_enc_begin(e, IPC_MSG_HELLO);
    ipc_enc_int(e, IPC_TAG_VERSION, IPC_PROTO_VERSION);
    if (sudo && sudo[0] && strlen(sudo) < 64)
        ipc_enc_text(e, IPC_TAG_CLAIM, sudo);
    n = ipc_enc_finish(e);
    if (n < 0)
        return n;
    n = send_all(c->fd, e->buf, (size_t)n);
    if (n == 0)
        n = read_frame(c, &m);
    if (n < 0)
        return n;
    if (m.type == IPC_MSG_WELCOME)
        return same_storage(c, &m) ? 0 : -ENOTCONN;
    if (m.type == IPC_MSG_ERROR &&
        ipc_msg_text(&m, IPC_TAG_TEXT, text, sizeof(text)) == 0) {
        if (ipc_msg_int(&m, IPC_TAG_EXIT, &v) < 0 || v < 0 || v > 255)
            v = NVR_EXIT_FAILURE;
        fprintf(c->err, "nvr %s: the recorder at %s: %s\n", c->cmd, c->path,
                text);
        *code = (int)v;
        return 1;
    }
    return -EPROTO;
}

static void encode_request(struct ipc_enc *e, uint8_t type,
                           const struct cmd_query *q)
{
    ipc_enc_begin(e, type);
    if (q->camera)
        ipc_enc_text(e, IPC_TAG_CAMERA, q->camera);
    if (q->has_from)
        ipc_enc_int(e, IPC_TAG_FROM, q->from_us);
    if (q->has_to)
        ipc_enc_int(e, IPC_TAG_TO, q->to_us);
    ipc_enc_int(e, IPC_TAG_JSON, q->json != 0);
    ipc_enc_int(e, IPC_TAG_VERIFY, q->verify != 0);
    if (q->reason)
        ipc_enc_text(e, IPC_TAG_REASON, q->reason);
    if (q->hold_id)
        ipc_enc_int(e, IPC_TAG_ID, q->hold_id);
    ipc_enc_int(e, IPC_TAG_ALL, q->all != 0);
    if (q->check)
        ipc_enc_int(e, IPC_TAG_CHECK, 1);
}

/* Copies the answer out until END; the exit status or a negative errno. */
static int answer(struct conn *c, FILE *out)
{
    struct ipc_msg m;
    int64_t v;
    int err;

    memset(&m, 0, sizeof(m));
    for (;;) {
        const struct ipc_field *data;

        err = read_frame(c, &m);
        if (err < 0)
            return err;
        switch (m.type) {
        case IPC_MSG_OUTPUT:
            data = ipc_msg_field(&m, IPC_TAG_DATA);
            if (!data || ipc_msg_int(&m, IPC_TAG_STREAM, &v) < 0)
                return -EPROTO;
            fwrite(data->val, 1, data->len, v == 2 ? c->err : out);
            break;
        case IPC_MSG_END:
        case IPC_MSG_ERROR:
            if (m.type == IPC_MSG_ERROR) {
                char text[IPC_MAX_TEXT];

                if (ipc_msg_text(&m, IPC_TAG_TEXT, text, sizeof(text)) == 0)
                    fprintf(c->err, "nvr %s: %s\n", c->cmd, text);
            }
            if (ipc_msg_int(&m, IPC_TAG_EXIT, &v) < 0 || v < 0 || v > 255)
                return -EPROTO;
            return (int)v;
        default:
            return -EPROTO;
        }
    }
}

int ipc_client_request(const struct nvr_config *cfg, const char *cmd,
                       uint8_t type, const struct cmd_query *q, FILE *out,
                       FILE *err)
{
    struct conn c = {.fd = -1,
                     .path = cfg->socket_path,
                     .cmd = cmd,
                     .storage = cfg->storage_path,
                     .err = err};
    struct ipc_enc *e = NULL;
    int rc = connect_socket(&c), n, code = NVR_EXIT_FAILURE;

    if (rc == -ENOTCONN)
        return rc;
    if (rc == -EACCES || rc == -EPERM) {
        say_refused(&c);
        return NVR_EXIT_FAILURE;
    }
    if (rc < 0)
        goto fail;
    e = malloc(sizeof(*e));
    c.buf = malloc(IPC_HEADER_BYTES + IPC_MAX_FRAME);
    if (!e || !c.buf) {
        rc = -ENOMEM;
        goto fail;
    }
    rc = hello(&c, e, &code);
    if (rc == 1) {
        rc = code;
        goto out;
    }
    if (rc == -ENOTCONN)
        goto out;
    if (rc < 0)
        goto fail;
    encode_request(e, type, q);
    n = ipc_enc_finish(e);
    rc = n < 0 ? n : send_all(c.fd, e->buf, (size_t)n);
    if (rc == 0)
        rc = answer(&c, out);
    if (rc >= 0)
        goto out;
fail:
    fprintf(err, "nvr %s: the recorder's socket %s: %s\n", cmd, c.path,
            rc == -EPROTO ? "the answer breaks the protocol"
                          : nvr_strerror(rc));
    rc = NVR_EXIT_FAILURE;
out:
    if (c.fd >= 0)
        close(c.fd);
    free(c.buf);
    free(e);
    fflush(out);
    return rc;
}
