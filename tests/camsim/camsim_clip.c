/* SPDX-License-Identifier: MIT */
/*
 * camsim_clip: serves a pre-encoded Annex B H.264/H.265 file in a loop.
 *
 * The file is read once and cut into access units (a new unit starts at an
 * AUD, parameter set or SEI after a picture, or at the first slice of a
 * picture). Keyframes (IDR / IRAP) that do not carry their parameter sets
 * get the stream's first ones prepended, so that a mount can start at any
 * keyframe. One thread wakes at each frame time (absolute CLOCK_MONOTONIC
 * deadlines, so there is no drift) and hands the same GstMemory, wrapped
 * in a fresh GstBuffer, to every registered appsrc; each appsrc plays the
 * clip from its start (a keyframe) from the tick it joined on. Timestamps
 * are exact: tick n of a sink has pts = rt0 + (n - n0) / fps, where rt0 is
 * the sink's running time at its first tick n0. The clip must have no
 * B-frames (pts = dts).
 */
#include "camsim_clip.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <gst/app/gstappsrc.h>

/* Parameter sets prepended to keyframes that lack them. */
#define CLIP_MAX_PARAMS_BYTES 4096u

struct clip_au {
    GstMemory *mem; /* owned; wraps clip->data or its own copy */
    gboolean key;
};

struct clip_sink {
    GstElement *appsrc; /* owned reference */
    gboolean started;
    GstClockTime rt0;
    guint64 n0;
};

struct camsim_clip {
    gboolean h265;
    unsigned fps;
    gchar *data; /* owned file contents; the AUs point into it */
    gsize len;
    struct clip_au *aus;
    size_t n_aus;
    size_t n_keys;
    GMutex lock;      /* guards sinks */
    GPtrArray *sinks; /* struct clip_sink *, owned */
    GThread *thread;
};

struct nal {
    size_t start; /* first byte of the start code */
    size_t hdr;   /* first byte of the NAL header */
    size_t end;   /* one past the last byte (next start code) */
};

/* Finds the next 00 00 01 at or after pos; returns len when none. */
static size_t find_start_code(const guint8 *p, size_t len, size_t pos)
{
    while (pos + 3 <= len) {
        if (p[pos + 2] > 1) {
            pos += 3;
        } else if (p[pos] == 0 && p[pos + 1] == 0 && p[pos + 2] == 1) {
            return pos;
        } else {
            pos++;
        }
    }
    return len;
}

static unsigned nal_type(const struct camsim_clip *c, const guint8 *h)
{
    return c->h265 ? (h[0] >> 1) & 0x3fu : h[0] & 0x1fu;
}

static gboolean type_is_vcl(const struct camsim_clip *c, unsigned t)
{
    return c->h265 ? t <= 31 : (t >= 1 && t <= 5);
}

static gboolean type_is_key(const struct camsim_clip *c, unsigned t)
{
    return c->h265 ? (t >= 16 && t <= 21) : t == 5;
}

static gboolean type_is_param(const struct camsim_clip *c, unsigned t)
{
    return c->h265 ? (t >= 32 && t <= 34) : (t == 7 || t == 8);
}

/* Non-VCL NAL types that may only precede the first slice of a picture. */
static gboolean type_opens_au(const struct camsim_clip *c, unsigned t)
{
    if (c->h265)
        return (t >= 32 && t <= 35) || t == 39 || (t >= 41 && t <= 44) ||
               (t >= 48 && t <= 55);
    return t == 6 || t == 7 || t == 8 || t == 9 || (t >= 14 && t <= 18);
}

/* first_mb_in_slice == 0 (H.264) / first_slice_segment_in_pic_flag. */
static gboolean first_slice(const struct camsim_clip *c, const guint8 *h,
                            size_t n)
{
    size_t hdr = c->h265 ? 2 : 1;

    return n > hdr && (h[hdr] & 0x80) != 0;
}

static size_t nal_hdr_len(const struct camsim_clip *c)
{
    return c->h265 ? 2 : 1;
}

/* Collects the first VPS/SPS/PPS of the stream (each once, by type) with
 * 4-byte start codes into params. */
static size_t collect_params(const struct camsim_clip *c, const guint8 *p,
                             const struct nal *nals, size_t n_nals,
                             guint8 *params)
{
    gboolean seen[64] = {FALSE};
    size_t len = 0;

    for (size_t i = 0; i < n_nals; i++) {
        size_t sz = nals[i].end - nals[i].hdr;
        unsigned t = nal_type(c, p + nals[i].hdr);

        if (!type_is_param(c, t) || seen[t])
            continue;
        if (len + 4 + sz > CLIP_MAX_PARAMS_BYTES)
            break;
        seen[t] = TRUE;
        memcpy(params + len, "\0\0\0\1", 4);
        memcpy(params + len + 4, p + nals[i].hdr, sz);
        len += 4 + sz;
    }
    return len;
}

