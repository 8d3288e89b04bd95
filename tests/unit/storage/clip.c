/* SPDX-License-Identifier: MIT */
/*
 * Test helpers shared by the storage tests (see clip.h).
 */
#include "config.h"
#include "clip.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/mathematics.h>
#include <libavutil/sha.h>

#define CLIP_FILE_H264 "clip_160x120_25fps.h264"
#define CLIP_FILE_H265 "clip_160x120_25fps.h265"
#define CLIP_MAX_BYTES ((size_t)1024 * 1024)

/* Offset and length of the next NAL unit payload (after its start code)
 * at or after *pos; returns 0 when there is none. */
static int next_nal(const uint8_t *b, size_t len, size_t *pos, size_t *nal,
                    size_t *nal_len)
{
    size_t i = *pos, start;

    while (i + 3 <= len && !(b[i] == 0 && b[i + 1] == 0 && b[i + 2] == 1))
        i++;
    if (i + 3 > len)
        return 0;
    start = i + 3;
    i = start;
    while (i + 3 <= len && !(b[i] == 0 && b[i + 1] == 0 && b[i + 2] == 1))
        i++;
    if (i + 3 > len)
        i = len;
    *nal = start;
    *nal_len = i - start;
    /* A 4-byte start code's leading zero belongs to the next one. */
    while (*nal_len > 0 && b[start + *nal_len - 1] == 0)
        (*nal_len)--;
    *pos = i;
    return 1;
}

static void append(uint8_t **buf, size_t *len, const uint8_t *nal, size_t n)
{
    static const uint8_t sc[4] = {0, 0, 0, 1};

    *buf = realloc(*buf, *len + 4 + n);
    assert_non_null(*buf);
    memcpy(*buf + *len, sc, 4);
    memcpy(*buf + *len + 4, nal, n);
    *len += 4 + n;
}

/* NAL unit classes of both codecs (H.264 7.4.1.2, H.265 7.4.2.2). */
struct nal_class {
    bool param;       /* SPS/PPS (and VPS): goes to the stream params */
    bool first_slice; /* the first slice of a picture: ends an AU */
    bool key;         /* IDR / IRAP */
};

static struct nal_class classify(enum nvr_codec codec, const uint8_t *nal,
                                 size_t len)
{
    struct nal_class k = {0};

    if (codec == NVR_CODEC_H264) {
        int type = nal[0] & 0x1f;
        k.param = type == 7 || type == 8;
        /* first_mb_in_slice == 0 is a leading 1 bit in ue(v). */
        k.first_slice = (type == 1 || type == 5) && len > 1 && (nal[1] & 0x80);
        k.key = type == 5;
    } else {
        int type = (nal[0] >> 1) & 0x3f;
        k.param = type >= 32 && type <= 34;
        /* first_slice_segment_in_pic_flag is the first bit after the
         * two-byte header. */
        k.first_slice = type <= 31 && len > 2 && (nal[2] & 0x80);
        k.key = type >= 16 && type <= 23;
    }
    return k;
}

void clip_load_codec(struct clip *c, enum nvr_codec codec)
{
    const char *dir = getenv("NVR_TESTDATA_DIR");
    char path[1024];
    uint8_t *b = malloc(CLIP_MAX_BYTES);
    uint8_t *pending = NULL;
    size_t pending_len = 0, len, pos = 0, nal, nal_len;
    bool in_params = true;
    FILE *f;

    memset(c, 0, sizeof(*c));
    assert_non_null(b);
    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/data",
             codec == NVR_CODEC_H264 ? CLIP_FILE_H264 : CLIP_FILE_H265);
    f = fopen(path, "rb");
    assert_non_null(f);
    len = fread(b, 1, CLIP_MAX_BYTES, f);
    fclose(f);

    c->track.codec = codec;
    c->track.clock_rate = 90000;
    c->track.width = 160;
    c->track.height = 120;
    c->track.params_gen = 1;
    while (next_nal(b, len, &pos, &nal, &nal_len)) {
        struct nal_class k;
        if (nal_len < 3)
            continue;
        k = classify(codec, b + nal, nal_len);
        /* The stream params are the parameter sets before the first
         * picture, as an SDP would carry them. */
        if (k.param && in_params) {
            assert_true(c->track.params_len + 4 + nal_len <=
                        sizeof(c->track.params));
            memcpy(c->track.params + c->track.params_len, "\0\0\0\1", 4);
            memcpy(c->track.params + c->track.params_len + 4, b + nal, nal_len);
            c->track.params_len += 4 + nal_len;
        }
        append(&pending, &pending_len, b + nal, nal_len);
        /* One slice per picture in these clips. */
        if (k.first_slice) {
            in_params = false;
            assert_true(c->n < CLIP_MAX_AUS);
            c->aus[c->n].data = pending;
            c->aus[c->n].len = pending_len;
            c->aus[c->n].key = k.key;
            c->n++;
            pending = NULL;
            pending_len = 0;
        }
    }
    free(pending);
    free(b);
    assert_true(c->track.params_len > 0);
    assert_true(c->n >= 2 * CLIP_FPS);
    assert_true(c->aus[0].key);
    assert_true(c->aus[CLIP_FPS].key);
    assert_false(c->aus[1].key);
}

void clip_load(struct clip *c)
{
    clip_load_codec(c, NVR_CODEC_H264);
}

