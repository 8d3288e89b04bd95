/* SPDX-License-Identifier: MIT */
/*
 * Tests of ingest/wallclock.c with a fake recorder clock: a camera on time,
 * cameras drifting 200 and 1000 ppm either way for hours (the slew never
 * exceeds WALLCLOCK_MAX_SLEW_PPM, wall time never runs backwards between
 * flagged discontinuities, the error stays bounded), network delay spikes
 * (no step), timestamp jumps and resets (flagged), RTCP and RTP-Info
 * alignment of two tracks, and timestamps far from the anchor.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ingest/wallclock.h"

#define T0_US     ((int64_t)1790000000 * 1000000) /* a plausible UTC now */
#define FRAME_US  40000                           /* 25 fps */
#define RATE      90000
#define FRAME_TKS 3600

/* Slew is measured over windows of this many frames (10 s), where
 * rounding to whole ticks and microseconds stays near a ppm. */
#define WINDOW 250

struct sim {
    struct wallclock wc;
    struct wallclock_track v;
    int64_t now_us;    /* the recorder clock */
    double pts;        /* the camera's clock, ticks */
    int64_t prev_wall; /* last wall time returned */
    int64_t win_wall;  /* wall and pts at the start of the window */
    int64_t win_pts;
    int win_n; /* frames in the window, -1: none yet */
    int have_prev;
    int64_t max_abs_err; /* |wall - now| seen */
    double max_slew_ppm; /* |wall span - media span| / media span */
    int discont;         /* flagged units */
    int steps;           /* WALLCLOCK_STEP units */
    int backwards;       /* unflagged units whose wall did not increase */
};

static void sim_init(struct sim *s)
{
    memset(s, 0, sizeof(*s));
    wallclock_init(&s->wc);
    wallclock_track_init(&s->v, RATE);
    s->now_us = T0_US;
    s->pts = 123456789.0;
    s->win_n = -1;
}

/* One frame: the camera's clock runs (1 + ppm / 1e6) times ours; the unit
 * arrives delay_us after the recorder clock reached its capture time. */
static unsigned sim_frame(struct sim *s, double ppm, int64_t delay_us)
{
    int64_t pts = (int64_t)s->pts, wall, err;
    unsigned f;

    f = wallclock_unit(&s->wc, &s->v, pts, s->now_us + delay_us, 1, &wall);
    if (f & WALLCLOCK_DISCONT)
        s->discont++;
    if (f & WALLCLOCK_STEP)
        s->steps++;
    if (s->have_prev && !(f & WALLCLOCK_DISCONT) && wall <= s->prev_wall)
        s->backwards++;
    if (f & WALLCLOCK_DISCONT || s->win_n < 0) {
        s->win_n = 0;
        s->win_wall = wall;
        s->win_pts = pts;
    } else if (++s->win_n == WINDOW) {
        double media = (double)(pts - s->win_pts) * 1e6 / RATE;
        double slew = ((double)(wall - s->win_wall) - media) / media * 1e6;

        if (slew < 0)
            slew = -slew;
        if (slew > s->max_slew_ppm)
            s->max_slew_ppm = slew;
        s->win_n = 0;
        s->win_wall = wall;
        s->win_pts = pts;
    }
    if (delay_us == 0) {
        err = wall - s->now_us;
        if (llabs(err) > s->max_abs_err)
            s->max_abs_err = llabs(err);
    }
    s->have_prev = 1;
    s->prev_wall = wall;
    s->now_us += FRAME_US;
    s->pts += FRAME_TKS * (1.0 + ppm / 1e6);
    return f;
}

static void sim_run(struct sim *s, double ppm, int64_t seconds)
{
    for (int64_t i = 0; i < seconds * 25; i++)
        sim_frame(s, ppm, 0);
}

