/* SPDX-License-Identifier: MIT */
/*
 * Tests of ingest/depack_aac.c: the AAC track of a real Wowza session
 * (bunny.rtsp: AAC-hbr, one or two AUs per packet) must give 120 AUs with
 * consecutive timestamps that libavcodec decodes; then hand-built RFC 3640
 * packets: several AUs in one packet, an AU fragmented over three packets,
 * loss or a new timestamp in the middle of a fragmented AU (dropped and
 * counted, then resync), AAC-lbr and constantDuration, the header-less
 * layout, and malformed AU header sections.
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

#define MAX_AUS 256

struct fixture {
    struct sdp_track track;
    const struct depack_ops *ops;
    void *st;
    int n;
    struct nvr_au *aus[MAX_AUS];
    uint16_t seq;
};

/* bunny_describe.txt: a=fmtp:96 profile-level-id=1;mode=AAC-hbr;
 * sizelength=13;indexlength=3;indexdeltalength=3;config=1490 */
static const char bunny_sdp[] =
    "m=audio 0 RTP/AVP 96\r\n"
    "a=rtpmap:96 mpeg4-generic/12000/2\r\n"
    "a=fmtp:96 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;"
    "indexdeltalength=3;config=1490\r\n";

static void collect(void *user, struct nvr_au *au)
{
    struct fixture *f = user;

    assert_true(f->n < MAX_AUS);
    f->aus[f->n++] = au;
}

static int setup_sdp(void **state, const char *sdp)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct sdp_session s;

    assert_non_null(f);
    assert_int_equal(sdp_parse(sdp, strlen(sdp), &s), 0);
    assert_int_equal(s.tracks[0].codec, NVR_CODEC_AAC);
    assert_int_equal(s.tracks[0].recordable, 1);
    f->track = s.tracks[0];
    f->ops = depack_find(NVR_CODEC_AAC);
    assert_non_null(f->ops);
    assert_string_equal(f->ops->name, "aac");
    assert_int_equal(f->ops->create(&f->track, &f->st), 0);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_sdp(state, bunny_sdp);
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
        .pt = (uint8_t)f->track.pt,
        .marker = marker,
        .seq = f->seq++,
        .ts = (uint32_t)ts,
        .ssrc = 1,
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

/* An AAC-hbr packet: 16-bit AU headers (13-bit size, 3-bit index or
 * delta), then the AUs. `sizes` may claim more than is sent (fragments):
 * `data_len` bytes of `data` follow the headers. */
static size_t hbr_packet(uint8_t *out, const size_t *sizes, int n,
                         const uint8_t *data, size_t data_len)
{
    size_t off = 2;

    out[0] = (uint8_t)((16 * n) >> 8);
    out[1] = (uint8_t)(16 * n);
    for (int i = 0; i < n; i++) {
        out[off++] = (uint8_t)(sizes[i] >> 5);
        out[off++] = (uint8_t)(sizes[i] << 3);
    }
    memcpy(out + off, data, data_len);
    return off + data_len;
}

/* Decodes every collected AU with libavcodec's AAC decoder. */
static void assert_decodes(struct fixture *f, int sample_rate, int channels)
{
    const AVCodec *codec = avcodec_find_decoder(AV_CODEC_ID_AAC);
    AVCodecContext *ctx;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *frame = av_frame_alloc();
    struct nvr_track_info info;
    int frames = 0;

    assert_non_null(codec);
    assert_non_null(pkt);
    assert_non_null(frame);
    ctx = avcodec_alloc_context3(codec);
    assert_non_null(ctx);
    memset(&info, 0, sizeof(info));
    f->ops->get_info(f->st, &info);
    ctx->extradata = av_mallocz(info.params_len + AV_INPUT_BUFFER_PADDING_SIZE);
    assert_non_null(ctx->extradata);
    memcpy(ctx->extradata, info.params, info.params_len);
    ctx->extradata_size = (int)info.params_len;
    assert_int_equal(avcodec_open2(ctx, codec, NULL), 0);
    for (int i = 0; i < f->n; i++) {
        assert_int_equal(av_new_packet(pkt, (int)f->aus[i]->len), 0);
        memcpy(pkt->data, f->aus[i]->data, f->aus[i]->len);
        assert_int_equal(avcodec_send_packet(ctx, pkt), 0);
        av_packet_unref(pkt);
        while (avcodec_receive_frame(ctx, frame) == 0) {
            assert_int_equal(frame->sample_rate, sample_rate);
            assert_int_equal(frame->ch_layout.nb_channels, channels);
            assert_int_equal(frame->nb_samples, 1024);
            frames++;
            av_frame_unref(frame);
        }
    }
    assert_true(frames >= f->n - 2); /* decoder delay */
    av_frame_free(&frame);
    av_packet_free(&pkt);
    avcodec_free_context(&ctx);
}

