/* SPDX-License-Identifier: MIT */
/*
 * Tests of ingest/depack_mjpeg.c: a real baseline JPEG (tests/data/
 * testsrc_64x48.jpg, made by `ffmpeg -f lavfi -i testsrc=s=64x48 -frames 1
 * -q 5 -huffman default -pix_fmt yuvj420p`) has its scan split into
 * RFC 2435 fragments with its quantisation table in band (Q=255); the
 * rebuilt JPEG must decode with libavcodec to 64x48 and the very same
 * pixels. Then: Q < 128 tables from the appendix, Q 128..254 tables sent
 * once and reused, the restart marker header (DRI), loss in the middle
 * of a frame (dropped, counted, resync on the next frame), reordered
 * offsets, a frame without its marker, empty fragments and malformed
 * headers.
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
#include <libavcodec/avcodec.h>

#include "ingest/depack.h"
#include "ingest/rtp.h"
#include "ingest/sdp.h"
#include "nvr/base/au.h"

#define MAX_AUS 32
#define FRAG    300

struct fixture {
    struct sdp_track track;
    const struct depack_ops *ops;
    void *st;
    int n;
    struct nvr_au *aus[MAX_AUS];
};

/* The JPEG file and the parts RFC 2435 sends. */
static struct {
    uint8_t *buf;
    size_t len;
    const uint8_t *qt; /* the one DQT table, 64 bytes, zigzag */
    const uint8_t *scan;
    size_t scan_len; /* up to, not including, EOI */
    AVFrame *ref;    /* the file decoded */
} jpg;

static AVFrame *decode(const uint8_t *data, size_t len)
{
    const AVCodec *codec = avcodec_find_decoder(AV_CODEC_ID_MJPEG);
    AVCodecContext *ctx;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *frame = av_frame_alloc();
    int err;

    assert_non_null(codec);
    assert_non_null(pkt);
    assert_non_null(frame);
    ctx = avcodec_alloc_context3(codec);
    assert_non_null(ctx);
    ctx->err_recognition = AV_EF_EXPLODE;
    assert_int_equal(avcodec_open2(ctx, codec, NULL), 0);
    assert_int_equal(av_new_packet(pkt, (int)len), 0);
    memcpy(pkt->data, data, len);
    assert_int_equal(avcodec_send_packet(ctx, pkt), 0);
    err = avcodec_receive_frame(ctx, frame);
    if (err < 0) {
        (void)avcodec_send_packet(ctx, NULL);
        err = avcodec_receive_frame(ctx, frame);
    }
    assert_int_equal(err, 0);
    av_packet_free(&pkt);
    avcodec_free_context(&ctx);
    return frame;
}

static void assert_same_picture(const AVFrame *a, const AVFrame *b)
{
    assert_int_equal(a->width, b->width);
    assert_int_equal(a->height, b->height);
    assert_int_equal(a->format, b->format);
    for (int p = 0; p < 3; p++) {
        int h = p == 0 ? a->height : (a->height + 1) / 2;
        int w = p == 0 ? a->width : (a->width + 1) / 2;

        for (int y = 0; y < h; y++)
            assert_memory_equal(a->data[p] + (ptrdiff_t)y * a->linesize[p],
                                b->data[p] + (ptrdiff_t)y * b->linesize[p],
                                (size_t)w);
    }
}