/* A camera on time: wall time is the anchor plus media time, exactly. */
static void test_wallclock_on_time(void **state)
{
    struct sim s;
    int64_t wall;
    unsigned f;

    (void)state;
    sim_init(&s);
    sim_run(&s, 0, 600);
    assert_int_equal(s.discont, 0);
    assert_int_equal(s.backwards, 0);
    assert_true(s.max_abs_err <= 1);
    f = wallclock_unit(&s.wc, &s.v, (int64_t)s.pts, s.now_us, 1, &wall);
    assert_int_equal(f, 0);
    assert_true(llabs(wall - s.now_us) <= 1);
    assert_int_equal(s.wc.slew_ppm, 0);
}

/* 200 ppm either way is within the slew: the error settles near
 * 200 ppm * WALLCLOCK_SLEW_HORIZON_US and stays there. */
static void test_wallclock_drift_200ppm(void **state)
{
    for (int sign = -1; sign <= 1; sign += 2) {
        struct sim s;

        (void)state;
        sim_init(&s);
        sim_run(&s, sign * 200.0, 3600);
        assert_int_equal(s.discont, 0);
        assert_int_equal(s.backwards, 0);
        assert_true(s.max_slew_ppm <= WALLCLOCK_MAX_SLEW_PPM + 2);
        /* Settled: 200e-6 * 60 s = 12 ms, with margin. */
        assert_true(llabs(s.prev_wall - (s.now_us - FRAME_US)) < 20000);
        assert_true(s.max_abs_err < 20000);
        assert_true(abs(s.wc.slew_ppm + sign * 200) <= 5);
        assert_true(sign * s.wc.slewed_us < -600000);
    }
}

/* 1000 ppm slow for an hour: the slew is pinned at its limit, the error
 * grows at the remaining 500 ppm but stays bounded, and wall time never
 * runs backwards. */
static void test_wallclock_drift_1000ppm_slow_hour(void **state)
{
    struct sim s;

    (void)state;
    sim_init(&s);
    sim_run(&s, -1000.0, 3600);
    assert_true(s.max_slew_ppm <= WALLCLOCK_MAX_SLEW_PPM + 2);
    assert_true(s.max_slew_ppm >= WALLCLOCK_MAX_SLEW_PPM - 5);
    assert_int_equal(s.backwards, 0);
    assert_true(s.max_abs_err <= WALLCLOCK_BEHIND_US + FRAME_US);
    /* Without the slew it would be 3.6 s off. */
    assert_true(s.max_abs_err < 2000000);
}

/* The same camera 1000 ppm fast: bounded too. */
static void test_wallclock_drift_1000ppm_fast_hour(void **state)
{
    struct sim s;

    (void)state;
    sim_init(&s);
    sim_run(&s, 1000.0, 3600);
    assert_true(s.max_slew_ppm <= WALLCLOCK_MAX_SLEW_PPM + 2);
    assert_int_equal(s.backwards, 0);
    assert_int_equal(s.discont, 0);
    assert_true(s.max_abs_err <= WALLCLOCK_STEP_US + FRAME_US);
}

/* Over several hours a slow camera's error would pass WALLCLOCK_STEP_US:
 * the time line steps forward to the recorder clock, flagged, and the
 * error stays bounded for good. */
static void test_wallclock_drift_1000ppm_slow_steps(void **state)
{
    struct sim s;

    (void)state;
    sim_init(&s);
    sim_run(&s, -1000.0, 24 * 3600);
    assert_true(s.steps >= 2);
    assert_int_equal(s.discont, s.steps);
    assert_int_equal(s.backwards, 0);
    assert_true(s.max_slew_ppm <= WALLCLOCK_MAX_SLEW_PPM + 2);
    assert_true(s.max_abs_err <= WALLCLOCK_BEHIND_US + FRAME_US);
    assert_int_equal(s.wc.steps, (uint64_t)s.steps);
}

/* A fast camera is held at WALLCLOCK_STEP_US ahead instead: no step back
 * (that would overlap), never backwards, bounded. */
static void test_wallclock_drift_1000ppm_fast_held(void **state)
{
    struct sim s;

    (void)state;
    sim_init(&s);
    sim_run(&s, 1000.0, 6 * 3600);
    assert_int_equal(s.discont, 0);
    assert_int_equal(s.backwards, 0);
    assert_true(s.max_abs_err <= WALLCLOCK_STEP_US);
    assert_true(s.wc.err_us == WALLCLOCK_STEP_US);
}

