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
/* The largest AudioSpecificConfig kept (a few bytes in practice). */
#define SDP_MAX_CONFIG_BYTES 64
/* RFC 3640 AU header field lengths accepted, in bits: AU sizes and indices
 * never need more than 16; 32 leaves headroom and keeps shifts defined. */
#define SDP_AAC_MAX_FIELD_BITS 32

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
    /* H.265 fmtp (RFC 7798 7.1): > 0 means DONL/DOND fields are present */
    int max_don_diff;
    /* mpeg4-generic fmtp (RFC 3640 4.1); lengths in bits, 0 if absent
     * (AAC-hbr / AAC-lbr imply 13/3/3 and 6/2/2 when sizelength is not
     * given). Values out of range make the track non-recordable. */
    char mode[16];                /* "AAC-hbr", "AAC-lbr", ... as sent */
    int size_length;              /* sizelength */
    int index_length;             /* indexlength */
    int index_delta_length;       /* indexdeltalength */
    int cts_delta_length;         /* ctsdeltalength */
    int dts_delta_length;         /* dtsdeltalength */
    int random_access_indication; /* randomaccessindication, 0 or 1 */
    int stream_state_indication;  /* streamstateindication, bits */
    int aux_data_size_length;     /* auxiliarydatasizelength */
    int constant_duration;        /* constantduration, samples; 0 if absent */
    int constant_size;            /* constantsize, bytes; 0 if absent */
    size_t config_len;            /* bytes in config */
    uint8_t config[SDP_MAX_CONFIG_BYTES]; /* AAC: AudioSpecificConfig from
                                 fmtp config= (hex); empty if absent */
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
