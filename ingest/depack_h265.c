/* SPDX-License-Identifier: MIT */
/*
 * H.265 depacketizer (RFC 7798): single NAL unit packets (4.4.1),
 * aggregation packets (4.4.2) and fragmentation units (4.4.3) are
 * reassembled into access units of Annex B NAL units with 4-byte start
 * codes, bytes kept exactly as the camera sent them. When the SDP gives
 * sprop-max-don-diff > 0 the DONL/DOND fields are present and skipped:
 * units are kept in transmission order, which is decoding order for every
 * camera we know of.
 *
 * Unit boundaries follow depack_h264.c: an access unit ends at the RTP
 * marker bit, or when a packet with another timestamp arrives. The marker
 * on a VPS, SPS, PPS, access unit delimiter or prefix SEI (which come
 * before a picture) is a camera quirk and is ignored; parameter sets sent
 * with their own timestamp are carried into the next unit. Loss makes the
 * unit it touches corrupt; corrupt units are dropped and so is everything
 * after them up to the next IRAP picture (NAL types 16..21, NVR_AU_KEY).
 * When recording resumes at a CRA or BLA picture, the RASL pictures that
 * follow it reference pictures that were never recorded, so they are
 * dropped too (8.1.3: NoRaslOutputFlag). No unit is emitted before VPS,
 * SPS and PPS are known; they come from the SDP or in band.
 */
#include "config.h"
#include "ingest/depack.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/dts_order.h"
#include "ingest/h265_sps.h"
#include "nvr/base/compiler.h"

/* Each parameter set must leave room for the two others and three start
 * codes in nvr_track_info.params. */
#define H265_DEPACK_MAX_PARAM ((NVR_PARAMS_MAX_BYTES - 12) / 3)
/* First allocation for a unit; later ones follow the previous size. */
#define H265_DEPACK_MIN_CAP ((size_t)64 * 1024)

#define H265_NAL_RADL_N     6
#define H265_NAL_RASL_N     8
#define H265_NAL_RASL_R     9
#define H265_NAL_BLA_W_LP   16
#define H265_NAL_CRA        21
#define H265_NAL_IRAP_LAST  21
#define H265_NAL_VCL_LAST   31
/* RFC 7798 4.1: the RTP clock of H.265 is 90 kHz. */
#define H265_DEPACK_CLOCK   90000

#define H265_NAL_VPS        32
#define H265_NAL_SPS        33
#define H265_NAL_PPS        34
#define H265_NAL_AUD        35
#define H265_NAL_PREFIX_SEI 39
#define H265_NAL_AP         48
#define H265_NAL_FU         49

struct h265_depack {
    struct nvr_au *au; /* unit being built (refcount 1), or NULL */
    size_t cap_hint;   /* bytes to allocate for the next unit */
    int64_t au_ts;     /* unwrapped RTP timestamp, 90 kHz */
    int64_t last_pts;  /* pts of the last emitted unit */
    size_t fu_start;   /* offset of the FU's start code in au->data */
    size_t vps_len, sps_len, pps_len;
    struct depack_stats stats;

    int pt;         /* the track's payload type; others are ignored */
    int has_don;    /* sprop-max-don-diff > 0: DONL/DOND fields present */
    int au_open;    /* packets with timestamp au_ts are being added */
    int au_vcl;     /* holds (part of) a picture */
    int au_irap;    /* holds an IRAP picture */
    int au_cra;     /* that IRAP is a CRA or BLA (may have RASL) */
    int au_rasl;    /* holds a RASL picture */
    int au_trail;   /* holds a trailing or IRAP picture: any RASL
                       pictures of the last CRA are behind us */
    int au_corrupt; /* lost or rejected data: drop at the end */
    enum nvr_refusal corrupt_why; /* why, counted when it is dropped */
    int dup_refused;              /* the unit repeating last_pts was counted */
    int head_check;       /* after loss: the unit's first slice segment must
                             be the picture's first, or its head was lost */
    int need_irap;        /* drop units until the next IRAP */
    int skip_rasl;        /* resumed at a CRA/BLA: drop its RASL pictures */
    int emitted;          /* a unit was emitted; last_pts is valid */
    int in_fu;            /* an FU NAL unit is being reassembled */
    int fu_skip;          /* drop fragments until the next start */
    int width, height;    /* from the SPS, pixels */
    uint32_t params_gen;  /* bumped whenever VPS, SPS or PPS bytes change */
    struct dts_order dts; /* decode times from the SPS reorder depth */
    uint8_t fu_type;      /* the FU's NAL unit type */