/* A source sending ten times faster than real time (a file replayed
 * unpaced): wall time stays within WALLCLOCK_STEP_US of ours and keeps
 * increasing, without discontinuities. */
static void test_wallclock_unpaced_source(void **state)
{
    struct sim s;

    (void)state;
    sim_init(&s);
    for (int i = 0; i < 25 * 60; i++) {
        sim_frame(&s, 0, 0);
        s.now_us -= FRAME_US - FRAME_US / 10;
    }
    assert_int_equal(s.discont, 0);
    assert_int_equal(s.backwards, 0);
    assert_true(s.max_abs_err <= WALLCLOCK_STEP_US);
}

/* The camera's clock steps 5 s ahead at once (an NTP correction): one
 * flagged discontinuity, then on time again. */
static void test_wallclock_clock_step_ahead(void **state)
{
    struct sim s;
    unsigned f;

    (void)state;
    sim_init(&s);
    sim_run(&s, 0, 10);
    s.pts += 5.0 * RATE;
    f = sim_frame(&s, 0, 0);
    assert_true(f & WALLCLOCK_STEP);
    assert_true(f & WALLCLOCK_DISCONT);
    sim_run(&s, 0, 10);
    assert_int_equal(s.discont, 1);
    assert_true(llabs(s.prev_wall - (s.now_us - FRAME_US)) <= 1);
}

/* A 3 s network stall, then the frames arrive in a burst: delay is not
 * drift, so nothing steps and the slew stays small. */
static void test_wallclock_delay_spike(void **state)
{
    struct sim s;

    (void)state;
    sim_init(&s);
    sim_run(&s, 0, 60);
    for (int i = 0; i < 75; i++) /* 3 s of frames, all late */
        sim_frame(&s, 0, (75 - i) * FRAME_US);
    sim_run(&s, 0, 60);
    assert_int_equal(s.discont, 0);
    assert_int_equal(s.backwards, 0);
    assert_true(abs(s.wc.slew_ppm) <= 100);
    assert_true(s.max_abs_err < 100000);
}

/* Media time jumping 20 s forward, or 1 s back, re-anchors at the recorder
 * clock with a discontinuity; a step back within one frame does not. */
static void test_wallclock_jumps(void **state)
{
    struct sim s;
    int64_t wall, last;
    unsigned f;

    (void)state;
    sim_init(&s);
    sim_run(&s, 0, 10);
    s.pts += 20.0 * RATE;
    f = sim_frame(&s, 0, 0);
    assert_true(f & WALLCLOCK_DISCONT);
    assert_true(f & WALLCLOCK_JUMP);
    assert_true(llabs(s.prev_wall - (s.now_us - FRAME_US)) <= 1);
    sim_run(&s, 0, 10);
    assert_int_equal(s.discont, 1);

    s.pts -= 1.0 * RATE;
    last = s.prev_wall;
    f = sim_frame(&s, 0, 0);
    assert_true(f & WALLCLOCK_JUMP);
    /* At the recorder clock, and not before the previous frame ended. */
    assert_true(llabs(s.prev_wall - (s.now_us - FRAME_US)) <= 2);
    assert_true(s.prev_wall > last + FRAME_US);
    sim_run(&s, 0, 10);
    assert_int_equal(s.discont, 2);

    /* Half a frame back (a B-frame order, a jittery encoder): no jump, and
     * wall time still moves forward. */
    last = s.prev_wall;
    f = wallclock_unit(&s.wc, &s.v, (int64_t)s.pts - FRAME_TKS - FRAME_TKS / 2,
                       s.now_us, 1, &wall);
    assert_int_equal(f & WALLCLOCK_DISCONT, 0);
    assert_true(wall > last);

    /* A forward step below the jump limit with the frames missing in
     * between (loss) is neither a jump nor a step. */
    s.pts += 5.0 * RATE;
    s.now_us += 5 * 1000000;
    f = sim_frame(&s, 0, 0);
    assert_int_equal(f, 0);
}

