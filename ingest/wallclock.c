/* SPDX-License-Identifier: MIT */
/*
 * The session time line (see wallclock.h): RTP timestamps to recorder
 * wall time, with the camera's drift slewed away at a bounded rate and
 * jumps turned into flagged discontinuities. Pure integer arithmetic over
 * caller-owned state; the recorder clock comes in as a parameter.
 *
 * Wall time is piecewise linear in session media time: from the last
 * control point (a unit of the reference track) it advances
 * (1 + slew_ppm / 1e6) times as fast as media time. At each reference unit
 * the error (its wall time minus the recorder clock at arrival) is
 * filtered, and the slew for the next stretch is set against it. Arrival
 * times include network delay, which only ever makes units late: the
 * filter takes an earlier arrival at once and a later one slowly.
 */
#include "config.h"
#include "ingest/wallclock.h"

#include <string.h>

#define WALLCLOCK_US_PER_S 1000000
/* Re-base a track before (pts - base) * 1e6 could overflow int64. */
#define WALLCLOCK_REBASE_TICKS ((int64_t)1 << 42)
/* wallclock_track.discont_pending */
#define WALLCLOCK_PENDING_JUMP 1
#define WALLCLOCK_PENDING_SYNC 2

void wallclock_init(struct wallclock *wc)
{
    memset(wc, 0, sizeof(*wc));
}

void wallclock_track_init(struct wallclock_track *t, int clock_rate)
{
    memset(t, 0, sizeof(*t));
    t->clock_rate = clock_rate > 0 ? clock_rate : 90000;
}

void wallclock_track_reset(struct wallclock_track *t)
{
    t->anchored = 0;
    t->synced = 0;
    t->rtpinfo = 0;
    t->discont_pending = WALLCLOCK_PENDING_JUMP;
}

/* a / b rounded towards minus infinity (b > 0), so the mapping from
 * ticks to microseconds never decreases. */
static int64_t div_floor(int64_t a, int64_t b)
{
    int64_t q = a / b;

    if ((a % b) != 0 && a < 0)
        q--;
    return q;
}

int64_t wallclock_media_us(const struct wallclock_track *t, int64_t pts)
{
    return t->base_media_us +
           div_floor((pts - t->base_pts) * WALLCLOCK_US_PER_S, t->clock_rate);
}

/* Wall time of session media time m: the line through the last control
 * point with the current slew. */
static int64_t wc_map(const struct wallclock *wc, int64_t media_us)
{
    int64_t d = media_us - wc->last_media_us;

    return wc->last_wall_us + d +
           div_floor(d * wc->slew_ppm + wc->slew_rem, WALLCLOCK_US_PER_S);
}

/* Session media time that maps to recorder time now_us. */
static int64_t wc_media_at(const struct wallclock *wc, int64_t now_us)
{
    int64_t d = now_us - wc->last_wall_us;

    return wc->last_media_us + d -
           d * wc->slew_ppm / (WALLCLOCK_US_PER_S + wc->slew_ppm);
}

static void wc_anchor(struct wallclock *wc, int64_t media_us, int64_t now_us)
{
    wc->anchored = 1;
    wc->last_media_us = media_us;
    wc->last_wall_us = now_us;
    wc->last_now_us = now_us;
    wc->err_us = 0;
    wc->slew_ppm = 0;
    wc->slew_rem = 0;
}

/* Anchors pts at the recorder clock, but never before the end of the
 * track's previous unit (its wall time plus one frame): a restarted
 * stream continues the time line rather than overlap what is recorded. */
static void track_anchor(struct wallclock *wc, struct wallclock_track *t,
                         int64_t pts, int64_t now_us)
{
    int64_t at = now_us;

    if (t->has_last) {
        int64_t end = t->last_wall_us + 1 +
                      t->frame_ticks * WALLCLOCK_US_PER_S / t->clock_rate;

        if (end > at)
            at = end;
    }
    t->anchored = 1;
    t->synced = 0;
    t->rtpinfo = 0;
    t->base_pts = pts;
    t->base_media_us = wc_media_at(wc, at);
}

