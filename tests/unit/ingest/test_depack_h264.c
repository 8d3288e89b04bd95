/* SPDX-License-Identifier: MIT */
/*
 * Tests of ingest/depack_h264.c (and depack_find): single NAL units,
 * STAP-A, FU-A reassembly, access unit boundaries (marker, timestamp, the
 * marker-on-SPS quirk), loss handling up to the next IDR, parameter sets
 * from the SDP and in band, size limits and malformed packets; then a real
 * Wowza session (bunny.rtsp) through rtp_parse, rtp_seq_update and the
 * depacketizer.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libavutil/base64.h>

#include "ingest/depack.h"
#include "ingest/rtp.h"
#include "ingest/sdp.h"
#include "nvr/base/au.h"

#define MAX_AUS 512

/* Bunny's sprop-parameter-sets, decoded: 240x160 Constrained Baseline. */
static const uint8_t bunny_sps[] = {0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x03, 0xc5,
                                    0x68, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40,
                                    0x00, 0x00, 0x0c, 0x03, 0xc5, 0x8b, 0x92};
static const uint8_t bunny_pps[] = {0x68, 0xcb, 0x8c, 0xb2};
/* An x264 SPS for 640x360, High profile. */
static const uint8_t x264_sps[] = {0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40,
                                   0xa0, 0x2f, 0xf9, 0x70, 0x11, 0x00, 0x00,
                                   0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00,
                                   0x32, 0x0f, 0x16, 0x2d, 0x96};

/* Slices: first_mb_in_slice 0 is the first bit after the header set. */
static const uint8_t idr[] = {0x65, 0x88, 0x84, 0x00, 0x33, 0xff};
static const uint8_t slice[] = {0x41, 0x9a, 0x21, 0x6c, 0x42};
static const uint8_t sei[] = {0x06, 0x05, 0x01, 0xaa, 0x80};

struct fixture {
    struct sdp_track track;
    const struct depack_ops *ops;
    void *st;
    int n;
    struct nvr_au *aus[MAX_AUS];
};

/* The depacketizer's index of its start codes (nvr_au_note_nal) lists
 * exactly the start codes in the unit, in order. */
static void check_nal_index(const struct nvr_au *au)
{
    uint32_t n = 0;

    for (size_t i = 0; i + 4 <= au->len; i++) {
        if (memcmp(au->data + i, "\0\0\0\1", 4) != 0)
            continue;
        if (n < NVR_AU_NAL_INDEX)
            assert_int_equal(au->nal_at[n], i);
        n++;
        i += 3;
    }
    assert_int_equal(au->n_nals,
                     n > NVR_AU_NAL_INDEX ? NVR_AU_NAL_INDEX + 1 : n);
}

static void collect(void *user, struct nvr_au *au)
{
    struct fixture *f = user;

    check_nal_index(au);
    assert_true(f->n < MAX_AUS);
    f->aus[f->n++] = au;
}

static size_t annexb(uint8_t *out, const uint8_t *a, size_t alen,
                     const uint8_t *b, size_t blen)
{
    static const uint8_t sc[4] = {0, 0, 0, 1};
    size_t n = 0;

    memcpy(out + n, sc, 4);
    memcpy(out + n + 4, a, alen);
    n += 4 + alen;
    if (b) {
        memcpy(out + n, sc, 4);
        memcpy(out + n + 4, b, blen);
        n += 4 + blen;
    }
    return n;
}

static int setup_common(void **state, int with_sprop)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->track.pt = 96;
    f->track.codec = NVR_CODEC_H264;
    f->track.clock_rate = 90000;
    f->track.packetization_mode = 1;
    if (with_sprop)
        f->track.params_len =
            annexb(f->track.params, bunny_sps, sizeof(bunny_sps), bunny_pps,
                   sizeof(bunny_pps));
    f->ops = depack_find(NVR_CODEC_H264);
    assert_non_null(f->ops);
    assert_int_equal(f->ops->create(&f->track, &f->st), 0);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_common(state, 1);
}

static int setup_no_sprop(void **state)
{
    return setup_common(state, 0);
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    for (int i = 0; i < f->n; i++)
        nvr_au_unref(f->aus[i]);
    f->ops->destroy(f->st);
    free(f);
    return 0;
}

static int push_pt(struct fixture *f, int pt, const void *payload, size_t len,
                   int64_t ts, int marker, int lost)
{
    static uint16_t seq;
    struct rtp_hdr h = {
        .pt = (uint8_t)pt,
        .marker = marker,
        .seq = seq++,
        .ts = (uint32_t)ts,
        .ssrc = 1,
        .payload = payload,
        .payload_len = len,
    };

    return f->ops->push(f->st, &h, ts, lost, collect, f);
}

static int push(struct fixture *f, const void *payload, size_t len, int64_t ts,
                int marker, int lost)
{
    return push_pt(f, 96, payload, len, ts, marker, lost);
}

