/* SPDX-License-Identifier: MIT */
/*
 * AAC depacketizer for RTP payload format mpeg4-generic (RFC 3640),
 * AAC-hbr, AAC-lbr and any other AU header layout the SDP's fmtp
 * describes. Each access unit becomes one raw AAC frame (no ADTS), its
 * pts the packet's RTP timestamp plus its index times the frame duration
 * (3.2.1: AU-Index of the first AU, then AU-Index-delta + 1 each), every
 * unit a key unit. An AU larger than one packet arrives as fragments
 * (3.2.3): packets with a single AU header giving the whole AU size and
 * one piece of the AU each, all with the same timestamp; they are joined
 * until the size is reached. Loss or a new timestamp in the middle drops
 * the AU.
 *
 * When the fmtp configures no AU header fields at all, the AU header
 * section is absent (3.2.1): each packet then holds one AU, or one piece
 * of it ended by the marker bit or the next timestamp, or AUs of
 * constantSize bytes.
 */
#include "config.h"
#include "ingest/depack.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nvr/base/bitreader.h"
#include "nvr/base/compiler.h"

/* The largest AU accepted: 6144 bits per channel (ISO/IEC 14496-3
 * 4.5.3.1) for 8 channels is 6 KiB; a 16-bit size field allows 64 KiB. */
#define AAC_DEPACK_MAX_AU ((size_t)64 * 1024)
/* AU headers read per packet; a 1500-byte packet holds far fewer. */
#define AAC_DEPACK_MAX_HEADERS 512
/* Samples per AAC frame unless constantDuration or the config says
 * otherwise. */
#define AAC_DEPACK_FRAME_SAMPLES 1024
/* A unit this many frames or fewer behind the last one is a duplicate or
 * interleaved out of order and dropped; a longer step back is a restart
 * of media time the session handles. */
#define AAC_DEPACK_REORDER_FRAMES 64

struct aac_depack {
    int pt; /* the track's payload type; others are ignored */
    int size_length, index_length, index_delta_length;
    int cts_delta_length, dts_delta_length, rai, stream_state;
    int aux_length;    /* auxiliarydatasizelength */
    int constant_size; /* bytes, when AU sizes are not sent */
    int no_headers;    /* every header field has zero length */
    int64_t duration;  /* samples per AU */
    int channels;
    size_t config_len;
    uint8_t config[SDP_MAX_CONFIG_BYTES];

    struct nvr_au *frag; /* AU being joined from fragments, or NULL */
    size_t frag_size;    /* its size from the AU header; 0 = until marker */
    int64_t frag_ts;     /* its RTP timestamp */
    int skip;            /* a fragmented AU of skip_ts was dropped: the
                            rest of its pieces are ignored */
    int64_t skip_ts;

    int emitted;
    int64_t last_pts;
    struct depack_stats stats;
};

/* Samples per frame from the AudioSpecificConfig (ISO/IEC 14496-3
 * 1.6.2.1): 960 when a GASpecificConfig sets frameLengthFlag. */
static int64_t aac_frame_samples(const uint8_t *asc, size_t len)
{
    struct nvr_bitreader b = {asc, 8 * len, 0, 0};
    uint32_t aot = nvr_bitreader_u(&b, 5), flag;

    if (aot == 31)
        aot = 32 + nvr_bitreader_u(&b, 6);
    if (nvr_bitreader_u(&b, 4) == 15) /* samplingFrequencyIndex */
        (void)nvr_bitreader_u(&b, 24);
    (void)nvr_bitreader_u(&b, 4); /* channelConfiguration */
    switch (aot) {
    case 1:
    case 2:
    case 3:
    case 4:
    case 6:
    case 7:
    case 17:
    case 19:
    case 20:
    case 21:
    case 22:
    case 23:
        flag = nvr_bitreader_u(&b, 1); /* GASpecificConfig frameLengthFlag */
        if (!b.overrun && flag)
            return 960;
        break;
    default:
        break;
    }
    return AAC_DEPACK_FRAME_SAMPLES;
}

static int aac_clamp(int v, int max)
{
    return v < 0 ? 0 : v > max ? max : v;
}

static void aac_drop_frag(struct aac_depack *st, enum nvr_refusal why)
{
    if (!st->frag)
        return;
    nvr_au_unref(st->frag);
    st->frag = NULL;
    depack_refuse(&st->stats, why);
}

static void aac_emit(struct aac_depack *st, struct nvr_au *au, int64_t pts,
                     depack_emit_cb emit, void *user)
{
    if (st->emitted && pts <= st->last_pts &&
        st->last_pts - pts <= AAC_DEPACK_REORDER_FRAMES * st->duration) {
        nvr_au_unref(au);
        depack_refuse(&st->stats, NVR_REFUSAL_BAD_TIMESTAMP);
        return;
    }
    au->track = 0;
    au->flags = NVR_AU_KEY;
    au->pts = pts;
    au->dts = pts;
    au->wall_us = 0;
    au->params_gen = 1;
    st->emitted = 1;
    st->last_pts = pts;
    st->stats.aus++;
    emit(user, au);
}