static int add_au(struct camsim_clip *c, size_t from, size_t to, gboolean key,
                  gboolean has_params, const guint8 *params, size_t params_len)
{
    struct clip_au *au;

    if (c->n_aus >= CAMSIM_CLIP_MAX_AUS) {
        fprintf(stderr, "camsim: clip has more than %u frames\n",
                CAMSIM_CLIP_MAX_AUS);
        return -EMSGSIZE;
    }
    /* A clip may not start mid-GOP: drop units before the first key. */
    if (c->n_keys == 0 && !key)
        return 0;
    au = &c->aus[c->n_aus++];
    au->key = key;
    if (key) {
        c->n_keys++;
        if (!has_params && params_len > 0) {
            guint8 *buf = g_malloc(params_len + (to - from));

            memcpy(buf, params, params_len);
            memcpy(buf + params_len, c->data + from, to - from);
            au->mem = gst_memory_new_wrapped(
                GST_MEMORY_FLAG_READONLY, buf, params_len + (to - from), 0,
                params_len + (to - from), buf, g_free);
            return 0;
        }
    }
    au->mem = gst_memory_new_wrapped(GST_MEMORY_FLAG_READONLY, c->data + from,
                                     to - from, 0, to - from, NULL, NULL);
    return 0;
}

/* Cuts c->data into access units. */
static int split(struct camsim_clip *c)
{
    const guint8 *p = (const guint8 *)c->data;
    size_t len = c->len;
    GArray *nals = g_array_new(FALSE, FALSE, sizeof(struct nal));
    guint8 params[CLIP_MAX_PARAMS_BYTES];
    size_t params_len;
    size_t pos = find_start_code(p, len, 0);
    size_t au_start = 0;
    gboolean au_vcl = FALSE, au_key = FALSE, au_params = FALSE;
    int rc = 0;

    while (pos < len) {
        struct nal n;

        n.start = pos > 0 && p[pos - 1] == 0 ? pos - 1 : pos;
        n.hdr = pos + 3;
        n.end = find_start_code(p, len, n.hdr);
        /* Trailing zero bytes belong to the next start code. */
        if (n.end < len && n.end > n.hdr && p[n.end - 1] == 0)
            n.end--;
        if (n.end > n.hdr + nal_hdr_len(c))
            g_array_append_val(nals, n);
        pos = find_start_code(p, len, n.hdr);
    }
    params_len = collect_params(c, p, (struct nal *)(void *)nals->data,
                                nals->len, params);
    c->aus = g_new0(struct clip_au, MIN(nals->len, CAMSIM_CLIP_MAX_AUS) + 1);

    for (guint i = 0; i < nals->len && rc == 0; i++) {
        const struct nal *n = &g_array_index(nals, struct nal, i);
        const guint8 *h = p + n->hdr;
        unsigned t = nal_type(c, h);
        gboolean vcl = type_is_vcl(c, t);
        gboolean opens =
            vcl ? first_slice(c, h, n->end - n->hdr) : type_opens_au(c, t);

        if (au_vcl && opens) {
            rc = add_au(c, au_start, n->start, au_key, au_params, params,
                        params_len);
            au_start = n->start;
            au_vcl = au_key = au_params = FALSE;
        }
        if (i == 0)
            au_start = n->start;
        au_vcl = au_vcl || vcl;
        au_key = au_key || (vcl && type_is_key(c, t));
        /* SPS present: the keyframe carries its own parameter sets. */
        au_params = au_params || (t == (c->h265 ? 33u : 7u));
    }
    if (rc == 0 && au_vcl)
        rc = add_au(c, au_start, len, au_key, au_params, params, params_len);
    g_array_free(nals, TRUE);
    return rc;
}

int camsim_clip_load(const char *path, gboolean h265, unsigned fps,
                     struct camsim_clip **out)
{
    struct camsim_clip *c;
    struct stat st;
    GError *err = NULL;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "camsim: --clip %s: %s\n", path, strerror(errno));
        return -ENOENT;
    }
    if (!S_ISREG(st.st_mode) || st.st_size <= 0 ||
        (unsigned long long)st.st_size > CAMSIM_CLIP_MAX_BYTES) {
        fprintf(stderr,
                "camsim: --clip %s: not a regular file of 1..%u bytes\n", path,
                CAMSIM_CLIP_MAX_BYTES);
        return -EINVAL;
    }
    c = g_new0(struct camsim_clip, 1);
    c->h265 = h265;
    c->fps = fps;
    if (!g_file_get_contents(path, &c->data, &c->len, &err)) {
        fprintf(stderr, "camsim: --clip %s: %s\n", path, err->message);
        g_error_free(err);
        g_free(c);
        return -EIO;
    }
    if (c->len > CAMSIM_CLIP_MAX_BYTES || split(c) < 0 || c->n_keys == 0) {
        if (c->n_keys == 0)
            fprintf(stderr,
                    "camsim: --clip %s: no %s keyframe found (Annex B "
                    "%s expected; see --video)\n",
                    path, h265 ? "IRAP" : "IDR", h265 ? "H.265" : "H.264");
        for (size_t i = 0; i < c->n_aus; i++)
            gst_memory_unref(c->aus[i].mem);
        g_free(c->aus);
        g_free(c->data);
        g_free(c);
        return -EINVAL;
    }
    g_mutex_init(&c->lock);
    c->sinks = g_ptr_array_new();
    *out = c;
    return 0;
}

