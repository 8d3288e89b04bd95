/* SPDX-License-Identifier: MIT */
/*
 * The table of depacketizers: maps a codec from the SDP to the ops that
 * turn its RTP payloads into access units.
 */
#include "config.h"
#include "ingest/depack.h"

#include <stddef.h>

const struct depack_ops *depack_find(enum nvr_codec codec)
{
    switch (codec) {
    case NVR_CODEC_H264:
        return &depack_h264_ops;
    case NVR_CODEC_H265:
        return &depack_h265_ops;
    case NVR_CODEC_AAC:
        return &depack_aac_ops;
    case NVR_CODEC_PCMA:
    case NVR_CODEC_PCMU:
        return &depack_g711_ops;
    case NVR_CODEC_MJPEG:
        return &depack_mjpeg_ops;
    default:
        return NULL;
    }
}
