/* SPDX-License-Identifier: MIT */
/*
 * Access units and stream descriptions: what ingest hands to storage.
 *
 * An access unit (one video frame, or one audio packet) is a refcounted,
 * immutable-after-publish buffer. Ingest builds it on the loop thread, then
 * passes one reference to the writer queue; the writer thread drops it after
 * muxing. The refcount is atomic, so either side may drop last.
 */
#ifndef NVR_BASE_AU_H
#define NVR_BASE_AU_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "nvr/base/compiler.h"

/* The largest access unit accepted from a camera (a 4K I-frame at high
 * quality is a few MB). Larger units are dropped and counted. */
#define NVR_AU_MAX_BYTES ((size_t)16 * 1024 * 1024)
/* The largest codec parameter blob (VPS/SPS/PPS in Annex B). */
#define NVR_PARAMS_MAX_BYTES 1024
#define NVR_MAX_TRACKS       4
/* NAL units whose start a video unit can index: those of a typical
 * picture with its parameter sets and SEI. */
#define NVR_AU_NAL_INDEX 16

enum nvr_codec {
    NVR_CODEC_NONE = 0,
    NVR_CODEC_H264,
    NVR_CODEC_H265,
    NVR_CODEC_MJPEG,
    NVR_CODEC_AAC,
    NVR_CODEC_PCMA,
    NVR_CODEC_PCMU,
};

/* "h264", "h265", ... as used in JSON output and the catalog. */
const char *nvr_codec_name(enum nvr_codec codec);

enum nvr_au_flags {
    NVR_AU_KEY = 1u << 0,    /* starts a GOP: an IDR/IRAP picture */
    NVR_AU_DISCONT = 1u << 1 /* media time restarted: cut a new segment */
};

struct nvr_au {
    atomic_int refs;
    int track;               /* index into nvr_stream_info.tracks */
    uint32_t flags;          /* enum nvr_au_flags */
    int64_t dts;             /* decode time: strictly increasing in the order
                                units are delivered; == pts without B-frames */
    int64_t pts;             /* presentation time; both in the track's
                                clock_rate units, unwrapped, dts <= pts; only
                                differences within one session matter */
    int64_t wall_us;         /* recorder wall time of this unit, UTC us */
    uint32_t params_gen;     /* nvr_track_info.params_gen it was decoded with */
    uint32_t refused_before; /* units of the camera refused (nvr/base/
                                refusal.h) between the unit delivered
                                before this one and this one; set by
                                ingest, added to the segment's count */
    uint32_t n_nals;         /* NAL units noted with nvr_au_note_nal(); when 0
                                or above NVR_AU_NAL_INDEX, find them in data */
    uint32_t nal_at[NVR_AU_NAL_INDEX]; /* offsets of their start codes */
    size_t len;                        /* bytes used in data */
    size_t cap;                        /* bytes allocated in data */
    uint8_t data[]; /* video: Annex B NAL units with 4-byte start codes */
};

/*
 * Allocates an access unit with room for `cap` bytes, refcount 1, len 0.
 * Returns 0, -EMSGSIZE if cap > NVR_AU_MAX_BYTES, or -ENOMEM. Any thread.
 * *out is owned by the caller (one reference).
 */
NVR_NODISCARD int nvr_au_new(size_t cap, struct nvr_au **out);

/* Grows an access unit that nobody else references yet (refcount 1), keeping
 * its bytes. On failure *au is unchanged and still valid. */
NVR_NODISCARD int nvr_au_reserve(struct nvr_au **au, size_t cap);

/* Appends bytes, growing as needed (up to NVR_AU_MAX_BYTES). Refcount 1 only.
 * Returns 0, -EMSGSIZE or -ENOMEM; on failure the unit is unchanged. */
NVR_NODISCARD int nvr_au_append(struct nvr_au **au, const void *data,
                                size_t len);

/* Notes that a NAL unit's 4-byte start code begins at data[at] (the
 * depacketizer's index, which saves the writer a scan of every byte).
 * Offsets must be noted in increasing order. Refcount 1 only. */
void nvr_au_note_nal(struct nvr_au *au, size_t at);

/* Shortens the unit to len bytes (at most au->len), forgetting the NAL
 * units noted at or after len. Refcount 1 only. */
void nvr_au_truncate(struct nvr_au *au, size_t len);

/* Takes another reference; returns au. */
struct nvr_au *nvr_au_ref(struct nvr_au *au);

/* Drops one reference; frees on the last. NULL does nothing. */
void nvr_au_unref(struct nvr_au *au);

struct nvr_track_info {
    enum nvr_codec codec;
    int clock_rate;                       /* RTP clock, Hz (90000 for video) */
    int channels;                         /* audio channels, 0 for video */
    int width, height;                    /* pixels, 0 if not known yet */
    uint32_t params_gen;                  /* bumped each time params change */
    size_t params_len;                    /* bytes in params */
    uint8_t params[NVR_PARAMS_MAX_BYTES]; /* H.264: SPS+PPS, H.265:
                             VPS+SPS+PPS, Annex B with 4-byte start codes;
                             AAC: AudioSpecificConfig */
};

/* What one RTSP session delivers: the tracks being recorded. Plain data,
 * copied by value. */
struct nvr_stream_info {
    int n_tracks;
    struct nvr_track_info tracks[NVR_MAX_TRACKS];
};

#endif
