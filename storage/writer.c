/* SPDX-License-Identifier: MIT */
/*
 * The per-camera segment writer (see writer.h): the queue and the thread.
 * The loop thread pushes items (stream descriptions, access units, session
 * breaks) onto a bounded FIFO guarded by a mutex; one writer thread per
 * camera pops them and does all blocking work (writer_segment.c: muxing
 * through storage/segment.c, file-system calls, and catalog rows on its
 * own SQLite connection). A unit that cannot be queued is dropped with the
 * rest of its GOP and counted.
 */
#include "config.h"
#include "storage/writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nvr/base/log.h"
#include "storage/catalog.h"
#include "storage/writer_int.h"

#define WRITER_DEFAULT_QUEUE_BYTES ((size_t)64 * 1024 * 1024)
/* Units queued before the writer thread is woken without a keyframe. */
#define WRITER_WAKE_UNITS 12
/* ... and the longest such a unit waits for the thread; what the thread
 * finds is written as one fragment, so this is also about the longest a
 * received unit waits to reach the kernel. */
#define WRITER_WAKE_MAX_NS (500L * 1000 * 1000)

static void writer_item_free(struct writer_item *it)
{
    nvr_au_unref(it->au);
    free(it->info);
    free(it);
}

static bool writer_video_codec(enum nvr_codec c)
{
    return c == NVR_CODEC_H264 || c == NVR_CODEC_H265 || c == NVR_CODEC_MJPEG;
}

static bool writer_audio_codec(enum nvr_codec c)
{
    return c == NVR_CODEC_AAC || c == NVR_CODEC_PCMA || c == NVR_CODEC_PCMU;
}

static int writer_find_video(const struct nvr_stream_info *info)
{
    for (int i = 0; i < info->n_tracks && i < NVR_MAX_TRACKS; i++)
        if (writer_video_codec(info->tracks[i].codec))
            return i;
    return -1;
}

/* The first audio track, or -1; also -1 when that track cannot be muxed
 * (then the camera is recorded without sound rather than not at all). */
static int writer_find_audio(const struct nvr_stream_info *info)
{
    for (int i = 0; i < info->n_tracks && i < NVR_MAX_TRACKS; i++)
        if (writer_audio_codec(info->tracks[i].codec))
            return segment_audio_ok(&info->tracks[i]) ? i : -1;
    return -1;
}

static void writer_handle(struct writer *w, struct writer_item *it)
{
    switch (it->kind) {
    case WRITER_ITEM_STREAM:
        w->pending = *it->info;
        w->video_track = writer_find_video(&w->pending);
        w->audio_track = writer_find_audio(&w->pending);
        if (w->video_track < 0)
            LOG_W("storage", "camera %s: no recordable video track", w->camera);
        for (int i = 0; i < w->pending.n_tracks && i < NVR_MAX_TRACKS; i++)
            if (writer_audio_codec(w->pending.tracks[i].codec)) {
                if (i != w->audio_track)
                    LOG_W("storage",
                          "camera %s: %s audio track cannot be recorded "
                          "(no decoder configuration or odd format); "
                          "recording video only",
                          w->camera,
                          nvr_codec_name(w->pending.tracks[i].codec));
                break;
            }
        break;
    case WRITER_ITEM_AU:
        writer__handle_au(w, it->au, it->refused);
        break;
    case WRITER_ITEM_BREAK:
        writer__handle_break(w, it->reason);
        break;
    }
}

/* The queue is empty: what the segment holds goes to the disk as one
 * fragment. */
