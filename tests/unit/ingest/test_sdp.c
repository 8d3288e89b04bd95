/* SPDX-License-Identifier: MIT */
/*
 * Tests of the SDP parser: every real camera SDP in NVR_REALCAM_DIR with
 * each track's expected codec, clock, control and parameter sets (H.264
 * SPS/PPS, H.265 VPS/SPS/PPS, AAC config and AU header layout, PCMA/PCMU),
 * plus synthetic quirks (missing o=, empty fmtp, broken sprop, too many
 * media, static payload types without rtpmap, unusable AAC fmtp).
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

#include "ingest/sdp.h"

/* Reads a realcam file and returns its SDP: the whole file for *_sdp.txt,
 * else everything after the blank line ending the RTSP head. */
static char *read_sdp(const char *name, size_t *len)
{
    const char *dir = getenv("NVR_REALCAM_DIR");
    char path[1024];
    char *buf, *body;
    FILE *f;
    long n;

    assert_non_null(dir);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    body = strstr(buf, "\r\n\r\n");
    if (strstr(name, "_sdp.txt") || body == NULL) {
        *len = (size_t)n;
        return buf;
    }
    body += 4;
    *len = (size_t)(buf + n - body);
    /* Hand back an exact-size copy so ASan sees any overread. */
    {
        char *copy = malloc(*len ? *len : 1);

        assert_non_null(copy);
        memcpy(copy, body, *len);
        free(buf);
        return copy;
    }
}

struct want_track {
    const char *media;
    int pt;
    const char *encoding;
    enum nvr_codec codec;
    int clock_rate;
    int channels;
    const char *control;
    int packetization_mode;
    size_t params_len;
    int recordable;
};

struct want_sdp {
    const char *file;
    const char *control;
    int n_tracks;
    struct want_track tracks[4];
};

#define HIK   "rtsp://192.168.5.106:554/Streaming/Channels/101/"
#define HIK_Q "?transportmode=unicast&profile=Profile_1"

