/* SPDX-License-Identifier: MIT */
/*
 * Tests of ingest/depack_h265.c: the real clip tests/data/
 * clip_160x120_25fps.h265 is packetized here as single NAL unit packets,
 * aggregation packets and fragmentation units (with and without DONL) and
 * every access unit must come back byte-identical; then the camera
 * quirks (marker bit on parameter sets, empty fragments, FU type changing
 * mid-frame), loss in the middle of a fragmented unit, RASL pictures after
 * resuming at a CRA, parameter sets from the SDP or in band, and
 * malformed packets.
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

#include "ingest/depack.h"
#include "ingest/rtp.h"
#include "ingest/sdp.h"
#include "nvr/base/au.h"

#define MAX_AUS  256
#define MAX_NALS 16
#define CLIP_AUS 50
#define FRAME_TS ((int64_t)3600)

struct nal {
    const uint8_t *p;
    size_t len;
};

struct clip_au {
    int n;
    struct nal nals[MAX_NALS];
    uint8_t want[16384]; /* the unit as Annex B with 4-byte start codes */
    size_t want_len;
    int key;
};

struct clip {
    uint8_t *buf;
    size_t len;
    int n_aus;
    int key2;  /* the second IRAP unit */
    int big_p; /* the largest P unit before key2 (fragmented in tests) */
    struct clip_au aus[CLIP_AUS + 4];
};

struct fixture {
    struct sdp_track track;
    const struct depack_ops *ops;
    void *st;
    int n;
    struct nvr_au *aus[MAX_AUS];
    uint16_t seq;
};

static struct clip clip;
static const uint8_t start_code[4] = {0, 0, 0, 1};

static unsigned nal_type(const uint8_t *nal)
{
    return (nal[0] >> 1) & 0x3f;
}

/* Reads the clip and splits it into access units (7.4.2.4.4: a unit
 * starts at a parameter set, prefix SEI or AUD after a picture, or at a
 * slice segment with first_slice_segment_in_pic_flag set). */
