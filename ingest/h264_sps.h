/* SPDX-License-Identifier: MIT */
/*
 * H.264 sequence parameter set reader (ITU-T H.264 7.3.2.1.1): just enough
 * of the SPS to learn the coded picture size after cropping and, from the
 * VUI (E.1.1), how many pictures may precede one in decode order and
 * follow it in output order. Internal to ingest; pure.
 */
#ifndef NVR_INGEST_H264_SPS_H
#define NVR_INGEST_H264_SPS_H

#include <stddef.h>
#include <stdint.h>

/* SPS bytes looked at; everything the picture size depends on comes well
 * before this, so longer SPS (big VUI/HRD) are only read this far. */
#define H264_SPS_MAX_BYTES 1024
/* Largest picture accepted, in pixels per side (H.264 level 6.2 allows
 * 8192x4320; leave headroom). */
#define H264_SPS_MAX_DIM 16384

struct h264_sps_info {
    int profile_idc;
    int level_idc;
    unsigned sps_id;            /* seq_parameter_set_id, 0..31 */
    int chroma_format_idc;      /* 0..3; 1 (4:2:0) when not coded */
    int frame_mbs_only;         /* 0: interlaced (field) coding possible */
    int width, height;          /* pixels, after frame cropping */
    int max_num_reorder_frames; /* VUI bitstream restriction (E.2.1), 0..16;
                                   0 for profiles without B slices; -1
                                   when the SPS does not say */
};

/*
 * Reads an SPS NAL unit. `nal` borrows the NAL unit starting with its
 * one-byte header (type 7), emulation prevention bytes still in.
 * Returns 0, or -EBADMSG if it is not an SPS, is truncated, or has
 * out-of-range values.
 */
int h264_sps_parse(const uint8_t *nal, size_t len, struct h264_sps_info *out);

#endif
