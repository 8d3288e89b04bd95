/* SPDX-License-Identifier: MIT */
/*
 * MJPEG depacketizer (RFC 2435): the fragments of one frame (same RTP
 * timestamp, consecutive fragment offsets, marker on the last) are joined
 * and given back the JPEG headers the sender stripped, rebuilt the way the
 * RFC's appendix B does: SOI, DQT, DRI (types 64..127), SOF0, the
 * standard Huffman tables of ITU-T T.81 K.3, SOS, the scan, EOI. Each
 * frame becomes one complete JPEG image, a key unit.
 *
 * Types 0 and 1 (4:2:2 and 4:2:0, plus 64 and 65 with restart markers)
 * are the only ones the RFC defines; others are dropped. Quantisation
 * tables come from the Q factor (Q 1..127, appendix A, scaled from the
 * T.81 K.1 tables) or in band (Q 128..255, 3.1.8); tables for Q 128..254
 * may be sent once and then only referred to (length 0), so the last ones
 * seen are kept. A fragment offset that does not continue the frame (loss,
 * reordering), a missing first fragment or a frame without its marker
 * drops that frame; the next frame starts clean at offset 0.
 */
#include "config.h"
#include "ingest/depack.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nvr/base/compiler.h"

/* First allocation for a frame; later ones follow the previous size. */
#define MJPEG_DEPACK_MIN_CAP ((size_t)64 * 1024)
/* Bytes of one quantisation table: 64 entries of 8 or 16 bits. */
#define MJPEG_QT_MAX ((size_t)128)

/* T.81 K.1 tables 1 and 2 in natural order, as RFC 2435 appendix A lists
 * them; DQT segments want zigzag order (mjpeg_zigzag). */
static const uint8_t mjpeg_luma_q[64] = {
    16, 11, 10, 16, 24,  40,  51,  61,  12, 12, 14, 19, 26,  58,  60,  55,
    14, 13, 16, 24, 40,  57,  69,  56,  14, 17, 22, 29, 51,  87,  80,  62,
    18, 22, 37, 56, 68,  109, 103, 77,  24, 35, 55, 64, 81,  104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99};
static const uint8_t mjpeg_chroma_q[64] = {
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99};
/* Natural index of each zigzag position (T.81 figure A.6). */
static const uint8_t mjpeg_zigzag[64] = {
    0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,
    12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6,  7,  14, 21, 28,
    35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
    58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63};

/* The DHT segment holding T.81 K.3's luminance and chrominance DC and AC
 * tables (as libavcodec's encoder writes them with -huffman default). */
static const uint8_t mjpeg_dht[420] = {
    0xff, 0xc4, 0x01, 0xa2, 0x00, 0x00, 0x01, 0x05, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02,
    0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x01, 0x00, 0x03,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
    0x0a, 0x0b, 0x10, 0x00, 0x02, 0x01, 0x03, 0x03, 0x02, 0x04, 0x03, 0x05,
    0x05, 0x04, 0x04, 0x00, 0x00, 0x01, 0x7d, 0x01, 0x02, 0x03, 0x00, 0x04,
    0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22,
    0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15,
    0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17,
    0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36,
    0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a,
    0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66,
    0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a,
    0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95,
    0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8,
    0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2,
    0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5,
    0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,
    0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9,
    0xfa, 0x11, 0x00, 0x02, 0x01, 0x02, 0x04, 0x04, 0x03, 0x04, 0x07, 0x05,
    0x04, 0x04, 0x00, 0x01, 0x02, 0x77, 0x00, 0x01, 0x02, 0x03, 0x11, 0x04,
    0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71, 0x13, 0x22,
    0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33,
    0x52, 0xf0, 0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25,
    0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x35, 0x36,
    0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a,
    0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66,
    0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a,
    0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94,
    0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
    0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba,
    0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4,
    0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,
    0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
};

struct mjpeg_qt {
    int n;                      /* tables: 1 (used for both) or 2 */
    int prec[2];                /* 1: 16-bit entries */
    uint8_t q[2][MJPEG_QT_MAX]; /* zigzag order, as in a DQT */
};

struct mjpeg_depack {
    int pt; /* the track's payload type; others are ignored */