static int load_clip(void **state)
{
    const char *dir = getenv("NVR_TESTDATA_DIR");
    char path[1024];
    FILE *fp;
    long n;
    size_t i = 0, start = SIZE_MAX;
    int seen_vcl = 0;
    struct nal nals[1024];
    int n_nals = 0;

    (void)state;
    assert_non_null(dir);
    snprintf(path, sizeof(path), "%s/clip_160x120_25fps.h265", dir);
    fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    n = ftell(fp);
    assert_true(n > 0);
    rewind(fp);
    clip.buf = malloc((size_t)n);
    assert_non_null(clip.buf);
    assert_int_equal(fread(clip.buf, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    clip.len = (size_t)n;
    while (i + 3 <= clip.len) {
        if (clip.buf[i] == 0 && clip.buf[i + 1] == 0 && clip.buf[i + 2] == 1) {
            if (start != SIZE_MAX) {
                nals[n_nals].p = clip.buf + start;
                nals[n_nals++].len = i - start;
            }
            i += 3;
            start = i;
        } else {
            i++;
        }
    }
    nals[n_nals].p = clip.buf + start;
    nals[n_nals++].len = clip.len - start;
    for (int k = 0; k < n_nals; k++) {
        struct nal *nl = &nals[k];
        unsigned t;
        struct clip_au *au;

        while (nl->len > 0 && nl->p[nl->len - 1] == 0)
            nl->len--;
        t = nal_type(nl->p);
        if (clip.n_aus == 0 || (seen_vcl && ((t >= 32 && t <= 35) || t == 39 ||
                                             (t < 32 && (nl->p[2] & 0x80))))) {
            clip.n_aus++;
            seen_vcl = 0;
        }
        au = &clip.aus[clip.n_aus - 1];
        assert_true(au->n < MAX_NALS);
        au->nals[au->n++] = *nl;
        memcpy(au->want + au->want_len, start_code, 4);
        memcpy(au->want + au->want_len + 4, nl->p, nl->len);
        au->want_len += 4 + nl->len;
        if (t < 32)
            seen_vcl = 1;
        if (t >= 16 && t <= 21)
            au->key = 1;
    }
    assert_int_equal(clip.n_aus, CLIP_AUS);
    clip.big_p = 1;
    for (int k = 1; k < clip.n_aus && !clip.key2; k++) {
        if (clip.aus[k].key)
            clip.key2 = k;
        else if (clip.aus[k].want_len > clip.aus[clip.big_p].want_len)
            clip.big_p = k;
    }
    assert_true(clip.key2 > clip.big_p + 1);
    assert_true(clip.big_p > 1);
    assert_true(clip.aus[clip.big_p].nals[0].len > 80);
    assert_true(clip.aus[0].key);
    assert_int_equal(clip.aus[0].n, 5); /* VPS SPS PPS SEI IDR */
    return 0;
}

static int free_clip(void **state)
{
    (void)state;
    free(clip.buf);
    return 0;
}

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

static int setup_common(void **state, int with_sprop, int don)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->track.pt = 98;
    f->track.codec = NVR_CODEC_H265;
    f->track.clock_rate = 90000;
    f->track.max_don_diff = don;
    if (with_sprop) {
        /* The clip's first unit begins VPS, SPS, PPS. */
        for (int i = 0; i < 3; i++) {
            const struct nal *nl = &clip.aus[0].nals[i];

            memcpy(f->track.params + f->track.params_len, start_code, 4);
            memcpy(f->track.params + f->track.params_len + 4, nl->p, nl->len);
            f->track.params_len += 4 + nl->len;
        }
    }
    f->ops = depack_find(NVR_CODEC_H265);
    assert_non_null(f->ops);
    assert_string_equal(f->ops->name, "h265");
    assert_int_equal(f->ops->create(&f->track, &f->st), 0);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_common(state, 1, 0);
}

static int setup_no_sprop(void **state)
{
    return setup_common(state, 0, 0);
}

static int setup_don(void **state)
{
    return setup_common(state, 0, 2);
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
    struct rtp_hdr h = {
        .pt = (uint8_t)pt,
        .marker = marker,
        .seq = f->seq++,
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
    return push_pt(f, 98, payload, len, ts, marker, lost);
}

static struct depack_stats stats(struct fixture *f)
{
    struct depack_stats s;

    f->ops->get_stats(f->st, &s);
    return s;
}

enum mode { MODE_SINGLE, MODE_FU, MODE_AP };

/* Single NAL unit packet, with a DONL when the track has DON fields. */
static void send_single(struct fixture *f, const struct nal *nl, int64_t ts,
                        int marker)
{
    uint8_t pkt[16384];
    size_t n = 0;

    pkt[n++] = nl->p[0];
    pkt[n++] = nl->p[1];
    if (f->track.max_don_diff) {
        pkt[n++] = (uint8_t)(f->seq >> 8);
        pkt[n++] = (uint8_t)f->seq;
    }
    memcpy(pkt + n, nl->p + 2, nl->len - 2);
    n += nl->len - 2;
    assert_int_equal(push(f, pkt, n, ts, marker, 0), 0);
}

/* FU packets of at most `frag` NAL payload bytes; an empty fragment is
 * put after the first one when `empty` is set. */
static void send_fu(struct fixture *f, const struct nal *nl, size_t frag,
                    int64_t ts, int marker, int empty)
{
    uint8_t pkt[4096];
    size_t off = 2;

    while (off < nl->len) {
        size_t n = nl->len - off < frag ? nl->len - off : frag, h = 0;

        pkt[h++] = (uint8_t)((nl->p[0] & 0x81) | (49 << 1));
        pkt[h++] = nl->p[1];
        pkt[h++] = nal_type(nl->p);
        if (off == 2) {
            pkt[2] |= 0x80;
            if (f->track.max_don_diff) {
                pkt[h++] = 0;
                pkt[h++] = (uint8_t)f->seq;
            }
        }
        if (off + n == nl->len)
            pkt[2] |= 0x40;
        memcpy(pkt + h, nl->p + off, n);
        assert_int_equal(
            push(f, pkt, h + n, ts, marker && off + n == nl->len, 0), 0);
        if (empty && off == 2 && off + n < nl->len) {
            pkt[2] = nal_type(nl->p);
            assert_int_equal(push(f, pkt, 3, ts, 0, 0), 0);
        }
        off += n;
    }
}

/* One aggregation packet of nals[0..count). */
static void send_ap(struct fixture *f, const struct nal *nals, int count,
                    int64_t ts, int marker)
{
    uint8_t pkt[16384];
    size_t n = 0;

    pkt[n++] = 48 << 1;
    pkt[n++] = 1;
    for (int i = 0; i < count; i++) {
        if (f->track.max_don_diff) {
            if (i == 0) {
                pkt[n++] = 0;
                pkt[n++] = (uint8_t)f->seq;
            } else {
                pkt[n++] = 0; /* DOND */
            }
        }
        pkt[n++] = (uint8_t)(nals[i].len >> 8);
        pkt[n++] = (uint8_t)nals[i].len;
        memcpy(pkt + n, nals[i].p, nals[i].len);
        n += nals[i].len;
    }
    assert_int_equal(push(f, pkt, n, ts, marker, 0), 0);
}

static void send_au(struct fixture *f, const struct clip_au *au, enum mode mode,
                    int64_t ts)
{
    int i = 0;

    while (i < au->n) {
        const struct nal *nl = &au->nals[i];
        int last = i == au->n - 1;

        if (mode == MODE_SINGLE) {
            send_single(f, nl, ts, last);
            i++;
        } else if (mode == MODE_FU) {
            if (nl->len < 40)
                send_single(f, nl, ts, last);
            else
                send_fu(f, nl, 97, ts, last, i == 0);
            i++;
        } else {
            /* Small units aggregated, big ones fragmented. */
            int j = i;
            size_t total = 0;

            while (j < au->n && au->nals[j].len < 300 &&
                   total + au->nals[j].len < 1000)
                total += au->nals[j++].len;
            if (j - i >= 2) {
                send_ap(f, au->nals + i, j - i, ts, j == au->n);
                i = j;
            } else if (nl->len >= 300) {
                send_fu(f, nl, 500, ts, last, 0);
                i++;
            } else {
                send_single(f, nl, ts, last);
                i++;
            }
        }
    }
}

static void assert_clip_back(struct fixture *f, int first, int count,
                             int64_t ts0)
{
    assert_int_equal(f->n, count);
    for (int i = 0; i < count; i++) {
        const struct clip_au *want = &clip.aus[first + i];
        const struct nvr_au *au = f->aus[i];

        assert_int_equal(au->len, want->want_len);
        assert_memory_equal(au->data, want->want, want->want_len);
        assert_int_equal(au->pts, ts0 + (int64_t)(first + i) * FRAME_TS);
        assert_int_equal(au->flags, want->key ? NVR_AU_KEY : 0);
    }
}

static void check_info(struct fixture *f)
{
    struct nvr_track_info info;
    size_t n = 0;

    memset(&info, 0, sizeof(info));
    f->ops->get_info(f->st, &info);
    assert_int_equal(info.width, 160);
    assert_int_equal(info.height, 120);
    assert_true(info.params_gen > 0);
    for (int i = 0; i < 3; i++) {
        const struct nal *nl = &clip.aus[0].nals[i];

        assert_memory_equal(info.params + n, "\0\0\0\1", 4);
        assert_memory_equal(info.params + n + 4, nl->p, nl->len);
        n += 4 + nl->len;
    }
    assert_int_equal(info.params_len, n);
}

static void run_clip(void **state, enum mode mode)
{
    struct fixture *f = *state;

    for (int i = 0; i < CLIP_AUS; i++)
        send_au(f, &clip.aus[i], mode, (int64_t)i * FRAME_TS);
    assert_clip_back(f, 0, CLIP_AUS, 0);
    check_info(f);
    assert_int_equal(stats(f).aus, CLIP_AUS);
    assert_int_equal(stats(f).aus_dropped, 0);
    assert_int_equal(stats(f).bad_packets, 0);
}

static void test_h265_clip_single(void **state)
{
    run_clip(state, MODE_SINGLE);
}

static void test_h265_clip_fu(void **state)
{
    run_clip(state, MODE_FU);
}

static void test_h265_clip_ap(void **state)
{
    run_clip(state, MODE_AP);
}

/* sprop-max-don-diff > 0: DONL and DOND fields are skipped. */
static void test_h265_clip_donl(void **state)
{
    run_clip(state, MODE_SINGLE);
    teardown(state);
    setup_don(state);
    run_clip(state, MODE_FU);
    teardown(state);
    setup_don(state);
    run_clip(state, MODE_AP);
}

/* Parameter sets known only from the SDP: the first unit need not carry
 * them, and the units are still complete. */
static void test_h265_sprop_only(void **state)
{
    struct fixture *f = *state;
    struct nvr_track_info info;
    struct clip_au first = clip.aus[0];

    check_info(f);
    f->ops->get_info(f->st, &info);
    assert_int_equal(info.params_gen, 1);
    /* Only SEI and IDR of the first unit. */
    first.n = 2;
    first.nals[0] = clip.aus[0].nals[3];
    first.nals[1] = clip.aus[0].nals[4];
    send_au(f, &first, MODE_FU, 0);
    send_au(f, &clip.aus[1], MODE_FU, FRAME_TS);
    assert_int_equal(f->n, 2);
    assert_int_equal(f->aus[0]->flags, NVR_AU_KEY);
    assert_memory_equal(f->aus[0]->data + 4, clip.aus[0].nals[3].p, 4);
    /* The same parameter sets in band do not count as a change. */
    send_au(f, &clip.aus[clip.key2], MODE_SINGLE, 2 * FRAME_TS);
    f->ops->get_info(f->st, &info);
    assert_int_equal(info.params_gen, 1);
}

/* Without any parameter sets nothing is emitted; once they arrive in band
 * the stream records. */
static void test_h265_needs_params(void **state)
{
    struct fixture *f = *state;
    struct clip_au first = clip.aus[0];

    first.n = 1;
    first.nals[0] = clip.aus[0].nals[4]; /* the IDR alone */
    send_au(f, &first, MODE_SINGLE, 0);
    send_au(f, &clip.aus[1], MODE_SINGLE, FRAME_TS);
    send_au(f, &clip.aus[clip.key2], MODE_SINGLE, clip.key2 * FRAME_TS);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->aus[0]->pts, clip.key2 * FRAME_TS);
    assert_int_equal(f->aus[0]->flags, NVR_AU_KEY);
    assert_int_equal(stats(f).aus_dropped, 2);
}

/* Quirk: the marker bit on VPS/SPS/PPS packets (same timestamp as the
 * picture) must not split the unit. */
static void test_h265_quirk_marker_on_parameter_sets(void **state)
{
    struct fixture *f = *state;
    const struct clip_au *au = &clip.aus[0];

    for (int i = 0; i < 4; i++)
        send_single(f, &au->nals[i], 0, 1);
    send_single(f, &au->nals[4], 0, 1);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->aus[0]->len, au->want_len);
    assert_memory_equal(f->aus[0]->data, au->want, au->want_len);
    /* With their own earlier timestamp they join the next picture. */
    for (int i = 0; i < 3; i++)
        send_single(f, &clip.aus[clip.key2].nals[i], 0 + FRAME_TS / 2, 1);
    send_au(f, &clip.aus[1], MODE_SINGLE, FRAME_TS);
    assert_int_equal(f->n, 2);
    assert_int_equal(f->aus[1]->pts, FRAME_TS);
    assert_int_equal(f->aus[1]->len, clip.aus[1].want_len +
                                         clip.aus[0].nals[0].len +
                                         clip.aus[0].nals[1].len +
                                         clip.aus[0].nals[2].len + 12);
}

