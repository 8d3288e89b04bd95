/* SPDX-License-Identifier: MIT */
/*
 * Recorder wall time for access units: the time line every track of one
 * RTSP session is put on. Pure: the recorder clock is a parameter, so
 * tests drive it with a fake clock.
 *
 * A session has one struct wallclock; each track has a struct
 * wallclock_track that maps its RTP timestamps (unwrapped, clock_rate
 * ticks) to session media time in microseconds. The first unit of the
 * session pins media time to the recorder clock; after that wall time
 * follows media time, and the difference between the two (the camera's
 * clock drifting against ours, seen on the reference track, normally the
 * video) is slewed away at most WALLCLOCK_MAX_SLEW_PPM. The other tracks
 * are placed relative to the reference: first by the RTP-Info of the PLAY
 * response, which gives every track's RTP time at one instant (RFC 2326
 * 12.33, RFC 7826 18.45; wallclock_track_align_rtpinfo()), then by RTCP
 * sender reports, which tie each track's RTP time to the camera's NTP
 * clock (RFC 3550 6.4.1; wallclock_track_align()). Only a track that has
 * neither is anchored at its first unit's arrival.
 *
 * Media time that jumps (forward beyond WALLCLOCK_JUMP_FWD_US, backward
 * beyond one frame), a track reset (SSRC change, sequence reset), the
 * camera's clock stepping ahead by more than WALLCLOCK_STEP_US at once, or
 * falling behind ours by more than WALLCLOCK_BEHIND_US, re-anchors to the
 * recorder clock and flags the unit WALLCLOCK_DISCONT: the writer starts a new
 * segment there. A track's wall time strictly increases, across those units too
 * (a re-anchored track starts no earlier than the end of its last unit),
 * except where a camera's clock stepped ahead and is stepped back.
 * Media that runs ahead gradually (a camera clock faster than the slew can
 * follow, a source sending faster than real time) is held at
 * WALLCLOCK_STEP_US ahead of the recorder clock instead: wall time cannot
 * be stepped back without overlapping what was recorded, so there the
 * correction exceeds WALLCLOCK_MAX_SLEW_PPM.
 */
#ifndef NVR_INGEST_WALLCLOCK_H
#define NVR_INGEST_WALLCLOCK_H

#include <stdint.h>

/* The largest rate correction: wall time advances between (1 - 500e-6)
 * and (1 + 500e-6) times media time. */
#define WALLCLOCK_MAX_SLEW_PPM 500
/* An error is slewed away over about this long (proportional gain), so a
 * camera drifting d ppm settles d * 60 ms off. */
#define WALLCLOCK_SLEW_HORIZON_US ((int64_t)60 * 1000000)
/* Time constant with which the error estimate follows later arrivals;
 * earlier arrivals (less network delay) are taken at once. */
#define WALLCLOCK_FILTER_US ((int64_t)30 * 1000000)
/* The largest error ahead of the recorder clock: a camera stepping ahead
 * by more at once re-anchors the time line; one drifting ahead is held
 * here. */
#define WALLCLOCK_STEP_US ((int64_t)2 * 1000000)
/* The largest error behind it before the time line steps forward. Larger:
 * units arriving late may also mean a congested network or a recorder
 * falling behind, which must not cut segments. Delay spikes shorter than
 * about WALLCLOCK_FILTER_US do not count. */
#define WALLCLOCK_BEHIND_US ((int64_t)10 * 1000000)
/* An RTCP alignment moving a running track by more than this flags its
 * next unit WALLCLOCK_DISCONT (the writer places it anew). */
#define WALLCLOCK_ALIGN_SLACK_US ((int64_t)20000)
/* An RTP-Info rtptime further than this from the timestamp of the track's
 * first packet is wrong (CAMERA-QUIRKS.md): the packets are trusted. */
#define WALLCLOCK_RTPINFO_MAX_US ((int64_t)4 * 1000000)
/* Media time moving forward more than this between two units of a track is
 * a jump (camera reboot, clock reset), not loss. */
#define WALLCLOCK_JUMP_FWD_US ((int64_t)10 * 1000000)
/* Backward tolerance when a track's frame duration is not known yet. */
#define WALLCLOCK_DEFAULT_BACK_US ((int64_t)100000)

enum wallclock_flags {
    WALLCLOCK_DISCONT = 1u << 0, /* new time line: flag NVR_AU_DISCONT */
    WALLCLOCK_JUMP = 1u << 1,    /* media time jumped or the track reset */
    WALLCLOCK_STEP = 1u << 2,    /* the error exceeded WALLCLOCK_STEP_US */
};