    struct nvr_au *au; /* frame being built (refcount 1), or NULL */
    size_t cap_hint;   /* bytes to allocate for the next frame */
    int in_frame;      /* fragments of au_ts are being added */
    int skip;          /* dropping fragments until the next offset 0 */
    int64_t au_ts;
    size_t scan_off; /* scan bytes received: the next fragment's offset */
    uint8_t type, q, wb, hb; /* of the frame's first fragment */
    int emitted;
    int64_t last_pts;

    int cached_q; /* Q (128..254) of cached_qt, 0 if none */
    struct mjpeg_qt cached_qt;

    int width, height; /* of the last frame emitted */
    uint32_t params_gen;
    struct depack_stats stats;
};

/* RFC 2435 appendix A MakeTables, written out in zigzag order. */
static void mjpeg_make_tables(int q, struct mjpeg_qt *qt)
{
    int factor = q < 1 ? 1 : q > 99 ? 99 : q;
    int s = q < 50 ? 5000 / factor : 200 - factor * 2;

    qt->n = 2;
    qt->prec[0] = qt->prec[1] = 0;
    for (int i = 0; i < 64; i++) {
        int lq = (mjpeg_luma_q[mjpeg_zigzag[i]] * s + 50) / 100;
        int cq = (mjpeg_chroma_q[mjpeg_zigzag[i]] * s + 50) / 100;

        qt->q[0][i] = (uint8_t)(lq < 1 ? 1 : lq > 255 ? 255 : lq);
        qt->q[1][i] = (uint8_t)(cq < 1 ? 1 : cq > 255 ? 255 : cq);
    }
}

/* Reads the quantisation table header (3.1.8) at p. Returns the bytes it
 * takes, or -EBADMSG. A zero length refers to the cached tables. */
static int mjpeg_read_qt(struct mjpeg_depack *st, int q, const uint8_t *p,
                         size_t len, struct mjpeg_qt *qt)
{
    size_t qlen, sz0, sz1;
    unsigned prec;

    if (len < 4)
        return -EBADMSG;
    prec = p[1];
    qlen = ((size_t)p[2] << 8) | p[3];
    if (qlen > len - 4)
        return -EBADMSG;
    if (qlen == 0) {
        if (q == 255 || st->cached_q != q)
            return -EBADMSG;
        *qt = st->cached_qt;
        return 4;
    }
    sz0 = (prec & 1u) ? 128 : 64;
    sz1 = (prec & 2u) ? 128 : 64;
    memset(qt, 0, sizeof(*qt));
    qt->prec[0] = (prec & 1u) != 0;
    qt->prec[1] = (prec & 2u) != 0;
    if (qlen >= sz0 + sz1) {
        qt->n = 2;
        memcpy(qt->q[0], p + 4, sz0);
        memcpy(qt->q[1], p + 4 + sz0, sz1);
    } else if (qlen >= sz0) {
        /* One table for all components: some senders do that when the
         * image was encoded with a single table. */
        qt->n = 1;
        memcpy(qt->q[0], p + 4, sz0);
    } else {
        return -EBADMSG;
    }
    if (q != 255) {
        st->cached_q = q;
        st->cached_qt = *qt;
    }
    return (int)(4 + qlen);
}

static void mjpeg_put16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* RFC 2435 appendix B MakeHeaders. Returns the bytes written to out,
 * which has room for the largest header (under 1 KiB). */
static size_t mjpeg_make_headers(uint8_t *out, int type, int w, int h,
                                 const struct mjpeg_qt *qt, unsigned dri)
{
    size_t n = 0;

    out[n++] = 0xff;
    out[n++] = 0xd8; /* SOI */
    for (int i = 0; i < 2; i++) {
        int t = qt->n == 2 ? i : 0;
        size_t sz = qt->prec[t] ? 128 : 64;

        out[n++] = 0xff;
        out[n++] = 0xdb; /* DQT */
        mjpeg_put16(out + n, 3 + sz);
        n += 2;
        out[n++] = (uint8_t)((qt->prec[t] << 4) | i);
        memcpy(out + n, qt->q[t], sz);
        n += sz;
    }
    if (dri) {
        out[n++] = 0xff;
        out[n++] = 0xdd; /* DRI */
        mjpeg_put16(out + n, 4);
        mjpeg_put16(out + n + 2, dri);
        n += 4;
    }
    out[n++] = 0xff;
    out[n++] = 0xc0; /* SOF0: baseline, 3 components */
    mjpeg_put16(out + n, 17);
    n += 2;
    out[n++] = 8;
    mjpeg_put16(out + n, (size_t)h);
    mjpeg_put16(out + n + 2, (size_t)w);
    n += 4;
    out[n++] = 3;
    out[n++] = 0;                       /* Y */
    out[n++] = type == 0 ? 0x21 : 0x22; /* 4:2:2 or 4:2:0 */
    out[n++] = 0;
    out[n++] = 1; /* Cb */
    out[n++] = 0x11;
    out[n++] = 1;
    out[n++] = 2; /* Cr */
    out[n++] = 0x11;
    out[n++] = 1;
    memcpy(out + n, mjpeg_dht, sizeof(mjpeg_dht));
    n += sizeof(mjpeg_dht);
    out[n++] = 0xff;
    out[n++] = 0xda; /* SOS */
    mjpeg_put16(out + n, 12);
    n += 2;
    out[n++] = 3;
    out[n++] = 0;
    out[n++] = 0x00;
    out[n++] = 1;
    out[n++] = 0x11;
    out[n++] = 2;
    out[n++] = 0x11;
    out[n++] = 0;  /* Ss */
    out[n++] = 63; /* Se */
    out[n++] = 0;  /* Ah/Al */
    return n;
}