/* SSRC change or sequence reset: the next unit re-anchors, flagged. */
static void test_wallclock_reset(void **state)
{
    struct sim s;
    unsigned f;

    (void)state;
    sim_init(&s);
    sim_run(&s, 0, 5);
    wallclock_track_reset(&s.v);
    s.pts = 42; /* the camera restarted its clock */
    f = sim_frame(&s, 0, 0);
    assert_true(f & WALLCLOCK_DISCONT);
    assert_true(llabs(s.prev_wall - (s.now_us - FRAME_US)) <= 1);
    f = sim_frame(&s, 0, 0);
    assert_int_equal(f, 0);
}

/* Audio anchored 300 ms late (its first packet came after the video's)
 * is moved onto the camera's clock by a pair of sender reports: units of
 * both tracks captured at the same instant get the same wall time. */
static void test_wallclock_align(void **state)
{
    struct sim s;
    struct wallclock_track a;
    int64_t wall_a, apts = 1000, change, vpts, vwall, prev_a;

    (void)state;
    sim_init(&s);
    wallclock_track_init(&a, 8000);
    sim_run(&s, 0, 1);
    vpts = (int64_t)s.pts - FRAME_TKS; /* the last video unit */
    vwall = s.prev_wall;
    /* Captured with video unit vpts, but delivered 300 ms later. */
    assert_int_equal(wallclock_unit(&s.wc, &a, apts,
                                    s.now_us - FRAME_US + 300000, 0, &wall_a),
                     0);
    assert_true(llabs(wall_a - (vwall + 300000)) <= 1);
    prev_a = wall_a;
    /* Sender reports say audio apts + 1600 is 200 ms after video vpts on
     * the camera's NTP clock. */
    change = wallclock_track_align(&a, &s.v, vpts, apts + 1600, 200000);
    assert_true(llabs(change + 300000) <= 1);
    assert_true(a.synced);
    /* One second of audio after apts lands one second after vpts; the
     * first unit so placed is flagged. */
    assert_int_equal(
        wallclock_unit(&s.wc, &a, apts + 8000, s.now_us, 0, &wall_a),
        WALLCLOCK_DISCONT);
    assert_true(wall_a > prev_a);
    assert_true(llabs(wall_a - (vwall + 1000000)) <= 1);
}

/* A track that was never anchored cannot be aligned on. */
static void test_wallclock_align_unanchored(void **state)
{
    struct wallclock_track a, v;

    (void)state;
    wallclock_track_init(&a, 8000);
    wallclock_track_init(&v, RATE);
    assert_true(wallclock_track_align(&a, &v, 0, 0, 0) == INT64_MIN);
    assert_false(a.anchored);
}

/* RTP-Info values cameras get wrong (CAMERA-QUIRKS.md) are refused; values
 * near the first packet's timestamp, across the 32-bit wrap too, are
 * taken. */
static void test_wallclock_rtpinfo_usable(void **state)
{
    (void)state;
    assert_int_equal(wallclock_rtpinfo_usable(1, 123456, 123456 + 3600, RATE),
                     1);
    assert_int_equal(wallclock_rtpinfo_usable(1, 123456, 123456 - 3600, RATE),
                     1);
    /* Not given (unparseable), or the placeholders 0 and 1. */
    assert_int_equal(wallclock_rtpinfo_usable(0, 123456, 123456, RATE), 0);
    assert_int_equal(wallclock_rtpinfo_usable(1, 0, 100, RATE), 0);
    assert_int_equal(wallclock_rtpinfo_usable(1, 1, 100, RATE), 0);
    /* Across the wrap: 512 ticks apart. */
    assert_int_equal(wallclock_rtpinfo_usable(1, 0xffffff00u, 0x100, RATE), 1);
    /* Further from the packets than WALLCLOCK_RTPINFO_MAX_US. */
    assert_int_equal(
        wallclock_rtpinfo_usable(1, 1000000, 1000000 + 5 * RATE, RATE), 0);
    assert_int_equal(
        wallclock_rtpinfo_usable(1, 1000000, 1000000 + 4 * 8000, 8000), 1);
    assert_int_equal(wallclock_rtpinfo_usable(1, 1000000, 0x80000000u, RATE),
                     0);
    assert_int_equal(wallclock_rtpinfo_usable(1, 1000000, 1000000, 0), 0);
}

