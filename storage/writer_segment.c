/* SPDX-License-Identifier: MIT */
/*
 * Segment life on the writer thread (see writer_int.h): opening, cutting,
 * closing and salvaging segments, their catalog rows, and the disk-full
 * state.
 *
 * A segment holds the session's first video track and its first audio
 * track that segment.c can record. Segments are cut at video keyframes:
 * when the target length is reached, when the codec parameters of either
 * track change, or when the media time of either restarts (NVR_AU_DISCONT;
 * a video discontinuity closes the segment at once). Within one session a
 * segment's start time continues the previous segment's media timeline
 * (so consecutive segments are exactly contiguous) as long as that stays
 * within WRITER_CHAIN_TOLERANCE_US of the wall clock.
 *
 * Audio and video have their own clocks; they meet through the wall time
 * of their units. The segment's time line starts at its first keyframe;
 * the first audio unit of the segment is placed at its wall time's offset
 * from that keyframe's, and the units after it follow the audio clock from
 * there (so the audio keeps its sample timing inside a segment, and each
 * segment re-aligns the two clocks). Audio that falls before the keyframe
 * is dropped.
 */
#include "config.h"
#include "storage/writer_int.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvr/base/clock.h"
#include "nvr/base/compiler.h"
#include "nvr/base/err.h"
#include "nvr/base/log.h"
#include "storage/catalog.h"
#include "storage/fsops.h"
#include "storage/layout.h"
#include "storage/segment.h"
#include "storage/storage_int.h"

/* Media time between catalog progress updates of an open segment: how
 * far behind the live edge the catalog may be. Each update is a commit
 * that also maintains segment_runs, a sizeable part of the recorder's
 * cost per camera when it is done every 2 s. */
#define WRITER_PROGRESS_SECONDS 5
/* How far a segment's start may follow the previous segment's media
 * timeline away from the wall clock before it is re-anchored to it. */
#define WRITER_CHAIN_TOLERANCE_US 1000000
/* Largest wall-time distance between a segment's first keyframe and its
 * first audio unit that is used to place the audio (more is a broken
 * clock: the audio is dropped rather than placed days away). */
#define WRITER_AUDIO_MAX_OFFSET_US ((int64_t)86400 * 1000000)
/* Attempts with a "-N" suffix when a segment's file name is taken. */
#define WRITER_NAME_ATTEMPTS 10
#define WRITER_DIR_MODE      0750

/* Records a disk or catalog error in the stats and logs it once; `what`
 * names the step, `subject` (may be "") the file. */
static void writer_error(struct writer *w, int err, const char *what,
                         const char *subject)
{
    const char *sep = subject[0] ? " " : "";

    pthread_mutex_lock(&w->mu);
    w->stats.last_err = err;
    snprintf(w->stats.last_error, sizeof(w->stats.last_error), "%s%s%s: %s",
             what, sep, subject, nvr_strerror(err));
    pthread_mutex_unlock(&w->mu);
    /* While the disk is full every keyframe fails the same way; that was
     * said once, loudly, when it started. */
    if (w->full)
        LOG_D("storage", "camera %s: %s%s%s: %s", w->camera, what, sep, subject,
              nvr_strerror(err));
    else
        LOG_W("storage", "camera %s: %s%s%s: %s", w->camera, what, sep, subject,
              nvr_strerror(err));
}

/* Adds n units refused (here or upstream) to the open segment's row, or
 * to the next segment's when none is open. */
static void writer_note_refused(struct writer *w, uint64_t n)
{
    if (w->seg)
        w->row.refused += (int64_t)n;
    else
        w->refused_carry += n;
}

/* Counts n units refused by the writer for `why`. */
static void writer_refuse(struct writer *w, enum nvr_refusal why, uint64_t n)
{
    pthread_mutex_lock(&w->mu);
    w->stats.aus_dropped += n;
    w->stats.refused.n[why] += n;
    pthread_mutex_unlock(&w->mu);
    writer_note_refused(w, n);
}

/* Why segment_write() or segment_write_audio() refused `au` (returned
 * 1): its size, or else its time did not fit the segment's time line. */
static enum nvr_refusal writer_refusal_of(const struct nvr_au *au)
{
    if (au->len == 0)
        return NVR_REFUSAL_MALFORMED;
    if (au->len > NVR_AU_MAX_BYTES)
        return NVR_REFUSAL_TOO_LARGE;
    return NVR_REFUSAL_BAD_TIMESTAMP;
}