/* Sends a NAL unit as FU-A fragments of at most `frag` payload bytes. */
static void push_fu(struct fixture *f, const uint8_t *nal, size_t len,
                    size_t frag, int64_t ts, int marker)
{
    uint8_t pkt[4096];
    size_t off = 1;

    assert_true(frag + 2 <= sizeof(pkt));
    while (off < len) {
        size_t n = len - off < frag ? len - off : frag;

        pkt[0] = (uint8_t)((nal[0] & 0xe0) | 28);
        pkt[1] = (uint8_t)(nal[0] & 0x1f);
        if (off == 1)
            pkt[1] |= 0x80;
        if (off + n == len)
            pkt[1] |= 0x40;
        memcpy(pkt + 2, nal + off, n);
        assert_int_equal(push(f, pkt, n + 2, ts, marker && off + n == len, 0),
                         0);
        off += n;
    }
}

static size_t stap_a(uint8_t *out, const uint8_t *const *nals,
                     const size_t *lens, int count)
{
    size_t n = 1;

    out[0] = 24;
    for (int i = 0; i < count; i++) {
        out[n] = (uint8_t)(lens[i] >> 8);
        out[n + 1] = (uint8_t)lens[i];
        memcpy(out + n + 2, nals[i], lens[i]);
        n += 2 + lens[i];
    }
    return n;
}

static void assert_au_nals(const struct nvr_au *au, const uint8_t *const *nals,
                           const size_t *lens, int count)
{
    uint8_t want[8192];
    size_t n = 0;

    for (int i = 0; i < count; i++)
        n += annexb(want + n, nals[i], lens[i], NULL, 0);
    assert_int_equal(au->len, n);
    assert_memory_equal(au->data, want, n);
}

static struct depack_stats stats(struct fixture *f)
{
    struct depack_stats s;

    f->ops->get_stats(f->st, &s);
    return s;
}

/* Units refused so far, all reasons. */
static uint64_t refused_total(struct fixture *f)
{
    struct depack_stats s = stats(f);

    return nvr_refusals_total(&s.refused);
}

static void test_depack_find(void **state)
{
    assert_ptr_equal(depack_find(NVR_CODEC_H264), &depack_h264_ops);
    assert_string_equal(depack_h264_ops.name, "h264");
    assert_null(depack_find(NVR_CODEC_NONE));
}

static void test_depack_h264_single_nal(void **state)
{
    struct fixture *f = *state;
    const uint8_t *n1[] = {idr};
    const size_t l1[] = {sizeof(idr)};
    const uint8_t *n2[] = {sei, slice};
    const size_t l2[] = {sizeof(sei), sizeof(slice)};

    assert_int_equal(push(f, idr, sizeof(idr), 1000, 1, 0), 0);
    assert_int_equal(f->n, 1);
    assert_au_nals(f->aus[0], n1, l1, 1);
    assert_int_equal(f->aus[0]->flags, NVR_AU_KEY);
    assert_int_equal(f->aus[0]->pts, 1000);
    assert_int_equal(f->aus[0]->params_gen, 1);
    assert_int_equal(f->aus[0]->track, 0);
    assert_int_equal(atomic_load(&f->aus[0]->refs), 1);

    assert_int_equal(push(f, sei, sizeof(sei), 4000, 0, 0), 0);
    assert_int_equal(push(f, slice, sizeof(slice), 4000, 1, 0), 0);
    assert_int_equal(f->n, 2);
    assert_au_nals(f->aus[1], n2, l2, 2);
    assert_int_equal(f->aus[1]->flags, 0);
    assert_int_equal(f->aus[1]->pts, 4000);
    /* Baseline: no B-frames, decode time is presentation time. */
    assert_int_equal(f->aus[0]->dts, 1000);
    assert_int_equal(f->aus[1]->dts, 4000);
    assert_int_equal(stats(f).aus, 2);
    assert_int_equal(stats(f).aus_dropped, 0);
}

/* camsim --bframes 2 (x264 main profile): max_num_reorder_frames 2. */
static const uint8_t bframes_sps[] = {
    0x67, 0x4d, 0x40, 0x1e, 0xec, 0xa0, 0x50, 0x17, 0xfc, 0xb8,
    0x0b, 0x50, 0x60, 0x60, 0x6a, 0x50, 0x00, 0x00, 0x03, 0x00,
    0x10, 0x00, 0x00, 0x03, 0x03, 0x28, 0xf1, 0x62, 0xd9, 0x60};

/* Units in decode order (I0 P3 B1 B2 P6 B4 B5): the RTP timestamp is the
 * pts, and the dts lags it by the SPS's reorder depth, increasing. */
static void test_depack_h264_bframes_dts(void **state)
{
    struct fixture *f = *state;
    static const int frames[] = {0, 3, 1, 2, 6, 4, 5};

    assert_int_equal(push(f, bframes_sps, sizeof(bframes_sps), 0, 0, 0), 0);
    assert_int_equal(push(f, bunny_pps, sizeof(bunny_pps), 0, 0, 0), 0);
    assert_int_equal(push(f, idr, sizeof(idr), 0, 1, 0), 0);
    for (int i = 1; i < 7; i++)
        assert_int_equal(
            push(f, slice, sizeof(slice), (int64_t)frames[i] * 3600, 1, 0), 0);
    assert_int_equal(f->n, 7);
    for (int i = 0; i < 7; i++) {
        assert_int_equal(f->aus[i]->pts, (int64_t)frames[i] * 3600);
        assert_int_equal(f->aus[i]->dts, (int64_t)(i - 2) * 3600);
    }
    assert_int_equal(stats(f).aus_dropped, 0);
}