static void writer_flush(struct writer *w)
{
    int r;

    if (!w->seg)
        return;
    r = segment_flush(w->seg);
    if (r < 0) {
        writer__close_segment(w, SEGMENT_NO_PTS);
        writer__enter_full(w, r);
    }
}

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    struct writer_item *it;

    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->stop) {
            /* Units pushed without a wake-up wait at most this long. */
            struct timespec ts;

            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_nsec += WRITER_WAKE_MAX_NS;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            (void)pthread_cond_timedwait(&w->cv, &w->mu, &ts);
        }
        it = w->head;
        if (!it)
            break; /* stopping, and everything queued was written */
        w->head = it->next;
        if (!w->head)
            w->tail = NULL;
        pthread_mutex_unlock(&w->mu);
        writer_handle(w, it);
        pthread_mutex_lock(&w->mu);
        /* The unit in hand still counts: queued_bytes is the memory held
         * for this camera, and 0 means everything pushed was handled. */
        if (it->au)
            w->stats.queued_bytes -= it->au->len;
        writer_item_free(it);
        if (!w->head) {
            pthread_mutex_unlock(&w->mu);
            writer_flush(w);
            pthread_mutex_lock(&w->mu);
        }
    }
    pthread_mutex_unlock(&w->mu);
    writer__close_segment(w, SEGMENT_NO_PTS);
    return NULL;
}

/* ---- the loop-thread side ---- */

static void writer_enqueue_locked(struct writer *w, struct writer_item *it)
{
    it->next = NULL;
    if (w->tail)
        w->tail->next = it;
    else
        w->head = it;
    w->tail = it;
    /* Waking the thread for every frame buys nothing but context
     * switches and tiny fragments: wake it for keyframes, for anything
     * that is not a unit, and every WRITER_WAKE_UNITS units. */
    if (it->kind != WRITER_ITEM_AU || (it->au->flags & NVR_AU_KEY) ||
        ++w->unsignalled >= WRITER_WAKE_UNITS) {
        w->unsignalled = 0;
        pthread_cond_signal(&w->cv);
    }
}

int writer_push_stream(struct writer *w, const struct nvr_stream_info *info)
{
    struct writer_item *it = calloc(1, sizeof(*it));

    if (!it)
        return -ENOMEM;
    it->kind = WRITER_ITEM_STREAM;
    it->info = malloc(sizeof(*it->info));
    if (!it->info) {
        free(it);
        return -ENOMEM;
    }
    *it->info = *info;
    pthread_mutex_lock(&w->mu);
    w->push_video_track = writer_find_video(info);
    w->push_audio_track = writer_find_audio(info);
    /* The next unit that can start a segment with these parameters is a
     * keyframe anyway; what is queued before it stays valid. */
    writer_enqueue_locked(w, it);
    pthread_mutex_unlock(&w->mu);
    return 0;
}

int writer_push_au(struct writer *w, struct nvr_au *au)
{
    bool key = au->flags & NVR_AU_KEY;
    struct writer_item *it = NULL;
    bool audio;

    pthread_mutex_lock(&w->mu);
    audio = w->push_video_track >= 0 && w->push_audio_track >= 0 &&
            au->track == w->push_audio_track;
    if (!audio && w->push_video_track >= 0 &&
        au->track != w->push_video_track) {
        /* Only the first video and the first audio track are recorded;
         * what was refused before this unit is told with the next. */
        w->push_refused += au->refused_before;
        pthread_mutex_unlock(&w->mu);
        nvr_au_unref(au);
        return 0;
    }
    if (!audio) {
        if (key)
            w->push_dropping = false;
        if (w->push_video_track < 0 || w->push_dropping)
            goto drop;
    }
    if (w->stats.queued_bytes + au->len <= w->queue_max_bytes)
        it = calloc(1, sizeof(*it));
    if (!it) {
        /* Each audio unit stands alone: only it is lost. */
        if (audio)
            goto drop;
        goto drop_gop;
    }
    it->kind = WRITER_ITEM_AU;
    it->au = au;
    it->refused = w->push_refused + au->refused_before;
    w->push_refused = 0;
    w->stats.queued_bytes += au->len;
    writer_enqueue_locked(w, it);
    pthread_mutex_unlock(&w->mu);
    return 0;

drop_gop:
    /* The rest of the GOP depends on this unit: drop up to the next
     * keyframe so that no undecodable frames are written. */
    w->push_dropping = true;
drop:
    w->stats.aus_dropped++;
    nvr_refusals_count(&w->stats.refused, w->push_video_track < 0
                                              ? NVR_REFUSAL_NO_PARAMS
                                              : NVR_REFUSAL_QUEUE_FULL);
    w->push_refused += 1 + au->refused_before;
    pthread_mutex_unlock(&w->mu);
    nvr_au_unref(au);
    return -ENOBUFS;
}