/* Adds bytes that reached the file to the stats. */
static void writer_count_bytes(struct writer *w, int64_t seg_bytes)
{
    if (seg_bytes <= w->seg_bytes_counted)
        return;
    pthread_mutex_lock(&w->mu);
    w->stats.bytes_written += (uint64_t)(seg_bytes - w->seg_bytes_counted);
    pthread_mutex_unlock(&w->mu);
    w->seg_bytes_counted = seg_bytes;
}

/* Whether a segment made with `a` can go on with parameters `b`: the
 * codec and its parameter sets (which end up in the sample entry) must be
 * the same bytes; a new params_gen alone does not cut. */
static bool writer_same_params(const struct nvr_track_info *a,
                               const struct nvr_track_info *b)
{
    /* MJPEG has no parameter sets: its size is the sample entry's. */
    if (a->codec == NVR_CODEC_MJPEG &&
        (a->width != b->width || a->height != b->height))
        return false;
    return a->codec == b->codec && a->clock_rate == b->clock_rate &&
           a->channels == b->channels && a->params_len == b->params_len &&
           memcmp(a->params, b->params, a->params_len) == 0;
}

/* Whether the open segment's audio track is still the session's. */
static bool writer_audio_same(const struct writer *w)
{
    if (w->audio_track < 0)
        return !w->seg_has_audio;
    return w->seg_has_audio &&
           writer_same_params(&w->seg_audio,
                              &w->pending.tracks[w->audio_track]);
}

/* ---- disk full ---- */

static bool writer_disk_err(int err)
{
    return err == -ENOSPC || err == -EIO || err == -EDQUOT;
}

/* Recording stops until a segment can be written again: say why once, at
 * the time of the last unit written, which is where the gap starts. */
void writer__enter_full(struct writer *w, int err)
{
    int64_t t;
    int r;

    if (w->full || !writer_disk_err(err))
        return;
    w->full = true;
    w->full_err = err;
    pthread_mutex_lock(&w->mu);
    t = w->stats.last_wall_us;
    w->stats.disk_full = 1;
    w->stats.disk_full_episodes++;
    pthread_mutex_unlock(&w->mu);
    w->full_since_us = t ? t : nvr_clock_wall_us();
    LOG_E("storage",
          "camera %s: %s: recording stopped; it resumes at the first "
          "keyframe that can be written",
          w->camera, nvr_strerror(err));
    /* The catalog shares the full disk and may refuse too; then the event
     * is written when space returns. */
    r = catalog_event_add(w->cat, w->camera_id, w->full_since_us, "disk full",
                          nvr_strerror(err));
    w->full_event_pending = r < 0;
    if (w->on_disk_full)
        w->on_disk_full(w->user, w->camera, err);
}

static void writer_retry_unfinished(struct writer *w)
{
    int r;

    if (!w->unfinished)
        return;
    if (w->unfinished_delete)
        r = catalog_segment_delete(w->cat, w->unfinished_row.id);
    else
        r = catalog_segment_finish(w->cat, &w->unfinished_row);
    if (r == 0 || r == -ENOENT)
        w->unfinished = false;
}

static void writer_leave_full(struct writer *w)
{
    if (!w->full)
        return;
    w->full = false;
    if (w->full_event_pending &&
        catalog_event_add(w->cat, w->camera_id, w->full_since_us, "disk full",
                          nvr_strerror(w->full_err)) == 0)
        w->full_event_pending = false;
    writer_retry_unfinished(w);
    pthread_mutex_lock(&w->mu);
    w->stats.disk_full = 0;
    w->stats.last_err = 0;
    w->stats.last_error[0] = '\0';
    pthread_mutex_unlock(&w->mu);
    LOG_W("storage",
          "camera %s: the disk takes writes again; recording "
          "resumed",
          w->camera);
}

/*
 * Before a segment opens at a keyframe: with less free than retention
 * keeps, asks for a pass (retention then makes room before the disk
 * fills); after a full disk, says whether there is room to try again,
 * which is the same figure retention works to.
 */