/*
 * RTP-Info places the audio track on the video's time line before its
 * first unit, however late that unit arrives; consistent sender reports
 * later change nothing, and no unit is flagged.
 */
static void test_wallclock_rtpinfo_align(void **state)
{
    struct sim s;
    struct wallclock_track a;
    int64_t v0 = 123456789, vr = v0 - 1800; /* RTP-Info: 20 ms before */
    int64_t ar = 4000000000LL, wall_v0, wall_a, change;

    (void)state;
    sim_init(&s);
    wallclock_track_init(&a, 8000);
    /* The first video unit (a keyframe) anchors the time line. */
    assert_int_equal(wallclock_unit(&s.wc, &s.v, v0, s.now_us, 1, &wall_v0), 0);
    change = wallclock_track_align_rtpinfo(&a, &s.v, vr, ar);
    assert_int_equal(change, 0);
    assert_true(a.anchored);
    assert_true(a.rtpinfo);
    assert_false(a.synced);
    /* Audio sampled 100 ms after the RTP-Info instant, 80 ms after the
     * video unit, but delivered 400 ms late: placed by its timestamp. */
    assert_int_equal(
        wallclock_unit(&s.wc, &a, ar + 800, s.now_us + 400000, 0, &wall_a), 0);
    assert_true(llabs(wall_a - (wall_v0 + 80000)) <= 1);
    /* Sender reports that agree (audio ar is video vr on the NTP clock)
     * refine nothing and flag nothing. */
    change = wallclock_track_align(&a, &s.v, vr, ar, 0);
    assert_true(llabs(change) <= 1);
    assert_true(a.synced);
    assert_false(a.rtpinfo);
    assert_int_equal(
        wallclock_unit(&s.wc, &a, ar + 1600, s.now_us + 400000, 0, &wall_a), 0);
    assert_true(llabs(wall_a - (wall_v0 + 180000)) <= 1);
}

/* Sender reports that disagree with RTP-Info by more than the slack move
 * the track, and flag its next unit; within the slack they move it
 * quietly. */
static void test_wallclock_rtpinfo_then_sr(void **state)
{
    struct sim s;
    struct wallclock_track a;
    int64_t v0 = 5000, ar = 77777, wall_v0, wall_a, change;

    (void)state;
    sim_init(&s);
    wallclock_track_init(&a, 8000);
    assert_int_equal(wallclock_unit(&s.wc, &s.v, v0, s.now_us, 1, &wall_v0), 0);
    assert_int_equal(wallclock_track_align_rtpinfo(&a, &s.v, v0, ar), 0);
    assert_int_equal(
        wallclock_unit(&s.wc, &a, ar, s.now_us + 30000, 0, &wall_a), 0);
    assert_true(llabs(wall_a - wall_v0) <= 1);
    /* 10 ms: within WALLCLOCK_ALIGN_SLACK_US. */
    change = wallclock_track_align(&a, &s.v, v0, ar, 10000);
    assert_true(llabs(change - 10000) <= 1);
    assert_int_equal(
        wallclock_unit(&s.wc, &a, ar + 160, s.now_us + 30000, 0, &wall_a), 0);
    assert_true(llabs(wall_a - (wall_v0 + 30000)) <= 1);
    /* 60 ms more: flagged. */
    change = wallclock_track_align(&a, &s.v, v0, ar, 70000);
    assert_true(llabs(change - 60000) <= 1);
    assert_int_equal(
        wallclock_unit(&s.wc, &a, ar + 320, s.now_us + 30000, 0, &wall_a),
        WALLCLOCK_DISCONT);
    assert_true(llabs(wall_a - (wall_v0 + 110000)) <= 1);
}

