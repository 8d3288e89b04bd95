/* SPDX-License-Identifier: MIT */
/*
 * H.264 depacketizer (RFC 6184, packetization modes 0 and 1): single NAL
 * unit packets, STAP-A aggregates (5.7.1) and FU-A fragments (5.8) are
 * reassembled into access units of Annex B NAL units with 4-byte start
 * codes, bytes kept exactly as the camera sent them.
 *
 * An access unit ends at the RTP marker bit on a VCL NAL unit, or when a
 * packet with another timestamp arrives. Cameras set the marker on SPS,
 * PPS or SEI packets, so the marker on those is ignored, and NAL units
 * that arrive without any picture (parameter sets sent with their own
 * timestamp) are carried into the next unit instead of being emitted
 * alone. Loss makes the unit it touches corrupt; corrupt units are dropped
 * and so is everything after them up to the next IDR picture, so no
 * recorded frame references data that never arrived. No unit is emitted
 * before both SPS and PPS are known.
 *
 * One nvr_au is grown in place while a unit is built and is handed to the
 * emit callback whole; dropped units reuse it. Payload bytes are copied
 * once, from the RTP packet into the unit. Units are allocated at about
 * the size of the last unit of their kind (IDR or not), so an IDR picture,
 * often ten times a P picture, does not grow by reallocation (copying what
 * it holds each time) and a P picture does not hold an IDR-sized buffer.
 */
#include "config.h"
#include "ingest/depack.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/dts_order.h"
#include "ingest/h264_sps.h"
#include "nvr/base/compiler.h"

/* Each parameter set must leave room for the other and two start codes in
 * nvr_track_info.params. */
#define H264_DEPACK_MAX_PARAM ((NVR_PARAMS_MAX_BYTES - 8) / 2)
/* Smallest allocation for a unit; later ones follow the previous unit of
 * the same kind. */
#define H264_DEPACK_MIN_CAP ((size_t)16 * 1024)

/* RFC 6184 8.2.1: the RTP clock of H.264 is 90 kHz. */
#define H264_DEPACK_CLOCK 90000

#define H264_NAL_SLICE    1
#define H264_NAL_IDR      5
#define H264_NAL_SEI      6
#define H264_NAL_SPS      7
#define H264_NAL_PPS      8
#define H264_NAL_AUD      9
#define H264_NAL_STAP_A   24
#define H264_NAL_FU_A     28

struct h264_depack {
    int pt; /* the track's payload type; others are ignored */

    struct nvr_au *au;   /* unit being built (refcount 1), or NULL */
    size_t cap_hint;     /* bytes to allocate for the next non-IDR unit */
    size_t key_cap_hint; /* and for the next IDR unit */
    int au_open;         /* packets with timestamp au_ts are being added */
    int64_t au_ts;       /* unwrapped RTP timestamp, 90 kHz */
    int au_vcl;          /* holds (part of) a slice */
    int au_idr;          /* holds an IDR slice */
    int au_corrupt;      /* lost or rejected data: drop at the end */
    enum nvr_refusal corrupt_why; /* why, counted when it is dropped */
    int dup_refused;              /* the unit repeating last_pts was counted */
    int head_check;   /* after loss: the unit's first slice must be the
                         picture's first, or its head was lost */
    int need_idr;     /* drop units until the next IDR */
    int emitted;      /* a unit was emitted; last_pts is valid */
    int64_t last_pts; /* pts of the last emitted unit */

    int in_fu;       /* an FU-A NAL unit is being reassembled */
    int fu_skip;     /* drop fragments until the next start */
    uint8_t fu_type; /* its NAL unit type */
    size_t fu_start; /* offset of its start code in au->data */

    uint8_t sps[H264_DEPACK_MAX_PARAM];
    size_t sps_len;
    uint8_t pps[H264_DEPACK_MAX_PARAM];
    size_t pps_len;
    int width, height;    /* from the SPS, pixels */
    uint32_t params_gen;  /* bumped whenever SPS or PPS bytes change */
    struct dts_order dts; /* decode times from the SPS reorder depth */

    struct depack_stats stats;
};

