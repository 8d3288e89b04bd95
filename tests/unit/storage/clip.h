/* SPDX-License-Identifier: MIT */
/*
 * Test helpers shared by the storage tests: a tiny committed H.264 clip
 * (tests/data/clip_160x120_25fps.h264 or .h265, 50 frames, GOP 25) split into
 * access units, and read-back checks of MP4 files with libavformat.
 */
#ifndef NVR_TESTS_UNIT_STORAGE_CLIP_H
#define NVR_TESTS_UNIT_STORAGE_CLIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvr/base/au.h"

#define CLIP_MAX_AUS 256
#define CLIP_FPS     25
#define CLIP_TICKS   (90000 / CLIP_FPS)   /* pts step, 90 kHz */
#define CLIP_US      (1000000 / CLIP_FPS) /* wall step, us */

struct clip_au {
    uint8_t *data; /* Annex B, 4-byte start codes */
    size_t len;
    bool key;
};

struct clip {
    int n;
    struct clip_au aus[CLIP_MAX_AUS];
    struct nvr_track_info track; /* H.264, 90 kHz, SPS+PPS, 160x120 */
};

/* Loads and splits the H.264 clip from $NVR_TESTDATA_DIR; asserts on
 * failure. */
void clip_load(struct clip *c);

/* The same for the H.264 or H.265 (clip_160x120_25fps.h265) clip. */
void clip_load_codec(struct clip *c, enum nvr_codec codec);
void clip_free(struct clip *c);

/* A new access unit (one reference) holding AU i % n of the clip. */
struct nvr_au *clip_au(const struct clip *c, int i, int64_t pts,
                       int64_t wall_us, uint32_t extra_flags);

struct probe {
    int ok;         /* 1 if avformat could open it */
    char codec[16]; /* avcodec name */
    int width, height;
    int64_t frames;      /* video packets */
    int64_t duration_us; /* stream duration, as ffprobe reports */
    int first_key;       /* the first packet is a keyframe */
};

/* Reads `path` with libavformat (no asserts: a failure sets ok = 0). */
void probe_file(const char *path, struct probe *p);

/* Decodes every video frame of `path` with libavcodec; returns the number
 * of frames decoded without error, or a negative error. */
int decode_file(const char *path);

/* Lowercase hex SHA-256 of the file's bytes into out[65]; 0 or -errno. */
int sha256_file(const char *path, char out[65]);

/* Size of a file, or -1. */
int64_t file_size(const char *path);

/* Makes a fresh temporary directory; returns a malloc'd path. */
char *make_tmpdir(void);

/* rm -rf of a test directory. */
void remove_tree(const char *path);

#endif
