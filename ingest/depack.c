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
    default:
        return NULL;
    }
}
