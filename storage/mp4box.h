/* SPDX-License-Identifier: MIT */
/*
 * Top-level boxes of an MP4 or QuickTime file (ISO/IEC 14496-12 4.2): the
 * box header parser, and the scan for the prefix of a segment made of
 * complete boxes, which recovery truncates a crashed segment to and export
 * reads a segment still being written up to. The parser is pure; the scan
 * reads a file with pread(2) or works on bytes in memory. Any thread.
 */
#ifndef NVR_STORAGE_MP4BOX_H
#define NVR_STORAGE_MP4BOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvr/base/compiler.h"

/* More top-level boxes than this is not a segment of ours: the scan stops
 * there. */
#define MP4BOX_MAX_BOXES (1 << 20)
/* Longest box header: 32-bit size 1, type, 64-bit size. */
#define MP4BOX_MAX_HEADER 16

struct mp4box {
    uint64_t size;  /* bytes, header included */
    char type[4];   /* four-character code, not NUL-terminated */
    int header_len; /* 8, or 16 with a 64-bit size */
    bool to_end;    /* size 0 in the file: the box runs to the end */
};

/*
 * Parses the box header at buf, of which len bytes are at hand and avail
 * bytes remain from the box's start to the end of the data (len <= avail).
 * Returns 0 with *out set; -EAGAIN when len is too short for the header
 * but avail is not; -EBADMSG when no whole box starts there (avail too
 * short for a header, a size below the header's or beyond avail). Borrows
 * buf.
 */
NVR_NODISCARD int mp4box_parse(const uint8_t *buf, size_t len, uint64_t avail,
                               struct mp4box *out);

/* Whether box has the four-character code type ("mdat"). */
bool mp4box_is(const struct mp4box *box, const char type[4]);

/*
 * Reads and parses the header of the box at off in fd, whose data end at
 * limit. Returns 0, -EBADMSG (no whole box there), -EIO (the file is
 * shorter than limit) or a negative errno from pread.
 */
NVR_NODISCARD int mp4box_read(int fd, int64_t off, int64_t limit,
                              struct mp4box *out);

/* The file is still being written: a box whose size says "to the end of
 * the file" is not complete yet. */
#define MP4BOX_GROWING 1u

/*
 * The length of the longest prefix of the first size bytes of fd made of
 * complete top-level boxes, where a moof counts only with the complete
 * mdat that follows it (so a torn last fragment is not part of it). The
 * scan ends at the first box that is not whole, at a box running to the
 * end of the file when flags has MP4BOX_GROWING, or after
 * MP4BOX_MAX_BOXES boxes. Returns 0 with *valid set, -EIO (the file is
 * shorter than size) or a negative errno from pread.
 */
NVR_NODISCARD int mp4box_complete_prefix(int fd, int64_t size, unsigned flags,
                                         int64_t *valid);

/* The same scan over len bytes in memory; returns the prefix's length.
 * Borrows buf. */
size_t mp4box_complete_prefix_buf(const uint8_t *buf, size_t len,
                                  unsigned flags);

#endif