static void test_depack_h264_stap_a(void **state)
{
    struct fixture *f = *state;
    const uint8_t *nals[] = {bunny_sps, bunny_pps, idr};
    const size_t lens[] = {sizeof(bunny_sps), sizeof(bunny_pps), sizeof(idr)};
    uint8_t pkt[256];
    size_t len = stap_a(pkt, nals, lens, 3);
    struct nvr_track_info info;
    uint8_t want[128];
    size_t want_len;

    assert_int_equal(push(f, pkt, len, 0, 1, 0), 0);
    assert_int_equal(f->n, 1);
    assert_au_nals(f->aus[0], nals, lens, 3);
    assert_int_equal(f->aus[0]->flags, NVR_AU_KEY);

    memset(&info, 0, sizeof(info));
    f->ops->get_info(f->st, &info);
    want_len = annexb(want, bunny_sps, sizeof(bunny_sps), bunny_pps,
                      sizeof(bunny_pps));
    assert_int_equal(info.params_len, want_len);
    assert_memory_equal(info.params, want, want_len);
    assert_int_equal(info.width, 240);
    assert_int_equal(info.height, 160);
    assert_true(info.params_gen > 0);
    assert_int_equal(f->aus[0]->params_gen, info.params_gen);
}

static void test_depack_h264_fu_a(void **state)
{
    struct fixture *f = *state;
    uint8_t nal[3000];
    const uint8_t *nals[] = {nal};
    const size_t lens[] = {sizeof(nal)};
    uint8_t pkt[1100];

    nal[0] = 0x65;
    nal[1] = 0x88;
    for (size_t i = 2; i < sizeof(nal); i++)
        nal[i] = (uint8_t)(i * 7 + 1);
    push_fu(f, nal, sizeof(nal), 1000, 90000, 1);
    assert_int_equal(f->n, 1);
    assert_au_nals(f->aus[0], nals, lens, 1);
    assert_int_equal(f->aus[0]->flags, NVR_AU_KEY);

    /* Again with the reserved FU bit set and an empty middle fragment:
     * both ignored. */
    pkt[0] = 0x7c;
    pkt[1] = 0x80 | 0x20 | 5;
    memcpy(pkt + 2, nal + 1, 1000);
    assert_int_equal(push(f, pkt, 1002, 180000, 0, 0), 0);
    pkt[1] = 0x20 | 5;
    assert_int_equal(push(f, pkt, 2, 180000, 0, 0), 0);
    memcpy(pkt + 2, nal + 1001, 1000);
    assert_int_equal(push(f, pkt, 1002, 180000, 0, 0), 0);
    pkt[1] = 0x40 | 0x20 | 5;
    memcpy(pkt + 2, nal + 2001, 999);
    assert_int_equal(push(f, pkt, 1001, 180000, 1, 0), 0);
    assert_int_equal(f->n, 2);
    assert_au_nals(f->aus[1], nals, lens, 1);
    assert_int_equal(stats(f).bad_packets, 0);
}

/* Loss inside an FU-A drops that unit, then everything up to the next
 * IDR, which is emitted. */
static void test_depack_h264_fu_a_loss(void **state)
{
    struct fixture *f = *state;
    uint8_t nal[2500];
    uint8_t pkt[1100];
    const uint8_t *nals[] = {idr};
    const size_t lens[] = {sizeof(idr)};

    assert_int_equal(push(f, idr, sizeof(idr), 0, 1, 0), 0);
    assert_int_equal(f->n, 1);

    memset(nal, 0x5a, sizeof(nal));
    nal[0] = 0x41;
    nal[1] = 0x9a;
    pkt[0] = 0x5c;
    pkt[1] = 0x80 | 1;
    memcpy(pkt + 2, nal + 1, 1000);
    assert_int_equal(push(f, pkt, 1002, 3000, 0, 0), 0);
    /* The middle fragment is lost; the end arrives. */
    pkt[1] = 0x40 | 1;
    assert_int_equal(push(f, pkt, 500, 3000, 1, 1), 0);
    assert_int_equal(stats(f).bad_packets, 0);
    assert_int_equal(f->n, 1);
    assert_int_equal(stats(f).aus_dropped, 1);
    assert_int_equal(stats(f).refused.n[NVR_REFUSAL_INCOMPLETE], 1);

    /* Two complete P frames: they reference the broken one. */
    push_fu(f, nal, sizeof(nal), 1000, 6000, 1);
    assert_int_equal(push(f, slice, sizeof(slice), 9000, 1, 0), 0);
    assert_int_equal(f->n, 1);
    assert_int_equal(stats(f).aus_dropped, 3);
    assert_int_equal(stats(f).refused.n[NVR_REFUSAL_NO_KEYFRAME], 2);
    assert_int_equal(refused_total(f), 3);

    assert_int_equal(push(f, idr, sizeof(idr), 12000, 1, 0), 0);
    assert_int_equal(f->n, 2);
    assert_au_nals(f->aus[1], nals, lens, 1);
    assert_int_equal(f->aus[1]->pts, 12000);
    assert_int_equal(f->aus[1]->flags, NVR_AU_KEY);
    assert_int_equal(push(f, slice, sizeof(slice), 15000, 1, 0), 0);
    assert_int_equal(f->n, 3);
    assert_int_equal(stats(f).aus, 3);
}