/* Every AAC packet of bunny.rtsp (channel 0) through rtp_parse,
 * rtp_seq_update and the depacketizer. */
static void test_aac_bunny(void **state)
{
    struct fixture *f = *state;
    const char *dir = getenv("NVR_REALCAM_DIR");
    char path[1024];
    uint8_t *buf;
    FILE *fp;
    long n;
    size_t off = 0;
    struct rtp_seq seq;
    struct nvr_track_info info;
    int packets = 0;

    assert_non_null(dir);
    snprintf(path, sizeof(path), "%s/bunny.rtsp", dir);
    fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    n = ftell(fp);
    rewind(fp);
    buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    memset(&seq, 0, sizeof(seq));
    while (off + 4 <= (size_t)n) {
        size_t len = ((size_t)buf[off + 2] << 8) | buf[off + 3];
        struct rtp_hdr h;

        assert_int_equal(buf[off], '$');
        if (buf[off + 1] == 0) {
            int r;

            assert_int_equal(rtp_parse(buf + off + 4, len, &h), 0);
            r = rtp_seq_update(&seq, &h);
            assert_true(r >= 0);
            assert_int_equal(f->ops->push(f->st, &h,
                                          rtp_seq_ts_unwrap(&seq, h.ts),
                                          r == RTP_SEQ_LOSS, collect, f),
                             0);
            packets++;
        }
        off += 4 + len;
    }
    free(buf);
    assert_int_equal(packets, 102);
    assert_int_equal(f->n, 120);
    for (int i = 0; i < f->n; i++) {
        assert_int_equal(f->aus[i]->pts, f->aus[0]->pts + (int64_t)1024 * i);
        assert_int_equal(f->aus[i]->flags, NVR_AU_KEY);
        assert_int_equal(f->aus[i]->track, 0);
        assert_true(f->aus[i]->len >= 300 && f->aus[i]->len < 500);
    }
    assert_int_equal(stats(f).aus, 120);
    assert_int_equal(stats(f).aus_dropped, 0);
    assert_int_equal(stats(f).bad_packets, 0);
    memset(&info, 0, sizeof(info));
    f->ops->get_info(f->st, &info);
    assert_int_equal(info.params_len, 2);
    assert_memory_equal(info.params, "\x14\x90", 2);
    assert_int_equal(info.channels, 2);
    assert_decodes(f, 12000, 2);
}

/* Several AUs in one packet: pts = RTP timestamp + index * 1024. */
static void test_aac_several_aus(void **state)
{
    struct fixture *f = *state;
    uint8_t data[600], pkt[700];
    size_t sizes[3] = {100, 1, 250}, n;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7);
    n = hbr_packet(pkt, sizes, 3, data, 351);
    assert_int_equal(push(f, pkt, n, 5000, 1, 0), 0);
    assert_int_equal(f->n, 3);
    assert_int_equal(f->aus[0]->len, 100);
    assert_memory_equal(f->aus[0]->data, data, 100);
    assert_int_equal(f->aus[1]->len, 1);
    assert_memory_equal(f->aus[1]->data, data + 100, 1);
    assert_int_equal(f->aus[2]->len, 250);
    assert_memory_equal(f->aus[2]->data, data + 101, 250);
    assert_int_equal(f->aus[0]->pts, 5000);
    assert_int_equal(f->aus[1]->pts, 5000 + 1024);
    assert_int_equal(f->aus[2]->pts, 5000 + 2048);
    /* A non-zero AU-Index-delta skips indices (interleaving). */
    n = hbr_packet(pkt, sizes, 2, data, 101);
    pkt[5] |= 2; /* second header: delta 2 */
    assert_int_equal(push(f, pkt, n, 9000, 1, 0), 0);
    assert_int_equal(f->n, 5);
    assert_int_equal(f->aus[4]->pts, 9000 + 3 * 1024);
    /* Packet bytes after the last AU are padding, ignored. */
    n = hbr_packet(pkt, sizes, 1, data, 110);
    assert_int_equal(push(f, pkt, n, 20000, 1, 0), 0);
    assert_int_equal(f->n, 6);
    assert_int_equal(f->aus[5]->len, 100);
    assert_int_equal(stats(f).bad_packets, 0);
}

