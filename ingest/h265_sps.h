/* SPDX-License-Identifier: MIT */
/*
 * H.265 sequence parameter set reader (ITU-T H.265 7.3.2.2.1): just enough
 * of the SPS to learn the picture size after the conformance window and
 * the reorder depth (sps_max_num_reorder_pics).
 * Internal to ingest; pure.
 */
#ifndef NVR_INGEST_H265_SPS_H
#define NVR_INGEST_H265_SPS_H

#include <stddef.h>
#include <stdint.h>

/* SPS bytes looked at; the picture size comes within the first few dozen
 * bytes, so longer SPS (big VUI) are only read this far. */
#define H265_SPS_MAX_BYTES 1024
/* Largest picture accepted, in pixels per side (level 6.2 allows 8192x4320;
 * leave headroom). */
#define H265_SPS_MAX_DIM 16384

struct h265_sps_info {
    int profile_idc;          /* general_profile_idc */
    int level_idc;            /* general_level_idc (30 x level) */
    unsigned sps_id;          /* sps_seq_parameter_set_id, 0..15 */
    int chroma_format_idc;    /* 0..3 */
    int width, height;        /* pixels, after the conformance window */
    int max_num_reorder_pics; /* sps_max_num_reorder_pics[HighestTid],
                                 0..15; -1 if it could not be read */
};

/*
 * Reads an SPS NAL unit. `nal` borrows the NAL unit starting with its
 * two-byte header (type 33), emulation prevention bytes still in.
 * Returns 0, or -EBADMSG if it is not an SPS, is truncated, or has
 * out-of-range values.
 */
int h265_sps_parse(const uint8_t *nal, size_t len, struct h265_sps_info *out);

#endif