static bool writer_room_to_open(struct writer *w)
{
    int64_t avail, total, need;
    char reserve[WRITER_MAX_PATH + sizeof(STORAGE_SPACE_RESERVE_FILE)];

    if (!w->full && (!w->on_low_space || w->min_free_bytes <= 0))
        return true;
    if (fsops_statvfs(w->storage_dir, &avail, &total) != 0)
        return true; /* the open itself will say what is wrong */
    if (avail < w->min_free_bytes && w->on_low_space)
        w->on_low_space(w->user, w->camera, 0);
    if (!w->full)
        return true;
    need = NVR_MAX(w->min_free_bytes, WRITER_RESUME_MIN_FREE_BYTES);
    /* While the catalog's reserve is released, retention works to make
     * room for it as well: footage must not eat it. */
    snprintf(reserve, sizeof(reserve), "%s/" STORAGE_SPACE_RESERVE_FILE,
             w->storage_dir);
    if (w->min_free_bytes > 0 && access(reserve, F_OK) != 0)
        need += STORAGE_SPACE_RESERVE_BYTES;
    return avail >= need;
}

/* ---- segment life on the writer thread ---- */

/* Finishes the catalog row of a segment whose close failed, from what the
 * file really holds; an empty or unreadable file is removed. */
static void writer_salvage(struct writer *w)
{
    struct recovery__probe p;
    int repaired;
    /* A torn last fragment is cut off, which on a full disk also gives
     * back its space. */
    int r = recovery__repair_file(w->abs_path, &p, &repaired);

    if (r == 0 && p.frames > 0) {
        w->row.end_us = w->row.start_us + p.duration_us;
        w->row.bytes = p.bytes;
        w->row.frames = p.frames;
        if (p.width > 0 && p.height > 0) {
            w->row.width = p.width;
            w->row.height = p.height;
        }
        memcpy(w->row.sha256, p.sha256, sizeof(w->row.sha256));
        if (w->row.id == 0)
            r = catalog_segment_begin(w->cat, &w->row);
        if (r == 0)
            r = catalog_segment_finish(w->cat, &w->row);
        if (r < 0) {
            writer_error(w, r, "catalog finish", w->row.path);
            if (w->row.id != 0) {
                w->unfinished_row = w->row;
                w->unfinished = true;
                w->unfinished_delete = false;
            }
        }
        return;
    }
    /* Nothing playable reached the disk: no row may point at it. */
    r = fsops_unlink(w->abs_path);
    if (r < 0 && r != -ENOENT)
        writer_error(w, r, "unlink", w->row.path);
    if (w->row.id != 0 && (r == 0 || r == -ENOENT)) {
        char *slash = strrchr(w->abs_path, '/');

        /* File, then directory, then catalog (see recovery.c). */
        if (slash) {
            *slash = '\0';
            r = fsops_fsync_dir(w->abs_path);
            *slash = '/';
            if (r < 0)
                writer_error(w, r, "fsync directory of", w->row.path);
        }
        r = catalog_segment_delete(w->cat, w->row.id);
        if (r < 0 && r != -ENOENT) {
            /* The catalog shares the full disk: retried when it has room
             * (and by start-up recovery if the recorder stops first). */
            writer_error(w, r, "catalog delete", w->row.path);
            w->unfinished_row = w->row;
            w->unfinished = true;
            w->unfinished_delete = true;
        }
    }
}

/* Closes the open segment (if any). next_dts is the dts of the unit that
 * follows in the same session, or SEGMENT_NO_PTS. */
void writer__close_segment(struct writer *w, int64_t next_dts)
{
    struct segment_result res;
    int r;

    if (!w->seg)
        return;
    r = segment_close(w->seg, next_dts, &res);
    w->seg = NULL;
    writer_count_bytes(w, res.bytes);
    if (res.late_dropped > 0) {
        /* Units accepted, then not muxed: their composition offset did
         * not fit. They belong to this segment's row. */
        pthread_mutex_lock(&w->mu);
        w->stats.aus_dropped += (uint64_t)res.late_dropped;
        w->stats.refused.n[NVR_REFUSAL_BAD_TIMESTAMP] +=
            (uint64_t)res.late_dropped;
        pthread_mutex_unlock(&w->mu);
        w->row.refused += res.late_dropped;
    }
    if (res.dts_refused > 0)
        LOG_W("storage",
              "camera %s: %" PRId64 " video units refused in %s: their "
              "decode time did not increase",
              w->camera, res.dts_refused, w->row.path);
    if (r < 0) {
        writer_error(w, r, "segment", w->row.path);
        writer_salvage(w);
        writer__enter_full(w, r);
    } else {
        w->row.end_us = w->row.start_us + res.duration_us;
        w->row.bytes = res.bytes;
        w->row.frames = res.frames;
        w->row.width = res.width;
        w->row.height = res.height;
        memcpy(w->row.sha256, res.sha256, sizeof(w->row.sha256));
        /* A row that could not be created at open is created now. */
        r = w->row.id == 0 ? catalog_segment_begin(w->cat, &w->row) : 0;
        if (r == 0)
            r = catalog_segment_finish(w->cat, &w->row);
        if (r < 0) {
            writer_error(w, r, "catalog finish", w->row.path);
            if (w->row.id != 0) {
                w->unfinished_row = w->row;
                w->unfinished = true;
                w->unfinished_delete = false;
            }
        }
    }
    pthread_mutex_lock(&w->mu);
    w->stats.segments++;
    pthread_mutex_unlock(&w->mu);
    w->chain_valid = res.frames > 0;
    w->chain_start_us = w->row.start_us;
    w->chain_first_pts = res.first_pts;
    w->chain_clock_rate = w->seg_track.clock_rate;
    w->chain_end_us = w->row.end_us;
}