static const uint8_t h264_start_code[4] = {0, 0, 0, 1};

static int h264_is_vcl(unsigned type)
{
    return type >= H264_NAL_SLICE && type <= H264_NAL_IDR;
}

/* Stores an SPS or PPS if it differs from the current one. Trailing zero
 * bytes (trailing_zero_8bits, or padding some cameras add to
 * sprop-parameter-sets) are not part of the NAL unit and are not
 * compared. An SPS is kept only if its picture size can be read. */
static void h264_note_param(struct h264_depack *st, const uint8_t *nal,
                            size_t len)
{
    unsigned type;
    struct h264_sps_info info;

    while (len > 0 && nal[len - 1] == 0)
        len--;
    if (len < 2 || len > H264_DEPACK_MAX_PARAM)
        return;
    type = nal[0] & 0x1fu;
    if (type == H264_NAL_SPS) {
        if (len == st->sps_len && memcmp(st->sps, nal, len) == 0)
            return;
        if (h264_sps_parse(nal, len, &info) < 0)
            return;
        memcpy(st->sps, nal, len);
        st->sps_len = len;
        st->width = info.width;
        st->height = info.height;
        dts_order_set_depth(&st->dts, info.max_num_reorder_frames);
        st->params_gen++;
    } else if (type == H264_NAL_PPS) {
        if (len == st->pps_len && memcmp(st->pps, nal, len) == 0)
            return;
        memcpy(st->pps, nal, len);
        st->pps_len = len;
        st->params_gen++;
    }
}

/* Appends to the unit being built. After a failure (too big, no memory)
 * the unit is corrupt and nothing more is added to it. */
static void h264_append(struct h264_depack *st, const uint8_t *data, size_t len)
{
    if (st->au_corrupt)
        return;
    int err = 0;

    if (!st->au)
        err = nvr_au_new(st->au_idr ? st->key_cap_hint : st->cap_hint, &st->au);
    if (err == 0)
        err = nvr_au_append(&st->au, data, len);
    if (err < 0) {
        st->au_corrupt = 1;
        st->corrupt_why =
            err == -EMSGSIZE ? NVR_REFUSAL_TOO_LARGE : NVR_REFUSAL_NO_MEMORY;
    }
}

/* Appends a NAL unit's start code and notes where it is, so that the
 * writer need not scan the unit for it. */
static void h264_append_start(struct h264_depack *st)
{
    size_t at = st->au ? st->au->len : 0;

    h264_append(st, h264_start_code, sizeof(h264_start_code));
    if (!st->au_corrupt && st->au)
        nvr_au_note_nal(st->au, at);
}

/* Called for the start of every NAL unit added to the unit. */
static void h264_nal_begin(struct h264_depack *st, uint8_t hdr,
                           const uint8_t *rest, size_t rest_len)
{
    unsigned type = hdr & 0x1fu;

    if (st->head_check) {
        /* Slices come after every other NAL unit of a picture (7.4.1.2.3),
         * so a unit that starts with one whose first_mb_in_slice (ue(v),
         * 0 is the single bit 1) is not 0 lost its first slice. */
        st->head_check = 0;
        if (h264_is_vcl(type) && !(rest_len > 0 && (rest[0] & 0x80u)))
            st->au_corrupt = 1;
    }
    if (h264_is_vcl(type)) {
        st->au_vcl = 1;
        if (type == H264_NAL_IDR && !st->au_idr) {
            st->au_idr = 1;
            /* Room for the whole picture now, while the unit holds only
             * its parameter sets. On failure appending grows the unit, or
             * marks it corrupt. */
            if (st->au && !st->au_corrupt) {
                int err = nvr_au_reserve(&st->au, st->key_cap_hint);

                (void)err;
            }
        }
    }
}

/* Adds one whole NAL unit (single packet or STAP-A part). */
static void h264_add_nal(struct h264_depack *st, const uint8_t *nal, size_t len)
{
    h264_nal_begin(st, nal[0], nal + 1, len - 1);
    h264_append_start(st);
    h264_append(st, nal, len);
    h264_note_param(st, nal, len);
}