int writer_push_break(struct writer *w, const char *reason)
{
    struct writer_item *it = calloc(1, sizeof(*it));

    if (!it)
        return -ENOMEM;
    it->kind = WRITER_ITEM_BREAK;
    snprintf(it->reason, sizeof(it->reason), "%s", reason ? reason : "");
    pthread_mutex_lock(&w->mu);
    writer_enqueue_locked(w, it);
    pthread_mutex_unlock(&w->mu);
    return 0;
}

void writer_get_stats(struct writer *w, struct writer_stats *out)
{
    pthread_mutex_lock(&w->mu);
    *out = w->stats;
    pthread_mutex_unlock(&w->mu);
}

/* A camera name becomes a directory and a file name prefix. */
static bool writer_name_ok(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > 64 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    return strchr(name, '/') == NULL;
}

int writer_new(const struct writer_config *cfg, struct writer **out)
{
    struct writer *w;
    int r;

    if (!cfg->storage_dir || !cfg->catalog_path || !cfg->camera ||
        !writer_name_ok(cfg->camera) || cfg->segment_seconds <= 0)
        return -EINVAL;
    w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->storage_dir = strdup(cfg->storage_dir);
    w->camera = strdup(cfg->camera);
    if (!w->storage_dir || !w->camera) {
        r = -ENOMEM;
        goto err_free;
    }
    w->segment_seconds = cfg->segment_seconds;
    w->on_disk_full = cfg->on_disk_full;
    w->on_low_space = cfg->on_low_space;
    w->min_free_bytes = cfg->min_free_bytes > 0 ? cfg->min_free_bytes : 0;
    w->user = cfg->user;
    w->queue_max_bytes = cfg->queue_max_bytes ? cfg->queue_max_bytes
                                              : WRITER_DEFAULT_QUEUE_BYTES;
    w->push_video_track = -1;
    w->push_audio_track = -1;
    w->video_track = -1;
    w->audio_track = -1;
    r = catalog_open(cfg->catalog_path, CATALOG_READWRITE, &w->cat);
    if (r < 0)
        goto err_free;
    r = catalog_camera_ensure(w->cat, w->camera, &w->camera_id);
    if (r < 0)
        goto err_close_cat;
    r = -pthread_mutex_init(&w->mu, NULL);
    if (r < 0)
        goto err_close_cat;
    {
        pthread_condattr_t ca;

        r = -pthread_condattr_init(&ca);
        if (r == 0)
            r = -pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        if (r == 0)
            r = -pthread_cond_init(&w->cv, &ca);
        pthread_condattr_destroy(&ca);
    }
    if (r < 0)
        goto err_mutex;
    r = -pthread_create(&w->thread, NULL, writer_main, w);
    if (r < 0)
        goto err_cond;
    *out = w;
    return 0;

err_cond:
    pthread_cond_destroy(&w->cv);
err_mutex:
    pthread_mutex_destroy(&w->mu);
err_close_cat:
    catalog_close(w->cat);
err_free:
    free(w->camera);
    free(w->storage_dir);
    free(w);
    return r;
}

void writer_free(struct writer *w)
{
    struct writer_item *it;

    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    while ((it = w->head)) {
        w->head = it->next;
        writer_item_free(it);
    }
    catalog_close(w->cat);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w->camera);
    free(w->storage_dir);
    free(w);
}