/* Loss between whole packets: the unit it falls in is dropped, but a
 * complete IDR right after the gap is kept. */
static void test_depack_h264_loss_between_units(void **state)
{
    struct fixture *f = *state;
    uint8_t slice_tail[] = {0x41, 0x12, 0x34}; /* first_mb_in_slice != 0 */

    assert_int_equal(push(f, idr, sizeof(idr), 0, 1, 0), 0);
    /* A P frame in two slices whose first slice is lost. */
    assert_int_equal(push(f, slice_tail, sizeof(slice_tail), 3000, 1, 1), 0);
    assert_int_equal(f->n, 1);
    assert_int_equal(stats(f).aus_dropped, 1);
    /* Loss, then a complete IDR unit (SPS first) at a new timestamp. */
    assert_int_equal(push(f, bunny_sps, sizeof(bunny_sps), 9000, 0, 1), 0);
    assert_int_equal(push(f, idr, sizeof(idr), 9000, 1, 0), 0);
    assert_int_equal(f->n, 2);
    assert_int_equal(f->aus[1]->flags, NVR_AU_KEY);
    /* Loss in the middle of an open unit drops it even if it is an IDR. */
    assert_int_equal(push(f, bunny_sps, sizeof(bunny_sps), 12000, 0, 0), 0);
    assert_int_equal(push(f, idr, sizeof(idr), 12000, 1, 1), 0);
    assert_int_equal(push(f, slice, sizeof(slice), 15000, 1, 0), 0);
    assert_int_equal(f->n, 2);
    assert_int_equal(stats(f).aus_dropped, 3);
}

static void test_depack_h264_marker_on_sps(void **state)
{
    struct fixture *f = *state;
    static const uint8_t aud[] = {0x09, 0xf0};
    const uint8_t *nals[] = {aud, bunny_sps, bunny_pps, sei, idr};
    const size_t lens[] = {sizeof(aud), sizeof(bunny_sps), sizeof(bunny_pps),
                           sizeof(sei), sizeof(idr)};

    /* Every packet has the marker bit; only the slice ends the unit. */
    for (int i = 0; i < 4; i++) {
        assert_int_equal(push(f, nals[i], lens[i], 0, 1, 0), 0);
        assert_int_equal(f->n, 0);
    }
    assert_int_equal(push(f, idr, sizeof(idr), 0, 1, 0), 0);
    assert_int_equal(f->n, 1);
    assert_au_nals(f->aus[0], nals, lens, 5);
    assert_int_equal(f->aus[0]->flags, NVR_AU_KEY);
    assert_int_equal(f->aus[0]->params_gen, 1);
}

/* Cameras that set the marker on every slice: the picture is emitted at
 * the first marker, and later slices with its timestamp are refused rather
 * than becoming a second unit with the same time. */
static void test_depack_h264_marker_every_slice(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(push(f, idr, sizeof(idr), 0, 1, 0), 0);
    assert_int_equal(push(f, idr, sizeof(idr), 0, 1, 0), -EPROTO);
    assert_int_equal(push(f, slice, sizeof(slice), 3000, 1, 0), 0);
    assert_int_equal(push(f, slice, sizeof(slice), 3000, 1, 0), -EPROTO);
    assert_int_equal(f->n, 2);
    assert_int_equal(f->aus[0]->pts, 0);
    assert_int_equal(f->aus[0]->len, 4 + sizeof(idr));
    assert_int_equal(f->aus[1]->pts, 3000);
    assert_int_equal(stats(f).bad_packets, 2);
    /* What the repeated time carried is lost: a unit refused each. */
    assert_int_equal(stats(f).aus_dropped, 2);
    assert_int_equal(stats(f).refused.n[NVR_REFUSAL_BAD_TIMESTAMP], 2);
    assert_int_equal(refused_total(f), 2);
}

/* Parameter sets sent with their own timestamp (and marker) are carried
 * into the next picture instead of becoming a unit of their own. */
static void test_depack_h264_params_own_timestamp(void **state)
{
    struct fixture *f = *state;
    const uint8_t *nals[] = {bunny_sps, bunny_pps, idr};
    const size_t lens[] = {sizeof(bunny_sps), sizeof(bunny_pps), sizeof(idr)};

    assert_int_equal(push(f, bunny_sps, sizeof(bunny_sps), 100, 1, 0), 0);
    assert_int_equal(push(f, bunny_pps, sizeof(bunny_pps), 100, 1, 0), 0);
    assert_int_equal(push(f, idr, sizeof(idr), 3100, 0, 0), 0);
    assert_int_equal(f->n, 0);
    assert_int_equal(push(f, slice, sizeof(slice), 6100, 1, 0), 0);
    assert_int_equal(f->n, 2);
    assert_au_nals(f->aus[0], nals, lens, 3);
    assert_int_equal(f->aus[0]->pts, 3100);
    assert_int_equal(f->aus[1]->pts, 6100);
}

