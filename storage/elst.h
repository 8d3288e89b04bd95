/* SPDX-License-Identifier: MIT */
/*
 * An edit list for a track of a file header that libavformat wrote
 * (ISO/IEC 14496-12 8.6.5, 8.6.6). In a fragmented file with an empty
 * moov the muxer writes no edit list: it has seen no sample. A track with
 * B-frames starts presenting at its first sample's composition offset
 * (decode time 0 plus pts - dts), so players would show nothing for that
 * long and report a start time after 0; one edit whose media_time is that
 * offset makes the first presented frame time 0, as ffmpeg's own
 * non-fragmented files do. Pure; used by segment.c.
 */
#ifndef NVR_STORAGE_ELST_H
#define NVR_STORAGE_ELST_H

#include <stddef.h>
#include <stdint.h>

/* Bytes the edts box adds: edts header, elst header, one version 0 entry. */
#define ELST_BOX_BYTES 36u

/*
 * Inserts edts { elst } after the tkhd of the trak whose track_ID is
 * track_id, in the moov among the top-level boxes of buf[0..*len), and
 * grows the trak and moov sizes. The one edit maps the whole (unknown,
 * so 0: fragmented) duration from media_time (the track's timescale,
 * 0..INT32_MAX) at rate 1. buf must have room for ELST_BOX_BYTES more.
 * Returns 0 and sets *len; -EBADMSG when the boxes cannot be walked, the
 * trak is not there or already has an edit list (buf is unchanged); or
 * -EINVAL for a media_time out of range. Not NVR_NODISCARD: a header
 * left as it was is still a valid file, so a caller may ignore it.
 */
int elst_insert(uint8_t *buf, size_t *len, size_t cap, uint32_t track_id,
                int64_t media_time);

#endif
