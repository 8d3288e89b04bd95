/* SPDX-License-Identifier: MIT */
/*
 * G.711 A-law and mu-law depacketizer (RFC 3551 4.5.14, payload types 8
 * and 0 or an rtpmap PCMA/PCMU): each RTP packet's samples become one
 * access unit as they came, pts = the packet's RTP timestamp, every unit a
 * key unit. One byte is one sample per channel, so a packet holds at most
 * a few hundred bytes; larger payloads are still accepted up to
 * G711_DEPACK_MAX_BYTES. Loss needs no resynchronisation: every sample is
 * independent.
 */
#include "config.h"
#include "ingest/depack.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* 1 s of 8 kHz stereo: far above any real packet, and RTP over TCP cannot
 * carry more than 64 KiB anyway. */
#define G711_DEPACK_MAX_BYTES ((size_t)16000)

struct g711_depack {
    int pt;       /* the track's payload type; others are ignored */
    int channels; /* from the rtpmap, 1 if absent */
    int emitted;  /* a unit was emitted; last_pts is valid */
    int64_t last_pts;
    struct depack_stats stats;
};

static int g711_push(void *opaque, const struct rtp_hdr *pkt, int64_t ts_ext,
                     int lost_before, depack_emit_cb emit, void *user)
{
    struct g711_depack *st = opaque;
    struct nvr_au *au;
    int err;

    (void)lost_before;
    if (pkt->pt != st->pt) {
        st->stats.bad_packets++;
        return -EPROTO;
    }
    if (pkt->payload_len == 0)
        return 0;
    if (pkt->payload_len > G711_DEPACK_MAX_BYTES ||
        pkt->payload_len % (size_t)st->channels != 0) {
        st->stats.bad_packets++;
        depack_refuse(&st->stats, pkt->payload_len > G711_DEPACK_MAX_BYTES
                                      ? NVR_REFUSAL_TOO_LARGE
                                      : NVR_REFUSAL_MALFORMED);
        return -EBADMSG;
    }
    if (st->emitted && ts_ext == st->last_pts) {
        /* A duplicate timestamp would give two units the same time. */
        st->stats.bad_packets++;
        depack_refuse(&st->stats, NVR_REFUSAL_BAD_TIMESTAMP);
        return -EPROTO;
    }
    err = nvr_au_new(pkt->payload_len, &au);
    if (err < 0) {
        depack_refuse(&st->stats, NVR_REFUSAL_NO_MEMORY);
        return err;
    }
    memcpy(au->data, pkt->payload, pkt->payload_len);
    au->len = pkt->payload_len;
    au->track = 0;
    au->flags = NVR_AU_KEY;
    au->pts = ts_ext;
    au->dts = ts_ext;
    au->wall_us = 0;
    au->params_gen = 0;
    st->emitted = 1;
    st->last_pts = ts_ext;
    st->stats.aus++;
    emit(user, au);
    return 0;
}

static int g711_create(const struct sdp_track *track, void **out)
{
    struct g711_depack *st = calloc(1, sizeof(*st));

    if (!st)
        return -ENOMEM;
    st->pt = track->pt;
    st->channels =
        track->channels > 0 && track->channels <= 8 ? track->channels : 1;
    *out = st;
    return 0;
}

static void g711_destroy(void *opaque)
{
    free(opaque);
}

static void g711_get_info(void *opaque, struct nvr_track_info *info)
{
    const struct g711_depack *st = opaque;

    info->params_len = 0;
    info->width = info->height = 0;
    info->channels = st->channels;
    info->params_gen = 0;
}

static void g711_get_stats(void *opaque, struct depack_stats *stats)
{
    const struct g711_depack *st = opaque;

    *stats = st->stats;
}

const struct depack_ops depack_g711_ops = {
    .name = "g711",
    .create = g711_create,
    .destroy = g711_destroy,
    .push = g711_push,
    .get_info = g711_get_info,
    .get_stats = g711_get_stats,
};
