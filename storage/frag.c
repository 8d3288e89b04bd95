/* SPDX-License-Identifier: MIT */
/*
 * Media fragments written from the units' buffers (see frag.h). The arrays
 * (samples, NAL units, iovecs, the box buffer) grow to what the largest
 * fragment needed and are reused, so a steady stream allocates nothing.
 */
#include "config.h"
#include "storage/frag.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* ISO/IEC 14496-12 8.8.3.1 sample flags: sample_depends_on 2 (an I
 * picture), or 1 with sample_is_non_sync_sample. */
#define FRAG_FLAGS_SYNC     0x02000000u
#define FRAG_FLAGS_NON_SYNC 0x01010000u
/* tfhd: default-base-is-moof, default-sample-flags-present. */
#define FRAG_TFHD_FLAGS 0x020020u
/* trun: data-offset, sample-duration and sample-size present; and
 * first-sample-flags for video. */
#define FRAG_TRUN_FLAGS       0x000301u
#define FRAG_TRUN_FIRST_FLAGS 0x000004u
/* trun: sample-composition-time-offset present (8.8.8.1); with version 1
 * the offsets are signed. */
#define FRAG_TRUN_CTO_FLAGS 0x000800u
/* Bytes of the fixed boxes (8.8.4-8.8.8, 8.8.12), headers included. */
#define FRAG_MOOF_HDR_BYTES 8u
#define FRAG_MFHD_BYTES     16u
#define FRAG_TRAF_HDR_BYTES 8u
#define FRAG_TFHD_BYTES     20u
#define FRAG_TFDT_BYTES     20u
#define FRAG_TRUN_HDR_BYTES 20u
#define FRAG_TRUN_ENTRY     8u
#define FRAG_MDAT_HDR_BYTES 8u
/* tfra version 1 with one-byte traf, trun and sample numbers. */
#define FRAG_TFRA_HDR_BYTES 24u
#define FRAG_TFRA_ENTRY     19u
#define FRAG_MFRO_BYTES     16u

#ifndef IOV_MAX
#define IOV_MAX 1024
#endif

static uint8_t *put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return p + 4;
}

static uint8_t *put64(uint8_t *p, uint64_t v)
{
    p = put32(p, (uint32_t)(v >> 32));
    return put32(p, (uint32_t)v);
}

static uint8_t *put_box(uint8_t *p, uint32_t size, const char type[4])
{
    p = put32(p, size);
    memcpy(p, type, 4);
    return p + 4;
}

/* Grows *arr (of *cap elements of `size` bytes) to hold `need`. */
static int grow(void **arr, size_t *cap, size_t need, size_t size)
{
    size_t n = *cap ? *cap : 16;
    void *p;

    if (need <= *cap)
        return 0;
    while (n < need)
        n *= 2;
    p = realloc(*arr, n * size);
    if (!p)
        return -ENOMEM;
    *arr = p;
    *cap = n;
    return 0;
}

void frag_init(struct frag *f)
{
    memset(f, 0, sizeof(*f));
}

int frag_add_track(struct frag *f, uint32_t id, bool video, bool annexb)
{
    struct frag_track *t;

    if (f->ntracks >= FRAG_MAX_TRACKS)
        return -EINVAL;
    t = &f->track[f->ntracks];
    t->id = id;
    t->video = video;
    t->annexb = annexb;
    return f->ntracks++;
}

/* Index of the next three-byte start code (00 00 01) at or after `from`,
 * or len. */
static size_t find_start_code(const uint8_t *d, size_t len, size_t from)
{
    size_t i = from + 2;

    while (i < len) {
        const uint8_t *one = memchr(d + i, 1, len - i);

        if (!one)
            return len;
        i = (size_t)(one - d);
        if (d[i - 1] == 0 && d[i - 2] == 0)
            return i - 2;
        i++;
    }
    return len;
}

/* Appends the NAL unit d[start, end) to f->nal (an empty one is
 * skipped). Returns 0, 1 (more than FRAG_MAX_NALS_PER_UNIT in the unit
 * begun at f->nal[first]) or -ENOMEM. */
