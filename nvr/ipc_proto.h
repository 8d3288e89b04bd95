/* SPDX-License-Identifier: MIT */
/*
 * The operators' protocol on the recorder's Unix socket (nvr/ipc_server.c
 * serves it, nvr/ipc_client.c speaks it): framing and field encoding only,
 * no I/O, so the decoder can be fuzzed on its own.
 *
 * A frame is a 4-byte big-endian length L followed by L bytes: one byte of
 * message type, then fields. A field is a 1-byte tag, a 2-byte big-endian
 * value length and the value. Integers are 8-byte big-endian two's
 * complement; text is UTF-8 without NUL bytes. Every length is bounded:
 * L <= IPC_MAX_FRAME, at most IPC_MAX_FIELDS fields, each tag at most once.
 *
 * A conversation: the client sends IPC_MSG_HELLO with its IPC_TAG_VERSION;
 * the recorder answers IPC_MSG_WELCOME (the caller's identity and rights as
 * the recorder sees them) or IPC_MSG_ERROR and closes when it does not
 * speak that version. Then requests (status, recordings, audit, hold
 * add/list/release), each
 * answered by IPC_MSG_OUTPUT frames (text for the client's stdout or
 * stderr) and one IPC_MSG_END with the command's exit status.
 */
#ifndef NVR_IPC_PROTO_H
#define NVR_IPC_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "nvr/base/compiler.h"

#define IPC_PROTO_VERSION 1
#define IPC_HEADER_BYTES  4     /* the length prefix */
#define IPC_MAX_FRAME     65536 /* bytes after the length prefix */
#define IPC_MAX_FIELDS    32    /* fields of one frame */
#define IPC_MAX_TEXT      4096  /* bytes of a text field of a request */
#define IPC_OUTPUT_CHUNK  60000 /* bytes of output carried per frame */

enum ipc_msg_type {
    /* client -> recorder */
    IPC_MSG_HELLO = 1,        /* VERSION */
    IPC_MSG_STATUS = 2,       /* JSON */
    IPC_MSG_RECORDINGS = 3,   /* CAMERA, [FROM], [TO], JSON */
    IPC_MSG_AUDIT = 4,        /* [CAMERA], [FROM], [TO], JSON, VERIFY */
    IPC_MSG_HOLD_ADD = 5,     /* CAMERA, FROM, TO, REASON, JSON */
    IPC_MSG_HOLD_LIST = 6,    /* [CAMERA], ALL, JSON */
    IPC_MSG_HOLD_RELEASE = 7, /* ID */
    /* recorder -> client */
    IPC_MSG_WELCOME = 64, /* VERSION, UID, GID, PID, USER, GROUPS, RIGHTS */
    IPC_MSG_OUTPUT = 65,  /* STREAM, DATA */
    IPC_MSG_END = 66,     /* EXIT */
    IPC_MSG_ERROR = 67,   /* EXIT, TEXT: the connection is then closed */
};

enum ipc_tag {
    IPC_TAG_VERSION = 1,  /* integer */
    IPC_TAG_CAMERA = 2,   /* text */
    IPC_TAG_FROM = 3,     /* integer, UTC microseconds */
    IPC_TAG_TO = 4,       /* integer, UTC microseconds */
    IPC_TAG_JSON = 5,     /* integer 0/1 */
    IPC_TAG_VERIFY = 6,   /* integer 0/1 */
    IPC_TAG_CLAIM = 7,    /* text: $SUDO_USER, noted in the audit entry as
                             a claim, never taken as the actor */
    IPC_TAG_REASON = 8,   /* text: a hold's reason */
    IPC_TAG_ID = 9,       /* integer: a hold's id */
    IPC_TAG_ALL = 10,     /* integer 0/1: released holds too */
    IPC_TAG_CHECK = 11,   /* integer 0/1: nvr status --check */
    IPC_TAG_STORAGE = 12, /* text: the storage the recorder records into */
    IPC_TAG_UID = 16,     /* integer */
    IPC_TAG_GID = 17,     /* integer */
    IPC_TAG_PID = 18,     /* integer */
    IPC_TAG_USER = 19,    /* text */
    IPC_TAG_GROUPS = 20,  /* text, ", "-separated */
    IPC_TAG_RIGHTS = 21,  /* text, one line per right */
    IPC_TAG_STREAM = 32,  /* integer: 1 stdout, 2 stderr */
    IPC_TAG_DATA = 33,    /* bytes */
    IPC_TAG_EXIT = 34,    /* integer: the command's exit status */
    IPC_TAG_TEXT = 35,    /* text */
};

struct ipc_field {
    uint8_t tag;
    uint16_t len;
    const uint8_t *val; /* borrowed from the decoded buffer */
};

/* A decoded frame; fields borrow from the buffer given to the decoder. */
struct ipc_msg {
    uint8_t type;
    int n_fields;
    struct ipc_field fields[IPC_MAX_FIELDS];
};

/*
 * Decodes one frame from the start of buf (len bytes). Returns the bytes
 * the frame takes (> 0) with *out filled, -EAGAIN when buf holds only part
 * of a frame, -EMSGSIZE when the length prefix exceeds IPC_MAX_FRAME (or is
 * 0), or -EBADMSG for a malformed body (a field running past the frame,
 * more than IPC_MAX_FIELDS fields, a repeated tag). Pure: no I/O, no
 * globals. Any thread.
 */
NVR_NODISCARD int ipc_decode(const uint8_t *buf, size_t len,
                             struct ipc_msg *out);

/* The field with tag, or NULL. */
const struct ipc_field *ipc_msg_field(const struct ipc_msg *m, uint8_t tag);

/* Reads an integer field: 0, -ENOENT (absent) or -EBADMSG (not 8 bytes). */
NVR_NODISCARD int ipc_msg_int(const struct ipc_msg *m, uint8_t tag,
                              int64_t *out);

/*
 * Copies a text field into out (out_size bytes, NUL-terminated): 0,
 * -ENOENT (absent), -EBADMSG (holds a NUL byte) or -EMSGSIZE (does not
 * fit).
 */
NVR_NODISCARD int ipc_msg_text(const struct ipc_msg *m, uint8_t tag, char *out,
                               size_t out_size);

/*
 * The encoder: a frame built in a fixed buffer. ipc_enc_begin() starts a
 * frame of `type`; the add calls append fields; ipc_enc_finish() writes
 * the length prefix and returns the frame's total length (prefix included)
 * or the first error met: -EMSGSIZE (the frame or a value is too long, too
 * many fields). buf and len are what to send.
 */
struct ipc_enc {
    uint8_t buf[IPC_HEADER_BYTES + IPC_MAX_FRAME];
    size_t len;
    int n_fields;
    int err;
};

void ipc_enc_begin(struct ipc_enc *e, uint8_t type);
void ipc_enc_int(struct ipc_enc *e, uint8_t tag, int64_t v);
void ipc_enc_text(struct ipc_enc *e, uint8_t tag, const char *s);
void ipc_enc_bytes(struct ipc_enc *e, uint8_t tag, const void *p, size_t n);
NVR_NODISCARD int ipc_enc_finish(struct ipc_enc *e);

/* "hello", "status", "hold add", ...; "unknown" for anything else. */
const char *ipc_msg_type_name(uint8_t type);

#endif