/* Moves the base along in whole seconds, keeping the mapping exact. */
static void track_rebase(struct wallclock_track *t, int64_t pts)
{
    int64_t d = pts - t->base_pts;

    if (d <= WALLCLOCK_REBASE_TICKS && d >= -WALLCLOCK_REBASE_TICKS)
        return;
    d = d / t->clock_rate;
    t->base_pts += d * t->clock_rate;
    t->base_media_us += d * WALLCLOCK_US_PER_S;
}

static int track_jumped(const struct wallclock_track *t, int64_t pts)
{
    int64_t delta = pts - t->last_pts;
    int64_t fwd = WALLCLOCK_JUMP_FWD_US * t->clock_rate / WALLCLOCK_US_PER_S;
    int64_t back = t->frame_ticks > 0 ? t->frame_ticks
                                      : WALLCLOCK_DEFAULT_BACK_US *
                                            t->clock_rate / WALLCLOCK_US_PER_S;

    return delta > fwd || -delta > back;
}

static unsigned wc_step(struct wallclock *wc, int64_t media_us,
                        int64_t *wall_us, int64_t now_us)
{
    wc_anchor(wc, media_us, now_us);
    wc->gen++;
    wc->steps++;
    *wall_us = now_us;
    return WALLCLOCK_STEP | WALLCLOCK_DISCONT;
}

/* Feeds the error of one reference unit; returns WALLCLOCK_STEP flags if
 * the time line had to be re-anchored. May pull *wall_us back. */
static unsigned wc_observe(struct wallclock *wc, int64_t media_us,
                           int64_t *wall_us, int64_t now_us)
{
    int64_t e = *wall_us - now_us;
    int64_t dt = now_us - wc->last_now_us;
    int64_t ppm;

    if (media_us <= wc->last_media_us)
        return 0; /* not a new control point (a late or repeated unit) */
    if (dt < 0)
        dt = 0;
    if (dt > WALLCLOCK_FILTER_US)
        dt = WALLCLOCK_FILTER_US;
    /* The camera's clock stepping ahead at once, or falling behind ours
     * further than the slew can make up, starts the time line again from
     * the recorder clock (forward in time in the second case). */
    if (e - wc->err_us > WALLCLOCK_STEP_US)
        return wc_step(wc, media_us, wall_us, now_us);
    if (e >= wc->err_us)
        wc->err_us = e;
    else
        wc->err_us += (e - wc->err_us) * dt / WALLCLOCK_FILTER_US;
    if (wc->err_us < -WALLCLOCK_BEHIND_US)
        return wc_step(wc, media_us, wall_us, now_us);
    if (wc->err_us > WALLCLOCK_STEP_US) {
        /* Media keeps arriving ahead of the recorder clock (a camera
         * clock faster than the slew can follow, or a source sending
         * faster than real time). A unit cannot have been captured after
         * it arrived, and stepping back would overlap what is recorded:
         * hold the time line at the bound, compressing media time. */
        *wall_us = now_us + WALLCLOCK_STEP_US;
        wc->err_us = WALLCLOCK_STEP_US;
    }
    ppm = -wc->err_us * WALLCLOCK_US_PER_S / WALLCLOCK_SLEW_HORIZON_US;
    if (ppm > WALLCLOCK_MAX_SLEW_PPM)
        ppm = WALLCLOCK_MAX_SLEW_PPM;
    if (ppm < -WALLCLOCK_MAX_SLEW_PPM)
        ppm = -WALLCLOCK_MAX_SLEW_PPM;
    if (*wall_us == wc_map(wc, media_us)) {
        /* Carry the fraction of a microsecond the slew left over, so the
         * rate applied over many units is the rate asked for. */
        int64_t c =
            (media_us - wc->last_media_us) * wc->slew_ppm + wc->slew_rem;

        wc->slew_rem =
            c - div_floor(c, WALLCLOCK_US_PER_S) * WALLCLOCK_US_PER_S;
    } else {
        wc->slew_rem = 0;
    }
    wc->slewed_us +=
        (*wall_us - wc->last_wall_us) - (media_us - wc->last_media_us);
    wc->last_media_us = media_us;
    wc->last_wall_us = *wall_us;
    wc->last_now_us = now_us;
    wc->slew_ppm = (int)ppm;
    return 0;
}

