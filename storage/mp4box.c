/* SPDX-License-Identifier: MIT */
/*
 * Top-level MP4 boxes (see mp4box.h). A box starts with a 32-bit
 * big-endian size and a four-character type; size 1 means a 64-bit size
 * follows the type, size 0 that the box runs to the end of the file
 * (ISO/IEC 14496-12 4.2). The segment writer (frag.c) writes ftyp, moov,
 * then a moof and its mdat per fragment, so a crash or a reader racing
 * the writer sees a prefix of whole boxes, possibly a moof without its
 * mdat, then a torn box.
 */
#include "config.h"
#include "storage/mp4box.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* Where the scan reads headers from: a file, or bytes in memory. */
struct mp4box_src {
    int fd;             /* -1: buf */
    const uint8_t *buf; /* borrowed */
};

static uint64_t mp4box_be(const uint8_t *p, int n)
{
    uint64_t v = 0;

    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

int mp4box_parse(const uint8_t *buf, size_t len, uint64_t avail,
                 struct mp4box *out)
{
    uint64_t size;
    int hl = 8;

    if (avail < 8)
        return -EBADMSG;
    if (len < 8)
        return -EAGAIN;
    size = mp4box_be(buf, 4);
    if (size == 1) {
        if (avail < 16)
            return -EBADMSG;
        if (len < 16)
            return -EAGAIN;
        size = mp4box_be(buf + 8, 8);
        hl = 16;
    }
    out->to_end = size == 0;
    if (size == 0)
        size = avail;
    if (size < (uint64_t)hl || size > avail)
        return -EBADMSG;
    out->size = size;
    out->header_len = hl;
    memcpy(out->type, buf + 4, 4);
    return 0;
}

bool mp4box_is(const struct mp4box *box, const char type[4])
{
    return memcmp(box->type, type, 4) == 0;
}

int mp4box_read(int fd, int64_t off, int64_t limit, struct mp4box *out)
{
    uint8_t h[MP4BOX_MAX_HEADER];
    size_t want, got = 0;
    int r;

    if (off < 0 || limit - off < 8)
        return -EBADMSG;
    want = limit - off >= MP4BOX_MAX_HEADER ? MP4BOX_MAX_HEADER : 8;
    while (got < want) {
        ssize_t n = pread(fd, h + got, want - got, off + (int64_t)got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO; /* the file is shorter than limit */
        got += (size_t)n;
    }
    r = mp4box_parse(h, got, (uint64_t)(limit - off), out);
    /* All the header bytes there are were read: -EAGAIN cannot be. */
    return r == -EAGAIN ? -EBADMSG : r;
}

static int mp4box_src_read(const struct mp4box_src *src, int64_t off,
                           int64_t limit, struct mp4box *out)
{
    size_t len;

    if (src->fd >= 0)
        return mp4box_read(src->fd, off, limit, out);
    len = (size_t)(limit - off);
    return mp4box_parse(src->buf + off,
                        len < MP4BOX_MAX_HEADER ? len : MP4BOX_MAX_HEADER,
                        (uint64_t)len, out);
}

/* The scan behind both entry points: see mp4box_complete_prefix. */
static int mp4box_scan(const struct mp4box_src *src, int64_t size,
                       unsigned flags, int64_t *valid)
{
    int64_t off = 0;
    bool moof_pending = false;

    *valid = 0;
    for (int n = 0; n < MP4BOX_MAX_BOXES && off + 8 <= size; n++) {
        struct mp4box box;
        int r = mp4box_src_read(src, off, size, &box);

        if (r == -EBADMSG || r == -EAGAIN)
            break; /* a torn or damaged box ends the prefix */
        if (r < 0)
            return r;
        if (box.to_end && (flags & MP4BOX_GROWING))
            break; /* its size is not written yet */
        if (mp4box_is(&box, "moof")) {
            moof_pending = true;
        } else if (mp4box_is(&box, "mdat") || !moof_pending) {
            moof_pending = false;
            *valid = off + (int64_t)box.size;
        }
        off += (int64_t)box.size;
    }
    return 0;
}

int mp4box_complete_prefix(int fd, int64_t size, unsigned flags, int64_t *valid)
{
    const struct mp4box_src src = {.fd = fd};

    return mp4box_scan(&src, size, flags, valid);
}

size_t mp4box_complete_prefix_buf(const uint8_t *buf, size_t len,
                                  unsigned flags)
{
    const struct mp4box_src src = {.fd = -1, .buf = buf};
    int64_t valid = 0;

    if (len > INT64_MAX)
        len = INT64_MAX;
    (void)mp4box_scan(&src, (int64_t)len, flags, &valid); /* no I/O */
    return (size_t)valid;
}