/* Abandons a partly reassembled FU-A NAL unit. Losing part of a slice
 * makes the picture corrupt; losing an SEI or parameter set does not. */
static void h264_drop_fu(struct h264_depack *st)
{
    if (!st->in_fu)
        return;
    st->in_fu = 0;
    if (st->au && st->fu_start <= st->au->len)
        nvr_au_truncate(st->au, st->fu_start);
    if (h264_is_vcl(st->fu_type))
        st->au_corrupt = 1;
}

/* Ends the unit being built: emits it, drops it, or, if it holds no
 * picture yet, keeps its NAL units for the next one. */
static void h264_finish(struct h264_depack *st, depack_emit_cb emit, void *user)
{
    struct nvr_au *au;
    int64_t dts;

    h264_drop_fu(st);
    if (!st->au_open)
        return;
    st->au_open = 0;
    if (!st->au_vcl && !st->au_corrupt)
        return;
    if (st->au_corrupt || !st->sps_len || !st->pps_len ||
        (st->need_idr && !st->au_idr)) {
        enum nvr_refusal why = st->au_corrupt ? st->corrupt_why
                               : !st->sps_len || !st->pps_len
                                   ? NVR_REFUSAL_NO_PARAMS
                                   : NVR_REFUSAL_NO_KEYFRAME;

        if (st->au_corrupt)
            st->need_idr = 1;
        if (st->au_vcl)
            depack_refuse(&st->stats, why);
        st->corrupt_why = NVR_REFUSAL_INCOMPLETE;
        if (st->au &&
            st->au->cap > 2 * NVR_MAX(st->cap_hint, st->key_cap_hint)) {
            /* Do not keep an oversized buffer around for the next unit. */
            nvr_au_unref(st->au);
            st->au = NULL;
        } else if (st->au) {
            nvr_au_truncate(st->au, 0);
        }
        st->au_vcl = st->au_idr = st->au_corrupt = 0;
        return;
    }
    if (dts_order_next(&st->dts, st->au_ts, &dts) != 0) {
        /* Reordered deeper than the SPS said (or than seen before): the
         * decode times restart, and decoding needs the next IDR. */
        st->need_idr = 1;
        depack_refuse(&st->stats, NVR_REFUSAL_BAD_TIMESTAMP);
        nvr_au_truncate(st->au, 0);
        st->au_vcl = st->au_idr = 0;
        return;
    }
    au = st->au;
    st->au = NULL;
    st->need_idr = 0;
    au->track = 0;
    au->flags = st->au_idr ? NVR_AU_KEY : 0;
    au->pts = st->au_ts;
    au->dts = dts;
    au->wall_us = 0;
    au->params_gen = st->params_gen;
    st->au_vcl = st->au_idr = 0;
    /* The next unit of this kind starts with a little more room than this
     * one used (never more than nvr_au allows: au->cap is within its
     * limit), so it rarely reallocates while growing. */
    if (au->flags & NVR_AU_KEY)
        st->key_cap_hint = NVR_MAX(H264_DEPACK_MIN_CAP,
                                   NVR_MIN(au->cap, au->len + au->len / 4));
    else
        st->cap_hint = NVR_MAX(H264_DEPACK_MIN_CAP,
                               NVR_MIN(au->cap, au->len + au->len / 4));
    st->stats.aus++;
    st->emitted = 1;
    st->last_pts = au->pts;
    emit(user, au);
}

/* RFC 6184 5.8. Returns the NAL type of an end fragment (so the marker
 * bit can end the unit even when the NAL unit was dropped), or -1; sets
 * *err to a negative errno for a discarded fragment. */