    uint8_t vps[H265_DEPACK_MAX_PARAM];
    uint8_t sps[H265_DEPACK_MAX_PARAM];
    uint8_t pps[H265_DEPACK_MAX_PARAM];
};

static const uint8_t h265_start_code[4] = {0, 0, 0, 1};

static unsigned h265_type(uint8_t hdr0)
{
    return (hdr0 >> 1) & 0x3fu;
}

static int h265_is_vcl(unsigned type)
{
    return type <= H265_NAL_VCL_LAST;
}

/* Stores a parameter set if it differs from the current one. Trailing
 * zero bytes are not part of the NAL unit and are not compared. An SPS is
 * kept only if its picture size can be read. */
static void h265_note_param(struct h265_depack *st, const uint8_t *nal,
                            size_t len)
{
    struct h265_sps_info info;
    uint8_t *dst;
    size_t *dst_len;
    unsigned type;

    while (len > 0 && nal[len - 1] == 0)
        len--;
    if (len < 3 || len > H265_DEPACK_MAX_PARAM)
        return;
    type = h265_type(nal[0]);
    if (type == H265_NAL_VPS) {
        dst = st->vps;
        dst_len = &st->vps_len;
    } else if (type == H265_NAL_SPS) {
        dst = st->sps;
        dst_len = &st->sps_len;
    } else if (type == H265_NAL_PPS) {
        dst = st->pps;
        dst_len = &st->pps_len;
    } else {
        return;
    }
    if (len == *dst_len && memcmp(dst, nal, len) == 0)
        return;
    if (type == H265_NAL_SPS) {
        if (h265_sps_parse(nal, len, &info) < 0)
            return;
        st->width = info.width;
        st->height = info.height;
        dts_order_set_depth(&st->dts, info.max_num_reorder_pics);
    }
    memcpy(dst, nal, len);
    *dst_len = len;
    st->params_gen++;
}

/* Appends to the unit being built. After a failure (too big, no memory)
 * the unit is corrupt and nothing more is added to it. */