static const struct want_sdp wants[] = {
    {"anjvision_describe.txt",
     "*",
     1,
     {{"video", 96, "H265", NVR_CODEC_H265, 90000, 0, "trackID=1", 0, 82, 1}}},
    {"bunny_describe.txt",
     "*",
     2,
     {{"audio", 96, "mpeg4-generic", NVR_CODEC_AAC, 12000, 2, "trackID=1", 0, 0,
       1},
      {"video", 97, "H264", NVR_CODEC_H264, 90000, 0, "trackID=2", 1, 33, 1}}},
    {"dahua_describe_h264_aac_onvif.txt",
     "*",
     3,
     {{"video", 96, "H264", NVR_CODEC_H264, 90000, 0, "trackID=0", 1, 39, 1},
      {"audio", 97, "MPEG4-GENERIC", NVR_CODEC_AAC, 48000, 1, "trackID=1", 0, 0,
       1},
      {"application", 107, "vnd.onvif.metadata", NVR_CODEC_NONE, 90000, 0,
       "trackID=4", 0, 0, 0}}},
    {"dahua_describe_h265_pcma.txt",
     "*",
     2,
     {{"video", 98, "H265", NVR_CODEC_H265, 90000, 0, "trackID=0", 0, 99, 1},
      {"audio", 8, "PCMA", NVR_CODEC_PCMA, 8000, 1, "trackID=1", 0, 0, 1}}},
    {"foscam_describe.txt",
     "*",
     2,
     {{"video", 96, "H264", NVR_CODEC_H264, 90000, 0, "track1", 1, 22, 1},
      /* Static payload type 0 with no rtpmap at all. */
      {"audio", 0, "", NVR_CODEC_PCMU, 8000, 1, "track2", 0, 0, 1}}},
    {"gw_main_describe.txt",
     "*",
     2,
     {{"video", 96, "H264", NVR_CODEC_H264, 90000, 0, "video", 1, 28, 1},
      /* pt 8 but rtpmap says PCMU: the rtpmap wins. */
      {"audio", 8, "PCMU", NVR_CODEC_PCMU, 8000, 1, "audio", 0, 0, 1}}},
    {"gw_sub_describe.txt",
     "*",
     1,
     {{"video", 96, "H264", NVR_CODEC_H264, 90000, 0, "video", 1, 26, 1}}},
    {"hikvision_describe.txt",
     HIK HIK_Q,
     2,
     {{"video", 96, "H264", NVR_CODEC_H264, 90000, 0, HIK "trackID=1" HIK_Q, 1,
       37, 1},
      {"application", 107, "vnd.onvif.metadata", NVR_CODEC_NONE, 90000, 0,
       HIK "trackID=3" HIK_Q, 0, 0, 0}}},
    {"reolink_describe.txt",
     "*",
     2,
     {{"video", 96, "H264", NVR_CODEC_H264, 90000, 0, "trackID=1", 1, 22, 1},
      {"audio", 97, "MPEG4-GENERIC", NVR_CODEC_AAC, 16000, 1, "trackID=2", 0, 0,
       1}}},
    {"reolink_describe_control_first.txt",
     "*",
     2,
     {{"video", 96, "H264", NVR_CODEC_H264, 90000, 0, "trackID=1", 1, 22, 1},
      {"audio", 97, "MPEG4-GENERIC", NVR_CODEC_AAC, 16000, 1, "trackID=2", 0, 0,
       1}}},
    {"tplink_sdp.txt",
     "",
     3,
     {{"video", 96, "H265", NVR_CODEC_H265, 90000, 0, "track1", 0, 85, 1},
      {"audio", 8, "PCMA", NVR_CODEC_PCMA, 8000, 1, "track2", 0, 0, 1},
      /* "m=application/TP-LINK 0 RTP/AVP smart/1/90000" */
      {"application", -1, "", NVR_CODEC_NONE, 0, 0, "track3", 0, 0, 0}}},
    {"ubiquiti_sdp.txt",
     "*",
     3,
     {{"audio", 96, "mpeg4-generic", NVR_CODEC_AAC, 48000, 1, "trackID=0", 0, 0,
       1},
      {"audio", 96, "opus", NVR_CODEC_NONE, 48000, 2, "trackID=1", 0, 0, 0},
      {"video", 97, "H264", NVR_CODEC_H264, 90000, 0, "trackID=2", 1, 41, 1}}},
    {"vstarcam_describe.txt",
     "",
     2,
     {{"video", 96, "H264", NVR_CODEC_H264, 90000, 0, "track0", 1, 38, 1},
      {"audio", 8, "PCMA", NVR_CODEC_PCMA, 8000, 1, "track1", 0, 0, 1}}},
};

/* Walks Annex B params: every NAL must be behind a 4-byte start code and
 * of an allowed type. Returns the NAL count and stores the types. */
static int check_params(const struct sdp_track *t, int types[8])
{
    size_t i = 0;
    int n = 0;

    while (i < t->params_len) {
        size_t j;

        assert_true(t->params_len - i > 4);
        assert_memory_equal(t->params + i, "\0\0\0\1", 4);
        i += 4;
        j = i;
        while (j + 4 <= t->params_len &&
               memcmp(t->params + j, "\0\0\0\1", 4) != 0)
            j++;
        if (j + 4 > t->params_len)
            j = t->params_len;
        assert_true(n < 8);
        if (t->codec == NVR_CODEC_H264)
            types[n] = t->params[i] & 0x1f;
        else
            types[n] = (t->params[i] >> 1) & 0x3f;
        n++;
        i = j;
    }
    return n;
}