static int add_nal(struct frag *f, size_t first, const uint8_t *d, size_t start,
                   size_t end, uint64_t *size)
{
    struct frag_nal *n;

    if (end <= start)
        return 0;
    if (f->nnal - first >= FRAG_MAX_NALS_PER_UNIT)
        return 1;
    if (grow((void **)&f->nal, &f->nal_cap, f->nnal + 1, sizeof(*f->nal)))
        return -ENOMEM;
    n = &f->nal[f->nnal++];
    n->p = d + start;
    n->len = (uint32_t)(end - start);
    put32(n->be, n->len);
    *size += 4 + (uint64_t)n->len;
    return 0;
}

/* Takes the NAL units from the depacketizer's index of their start codes
 * (nvr_au_note_nal), checking that each start code is where it says.
 * Returns 0; 1 when the unit is not indexed, or not as indexed (it is
 * scanned instead); or -ENOMEM. */
static int indexed_nals(struct frag *f, const struct nvr_au *au, uint64_t *size)
{
    size_t first = f->nnal;

    if (au->n_nals == 0 || au->n_nals > NVR_AU_NAL_INDEX || au->nal_at[0] != 0)
        return 1;
    for (uint32_t i = 0; i < au->n_nals; i++) {
        size_t at = au->nal_at[i];
        size_t end = i + 1 < au->n_nals ? au->nal_at[i + 1] : au->len;
        int r = 1;

        if (at + 4 <= end && end <= au->len &&
            memcmp(au->data + at, "\0\0\0\1", 4) == 0)
            r = add_nal(f, first, au->data, at + 4, end, size);
        if (r != 0) {
            f->nnal = first;
            *size = 0;
            return r;
        }
    }
    return 0;
}

/* Splits an Annex B unit into NAL units appended to f->nal: from the
 * depacketizer's index when it has one, else by scanning, where a zero
 * byte just before a start code is taken as the four-byte form's.
 * Returns 0, 1 (no NAL unit, or too many) or -ENOMEM. */
static int split_nals(struct frag *f, const struct nvr_au *au,
                      struct frag_sample *s)
{
    const uint8_t *d = au->data;
    size_t len = au->len;
    size_t first = f->nnal;
    uint64_t size = 0;
    int r = indexed_nals(f, au, &size);

    if (r < 0)
        return r;
    for (size_t sc = r == 0 ? len : find_start_code(d, len, 0); sc < len;) {
        size_t start = sc + 3;
        size_t next = find_start_code(d, len, start);
        size_t end = next;

        if (next < len && next > start && d[next - 1] == 0)
            end = next - 1;
        sc = next;
        r = add_nal(f, first, d, start, end, &size);
        if (r != 0) {
            f->nnal = first;
            return r;
        }
    }
    if (f->nnal == first)
        return 1;
    s->nal0 = (uint32_t)first;
    s->nals = (uint32_t)(f->nnal - first);
    s->size = (uint32_t)size;
    return 0;
}

int frag_add(struct frag *f, int track, struct nvr_au *au, int64_t dts,
             int32_t cto, int64_t dur, bool key)
{
    struct frag_track *t;
    struct frag_sample s = {.dts = dts, .dur = dur, .cto = cto, .key = key};
    int r;

    if (track < 0 || track >= f->ntracks || au->len > NVR_AU_MAX_BYTES)
        return -EINVAL;
    t = &f->track[track];
    if (grow((void **)&t->s, &t->cap, t->n + 1, sizeof(*t->s)))
        return -ENOMEM;
    if (t->annexb) {
        r = split_nals(f, au, &s);
        if (r != 0)
            return r;
    } else {
        if (au->len == 0)
            return 1;
        s.size = (uint32_t)au->len;
    }
    s.au = nvr_au_ref(au);
    t->s[t->n++] = s;
    f->pending_bytes += s.size;
    return 0;
}

bool frag_pending(const struct frag *f)
{
    for (int i = 0; i < f->ntracks; i++)
        if (f->track[i].n > 0)
            return true;
    return false;
}

static void drop_samples(struct frag *f)
{
    for (int i = 0; i < f->ntracks; i++) {
        struct frag_track *t = &f->track[i];

        for (size_t k = 0; k < t->n; k++)
            nvr_au_unref(t->s[k].au);
        t->n = 0;
    }
    f->nnal = 0;
    f->pending_bytes = 0;
}

/* Whether a sample of the track's fragment is presented at another time
 * than it is decoded: then the trun carries composition offsets. */
static bool has_cto(const struct frag_track *t)
{
    for (size_t k = 0; k < t->n; k++)
        if (t->s[k].cto != 0)
            return true;
    return false;
}