/* Quirk: empty packets and empty FU fragments change nothing. */
static void test_h265_quirk_empty_fragments(void **state)
{
    struct fixture *f = *state;

    for (int i = 0; i < 5; i++) {
        assert_int_equal(push(f, "", 0, (int64_t)i * FRAME_TS, 0, 0), 0);
        send_au(f, &clip.aus[i], MODE_FU, (int64_t)i * FRAME_TS);
    }
    assert_clip_back(f, 0, 5, 0);
    assert_int_equal(stats(f).bad_packets, 0);
}

/* Sends the first slice of unit `idx` as three FU fragments; the middle
 * one gets another FU type (`change_type`) or is lost. */
static void send_broken_fu(struct fixture *f, int idx, int change_type)
{
    const struct nal *nl = &clip.aus[idx].nals[0];
    int64_t ts = (int64_t)idx * FRAME_TS;
    uint8_t pkt[256];

    assert_int_equal(clip.aus[idx].n, 1);
    pkt[0] = 49 << 1;
    pkt[1] = nl->p[1];
    pkt[2] = (uint8_t)(0x80 | nal_type(nl->p));
    memcpy(pkt + 3, nl->p + 2, 20);
    assert_int_equal(push(f, pkt, 23, ts, 0, 0), 0);
    if (change_type) {
        pkt[2] = 19; /* IDR_W_RADL now */
        memcpy(pkt + 3, nl->p + 22, 20);
        assert_int_equal(push(f, pkt, 23, ts, 0, 0), -EBADMSG);
    }
    pkt[2] = (uint8_t)(0x40 | nal_type(nl->p));
    memcpy(pkt + 3, nl->p + 42, nl->len - 42);
    /* The rest of a dropped NAL unit is skipped without more errors. */
    assert_int_equal(push(f, pkt, 3 + nl->len - 42, ts, 1, !change_type), 0);
}

