/* SPDX-License-Identifier: MIT */
/*
 * Decode timestamps for video whose decode order differs from its
 * presentation order (B-frames). RTP carries only the presentation time
 * (RFC 6184 5.1, RFC 7798 4.1: the RTP timestamp is the sampling time of
 * the picture), and units arrive in decode order. With a reorder depth of
 * D pictures (H.264 max_num_reorder_frames, H.265
 * sps_max_num_reorder_pics), the decode time of a unit is the smallest of
 * the D + 1 largest presentation times seen so far, counting its own: a
 * sequence that never decreases, lags the presentation times by D frames
 * and is never after the unit's own pts. Until D + 1 units were seen the
 * missing ones are taken to lie a frame apart before the first.
 *
 * With D = 0 the decode time is the presentation time, exactly. A stream
 * that reorders deeper than its depth (an SPS without the field, or one
 * that understates it) raises the depth; the unit that showed it gets no
 * usable decode time, nor does a unit that repeats a presentation time
 * (which leaves the depth as it is). Internal to ingest; pure; one per video
 * track.
 */
#ifndef NVR_INGEST_DTS_ORDER_H
#define NVR_INGEST_DTS_ORDER_H

#include <stdbool.h>
#include <stdint.h>

/* Largest reorder depth followed: a DPB holds at most 16 pictures. */
#define DTS_ORDER_MAX_DEPTH 16
/* A presentation time this many seconds away from the previous one is a
 * new time line: what was seen before is forgotten. */
#define DTS_ORDER_RESET_S 10

struct dts_order {
    int depth; /* reorder depth in pictures, 0..DTS_ORDER_MAX_DEPTH */
    int n;     /* presentation times held in win */
    int64_t win[DTS_ORDER_MAX_DEPTH + 1]; /* the largest n seen, ascending */
    int64_t frame_ticks; /* smallest pts step seen (a guess before one) */
    int64_t reset_ticks; /* DTS_ORDER_RESET_S in the track clock */
    int64_t last_pts;    /* of the previous unit */
    int64_t last_dts;    /* the last decode time handed out */
    bool started;        /* last_pts is valid */
    bool have_dts;       /* last_dts is valid */
};

/* Prepares d for a track with a clock_rate (Hz, > 0) clock and a reorder
 * depth of 0. */
void dts_order_init(struct dts_order *d, int clock_rate);

/* Raises the reorder depth to `depth` (from the SPS; clamped to
 * DTS_ORDER_MAX_DEPTH). A smaller depth than the current one is ignored:
 * a larger depth only delays the decode times. */
void dts_order_set_depth(struct dts_order *d, int depth);

/*
 * The decode time of the next unit in arrival order, whose presentation
 * time is pts. Returns 0 and sets *dts (strictly after the previous
 * decode time handed out since the last reset, and <= pts); or 1 when the
 * unit came later than the depth allows (the depth is raised, *dts is
 * pts): decoding from there on needs the next keyframe.
 */
int dts_order_next(struct dts_order *d, int64_t pts, int64_t *dts);

#endif
