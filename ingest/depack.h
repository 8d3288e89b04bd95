/* SPDX-License-Identifier: MIT */
/*
 * Depacketizers: RTP payloads in, access units out. Each codec exports a
 * const struct depack_ops; the RTSP client picks one by the SDP codec.
 */
#ifndef NVR_INGEST_DEPACK_H
#define NVR_INGEST_DEPACK_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/rtp.h"
#include "ingest/sdp.h"
#include "nvr/base/au.h"
#include "nvr/base/refusal.h"

/* Receives a finished access unit; takes ownership of the reference.
 * au->pts is the unwrapped RTP timestamp and au->dts its decode time
 * (the same without B-frames); au->wall_us is left 0 for the
 * caller to fill. */
typedef void (*depack_emit_cb)(void *user, struct nvr_au *au);

struct depack_stats {
    uint64_t aus;                /* units emitted */
    uint64_t aus_dropped;        /* units discarded (loss, malformed, too big):
                                    the sum of refused */
    uint64_t bad_packets;        /* packets that did not parse */
    struct nvr_refusals refused; /* units discarded, by reason */
};

/* Counts one unit discarded for `why` in both aus_dropped and refused. */
static inline void depack_refuse(struct depack_stats *s, enum nvr_refusal why)
{
    s->aus_dropped++;
    nvr_refusals_count(&s->refused, why);
}

struct depack_ops {
    const char *name;
    /* Creates state for one track. *out is owned. Returns 0, -ENOMEM. */
    int (*create)(const struct sdp_track *track, void **out);
    void (*destroy)(void *st);
    /*
     * Feeds one RTP packet, in sequence order. `lost_before` is nonzero
     * when packets were lost just before this one. ts_ext is the unwrapped
     * RTP timestamp. Returns 0, or a negative errno for a packet that was
     * discarded (the depacketizer resynchronises by itself; not fatal).
     */
    int (*push)(void *st, const struct rtp_hdr *pkt, int64_t ts_ext,
                int lost_before, depack_emit_cb emit, void *user);
    /* Current codec parameters (Annex B), width/height and params_gen.
     * Fills *info; codec and clock_rate are set by the caller. */
    void (*get_info)(void *st, struct nvr_track_info *info);
    void (*get_stats)(void *st, struct depack_stats *stats);
};

/* Returns the depacketizer for a codec, or NULL if none. */
const struct depack_ops *depack_find(enum nvr_codec codec);

extern const struct depack_ops depack_h264_ops;
extern const struct depack_ops depack_h265_ops;
extern const struct depack_ops depack_aac_ops;
extern const struct depack_ops depack_g711_ops; /* PCMA and PCMU */
extern const struct depack_ops depack_mjpeg_ops;

#endif
