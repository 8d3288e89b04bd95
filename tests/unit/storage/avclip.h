/* SPDX-License-Identifier: MIT */
/*
 * Audio test helpers shared by the storage tests: real AAC frames from the
 * committed tests/data/tone_16k.aac (ADTS headers stripped, the
 * AudioSpecificConfig rebuilt from the first header, as an SDP's config=
 * carries it), synthetic G.711 units, and a read-back of every stream of
 * a segment file with libavformat.
 */
#ifndef NVR_TESTS_UNIT_STORAGE_AVCLIP_H
#define NVR_TESTS_UNIT_STORAGE_AVCLIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvr/base/au.h"

#define AAC_MAX_FRAMES 256
#define AAC_SAMPLES    1024 /* per frame */

struct aac_clip {
    int n;
    uint8_t *frames[AAC_MAX_FRAMES]; /* raw AAC, no ADTS */
    size_t lens[AAC_MAX_FRAMES];
    struct nvr_track_info track; /* AAC, clock = sample rate, ASC */
};

/* Loads tone_16k.aac from $NVR_TESTDATA_DIR; asserts on failure. */
void aac_clip_load(struct aac_clip *c);
void aac_clip_free(struct aac_clip *c);

/* A new audio unit (one reference) holding frame i % n. */
struct nvr_au *aac_clip_au(const struct aac_clip *c, int i, int track,
                           int64_t pts, int64_t wall_us);

/* A G.711 track description (8000 Hz, mono). */
struct nvr_track_info g711_track(enum nvr_codec codec);

/* A new G.711 unit (one reference) of `samples` bytes of pattern. */
struct nvr_au *g711_au(int samples, int track, int64_t pts, int64_t wall_us);

struct av_stream_probe {
    bool present;
    char codec[32];
    int sample_rate;   /* audio */
    int channels;      /* audio */
    int64_t packets;   /* read back */
    double first_s;    /* pts of the first packet, seconds */
    double last_end_s; /* pts + duration of the last packet, seconds */
    bool monotonic;    /* dts strictly increasing */
    bool first_key;    /* the first packet is a keyframe */
    int64_t decoded;   /* frames decoded without error */
};

struct av_probe {
    bool ok;
    char format[64]; /* demuxer name */
    int n_streams;
    struct av_stream_probe video, audio;
};

/* Reads every packet of `path` and decodes both streams (no asserts: a
 * failure sets ok = false). */
void av_probe_file(const char *path, struct av_probe *p);

#endif
