/* SPDX-License-Identifier: MIT */
/*
 * Refcounted access units (see au.h).
 */
#include "config.h"
#include "nvr/base/au.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *nvr_codec_name(enum nvr_codec codec)
{
    switch (codec) {
    case NVR_CODEC_H264:
        return "h264";
    case NVR_CODEC_H265:
        return "h265";
    case NVR_CODEC_MJPEG:
        return "mjpeg";
    case NVR_CODEC_AAC:
        return "aac";
    case NVR_CODEC_PCMA:
        return "pcma";
    case NVR_CODEC_PCMU:
        return "pcmu";
    case NVR_CODEC_NONE:
        break;
    }
    return "unknown";
}

int nvr_au_new(size_t cap, struct nvr_au **out)
{
    struct nvr_au *au;

    if (cap > NVR_AU_MAX_BYTES)
        return -EMSGSIZE;
    au = malloc(sizeof(*au) + cap);
    if (!au)
        return -ENOMEM;
    memset(au, 0, sizeof(*au));
    atomic_init(&au->refs, 1);
    au->cap = cap;
    *out = au;
    return 0;
}

int nvr_au_reserve(struct nvr_au **au, size_t cap)
{
    struct nvr_au *grown;

    assert(atomic_load(&(*au)->refs) == 1);
    if (cap <= (*au)->cap)
        return 0;
    if (cap > NVR_AU_MAX_BYTES)
        return -EMSGSIZE;
    grown = realloc(*au, sizeof(*grown) + cap);
    if (!grown)
        return -ENOMEM;
    grown->cap = cap;
    *au = grown;
    return 0;
}

int nvr_au_append(struct nvr_au **au, const void *data, size_t len)
{
    size_t need = (*au)->len + len;
    int err;

    if (need < len || need > NVR_AU_MAX_BYTES)
        return -EMSGSIZE;
    if (need > (*au)->cap) {
        size_t cap = (*au)->cap ? (*au)->cap : 4096;
        while (cap < need)
            cap *= 2;
        if (cap > NVR_AU_MAX_BYTES)
            cap = NVR_AU_MAX_BYTES;
        err = nvr_au_reserve(au, cap);
        if (err < 0)
            return err;
    }
    memcpy((*au)->data + (*au)->len, data, len);
    (*au)->len = need;
    return 0;
}

void nvr_au_note_nal(struct nvr_au *au, size_t at)
{
    if (au->n_nals < NVR_AU_NAL_INDEX && at <= UINT32_MAX)
        au->nal_at[au->n_nals] = (uint32_t)at;
    /* Past the index (or an offset it cannot hold) the count says "not
     * indexed"; it stops one above so that it never wraps. */
    if (au->n_nals <= NVR_AU_NAL_INDEX)
        au->n_nals = at <= UINT32_MAX ? au->n_nals + 1 : NVR_AU_NAL_INDEX + 1;
}

void nvr_au_truncate(struct nvr_au *au, size_t len)
{
    if (len > au->len)
        return;
    au->len = len;
    if (len == 0)
        au->n_nals = 0;
    while (au->n_nals > 0 && au->n_nals <= NVR_AU_NAL_INDEX &&
           au->nal_at[au->n_nals - 1] >= len)
        au->n_nals--;
}

struct nvr_au *nvr_au_ref(struct nvr_au *au)
{
    atomic_fetch_add_explicit(&au->refs, 1, memory_order_relaxed);
    return au;
}

void nvr_au_unref(struct nvr_au *au)
{
    if (!au)
        return;
    if (atomic_fetch_sub_explicit(&au->refs, 1, memory_order_acq_rel) == 1)
        free(au);
}