/* RTP-Info cannot place a track on one that is not anchored; a reset
 * forgets the placement. */
static void test_wallclock_rtpinfo_unanchored_reset(void **state)
{
    struct wallclock_track a, v;
    struct wallclock wc;
    int64_t wall;

    (void)state;
    wallclock_init(&wc);
    wallclock_track_init(&a, 8000);
    wallclock_track_init(&v, RATE);
    assert_true(wallclock_track_align_rtpinfo(&a, &v, 10, 10) == INT64_MIN);
    assert_false(a.anchored);
    (void)wallclock_unit(&wc, &v, 1000, T0_US, 1, &wall);
    assert_int_equal(wallclock_track_align_rtpinfo(&a, &v, 1000, 10), 0);
    wallclock_track_reset(&a);
    assert_false(a.anchored);
    assert_false(a.rtpinfo);
}

/* A step of the time line seen on the reference track flags the next unit
 * of every other track too. */
static void test_wallclock_step_flags_other_tracks(void **state)
{
    struct sim s;
    struct wallclock_track a;
    int64_t wall, apts = 0;
    unsigned f;

    (void)state;
    sim_init(&s);
    wallclock_track_init(&a, 8000);
    for (int i = 0; s.steps == 0 && i < 25 * 24 * 3600; i++) {
        sim_frame(&s, -1000.0, 0);
        f = wallclock_unit(&s.wc, &a, apts, s.now_us, 0, &wall);
        apts += 320;
        if (s.steps)
            assert_true(f & WALLCLOCK_DISCONT);
        else
            assert_int_equal(f, 0);
    }
    assert_int_equal(s.steps, 1);
}

/* Timestamps near 2^45 ticks from the anchor (a session of months) keep
 * exact media time. */
static void test_wallclock_far_timestamps(void **state)
{
    struct wallclock wc;
    struct wallclock_track t;
    int64_t wall0, wall, pts = 5;

    (void)state;
    wallclock_init(&wc);
    wallclock_track_init(&t, RATE);
    (void)wallclock_unit(&wc, &t, pts, T0_US, 1, &wall0);
    for (int i = 1; i <= 8; i++) {
        int64_t step = (int64_t)1 << 42; /* ~1.5 years per step */

        t.last_pts = pts + step - FRAME_TKS; /* as if units came between */
        t.frame_ticks = FRAME_TKS;
        pts += step;
        (void)wallclock_unit(&wc, &t, pts, T0_US, 0, &wall);
        assert_true(llabs((wall - wall0) -
                          (int64_t)((double)(pts - 5) * 1e6 / RATE)) <= 2);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wallclock_on_time),
        cmocka_unit_test(test_wallclock_drift_200ppm),
        cmocka_unit_test(test_wallclock_drift_1000ppm_slow_hour),
        cmocka_unit_test(test_wallclock_drift_1000ppm_fast_hour),
        cmocka_unit_test(test_wallclock_drift_1000ppm_slow_steps),
        cmocka_unit_test(test_wallclock_drift_1000ppm_fast_held),
        cmocka_unit_test(test_wallclock_unpaced_source),
        cmocka_unit_test(test_wallclock_clock_step_ahead),
        cmocka_unit_test(test_wallclock_delay_spike),
        cmocka_unit_test(test_wallclock_jumps),
        cmocka_unit_test(test_wallclock_reset),
        cmocka_unit_test(test_wallclock_align),
        cmocka_unit_test(test_wallclock_align_unanchored),
        cmocka_unit_test(test_wallclock_rtpinfo_usable),
        cmocka_unit_test(test_wallclock_rtpinfo_align),
        cmocka_unit_test(test_wallclock_rtpinfo_then_sr),
        cmocka_unit_test(test_wallclock_rtpinfo_unanchored_reset),
        cmocka_unit_test(test_wallclock_step_flags_other_tracks),
        cmocka_unit_test(test_wallclock_far_timestamps),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
