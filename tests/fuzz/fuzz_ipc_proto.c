/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the operators' protocol decoder (nvr/ipc_proto.c) the way the
 * recorder's socket server feeds it: frames decoded back to back from one
 * buffer until it asks for more or refuses, every field read as an integer
 * and as text. A decoded frame re-encodes to the same bytes.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nvr/ipc_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ipc_enc enc;

static void check_frame(const uint8_t *frame, int n, const struct ipc_msg *m)
{
    char text[IPC_MAX_TEXT];
    int64_t v;

    if (n <= IPC_HEADER_BYTES || n > IPC_HEADER_BYTES + IPC_MAX_FRAME ||
        m->n_fields < 0 || m->n_fields > IPC_MAX_FIELDS)
        abort();
    ipc_enc_begin(&enc, m->type);
    for (int i = 0; i < m->n_fields; i++) {
        const struct ipc_field *f = &m->fields[i];
        int rc;

        if (f->val < frame || f->val + f->len > frame + n)
            abort();
        rc = ipc_msg_int(m, f->tag, &v);
        if (rc != 0 && rc != -EBADMSG)
            abort();
        rc = ipc_msg_text(m, f->tag, text, sizeof(text));
        if (rc == 0 && strlen(text) != f->len)
            abort();
        ipc_enc_bytes(&enc, f->tag, f->val, f->len);
    }
    if (ipc_enc_finish(&enc) != n || memcmp(enc.buf, frame, (size_t)n) != 0)
        abort();
    (void)ipc_msg_type_name(m->type);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ipc_msg m;
    size_t pos = 0;

    while (pos < size) {
        int n = ipc_decode(data + pos, size - pos, &m);

        if (n == -EAGAIN || n == -EMSGSIZE || n == -EBADMSG)
            break;
        if (n <= 0 || (size_t)n > size - pos)
            abort();
        check_frame(data + pos, n, &m);
        pos += (size_t)n;
    }
    return 0;
}
