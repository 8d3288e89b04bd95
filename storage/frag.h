/* SPDX-License-Identifier: MIT */
/*
 * The media fragments of a segment file (ISO/IEC 14496-12 8.8: moof +
 * mdat, and the mfra index at the end), written straight from the access
 * units' own buffers.
 *
 * libavformat's mov muxer, in fragmented mode, copies every packet into a
 * growing in-memory buffer (scanning Annex B video to length-prefix it),
 * keeps the whole fragment there, and copies it again into its I/O buffer:
 * several passes over every byte, page faults as the buffer grows, and a
 * GOP of memory per camera. Here a sample's bytes go from the unit to
 * writev(2) as they are: only the moof box and one 4-byte length per NAL
 * unit (in place of its 4-byte start code) are built. libavformat still
 * writes the file header (ftyp and an empty moov whose sample entries hold
 * the codec configuration), so what a player reads first is its.
 *
 * Boxes written: moof { mfhd, traf per track with samples { tfhd
 * (default-base-is-moof, default sample flags), tfdt (version 1), trun
 * (data offset, per-sample duration and size; first-sample flags for
 * video; and, in version 1, signed composition offsets when a sample of
 * the track's fragment has one) } }, mdat; at the end mfra { tfra (the video
 * track's fragments that start with a keyframe), mfro }. Every fragment of the
 * video track that starts a GOP starts with its keyframe, so tfra lists exactly
 * the random access points, at their presentation times.
 *
 * Sample durations are decode-time differences within a fragment; the last
 * sample of a fragment takes the duration it was added with, and the next
 * fragment's tfdt is its first sample's own time, so gaps in a track stay
 * where they were. A struct frag is used by one thread at a time.
 */
#ifndef NVR_STORAGE_FRAG_H
#define NVR_STORAGE_FRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "nvr/base/au.h"
#include "nvr/base/compiler.h"

#define FRAG_MAX_TRACKS 2
/* NAL units accepted in one Annex B unit: more than the macroblock rows
 * of any picture recorded, and a bound on the memory a unit can cost. */
#define FRAG_MAX_NALS_PER_UNIT 8192u

/*
 * Writes every byte of iov[0..cnt) to the file, in order (cnt is at most
 * IOV_MAX). Returns 0 or a negative errno; after an error nothing more is
 * written.
 */
typedef int (*frag_write_fn)(void *opaque, struct iovec *iov, int cnt);

struct frag_sample {
    struct nvr_au *au; /* owned reference */
    int64_t dts;       /* track timescale */
    int64_t dur;       /* used when it is the last of its fragment */
    int32_t cto;       /* composition offset: pts - dts, timescale */
    uint32_t size;     /* bytes in the file */
    uint32_t nal0;     /* Annex B tracks: first entry in frag.nal */
    uint32_t nals;     /* and how many */
    bool key;
};

struct frag_track {
    uint32_t id; /* track_ID in the moov */
    bool video;  /* first-sample flags; random access points */
    bool annexb; /* units are Annex B; written length-prefixed */
    struct frag_sample *s;
    size_t n, cap;
};

struct frag_nal {
    const uint8_t *p; /* into a unit held by a sample */
    uint32_t len;
    uint8_t be[4]; /* len, big-endian: the length prefix written */
};

struct frag_ra {
    int64_t time;   /* video timescale */
    int64_t offset; /* of the moof in the file */
};

struct frag {
    struct frag_track track[FRAG_MAX_TRACKS];
    int ntracks;
    struct frag_nal *nal;
    size_t nnal, nal_cap;
    uint8_t *box; /* moof + mdat header of the fragment being written */
    size_t box_cap;
    struct iovec *iov;
    size_t iov_cap;
    struct frag_ra *ra;
    size_t nra, ra_cap;
    uint32_t seq;         /* mfhd sequence number of the last fragment */
    size_t pending_bytes; /* sample bytes not written yet */
};

/* Zeroes f; no allocation. */
void frag_init(struct frag *f);

/* Adds track number f->ntracks with the moov's track_ID `id`. Returns the
 * track's index, or -EINVAL when FRAG_MAX_TRACKS are there. */
int frag_add_track(struct frag *f, uint32_t id, bool video, bool annexb);

/*
 * Adds one sample to the fragment being built: a reference to `au` is kept
 * until it is written. dts (strictly after the track's previous sample),
 * cto (its presentation time minus dts; 0 without B-frames) and dur are
 * in the track's timescale. An Annex B unit is split at its
 * start codes here. Returns 0; 1 when the unit holds no NAL unit or more
 * than FRAG_MAX_NALS_PER_UNIT (nothing kept); -EINVAL (no such track) or
 * -ENOMEM.
 */
NVR_NODISCARD int frag_add(struct frag *f, int track, struct nvr_au *au,
                           int64_t dts, int32_t cto, int64_t dur, bool key);

/* Whether samples wait to be written. */
bool frag_pending(const struct frag *f);

/*
 * Writes the samples added since the last flush as one fragment whose moof
 * starts at file offset `offset`, through `wr`. Nothing happens when no
 * sample waits. The references are dropped in every case. Returns 0, or
 * what wr returned, or -ENOMEM.
 */
NVR_NODISCARD int frag_flush(struct frag *f, int64_t offset, frag_write_fn wr,
                             void *opaque);

/* Writes the mfra box (when a fragment started with a keyframe) after the
 * last fragment. Returns 0 or what wr returned. */
NVR_NODISCARD int frag_finish(struct frag *f, frag_write_fn wr, void *opaque);

/* Drops any samples not written and frees f's memory; f is zeroed. */
void frag_clear(struct frag *f);

#endif
