/* SPDX-License-Identifier: MIT */
/*
 * Decode times from presentation times in decode order (see dts_order.h).
 * The window keeps the depth + 1 largest presentation times seen: a new
 * one replaces the smallest and is sorted in by insertion (the window is
 * at most 17 entries, and usually 2 to 4).
 */
#include "config.h"
#include "ingest/dts_order.h"

#include <string.h>

/* Frame duration assumed until two presentation times were seen. */
#define DTS_ORDER_GUESS_FPS 25

void dts_order_init(struct dts_order *d, int clock_rate)
{
    memset(d, 0, sizeof(*d));
    d->frame_ticks = clock_rate / DTS_ORDER_GUESS_FPS;
    if (d->frame_ticks <= 0)
        d->frame_ticks = 1;
    d->reset_ticks = (int64_t)clock_rate * DTS_ORDER_RESET_S;
}

void dts_order_set_depth(struct dts_order *d, int depth)
{
    if (depth > DTS_ORDER_MAX_DEPTH)
        depth = DTS_ORDER_MAX_DEPTH;
    if (depth > d->depth)
        d->depth = depth;
}

/* Puts pts into the window: added while it holds fewer than depth + 1,
 * else in place of the smallest when it is larger than that. Returns
 * whether it went in. */
static bool dts_order_insert(struct dts_order *d, int64_t pts)
{
    int i;

    if (d->n < d->depth + 1) {
        i = d->n++;
    } else if (pts > d->win[0]) {
        /* Drop the smallest, then sink pts from the bottom. */
        for (i = 0; i + 1 < d->n && d->win[i + 1] < pts; i++)
            d->win[i] = d->win[i + 1];
        d->win[i] = pts;
        return true;
    } else {
        return false;
    }
    for (; i > 0 && d->win[i - 1] > pts; i--)
        d->win[i] = d->win[i - 1];
    d->win[i] = pts;
    return true;
}

/* Whether pts repeats one in the window (besides its own entry when it
 * went in): a picture with another's time, not a deeper reordering. */
static bool dts_order_seen(const struct dts_order *d, int64_t pts, bool in)
{
    int same = 0;

    for (int i = 0; i < d->n; i++)
        same += d->win[i] == pts;
    return same > (in ? 1 : 0);
}

int dts_order_next(struct dts_order *d, int64_t pts, int64_t *dts)
{
    int64_t t;
    bool in;

    if (d->started) {
        int64_t step = pts - d->last_pts;

        if (step > d->reset_ticks || -step > d->reset_ticks) {
            d->n = 0;
            d->have_dts = false;
        } else if (step > 0 && step < d->frame_ticks) {
            d->frame_ticks = step;
        }
    }
    d->started = true;
    d->last_pts = pts;
    in = dts_order_insert(d, pts);
    if (d->depth == 0)
        t = pts;
    else /* units not seen yet fill the window from below, a frame apart */
        t = d->win[0] - (int64_t)(d->depth + 1 - d->n) * d->frame_ticks;
    if (d->have_dts && t <= d->last_dts && d->last_dts < pts)
        t = d->last_dts + 1; /* a repeated pts, or a short first GOP */
    if (t > pts || (d->have_dts && t <= d->last_dts)) {
        /* Later than the depth allows: look one picture further (unless
         * the pts merely repeats), and start the decode times afresh
         * (the caller waits for a keyframe). */
        if (d->depth < DTS_ORDER_MAX_DEPTH && !dts_order_seen(d, pts, in)) {
            d->depth++;
            if (!in)
                (void)dts_order_insert(d, pts);
        }
        d->have_dts = false;
        *dts = pts;
        return 1;
    }
    d->last_dts = t;
    d->have_dts = true;
    *dts = t;
    return 0;
}