unsigned wallclock_unit(struct wallclock *wc, struct wallclock_track *t,
                        int64_t pts, int64_t now_us, int reference,
                        int64_t *wall_us)
{
    unsigned flags = 0;
    int64_t media_us, wall;

    if (!wc->anchored)
        wc_anchor(wc, 0, now_us);
    if (t->discont_pending) {
        flags |= WALLCLOCK_DISCONT;
        if (t->discont_pending == WALLCLOCK_PENDING_JUMP)
            flags |= WALLCLOCK_JUMP;
        t->discont_pending = 0;
    }
    if (!t->anchored) {
        track_anchor(wc, t, pts, now_us);
        t->frame_ticks = 0;
        t->gen = wc->gen;
    } else if (t->has_last && track_jumped(t, pts)) {
        track_anchor(wc, t, pts, now_us);
        t->frame_ticks = 0;
        flags |= WALLCLOCK_DISCONT | WALLCLOCK_JUMP;
    } else {
        track_rebase(t, pts);
    }
    if (t->has_last && pts > t->last_pts && !(flags & WALLCLOCK_JUMP))
        t->frame_ticks = pts - t->last_pts;
    if (t->gen != wc->gen) {
        /* Another track stepped the time line. */
        flags |= WALLCLOCK_DISCONT;
        t->gen = wc->gen;
    }
    media_us = wallclock_media_us(t, pts);
    wall = wc_map(wc, media_us);
    if (reference) {
        flags |= wc_observe(wc, media_us, &wall, now_us);
        t->gen = wc->gen;
    }
    if (!(flags & WALLCLOCK_DISCONT) && t->has_last && wall <= t->last_wall_us)
        wall = t->last_wall_us + 1;
    t->has_last = 1;
    t->last_pts = pts;
    t->last_wall_us = wall;
    *wall_us = wall;
    return flags;
}

/* Puts pts of t at media time target; see wallclock_track_align(). */
static int64_t track_place(struct wallclock_track *t,
                           const struct wallclock_track *ref, int64_t target,
                           int64_t pts)
{
    int64_t before = t->anchored ? wallclock_media_us(t, pts) : target;

    if (!t->anchored)
        t->gen = ref->gen;
    /* Units already delivered were placed otherwise: the next one starts
     * the corrected placement, flagged so it is not read as continuing. */
    if (t->has_last && (target - before > WALLCLOCK_ALIGN_SLACK_US ||
                        before - target > WALLCLOCK_ALIGN_SLACK_US))
        t->discont_pending = WALLCLOCK_PENDING_SYNC;
    t->anchored = 1;
    t->base_pts = pts;
    t->base_media_us = target;
    return target - before;
}

int64_t wallclock_track_align(struct wallclock_track *t,
                              const struct wallclock_track *ref,
                              int64_t ref_pts, int64_t pts, int64_t offset_us)
{
    int64_t change;

    if (!ref->anchored)
        return INT64_MIN;
    change =
        track_place(t, ref, wallclock_media_us(ref, ref_pts) + offset_us, pts);
    t->synced = 1;
    t->rtpinfo = 0;
    return change;
}

int wallclock_rtpinfo_usable(int has_rtptime, uint32_t rtptime,
                             uint32_t first_ts, int clock_rate)
{
    int64_t d = (int32_t)(first_ts - rtptime);

    if (!has_rtptime || rtptime <= 1 || clock_rate <= 0)
        return 0;
    if (d < 0)
        d = -d;
    return d * WALLCLOCK_US_PER_S <= WALLCLOCK_RTPINFO_MAX_US * clock_rate;
}

int64_t wallclock_track_align_rtpinfo(struct wallclock_track *t,
                                      const struct wallclock_track *ref,
                                      int64_t ref_rtptime, int64_t rtptime)
{
    int64_t change;

    if (!ref->anchored)
        return INT64_MIN;
    change = track_place(t, ref, wallclock_media_us(ref, ref_rtptime), rtptime);
    t->synced = 0;
    t->rtpinfo = 1;
    return change;
}