static void check_file(const struct want_sdp *w)
{
    size_t len;
    char *sdp = read_sdp(w->file, &len);
    struct sdp_session s;
    int rc = sdp_parse(sdp, len, &s);

    print_message("# %s\n", w->file);
    if (rc != 0)
        fail_msg("%s: sdp_parse gave %d", w->file, rc);
    assert_string_equal(s.control, w->control);
    assert_int_equal(s.n_tracks, w->n_tracks);
    for (int i = 0; i < w->n_tracks; i++) {
        const struct want_track *wt = &w->tracks[i];
        const struct sdp_track *t = &s.tracks[i];
        int types[8] = {0}, n;

        assert_string_equal(t->media, wt->media);
        assert_int_equal(t->pt, wt->pt);
        assert_string_equal(t->encoding, wt->encoding);
        assert_int_equal(t->codec, wt->codec);
        assert_int_equal(t->clock_rate, wt->clock_rate);
        assert_int_equal(t->channels, wt->channels);
        assert_string_equal(t->control, wt->control);
        assert_int_equal(t->packetization_mode, wt->packetization_mode);
        assert_int_equal(t->params_len, wt->params_len);
        assert_int_equal(t->recordable, wt->recordable);
        n = check_params(t, types);
        if (t->codec == NVR_CODEC_H264 && wt->params_len > 0) {
            assert_int_equal(n, 2);
            assert_int_equal(types[0], 7);
            assert_int_equal(types[1], 8);
        } else if (t->codec == NVR_CODEC_H265) {
            assert_int_equal(n, 3);
            assert_int_equal(types[0], 32);
            assert_int_equal(types[1], 33);
            assert_int_equal(types[2], 34);
        } else {
            assert_int_equal(n, 0);
        }
    }
    free(sdp);
}

static void test_sdp_realcam_files(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(wants) / sizeof(wants[0]); i++)
        check_file(&wants[i]);
}

static void test_sdp_dahua_h265_params(void **state)
{
    /* VPS/SPS/PPS come in the order VPS, SPS, PPS even though the camera
     * sends sprop-sps first; lengths 34, 44 and 9. */
    static const uint8_t head[] = {0, 0, 0, 1, 0x40, 0x01, 0x0c, 0x01};
    size_t len;
    char *sdp = read_sdp("dahua_describe_h265_pcma.txt", &len);
    struct sdp_session s;

    (void)state;
    assert_int_equal(sdp_parse(sdp, len, &s), 0);
    assert_int_equal(s.tracks[0].params_len, 4 + 34 + 4 + 44 + 4 + 9);
    assert_memory_equal(s.tracks[0].params, head, sizeof(head));
    assert_memory_equal(s.tracks[0].params + 38, "\0\0\0\1\x42\x01", 6);
    assert_memory_equal(s.tracks[0].params + 86, "\0\0\0\1\x44\x01", 6);
    assert_string_equal(s.tracks[1].encoding, "PCMA");
    assert_int_equal(s.tracks[1].clock_rate, 8000);
    free(sdp);
}

static int parse_str(const char *text, struct sdp_session *s)
{
    return sdp_parse(text, strlen(text), s);
}

static void test_sdp_quirks(void **state)
{
    /* No o= or s=, LF only, trailing spaces, a=control before rtpmap,
     * several formats on the m= line, an empty fmtp and unknown lines. */
    static const char text[] = "v=0\n"
                               "a=control:rtsp://127.0.0.1/live \n"
                               "m=video 0 RTP/AVP 96 97 98  \n"
                               "a=control:trackID=1\t\n"
                               "a=packetization-supported:DH\n"
                               "a=rtpmap:97 H265/90000\n"
                               "a=rtpmap:96 H264/90000 \n"
                               "a=fmtp:96\n"
                               "x=garbage line\n"
                               "nonsense\n"
                               "m=audio 0 RTP/AVP 0\r\n"
                               "m=video 0 RTP/AVP 26\r\n";
    struct sdp_session s;

    (void)state;
    assert_int_equal(parse_str(text, &s), 0);
    assert_string_equal(s.control, "rtsp://127.0.0.1/live");
    assert_int_equal(s.n_tracks, 3);
    assert_int_equal(s.tracks[0].pt, 96);
    assert_string_equal(s.tracks[0].encoding, "H264");
    assert_int_equal(s.tracks[0].codec, NVR_CODEC_H264);
    assert_int_equal(s.tracks[0].clock_rate, 90000);
    assert_string_equal(s.tracks[0].control, "trackID=1");
    assert_string_equal(s.tracks[0].fmtp, "");
    assert_int_equal(s.tracks[0].params_len, 0);
    assert_int_equal(s.tracks[0].recordable, 1);
    assert_int_equal(s.tracks[1].codec, NVR_CODEC_PCMU);
    assert_int_equal(s.tracks[1].clock_rate, 8000);
    assert_int_equal(s.tracks[1].channels, 1);
    assert_string_equal(s.tracks[1].control, "");
    assert_int_equal(s.tracks[2].codec, NVR_CODEC_MJPEG);
    assert_int_equal(s.tracks[2].clock_rate, 90000);
    assert_int_equal(s.tracks[2].recordable, 1);
}