GstCaps *camsim_clip_caps(const struct camsim_clip *clip)
{
    return gst_caps_new_simple(clip->h265 ? "video/x-h265" : "video/x-h264",
                               "stream-format", G_TYPE_STRING, "byte-stream",
                               "alignment", G_TYPE_STRING, "au", "framerate",
                               GST_TYPE_FRACTION, (int)clip->fps, 1, NULL);
}

size_t camsim_clip_frames(const struct camsim_clip *clip)
{
    return clip->n_aus;
}

size_t camsim_clip_keyframes(const struct camsim_clip *clip)
{
    return clip->n_keys;
}

void camsim_clip_add_sink(struct camsim_clip *clip, GstElement *appsrc)
{
    struct clip_sink *s = g_new0(struct clip_sink, 1);

    s->appsrc = gst_object_ref(appsrc);
    g_mutex_lock(&clip->lock);
    g_ptr_array_add(clip->sinks, s);
    g_mutex_unlock(&clip->lock);
}

void camsim_clip_remove_sink(struct camsim_clip *clip, GstElement *appsrc)
{
    struct clip_sink *found = NULL;

    g_mutex_lock(&clip->lock);
    for (guint i = 0; i < clip->sinks->len; i++) {
        struct clip_sink *s = g_ptr_array_index(clip->sinks, i);

        if (s->appsrc == appsrc) {
            found = s;
            g_ptr_array_remove_index_fast(clip->sinks, i);
            break;
        }
    }
    g_mutex_unlock(&clip->lock);
    if (found != NULL) {
        gst_object_unref(found->appsrc);
        g_free(found);
    }
}

static guint64 frame_ns(const struct camsim_clip *c, guint64 n)
{
    return n * GST_SECOND / c->fps;
}

/* Pushes tick n to one sink; called with the lock held. Each sink plays
 * the clip from its first unit (a keyframe) on, so a new client never
 * waits for the shared clip to reach a keyframe: the RTSP server prepares
 * medias one at a time, and waiting there would add up over mounts. */
static void feed(struct camsim_clip *c, struct clip_sink *s, guint64 n)
{
    const struct clip_au *au;
    GstBuffer *buf;

    if (!s->started) {
        GstClock *clock;

        /* No clock yet: the pipeline is not playing. */
        clock = gst_element_get_clock(s->appsrc);
        if (clock == NULL)
            return;
        s->rt0 =
            gst_clock_get_time(clock) - gst_element_get_base_time(s->appsrc);
        gst_object_unref(clock);
        s->n0 = n;
        s->started = TRUE;
    }
    au = &c->aus[(n - s->n0) % c->n_aus];
    buf = gst_buffer_new();
    gst_buffer_append_memory(buf, gst_memory_ref(au->mem));
    GST_BUFFER_PTS(buf) = s->rt0 + frame_ns(c, n - s->n0);
    GST_BUFFER_DTS(buf) = GST_BUFFER_PTS(buf);
    GST_BUFFER_DURATION(buf) = frame_ns(c, n + 1) - frame_ns(c, n);
    if (!au->key)
        GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
    /* Takes the buffer; a flushing or full appsrc drops it. */
    (void)gst_app_src_push_buffer(GST_APP_SRC(s->appsrc), buf);
}

static gpointer pace(gpointer user_data)
{
    struct camsim_clip *c = user_data;
    struct timespec t0;
    guint64 start_ns;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    start_ns = (guint64)t0.tv_sec * GST_SECOND + (guint64)t0.tv_nsec;
    for (guint64 n = 0;; n++) {
        guint64 due = start_ns + frame_ns(c, n);
        struct timespec ts = {
            .tv_sec = (time_t)(due / GST_SECOND),
            .tv_nsec = (long)(due % GST_SECOND),
        };

        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
               EINTR) {
        }
        g_mutex_lock(&c->lock);
        for (guint i = 0; i < c->sinks->len; i++)
            feed(c, g_ptr_array_index(c->sinks, i), n);
        g_mutex_unlock(&c->lock);
    }
    return NULL;
}

int camsim_clip_start(struct camsim_clip *clip)
{
    GError *err = NULL;

    clip->thread = g_thread_try_new("camsim-clip", pace, clip, &err);
    if (clip->thread == NULL) {
        fprintf(stderr, "camsim: cannot start the clip thread: %s\n",
                err->message);
        g_error_free(err);
        return -EAGAIN;
    }
    return 0;
}