/* Sends one AU of `size` bytes as three fragments with the same
 * timestamp; `lose` in 1..2 marks that fragment lost (not sent, next
 * flagged), `new_ts` changes the timestamp of the last fragment. */
static void send_fragmented(struct fixture *f, const uint8_t *au, size_t size,
                            int64_t ts, int lose, int new_ts)
{
    uint8_t pkt[2048];
    size_t cut[4] = {0, size / 3, 2 * size / 3, size};
    int lost = 0;

    for (int i = 0; i < 3; i++) {
        size_t n;

        if (lose == i + 1) {
            lost = 1;
            continue;
        }
        n = hbr_packet(pkt, &size, 1, au + cut[i], cut[i + 1] - cut[i]);
        (void)push(f, pkt, n, ts + (new_ts && i == 2 ? 1024 : 0), i == 2, lost);
        lost = 0;
    }
}

static void test_aac_fragmented_au(void **state)
{
    struct fixture *f = *state;
    uint8_t au[1500], pkt[600];
    size_t one = 50, n;

    for (size_t i = 0; i < sizeof(au); i++)
        au[i] = (uint8_t)(i ^ (i >> 8));
    send_fragmented(f, au, sizeof(au), 0, 0, 0);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->aus[0]->len, sizeof(au));
    assert_memory_equal(f->aus[0]->data, au, sizeof(au));
    assert_int_equal(f->aus[0]->pts, 0);
    /* Loss in the middle: the AU is dropped and counted; the next
     * packet, a whole AU, comes through. */
    send_fragmented(f, au, sizeof(au), 1024, 2, 0);
    assert_int_equal(f->n, 1);
    assert_int_equal(stats(f).aus_dropped, 1);
    n = hbr_packet(pkt, &one, 1, au, one);
    assert_int_equal(push(f, pkt, n, 2048, 1, 0), 0);
    assert_int_equal(f->n, 2);
    assert_int_equal(f->aus[1]->pts, 2048);
    /* The first fragment lost: the rest cannot be placed. */
    send_fragmented(f, au, sizeof(au), 3072, 1, 0);
    assert_int_equal(f->n, 2);
    /* A new timestamp before the AU is complete drops it too. */
    send_fragmented(f, au, sizeof(au), 4096, 0, 1);
    assert_int_equal(f->n, 2);
    assert_int_equal(stats(f).aus_dropped, 3);
    /* And a complete one afterwards is fine. */
    send_fragmented(f, au, sizeof(au), 8192, 0, 0);
    assert_int_equal(f->n, 3);
    assert_memory_equal(f->aus[2]->data, au, sizeof(au));
}

/* A fragment's marker bit with bytes still missing drops the AU; more
 * data than the AU size says is a bad packet. */