static void test_sdp_sprop_invalid(void **state)
{
    /* Invalid base64, a non-SPS/PPS NAL (SEI, type 6: "BgUA") and a good
     * SPS/PPS pair: only the good ones are kept. */
    static const char mixed[] =
        "m=video 0 RTP/AVP 96\r\n"
        "a=rtpmap:96 H264/90000\r\n"
        "a=fmtp:96 packetization-mode=1;sprop-parameter-sets=!!!notb64,"
        "BgUA,Z00AH5WoFAFuQA==,aO48gA==\r\n";
    static const char all_bad[] =
        "m=video 0 RTP/AVP 96\r\n"
        "a=rtpmap:96 H264/90000\r\n"
        "a=fmtp:96 sprop-parameter-sets=%%%,BgUA,\r\n";
    struct sdp_session s;

    (void)state;
    assert_int_equal(parse_str(mixed, &s), 0);
    assert_int_equal(s.tracks[0].params_len, 4 + 10 + 4 + 4);
    assert_memory_equal(s.tracks[0].params, "\0\0\0\1\x67", 5);
    assert_memory_equal(s.tracks[0].params + 14, "\0\0\0\1\x68", 5);
    assert_int_equal(s.tracks[0].packetization_mode, 1);
    assert_int_equal(parse_str(all_bad, &s), 0);
    assert_int_equal(s.tracks[0].params_len, 0);
    assert_int_equal(s.tracks[0].recordable, 1);
}

static void test_sdp_sprop_annexb(void **state)
{
    /* One base64 value holding "00 00 00 01 SPS 00 00 00 01 PPS": Annex B
     * inside the sprop. "AAAAAWdNAB+VqBQBbkAAAAABaO48gA==" */
    static const char text[] =
        "m=video 0 RTP/AVP 96\r\n"
        "a=rtpmap:96 H264/90000\r\n"
        "a=fmtp:96 sprop-parameter-sets=AAAAAWdNAB+VqBQBbkAAAAABaO48gA==\r\n";
    struct sdp_session s;

    (void)state;
    assert_int_equal(parse_str(text, &s), 0);
    assert_int_equal(s.tracks[0].params_len, 4 + 10 + 4 + 4);
    assert_memory_equal(s.tracks[0].params,
                        "\0\0\0\1\x67\x4d\x00\x1f\x95\xa8\x14\x01\x6e\x40"
                        "\0\0\0\1\x68\xee\x3c\x80",
                        22);
}

static void test_sdp_too_many_tracks(void **state)
{
    char text[2048];
    size_t n = 0;
    struct sdp_session s;

    (void)state;
    for (int i = 0; i < SDP_MAX_TRACKS + 3; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n,
                              "m=audio 0 RTP/AVP 8\r\na=control:t%d\r\n", i);
    assert_int_equal(sdp_parse(text, n, &s), 0);
    assert_int_equal(s.n_tracks, SDP_MAX_TRACKS);
    assert_string_equal(s.tracks[SDP_MAX_TRACKS - 1].control, "t7");
}