/* After unit big_p broke: it and every unit up to key2 are dropped, and
 * key2 onwards come back intact. */
static void finish_broken(struct fixture *f)
{
    int k2 = clip.key2, bp = clip.big_p;

    for (int i = bp + 1; i < CLIP_AUS; i++)
        send_au(f, &clip.aus[i], MODE_FU, (int64_t)i * FRAME_TS);
    assert_int_equal(f->n, bp + (CLIP_AUS - k2));
    for (int i = 0; i < CLIP_AUS - k2; i++) {
        const struct clip_au *want = &clip.aus[k2 + i];

        assert_int_equal(f->aus[bp + i]->len, want->want_len);
        assert_memory_equal(f->aus[bp + i]->data, want->want, want->want_len);
        assert_int_equal(f->aus[bp + i]->pts, (int64_t)(k2 + i) * FRAME_TS);
    }
    assert_int_equal(f->aus[bp]->flags, NVR_AU_KEY);
    assert_int_equal(stats(f).aus_dropped, (uint64_t)(k2 - bp));
}

/* Quirk: the FU type changes mid-frame. The unit is dropped, and so are
 * the units after it up to the next IRAP picture. */
static void test_h265_quirk_fu_type_change(void **state)
{
    struct fixture *f = *state;

    for (int i = 0; i < clip.big_p; i++)
        send_au(f, &clip.aus[i], MODE_FU, (int64_t)i * FRAME_TS);
    send_broken_fu(f, clip.big_p, 1);
    assert_int_equal(f->n, clip.big_p);
    finish_broken(f);
    assert_int_equal(stats(f).bad_packets, 1);
}