static int h264_push_fu(struct h264_depack *st, const uint8_t *p, size_t len,
                        int *err)
{
    uint8_t fu_hdr, hdr;
    unsigned type;

    if (len < 2) {
        *err = -EBADMSG;
        return -1;
    }
    /* The reserved R bit (0x20) is ignored, as cameras set it. */
    fu_hdr = p[1];
    type = fu_hdr & 0x1fu;
    if ((fu_hdr & 0x80u) && (type == 0 || type >= H264_NAL_STAP_A)) {
        /* An aggregate or reserved type cannot be fragmented. */
        h264_drop_fu(st);
        st->fu_skip = 1;
        *err = -EBADMSG;
        return -1;
    }
    if (fu_hdr & 0x80u) {
        h264_drop_fu(st);
        st->fu_skip = 0;
        hdr = (uint8_t)((p[0] & 0xe0u) | type);
        h264_nal_begin(st, hdr, p + 2, len - 2);
        st->fu_start = st->au ? st->au->len : 0;
        st->fu_type = (uint8_t)type;
        st->in_fu = 1;
        h264_append_start(st);
        h264_append(st, &hdr, 1);
    } else if (!st->in_fu) {
        /* A fragment of a NAL unit whose start never arrived, or the rest
         * of one already dropped (after loss or a type change): only the
         * first such fragment counts as a bad packet. */
        if (h264_is_vcl(type)) {
            st->au_vcl = 1;
            st->au_corrupt = 1;
        }
        if (!st->fu_skip)
            *err = -EBADMSG;
        st->fu_skip = 1;
        return (fu_hdr & 0x40u) ? (int)type : -1;
    } else if (type != st->fu_type) {
        h264_drop_fu(st);
        st->fu_skip = 1;
        *err = -EBADMSG;
        return (fu_hdr & 0x40u) ? (int)type : -1;
    }
    h264_append(st, p + 2, len - 2);
    if (!(fu_hdr & 0x40u))
        return -1;
    st->in_fu = 0;
    if (!st->au_corrupt && st->au && st->fu_start + 4 <= st->au->len)
        h264_note_param(st, st->au->data + st->fu_start + 4,
                        st->au->len - st->fu_start - 4);
    return (int)type;
}

/* RFC 6184 5.7.1. A size running past the packet ends it: the parts
 * before are kept, the truncated one is dropped. */
static int h264_push_stap_a(struct h264_depack *st, const uint8_t *p,
                            size_t len, int *err)
{
    size_t off = 1;
    int last = -1;

    while (off < len) {
        size_t size;

        if (len - off < 2) {
            *err = -EBADMSG;
            break;
        }
        size = ((size_t)p[off] << 8) | p[off + 1];
        off += 2;
        if (size == 0)
            continue;
        if (size > len - off) {
            if (off < len && h264_is_vcl(p[off] & 0x1fu)) {
                st->au_vcl = 1;
                st->au_corrupt = 1;
                last = p[off] & 0x1f;
            }
            *err = -EBADMSG;
            break;
        }
        if ((p[off] & 0x1fu) != 0 && (p[off] & 0x1fu) < H264_NAL_STAP_A) {
            h264_add_nal(st, p + off, size);
            last = p[off] & 0x1f;
        } else {
            *err = -EBADMSG;
        }
        off += size;
    }
    return last;
}

