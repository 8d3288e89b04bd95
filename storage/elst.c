/* SPDX-License-Identifier: MIT */
/*
 * Edit list insertion into a moov (see elst.h). The boxes are walked by
 * their 32-bit sizes only (libavformat writes no 64-bit sizes in a
 * header this small); every size is checked against its parent.
 */
#include "config.h"
#include "storage/elst.h"

#include <errno.h>
#include <string.h>

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static void set32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Writes a box header: size, then the four-character type. */
static void put_box(uint8_t *p, uint32_t size, const char type[4])
{
    set32(p, size);
    memcpy(p + 4, type, 4);
}

/* Finds the child box of type `type` in buf[from, end): its offset, or
 * SIZE_MAX (also for a size that does not fit). */
static size_t find_box(const uint8_t *buf, size_t from, size_t end,
                       const char type[4])
{
    while (from + 8 <= end) {
        uint32_t size = get32(buf + from);

        if (size < 8 || size > end - from)
            return SIZE_MAX;
        if (memcmp(buf + from + 4, type, 4) == 0)
            return from;
        from += size;
    }
    return SIZE_MAX;
}

/* The track_ID of a tkhd box at buf[at] (8.3.2: after version/flags and
 * two times of 4 or 8 bytes), or 0. */
static uint32_t tkhd_track_id(const uint8_t *buf, size_t at)
{
    uint32_t size = get32(buf + at);
    size_t off;

    if (size < 12)
        return 0;
    off = buf[at + 8] == 1 ? 8 + 4 + 16 : 8 + 4 + 8;
    return off + 4 <= size ? get32(buf + at + off) : 0;
}

int elst_insert(uint8_t *buf, size_t *len, size_t cap, uint32_t track_id,
                int64_t media_time)
{
    size_t moov, trak, tkhd, moov_end, trak_end = 0, at;
    uint8_t box[ELST_BOX_BYTES];

    if (media_time < 0 || media_time > INT32_MAX)
        return -EINVAL;
    if (cap < *len + ELST_BOX_BYTES)
        return -EBADMSG;
    moov = find_box(buf, 0, *len, "moov");
    if (moov == SIZE_MAX)
        return -EBADMSG;
    moov_end = moov + get32(buf + moov);
    for (trak = find_box(buf, moov + 8, moov_end, "trak");;
         trak = find_box(buf, trak_end, moov_end, "trak")) {
        if (trak == SIZE_MAX)
            return -EBADMSG;
        trak_end = trak + get32(buf + trak);
        tkhd = find_box(buf, trak + 8, trak_end, "tkhd");
        if (tkhd != SIZE_MAX && tkhd_track_id(buf, tkhd) == track_id)
            break;
    }
    if (find_box(buf, trak + 8, trak_end, "edts") != SIZE_MAX)
        return -EBADMSG;
    at = tkhd + get32(buf + tkhd);

    put_box(box, ELST_BOX_BYTES, "edts");
    put_box(box + 8, ELST_BOX_BYTES - 8, "elst");
    set32(box + 16, 0);                    /* version 0, flags */
    set32(box + 20, 1);                    /* entry_count */
    set32(box + 24, 0);                    /* segment_duration: unknown */
    set32(box + 28, (uint32_t)media_time); /* media_time */
    set32(box + 32, 0x00010000u);          /* media_rate 1.0 */
    memmove(buf + at + ELST_BOX_BYTES, buf + at, *len - at);
    memcpy(buf + at, box, ELST_BOX_BYTES);
    set32(buf + trak, get32(buf + trak) + ELST_BOX_BYTES);
    set32(buf + moov, get32(buf + moov) + ELST_BOX_BYTES);
    *len += ELST_BOX_BYTES;
    return 0;
}