static void test_sdp_errors(void **state)
{
    struct sdp_session s;
    char *big;

    (void)state;
    assert_int_equal(parse_str("", &s), -EBADMSG);
    assert_int_equal(parse_str("v=0\r\ns=x\r\n", &s), -EBADMSG);
    assert_int_equal(parse_str("m=\r\n", &s), -EBADMSG);
    big = calloc(1, (size_t)SDP_MAX_BYTES + 1);
    assert_non_null(big);
    memcpy(big, "m=video 0 RTP/AVP 96\n", 21);
    assert_int_equal(sdp_parse(big, (size_t)SDP_MAX_BYTES + 1, &s), -EMSGSIZE);
    /* NUL bytes inside do not stop the scan or break it. */
    assert_int_equal(sdp_parse(big, (size_t)SDP_MAX_BYTES, &s), 0);
    assert_int_equal(s.n_tracks, 1);
    free(big);
}

/* The codec parameters beyond H.264 from real cameras: Dahua H.265 +
 * PCMA and H.264 + AAC + ONVIF metadata, Reolink, Ubiquiti and Wowza
 * AAC (config, AU header layout), TP-Link H.265. */
static void test_sdp_codec_params(void **state)
{
    size_t len;
    char *sdp;
    struct sdp_session s;
    const struct sdp_track *t;

    (void)state;
    sdp = read_sdp("dahua_describe_h265_pcma.txt", &len);
    assert_int_equal(sdp_parse(sdp, len, &s), 0);
    t = &s.tracks[0];
    assert_int_equal(t->codec, NVR_CODEC_H265);
    assert_int_equal(t->max_don_diff, 0);
    /* VPS (34 bytes), SPS (44), PPS (9), in that order. */
    assert_int_equal(t->params_len, 4 + 34 + 4 + 44 + 4 + 9);
    assert_memory_equal(t->params + 4, "\x40\x01\x0c\x01\xff\xff", 6);
    assert_memory_equal(t->params + 38 + 4, "\x42\x01\x01\x01\x60", 5);
    assert_memory_equal(t->params + 86 + 4,
                        "\x44\x01\xc0\xf2\xc6\x8d\x03\xb3\x40", 9);
    t = &s.tracks[1];
    assert_int_equal(t->codec, NVR_CODEC_PCMA);
    assert_int_equal(t->pt, 8);
    assert_int_equal(t->clock_rate, 8000);
    assert_int_equal(t->channels, 1);
    assert_int_equal(t->recordable, 1);
    assert_int_equal(t->config_len, 0);
    free(sdp);

    sdp = read_sdp("dahua_describe_h264_aac_onvif.txt", &len);
    assert_int_equal(sdp_parse(sdp, len, &s), 0);
    t = &s.tracks[1];
    assert_int_equal(t->codec, NVR_CODEC_AAC);
    assert_int_equal(t->clock_rate, 48000);
    assert_int_equal(t->channels, 1);
    assert_int_equal(t->config_len, 2);
    assert_memory_equal(t->config, "\x11\x88", 2);
    assert_string_equal(t->mode, "AAC-hbr");
    assert_int_equal(t->size_length, 13);
    assert_int_equal(t->index_length, 3);
    assert_int_equal(t->index_delta_length, 3);
    assert_int_equal(t->cts_delta_length, 0);
    assert_int_equal(t->constant_duration, 0);
    assert_int_equal(t->recordable, 1);
    t = &s.tracks[2];
    assert_string_equal(t->encoding, "vnd.onvif.metadata");
    assert_int_equal(t->codec, NVR_CODEC_NONE);
    assert_int_equal(t->recordable, 0);
    free(sdp);

    /* "config=1408; profile=1;": spaces and a trailing ';'. */
    sdp = read_sdp("reolink_describe.txt", &len);
    assert_int_equal(sdp_parse(sdp, len, &s), 0);
    assert_int_equal(s.tracks[1].config_len, 2);
    assert_memory_equal(s.tracks[1].config, "\x14\x08", 2);
    assert_int_equal(s.tracks[1].size_length, 13);
    free(sdp);

    /* "SizeLength=13; IndexLength=3;": any case. */
    sdp = read_sdp("ubiquiti_sdp.txt", &len);
    assert_int_equal(sdp_parse(sdp, len, &s), 0);
    assert_memory_equal(s.tracks[0].config, "\x11\x88", 2);
    assert_int_equal(s.tracks[0].size_length, 13);
    assert_int_equal(s.tracks[0].index_delta_length, 3);
    assert_int_equal(s.tracks[1].recordable, 0); /* opus */
    free(sdp);

    sdp = read_sdp("bunny_describe.txt", &len);
    assert_int_equal(sdp_parse(sdp, len, &s), 0);
    assert_memory_equal(s.tracks[0].config, "\x14\x90", 2);
    assert_int_equal(s.tracks[0].channels, 2);
    free(sdp);

    sdp = read_sdp("tplink_sdp.txt", &len);
    assert_int_equal(sdp_parse(sdp, len, &s), 0);
    assert_int_equal(s.tracks[0].codec, NVR_CODEC_H265);
    assert_memory_equal(s.tracks[0].params + 4, "\x40\x01", 2);
    assert_int_equal(s.tracks[1].codec, NVR_CODEC_PCMA);
    free(sdp);
}