/* The start time of a segment whose first unit is `au`. */
static int64_t writer_start_us(struct writer *w, const struct nvr_au *au,
                               int clock_rate)
{
    int64_t chained;

    if (!w->chain_valid || w->chain_clock_rate != clock_rate ||
        au->pts < w->chain_first_pts)
        return au->wall_us;
    /* Rounded like the segment's own duration (av_rescale, nearest), so
     * that a cut without a gap gives exactly the previous end_us. */
    chained = w->chain_start_us +
              ((au->pts - w->chain_first_pts) * 1000000 + clock_rate / 2) /
                  clock_rate;
    if (llabs(chained - au->wall_us) > WRITER_CHAIN_TOLERANCE_US) {
        LOG_D("storage",
              "camera %s: media clock off by %" PRId64
              " us, re-anchored to the wall clock",
              w->camera, chained - au->wall_us);
        return au->wall_us;
    }
    /* ingest slews wall_us towards the recorder clock (at most 500 ppm,
     * ingest/wallclock.h): follow it once it is 10 ms away, so the chain
     * never drifts a whole tolerance off and then jumps a second. */
    return llabs(chained - au->wall_us) > 10000 ? au->wall_us : chained;
}

/* Builds "<camera>/<YYYY-MM-DD>" and the file name for start_us. */
static int writer_paths(struct writer *w, int64_t start_us, int attempt,
                        const char *ext, char *dir, size_t dir_size)
{
    struct tm tm;
    time_t secs = (time_t)(start_us / 1000000);
    char suffix[8] = "";
    int n;

    if (!gmtime_r(&secs, &tm))
        return -EINVAL;
    if (attempt > 0)
        snprintf(suffix, sizeof(suffix), "-%d", attempt);
    n = snprintf(dir, dir_size, "%s/%s/%04d-%02d-%02d", w->storage_dir,
                 w->camera, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    if (n < 0 || (size_t)n >= dir_size)
        return -ENAMETOOLONG;
    n = snprintf(w->row.path, sizeof(w->row.path),
                 "%s/%04d-%02d-%02d/%s-%04d%02d%02dT%02d%02d%02d.%06dZ%s.%s",
                 w->camera, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 w->camera, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(start_us % 1000000),
                 suffix, ext);
    if (n < 0 || (size_t)n >= sizeof(w->row.path))
        return -ENAMETOOLONG;
    n = snprintf(w->abs_path, sizeof(w->abs_path), "%s/%s", w->storage_dir,
                 w->row.path);
    if (n < 0 || (size_t)n >= sizeof(w->abs_path))
        return -ENAMETOOLONG;
    return 0;
}

/* Opens a segment starting with the keyframe `au`. */
static int writer_open_segment(struct writer *w, const struct nvr_au *au)
{
    const struct nvr_track_info *t = &w->pending.tracks[w->video_track];
    const struct nvr_track_info *a =
        w->audio_track >= 0 ? &w->pending.tracks[w->audio_track] : NULL;
    const char *ext = segment_container_ext(a);
    char dir[WRITER_MAX_PATH];
    int64_t start_us = writer_start_us(w, au, t->clock_rate);
    int r = -EEXIST;

    /* Never before the previous segment ended (after a camera restart its
     * slewed time line may be a few ms ahead of the new one). */
    if (start_us < w->chain_end_us)
        start_us = w->chain_end_us;
    memset(&w->row, 0, sizeof(w->row));
    w->row.refused = (int64_t)w->refused_carry;
    w->refused_carry = 0;
    for (int attempt = 0; attempt < WRITER_NAME_ATTEMPTS && r == -EEXIST;
         attempt++) {
        r = writer_paths(w, start_us, attempt, ext, dir, sizeof(dir));
        if (r < 0)
            break;
        r = fsops_mkdir_p(dir, WRITER_DIR_MODE);
        if (r < 0) {
            writer_error(w, r, "mkdir", dir);
            writer__enter_full(w, r);
            return r;
        }
        /* A row may outlive its file (MISSING): its path stays taken. */
        if (catalog_segment_by_path(w->cat, w->row.path, &w->probe_row) == 0) {
            r = -EEXIST;
            continue;
        }
        r = segment_open_av(w->abs_path, t, a, start_us, &w->seg);
    }
    if (r < 0) {
        writer_error(w, r, "create", w->row.path);
        writer__enter_full(w, r);
        return r;
    }
    w->seg_track = *t;
    w->seg_has_audio = a != NULL;
    if (a)
        w->seg_audio = *a;
    w->seg_first_wall_us = au->wall_us;
    w->cut_pending = false;
    w->audio_anchored = false;
    w->seg_bytes_counted = 0;
    w->last_progress_tick = 0;
    w->row.camera_id = w->camera_id;
    w->row.start_us = start_us;
    w->row.end_us = start_us;
    w->row.status = CATALOG_SEG_OPEN;
    w->row.width = t->width;
    w->row.height = t->height;
    snprintf(w->row.codec, sizeof(w->row.codec), "%s",
             nvr_codec_name(t->codec));
    r = catalog_segment_begin(w->cat, &w->row);
    if (r < 0) {
        /* Recording goes on; the row is created again at close. */
        writer_error(w, r, "catalog begin", w->row.path);
        w->row.id = 0;
    }
    LOG_I("storage", "camera %s: new segment %s", w->camera, w->row.path);
    return 0;
}

static void writer_progress(struct writer *w, int64_t pts)
{
    struct segment_result res;
    int64_t tick = segment_elapsed(w->seg, pts);
    int r;

    segment_get_progress(w->seg, &res);
    writer_count_bytes(w, res.bytes);
    if (tick - w->last_progress_tick <
            (int64_t)WRITER_PROGRESS_SECONDS * w->seg_track.clock_rate ||
        w->row.id == 0)
        return;
    w->last_progress_tick = tick;
    r = catalog_segment_progress(w->cat, w->row.id,
                                 w->row.start_us + res.duration_us, res.bytes,
                                 res.frames);
    if (r < 0)
        writer_error(w, r, "catalog progress", w->row.path);
}

/* Counts a unit written; wall time only moves forward (audio and video
 * units interleave). */
static void writer_count_written(struct writer *w, const struct nvr_au *au)
{
    pthread_mutex_lock(&w->mu);
    w->stats.aus_written++;
    if (au->wall_us > w->stats.last_wall_us)
        w->stats.last_wall_us = au->wall_us;
    pthread_mutex_unlock(&w->mu);
}

/* Where an audio unit goes in the open segment, in the audio clock; see
 * the top of this file. Returns false if it cannot be placed. */
static bool writer_audio_pts(struct writer *w, const struct nvr_au *au,
                             int64_t *pts)
{
    if (!w->audio_anchored) {
        int64_t off_us = au->wall_us - w->seg_first_wall_us;

        if (off_us > WRITER_AUDIO_MAX_OFFSET_US ||
            off_us < -WRITER_AUDIO_MAX_OFFSET_US)
            return false;
        w->audio_anchor_pts = au->pts;
        w->audio_anchor_tick = off_us * w->seg_audio.clock_rate / 1000000;
        w->audio_anchored = true;
    }
    *pts = au->pts - w->audio_anchor_pts + w->audio_anchor_tick;
    return true;
}

static void writer_handle_audio(struct writer *w, struct nvr_au *au)
{
    int64_t pts;
    int r;

    if (au->flags & NVR_AU_DISCONT) {
        /* The audio clock restarted: the segment ends at the next
         * keyframe, and until then the audio is placed anew by its wall
         * time (units that would overlap are dropped by the segment). */
        w->cut_pending = true;
        w->audio_anchored = false;
    }
    /* Audio before a segment's first keyframe has no time line to go on;
     * audio in new parameters waits for the segment they will cut. */
    if (!w->seg) {
        writer_refuse(w, w->full ? NVR_REFUSAL_DISK : NVR_REFUSAL_NO_KEYFRAME,
                      1);
        return;
    }
    if (!w->seg_has_audio ||
        !writer_same_params(&w->seg_audio,
                            &w->pending.tracks[w->audio_track])) {
        writer_refuse(w, NVR_REFUSAL_NO_PARAMS, 1);
        return;
    }
    if (!writer_audio_pts(w, au, &pts)) {
        writer_refuse(w, NVR_REFUSAL_BAD_TIMESTAMP, 1);
        return;
    }
    r = segment_write_audio(w->seg, au, pts);
    if (r == 1) {
        writer_refuse(w, writer_refusal_of(au), 1);
        return;
    }
    if (r < 0) {
        writer__close_segment(w, SEGMENT_NO_PTS);
        writer__enter_full(w, r);
        writer_refuse(w, NVR_REFUSAL_DISK, 1);
        return;
    }
    writer_count_written(w, au);
}

void writer__handle_au(struct writer *w, struct nvr_au *au, uint64_t refused)
{
    bool key = au->flags & NVR_AU_KEY;
    bool discont = au->flags & NVR_AU_DISCONT;
    const struct nvr_track_info *t;
    int r;

    if (refused)
        writer_note_refused(w, refused);

    if (w->audio_track >= 0 && au->track == w->audio_track) {
        writer_handle_audio(w, au);
        return;
    }
    if (w->video_track < 0 || au->track != w->video_track) {
        /* Only while a new stream description is on its way: the loop
         * side queues units of the recorded tracks only. */
        writer_refuse(w, NVR_REFUSAL_NO_PARAMS, 1);
        return;
    }
    t = &w->pending.tracks[w->video_track];
    if (discont)
        w->chain_valid = false;
    if (w->seg) {
        if (!writer_same_params(&w->seg_track, t) || discont) {
            writer__close_segment(w, discont ? SEGMENT_NO_PTS : au->dts);
            w->chain_valid = w->chain_valid && !discont;
        } else if (key && (w->cut_pending || !writer_audio_same(w) ||
                           segment_elapsed(w->seg, au->pts) >=
                               (int64_t)w->segment_seconds * t->clock_rate)) {
            writer__close_segment(w, au->dts);
        }
    }
    if (!w->seg) {
        if (key && !writer_room_to_open(w)) {
            writer_refuse(w, NVR_REFUSAL_DISK, 1);
            return;
        }
        /* A segment starts with a keyframe; what comes before the first
         * one cannot be decoded and is dropped (while the disk is full,
         * that is the disk's doing). */
        if (!key) {
            writer_refuse(
                w, w->full ? NVR_REFUSAL_DISK : NVR_REFUSAL_NO_KEYFRAME, 1);
            return;
        }
        r = writer_open_segment(w, au);
        if (r < 0) {
            /* -EINVAL: segment.c cannot record these parameters. */
            writer_refuse(w,
                          r == -EINVAL   ? NVR_REFUSAL_NO_PARAMS
                          : r == -ENOMEM ? NVR_REFUSAL_NO_MEMORY
                                         : NVR_REFUSAL_DISK,
                          1);
            return;
        }
    }
    r = segment_write(w->seg, au);
    if (r == 2) {
        pthread_mutex_lock(&w->mu);
        w->stats.aus_dts_refused++;
        pthread_mutex_unlock(&w->mu);
        writer_refuse(w, NVR_REFUSAL_BAD_TIMESTAMP, 1);
        return;
    }
    if (r == 1) {
        writer_refuse(w, writer_refusal_of(au), 1);
        return;
    }
    if (r < 0) {
        /* The segment is failed: finish it with what reached the disk;
         * the next keyframe opens a new one. */
        writer__close_segment(w, SEGMENT_NO_PTS);
        writer__enter_full(w, r);
        writer_refuse(w, NVR_REFUSAL_DISK, 1);
        return;
    }
    /* A keyframe after the first one pushed a whole fragment to the disk:
     * the disk takes writes again. */
    if (w->full && key && segment_elapsed(w->seg, au->pts) > 0)
        writer_leave_full(w);
    writer_count_written(w, au);
    writer_progress(w, au->pts);
}

void writer__handle_break(struct writer *w, const char *reason)
{
    int64_t t;
    int r;

    writer__close_segment(w, SEGMENT_NO_PTS);
    w->chain_valid = false;
    pthread_mutex_lock(&w->mu);
    t = w->stats.last_wall_us;
    pthread_mutex_unlock(&w->mu);
    if (t == 0)
        t = nvr_clock_wall_us();
    r = catalog_event_add(w->cat, w->camera_id, t, "break", reason);
    if (r < 0)
        writer_error(w, r, "catalog event", "");
}