struct wallclock {
    int anchored;
    int64_t last_media_us; /* session media time of the last control point */
    int64_t last_wall_us;  /* its wall time, UTC us */
    int64_t last_now_us;   /* recorder clock when it was observed */
    int64_t err_us;        /* filtered wall time - recorder clock: the drift
                              the time line has left to correct */
    int slew_ppm;          /* correction now applied, |.| <= MAX_SLEW */
    int64_t slew_rem;      /* fraction of a us carried, in 1e-6 us */
    int64_t slewed_us;     /* correction applied since the session began */
    uint32_t gen;          /* bumped at each step: every track re-anchors */
    uint64_t steps;        /* WALLCLOCK_STEP events */
};

struct wallclock_track {
    int clock_rate;        /* Hz, > 0 */
    int anchored;          /* base_* valid */
    int discont_pending;   /* flag the next unit WALLCLOCK_DISCONT (1:
                              and WALLCLOCK_JUMP) */
    int synced;            /* base_* came from RTCP sender reports */
    int rtpinfo;           /* base_* came from RTP-Info (until synced) */
    uint32_t gen;          /* wallclock.gen the base belongs to */
    int64_t base_pts;      /* clock_rate ticks ... */
    int64_t base_media_us; /* ... at this session media time */
    int64_t last_pts;      /* of the previous unit */
    int64_t frame_ticks;   /* last forward step between units: one frame */
    int has_last;
    int64_t last_wall_us; /* of the previous unit */
};

/* Resets the session time line: the next unit anchors it. */
void wallclock_init(struct wallclock *wc);

/* Resets a track; clock_rate <= 0 is taken as 90000. */
void wallclock_track_init(struct wallclock_track *t, int clock_rate);

/*
 * Forgets a track's anchor (SSRC change, sequence reset): its next unit is
 * anchored at the recorder clock and flagged WALLCLOCK_DISCONT|JUMP.
 */
void wallclock_track_reset(struct wallclock_track *t);

/*
 * Gives the wall time of one unit of track t with timestamp pts, arriving
 * when the recorder clock says now_us. reference is nonzero for the track
 * whose arrivals steer the slew (one per session). Returns a combination
 * of enum wallclock_flags; *wall_us is set in every case.
 */
unsigned wallclock_unit(struct wallclock *wc, struct wallclock_track *t,
                        int64_t pts, int64_t now_us, int reference,
                        int64_t *wall_us);

/*
 * Session media time (us) of timestamp pts on an anchored track. Exact for
 * spans up to about 2^43 ticks from the track's base.
 */
int64_t wallclock_media_us(const struct wallclock_track *t, int64_t pts);

/*
 * Aligns track t on the anchored track ref from a pair of sender reports:
 * timestamp ref_pts of ref and pts of t were sampled offset_us apart on
 * the camera's clock (t's NTP time minus ref's). Later units of t map to
 * ref's media time accordingly; if that moves a track that already had
 * units by more than WALLCLOCK_ALIGN_SLACK_US, its next unit is flagged
 * WALLCLOCK_DISCONT (and may go back in time once). Returns
 * the change of t's media time in us (0 if nothing changed), or
 * INT64_MIN when ref is not anchored.
 */
int64_t wallclock_track_align(struct wallclock_track *t,
                              const struct wallclock_track *ref,
                              int64_t ref_pts, int64_t pts, int64_t offset_us);

/*
 * Whether an RTP-Info rtptime can place a track: the header gave one
 * (has_rtptime), it is none of the placeholders cameras send (0, 1), and
 * the track's first packet, with RTP timestamp first_ts, came within
 * WALLCLOCK_RTPINFO_MAX_US of it at clock_rate Hz. Returns 1 or 0.
 */
int wallclock_rtpinfo_usable(int has_rtptime, uint32_t rtptime,
                             uint32_t first_ts, int clock_rate);

/*
 * Aligns track t on the anchored track ref by RTP-Info: ref_rtptime of ref
 * and rtptime of t name the same instant (the start of the PLAY range),
 * both extended like the tracks' pts. Later units of t map to ref's media
 * time accordingly, exactly as wallclock_track_align() with offset 0 does,
 * but t stays open to sender reports (synced is 0, rtpinfo 1), which
 * refine it later. Returns the change of t's media time in us (0 if none)
 * or INT64_MIN when ref is not anchored.
 */
int64_t wallclock_track_align_rtpinfo(struct wallclock_track *t,
                                      const struct wallclock_track *ref,
                                      int64_t ref_rtptime, int64_t rtptime);

#endif
