/* SPDX-License-Identifier: MIT */
/*
 * The media side of an RTSP session: RTP packets (interleaved on the RTSP
 * connection, or from rtsp_udp.c) through the sequence tracker and the
 * depacketizer, access units stamped with recorder wall time (wallclock.h)
 * and handed up; a camera's tracks put on one time line by the PLAY
 * response's RTP-Info (RFC 2326 12.33) and RTCP sender reports (RFC 3550
 * 6.4.1), checked against the packets; receiver reports (6.4.2) for UDP.
 * Loop thread only.
 */
#include "config.h"

#include "ingest/rtsp_session_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "ingest/rtcp.h"
#include "nvr/base/clock.h"
#include "nvr/base/compiler.h"
#include "nvr/base/log.h"
#include "nvr/base/refusal.h"

/* Our CNAME in receiver reports (RFC 3550 6.5.1 allows any unique name;
 * there is no user@host worth giving away). */
#define MEDIA_CNAME    "nvr"
#define MEDIA_RR_BYTES 128

/* Per-packet problems: the first one of each period at WARN, the rest
 * counted and summarised with the next. */
NVR_PRINTF(2, 3)
static void sess_warn_rl(struct rtsp_session *s, const char *fmt, ...)
{
    uint64_t now = uv_now(s->loop);
    char line[SESS_MSG_MAX];
    va_list ap;

    if (s->warn_last_ms && now - s->warn_last_ms < SESS_WARN_PERIOD_MS) {
        s->warn_suppressed++;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (s->warn_suppressed)
        LOG_W("ingest",
              "camera %s: %s (and %" PRIu64 " other packet problems in the "
              "last %d s)",
              s->camera, line, s->warn_suppressed, SESS_WARN_PERIOD_MS / 1000);
    else
        LOG_W("ingest", "camera %s: %s", s->camera, line);
    s->warn_last_ms = now ? now : 1;
    s->warn_suppressed = 0;
}

/* ---- the deadline for a complete unit ---- */

/* Fragmentation units: FU-A of H.264 (RFC 6184 5.8) and FU of H.265
 * (RFC 7798 4.4.3). */
#define MEDIA_H264_FU_A 28
#define MEDIA_H265_FU   49

/* Whether units of track t count for the deadline: those of a video track
 * if the session has one (audio alone does not make a recording). */
static int sess_unit_counts(const struct rtsp_session *s,
                            const struct sess_track *t)
{
    if (t->video)
        return 1;
    for (int i = 0; i < s->n_tracks; i++)
        if (s->tracks[i].video)
            return 0;
    return 1;
}

static void sess_unit_seen(struct rtsp_session *s)
{
    s->last_unit_ms = uv_now(s->loop);
    s->unit_rtp = s->rtp_received;
    s->unit_dropped = s->stats->aus_dropped;
    s->units_gated = 0;
    for (int i = 0; i < s->n_tracks; i++) {
        s->tracks[i].frame_max = 0;
        s->tracks[i].fu_ends = 0;
    }
}

void rtsp_media__unit_deadline_start(struct rtsp_session *s)
{
    sess_unit_seen(s);
    s->refused_mark = s->stats->aus_dropped;
}

/* Counts one unit refused by the session for `why`. */
static void sess_refuse(struct rtsp_session *s, enum nvr_refusal why)
{
    s->stats->aus_dropped++;
    nvr_refusals_count(&s->stats->refused, why);
}

/* Releases a unit refused by the session for `why`. */
static void sess_refuse_au(struct rtsp_session *s, struct nvr_au *au,
                           enum nvr_refusal why)
{
    sess_refuse(s, why);
    nvr_au_unref(au);
}

/* Watches one packet of the track: frame sizes (a frame ends at the
 * marker bit or when the timestamp changes) and fragmented NAL units,
 * whatever the depacketizer makes of them. */
static void sess_watch(struct sess_track *t, const struct rtp_hdr *h)
{
    const uint8_t *p = h->payload;
    size_t len = h->payload_len;
    int fu = 0, start = 0, end = 0;

    if (t->frame_bytes && h->ts != t->frame_ts)
        t->frame_bytes = 0;
    t->frame_ts = h->ts;
    t->frame_bytes += len;
    if (t->frame_bytes > t->frame_max)
        t->frame_max = t->frame_bytes;
    if (h->marker)
        t->frame_bytes = 0;
    if (t->sdp->codec == NVR_CODEC_H264 && len >= 2 &&
        (p[0] & 0x1fu) == MEDIA_H264_FU_A) {
        fu = 1;
        start = (p[1] & 0x80u) != 0;
        end = (p[1] & 0x40u) != 0;
    } else if (t->sdp->codec == NVR_CODEC_H265 && len >= 3 &&
               ((p[0] >> 1) & 0x3fu) == MEDIA_H265_FU) {
        fu = 1;
        start = (p[2] & 0x80u) != 0;
        end = (p[2] & 0x40u) != 0;
    }
    if (!fu) {
        t->fu_open = 0; /* another packet ends any fragmented unit */
        return;
    }
    if (start) {
        t->fu_open = 1;
        t->fu_bytes = 0;
    }
    if (t->fu_open)
        t->fu_bytes += len;
    if (end && t->fu_open) {
        t->fu_open = 0;
        t->fu_ends++;
    }
}

static double mb(size_t bytes)
{
    return (double)bytes / (1024.0 * 1024.0);
}

int rtsp_media__stall(const struct rtsp_session *s, char *buf, size_t size)
{
    uint64_t dropped = s->stats->aus_dropped - s->unit_dropped;

    for (int i = 0; i < s->n_tracks; i++) {
        const struct sess_track *t = &s->tracks[i];

        if (!sess_unit_counts(s, t))
            continue;
        if (t->fu_open && t->fu_ends == 0) {
            snprintf(buf, size, "%s never ended (%.1f MB so far)",
                     t->sdp->codec == NVR_CODEC_H265 ? "FU" : "FU-A",
                     mb(t->fu_bytes));
            return t->fu_bytes > NVR_AU_MAX_BYTES ? -EMSGSIZE : -ETIMEDOUT;
        }
        if (t->frame_max > NVR_AU_MAX_BYTES) {
            snprintf(buf, size,
                     "frame over NVR_AU_MAX_BYTES (%.1f MB, limit %.0f MB)",
                     mb(t->frame_max), mb(NVR_AU_MAX_BYTES));
            return -EMSGSIZE;
        }
    }
    if (s->units_gated > 0)
        snprintf(buf, size, "no keyframe (%" PRIu64 " units dropped)",
                 s->units_gated);
    else if (dropped > 0)
        snprintf(buf, size, "%" PRIu64 " units dropped as lost or malformed",
                 dropped);
    else
        snprintf(buf, size, "no unit in %" PRIu64 " RTP packets",
                 s->rtp_received - s->unit_rtp);
    return -ETIMEDOUT;
}

/* Builds the stream description from every set-up track. */
static void sess_build_info(struct rtsp_session *s)
{
    memset(&s->info, 0, sizeof(s->info));
    s->info.n_tracks = s->n_tracks;
    for (int i = 0; i < s->n_tracks; i++) {
        struct sess_track *t = &s->tracks[i];
        struct nvr_track_info *ti = &s->info.tracks[i];

        t->ops->get_info(t->depack, ti);
        ti->codec = t->sdp->codec;
        ti->clock_rate = t->sdp->clock_rate;
        ti->channels = t->sdp->channels;
        if (ti->params_len == 0 && t->sdp->params_len > 0 &&
            t->sdp->params_len <= sizeof(ti->params)) {
            memcpy(ti->params, t->sdp->params, t->sdp->params_len);
            ti->params_len = t->sdp->params_len;
        }
        t->announced = 1;
        t->announced_gen = ti->params_gen;
        t->need_key = t->video;
    }
}

/*
 * Wall time for one unit (wallclock.h): the session's first unit pins the
 * time line to the recorder clock; jumps, resets and clock steps become
 * NVR_AU_DISCONT so the writer starts a new segment there.
 */
static void sess_sync_tracks(struct rtsp_session *s);

static void sess_stamp(struct rtsp_session *s, struct sess_track *t,
                       struct nvr_au *au, int64_t arrival_us)
{
    int ref = t->stream_index == s->ref_track;
    unsigned fl;

    /* A track's first unit is placed relative to the reference track if
     * anything allows it (RTP-Info, sender reports), not by arrival. */
    if (!ref && !t->clock.anchored)
        sess_sync_tracks(s);
    fl = wallclock_unit(&s->clock, &t->clock, au->pts, arrival_us, ref,
                        &au->wall_us);
    if (fl & WALLCLOCK_DISCONT)
        au->flags |= NVR_AU_DISCONT;
    if (fl & (WALLCLOCK_JUMP | WALLCLOCK_STEP)) {
        s->stats->ts_jumps++;
        if (fl & WALLCLOCK_STEP)
            LOG_W("ingest",
                  "camera %s: its clock is more than %d s off the "
                  "recorder's; time line re-anchored",
                  s->camera, (int)(WALLCLOCK_STEP_US / 1000000));
        else
            LOG_I("ingest",
                  "camera %s: timestamps of track %d jumped; starting a "
                  "new segment",
                  s->camera, t->stream_index);
    }
    if (ref) {
        s->stats->drift_us = s->clock.err_us;
        s->stats->slew_ppm = s->clock.slew_ppm;
    }
}

static void sess_deliver(struct rtsp_session *s, struct nvr_au *au)
{
    s->stats->aus++;
    s->stats->last_au_wall_us = au->wall_us;
    /* The units refused since the previous one go with it to the writer,
     * which counts them in the segment it lands in. */
    au->refused_before =
        (uint32_t)NVR_MIN(s->stats->aus_dropped - s->refused_mark, UINT32_MAX);
    s->refused_mark = s->stats->aus_dropped;
    if (s->ev->on_au)
        s->ev->on_au(s->user_data, au);
    else
        nvr_au_unref(au);
}

/*
 * Delivers queued units in wall time order across tracks: the earliest
 * goes once every other track has delivered a unit at least as late (its
 * own later units will not be earlier), once it waited SESS_INTERLEAVE_US,
 * or once the queue is full; all of them when `all`. So the writer sees
 * a camera's audio and video interleaved by time, whatever each track's
 * delivery delay, and cuts segments at the right place for both.
 */
static void sess_drain(struct rtsp_session *s, int all)
{
    int64_t now = nvr_clock_wall_us();

    while (s->n_held > 0) {
        struct nvr_au *au;
        int i = 0, ok = all || s->n_held >= SESS_HOLD_UNITS ||
                        s->held_bytes >= SESS_HOLD_BYTES;

        for (int k = 1; k < s->n_held; k++)
            if (s->held[k].au->wall_us < s->held[i].au->wall_us)
                i = k;
        au = s->held[i].au;
        if (!ok && now - s->held[i].arrival_us >= SESS_INTERLEAVE_US)
            ok = 1;
        if (!ok) {
            ok = 1;
            for (int k = 0; k < s->n_tracks; k++)
                if (&s->tracks[k] != s->held[i].t && s->tracks[k].stamped &&
                    s->tracks[k].last_wall_us < au->wall_us)
                    ok = 0;
        }
        if (!ok)
            break;
        s->held_bytes -= au->len;
        memmove(&s->held[i], &s->held[i + 1],
                (size_t)(s->n_held - i - 1) * sizeof(s->held[0]));
        s->n_held--;
        if (s->stopping || s->closing)
            sess_refuse_au(s, au, NVR_REFUSAL_SESSION_END);
        else
            sess_deliver(s, au);
    }
}

/* Queues one stamped unit for sess_drain(). */
static void sess_queue(struct rtsp_session *s, struct sess_track *t,
                       struct nvr_au *au, int64_t arrival_us)
{
    s->held[s->n_held].au = au;
    s->held[s->n_held].t = t;
    s->held[s->n_held].arrival_us = arrival_us;
    s->n_held++;
    s->held_bytes += au->len;
    t->last_wall_us = au->wall_us;
    t->stamped = 1;
    sess_drain(s, 0);
}

void rtsp_media__drop_held(struct rtsp_session *s)
{
    for (int i = 0; i < s->n_held; i++)
        sess_refuse_au(s, s->held[i].au, NVR_REFUSAL_SESSION_END);
    s->n_held = 0;
    s->held_bytes = 0;
}

/* Whether the RTP-Info rtptime of track t agrees with its packets. */
static int sess_rtpinfo_usable(const struct sess_track *t)
{
    return t->seen_packet &&
           wallclock_rtpinfo_usable(t->rtpinfo_has, t->rtpinfo_rtptime,
                                    t->first_ts, t->sdp->clock_rate);
}

/* Whether RTP-Info can place every track that has sent packets on the
 * reference track, once t, the track of the unit just held, is the
 * reference (its first unit anchors the time line). */
static int sess_rtpinfo_ready(const struct rtsp_session *s,
                              const struct sess_track *t)
{
    if (t->stream_index != s->ref_track ||
        !sess_rtpinfo_usable(&s->tracks[s->ref_track]))
        return 0;
    for (int i = 0; i < s->n_tracks; i++)
        if (s->tracks[i].seen_packet && !sess_rtpinfo_usable(&s->tracks[i]))
            return 0;
    return 1;
}

/* Whether every track has a sender report (or has sent nothing yet). */
static int sess_all_reported(const struct rtsp_session *s)
{
    if (!s->tracks[s->ref_track].sr_valid)
        return 0;
    for (int i = 0; i < s->n_tracks; i++)
        if (s->tracks[i].seen_packet && !s->tracks[i].sr_valid)
            return 0;
    return 1;
}

/*
 * Stamps and delivers the held units in their order. The reference
 * track's first unit anchors the time line first, so the other tracks can
 * be aligned on it before any of their units is stamped.
 */
static void sess_release(struct rtsp_session *s)
{
    int first_ref = -1;

    s->holding = 0;
    for (int i = 0; i < s->n_held && first_ref < 0; i++)
        if (s->held[i].t->stream_index == s->ref_track)
            first_ref = i;
    if (first_ref >= 0)
        sess_stamp(s, s->held[first_ref].t, s->held[first_ref].au,
                   s->held[first_ref].arrival_us);
    sess_sync_tracks(s);
    for (int i = 0; i < s->n_held; i++) {
        struct sess_track *t = s->held[i].t;

        if (i != first_ref)
            sess_stamp(s, t, s->held[i].au, s->held[i].arrival_us);
        t->last_wall_us = s->held[i].au->wall_us;
        t->stamped = 1;
    }
    sess_drain(s, 1);
}

/* Holds one unit back (see SESS_HOLD_UNITS); releases them all once the
 * tracks can be aligned (sender reports for every track, or RTP-Info and
 * the reference track's first unit) or the hold is over. */
static void sess_hold(struct rtsp_session *s, struct sess_track *t,
                      struct nvr_au *au)
{
    uint64_t now = uv_now(s->loop);

    if (s->n_held == 0)
        s->hold_start_ms = now;
    s->held[s->n_held].au = au;
    s->held[s->n_held].t = t;
    s->held[s->n_held].arrival_us = nvr_clock_wall_us();
    s->n_held++;
    s->held_bytes += au->len;
    if (s->n_tracks < 2 || sess_all_reported(s) || sess_rtpinfo_ready(s, t) ||
        now - s->hold_start_ms >= (uint64_t)s->hold_ms ||
        s->n_held == SESS_HOLD_UNITS || s->held_bytes >= SESS_HOLD_BYTES)
        sess_release(s);
}

static void sess_emit(void *user, struct nvr_au *au)
{
    struct sess_track *t = user;
    struct rtsp_session *s = t->sess;
    struct nvr_track_info ti;
    int is_key = (au->flags & NVR_AU_KEY) != 0;
    int64_t now;

    if (s->stopping || s->closing || s->state == SESS_TEARDOWN) {
        sess_refuse_au(s, au, NVR_REFUSAL_SESSION_END);
        return;
    }
    t->ops->get_info(t->depack, &ti);
    if (!t->announced || ti.params_gen != t->announced_gen) {
        /* A video track announces new parameters only with a keyframe,
         * so the first unit after on_stream can be decoded. */
        if (t->video && !is_key) {
            s->units_gated++;
            sess_refuse_au(s, au, NVR_REFUSAL_NO_KEYFRAME);
            return;
        }
        sess_build_info(s);
        if (!s->recording) {
            s->recording = 1;
            if (s->ev->on_recording)
                s->ev->on_recording(s->user_data);
            if (s->stopping) {
                sess_refuse_au(s, au, NVR_REFUSAL_SESSION_END);
                return;
            }
        }
        if (s->ev->on_stream)
            s->ev->on_stream(s->user_data, &s->info);
        if (s->stopping) {
            sess_refuse_au(s, au, NVR_REFUSAL_SESSION_END);
            return;
        }
    }
    if (t->need_key) {
        if (!is_key) {
            s->units_gated++;
            sess_refuse_au(s, au, NVR_REFUSAL_NO_KEYFRAME);
            return;
        }
        t->need_key = 0;
    }
    if (sess_unit_counts(s, t))
        sess_unit_seen(s);
    au->track = t->stream_index;
    if (s->holding) {
        sess_hold(s, t, au);
        return;
    }
    now = nvr_clock_wall_us();
    sess_stamp(s, t, au, now);
    if (s->n_tracks < 2)
        sess_deliver(s, au);
    else
        sess_queue(s, t, au, now);
}

/* Interarrival jitter (RFC 3550 A.8) of a UDP packet with timestamp ts. */
static void sess_jitter(struct rtsp_session *s, struct sess_track *t,
                        uint32_t ts)
{
    int64_t rate = t->sdp->clock_rate > 0 ? t->sdp->clock_rate : 90000;
    int64_t arrival = (int64_t)(uv_hrtime() / 1000) * rate / 1000000;
    int64_t transit = arrival - ts, d;

    if (t->have_transit) {
        d = transit - t->last_transit;
        if (d < 0)
            d = -d;
        if (d > (int64_t)1 << 24)
            d = (int64_t)1 << 24; /* a restart, not jitter */
        t->jitter16 += (uint32_t)d - ((t->jitter16 + 8) >> 4);
    }
    t->last_transit = transit;
    t->have_transit = 1;
}

void rtsp_media__on_rtp(struct rtsp_session *s, int track, const uint8_t *pkt,
                        size_t len)
{
    struct sess_track *t;
    struct depack_stats ds;
    struct rtp_hdr h;
    int64_t ts;
    int r, lost_before;

    if (s->state == SESS_TEARDOWN || s->stopping || s->closing || track < 0 ||
        track >= s->n_tracks)
        return;
    t = &s->tracks[track];
    if (rtp_parse(pkt, len, &h) < 0) {
        s->stats->rtp_ignored++;
        sess_warn_rl(s, "ignoring a malformed RTP packet of track %d", track);
        return;
    }
    s->stats->rtp_packets++;
    s->rtp_received++;
    if (h.pt != t->sdp->pt) {
        /* Geovision mixes payload type 50 into its video: not ours. */
        s->stats->rtp_ignored++;
        sess_warn_rl(s,
                     "ignoring RTP payload type %u on track %d (expected %d)",
                     h.pt, track, t->sdp->pt);
        return;
    }
    /* Only RTP of the track's payload type proves the camera alive: junk
     * on a set-up channel must not hold off the media deadline forever. */
    s->last_media_ms = uv_now(s->loop);
    r = rtp_seq_update(&t->seq, &h);
    if (r < 0)
        return; /* duplicate or late */
    if (t->seq.lost > t->lost_seen) {
        s->stats->rtp_lost += t->seq.lost - t->lost_seen;
        t->lost_seen = t->seq.lost;
    } else if (t->seq.lost < t->lost_seen) {
        t->lost_seen = t->seq.lost; /* the tracker restarted */
    }
    lost_before = r == RTP_SEQ_LOSS;
    if (r == RTP_SEQ_RESET && t->seen_packet) {
        /* New SSRC or a sequence jump: media time restarted, and sender
         * reports of the old source no longer apply. */
        LOG_I("ingest", "camera %s: RTP stream of track %d restarted",
              s->camera, t->stream_index);
        wallclock_track_reset(&t->clock);
        t->sr_valid = 0;
        /* RTP-Info described the stream that ended. */
        t->rtpinfo_has = 0;
        /* A restarted camera sends new sender reports: hold its units
         * again until they align the tracks anew. */
        if (s->hold_ms > 0 && s->n_tracks > 1 && !s->holding) {
            sess_drain(s, 1);
            s->holding = !s->closing && !s->stopping;
        }
        t->have_transit = 0;
        t->rr_received = t->seq.received;
        t->rr_lost = t->seq.lost;
        lost_before = 1;
    }
    if (!t->seen_packet)
        t->first_ts = h.ts;
    t->seen_packet = 1;
    sess_watch(t, &h);
    if (t->udp)
        sess_jitter(s, t, h.ts);
    ts = rtp_seq_ts_unwrap(&t->seq, h.ts);
    (void)t->ops->push(t->depack, &h, ts, lost_before, sess_emit, t);
    if (s->closing)
        return;
    t->ops->get_stats(t->depack, &ds);
    if (ds.aus_dropped > t->dropped_seen) {
        s->stats->aus_dropped += ds.aus_dropped - t->dropped_seen;
        t->dropped_seen = ds.aus_dropped;
        for (int i = 0; i < NVR_REFUSAL_COUNT; i++)
            s->stats->refused.n[i] += ds.refused.n[i] - t->refused_seen.n[i];
        t->refused_seen = ds.refused;
    }
}

/*
 * Puts the other tracks on the reference track's time line. Sender reports
 * of both tie each one's RTP time to the camera's NTP clock, so their
 * offset is known exactly (RFC 3550 6.4.1): used once per track (again
 * after it restarts), also to refine a placement by RTP-Info. Until then,
 * RTP-Info whose rtptimes agree with the packets gives the two tracks' RTP
 * times at one instant (RFC 2326 12.33), which places the track as well.
 */
static void sess_sync_tracks(struct rtsp_session *s)
{
    struct sess_track *ref = &s->tracks[s->ref_track];

    if (!ref->seen_packet || !ref->clock.anchored)
        return;
    for (int i = 0; i < s->n_tracks; i++) {
        struct sess_track *t = &s->tracks[i];
        int64_t change;

        if (i == s->ref_track || !t->seen_packet || t->clock.synced)
            continue;
        if (ref->sr_valid && t->sr_valid) {
            change =
                wallclock_track_align(&t->clock, &ref->clock,
                                      rtp_seq_ts_extend(&ref->seq, ref->sr_rtp),
                                      rtp_seq_ts_extend(&t->seq, t->sr_rtp),
                                      t->sr_ntp_us - ref->sr_ntp_us);
            if (change != INT64_MIN)
                LOG_D("ingest",
                      "camera %s: track %d synced to track %d by sender "
                      "reports (moved %" PRId64 " us)",
                      s->camera, i, s->ref_track, change);
            continue;
        }
        if (t->rtpinfo_done)
            continue;
        t->rtpinfo_done = 1;
        if (!sess_rtpinfo_usable(ref) || !sess_rtpinfo_usable(t)) {
            if (t->rtpinfo_has || ref->rtpinfo_has)
                LOG_I("ingest",
                      "camera %s: RTP-Info disagrees with the packets of "
                      "track %d or %d; placing track %d by sender reports "
                      "or arrival",
                      s->camera, s->ref_track, i, i);
            continue;
        }
        change = wallclock_track_align_rtpinfo(
            &t->clock, &ref->clock,
            rtp_seq_ts_extend(&ref->seq, ref->rtpinfo_rtptime),
            rtp_seq_ts_extend(&t->seq, t->rtpinfo_rtptime));
        if (change != INT64_MIN)
            LOG_D("ingest",
                  "camera %s: track %d placed on track %d by RTP-Info "
                  "(moved %" PRId64 " us)",
                  s->camera, i, s->ref_track, change);
    }
}

/*
 * An RTCP BYE on track t (RFC 3550 6.6): the server ended that stream.
 * It comes on the track's own channel or UDP port pair, so it is this
 * session's whatever SSRC it names. Once every track has said BYE the
 * session is over: it ends now, and the camera reconnects at once,
 * rather than waiting for the media deadline. Returns 1 if it ended.
 */
static int sess_on_bye(struct rtsp_session *s, struct sess_track *t)
{
    if (t->bye)
        return 0;
    t->bye = 1;
    s->n_bye++;
    LOG_I("ingest", "camera %s: RTCP BYE on track %d (%d of %d)", s->camera,
          t->stream_index, s->n_bye, s->n_tracks);
    if (s->n_bye < s->n_tracks)
        return 0;
    s->end_flags |= RTSP_SESSION_END_BYE;
    rtsp_session__fail(s, -ECONNRESET,
                       "the camera ended the stream (RTCP BYE on every "
                       "track)");
    return 1;
}

void rtsp_media__on_rtcp(struct rtsp_session *s, int track, const uint8_t *pkt,
                         size_t len)
{
    struct sess_track *t;
    struct rtcp_info ri;
    int64_t ntp_us, now_us;

    if (s->state == SESS_TEARDOWN || s->stopping || s->closing || track < 0 ||
        track >= s->n_tracks)
        return;
    t = &s->tracks[track];
    s->stats->rtcp_packets++;
    if (rtcp_parse(pkt, len, &ri) < 0) {
        sess_warn_rl(s, "ignoring a malformed RTCP packet of track %d", track);
        return;
    }
    if (ri.n_bye > 0 && sess_on_bye(s, t))
        return;
    if (!ri.has_sr)
        return;
    /* A report about another source than the one we receive (an old
     * session still sending) says nothing about ours. */
    if (t->seen_packet && ri.sr.ssrc != t->seq.ssrc)
        return;
    ntp_us = rtcp_ntp_to_unix_us(ri.sr.ntp);
    now_us = nvr_clock_wall_us();
    if (ntp_us - now_us > SESS_SR_MAX_SKEW_US ||
        now_us - ntp_us > SESS_SR_MAX_SKEW_US) {
        sess_warn_rl(s,
                     "ignoring RTCP sender reports of track %d: the camera's "
                     "clock is more than a day off",
                     track);
        return;
    }
    if (t->sr_valid && t->sr_ssrc == ri.sr.ssrc && ntp_us <= t->sr_ntp_us) {
        sess_warn_rl(s,
                     "ignoring an RTCP sender report of track %d: its time "
                     "went backwards",
                     track);
        return;
    }
    t->sr_valid = 1;
    t->sr_ssrc = ri.sr.ssrc;
    t->sr_ntp_us = ntp_us;
    t->sr_rtp = ri.sr.rtp_ts;
    t->sr_lsr = (uint32_t)(ri.sr.ntp >> 16);
    t->sr_recv_ms = uv_now(s->loop);
    s->stats->rtcp_sr = 1;
    if (!s->sr_logged && s->n_tracks > 1) {
        s->sr_logged = 1;
        LOG_I("ingest",
              "camera %s: RTCP sender reports present; tracks synced on "
              "the camera's clock",
              s->camera);
    }
    if (s->holding && s->n_held > 0 && sess_all_reported(s))
        sess_release(s);
    else
        sess_sync_tracks(s);
}

void rtsp_media__on_interleaved(struct rtsp_session *s, uint8_t ch,
                                const uint8_t *payload, size_t len)
{
    if (s->chan_rtp[ch] >= 0) {
        rtsp_media__on_rtp(s, s->chan_rtp[ch], payload, len);
        return;
    }
    if (s->chan_rtcp[ch] >= 0) {
        rtsp_media__on_rtcp(s, s->chan_rtcp[ch], payload, len);
        return;
    }
    s->stats->rtp_ignored++;
    sess_warn_rl(s,
                 "ignoring data on interleaved channel %u, which was never "
                 "set up",
                 ch);
}

void rtsp_media__tick(struct rtsp_session *s)
{
    uint64_t now_ms = uv_now(s->loop);

    if (s->closing || s->stopping)
        return;
    if (s->holding && s->n_held > 0 &&
        now_ms - s->hold_start_ms >= (uint64_t)s->hold_ms)
        sess_release(s);
    else if (!s->holding)
        sess_drain(s, 0);
    if (++s->ticks % (SESS_RR_PERIOD_MS / SESS_TICK_MS) != 0 || !s->udp ||
        s->closing || s->stopping)
        return;
    for (int i = 0; i < s->n_tracks; i++) {
        struct sess_track *t = &s->tracks[i];
        struct rtcp_report r;
        uint8_t buf[MEDIA_RR_BYTES];
        uint64_t rec, lost;
        int n;

        if (!t->udp || !t->seen_packet)
            continue;
        rec = t->seq.received - t->rr_received;
        lost = t->seq.lost - t->rr_lost;
        memset(&r, 0, sizeof(r));
        r.ssrc = t->seq.ssrc;
        r.fraction_lost =
            rtcp_fraction_lost((int64_t)(rec + lost), (int64_t)lost);
        r.cumulative_lost =
            t->seq.lost > INT32_MAX ? INT32_MAX : (int32_t)t->seq.lost;
        r.ext_max_seq = t->seq.cycles + t->seq.max_seq;
        r.jitter = t->jitter16 >> 4;
        if (t->sr_valid && t->sr_ssrc == t->seq.ssrc) {
            r.lsr = t->sr_lsr;
            r.dlsr = (uint32_t)((now_ms - t->sr_recv_ms) * 65536 / 1000);
        }
        t->rr_received = t->seq.received;
        t->rr_lost = t->seq.lost;
        n = rtcp_build_rr(s->our_ssrc, &r, 1, MEDIA_CNAME, buf, sizeof(buf));
        if (n > 0)
            (void)rtsp_udp_send_rtcp(s->udp, i, buf, (size_t)n);
    }
}
