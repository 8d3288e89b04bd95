/* SPDX-License-Identifier: MIT */
/*
 * Tests of ingest/depack_g711.c: PCMA and PCMU tracks from real camera
 * SDP (static payload type 8 with and without an rtpmap, type 0 without
 * one) give one key unit per packet with its bytes untouched and the RTP
 * timestamp as pts; loss needs no resync; empty, duplicate, foreign and
 * oversized packets are handled.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ingest/depack.h"
#include "ingest/rtp.h"
#include "ingest/sdp.h"
#include "nvr/base/au.h"

#define MAX_AUS 64

struct fixture {
    struct sdp_track track;
    const struct depack_ops *ops;
    void *st;
    int n;
    struct nvr_au *aus[MAX_AUS];
};

static void collect(void *user, struct nvr_au *au)
{
    struct fixture *f = user;

    assert_true(f->n < MAX_AUS);
    f->aus[f->n++] = au;
}

static struct fixture *make(const char *sdp, enum nvr_codec want)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct sdp_session s;

    assert_non_null(f);
    assert_int_equal(sdp_parse(sdp, strlen(sdp), &s), 0);
    f->track = s.tracks[0];
    assert_int_equal(f->track.codec, want);
    assert_int_equal(f->track.recordable, 1);
    f->ops = depack_find(want);
    assert_non_null(f->ops);
    assert_string_equal(f->ops->name, "g711");
    assert_int_equal(f->ops->create(&f->track, &f->st), 0);
    return f;
}

static void destroy(struct fixture *f)
{
    for (int i = 0; i < f->n; i++)
        nvr_au_unref(f->aus[i]);
    f->ops->destroy(f->st);
    free(f);
}

static int push(struct fixture *f, int pt, const void *payload, size_t len,
                int64_t ts, int lost)
{
    struct rtp_hdr h = {
        .pt = (uint8_t)pt,
        .marker = 0,
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

/* dahua_describe_h265_pcma.txt's audio section. */
static void test_g711_pcma(void **state)
{
    struct fixture *f = make("m=audio 0 RTP/AVP 8\r\n"
                             "a=control:trackID=1\r\n"
                             "a=rtpmap:8 PCMA/8000\r\n",
                             NVR_CODEC_PCMA);
    uint8_t samples[320];
    struct nvr_track_info info;

    (void)state;
    for (size_t i = 0; i < sizeof(samples); i++)
        samples[i] = (uint8_t)(0xd5 ^ i);
    assert_int_equal(push(f, 8, samples, 320, 1000, 0), 0);
    assert_int_equal(push(f, 8, samples, 160, 1320, 0), 0);
    /* Loss: the next packet is still whole. */
    assert_int_equal(push(f, 8, samples + 7, 160, 1800, 1), 0);
    assert_int_equal(f->n, 3);
    assert_int_equal(f->aus[0]->len, 320);
    assert_memory_equal(f->aus[0]->data, samples, 320);
    assert_int_equal(f->aus[0]->pts, 1000);
    assert_int_equal(f->aus[1]->pts, 1320);
    assert_int_equal(f->aus[2]->pts, 1800);
    assert_memory_equal(f->aus[2]->data, samples + 7, 160);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(f->aus[i]->flags, NVR_AU_KEY);
        assert_int_equal(f->aus[i]->track, 0);
    }
    memset(&info, 0xff, sizeof(info));
    f->ops->get_info(f->st, &info);
    assert_int_equal(info.channels, 1);
    assert_int_equal(info.params_len, 0);
    assert_int_equal(info.width, 0);
    assert_int_equal(stats(f).aus, 3);
    assert_int_equal(stats(f).aus_dropped, 0);
    destroy(f);
}

/* foscam_describe.txt: "m=audio 0 RTP/AVP 0" and no rtpmap at all. */
static void test_g711_pcmu_static(void **state)
{
    struct fixture *f = make("m=audio 0 RTP/AVP 0\r\n"
                             "a=control:track2\r\n",
                             NVR_CODEC_PCMU);

    (void)state;
    assert_int_equal(f->track.clock_rate, 8000);
    assert_int_equal(push(f, 0, "\xff\x7f", 2, 0, 0), 0);
    assert_int_equal(f->n, 1);
    assert_memory_equal(f->aus[0]->data, "\xff\x7f", 2);
    destroy(f);
}

static void test_g711_stereo(void **state)
{
    struct fixture *f = make("m=audio 0 RTP/AVP 97\r\n"
                             "a=rtpmap:97 PCMU/16000/2\r\n",
                             NVR_CODEC_PCMU);
    struct nvr_track_info info;

    (void)state;
    f->ops->get_info(f->st, &info);
    assert_int_equal(info.channels, 2);
    /* An odd byte count cannot be whole stereo samples. */
    assert_int_equal(push(f, 97, "abc", 3, 0, 0), -EBADMSG);
    assert_int_equal(push(f, 97, "abcd", 4, 0, 0), 0);
    assert_int_equal(f->n, 1);
    destroy(f);
}

static void test_g711_bad_packets(void **state)
{
    struct fixture *f = make("m=audio 0 RTP/AVP 8\r\n", NVR_CODEC_PCMA);
    static uint8_t big[20000];

    (void)state;
    /* Payload type 50 (Geovision) or another track's packets. */
    assert_int_equal(push(f, 50, "ab", 2, 0, 0), -EPROTO);
    /* Empty packets are nothing. */
    assert_int_equal(push(f, 8, "", 0, 0, 0), 0);
    assert_int_equal(push(f, 8, big, sizeof(big), 0, 0), -EBADMSG);
    assert_int_equal(push(f, 8, "ab", 2, 160, 0), 0);
    /* A duplicate timestamp would give two units the same time. */
    assert_int_equal(push(f, 8, "cd", 2, 160, 0), -EPROTO);
    assert_int_equal(f->n, 1);
    assert_int_equal(stats(f).bad_packets, 3);
    assert_int_equal(stats(f).aus_dropped, 2);
    destroy(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_g711_pcma),
        cmocka_unit_test(test_g711_pcmu_static),
        cmocka_unit_test(test_g711_stereo),
        cmocka_unit_test(test_g711_bad_packets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