static void h265_append(struct h265_depack *st, const uint8_t *data, size_t len)
{
    int err = 0;

    if (st->au_corrupt)
        return;
    if (!st->au)
        err = nvr_au_new(st->cap_hint, &st->au);
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
static void h265_append_start(struct h265_depack *st)
{
    size_t at = st->au ? st->au->len : 0;

    h265_append(st, h265_start_code, sizeof(h265_start_code));
    if (!st->au_corrupt && st->au)
        nvr_au_note_nal(st->au, at);
}

/* Called for the start of every NAL unit added to the unit. `rest` is
 * what follows the two-byte NAL header. */
static void h265_nal_begin(struct h265_depack *st, unsigned type,
                           const uint8_t *rest, size_t rest_len)
{
    if (st->head_check) {
        /* Slice segments come after every other NAL unit of a picture
         * except suffix SEI (7.4.2.4.4), so a unit that starts with one
         * whose first_slice_segment_in_pic_flag is 0 lost its head. */
        st->head_check = 0;
        if (h265_is_vcl(type) && !(rest_len > 0 && (rest[0] & 0x80u)))
            st->au_corrupt = 1;
    }
    if (h265_is_vcl(type)) {
        st->au_vcl = 1;
        if (type >= H265_NAL_BLA_W_LP && type <= H265_NAL_IRAP_LAST) {
            st->au_irap = 1;
            /* BLA_W_LP, BLA_W_RADL and CRA may have RASL pictures. */
            if (type <= H265_NAL_BLA_W_LP + 1 || type == H265_NAL_CRA)
                st->au_cra = 1;
        }
        if (type == H265_NAL_RASL_N || type == H265_NAL_RASL_R)
            st->au_rasl = 1;
        if (type < H265_NAL_RADL_N ||
            (type >= H265_NAL_BLA_W_LP && type <= H265_NAL_IRAP_LAST))
            st->au_trail = 1;
    }
}

/* Adds one whole NAL unit (single packet or aggregation unit). */
static void h265_add_nal(struct h265_depack *st, const uint8_t *nal, size_t len)
{
    h265_nal_begin(st, h265_type(nal[0]), nal + 2, len - 2);
    h265_append_start(st);
    h265_append(st, nal, len);
    h265_note_param(st, nal, len);
}

/* Abandons a partly reassembled FU NAL unit. Losing part of a slice
 * makes the picture corrupt; losing an SEI or parameter set does not. */
static void h265_drop_fu(struct h265_depack *st)
{
    if (!st->in_fu)
        return;
    st->in_fu = 0;
    if (st->au && st->fu_start <= st->au->len)
        nvr_au_truncate(st->au, st->fu_start);
    if (h265_is_vcl(st->fu_type))
        st->au_corrupt = 1;
}

static void h265_reset_unit(struct h265_depack *st)
{
    st->au_vcl = st->au_irap = st->au_cra = st->au_rasl = st->au_trail = 0;
    st->au_corrupt = 0;
    st->corrupt_why = NVR_REFUSAL_INCOMPLETE;
}

/* Ends the unit being built: emits it, drops it, or, if it holds no
 * picture yet, keeps its NAL units for the next one. */
static void h265_finish(struct h265_depack *st, depack_emit_cb emit, void *user)
{
    struct nvr_au *au;
    int64_t dts;

    h265_drop_fu(st);
    if (!st->au_open)
        return;
    st->au_open = 0;
    if (!st->au_vcl && !st->au_corrupt)
        return;
    if (!st->au_corrupt && st->au_trail)
        st->skip_rasl = 0;
    if (st->au_corrupt || !st->au || !st->vps_len || !st->sps_len ||
        !st->pps_len || (st->need_irap && !st->au_irap) ||
        (st->skip_rasl && st->au_rasl)) {
        enum nvr_refusal why = NVR_REFUSAL_NO_KEYFRAME;

        if (st->au_corrupt)
            why = st->corrupt_why;
        else if (!st->au)
            why = NVR_REFUSAL_NO_MEMORY;
        else if (!st->vps_len || !st->sps_len || !st->pps_len)
            why = NVR_REFUSAL_NO_PARAMS;
        if (st->au_corrupt)
            st->need_irap = 1;
        if (st->au_vcl)
            depack_refuse(&st->stats, why);
        if (st->au && st->au->cap > 2 * st->cap_hint) {
            /* Do not keep an oversized buffer around for the next unit. */
            nvr_au_unref(st->au);
            st->au = NULL;
        } else if (st->au) {
            nvr_au_truncate(st->au, 0);
        }
        h265_reset_unit(st);
        return;
    }
    if (dts_order_next(&st->dts, st->au_ts, &dts) != 0) {
        /* Reordered deeper than the SPS said (or than seen before): the
         * decode times restart, and decoding needs the next IRAP. */
        st->need_irap = 1;
        depack_refuse(&st->stats, NVR_REFUSAL_BAD_TIMESTAMP);
        nvr_au_truncate(st->au, 0);
        h265_reset_unit(st);
        return;
    }
    if (st->need_irap)
        st->skip_rasl = st->au_cra;
    au = st->au;
    st->au = NULL;
    st->need_irap = 0;
    au->track = 0;
    au->flags = st->au_irap ? NVR_AU_KEY : 0;
    au->pts = st->au_ts;
    au->dts = dts;
    au->wall_us = 0;
    au->params_gen = st->params_gen;
    h265_reset_unit(st);
    /* The next unit starts with a little more room than this one used
     * (never more than nvr_au allows: au->cap is within its limit). */
    st->cap_hint =
        NVR_MAX(H265_DEPACK_MIN_CAP, NVR_MIN(au->cap, au->len + au->len / 4));
    st->stats.aus++;
    st->emitted = 1;
    st->last_pts = au->pts;
    emit(user, au);
}

/* RFC 7798 4.4.3. Returns the NAL type of an end fragment (so the marker
 * bit can end the unit even when the NAL unit was dropped), or -1; sets
 * *err to a negative errno for a discarded fragment. */
static int h265_push_fu(struct h265_depack *st, const uint8_t *p, size_t len,
                        int *err)
{
    uint8_t fu_hdr, hdr[2];
    unsigned type;
    size_t off = 3;

    if (len < 3) {
        *err = -EBADMSG;
        return -1;
    }
    fu_hdr = p[2];
    type = fu_hdr & 0x3fu;
    if ((fu_hdr & 0x80u) && st->has_don)
        off += 2; /* DONL, only in the start fragment */
    if (len < off) {
        *err = -EBADMSG;
        return -1;
    }
    if ((fu_hdr & 0x80u) && type >= H265_NAL_AP) {
        /* An aggregate, FU, PACI or unspecified type cannot be
         * fragmented. */
        h265_drop_fu(st);
        st->fu_skip = 1;
        *err = -EBADMSG;
        return -1;
    }
    if (fu_hdr & 0x80u) {
        h265_drop_fu(st);
        st->fu_skip = 0;
        hdr[0] = (uint8_t)((p[0] & 0x81u) | (type << 1));
        hdr[1] = p[1];
        h265_nal_begin(st, type, p + off, len - off);
        st->fu_start = st->au ? st->au->len : 0;
        st->fu_type = (uint8_t)type;
        st->in_fu = 1;
        h265_append_start(st);
        h265_append(st, hdr, sizeof(hdr));
    } else if (!st->in_fu) {
        /* A fragment of a NAL unit whose start never arrived, or the rest
         * of one already dropped (after loss or a type change): only the
         * first such fragment counts as a bad packet. */
        if (h265_is_vcl(type)) {
            st->au_vcl = 1;
            st->au_corrupt = 1;
        }
        if (!st->fu_skip)
            *err = -EBADMSG;
        st->fu_skip = 1;
        return (fu_hdr & 0x40u) ? (int)type : -1;
    } else if (type != st->fu_type) {
        h265_drop_fu(st);
        st->fu_skip = 1;
        *err = -EBADMSG;
        return (fu_hdr & 0x40u) ? (int)type : -1;
    }
    h265_append(st, p + off, len - off);
    if (!(fu_hdr & 0x40u))
        return -1;
    st->in_fu = 0;
    if (!st->au_corrupt && st->au && st->fu_start + 4 <= st->au->len)
        h265_note_param(st, st->au->data + st->fu_start + 4,
                        st->au->len - st->fu_start - 4);
    return (int)type;
}

/* RFC 7798 4.4.2. A size running past the packet ends it: the units
 * before are kept, the truncated one is dropped. */
static int h265_push_ap(struct h265_depack *st, const uint8_t *p, size_t len,
                        int *err)
{
    size_t off = 2;
    int last = -1, first = 1;

    while (off < len) {
        size_t size, don = st->has_don ? (first ? 2 : 1) : 0;
        unsigned type;

        first = 0;
        if (len - off < don + 2) {
            *err = -EBADMSG;
            break;
        }
        off += don;
        size = ((size_t)p[off] << 8) | p[off + 1];
        off += 2;
        if (size == 0)
            continue;
        if (size > len - off) {
            if (off < len && h265_is_vcl(h265_type(p[off]))) {
                st->au_vcl = 1;
                st->au_corrupt = 1;
                last = (int)h265_type(p[off]);
            }
            *err = -EBADMSG;
            break;
        }
        type = h265_type(p[off]);
        if (size >= 2 && type < H265_NAL_AP) {
            h265_add_nal(st, p + off, size);
            last = (int)type;
        } else {
            *err = -EBADMSG;
        }
        off += size;
    }
    return last;
}

static int h265_push(void *opaque, const struct rtp_hdr *pkt, int64_t ts_ext,
                     int lost_before, depack_emit_cb emit, void *user)
{
    struct h265_depack *st = opaque;
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
        h265_finish(st, emit, user);
    }
    if (lost_before) {
        st->need_irap = 1;
        st->fu_skip = 1;
        if (st->in_fu) {
            h265_drop_fu(st);
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
        /* More of a picture that a marker bit already ended: it cannot
         * join the emitted unit, and a second unit with the same time
         * would break the recording. Its picture (or the rest of it)
         * is lost: one unit refused. */
        st->stats.bad_packets++;
        if (!st->dup_refused)
            depack_refuse(&st->stats, NVR_REFUSAL_BAD_TIMESTAMP);
        st->dup_refused = 1;
        return -EPROTO;
    }
    if (len < 2) {
        st->stats.bad_packets++;
        return -EBADMSG;
    }
    if (!st->au_open) {
        st->au_open = 1;
        st->au_ts = ts_ext;
        st->dup_refused = 0;
    }

    type = h265_type(p[0]);
    if (type == H265_NAL_FU) {
        end_type = h265_push_fu(st, p, len, &err);
    } else {
        /* Any other packet ends an FU left without its end fragment. */
        h265_drop_fu(st);
        st->fu_skip = 0;
        if (type == H265_NAL_AP) {
            end_type = h265_push_ap(st, p, len, &err);
        } else if (type < H265_NAL_AP) {
            if (st->has_don && len >= 4) {
                /* 4.4.1: the DONL sits between the payload header (the
                 * NAL header) and the NAL payload. */
                uint8_t nal[2] = {p[0], p[1]};

                h265_nal_begin(st, type, p + 4, len - 4);
                h265_append_start(st);
                h265_append(st, nal, 2);
                h265_append(st, p + 4, len - 4);
                if (!st->au_corrupt && st->au && st->au->len >= len + 2)
                    h265_note_param(st, st->au->data + st->au->len - len + 2,
                                    len - 2);
                end_type = (int)type;
            } else if (st->has_don) {
                err = -EBADMSG;
            } else {
                h265_add_nal(st, p, len);
                end_type = (int)type;
            }
        } else {
            /* PACI (50) and the unspecified types 51..63. */
            err = -EBADMSG;
        }
    }
    if (err < 0)
        st->stats.bad_packets++;
    if (pkt->marker && end_type >= 0 && end_type != H265_NAL_VPS &&
        end_type != H265_NAL_SPS && end_type != H265_NAL_PPS &&
        end_type != H265_NAL_AUD && end_type != H265_NAL_PREFIX_SEI)
        h265_finish(st, emit, user);
    return err;
}

/* Splits Annex B bytes (3- or 4-byte start codes) into NAL units. */
static void h265_load_annexb(struct h265_depack *st, const uint8_t *buf,
                             size_t len)
{
    size_t i = 0, nal = SIZE_MAX;

    while (i + 3 <= len) {
        if (buf[i] == 0 && buf[i + 1] == 0 && buf[i + 2] == 1) {
            if (nal != SIZE_MAX)
                h265_note_param(st, buf + nal, i - nal);
            i += 3;
            nal = i;
        } else {
            i++;
        }
    }
    if (nal != SIZE_MAX && nal < len)
        h265_note_param(st, buf + nal, len - nal);
}

static int h265_create(const struct sdp_track *track, void **out)
{
    struct h265_depack *st = calloc(1, sizeof(*st));

    if (!st)
        return -ENOMEM;
    st->pt = track->pt;
    st->has_don = track->max_don_diff > 0;
    st->need_irap = 1;
    st->corrupt_why = NVR_REFUSAL_INCOMPLETE;
    dts_order_init(&st->dts, H265_DEPACK_CLOCK);
    st->cap_hint = H265_DEPACK_MIN_CAP;
    h265_load_annexb(st, track->params,
                     NVR_MIN(track->params_len, sizeof(track->params)));
    if (st->params_gen)
        st->params_gen = 1;
    *out = st;
    return 0;
}

static void h265_destroy(void *opaque)
{
    struct h265_depack *st = opaque;

    if (!st)
        return;
    nvr_au_unref(st->au);
    free(st);
}

static size_t h265_put_param(uint8_t *dst, const uint8_t *nal, size_t len)
{
    if (!len)
        return 0;
    memcpy(dst, h265_start_code, 4);
    memcpy(dst + 4, nal, len);
    return 4 + len;
}

static void h265_get_info(void *opaque, struct nvr_track_info *info)
{
    struct h265_depack *st = opaque;
    size_t n = 0;

    n += h265_put_param(info->params + n, st->vps, st->vps_len);
    n += h265_put_param(info->params + n, st->sps, st->sps_len);
    n += h265_put_param(info->params + n, st->pps, st->pps_len);
    info->params_len = n;
    info->width = st->width;
    info->height = st->height;
    info->channels = 0;
    info->params_gen = st->params_gen;
}

static void h265_get_stats(void *opaque, struct depack_stats *stats)
{
    const struct h265_depack *st = opaque;

    *stats = st->stats;
}

const struct depack_ops depack_h265_ops = {
    .name = "h265",
    .create = h265_create,
    .destroy = h265_destroy,
    .push = h265_push,
    .get_info = h265_get_info,
    .get_stats = h265_get_stats,
};