static int h264_push(void *opaque, const struct rtp_hdr *pkt, int64_t ts_ext,
                     int lost_before, depack_emit_cb emit, void *user)
{
    struct h264_depack *st = opaque;
    const uint8_t *p = pkt->payload;
    size_t len = pkt->payload_len;
    int err = 0, end_type = -1;
    unsigned type;

    if (pkt->pt != st->pt) {
        st->stats.bad_packets++;
        return -EPROTO;
    }
    if (st->au_open && ts_ext != st->au_ts) {
        /* Without a marker we cannot tell whether the lost packets were
         * this unit's tail. */
        if (lost_before)
            st->au_corrupt = 1;
        h264_finish(st, emit, user);
    }
    if (lost_before) {
        st->need_idr = 1;
        st->fu_skip = 1;
        if (st->in_fu) {
            h264_drop_fu(st);
            st->au_corrupt = 1;
        }
        if (st->au_open)
            st->au_corrupt = 1;
        else
            st->head_check = 1;
    }
    if (len == 0)
        return 0;
    if (!st->au_open && st->emitted && ts_ext == st->last_pts) {
        /* More of a picture that a marker bit already ended (cameras that
         * mark every slice): it cannot join the emitted unit, and a second
         * unit with the same time would break the recording. Its
         * picture (or the rest of it) is lost: one unit refused. */
        st->stats.bad_packets++;
        if (!st->dup_refused)
            depack_refuse(&st->stats, NVR_REFUSAL_BAD_TIMESTAMP);
        st->dup_refused = 1;
        return -EPROTO;
    }
    if (!st->au_open) {
        st->au_open = 1;
        st->au_ts = ts_ext;
        st->dup_refused = 0;
    }

    type = p[0] & 0x1fu;
    if (type == H264_NAL_FU_A) {
        end_type = h264_push_fu(st, p, len, &err);
    } else {
        /* Any other packet ends an FU-A left without its end fragment. */
        h264_drop_fu(st);
        st->fu_skip = 0;
        if (type == H264_NAL_STAP_A) {
            end_type = h264_push_stap_a(st, p, len, &err);
        } else if (type >= 1 && type < H264_NAL_STAP_A) {
            h264_add_nal(st, p, len);
            end_type = (int)type;
        } else {
            /* STAP-B, MTAP and FU-B are not allowed in the modes we
             * offer; types 0, 30 and 31 are reserved. */
            err = -EBADMSG;
        }
    }
    if (err < 0)
        st->stats.bad_packets++;
    if (pkt->marker && end_type >= 0 && end_type != H264_NAL_SEI &&
        end_type != H264_NAL_SPS && end_type != H264_NAL_PPS &&
        end_type != H264_NAL_AUD)
        h264_finish(st, emit, user);
    return err;
}

/* Splits Annex B bytes (3- or 4-byte start codes) into NAL units. */
static void h264_load_annexb(struct h264_depack *st, const uint8_t *buf,
                             size_t len)
{
    size_t i = 0, nal = SIZE_MAX;

    while (i + 3 <= len) {
        if (buf[i] == 0 && buf[i + 1] == 0 && buf[i + 2] == 1) {
            if (nal != SIZE_MAX)
                h264_note_param(st, buf + nal, i - nal);
            i += 3;
            nal = i;
        } else {
            i++;
        }
    }
    if (nal != SIZE_MAX && nal < len)
        h264_note_param(st, buf + nal, len - nal);
}

static int h264_create(const struct sdp_track *track, void **out)
{
    struct h264_depack *st = calloc(1, sizeof(*st));

    if (!st)
        return -ENOMEM;
    st->pt = track->pt;
    st->need_idr = 1;
    st->corrupt_why = NVR_REFUSAL_INCOMPLETE;
    dts_order_init(&st->dts, H264_DEPACK_CLOCK);
    st->cap_hint = H264_DEPACK_MIN_CAP;
    st->key_cap_hint = H264_DEPACK_MIN_CAP;
    h264_load_annexb(st, track->params,
                     NVR_MIN(track->params_len, sizeof(track->params)));
    if (st->params_gen)
        st->params_gen = 1;
    *out = st;
    return 0;
}

static void h264_destroy(void *opaque)
{
    struct h264_depack *st = opaque;

    if (!st)
        return;
    nvr_au_unref(st->au);
    free(st);
}

static void h264_get_info(void *opaque, struct nvr_track_info *info)
{
    struct h264_depack *st = opaque;
    size_t n = 0;

    if (st->sps_len) {
        memcpy(info->params + n, h264_start_code, 4);
        memcpy(info->params + n + 4, st->sps, st->sps_len);
        n += 4 + st->sps_len;
    }
    if (st->pps_len) {
        memcpy(info->params + n, h264_start_code, 4);
        memcpy(info->params + n + 4, st->pps, st->pps_len);
        n += 4 + st->pps_len;
    }
    info->params_len = n;
    info->width = st->width;
    info->height = st->height;
    info->channels = 0;
    info->params_gen = st->params_gen;
}

static void h264_get_stats(void *opaque, struct depack_stats *stats)
{
    const struct h264_depack *st = opaque;

    *stats = st->stats;
}

const struct depack_ops depack_h264_ops = {
    .name = "h264",
    .create = h264_create,
    .destroy = h264_destroy,
    .push = h264_push,
    .get_info = h264_get_info,
    .get_stats = h264_get_stats,
};
