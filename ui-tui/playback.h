/* SPDX-License-Identifier: MIT */
/*
 * The playback engine of the terminal UI, separate from any drawing: it
 * finds a camera's segments in the catalog, opens them with libavformat,
 * seeks to a wall time, decodes with libavcodec and scales the current
 * picture with libswscale. It moves on across segment boundaries by itself
 * and follows the segment still being written (reopening it when it has
 * grown), which is also how live view works: no connection to the camera.
 *
 * Wall time of a frame = the segment's catalog start_us + its pts offset
 * from the start of the file (the writer stores pts relative to the first
 * frame). A struct playback is used by one thread (the UI thread).
 */
#ifndef NVR_UI_TUI_PLAYBACK_H
#define NVR_UI_TUI_PLAYBACK_H

#include <stdint.h>

#include "nvr/base/compiler.h"

struct catalog;
struct playback;

/* Consecutive segments closer than this are one continuous span. */
#define PLAYBACK_GAP_MIN_US 500000LL

/*
 * A new engine for camera_id's footage. cat and storage_dir are borrowed
 * and must outlive the engine. Returns 0 or -ENOMEM; *out is owned, free
 * it with playback_free().
 */
NVR_NODISCARD int playback_new(struct catalog *cat, const char *storage_dir,
                               int64_t camera_id, struct playback **out);

/* Closes the file and frees everything. NULL does nothing. */
void playback_free(struct playback *pb);

/*
 * Makes the current frame the last one shown at or before t_us (UTC us),
 * or, when t_us falls in a gap or before the first segment, the first
 * frame after it. Returns 0, -ENOENT (no footage at or after t_us), or a
 * negative errno from the file or decoder.
 */
NVR_NODISCARD int playback_seek(struct playback *pb, int64_t t_us);

/*
 * Makes the current frame the newest one available (live view: the last
 * complete GOP of the newest segment). Returns 0, -ENOENT (no footage) or
 * an error.
 */
NVR_NODISCARD int playback_seek_live(struct playback *pb);

/*
 * Advances to the next frame, across segment boundaries (and gaps).
 * Returns 0, -EAGAIN when the segment being written has no newer complete
 * frame yet (try again later), -ENOENT at the end of the footage, or an
 * error.
 */
NVR_NODISCARD int playback_step(struct playback *pb);

/* Steps while the next frame is at or before t_us (seeking instead when t_us
 * is far ahead). Returns what playback_step/seek returned last; 0 when the
 * current frame already is the right one. */
NVR_NODISCARD int playback_advance_to(struct playback *pb, int64_t t_us);

/* Wall time (UTC us) of the current frame; 0 when there is none. */
int64_t playback_frame_time(const struct playback *pb);

/* Duration of one frame of the current stream, us (40000 at 25 fps). */
int64_t playback_frame_interval(const struct playback *pb);

/* Size of the current picture in pixels; 0 when there is none. */
void playback_frame_size(const struct playback *pb, int *width, int *height);

/*
 * The current picture scaled to width x height, as RGBA (4 bytes per
 * pixel). *pixels is borrowed until the next call on pb; *stride is in
 * bytes. Returns 0, -ENOENT (no current frame), -EINVAL or -ENOMEM.
 */
NVR_NODISCARD int playback_frame_rgba(struct playback *pb, int width,
                                      int height, const uint8_t **pixels,
                                      int *stride);

/* Frames decoded since playback_new() (for benchmarks and tests). */
int64_t playback_frames_decoded(const struct playback *pb);

#endif