/* mjpeg_drop() without counting the frame. */
#define MJPEG_UNCOUNTED NVR_REFUSAL_COUNT

/* Abandons the frame being built, counted as refused for `why` (an enum
 * nvr_refusal), or not counted with MJPEG_UNCOUNTED. */
static void mjpeg_drop(struct mjpeg_depack *st, int why)
{
    if (st->in_frame && why < NVR_REFUSAL_COUNT)
        depack_refuse(&st->stats, (enum nvr_refusal)why);
    st->in_frame = 0;
    if (st->au && st->au->cap > 2 * st->cap_hint) {
        nvr_au_unref(st->au);
        st->au = NULL;
    } else if (st->au) {
        st->au->len = 0;
    }
}

static void mjpeg_finish(struct mjpeg_depack *st, depack_emit_cb emit,
                         void *user)
{
    static const uint8_t eoi[2] = {0xff, 0xd9};
    struct nvr_au *au = st->au;

    if (!(au->len >= 2 && au->data[au->len - 2] == 0xff &&
          au->data[au->len - 1] == 0xd9) &&
        nvr_au_append(&st->au, eoi, sizeof(eoi)) < 0) {
        mjpeg_drop(st, NVR_REFUSAL_TOO_LARGE);
        return;
    }
    if (st->emitted && st->au_ts == st->last_pts) {
        /* A second frame with the same time would break the recording. */
        mjpeg_drop(st, NVR_REFUSAL_BAD_TIMESTAMP);
        return;
    }
    au = st->au;
    st->au = NULL;
    st->in_frame = 0;
    if (st->width != st->wb * 8 || st->height != st->hb * 8) {
        st->width = st->wb * 8;
        st->height = st->hb * 8;
        st->params_gen++;
    }
    au->track = 0;
    au->flags = NVR_AU_KEY;
    au->pts = st->au_ts;
    au->dts = st->au_ts;
    au->wall_us = 0;
    au->params_gen = st->params_gen;
    st->cap_hint =
        NVR_MAX(MJPEG_DEPACK_MIN_CAP, NVR_MIN(au->cap, au->len + au->len / 4));
    st->emitted = 1;
    st->last_pts = au->pts;
    st->stats.aus++;
    emit(user, au);
}

/* Starts a frame from its offset-0 fragment: the headers go first. */
static int mjpeg_start(struct mjpeg_depack *st, const uint8_t *p, size_t len,
                       size_t *off, unsigned dri, int64_t ts)
{
    uint8_t hdr[1024];
    struct mjpeg_qt qt;
    size_t n;
    int q = p[5], used;

    if (q >= 128) {
        used = mjpeg_read_qt(st, q, p + *off, len - *off, &qt);
        if (used < 0)
            return used;
        *off += (size_t)used;
    } else if (q == 0) {
        return -EBADMSG; /* reserved */
    } else {
        mjpeg_make_tables(q, &qt);
    }
    n = mjpeg_make_headers(hdr, p[4] & 0x3f, p[6] * 8, p[7] * 8, &qt, dri);
    if (!st->au && nvr_au_new(st->cap_hint, &st->au) < 0)
        return -ENOMEM;
    st->au->len = 0;
    if (nvr_au_append(&st->au, hdr, n) < 0)
        return -ENOMEM;
    st->in_frame = 1;
    st->au_ts = ts;
    st->scan_off = 0;
    st->type = p[4];
    st->q = p[5];
    st->wb = p[6];
    st->hb = p[7];
    return 0;
}