static int load_jpeg(void **state)
{
    const char *dir = getenv("NVR_TESTDATA_DIR");
    char path[1024];
    FILE *fp;
    long n;
    size_t i = 2;

    (void)state;
    assert_non_null(dir);
    snprintf(path, sizeof(path), "%s/testsrc_64x48.jpg", dir);
    fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    n = ftell(fp);
    rewind(fp);
    jpg.buf = malloc((size_t)n);
    assert_non_null(jpg.buf);
    assert_int_equal(fread(jpg.buf, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    jpg.len = (size_t)n;
    /* Walk the marker segments up to SOS. */
    while (i + 4 <= jpg.len) {
        size_t seg = ((size_t)jpg.buf[i + 2] << 8) | jpg.buf[i + 3];

        assert_int_equal(jpg.buf[i], 0xff);
        if (jpg.buf[i + 1] == 0xdb) {
            assert_int_equal(seg, 67); /* one 8-bit table */
            assert_int_equal(jpg.buf[i + 4], 0);
            jpg.qt = jpg.buf + i + 5;
        } else if (jpg.buf[i + 1] == 0xc0) {
            /* 4:2:0, every component on table 0: RFC 2435 type 1. */
            assert_int_equal(jpg.buf[i + 11], 0x22);
        } else if (jpg.buf[i + 1] == 0xda) {
            jpg.scan = jpg.buf + i + 2 + seg;
            break;
        }
        i += 2 + seg;
    }
    assert_non_null(jpg.qt);
    assert_non_null(jpg.scan);
    assert_memory_equal(jpg.buf + jpg.len - 2, "\xff\xd9", 2);
    jpg.scan_len = (size_t)(jpg.buf + jpg.len - 2 - jpg.scan);
    jpg.ref = decode(jpg.buf, jpg.len);
    assert_int_equal(jpg.ref->width, 64);
    assert_int_equal(jpg.ref->height, 48);
    return 0;
}

static int free_jpeg(void **state)
{
    (void)state;
    av_frame_free(&jpg.ref);
    free(jpg.buf);
    return 0;
}

static void collect(void *user, struct nvr_au *au)
{
    struct fixture *f = user;

    assert_true(f->n < MAX_AUS);
    f->aus[f->n++] = au;
}

static int setup(void **state)
{
    static const char sdp[] = "m=video 0 RTP/AVP 26\r\n"
                              "a=control:trackID=0\r\n";
    struct fixture *f = calloc(1, sizeof(*f));
    struct sdp_session s;

    assert_non_null(f);
    assert_int_equal(sdp_parse(sdp, strlen(sdp), &s), 0);
    f->track = s.tracks[0];
    assert_int_equal(f->track.codec, NVR_CODEC_MJPEG);
    assert_int_equal(f->track.clock_rate, 90000);
    f->ops = depack_find(NVR_CODEC_MJPEG);
    assert_non_null(f->ops);
    assert_string_equal(f->ops->name, "mjpeg");
    assert_int_equal(f->ops->create(&f->track, &f->st), 0);
    *state = f;
    return 0;
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

static int push(struct fixture *f, const void *payload, size_t len, int64_t ts,
                int marker, int lost)
{
    struct rtp_hdr h = {
        .pt = 26,
        .marker = marker,
        .ts = (uint32_t)ts,
        .payload = payload,
        .payload_len = len,
    };

    return f->ops->push(f->st, &h, ts, lost, collect, f);
}

static struct depack_stats stats(struct fixture *f)
{
    struct depack_stats s;

    f->ops->get_stats(f->st, &s);
    return s;
}

struct frame_opts {
    int type;      /* RFC 2435 type */
    int q;         /* Q */
    int qt_tables; /* in-band tables sent: 0 (length 0), 1 or 2 */
    unsigned dri;  /* restart interval, types 64.. */
    int lose;      /* fragment index not sent (the next flagged lost),
                      or -1 */
    int swap;      /* send fragments 1 and 2 in the wrong order */
    int no_marker; /* the last fragment has no marker */
    int empty;     /* an empty packet after the first fragment */
};

/* Sends the JPEG's scan as RFC 2435 fragments of FRAG bytes. */
static void send_frame(struct fixture *f, int64_t ts,
                       const struct frame_opts *o)
{
    uint8_t pkt[FRAG + 300];
    size_t n_frags = (jpg.scan_len + FRAG - 1) / FRAG;
    int lost = 0;

    for (size_t k = 0; k < n_frags; k++) {
        size_t i = k, off, len, h = 0;

        if (o->swap && (k == 1 || k == 2))
            i = k == 1 ? 2 : 1;
        if ((int)i == o->lose) {
            lost = 1;
            continue;
        }
        off = i * FRAG;
        len = jpg.scan_len - off < FRAG ? jpg.scan_len - off : FRAG;
        pkt[h++] = 0;
        pkt[h++] = (uint8_t)(off >> 16);
        pkt[h++] = (uint8_t)(off >> 8);
        pkt[h++] = (uint8_t)off;
        pkt[h++] = (uint8_t)o->type;
        pkt[h++] = (uint8_t)o->q;
        pkt[h++] = 64 / 8;
        pkt[h++] = 48 / 8;
        if (o->type >= 64) {
            pkt[h++] = (uint8_t)(o->dri >> 8);
            pkt[h++] = (uint8_t)o->dri;
            pkt[h++] = 0xff; /* F, L, restart count 0x3fff */
            pkt[h++] = 0xff;
        }
        if (off == 0 && o->q >= 128) {
            pkt[h++] = 0;
            pkt[h++] = 0;
            pkt[h++] = 0;
            pkt[h++] = (uint8_t)(64 * o->qt_tables);
            for (int t = 0; t < o->qt_tables; t++) {
                memcpy(pkt + h, jpg.qt, 64);
                h += 64;
            }
        }
        memcpy(pkt + h, jpg.scan + off, len);
        (void)push(f, pkt, h + len, ts, k == n_frags - 1 && !o->no_marker,
                   lost);
        lost = 0;
        if (o->empty && k == 0)
            assert_int_equal(push(f, "", 0, ts, 0, 0), 0);
    }
}

static const struct frame_opts q255 = {
    .type = 1, .q = 255, .qt_tables = 1, .lose = -1};

/* Finds a marker segment in a rebuilt JPEG; returns its offset or 0. */
static size_t find_marker(const struct nvr_au *au, uint8_t marker)
{
    size_t i = 2;

    while (i + 4 <= au->len && au->data[i] == 0xff) {
        if (au->data[i + 1] == marker)
            return i;
        if (au->data[i + 1] == 0xda)
            break;
        i += 2 + (((size_t)au->data[i + 2] << 8) | au->data[i + 3]);
    }
    return 0;
}

static void test_mjpeg_inband_tables(void **state)
{
    struct fixture *f = *state;
    struct frame_opts two = q255;
    struct nvr_track_info info;
    AVFrame *pic;

    assert_true(jpg.scan_len > (size_t)3 * FRAG);
    send_frame(f, 0, &q255);
    two.qt_tables = 2;
    send_frame(f, 3600, &two);
    assert_int_equal(f->n, 2);
    for (int i = 0; i < 2; i++) {
        const struct nvr_au *au = f->aus[i];

        assert_int_equal(au->flags, NVR_AU_KEY);
        assert_int_equal(au->pts, 3600 * i);
        assert_memory_equal(au->data, "\xff\xd8", 2);
        assert_memory_equal(au->data + au->len - 2, "\xff\xd9", 2);
        /* The scan is carried untouched, right before EOI. */
        assert_memory_equal(au->data + au->len - 2 - jpg.scan_len, jpg.scan,
                            jpg.scan_len);
        assert_int_equal(find_marker(au, 0xdd), 0); /* no DRI */
        pic = decode(au->data, au->len);
        assert_int_equal(pic->width, 64);
        assert_int_equal(pic->height, 48);
        assert_same_picture(pic, jpg.ref);
        av_frame_free(&pic);
    }
    f->ops->get_info(f->st, &info);
    assert_int_equal(info.width, 64);
    assert_int_equal(info.height, 48);
    assert_int_equal(info.params_len, 0);
    assert_int_equal(stats(f).aus, 2);
    assert_int_equal(stats(f).bad_packets, 0);
}

/* Q 1..99: tables computed per RFC 2435 appendix A. Q=50 gives T.81's
 * tables themselves: luma 16, 11, 12, ... in zigzag order. */
static void test_mjpeg_q_tables(void **state)
{
    struct fixture *f = *state;
    struct frame_opts o = q255;
    size_t dqt;
    AVFrame *pic;

    o.q = 50;
    send_frame(f, 0, &o);
    assert_int_equal(f->n, 1);
    dqt = find_marker(f->aus[0], 0xdb);
    assert_true(dqt > 0);
    assert_memory_equal(f->aus[0]->data + dqt + 4, "\x00\x10\x0b\x0c\x0e", 5);
    pic = decode(f->aus[0]->data, f->aus[0]->len);
    assert_int_equal(pic->width, 64);
    assert_int_equal(pic->height, 48);
    av_frame_free(&pic);
    /* Q=10: every entry scaled by 5 (capped at 255). */
    o.q = 10;
    send_frame(f, 3600, &o);
    assert_int_equal(f->n, 2);
    dqt = find_marker(f->aus[1], 0xdb);
    assert_memory_equal(f->aus[1]->data + dqt + 4, "\x00\x50\x37\x3c", 4);
}

/* Q 128..254: the tables come once; later frames send length 0. */
static void test_mjpeg_cached_tables(void **state)
{
    struct fixture *f = *state;
    struct frame_opts o = q255;
    AVFrame *pic;

    o.q = 200;
    o.qt_tables = 0;
    send_frame(f, 0, &o); /* nothing cached yet: dropped */
    assert_int_equal(f->n, 0);
    assert_int_equal(stats(f).aus_dropped, 1);
    o.qt_tables = 1;
    send_frame(f, 3600, &o);
    o.qt_tables = 0;
    send_frame(f, 7200, &o);
    assert_int_equal(f->n, 2);
    assert_int_equal(f->aus[0]->len, f->aus[1]->len);
    assert_memory_equal(f->aus[0]->data, f->aus[1]->data, f->aus[0]->len);
    pic = decode(f->aus[1]->data, f->aus[1]->len);
    assert_same_picture(pic, jpg.ref);
    av_frame_free(&pic);
    /* Another Q has no cached tables. */
    o.q = 201;
    send_frame(f, 10800, &o);
    assert_int_equal(f->n, 2);
}

/* Types 64..127 carry a restart marker header: the interval becomes a
 * DRI segment, the type's low bits choose the sampling. */
static void test_mjpeg_restart_header(void **state)
{
    struct fixture *f = *state;
    struct frame_opts o = q255;
    size_t dri, sof;

    o.type = 65;
    o.dri = 4;
    send_frame(f, 0, &o);
    o.type = 64;
    send_frame(f, 3600, &o);
    assert_int_equal(f->n, 2);
    dri = find_marker(f->aus[0], 0xdd);
    assert_true(dri > 0);
    assert_memory_equal(f->aus[0]->data + dri, "\xff\xdd\x00\x04\x00\x04", 6);
    sof = find_marker(f->aus[0], 0xc0);
    assert_int_equal(f->aus[0]->data[sof + 11], 0x22); /* 4:2:0 */
    sof = find_marker(f->aus[1], 0xc0);
    assert_int_equal(f->aus[1]->data[sof + 11], 0x21); /* 4:2:2 */
}

/* Loss in the middle of a frame drops it (counted); the next frame is
 * whole again. */
static void test_mjpeg_loss_mid_frame(void **state)
{
    struct fixture *f = *state;
    struct frame_opts o = q255;
    AVFrame *pic;

    o.lose = 2;
    send_frame(f, 0, &o);
    assert_int_equal(f->n, 0);
    assert_int_equal(stats(f).aus_dropped, 1);
    send_frame(f, 3600, &q255);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->aus[0]->pts, 3600);
    pic = decode(f->aus[0]->data, f->aus[0]->len);
    assert_same_picture(pic, jpg.ref);
    av_frame_free(&pic);
    /* The first fragment lost: the rest is skipped, counted once. */
    o.lose = 0;
    send_frame(f, 7200, &o);
    assert_int_equal(f->n, 1);
    assert_int_equal(stats(f).aus_dropped, 2);
    send_frame(f, 10800, &q255);
    assert_int_equal(f->n, 2);
}

/* Reordered fragments (no loss flagged) and a frame whose marker never
 * comes are dropped too. */
static void test_mjpeg_reorder_and_no_marker(void **state)
{
    struct fixture *f = *state;
    struct frame_opts o = q255;

    o.swap = 1;
    send_frame(f, 0, &o);
    assert_int_equal(f->n, 0);
    o = q255;
    o.no_marker = 1;
    send_frame(f, 3600, &o);
    send_frame(f, 7200, &q255);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->aus[0]->pts, 7200);
    assert_int_equal(stats(f).aus_dropped, 2);
}

/* Quirk: empty fragments are ignored. */
static void test_mjpeg_quirk_empty_fragments(void **state)
{
    struct fixture *f = *state;
    struct frame_opts o = q255;
    AVFrame *pic;

    o.empty = 1;
    send_frame(f, 0, &o);
    assert_int_equal(f->n, 1);
    pic = decode(f->aus[0]->data, f->aus[0]->len);
    assert_same_picture(pic, jpg.ref);
    av_frame_free(&pic);
    assert_int_equal(stats(f).bad_packets, 0);
}

static void test_mjpeg_malformed(void **state)
{
    struct fixture *f = *state;
    /* off 0, type 2 (undefined), Q 50, 64x48 */
    static const uint8_t bad_type[] = {0, 0, 0, 0, 2, 50, 8, 6, 0xaa};
    static const uint8_t zero_w[] = {0, 0, 0, 0, 1, 50, 0, 6, 0xaa};
    static const uint8_t q0[] = {0, 0, 0, 0, 1, 0, 8, 6, 0xaa};
    static const uint8_t short_hdr[] = {0, 0, 0, 0, 1};
    static const uint8_t short_rst[] = {0, 0, 0, 0, 65, 50, 8, 6, 0, 1};
    /* Q 255 with a table length past the packet. */
    static const uint8_t qt_past[] = {0, 0, 0, 0,   1, 255, 8, 6,
                                      0, 0, 0, 128, 1, 2,   3};
    /* A table header shorter than one table. */
    static const uint8_t qt_short[] = {0, 0, 0, 0, 1, 255, 8,
                                       6, 0, 0, 0, 2, 1,   2};
    struct rtp_hdr h = {.pt = 96, .payload = bad_type, .payload_len = 9};

    assert_int_equal(push(f, bad_type, sizeof(bad_type), 0, 1, 0), -EBADMSG);
    assert_int_equal(push(f, zero_w, sizeof(zero_w), 0, 1, 0), -EBADMSG);
    assert_int_equal(push(f, q0, sizeof(q0), 0, 1, 0), -EBADMSG);
    assert_int_equal(push(f, short_hdr, sizeof(short_hdr), 0, 1, 0), -EBADMSG);
    assert_int_equal(push(f, short_rst, sizeof(short_rst), 0, 1, 0), -EBADMSG);
    assert_int_equal(push(f, qt_past, sizeof(qt_past), 0, 1, 0), -EBADMSG);
    assert_int_equal(push(f, qt_short, sizeof(qt_short), 0, 1, 0), -EBADMSG);
    assert_int_equal(f->ops->push(f->st, &h, 0, 0, collect, f), -EPROTO);
    assert_int_equal(f->n, 0);
    assert_int_equal(stats(f).bad_packets, 8);
    /* Still fine afterwards. */
    send_frame(f, 3600, &q255);
    assert_int_equal(f->n, 1);
    /* A second frame with the same timestamp is refused. */
    send_frame(f, 3600, &q255);
    assert_int_equal(f->n, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mjpeg_inband_tables, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mjpeg_q_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mjpeg_cached_tables, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mjpeg_restart_header, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mjpeg_loss_mid_frame, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mjpeg_reorder_and_no_marker, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mjpeg_quirk_empty_fragments, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mjpeg_malformed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, load_jpeg, free_jpeg);
}