static void test_aac_fragment_errors(void **state)
{
    struct fixture *f = *state;
    uint8_t au[900] = {0}, pkt[1200];
    size_t size = sizeof(au), small = 300, n;

    n = hbr_packet(pkt, &size, 1, au, 400);
    assert_int_equal(push(f, pkt, n, 0, 0, 0), 0);
    assert_int_equal(push(f, pkt, n, 0, 1, 0), 0); /* 800 of 900, marker */
    assert_int_equal(f->n, 0);
    assert_int_equal(stats(f).aus_dropped, 1);
    n = hbr_packet(pkt, &size, 1, au, 600);
    assert_int_equal(push(f, pkt, n, 1024, 0, 0), 0);
    assert_int_equal(push(f, pkt, n, 1024, 0, 0), -EBADMSG); /* 1200 > 900 */
    assert_int_equal(stats(f).aus_dropped, 2);
    /* A fragment continued by a packet with another AU size. */
    n = hbr_packet(pkt, &size, 1, au, 600);
    assert_int_equal(push(f, pkt, n, 2048, 0, 0), 0);
    n = hbr_packet(pkt, &small, 1, au, 300);
    assert_int_equal(push(f, pkt, n, 2048, 1, 0), -EBADMSG);
    assert_int_equal(f->n, 0);
    assert_int_equal(stats(f).aus_dropped, 3);
    /* A "fragment" that is not alone in its packet is malformed. */
    {
        size_t two[2] = {10, 900};

        n = hbr_packet(pkt, two, 2, au, 500);
        assert_int_equal(push(f, pkt, n, 4096, 1, 0), -EBADMSG);
        assert_int_equal(f->n, 1); /* the first, complete, AU */
    }
}

static void test_aac_malformed(void **state)
{
    struct fixture *f = *state;
    static const uint8_t short1[] = {0};
    static const uint8_t zero_hdr[] = {0, 0, 1, 2, 3};
    static const uint8_t hdr_past_end[] = {0, 64, 0, 8};
    static const uint8_t partial_hdr[] = {0, 12, 0x10, 0xaa, 0xbb};
    uint8_t pkt[64];
    struct rtp_hdr h = {.pt = 50, .payload = short1, .payload_len = 1};

    assert_int_equal(push(f, short1, sizeof(short1), 0, 1, 0), -EBADMSG);
    assert_int_equal(push(f, zero_hdr, sizeof(zero_hdr), 0, 1, 0), -EBADMSG);
    assert_int_equal(push(f, hdr_past_end, sizeof(hdr_past_end), 0, 1, 0),
                     -EBADMSG);
    assert_int_equal(push(f, partial_hdr, sizeof(partial_hdr), 0, 1, 0),
                     -EBADMSG);
    assert_int_equal(f->ops->push(f->st, &h, 0, 0, collect, f), -EPROTO);
    assert_int_equal(push(f, "", 0, 0, 1, 0), 0);
    /* The largest 13-bit size (8191) with a marker: the AU is too short
     * and not a fragment. */
    pkt[0] = 0;
    pkt[1] = 16;
    pkt[2] = 0xff;
    pkt[3] = 0xf8;
    memset(pkt + 4, 0, 8);
    assert_int_equal(push(f, pkt, 12, 0, 1, 0), -EBADMSG);
    assert_int_equal(f->n, 0);
    assert_int_equal(stats(f).bad_packets, 6);
}

/* AAC-lbr with its implied 6/2/2 layout and constantDuration 960. */
static void test_aac_lbr_constant_duration(void **state)
{
    static const char sdp[] =
        "m=audio 0 RTP/AVP 97\r\n"
        "a=rtpmap:97 MPEG4-GENERIC/16000\r\n"
        "a=fmtp:97 mode=AAC-lbr;config=1408;constantDuration=960\r\n";
    struct fixture *f;
    /* Two 8-bit headers: size 3 / index 0, size 2 / delta 0. */
    static const uint8_t pkt[] = {0,   16,  3 << 2, 2 << 2, 'a',
                                  'b', 'c', 'd',    'e'};

    setup_sdp(state, sdp);
    f = *state;
    assert_int_equal(f->track.size_length, 6);
    assert_int_equal(f->track.index_length, 2);
    assert_int_equal(f->track.constant_duration, 960);
    assert_int_equal(push(f, pkt, sizeof(pkt), 100, 1, 0), 0);
    assert_int_equal(f->n, 2);
    assert_memory_equal(f->aus[0]->data, "abc", 3);
    assert_memory_equal(f->aus[1]->data, "de", 2);
    assert_int_equal(f->aus[1]->pts, 100 + 960);
}