static int mjpeg_push(void *opaque, const struct rtp_hdr *pkt, int64_t ts_ext,
                      int lost_before, depack_emit_cb emit, void *user)
{
    struct mjpeg_depack *st = opaque;
    const uint8_t *p = pkt->payload;
    size_t len = pkt->payload_len, off = 8, frag_off;
    unsigned dri = 0;
    int err;

    if (pkt->pt != st->pt) {
        st->stats.bad_packets++;
        return -EPROTO;
    }
    if (st->in_frame && (lost_before || ts_ext != st->au_ts)) {
        /* Without its marker the frame's tail may be missing. */
        mjpeg_drop(st, NVR_REFUSAL_INCOMPLETE);
        st->skip = 1;
    }
    if (len == 0)
        return 0;
    if (len < 8)
        goto bad;
    frag_off = ((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3];
    if ((p[4] & 0x3f) > 1 || p[4] >= 128 || p[6] == 0 || p[7] == 0) {
        /* Types 2..63 are not defined; 128 and up are dynamic types
         * nobody negotiates; 0 width/height would need an extension. */
        goto bad;
    }
    if (p[4] >= 64) {
        if (len < 12)
            goto bad;
        dri = ((unsigned)p[8] << 8) | p[9];
        off = 12;
    }
    if (frag_off == 0) {
        if (st->in_frame)
            mjpeg_drop(st, NVR_REFUSAL_INCOMPLETE);
        st->skip = 0;
        err = mjpeg_start(st, p, len, &off, dri, ts_ext);
        if (err < 0) {
            st->skip = 1;
            depack_refuse(&st->stats, NVR_REFUSAL_MALFORMED);
            mjpeg_drop(st, MJPEG_UNCOUNTED);
            goto bad_err;
        }
    } else if (!st->in_frame) {
        /* The frame's start never arrived: only the first such fragment
         * counts as a bad packet. */
        if (st->skip)
            return 0;
        st->skip = 1;
        depack_refuse(&st->stats, NVR_REFUSAL_INCOMPLETE);
        goto bad;
    } else if (frag_off != st->scan_off || p[4] != st->type || p[5] != st->q ||
               p[6] != st->wb || p[7] != st->hb) {
        mjpeg_drop(st, NVR_REFUSAL_INCOMPLETE);
        st->skip = 1;
        goto bad;
    }
    if (off < len) {
        if (len - off > NVR_AU_MAX_BYTES - st->au->len ||
            nvr_au_append(&st->au, p + off, len - off) < 0) {
            mjpeg_drop(st, NVR_REFUSAL_TOO_LARGE);
            st->skip = 1;
            goto bad;
        }
        st->scan_off += len - off;
    }
    if (pkt->marker)
        mjpeg_finish(st, emit, user);
    return 0;
bad:
    err = -EBADMSG;
bad_err:
    st->stats.bad_packets++;
    return err;
}

static int mjpeg_create(const struct sdp_track *track, void **out)
{
    struct mjpeg_depack *st = calloc(1, sizeof(*st));

    if (!st)
        return -ENOMEM;
    st->pt = track->pt;
    st->cap_hint = MJPEG_DEPACK_MIN_CAP;
    *out = st;
    return 0;
}

static void mjpeg_destroy(void *opaque)
{
    struct mjpeg_depack *st = opaque;

    if (!st)
        return;
    nvr_au_unref(st->au);
    free(st);
}

static void mjpeg_get_info(void *opaque, struct nvr_track_info *info)
{
    const struct mjpeg_depack *st = opaque;

    info->params_len = 0;
    info->width = st->width;
    info->height = st->height;
    info->channels = 0;
    info->params_gen = st->params_gen;
}

static void mjpeg_get_stats(void *opaque, struct depack_stats *stats)
{
    const struct mjpeg_depack *st = opaque;

    *stats = st->stats;
}

const struct depack_ops depack_mjpeg_ops = {
    .name = "mjpeg",
    .create = mjpeg_create,
    .destroy = mjpeg_destroy,
    .push = mjpeg_push,
    .get_info = mjpeg_get_info,
    .get_stats = mjpeg_get_stats,
};