/* Loss in the middle of a fragmented unit drops that unit (counted) and
 * everything up to the next IRAP, which comes back intact. */
static void test_h265_loss_mid_fragment(void **state)
{
    struct fixture *f = *state;

    for (int i = 0; i < clip.big_p; i++)
        send_au(f, &clip.aus[i], MODE_FU, (int64_t)i * FRAME_TS);
    send_broken_fu(f, clip.big_p, 0);
    finish_broken(f);
}

/* Loss of a whole unit's first packet (no FU open): the next unit's head
 * is checked, the gap forces waiting for an IRAP. */
static void test_h265_loss_between_units(void **state)
{
    struct fixture *f = *state;

    send_au(f, &clip.aus[0], MODE_SINGLE, 0);
    send_au(f, &clip.aus[1], MODE_SINGLE, FRAME_TS);
    /* Unit 2 lost entirely: unit 3 arrives with lost_before. */
    {
        const struct nal *nl = &clip.aus[3].nals[0];

        assert_int_equal(push(f, nl->p, nl->len, 3 * FRAME_TS, 1, 1), 0);
    }
    send_au(f, &clip.aus[4], MODE_SINGLE, 4 * FRAME_TS);
    assert_int_equal(f->n, 2);
    assert_int_equal(stats(f).aus_dropped, 2);
}

/* A CRA picture where recording (re)starts: its RASL pictures are
 * dropped, RADL and trailing pictures kept. Mid-stream CRA pictures keep
 * their RASL pictures. */
