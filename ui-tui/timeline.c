/* SPDX-License-Identifier: MIT */
/*
 * The timeline model (see timeline.h).
 */
#include "config.h"
#include "ui-tui/timeline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void tl_spans_init(struct tl_spans *s)
{
    memset(s, 0, sizeof(*s));
}

void tl_spans_fini(struct tl_spans *s)
{
    free(s->v);
    tl_spans_init(s);
}

void tl_spans_clear(struct tl_spans *s)
{
    s->n = 0;
    s->truncated = 0;
}

int tl_spans_add(struct tl_spans *s, int64_t from_us, int64_t to_us,
                 int64_t merge_us)
{
    if (to_us < from_us)
        to_us = from_us;
    if (s->n > 0 && from_us - s->v[s->n - 1].to_us <= merge_us) {
        if (to_us > s->v[s->n - 1].to_us)
            s->v[s->n - 1].to_us = to_us;
        return 0;
    }
    if (s->n == TIMELINE_MAX_SPANS) {
        s->truncated = 1;
        return 0;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct tl_span *v = realloc(s->v, cap * sizeof(*v));

        if (!v)
            return -ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n].from_us = from_us;
    s->v[s->n].to_us = to_us;
    s->n++;
    return 0;
}

/* First span index whose end is after t (binary search). */
static size_t first_ending_after(const struct tl_spans *s, int64_t t)
{
    size_t lo = 0, hi = s->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (s->v[mid].to_us <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void timeline_cells(const struct tl_spans *rec, const struct tl_spans *held,
                    int64_t from_us, int64_t to_us, int64_t now_us,
                    uint8_t *cells, int width)
{
    size_t i;
    int64_t range = to_us - from_us;

    if (width <= 0)
        return;
    i = rec ? first_ending_after(rec, from_us) : 0;
    for (int c = 0; c < width; c++) {
        int64_t a = from_us + range * c / width;
        int64_t b = from_us + range * (c + 1) / width;
        int64_t covered = 0;
        size_t j;

        if (b <= a)
            b = a + 1;
        while (rec && i < rec->n && rec->v[i].to_us <= a)
            i++;
        for (j = i; rec && j < rec->n && rec->v[j].from_us < b; j++) {
            int64_t x = rec->v[j].from_us > a ? rec->v[j].from_us : a;
            int64_t y = rec->v[j].to_us < b ? rec->v[j].to_us : b;

            if (y > x)
                covered += y - x;
        }
        if (a >= now_us && covered == 0)
            cells[c] = TL_FUTURE;
        else if (covered == 0)
            cells[c] = TL_NONE;
        else if (covered >= b - a || (b > now_us && covered >= now_us - a))
            cells[c] = TL_FULL;
        else
            cells[c] = TL_PART;
    }
    if (!held)
        return;
    for (size_t h = 0; h < held->n; h++) {
        int64_t a = held->v[h].from_us, b = held->v[h].to_us;
        int64_t c0, c1;

        if (b <= from_us || a >= to_us || range <= 0)
            continue;
        c0 = a <= from_us ? 0 : (a - from_us) * width / range;
        c1 = b >= to_us ? width : ((b - from_us) * width + range - 1) / range;
        for (int64_t c = c0; c < c1 && c < width; c++)
            cells[c] |= TL_HELD;
    }
}

long tl_spans_find(const struct tl_spans *s, int64_t t)
{
    size_t i = first_ending_after(s, t);

    if (i < s->n && s->v[i].from_us <= t)
        return (long)i;
    return -1;
}

int tl_spans_gap(const struct tl_spans *s, int64_t t, int dir, int64_t *start,
                 int64_t *end)
{
    if (dir > 0) {
        /* The first span ending after t that has a successor. */
        size_t i = first_ending_after(s, t);

        if (i + 1 < s->n) {
            *start = s->v[i].to_us;
            *end = s->v[i + 1].from_us;
            return 0;
        }
        return -ENOENT;
    }
    /* The last gap starting before t. */
    for (size_t i = first_ending_after(s, t - 1) + 1; i-- > 0;) {
        if (i + 1 < s->n && s->v[i].to_us < t) {
            *start = s->v[i].to_us;
            *end = s->v[i + 1].from_us;
            return 0;
        }
    }
    return -ENOENT;
}
