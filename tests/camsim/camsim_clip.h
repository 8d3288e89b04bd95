/* SPDX-License-Identifier: MIT */
/*
 * camsim_clip: one pre-encoded Annex B H.264/H.265 file, split once into
 * access units, packetized once into RTP payloads (RFC 6184 / RFC 7798,
 * 1400-byte packets) and played in a loop at a fixed frame rate to every
 * appsrc registered with it. One pacing thread feeds all mounts: each
 * mount gets the shared payload memory behind its own 12-byte RTP headers
 * (its own SSRC, sequence numbers and timestamps), one buffer list per
 * frame, so a mount costs little more than the RTSP server's own work.
 */
#ifndef CAMSIM_CLIP_H
#define CAMSIM_CLIP_H

#include <glib.h>
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>

/* Largest clip file read into memory. */
#define CAMSIM_CLIP_MAX_BYTES (512u * 1024u * 1024u)
/* Most access units in one clip (over an hour at 25 fps). */
#define CAMSIM_CLIP_MAX_AUS 100000u
/* RTP packet size (header included), as rtph264pay's default MTU. */
#define CAMSIM_CLIP_RTP_MTU 1400u
/* The dynamic payload type of the clip's video track. */
#define CAMSIM_CLIP_PT 96u

/* The element a clip mount's launch line names pay0 (an appsrc that
 * looks like a payloader to the RTSP server); registered by
 * camsim_clip_load(). */
#define CAMSIM_CLIP_SRC_ELEMENT "camsimrtpsrc"

struct camsim_clip;

/* Reads, splits and packetizes PATH (borrowed) and registers
 * CAMSIM_CLIP_SRC_ELEMENT. h265 selects the NAL syntax. Returns 0 and an owned
 * clip in *out, or a negative errno after a message on stderr. */
int camsim_clip_load(const char *path, gboolean h265, unsigned fps,
                     struct camsim_clip **out);

/* Starts the pacing thread. Returns 0 or -EAGAIN. */
int camsim_clip_start(struct camsim_clip *clip);

/* Registers an appsrc that stands for the payloader pay0 of a media
 * (takes a new reference), and the server's stream made of it (takes a
 * new reference; may be NULL): sets its application/x-rtp caps with a fresh
 * random SSRC, sequence and timestamp base, and from the next tick on
 * pushes it the clip from its first keyframe, one buffer list of RTP
 * packets per frame, timestamped in the appsrc's own running time, while
 * its pipeline plays and the stream is not held blocked by the server. */
void camsim_clip_add_sink(struct camsim_clip *clip, GstElement *appsrc,
                          GstRTSPStream *stream);

/* Unregisters an appsrc (borrowed); does nothing when not registered. */
void camsim_clip_remove_sink(struct camsim_clip *clip, GstElement *appsrc);

/* Number of access units, of keyframes and of RTP packets in the clip. */
size_t camsim_clip_frames(const struct camsim_clip *clip);
size_t camsim_clip_keyframes(const struct camsim_clip *clip);
size_t camsim_clip_packets(const struct camsim_clip *clip);

/* RTP payload bytes of the whole clip, and its play time in ns. */
guint64 camsim_clip_payload_bytes(const struct camsim_clip *clip);
guint64 camsim_clip_duration_ns(const struct camsim_clip *clip);

#endif
