/* SPDX-License-Identifier: MIT */
/*
 * One segment file: fragmented MP4 (empty moov, then moof + mdat
 * fragments) without transcoding; libavformat writes the header and
 * frag.c the fragments, both through fsops so that a running SHA-256
 * covers every byte as it is written. The file plays while it is being
 * written; a fragment is written whenever the camera's writer has caught
 * up (segment_flush) and at least once per GOP, so a crash loses only the
 * units not flushed yet.
 *
 * A segment holds one video track (H.264, H.265 as hvc1, or MJPEG) and at
 * most one audio track (AAC, G.711 A-law or mu-law), each in its own clock
 * (time base 1/clock_rate) on one time line whose zero is the first video
 * unit. The container is MP4 unless the audio is G.711, which FFmpeg's mp4
 * muxer cannot tag: then QuickTime (.mov), with the same moof/mdat layout.
 *
 * Video units come in decode order, with strictly increasing decode times
 * (dts), and are held back by one so that every sample gets its exact
 * duration (the next unit's dts minus its own); a unit presented at
 * another time (B-frames) carries its composition offset (pts - dts), and
 * the video track's edit list starts the presentation at the first
 * unit's pts, so its first frame is shown at time 0. Audio units wait for
 * the next fragment with the duration their samples give. Frame counts and
 * durations in struct segment_result are those of the video track. A struct
 * segment is used by one thread at a time (the camera's writer thread); never
 * the loop thread.
 */
#ifndef NVR_STORAGE_SEGMENT_H
#define NVR_STORAGE_SEGMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "nvr/base/au.h"
#include "nvr/base/compiler.h"

/* "No next unit known" for segment_close(). */
#define SEGMENT_NO_PTS INT64_MIN
/* Duration given to the last unit when there is only one: 1/25 s. */
#define SEGMENT_DEFAULT_FPS 25

struct segment_result {
    int64_t bytes;        /* bytes in the file (all of them hashed) */
    int64_t frames;       /* units muxed */
    int64_t first_pts;    /* pts of the first unit (the first frame
                             presented), track clock units */
    int64_t last_pts;     /* the latest pts of the units muxed */
    int64_t duration_us;  /* from the first frame presented to the end of
                             the last one, as players report */
    int64_t dropped;      /* units refused (empty, too large; audio also
                             non-monotonic pts), video and audio */
    int64_t dts_refused;  /* video units refused: dts not after the
                             previous unit's, or after their pts */
    int64_t late_dropped; /* video units accepted by segment_write(), then
                             not muxed: a composition offset beyond 32
                             bits (in dropped too; segment_write() said
                             nothing of them) */
    int64_t audio_frames; /* audio units muxed */
    int width, height;    /* pixels in the sample entry (from the SPS when
                             the stream description had none) */
    char sha256[65];      /* lowercase hex of the file bytes */
};

struct segment;

/*
 * The file name extension ("mp4" or "mov", no dot) of the container that
 * segment_open_av() writes for this audio track (NULL: no audio).
 */
const char *segment_container_ext(const struct nvr_track_info *audio);

/* Whether segment_open_av() can record `audio` (borrowed): a codec it
 * knows, a sane clock and channel count, and for AAC an
 * AudioSpecificConfig. A track that fails this is left out of segments. */
bool segment_audio_ok(const struct nvr_track_info *audio);

/*
 * Creates `path` (O_EXCL: fails with -EEXIST if it exists) and prepares a
 * muxer for the video track `video` (borrowed; copied). wall_us (UTC us)
 * becomes the file's creation_time. Nothing is written until the first
 * unit; parameter sets or a size missing from `video` are then taken from
 * that keyframe. Returns 0, -EEXIST, -EINVAL (codec not recordable), -ENOMEM or
 * another negative errno. *out is owned; finish with segment_close().
 */
NVR_NODISCARD int segment_open(const char *path,
                               const struct nvr_track_info *video,
                               int64_t wall_us, struct segment **out);

/*
 * segment_open() with an optional audio track `audio` (borrowed; copied;
 * NULL for none): AAC with its AudioSpecificConfig in params, or PCMA /
 * PCMU; clock_rate is the sample rate, channels 1..8. `path` should end
 * in segment_container_ext(audio). Returns what segment_open() returns;
 * -EINVAL also for an audio track that cannot be recorded.
 */
NVR_NODISCARD int segment_open_av(const char *path,
                                  const struct nvr_track_info *video,
                                  const struct nvr_track_info *audio,
                                  int64_t wall_us, struct segment **out);

/*
 * Adds one video access unit (borrowed; a reference is kept until it is
 * muxed). The first unit must be a keyframe (-EINVAL otherwise). A unit
 * that is empty or larger than NVR_AU_MAX_BYTES is dropped and counted:
 * returns 1. A unit whose dts is not after the previous unit's, or is
 * after its own pts, is refused and counted apart: returns 2. Returns 0
 * when accepted, or a negative errno from the disk (-ENOSPC, -EIO): the
 * segment is then failed, the file keeps the bytes written so far, and
 * only segment_close() may follow.
 */
NVR_NODISCARD int segment_write(struct segment *seg, struct nvr_au *au);

/*
 * Adds one audio access unit (borrowed; a reference is kept until its
 * fragment is written) at `pts`: audio
 * clock ticks since the first video unit (the caller maps the camera's
 * audio timestamps onto the video time line). Its duration is the samples
 * it holds: 1024 per AAC frame, len / channels for G.711. Returns 0 when
 * accepted; 1 when dropped and counted: no audio track, no video unit yet,
 * pts negative or not after the previous audio unit's, empty or larger
 * than NVR_AU_MAX_BYTES; or a negative errno from the disk as
 * segment_write() does.
 */
NVR_NODISCARD int segment_write_audio(struct segment *seg, struct nvr_au *au,
                                      int64_t pts);

/*
 * Writes the units added so far (all but the held video unit) to the file
 * as one fragment. The writer calls this when its queue is empty, so that
 * what was received reaches the kernel without waiting for the next GOP.
 * Returns 0 or a negative errno from the disk, as segment_write() does.
 */
NVR_NODISCARD int segment_flush(struct segment *seg);

/*
 * Media time from the first video unit to `pts` in the video clock; what a cut
 * decision compares with the target length. 0 before the first unit.
 */
int64_t segment_elapsed(const struct segment *seg, int64_t pts);

/* Progress so far (bytes handed to the kernel, units muxed, their total
 * duration): fills res except sha256. */
void segment_get_progress(const struct segment *seg,
                          struct segment_result *res);

/*
 * Writes the held unit (its duration is next_dts minus its dts when the
 * next unit is known, else the previous unit's), the trailer, then fsyncs
 * and closes the file and fsyncs its directory. Frees seg in every case
 * and fills *res (also on failure, with what reached the file). Returns 0
 * or the first disk error met during the segment's life. NULL does
 * nothing and returns 0.
 */
int segment_close(struct segment *seg, int64_t next_dts,
                  struct segment_result *res);

#endif