/* Emits a copy of one complete AU. */
static void aac_emit_copy(struct aac_depack *st, const uint8_t *data,
                          size_t len, int64_t pts, depack_emit_cb emit,
                          void *user)
{
    struct nvr_au *au;

    if (len == 0)
        return;
    if (len > AAC_DEPACK_MAX_AU) {
        depack_refuse(&st->stats, NVR_REFUSAL_TOO_LARGE);
        return;
    }
    if (nvr_au_new(len, &au) < 0) {
        depack_refuse(&st->stats, NVR_REFUSAL_NO_MEMORY);
        return;
    }
    memcpy(au->data, data, len);
    au->len = len;
    aac_emit(st, au, pts, emit, user);
}

/* Adds a piece to the AU being joined; starts one if needed. */
static int aac_frag_add(struct aac_depack *st, const uint8_t *data, size_t len,
                        size_t size, int64_t ts)
{
    if (!st->frag) {
        if (nvr_au_new(size ? size : 4096, &st->frag) < 0) {
            depack_refuse(&st->stats, NVR_REFUSAL_NO_MEMORY);
            return -ENOMEM;
        }
        st->frag_size = size;
        st->frag_ts = ts;
    }
    if (st->frag->len + len > AAC_DEPACK_MAX_AU ||
        (st->frag_size && st->frag->len + len > st->frag_size) ||
        nvr_au_append(&st->frag, data, len) < 0) {
        aac_drop_frag(st, NVR_REFUSAL_TOO_LARGE);
        return -EMSGSIZE;
    }
    return 0;
}

static void aac_frag_finish(struct aac_depack *st, depack_emit_cb emit,
                            void *user)
{
    struct nvr_au *au = st->frag;

    st->frag = NULL;
    if (au->len == 0) {
        nvr_au_unref(au);
        return;
    }
    aac_emit(st, au, st->frag_ts, emit, user);
}

/* The payload without an AU header section. */
static int aac_push_bare(struct aac_depack *st, const struct rtp_hdr *pkt,
                         int64_t ts, depack_emit_cb emit, void *user)
{
    const uint8_t *p = pkt->payload;
    size_t len = pkt->payload_len;
    int err;

    if (st->constant_size > 0 && !st->frag &&
        len % (size_t)st->constant_size == 0) {
        size_t n = len / (size_t)st->constant_size;

        for (size_t i = 0; i < n; i++)
            aac_emit_copy(st, p + i * (size_t)st->constant_size,
                          (size_t)st->constant_size,
                          ts + (int64_t)i * st->duration, emit, user);
        return 0;
    }
    err = aac_frag_add(st, p, len, 0, ts);
    if (err < 0)
        return err;
    if (pkt->marker)
        aac_frag_finish(st, emit, user);
    return 0;
}

/* One AU header (3.3.6 order: size, index, CTS, DTS, RAP, stream state).
 * Returns the AU size (constantSize when not sent) and the index field. */
static void aac_read_header(const struct aac_depack *st,
                            struct nvr_bitreader *b, int first, size_t *size,
                            uint32_t *index)
{
    *size = st->size_length ? nvr_bitreader_u(b, st->size_length)
                            : (size_t)st->constant_size;
    *index =
        nvr_bitreader_u(b, first ? st->index_length : st->index_delta_length);
    if (st->cts_delta_length && nvr_bitreader_u(b, 1))
        (void)nvr_bitreader_u(b, st->cts_delta_length);
    if (st->dts_delta_length && nvr_bitreader_u(b, 1))
        (void)nvr_bitreader_u(b, st->dts_delta_length);
    if (st->rai)
        (void)nvr_bitreader_u(b, 1);
    if (st->stream_state)
        (void)nvr_bitreader_u(b, st->stream_state);
}

