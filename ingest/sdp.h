/* SPDX-License-Identifier: MIT */
/*
 * SDP parser (RFC 8866) for RTSP DESCRIBE bodies, tolerant of what real
 * cameras send (see CAMERA-QUIRKS.md): missing o= lines, trailing spaces,
 * empty fmtp, a=control before other attributes, unknown media sections.
 */
#ifndef NVR_INGEST_SDP_H
#define NVR_INGEST_SDP_H

#include <stddef.h>
#include <stdint.h>

#include "nvr/base/au.h"

#define SDP_MAX_TRACKS 8
#define SDP_MAX_BYTES  (64 * 1024)

struct sdp_track {
    char media[16];         /* "video", "audio", "application", ... */
    int pt;                 /* RTP payload type of the first format */
    char encoding[32];      /* rtpmap encoding name as sent, e.g. "H264" */
    enum nvr_codec codec;   /* NVR_CODEC_NONE when not recognised */
    int clock_rate;         /* Hz; from rtpmap or the static payload table */
    int channels;           /* audio: from rtpmap, default 1; video 0 */
    char control[512];      /* a=control as sent; empty if absent */
    char fmtp[1024];        /* a=fmtp parameters for pt, as sent */
    int packetization_mode; /* H.264 fmtp, default 0 */
    size_t params_len;      /* bytes in params */
    uint8_t params[NVR_PARAMS_MAX_BYTES]; /* H.264: sprop-parameter-sets
                             decoded to Annex B (4-byte start codes); empty
                             if missing or invalid */
    int recordable; /* 1 if codec is one the recorder keeps */
};

struct sdp_session {
    char control[512]; /* session-level a=control, empty if absent */
    int n_tracks;      /* media sections kept, at most SDP_MAX_TRACKS */
    struct sdp_track tracks[SDP_MAX_TRACKS];
};

/*
 * Parses an SDP body. Unknown lines and media are kept (recordable = 0) or
 * ignored, never fatal. Returns 0, -EBADMSG if no media section parses, or
 * -EMSGSIZE if len > SDP_MAX_BYTES.
 */
int sdp_parse(const char *buf, size_t len, struct sdp_session *out);

#endif