static void test_sdp_h265_don(void **state)
{
    static const char text[] =
        "m=video 0 RTP/AVP 96\r\n"
        "a=rtpmap:96 H265/90000\r\n"
        "a=fmtp:96 sprop-max-don-diff=2;sprop-depack-buf-nalus=3\r\n";
    struct sdp_session s;

    (void)state;
    assert_int_equal(parse_str(text, &s), 0);
    assert_int_equal(s.tracks[0].max_don_diff, 2);
    assert_int_equal(s.tracks[0].params_len, 0);
    assert_int_equal(s.tracks[0].recordable, 1);
}

/* AAC tracks the depacketizer cannot handle are not recordable; the
 * AAC-lbr and AAC-hbr layouts are implied when sizelength is absent. */
static void test_sdp_aac_fmtp(void **state)
{
    static const char *const bad[] = {
        /* no config: no AudioSpecificConfig for the recording */
        "a=fmtp:97 mode=AAC-hbr;sizelength=13\r\n",
        /* not whole hex bytes, not hex */
        "a=fmtp:97 mode=AAC-hbr;config=141\r\n",
        "a=fmtp:97 mode=AAC-hbr;config=14zz\r\n",
        /* a mode that is not AAC */
        "a=fmtp:97 mode=CELP-cbr;config=1408\r\n",
        /* field lengths out of range */
        "a=fmtp:97 mode=AAC-hbr;config=1408;sizelength=99\r\n",
        "a=fmtp:97 config=1408;indexlength=-1\r\n",
        "a=fmtp:97 config=1408;constantduration=x\r\n",
    };
    char text[512], long_config[256];
    struct sdp_session s;
    size_t n;

    (void)state;
    /* A config longer than any AudioSpecificConfig is refused. */
    n = (size_t)snprintf(long_config, sizeof(long_config), "a=fmtp:97 config=");
    for (int i = 0; i <= SDP_MAX_CONFIG_BYTES; i++)
        n += (size_t)snprintf(long_config + n, sizeof(long_config) - n, "14");
    assert_true(n < sizeof(long_config) - 3);
    memcpy(long_config + n, "\r\n", 3);
    snprintf(text, sizeof(text),
             "m=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/16000\r\n%s",
             long_config);
    assert_int_equal(parse_str(text, &s), 0);
    assert_int_equal(s.tracks[0].recordable, 0);
    assert_int_equal(s.tracks[0].config_len, 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(
            text, sizeof(text),
            "m=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/16000\r\n%s",
            bad[i]);
        assert_int_equal(parse_str(text, &s), 0);
        if (s.tracks[0].recordable)
            fail_msg("recordable: %s", bad[i]);
        /* Values that did not parse are left 0, never negative. */
        assert_true(s.tracks[0].index_length >= 0);
        assert_true(s.tracks[0].constant_duration >= 0);
        assert_int_equal(s.tracks[0].codec, NVR_CODEC_AAC);
    }
    assert_int_equal(
        parse_str("m=audio 0 RTP/AVP 97\r\n"
                  "a=rtpmap:97 MPEG4-GENERIC/16000/2\r\n"
                  "a=fmtp:97 mode=aac-lbr;config=1410;constantDuration=960;"
                  "ctsdeltalength=4;randomaccessindication=1\r\n",
                  &s),
        0);
    assert_int_equal(s.tracks[0].recordable, 1);
    assert_int_equal(s.tracks[0].channels, 2);
    assert_int_equal(s.tracks[0].size_length, 6);
    assert_int_equal(s.tracks[0].index_length, 2);
    assert_int_equal(s.tracks[0].index_delta_length, 2);
    assert_int_equal(s.tracks[0].constant_duration, 960);
    assert_int_equal(s.tracks[0].cts_delta_length, 4);
    assert_int_equal(s.tracks[0].random_access_indication, 1);
    /* An AAC fmtp on a video section is not AAC. */
    assert_int_equal(parse_str("m=video 0 RTP/AVP 97\r\n"
                               "a=rtpmap:97 MPEG4-GENERIC/90000\r\n"
                               "a=fmtp:97 config=1408\r\n",
                               &s),
                     0);
    assert_int_equal(s.tracks[0].codec, NVR_CODEC_NONE);
}

