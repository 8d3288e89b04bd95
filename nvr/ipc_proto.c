/* SPDX-License-Identifier: MIT */
/*
 * Framing and fields of the operators' protocol (see ipc_proto.h). The
 * decoder trusts nothing: the length prefix is checked against
 * IPC_MAX_FRAME before anything is read, each field's length against what
 * is left of the frame, and the field count against IPC_MAX_FIELDS.
 */
#include "config.h"
#include "nvr/ipc_proto.h"

#include <errno.h>
#include <string.h>

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

int ipc_decode(const uint8_t *buf, size_t len, struct ipc_msg *out)
{
    uint32_t flen;
    size_t pos, end;

    if (len < IPC_HEADER_BYTES)
        return -EAGAIN;
    flen = get_be32(buf);
    if (flen == 0 || flen > IPC_MAX_FRAME)
        return -EMSGSIZE;
    if (len - IPC_HEADER_BYTES < flen)
        return -EAGAIN;
    end = IPC_HEADER_BYTES + (size_t)flen;
    memset(out, 0, sizeof(*out));
    out->type = buf[IPC_HEADER_BYTES];
    pos = IPC_HEADER_BYTES + 1;
    while (pos < end) {
        struct ipc_field *f;
        uint16_t vlen;

        if (end - pos < 3)
            return -EBADMSG;
        vlen = (uint16_t)(buf[pos + 1] << 8 | buf[pos + 2]);
        if (end - pos - 3 < vlen)
            return -EBADMSG;
        if (out->n_fields >= IPC_MAX_FIELDS)
            return -EBADMSG;
        if (ipc_msg_field(out, buf[pos]))
            return -EBADMSG; /* each tag once */
        f = &out->fields[out->n_fields++];
        f->tag = buf[pos];
        f->len = vlen;
        f->val = buf + pos + 3;
        pos += 3 + (size_t)vlen;
    }
    return (int)end;
}

const struct ipc_field *ipc_msg_field(const struct ipc_msg *m, uint8_t tag)
{
    for (int i = 0; i < m->n_fields; i++)
        if (m->fields[i].tag == tag)
            return &m->fields[i];
    return NULL;
}

int ipc_msg_int(const struct ipc_msg *m, uint8_t tag, int64_t *out)
{
    const struct ipc_field *f = ipc_msg_field(m, tag);
    uint64_t v = 0;

    if (!f)
        return -ENOENT;
    if (f->len != 8)
        return -EBADMSG;
    for (int i = 0; i < 8; i++)
        v = v << 8 | f->val[i];
    /* Two's complement without an implementation-defined conversion. */
    *out = v <= (uint64_t)INT64_MAX ? (int64_t)v : -(int64_t)(~v) - 1;
    return 0;
}

int ipc_msg_text(const struct ipc_msg *m, uint8_t tag, char *out,
                 size_t out_size)
{
    const struct ipc_field *f = ipc_msg_field(m, tag);

    if (!f)
        return -ENOENT;
    if (f->len > 0 && memchr(f->val, '\0', f->len))
        return -EBADMSG;
    if ((size_t)f->len >= out_size)
        return -EMSGSIZE;
    if (f->len > 0)
        memcpy(out, f->val, f->len);
    out[f->len] = '\0';
    return 0;
}

void ipc_enc_begin(struct ipc_enc *e, uint8_t type)
{
    e->len = IPC_HEADER_BYTES;
    e->buf[e->len++] = type;
    e->n_fields = 0;
    e->err = 0;
}

void ipc_enc_bytes(struct ipc_enc *e, uint8_t tag, const void *p, size_t n)
{
    if (e->err)
        return;
    if (n > UINT16_MAX || e->n_fields >= IPC_MAX_FIELDS ||
        sizeof(e->buf) - e->len < 3 + n) {
        e->err = -EMSGSIZE;
        return;
    }
    e->buf[e->len] = tag;
    e->buf[e->len + 1] = (uint8_t)(n >> 8);
    e->buf[e->len + 2] = (uint8_t)n;
    if (n > 0)
        memcpy(e->buf + e->len + 3, p, n);
    e->len += 3 + n;
    e->n_fields++;
}

void ipc_enc_int(struct ipc_enc *e, uint8_t tag, int64_t v)
{
    uint8_t b[8];
    uint64_t u = (uint64_t)v;

    for (int i = 7; i >= 0; i--) {
        b[i] = (uint8_t)u;
        u >>= 8;
    }
    ipc_enc_bytes(e, tag, b, sizeof(b));
}

void ipc_enc_text(struct ipc_enc *e, uint8_t tag, const char *s)
{
    ipc_enc_bytes(e, tag, s, strlen(s));
}

int ipc_enc_finish(struct ipc_enc *e)
{
    if (e->err)
        return e->err;
    put_be32(e->buf, (uint32_t)(e->len - IPC_HEADER_BYTES));
    return (int)e->len;
}

const char *ipc_msg_type_name(uint8_t type)
{
    switch (type) {
    case IPC_MSG_HELLO:
        return "hello";
    case IPC_MSG_STATUS:
        return "status";
    case IPC_MSG_RECORDINGS:
        return "recordings";
    case IPC_MSG_AUDIT:
        return "audit";
    case IPC_MSG_HOLD_ADD:
        return "hold add";
    case IPC_MSG_HOLD_LIST:
        return "hold list";
    case IPC_MSG_HOLD_RELEASE:
        return "hold release";
    case IPC_MSG_WELCOME:
        return "welcome";
    case IPC_MSG_OUTPUT:
        return "output";
    case IPC_MSG_END:
        return "end";
    case IPC_MSG_ERROR:
        return "error";
    default:
        return "unknown";
    }
}