static void test_h265_rasl_after_cra(void **state)
{
    struct fixture *f = *state;
    static const uint8_t cra[] = {21 << 1, 1, 0x80, 0x11, 0x22};
    static const uint8_t rasl[] = {8 << 1, 1, 0x80, 0x33};
    static const uint8_t radl[] = {7 << 1, 1, 0x80, 0x44};
    static const uint8_t trail[] = {1 << 1, 1, 0x80, 0x55};

    assert_int_equal(push(f, cra, sizeof(cra), 0, 1, 0), 0);
    assert_int_equal(push(f, rasl, sizeof(rasl), 100, 1, 0), 0);
    assert_int_equal(push(f, radl, sizeof(radl), 200, 1, 0), 0);
    assert_int_equal(push(f, rasl, sizeof(rasl), 300, 1, 0), 0);
    assert_int_equal(push(f, trail, sizeof(trail), 400, 1, 0), 0);
    assert_int_equal(push(f, cra, sizeof(cra), 500, 1, 0), 0);
    assert_int_equal(push(f, rasl, sizeof(rasl), 600, 1, 0), 0);
    assert_int_equal(f->n, 5);
    assert_int_equal(f->aus[0]->pts, 0);
    assert_int_equal(f->aus[0]->flags, NVR_AU_KEY);
    assert_int_equal(f->aus[1]->pts, 200);
    assert_int_equal(f->aus[2]->pts, 400);
    assert_int_equal(f->aus[3]->pts, 500);
    assert_int_equal(f->aus[3]->flags, NVR_AU_KEY);
    assert_int_equal(f->aus[4]->pts, 600);
    assert_int_equal(stats(f).aus_dropped, 2);
}

/* Quirk "reserved FU bits set": the H.265 FU header has no reserved bit,
 * but the payload header has bits version 1 streams keep at 0 (F and
 * nuh_layer_id). Set ones are not rejected: they are carried into the
 * rebuilt NAL header, as are the temporal id bits. */
static void test_h265_quirk_reserved_fu_bits(void **state)
{
    struct fixture *f = *state;
    static const uint8_t start[] = {(49 << 1) | 0x01, 0x8b, 0x81, 0x80, 0x01};
    static const uint8_t end[] = {(49 << 1) | 0x01, 0x8b, 0x41, 0x02};
    static const uint8_t want[] = {0, 0, 0, 1, 0x03, 0x8b, 0x80, 0x01, 0x02};

    /* Not a keyframe: the unit is only checked by the second IDR path,
     * so feed an IDR first. */
    send_au(f, &clip.aus[0], MODE_SINGLE, 0);
    assert_int_equal(push(f, start, sizeof(start), 10, 0, 0), 0);
    assert_int_equal(push(f, end, sizeof(end), 10, 1, 0), 0);
    assert_int_equal(f->n, 2);
    assert_int_equal(f->aus[1]->len, sizeof(want));
    assert_memory_equal(f->aus[1]->data, want, sizeof(want));
}

/* A suffix SEI (type 40) follows the picture, so a marker on it ends the
 * unit with the SEI inside. */
static void test_h265_marker_on_suffix_sei(void **state)
{
    struct fixture *f = *state;
    static const uint8_t suffix_sei[] = {40 << 1, 1, 0x05, 0x01, 0x80};
    const struct nal *idr = &clip.aus[0].nals[4];

    assert_int_equal(push(f, idr->p, idr->len, 0, 0, 0), 0);
    assert_int_equal(push(f, suffix_sei, sizeof(suffix_sei), 0, 1, 0), 0);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->aus[0]->len, 4 + idr->len + 4 + sizeof(suffix_sei));
    assert_memory_equal(f->aus[0]->data + 8 + idr->len, suffix_sei,
                        sizeof(suffix_sei));
}

/* A new SPS in band replaces the SDP's: params_gen moves on and the
 * picture size follows (x265's 100x50 SPS, see test_h265_sps.c). */