/* Static payload types without an rtpmap (RFC 3551 table 4/5). */
static void test_sdp_static_payload_types(void **state)
{
    static const char text[] = "m=audio 0 RTP/AVP 8\r\n"
                               "m=audio 0 RTP/AVP 0\r\n"
                               "m=video 0 RTP/AVP 26\r\n"
                               "m=video 0 RTP/AVP 32\r\n"
                               "m=audio 0 RTP/AVP 97\r\n";
    struct sdp_session s;

    (void)state;
    assert_int_equal(parse_str(text, &s), 0);
    assert_int_equal(s.n_tracks, 5);
    assert_int_equal(s.tracks[0].codec, NVR_CODEC_PCMA);
    assert_int_equal(s.tracks[0].clock_rate, 8000);
    assert_int_equal(s.tracks[0].channels, 1);
    assert_int_equal(s.tracks[0].recordable, 1);
    assert_int_equal(s.tracks[1].codec, NVR_CODEC_PCMU);
    assert_int_equal(s.tracks[1].recordable, 1);
    assert_int_equal(s.tracks[2].codec, NVR_CODEC_MJPEG);
    assert_int_equal(s.tracks[2].clock_rate, 90000);
    assert_int_equal(s.tracks[2].channels, 0);
    assert_int_equal(s.tracks[2].recordable, 1);
    /* MPV (32) is known but not recorded; 97 without rtpmap is unknown. */
    assert_int_equal(s.tracks[3].recordable, 0);
    assert_int_equal(s.tracks[4].codec, NVR_CODEC_NONE);
    assert_int_equal(s.tracks[4].recordable, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sdp_realcam_files),
        cmocka_unit_test(test_sdp_dahua_h265_params),
        cmocka_unit_test(test_sdp_quirks),
        cmocka_unit_test(test_sdp_sprop_invalid),
        cmocka_unit_test(test_sdp_sprop_annexb),
        cmocka_unit_test(test_sdp_too_many_tracks),
        cmocka_unit_test(test_sdp_errors),
        cmocka_unit_test(test_sdp_codec_params),
        cmocka_unit_test(test_sdp_h265_don),
        cmocka_unit_test(test_sdp_aac_fmtp),
        cmocka_unit_test(test_sdp_static_payload_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