static int aac_push(void *opaque, const struct rtp_hdr *pkt, int64_t ts_ext,
                    int lost_before, depack_emit_cb emit, void *user)
{
    struct aac_depack *st = opaque;
    const uint8_t *p = pkt->payload;
    size_t len = pkt->payload_len, hdr_bits, off;
    struct nvr_bitreader b;
    int64_t serial = 0;
    int n_headers = 0;

    if (pkt->pt != st->pt) {
        st->stats.bad_packets++;
        return -EPROTO;
    }
    if (st->frag && st->frag_size == 0 && !lost_before &&
        ts_ext != st->frag_ts) {
        /* A bare AU without a marker ends at the next timestamp. */
        aac_frag_finish(st, emit, user);
    }
    if (st->frag && (lost_before || ts_ext != st->frag_ts)) {
        st->skip = ts_ext == st->frag_ts;
        st->skip_ts = st->frag_ts;
        aac_drop_frag(st, NVR_REFUSAL_INCOMPLETE);
    }
    if (st->skip) {
        /* Fragments carry no start flag: after loss, the pieces left of
         * a dropped AU would look like a new one. */
        if (ts_ext == st->skip_ts)
            return 0;
        st->skip = 0;
    }
    if (len == 0)
        return 0;
    if (st->no_headers)
        return aac_push_bare(st, pkt, ts_ext, emit, user) < 0 ? -EBADMSG : 0;

    if (len < 2)
        goto bad;
    hdr_bits = ((size_t)p[0] << 8) | p[1];
    off = 2 + (hdr_bits + 7) / 8;
    if (hdr_bits == 0 || off > len)
        goto bad;
    b = (struct nvr_bitreader){p + 2, hdr_bits, 0, 0};
    if (st->aux_length) {
        /* 3.2.2: the auxiliary section's own size field, in bits. */
        struct nvr_bitreader ab = {p + off, 8 * (len - off), 0, 0};
        size_t aux_bits = nvr_bitreader_u(&ab, st->aux_length);

        if (ab.overrun || (aux_bits + st->aux_length + 7) / 8 > len - off)
            goto bad;
        off += (aux_bits + st->aux_length + 7) / 8;
    }

    while (b.pos < b.len_bits && n_headers < AAC_DEPACK_MAX_HEADERS) {
        size_t size;
        uint32_t index;

        aac_read_header(st, &b, n_headers == 0, &size, &index);
        if (b.overrun)
            goto bad;
        serial += n_headers == 0 ? 0 : (int64_t)index + 1;
        n_headers++;
        if (st->frag) {
            /* The next piece of a fragmented AU: one header only. */
            if (n_headers > 1 || size != st->frag_size || b.pos < b.len_bits) {
                aac_drop_frag(st, NVR_REFUSAL_MALFORMED);
                goto bad;
            }
            if (aac_frag_add(st, p + off, len - off, size, ts_ext) < 0)
                goto bad;
            if (st->frag->len == st->frag_size)
                aac_frag_finish(st, emit, user);
            else if (pkt->marker)
                aac_drop_frag(st, NVR_REFUSAL_INCOMPLETE);
            return 0;
        }
        if (size > len - off) {
            /* 3.2.3: a fragment is alone in its packet, marker clear. */
            if (n_headers > 1 || b.pos < b.len_bits || pkt->marker ||
                size > AAC_DEPACK_MAX_AU)
                goto bad;
            if (aac_frag_add(st, p + off, len - off, size, ts_ext) < 0)
                goto bad;
            return 0;
        }
        aac_emit_copy(st, p + off, size, ts_ext + serial * st->duration, emit,
                      user);
        off += size;
    }
    if (b.pos < b.len_bits)
        goto bad;
    return 0;
bad:
    st->stats.bad_packets++;
    return -EBADMSG;
}

static int aac_create(const struct sdp_track *track, void **out)
{
    struct aac_depack *st = calloc(1, sizeof(*st));

    if (!st)
        return -ENOMEM;
    st->pt = track->pt;
    /* Field lengths are clamped again so that a track built by hand
     * cannot overflow the bit reader. */
    st->size_length = aac_clamp(track->size_length, SDP_AAC_MAX_FIELD_BITS);
    st->index_length = aac_clamp(track->index_length, SDP_AAC_MAX_FIELD_BITS);
    st->index_delta_length =
        aac_clamp(track->index_delta_length, SDP_AAC_MAX_FIELD_BITS);
    st->cts_delta_length =
        aac_clamp(track->cts_delta_length, SDP_AAC_MAX_FIELD_BITS);
    st->dts_delta_length =
        aac_clamp(track->dts_delta_length, SDP_AAC_MAX_FIELD_BITS);
    st->rai = track->random_access_indication != 0;
    st->stream_state =
        aac_clamp(track->stream_state_indication, SDP_AAC_MAX_FIELD_BITS);
    st->aux_length =
        aac_clamp(track->aux_data_size_length, SDP_AAC_MAX_FIELD_BITS);
    st->constant_size = aac_clamp(track->constant_size, (int)AAC_DEPACK_MAX_AU);
    st->no_headers = !st->size_length && !st->index_length &&
                     !st->index_delta_length && !st->cts_delta_length &&
                     !st->dts_delta_length && !st->rai && !st->stream_state;
    st->channels = track->channels > 0 ? track->channels : 1;
    st->config_len = NVR_MIN(track->config_len, sizeof(st->config));
    memcpy(st->config, track->config, st->config_len);
    if (track->constant_duration > 0)
        st->duration = track->constant_duration;
    else
        st->duration = aac_frame_samples(st->config, st->config_len);
    *out = st;
    return 0;
}

static void aac_destroy(void *opaque)
{
    struct aac_depack *st = opaque;

    if (!st)
        return;
    nvr_au_unref(st->frag);
    free(st);
}

static void aac_get_info(void *opaque, struct nvr_track_info *info)
{
    const struct aac_depack *st = opaque;

    memcpy(info->params, st->config, st->config_len);
    info->params_len = st->config_len;
    info->width = info->height = 0;
    info->channels = st->channels;
    info->params_gen = 1;
}

static void aac_get_stats(void *opaque, struct depack_stats *stats)
{
    const struct aac_depack *st = opaque;

    *stats = st->stats;
}

const struct depack_ops depack_aac_ops = {
    .name = "aac",
    .create = aac_create,
    .destroy = aac_destroy,
    .push = aac_push,
    .get_info = aac_get_info,
    .get_stats = aac_get_stats,
};