void clip_free(struct clip *c)
{
    for (int i = 0; i < c->n; i++)
        free(c->aus[i].data);
    c->n = 0;
}

struct nvr_au *clip_au(const struct clip *c, int i, int64_t pts,
                       int64_t wall_us, uint32_t extra_flags)
{
    const struct clip_au *a = &c->aus[i % c->n];
    struct nvr_au *au;

    assert_int_equal(nvr_au_new(a->len, &au), 0);
    assert_int_equal(nvr_au_append(&au, a->data, a->len), 0);
    au->track = 0;
    au->pts = pts;
    au->dts = pts;
    au->wall_us = wall_us;
    au->params_gen = c->track.params_gen;
    au->flags = (a->key ? NVR_AU_KEY : 0) | extra_flags;
    return au;
}

void probe_file(const char *path, struct probe *p)
{
    AVFormatContext *fmt = NULL;
    AVPacket *pkt = av_packet_alloc();
    int vs = -1;
    int64_t ticks = 0;

    memset(p, 0, sizeof(*p));
    if (!pkt || avformat_open_input(&fmt, path, NULL, NULL) < 0)
        goto out;
    /* No avformat_find_stream_info(): codec and size must come from the
     * MP4 sample entry itself, as a player reads them. */
    vs = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (vs < 0)
        goto out;
    p->ok = 1;
    snprintf(p->codec, sizeof(p->codec), "%s",
             avcodec_get_name(fmt->streams[vs]->codecpar->codec_id));
    p->width = fmt->streams[vs]->codecpar->width;
    p->height = fmt->streams[vs]->codecpar->height;
    while (av_read_frame(fmt, pkt) >= 0) {
        if (pkt->stream_index == vs) {
            if (p->frames == 0)
                p->first_key = !!(pkt->flags & AV_PKT_FLAG_KEY);
            p->frames++;
            ticks += pkt->duration;
        }
        av_packet_unref(pkt);
    }
    /* The demuxer guesses the duration of a fragment's last packet from
     * the frame rate, but the stream's duration is the sum of the sample
     * durations stored in the file: what ffprobe reports. */
    if (fmt->streams[vs]->duration > 0)
        ticks = fmt->streams[vs]->duration;
    p->duration_us =
        av_rescale_q(ticks, fmt->streams[vs]->time_base, AV_TIME_BASE_Q);
out:
    av_packet_free(&pkt);
    avformat_close_input(&fmt);
}

static int drain_frames(AVCodecContext *dec, AVFrame *frame, int *n)
{
    int r;

    while ((r = avcodec_receive_frame(dec, frame)) >= 0) {
        if (!frame->decode_error_flags)
            (*n)++;
        av_frame_unref(frame);
    }
    return r == AVERROR(EAGAIN) || r == AVERROR_EOF ? 0 : r;
}

int decode_file(const char *path)
{
    AVFormatContext *fmt = NULL;
    AVCodecContext *dec = NULL;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *frame = av_frame_alloc();
    const AVCodec *codec;
    int vs, n = 0, r = -1;

    if (!pkt || !frame || avformat_open_input(&fmt, path, NULL, NULL) < 0)
        goto out;
    vs = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (vs < 0)
        goto out;
    codec = avcodec_find_decoder(fmt->streams[vs]->codecpar->codec_id);
    dec = avcodec_alloc_context3(codec);
    if (!codec || !dec ||
        avcodec_parameters_to_context(dec, fmt->streams[vs]->codecpar) < 0 ||
        avcodec_open2(dec, codec, NULL) < 0)
        goto out;
    while (av_read_frame(fmt, pkt) >= 0) {
        if (pkt->stream_index == vs) {
            r = avcodec_send_packet(dec, pkt);
            if (r >= 0)
                r = drain_frames(dec, frame, &n);
            if (r < 0) {
                av_packet_unref(pkt);
                goto out;
            }
        }
        av_packet_unref(pkt);
    }
    r = avcodec_send_packet(dec, NULL);
    if (r >= 0)
        r = drain_frames(dec, frame, &n);
    if (r >= 0)
        r = n;
out:
    avcodec_free_context(&dec);
    av_frame_free(&frame);
    av_packet_free(&pkt);
    avformat_close_input(&fmt);
    return r;
}

int sha256_file(const char *path, char out[65])
{
    struct AVSHA *sha = av_sha_alloc();
    uint8_t buf[65536], digest[32];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || !sha) {
        av_free(sha);
        if (fd >= 0)
            close(fd);
        return -ENOENT;
    }
    av_sha_init(sha, 256);
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        av_sha_update(sha, buf, (size_t)n);
    close(fd);
    av_sha_final(sha, digest);
    av_free(sha);
    for (size_t i = 0; i < sizeof(digest); i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
    return 0;
}

int64_t file_size(const char *path)
{
    struct stat st;

    return stat(path, &st) < 0 ? -1 : (int64_t)st.st_size;
}

char *make_tmpdir(void)
{
    char tmpl[] = "/tmp/nvr-storage-test-XXXXXX";
    char *d = mkdtemp(tmpl);

    assert_non_null(d);
    d = strdup(d);
    assert_non_null(d);
    return d;
}

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    return remove(path);
}

void remove_tree(const char *path)
{
    if (path && !getenv("NVR_TEST_KEEP"))
        (void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