static void test_depack_h264_timestamp_ends_unit(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(push(f, idr, sizeof(idr), 0, 0, 0), 0);
    assert_int_equal(push(f, idr, sizeof(idr), 0, 0, 0), 0);
    assert_int_equal(f->n, 0);
    assert_int_equal(push(f, slice, sizeof(slice), 3000, 0, 0), 0);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->aus[0]->pts, 0);
    assert_int_equal(f->aus[0]->len, 2 * (4 + sizeof(idr)));
    assert_int_equal(push(f, slice, sizeof(slice), 6000, 0, 0), 0);
    assert_int_equal(f->n, 2);
    assert_int_equal(f->aus[1]->pts, 3000);
    assert_int_equal(f->aus[1]->flags, 0);
}

static void test_depack_h264_needs_params(void **state)
{
    struct fixture *f = *state;
    struct nvr_track_info info;
    const uint8_t *nals[] = {bunny_sps, bunny_pps, idr};
    const size_t lens[] = {sizeof(bunny_sps), sizeof(bunny_pps), sizeof(idr)};
    uint8_t pkt[256];
    size_t len;

    memset(&info, 0xee, sizeof(info));
    f->ops->get_info(f->st, &info);
    assert_int_equal(info.params_len, 0);
    assert_int_equal(info.params_gen, 0);
    assert_int_equal(info.width, 0);

    assert_int_equal(push(f, idr, sizeof(idr), 0, 1, 0), 0);
    assert_int_equal(push(f, slice, sizeof(slice), 3000, 1, 0), 0);
    /* An SPS alone is not enough. */
    assert_int_equal(push(f, bunny_sps, sizeof(bunny_sps), 6000, 0, 0), 0);
    assert_int_equal(push(f, idr, sizeof(idr), 6000, 1, 0), 0);
    assert_int_equal(f->n, 0);
    assert_int_equal(stats(f).aus_dropped, 3);
    assert_int_equal(stats(f).refused.n[NVR_REFUSAL_NO_PARAMS], 3);

    len = stap_a(pkt, nals, lens, 3);
    assert_int_equal(push(f, pkt, len, 9000, 1, 0), 0);
    assert_int_equal(f->n, 1);
    assert_au_nals(f->aus[0], nals, lens, 3);
    f->ops->get_info(f->st, &info);
    assert_int_equal(info.params_len,
                     8 + sizeof(bunny_sps) + sizeof(bunny_pps));
    assert_int_equal(info.width, 240);
    assert_int_equal(f->aus[0]->params_gen, info.params_gen);
}

static void test_depack_h264_params_gen(void **state)
{
    struct fixture *f = *state;
    struct nvr_track_info info;
    uint8_t want[128];
    size_t want_len;
    uint8_t pps2[] = {0x68, 0xce, 0x38, 0x80};

    f->ops->get_info(f->st, &info);
    assert_int_equal(info.params_gen, 1);
    assert_int_equal(info.width, 240);
    assert_int_equal(info.height, 160);

    /* The same bytes in band change nothing. */
    assert_int_equal(push(f, bunny_sps, sizeof(bunny_sps), 0, 0, 0), 0);
    assert_int_equal(push(f, bunny_pps, sizeof(bunny_pps), 0, 0, 0), 0);
    assert_int_equal(push(f, idr, sizeof(idr), 0, 1, 0), 0);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->aus[0]->params_gen, 1);
    f->ops->get_info(f->st, &info);
    assert_int_equal(info.params_gen, 1);

    /* A new SPS (640x360) in band: the unit carrying it has the new gen,
     * the bytes stay in the unit, and get_info reports them. */
    assert_int_equal(push(f, x264_sps, sizeof(x264_sps), 3000, 0, 0), 0);
    assert_int_equal(push(f, idr, sizeof(idr), 3000, 1, 0), 0);
    assert_int_equal(f->n, 2);
    assert_int_equal(f->aus[1]->params_gen, 2);
    assert_int_equal(f->aus[1]->len, 8 + sizeof(x264_sps) + sizeof(idr));
    assert_memory_equal(f->aus[1]->data + 4, x264_sps, sizeof(x264_sps));
    f->ops->get_info(f->st, &info);
    assert_int_equal(info.params_gen, 2);
    assert_int_equal(info.width, 640);
    assert_int_equal(info.height, 360);
    want_len =
        annexb(want, x264_sps, sizeof(x264_sps), bunny_pps, sizeof(bunny_pps));
    assert_int_equal(info.params_len, want_len);
    assert_memory_equal(info.params, want, want_len);

    /* A new PPS bumps it too; trailing zero bytes do not count. */
    assert_int_equal(push(f, pps2, sizeof(pps2), 6000, 0, 0), 0);
    assert_int_equal(push(f, slice, sizeof(slice), 6000, 1, 0), 0);
    f->ops->get_info(f->st, &info);
    assert_int_equal(info.params_gen, 3);
    assert_int_equal(f->aus[2]->params_gen, 3);
    {
        uint8_t padded[] = {0x68, 0xce, 0x38, 0x80, 0x00, 0x00};

        assert_int_equal(push(f, padded, sizeof(padded), 9000, 0, 0), 0);
        assert_int_equal(push(f, slice, sizeof(slice), 9000, 1, 0), 0);
        f->ops->get_info(f->st, &info);
        assert_int_equal(info.params_gen, 3);
    }
    /* An SPS that does not parse is kept in the unit but not used. */
    {
        uint8_t bad_sps[] = {0x67, 0x42, 0x00, 0x1e, 0x00, 0x00, 0x00};

        assert_int_equal(push(f, bad_sps, sizeof(bad_sps), 12000, 0, 0), 0);
        assert_int_equal(push(f, slice, sizeof(slice), 12000, 1, 0), 0);
        f->ops->get_info(f->st, &info);
        assert_int_equal(info.params_gen, 3);
        assert_int_equal(info.width, 640);
        assert_int_equal(f->n, 5);
    }
}