/* frameLengthFlag in the AudioSpecificConfig: 960-sample frames. */
static void test_aac_frame_length_flag(void **state)
{
    static const char sdp[] =
        "m=audio 0 RTP/AVP 97\r\n"
        "a=rtpmap:97 MPEG4-GENERIC/48000/2\r\n"
        "a=fmtp:97 mode=AAC-hbr;sizelength=13;indexlength=3;"
        "indexdeltalength=3;config=1194\r\n";
    struct fixture *f;
    uint8_t pkt[64];
    size_t sizes[2] = {4, 4};
    size_t n;

    setup_sdp(state, sdp);
    f = *state;
    n = hbr_packet(pkt, sizes, 2, (const uint8_t *)"12345678", 8);
    assert_int_equal(push(f, pkt, n, 0, 1, 0), 0);
    assert_int_equal(f->n, 2);
    assert_int_equal(f->aus[1]->pts, 960);
}

/* No AU header fields configured: no header section; an AU per packet,
 * or pieces joined until the marker or the next timestamp. */
static void test_aac_no_headers(void **state)
{
    static const char sdp[] = "m=audio 0 RTP/AVP 97\r\n"
                              "a=rtpmap:97 MPEG4-GENERIC/8000\r\n"
                              "a=fmtp:97 config=1588\r\n";
    struct fixture *f;

    setup_sdp(state, sdp);
    f = *state;
    assert_int_equal(push(f, "abc", 3, 0, 1, 0), 0);
    assert_int_equal(push(f, "de", 2, 1024, 0, 0), 0);
    assert_int_equal(push(f, "fg", 2, 1024, 1, 0), 0);
    assert_int_equal(push(f, "hi", 2, 2048, 0, 0), 0);
    assert_int_equal(push(f, "jk", 2, 3072, 1, 0), 0);
    assert_int_equal(f->n, 4);
    assert_memory_equal(f->aus[1]->data, "defg", 4);
    assert_int_equal(f->aus[1]->len, 4);
    assert_memory_equal(f->aus[2]->data, "hi", 2);
    assert_int_equal(f->aus[2]->pts, 2048);
    assert_int_equal(f->aus[3]->pts, 3072);
    /* Loss in the middle of a joined AU drops it, and its tail. */
    assert_int_equal(push(f, "lm", 2, 4096, 0, 0), 0);
    assert_int_equal(push(f, "no", 2, 4096, 1, 1), 0);
    assert_int_equal(push(f, "pq", 2, 5120, 1, 0), 0);
    assert_int_equal(f->n, 5);
    assert_memory_equal(f->aus[4]->data, "pq", 2);
    assert_int_equal(f->aus[4]->pts, 5120);
    assert_int_equal(stats(f).aus_dropped, 1);
}

/* Duplicate timestamps (a resent packet) do not give two units. */
static void test_aac_duplicate_pts(void **state)
{
    struct fixture *f = *state;
    uint8_t pkt[64];
    size_t one = 4, n;

    n = hbr_packet(pkt, &one, 1, (const uint8_t *)"abcd", 4);
    assert_int_equal(push(f, pkt, n, 1024, 1, 0), 0);
    assert_int_equal(push(f, pkt, n, 1024, 1, 0), 0);
    assert_int_equal(push(f, pkt, n, 0, 1, 0), 0);
    assert_int_equal(f->n, 1);
    assert_int_equal(stats(f).aus_dropped, 2);
    /* A big step back is a restart the session handles: kept. */
    assert_int_equal(push(f, pkt, n, -1000000, 1, 0), 0);
    assert_int_equal(f->n, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_aac_bunny, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aac_several_aus, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aac_fragmented_au, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_aac_fragment_errors, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_aac_malformed, setup, teardown),
        cmocka_unit_test_teardown(test_aac_lbr_constant_duration, teardown),
        cmocka_unit_test_teardown(test_aac_frame_length_flag, teardown),
        cmocka_unit_test_teardown(test_aac_no_headers, teardown),
        cmocka_unit_test_setup_teardown(test_aac_duplicate_pts, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
