/* SPDX-License-Identifier: MIT */
/*
 * The timeline model, without drawing: a camera's recorded spans (segments
 * merged where they touch), its held ranges, what each column of a
 * timeline shows, and where the gaps are. Pure functions on caller-owned
 * arrays; any thread.
 */
#ifndef NVR_UI_TUI_TIMELINE_H
#define NVR_UI_TUI_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#include "nvr/base/compiler.h"

/* Most spans kept per list: beyond it, the list stops growing (a day of
 * 60 s segments with a gap between each would be 1440). */
#define TIMELINE_MAX_SPANS 65536

struct tl_span {
    int64_t from_us, to_us; /* [from, to), UTC us */
};

struct tl_spans {
    struct tl_span *v; /* owned */
    size_t n, cap;
    int truncated; /* TIMELINE_MAX_SPANS was reached */
};

/* What a column shows (low bits) and whether a hold covers it. */
enum tl_cell {
    TL_NONE = 0,   /* no footage at all in the column */
    TL_PART = 1,   /* footage with a gap inside the column */
    TL_FULL = 2,   /* footage all through the column */
    TL_FUTURE = 3, /* the column is after now */
    TL_HELD = 0x10,
};

void tl_spans_init(struct tl_spans *s);
void tl_spans_fini(struct tl_spans *s);
void tl_spans_clear(struct tl_spans *s);

/* Appends [from, to), merging with the last span when closer than
 * merge_us. Spans must come in order of from_us (overlaps are merged).
 * Returns 0 or -ENOMEM. */
NVR_NODISCARD int tl_spans_add(struct tl_spans *s, int64_t from_us,
                               int64_t to_us, int64_t merge_us);

/*
 * Fills cells[0..width) for the range [from_us, to_us): each column covers
 * (to - from) / width us. rec and held are sorted span lists (held may
 * overlap each other). now_us marks the future. O(width + spans).
 */
void timeline_cells(const struct tl_spans *rec, const struct tl_spans *held,
                    int64_t from_us, int64_t to_us, int64_t now_us,
                    uint8_t *cells, int width);

/* The index of the span containing t, or -1. */
long tl_spans_find(const struct tl_spans *s, int64_t t);

/*
 * The start of the first gap (a hole between two spans) that starts after
 * t (dir > 0), or the last one that starts before t (dir < 0); *end is the
 * gap's end. Returns 0 or -ENOENT.
 */
int tl_spans_gap(const struct tl_spans *s, int64_t t, int dir, int64_t *start,
                 int64_t *end);

#endif