/* A unit over NVR_AU_MAX_BYTES is dropped, and the stream recovers at
 * the next IDR. */
static void test_depack_h264_oversized(void **state)
{
    struct fixture *f = *state;
    enum { FRAG = 60000 };
    uint8_t *pkt = calloc(1, FRAG + 2);
    size_t sent = 0;

    assert_non_null(pkt);
    pkt[0] = 0x7c;
    pkt[1] = 0x80 | 5;
    pkt[2] = 0x88;
    while (sent <= (size_t)NVR_AU_MAX_BYTES) {
        assert_int_equal(push(f, pkt, FRAG + 2, 0, 0, 0), 0);
        pkt[1] = 5;
        sent += FRAG;
    }
    pkt[1] = 0x40 | 5;
    assert_int_equal(push(f, pkt, FRAG + 2, 0, 1, 0), 0);
    free(pkt);
    assert_int_equal(f->n, 0);
    assert_int_equal(stats(f).aus_dropped, 1);
    assert_int_equal(stats(f).refused.n[NVR_REFUSAL_TOO_LARGE], 1);
    assert_int_equal(push(f, slice, sizeof(slice), 3000, 1, 0), 0);
    assert_int_equal(f->n, 0);
    assert_int_equal(stats(f).aus_dropped, 2);
    assert_int_equal(stats(f).refused.n[NVR_REFUSAL_NO_KEYFRAME], 1);
    assert_int_equal(push(f, idr, sizeof(idr), 6000, 1, 0), 0);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->aus[0]->len, 4 + sizeof(idr));
}

/* Units are allocated at about the size of the last unit of their kind: a
 * second IDR picture fits the buffer it starts with (its capacity is the
 * first IDR's size plus a quarter, not a doubling step), and a P picture
 * after an IDR does not get an IDR-sized buffer. */
static void test_depack_h264_unit_sizing(void **state)
{
    struct fixture *f = *state;
    enum { IDR_LEN = 100000, P_LEN = 3000 };
    uint8_t *nal = malloc(IDR_LEN);
    size_t idr_au = 4 + IDR_LEN;

    assert_non_null(nal);
    nal[0] = 0x65;
    nal[1] = 0x88;
    for (size_t i = 2; i < IDR_LEN; i++)
        nal[i] = (uint8_t)(i * 13 + 5);
    push_fu(f, nal, IDR_LEN, 1400, 3600, 1);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->aus[0]->len, idr_au);
    assert_memory_equal(f->aus[0]->data + 4, nal, IDR_LEN);
    assert_int_equal(f->aus[0]->flags, NVR_AU_KEY);
    nal[0] = 0x41;
    nal[1] = 0x9a;
    push_fu(f, nal, P_LEN, 1400, 7200, 1);
    nal[0] = 0x41;
    push_fu(f, nal, P_LEN, 1400, 10800, 1);
    /* The second IDR starts with its parameter sets in a STAP-A, as
     * cameras send them. */
    {
        uint8_t pkt[64];
        const uint8_t *ps[] = {bunny_sps, bunny_pps};
        const size_t pl[] = {sizeof(bunny_sps), sizeof(bunny_pps)};
        size_t n = stap_a(pkt, ps, pl, 2);

        assert_int_equal(push(f, pkt, n, 14400, 0, 0), 0);
    }
    nal[0] = 0x65;
    push_fu(f, nal, IDR_LEN, 1400, 14400, 1);

    assert_int_equal(f->n, 4);
    assert_int_equal(f->aus[1]->len, 4 + P_LEN);
    assert_true(f->aus[1]->cap < idr_au);
    assert_true(f->aus[2]->cap < idr_au);
    assert_int_equal(f->aus[3]->flags, NVR_AU_KEY);
    assert_int_equal(f->aus[3]->len, 4 + sizeof(bunny_sps) + 4 +
                                         sizeof(bunny_pps) + 4 + IDR_LEN);
    assert_int_equal(f->aus[3]->cap, idr_au + idr_au / 4);
    assert_memory_equal(f->aus[3]->data + f->aus[3]->len - IDR_LEN, nal,
                        IDR_LEN);
    assert_int_equal(stats(f).aus_dropped, 0);
    free(nal);
}