static void test_h265_params_change(void **state)
{
    struct fixture *f = *state;
    static const uint8_t sps_100x50[] = {
        0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00,
        0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x1e, 0xa0, 0x34, 0x83, 0x9d,
        0xc9, 0x96, 0x56, 0x6b, 0x93, 0x2b, 0xc0, 0x5a, 0x02, 0x00, 0x00,
        0x03, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0x32, 0x10};
    static const uint8_t broken_sps[] = {0x42, 0x01, 0x01, 0x01, 0x60};
    struct nvr_track_info info;

    send_au(f, &clip.aus[0], MODE_SINGLE, 0);
    f->ops->get_info(f->st, &info);
    assert_int_equal(info.params_gen, 1);
    /* An SPS whose size cannot be read is not taken. */
    assert_int_equal(push(f, broken_sps, sizeof(broken_sps), FRAME_TS, 0, 0),
                     0);
    assert_int_equal(push(f, sps_100x50, sizeof(sps_100x50), FRAME_TS, 0, 0),
                     0);
    send_single(f, &clip.aus[0].nals[4], FRAME_TS, 1);
    assert_int_equal(f->n, 2);
    assert_int_equal(f->aus[1]->params_gen, 2);
    f->ops->get_info(f->st, &info);
    assert_int_equal(info.params_gen, 2);
    assert_int_equal(info.width, 100);
    assert_int_equal(info.height, 50);
    assert_memory_equal(info.params + 4 + clip.aus[0].nals[0].len + 4,
                        sps_100x50, sizeof(sps_100x50));
}

static void test_h265_malformed(void **state)
{
    struct fixture *f = *state;
    static const uint8_t paci[] = {50 << 1, 1, 0, 0, 0};
    static const uint8_t type60[] = {60 << 1, 1, 0};
    static const uint8_t one[] = {2};
    static const uint8_t fu_short[] = {49 << 1, 1};
    static const uint8_t fu_of_ap[] = {49 << 1, 1, 0x80 | 48, 0};
    static const uint8_t ap_trunc[] = {48 << 1, 1, 0,   2,    0x40,
                                       0x01,    0, 200, 0x02, 0x01};
    static const uint8_t orphan[] = {49 << 1, 1, 0x41, 0x99};
    struct nvr_track_info info;

    assert_int_equal(push_pt(f, 50, paci, sizeof(paci), 0, 0, 0), -EPROTO);
    assert_int_equal(push(f, paci, sizeof(paci), 0, 0, 0), -EBADMSG);
    assert_int_equal(push(f, type60, sizeof(type60), 0, 0, 0), -EBADMSG);
    assert_int_equal(push(f, one, sizeof(one), 0, 0, 0), -EBADMSG);
    assert_int_equal(push(f, fu_short, sizeof(fu_short), 0, 0, 0), -EBADMSG);
    assert_int_equal(push(f, fu_of_ap, sizeof(fu_of_ap), 0, 0, 0), -EBADMSG);
    assert_int_equal(push(f, ap_trunc, sizeof(ap_trunc), 0, 0, 0), -EBADMSG);
    assert_int_equal(push(f, orphan, sizeof(orphan), 0, 1, 0), -EBADMSG);
    assert_int_equal(f->n, 0);
    assert_int_equal(stats(f).bad_packets, 8);
    /* Garbage did not disturb the parameter sets. */
    check_info(f);
    f->ops->get_info(f->st, &info);
    assert_int_equal(info.params_gen, 1);
    /* And the clip still records afterwards. */
    f->ops->destroy(f->st);
    assert_int_equal(f->ops->create(&f->track, &f->st), 0);
    for (int i = 0; i < CLIP_AUS; i++)
        send_au(f, &clip.aus[i], MODE_AP, (int64_t)i * FRAME_TS);
    assert_clip_back(f, 0, CLIP_AUS, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_h265_clip_single, setup_no_sprop,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_h265_clip_fu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_h265_clip_ap, setup_no_sprop,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_h265_clip_donl, setup_don,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_h265_sprop_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_h265_needs_params, setup_no_sprop,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_h265_quirk_marker_on_parameter_sets, setup_no_sprop, teardown),
        cmocka_unit_test_setup_teardown(test_h265_quirk_empty_fragments,
                                        setup_no_sprop, teardown),
        cmocka_unit_test_setup_teardown(test_h265_quirk_fu_type_change,
                                        setup_no_sprop, teardown),
        cmocka_unit_test_setup_teardown(test_h265_loss_mid_fragment,
                                        setup_no_sprop, teardown),
        cmocka_unit_test_setup_teardown(test_h265_loss_between_units,
                                        setup_no_sprop, teardown),
        cmocka_unit_test_setup_teardown(test_h265_rasl_after_cra, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_h265_quirk_reserved_fu_bits,
                                        setup_no_sprop, teardown),
        cmocka_unit_test_setup_teardown(test_h265_marker_on_suffix_sei, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_h265_params_change, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_h265_malformed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, load_clip, free_clip);
}
