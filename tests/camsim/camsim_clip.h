/* SPDX-License-Identifier: MIT */
/*
 * camsim_clip: one pre-encoded Annex B H.264/H.265 file, split once into
 * access units and played in a loop at a fixed frame rate to every appsrc
 * registered with it. One pacing thread feeds all mounts, and every mount
 * gets the same memory (no copy, no encoder), so many mounts cost little
 * more than their RTP payloaders.
 */
#ifndef CAMSIM_CLIP_H
#define CAMSIM_CLIP_H

#include <glib.h>
#include <gst/gst.h>

/* Largest clip file read into memory. */
#define CAMSIM_CLIP_MAX_BYTES (512u * 1024u * 1024u)
/* Most access units in one clip (over an hour at 25 fps). */
#define CAMSIM_CLIP_MAX_AUS 100000u

struct camsim_clip;

/* Reads and splits PATH (borrowed). h265 selects the NAL syntax. Returns 0
 * and an owned clip in *out, or a negative errno after a message on
 * stderr. */
int camsim_clip_load(const char *path, gboolean h265, unsigned fps,
                     struct camsim_clip **out);

/* Caps the appsrc of a clip mount must carry (returns owned). */
GstCaps *camsim_clip_caps(const struct camsim_clip *clip);

/* Starts the pacing thread. Returns 0 or -EAGAIN. */
int camsim_clip_start(struct camsim_clip *clip);

/* Registers an appsrc (takes a new reference): from the next tick on it
 * receives the clip from its first keyframe, one buffer per frame,
 * timestamped in its own running time. */
void camsim_clip_add_sink(struct camsim_clip *clip, GstElement *appsrc);

/* Unregisters an appsrc (borrowed); does nothing when not registered. */
void camsim_clip_remove_sink(struct camsim_clip *clip, GstElement *appsrc);

/* Number of access units and of keyframes in the clip. */
size_t camsim_clip_frames(const struct camsim_clip *clip);
size_t camsim_clip_keyframes(const struct camsim_clip *clip);

#endif