static void test_depack_h264_fu_a_quirks(void **state)
{
    struct fixture *f = *state;
    uint8_t pkt[64];
    const uint8_t *nals[] = {sei, idr};
    const size_t lens[] = {sizeof(sei), sizeof(idr)};

    /* Fragments whose start never arrived (joined mid-NAL): dropped. */
    pkt[0] = 0x7c;
    pkt[1] = 5;
    memset(pkt + 2, 0x11, 10);
    assert_int_equal(push(f, pkt, 12, 0, 0, 0), -EBADMSG);
    pkt[1] = 0x40 | 5;
    assert_int_equal(push(f, pkt, 12, 0, 1, 0), 0);
    assert_int_equal(f->n, 0);
    assert_int_equal(stats(f).aus_dropped, 1);

    /* The NAL type changes mid-NAL: that IDR is dropped, with its unit. */
    pkt[1] = 0x80 | 5;
    pkt[2] = 0x88;
    assert_int_equal(push(f, pkt, 12, 3000, 0, 0), 0);
    pkt[1] = 1;
    assert_int_equal(push(f, pkt, 12, 3000, 0, 0), -EBADMSG);
    pkt[1] = 0x40 | 5;
    assert_int_equal(push(f, pkt, 12, 3000, 1, 0), 0);
    assert_int_equal(f->n, 0);
    assert_int_equal(stats(f).aus_dropped, 2);

    /* A truncated FU-A (no FU header) is bad; an SEI whose type changes
     * is dropped alone and the picture survives. */
    assert_int_equal(push(f, pkt, 1, 6000, 0, 0), -EBADMSG);
    pkt[0] = 0x1c; /* NRI 0, as the SEI */
    pkt[1] = 0x80 | 6;
    memcpy(pkt + 2, sei + 1, 2);
    assert_int_equal(push(f, pkt, 4, 6000, 0, 0), 0);
    pkt[1] = 0x40 | 7;
    assert_int_equal(push(f, pkt, 4, 6000, 0, 0), -EBADMSG);
    pkt[0] = 0x1c; /* NRI 0, as the SEI */
    pkt[1] = 0x80 | 6;
    memcpy(pkt + 2, sei + 1, 2);
    assert_int_equal(push(f, pkt, 4, 6000, 0, 0), 0);
    pkt[1] = 0x40 | 6;
    memcpy(pkt + 2, sei + 3, 2);
    assert_int_equal(push(f, pkt, 4, 6000, 0, 0), 0);
    assert_int_equal(push(f, idr, sizeof(idr), 6000, 1, 0), 0);
    assert_int_equal(f->n, 1);
    assert_au_nals(f->aus[0], nals, lens, 2);
    assert_int_equal(stats(f).bad_packets, 4);
}

static void test_depack_h264_malformed(void **state)
{
    struct fixture *f = *state;
    uint8_t pkt[64];
    static const uint8_t stap_b[] = {25, 0, 0, 0, 2, 0x65, 0x88};
    static const uint8_t reserved[] = {30, 1, 2};
    const uint8_t *nals[] = {bunny_sps, idr};
    const size_t lens[] = {sizeof(bunny_sps), sizeof(idr)};
    size_t len;

    /* Another payload type (Geovision's 50) never touches the unit. */
    assert_int_equal(push(f, idr, sizeof(idr), 0, 0, 0), 0);
    assert_int_equal(push_pt(f, 50, slice, sizeof(slice), 999, 1, 0), -EPROTO);
    assert_int_equal(f->n, 0);
    assert_int_equal(push(f, idr, sizeof(idr), 0, 1, 0), 0);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->aus[0]->len, 2 * (4 + sizeof(idr)));

    assert_int_equal(push(f, stap_b, sizeof(stap_b), 3000, 0, 0), -EBADMSG);
    assert_int_equal(push(f, reserved, sizeof(reserved), 3000, 0, 0), -EBADMSG);
    assert_int_equal(push(f, reserved, 0, 3000, 0, 0), 0);

    /* STAP-A whose last size runs past the packet: the parts before it
     * are kept; a zero size is skipped. */
    len = stap_a(pkt, nals, lens, 2);
    pkt[len++] = 0;
    pkt[len++] = 0;
    pkt[len++] = 0;
    pkt[len++] = 40;
    pkt[len++] = 0x06;
    assert_int_equal(push(f, pkt, len, 3000, 1, 0), -EBADMSG);
    assert_int_equal(f->n, 2);
    assert_au_nals(f->aus[1], nals, lens, 2);
    /* A truncated slice inside a STAP-A makes the unit corrupt. */
    len = stap_a(pkt, nals, lens, 1);
    pkt[len++] = 0;
    pkt[len++] = 40;
    pkt[len++] = 0x41;
    pkt[len++] = 0x9a;
    assert_int_equal(push(f, pkt, len, 6000, 1, 0), -EBADMSG);
    assert_int_equal(f->n, 2);
    assert_int_equal(stats(f).aus_dropped, 1);
    assert_int_equal(stats(f).bad_packets, 5);
}

/* bunny.rtsp: RTSP interleaved frames, '$' channel length16 packet. */
static uint8_t *read_file(const char *name, size_t *len)
{
    const char *dir = getenv("NVR_REALCAM_DIR");
    char path[1024];
    FILE *fp;
    uint8_t *buf;
    long size;

    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "../shared/realcam",
             name);
    fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    size = ftell(fp);
    assert_true(size > 0);
    rewind(fp);
    buf = malloc((size_t)size + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, fp), (size_t)size);
    buf[size] = 0;
    fclose(fp);
    *len = (size_t)size;
    return buf;
}