static uint32_t trun_bytes(const struct frag_track *t, bool cto)
{
    return FRAG_TRUN_HDR_BYTES + (t->video ? 4u : 0u) +
           (uint32_t)t->n * (FRAG_TRUN_ENTRY + (cto ? 4u : 0u));
}

static uint32_t traf_bytes(const struct frag_track *t)
{
    return FRAG_TRAF_HDR_BYTES + FRAG_TFHD_BYTES + FRAG_TFDT_BYTES +
           trun_bytes(t, has_cto(t));
}

/* A sample's duration: up to the next sample of its fragment, else its
 * own; what a 32-bit field holds. */
static uint32_t sample_dur(const struct frag_track *t, size_t k)
{
    int64_t d = k + 1 < t->n ? t->s[k + 1].dts - t->s[k].dts : t->s[k].dur;

    if (d < 0)
        return 0;
    return d > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

/* Builds moof and the mdat header into f->box; returns its length. */
static size_t build_boxes(struct frag *f, uint32_t moof_bytes,
                          uint64_t mdat_bytes)
{
    uint8_t *p = f->box;
    uint64_t data_off = (uint64_t)moof_bytes + FRAG_MDAT_HDR_BYTES;

    p = put_box(p, moof_bytes, "moof");
    p = put_box(p, FRAG_MFHD_BYTES, "mfhd");
    p = put32(p, 0);
    p = put32(p, f->seq);
    for (int i = 0; i < f->ntracks; i++) {
        const struct frag_track *t = &f->track[i];
        bool cto;
        uint32_t flags;

        if (t->n == 0)
            continue;
        cto = has_cto(t);
        flags = FRAG_TRUN_FLAGS | (t->video ? FRAG_TRUN_FIRST_FLAGS : 0) |
                (cto ? FRAG_TRUN_CTO_FLAGS : 0);
        p = put_box(p, traf_bytes(t), "traf");
        p = put_box(p, FRAG_TFHD_BYTES, "tfhd");
        p = put32(p, FRAG_TFHD_FLAGS);
        p = put32(p, t->id);
        p = put32(p, t->video ? FRAG_FLAGS_NON_SYNC : FRAG_FLAGS_SYNC);
        p = put_box(p, FRAG_TFDT_BYTES, "tfdt");
        p = put32(p, 1u << 24); /* version 1: 64-bit time */
        p = put64(p, (uint64_t)(t->s[0].dts < 0 ? 0 : t->s[0].dts));
        p = put_box(p, trun_bytes(t, cto), "trun");
        /* Version 1 (signed offsets) only when there are offsets, so that
         * a stream without B-frames is written as before. */
        p = put32(p, (cto ? 1u << 24 : 0) | flags);
        p = put32(p, (uint32_t)t->n);
        p = put32(p, (uint32_t)data_off);
        if (t->video)
            p = put32(p, t->s[0].key ? FRAG_FLAGS_SYNC : FRAG_FLAGS_NON_SYNC);
        for (size_t k = 0; k < t->n; k++) {
            p = put32(p, sample_dur(t, k));
            p = put32(p, t->s[k].size);
            if (cto)
                p = put32(p, (uint32_t)t->s[k].cto);
            data_off += t->s[k].size;
        }
    }
    p = put_box(p, (uint32_t)(FRAG_MDAT_HDR_BYTES + mdat_bytes), "mdat");
    return (size_t)(p - f->box);
}

/* Hands iov[0..n) to wr in runs of at most IOV_MAX. */
static int write_all(struct iovec *iov, size_t n, frag_write_fn wr,
                     void *opaque)
{
    while (n > 0) {
        int cnt = n > IOV_MAX ? IOV_MAX : (int)n;
        int r = wr(opaque, iov, cnt);

        if (r < 0)
            return r;
        iov += cnt;
        n -= (size_t)cnt;
    }
    return 0;
}

static int flush_samples(struct frag *f, int64_t offset, frag_write_fn wr,
                         void *opaque)
{
    uint32_t moof_bytes = FRAG_MOOF_HDR_BYTES + FRAG_MFHD_BYTES;
    uint64_t mdat_bytes = 0;
    size_t niov = 1;
    size_t box_len;
    size_t k = 1;

    for (int i = 0; i < f->ntracks; i++) {
        const struct frag_track *t = &f->track[i];

        if (t->n == 0)
            continue;
        moof_bytes += traf_bytes(t);
        for (size_t s = 0; s < t->n; s++) {
            mdat_bytes += t->s[s].size;
            niov += t->annexb ? 2 * (size_t)t->s[s].nals : 1;
        }
    }
    if (mdat_bytes > UINT32_MAX - FRAG_MDAT_HDR_BYTES)
        return -EFBIG;
    if (grow((void **)&f->box, &f->box_cap,
             (size_t)moof_bytes + FRAG_MDAT_HDR_BYTES, 1) ||
        grow((void **)&f->iov, &f->iov_cap, niov, sizeof(*f->iov)))
        return -ENOMEM;
    f->seq++;
    box_len = build_boxes(f, moof_bytes, mdat_bytes);
    f->iov[0] = (struct iovec){.iov_base = f->box, .iov_len = box_len};
    for (int i = 0; i < f->ntracks; i++) {
        const struct frag_track *t = &f->track[i];

        for (size_t s = 0; s < t->n; s++) {
            const struct frag_sample *smp = &t->s[s];

            if (!t->annexb) {
                f->iov[k++] = (struct iovec){.iov_base = smp->au->data,
                                             .iov_len = smp->au->len};
                continue;
            }
            for (uint32_t j = 0; j < smp->nals; j++) {
                struct frag_nal *n = &f->nal[smp->nal0 + j];

                f->iov[k++] = (struct iovec){.iov_base = n->be, .iov_len = 4};
                f->iov[k++] =
                    (struct iovec){.iov_base = (void *)n->p, .iov_len = n->len};
            }
        }
    }
    if (f->ntracks > 0 && f->track[0].video && f->track[0].n > 0 &&
        f->track[0].s[0].key) {
        if (grow((void **)&f->ra, &f->ra_cap, f->nra + 1, sizeof(*f->ra)))
            return -ENOMEM;
        /* tfra gives the keyframe's presentation time (8.8.10.1). */
        f->ra[f->nra++] = (struct frag_ra){.time = f->track[0].s[0].dts +
                                                   f->track[0].s[0].cto,
                                           .offset = offset};
    }
    return write_all(f->iov, k, wr, opaque);
}

int frag_flush(struct frag *f, int64_t offset, frag_write_fn wr, void *opaque)
{
    int r;

    if (!frag_pending(f))
        return 0;
    r = flush_samples(f, offset, wr, opaque);
    drop_samples(f);
    return r;
}

int frag_finish(struct frag *f, frag_write_fn wr, void *opaque)
{
    uint64_t tfra = FRAG_TFRA_HDR_BYTES + (uint64_t)f->nra * FRAG_TFRA_ENTRY;
    uint64_t mfra = 8 + tfra + FRAG_MFRO_BYTES;
    struct iovec iov;
    uint8_t *p;

    if (f->nra == 0 || f->ntracks == 0)
        return 0;
    if (mfra > UINT32_MAX)
        return -EFBIG;
    if (grow((void **)&f->box, &f->box_cap, (size_t)mfra, 1))
        return -ENOMEM;
    p = put_box(f->box, (uint32_t)mfra, "mfra");
    p = put_box(p, (uint32_t)tfra, "tfra");
    p = put32(p, 1u << 24); /* version 1: 64-bit time and offset */
    p = put32(p, f->track[0].id);
    p = put32(p, 0); /* one byte each for traf, trun and sample numbers */
    p = put32(p, (uint32_t)f->nra);
    for (size_t i = 0; i < f->nra; i++) {
        p = put64(p, (uint64_t)f->ra[i].time);
        p = put64(p, (uint64_t)f->ra[i].offset);
        *p++ = 1; /* traf: the video track's is first */
        *p++ = 1; /* trun */
        *p++ = 1; /* sample: the keyframe */
    }
    p = put_box(p, FRAG_MFRO_BYTES, "mfro");
    p = put32(p, 0);
    p = put32(p, (uint32_t)mfra);
    iov = (struct iovec){.iov_base = f->box, .iov_len = (size_t)(p - f->box)};
    return wr(opaque, &iov, 1);
}

void frag_clear(struct frag *f)
{
    drop_samples(f);
    for (int i = 0; i < FRAG_MAX_TRACKS; i++)
        free(f->track[i].s);
    free(f->nal);
    free(f->box);
    free(f->iov);
    free(f->ra);
    memset(f, 0, sizeof(*f));
}