/* Decodes the sprop-parameter-sets of the video track of an RTSP DESCRIBE
 * response into Annex B. */
static size_t bunny_sprop(uint8_t *out, size_t cap)
{
    size_t len, n = 0;
    char *text = (char *)read_file("bunny_describe.txt", &len);
    char *p = strstr(text, "sprop-parameter-sets=");
    char *end;

    assert_non_null(p);
    p += strlen("sprop-parameter-sets=");
    end = p + strcspn(p, ";\r\n");
    *end = 0;
    for (char *tok = strtok(p, ","); tok; tok = strtok(NULL, ",")) {
        int got;

        assert_true(n + 4 < cap);
        memset(out + n, 0, 3);
        out[n + 3] = 1;
        got = av_base64_decode(out + n + 4, tok, (int)(cap - n - 4));
        assert_true(got > 0);
        n += 4 + (size_t)got;
    }
    free(text);
    return n;
}

static void test_depack_h264_bunny(void **state)
{
    struct fixture *f = *state;
    size_t len, off = 0, total = 0;
    uint8_t *buf = read_file("bunny.rtsp", &len);
    struct rtp_seq seq = {0};
    struct nvr_track_info info;
    int packets = 0, keys = 0, lost = 0;
    uint32_t prev_ts = 0;
    int distinct_ts = 0;

    /* Recreate with the SDP's parameter sets and payload type 97. */
    f->ops->destroy(f->st);
    memset(&f->track, 0, sizeof(f->track));
    f->track.pt = 97;
    f->track.codec = NVR_CODEC_H264;
    f->track.params_len = bunny_sprop(f->track.params, sizeof(f->track.params));
    assert_int_equal(f->track.params_len,
                     8 + sizeof(bunny_sps) + sizeof(bunny_pps));
    assert_int_equal(f->ops->create(&f->track, &f->st), 0);

    while (off + 4 <= len) {
        struct rtp_hdr h;
        size_t n;
        int r;

        assert_int_equal(buf[off], '$');
        n = ((size_t)buf[off + 2] << 8) | buf[off + 3];
        assert_true(off + 4 + n <= len);
        if (buf[off + 1] == 2) {
            assert_int_equal(rtp_parse(buf + off + 4, n, &h), 0);
            r = rtp_seq_update(&seq, &h);
            assert_true(r >= 0);
            if (r == RTP_SEQ_LOSS)
                lost++;
            if (!packets || h.ts != prev_ts)
                distinct_ts++;
            prev_ts = h.ts;
            packets++;
            assert_int_equal(f->ops->push(f->st, &h,
                                          rtp_seq_ts_unwrap(&seq, h.ts),
                                          r == RTP_SEQ_LOSS, collect, f),
                             0);
        }
        off += 4 + n;
    }
    assert_int_equal(off, len);
    free(buf);

    /* 269 packets, 245 timestamps each closed by a marker (counted by
     * hand with a script over the capture too: 245 units, 6 with an IDR,
     * 258 NAL units, 112510 bytes in Annex B). */
    assert_int_equal(packets, 269);
    assert_int_equal(lost, 0);
    assert_int_equal(distinct_ts, 245);
    assert_int_equal(f->n, distinct_ts);
    assert_int_equal(f->aus[0]->flags, NVR_AU_KEY);
    assert_int_equal(f->aus[0]->pts, 0);
    for (int i = 0; i < f->n; i++) {
        if (i > 0)
            assert_true(f->aus[i]->pts > f->aus[i - 1]->pts);
        assert_memory_equal(f->aus[i]->data, "\0\0\0\1", 4);
        assert_int_equal(f->aus[i]->params_gen, 1);
        keys += (f->aus[i]->flags & NVR_AU_KEY) != 0;
        total += f->aus[i]->len;
    }
    assert_int_equal(f->aus[f->n - 1]->pts, 915030);
    assert_int_equal(keys, 6);
    assert_int_equal(total, 112510);
    assert_int_equal(stats(f).aus, 245);
    assert_int_equal(stats(f).aus_dropped, 0);
    assert_int_equal(stats(f).bad_packets, 0);

    f->ops->get_info(f->st, &info);
    assert_int_equal(info.width, 240);
    assert_int_equal(info.height, 160);
    assert_int_equal(info.params_gen, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depack_find),
        cmocka_unit_test_setup_teardown(test_depack_h264_bframes_dts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_depack_h264_single_nal, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_depack_h264_stap_a, setup_no_sprop,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_depack_h264_fu_a, setup, teardown),
        cmocka_unit_test_setup_teardown(test_depack_h264_fu_a_loss, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_depack_h264_loss_between_units,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_depack_h264_marker_on_sps, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_depack_h264_marker_every_slice,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_depack_h264_params_own_timestamp,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_depack_h264_timestamp_ends_unit,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_depack_h264_needs_params,
                                        setup_no_sprop, teardown),
        cmocka_unit_test_setup_teardown(test_depack_h264_params_gen, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_depack_h264_oversized, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_depack_h264_unit_sizing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_depack_h264_fu_a_quirks, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_depack_h264_malformed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_depack_h264_bunny, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
