/* SPDX-License-Identifier: MIT */
/*
 * One segment file (see segment.h). libavformat's mp4 (or mov) muxer, set
 * up for fragmented output (empty_moov+default_base_moof), writes the
 * header: ftyp and a moov whose sample entries hold the codec
 * configuration, through a non-seekable custom AVIOContext. The media
 * fragments are then written by frag.c from the units' own buffers with
 * writev(2): see frag.h for why. Both paths go through fsops and feed a
 * running SHA-256, so closing needs no re-read.
 *
 * Video units are added one unit late so that each gets its exact
 * duration. A fragment is written when the writer has nothing more queued
 * (segment_flush), before each video keyframe (so that every GOP starts a
 * fragment, which is what the mfra index lists), when the waiting samples
 * reach SEGMENT_FRAG_MAX_BYTES, and at the close. Each track's fragment
 * starts at its own first sample's time (tfdt), so audio that starts a
 * little after the first video frame keeps its offset.
 */
#include "config.h"
#include "storage/segment.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavformat/avio.h>
#include <libavutil/mathematics.h>
#include <libavutil/mem.h>

#include "nvr/base/timefmt.h"
#include "storage/elst.h"
#include "storage/frag.h"
#include "storage/fsops.h"
#include "storage/sha256.h"

/* Size of the muxer's output buffer, which only the file header goes
 * through: a moov is a few kilobytes. */
#define SEGMENT_IO_BUF_BYTES ((size_t)16 * 1024)
/* Sample bytes that may wait for a fragment; more are written at once. */
#define SEGMENT_FRAG_MAX_BYTES ((size_t)8 * 1024 * 1024)
/* Track IDs the mp4 and mov muxers give streams 0 and 1. */
#define SEGMENT_VIDEO_TRACK_ID 1u
#define SEGMENT_AUDIO_TRACK_ID 2u
#define SEGMENT_FILE_MODE      0640
/* Limits of an audio track we record. */
#define SEGMENT_MAX_CHANNELS    8
#define SEGMENT_MAX_SAMPLE_RATE 192000
/* Samples in one AAC frame (ISO 14496-3, frameLengthFlag 0), which is
 * what RTSP cameras send. */
#define SEGMENT_AAC_FRAME_SAMPLES 1024
/* Bytes of a JPEG scanned for its frame header when the size is unknown. */
#define SEGMENT_JPEG_SCAN_BYTES ((size_t)64 * 1024)
/* Stream indices in the file. */
#define SEGMENT_VIDEO_STREAM 0
#define SEGMENT_AUDIO_STREAM 1

/* FFmpeg 7 (libavformat 61) made the write callback's buffer const. */
#if LIBAVFORMAT_VERSION_MAJOR >= 61
typedef const uint8_t segment_io_byte;
#else
typedef uint8_t segment_io_byte;
#endif

struct segment {
    char *path;
    int fd;
    int err; /* first disk or muxer error; sticky */
    struct nvr_sha256 *sha;
    AVFormatContext *fmt;
    AVIOContext *pb;
    struct frag frag;
    int frag_audio;      /* frag track index of the audio, or -1 */
    AVRational video_tb; /* timescales of the tracks in the file */
    AVRational audio_tb;
    struct nvr_track_info track; /* video */
    struct nvr_track_info audio; /* when has_audio */
    bool has_audio;
    int64_t wall_us; /* creation_time, UTC us */
    bool header_written;
    bool capture; /* the muxer's output goes to hdr, not the file */
    uint8_t *hdr; /* the file header while it is captured */
    size_t hdr_len, hdr_cap;
    bool started;           /* the first unit was accepted */
    struct nvr_au *held;    /* accepted, not yet muxed (owned ref) */
    int64_t first_pts;      /* track clock: the first frame presented */
    int64_t first_dts;      /* of the first unit: decode time 0 in the file */
    int64_t last_pts;       /* latest pts of the units muxed */
    int64_t pts_end;        /* latest pts + duration of the units muxed */
    int64_t last_dur;       /* duration of the last unit muxed, clock */
    int64_t frames;         /* units muxed */
    int64_t bytes;          /* bytes accepted by write(2) */
    int64_t dropped;        /* units refused: empty, too large */
    int64_t dts_refused;    /* video units whose dts did not increase */
    int64_t late_dropped;   /* accepted, then not muxed (see .h) */
    int64_t audio_frames;   /* audio units muxed */
    int64_t audio_last_pts; /* of the last audio unit muxed, or -1 */
};

/* Writes buf[0..size) to the file, hashing it. Returns 0 or seg->err. */
static int seg_write_bytes(struct segment *seg, const uint8_t *buf, size_t size)
{
    size_t off = 0;

    /* After one failure nothing more is written: the file must stay a
     * prefix of the stream so that its complete fragments stay readable
     * and the hash matches its bytes. */
    if (seg->err < 0)
        return seg->err;
    while (off < size) {
        ssize_t n = fsops_write(seg->fd, buf + off, size - off);
        if (n <= 0) {
            seg->err = n < 0 ? (int)n : -EIO;
            return seg->err;
        }
        nvr_sha256_update(seg->sha, buf + off, (size_t)n);
        seg->bytes += n;
        off += (size_t)n;
    }
    return 0;
}

static int seg_io_write(void *opaque, segment_io_byte *buf, int size)
{
    struct segment *seg = opaque;
    int r;

    if (seg->capture) {
        /* Room for the edit list that may be inserted, too. */
        size_t need = seg->hdr_len + (size_t)size + ELST_BOX_BYTES;

        if (need > seg->hdr_cap) {
            uint8_t *p = realloc(seg->hdr, need);

            if (!p)
                return AVERROR(ENOMEM);
            seg->hdr = p;
            seg->hdr_cap = need;
        }
        memcpy(seg->hdr + seg->hdr_len, buf, (size_t)size);
        seg->hdr_len += (size_t)size;
        return size;
    }
    r = seg_write_bytes(seg, buf, (size_t)size);
    return r < 0 ? r : size;
}

/* frag_write_fn: writes every byte of iov through fsops, hashing what the
 * kernel took; after a failure nothing more is written, as above. */
static int seg_writev(void *opaque, struct iovec *iov, int cnt)
{
    struct segment *seg = opaque;

    if (seg->err < 0)
        return seg->err;
    while (cnt > 0) {
        ssize_t n = fsops_writev(seg->fd, iov, cnt);

        if (n <= 0) {
            seg->err = n < 0 ? (int)n : -EIO;
            return seg->err;
        }
        seg->bytes += n;
        while (cnt > 0 && (size_t)n >= iov->iov_len) {
            nvr_sha256_update(seg->sha, iov->iov_base, iov->iov_len);
            n -= (ssize_t)iov->iov_len;
            iov++;
            cnt--;
        }
        if (n > 0) {
            nvr_sha256_update(seg->sha, iov->iov_base, (size_t)n);
            iov->iov_base = (uint8_t *)iov->iov_base + n;
            iov->iov_len -= (size_t)n;
        }
    }
    return 0;
}

/* Reads the size from a JPEG's frame header (ITU T.81 B.2.2: SOFn, n not
 * 4, 8 or 12), scanning marker segments from SOI. */
static void seg_jpeg_dims(const struct nvr_au *au, AVCodecParameters *par)
{
    const uint8_t *d = au->data;
    size_t len =
        au->len < SEGMENT_JPEG_SCAN_BYTES ? au->len : SEGMENT_JPEG_SCAN_BYTES;
    size_t i = 2;

    if (len < 4 || d[0] != 0xff || d[1] != 0xd8)
        return;
    while (i + 4 <= len) {
        uint8_t m = d[i + 1];
        size_t seg_len;

        if (d[i] != 0xff)
            return;
        if (m == 0xff) {
            i++; /* fill byte */
            continue;
        }
        if (m == 0x01 || (m >= 0xd0 && m <= 0xd9)) {
            i += 2; /* a marker without a length */
            continue;
        }
        seg_len = (size_t)d[i + 2] << 8 | d[i + 3];
        if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
            if (seg_len < 7 || i + 2 + 7 > len)
                return;
            par->height = d[i + 5] << 8 | d[i + 6];
            par->width = d[i + 7] << 8 | d[i + 8];
            return;
        }
        if (m == 0xda || seg_len < 2)
            return; /* scan data before any frame header */
        i += 2 + seg_len;
    }
}

/* Fills in width/height when the stream description lacks them: from
 * the SPS, with libavcodec's parser over the params and the first unit,
 * or from a JPEG's frame header. */
static void seg_probe_dims(struct segment *seg, const struct nvr_au *au,
                           AVCodecParameters *par)
{
    AVCodecParserContext *parser = av_parser_init(par->codec_id);
    AVCodecContext *avctx = avcodec_alloc_context3(NULL);
    uint8_t *buf = NULL;
    size_t len = seg->track.params_len + au->len;

    if (seg->track.codec == NVR_CODEC_MJPEG) {
        seg_jpeg_dims(au, par);
        goto out;
    }
    if (!parser || !avctx)
        goto out;
    buf = av_malloc(len + AV_INPUT_BUFFER_PADDING_SIZE);
    if (!buf)
        goto out;
    memcpy(buf, seg->track.params, seg->track.params_len);
    memcpy(buf + seg->track.params_len, au->data, au->len);
    memset(buf + len, 0, AV_INPUT_BUFFER_PADDING_SIZE);
    parser->flags |= PARSER_FLAG_COMPLETE_FRAMES;
    uint8_t *out_buf;
    int out_len;
    (void)av_parser_parse2(parser, avctx, &out_buf, &out_len, buf, (int)len,
                           AV_NOPTS_VALUE, AV_NOPTS_VALUE, 0);
    if (parser->width > 0 && parser->height > 0) {
        par->width = parser->width;
        par->height = parser->height;
    }
out:
    av_free(buf);
    avcodec_free_context(&avctx);
    if (parser)
        av_parser_close(parser);
}

/* Whether a NAL unit header starts a parameter set (H.264 7.4.1.2: SPS 7,
 * PPS 8; H.265 7.4.2.2: VPS 32, SPS 33, PPS 34). */
static bool seg_is_param_nal(enum nvr_codec codec, uint8_t hdr)
{
    if (codec == NVR_CODEC_H264)
        return (hdr & 0x1f) == 7 || (hdr & 0x1f) == 8;
    return ((hdr >> 1) & 0x3f) >= 32 && ((hdr >> 1) & 0x3f) <= 34;
}

/* When the session described no parameter sets (no sprop-parameter-sets in
 * the SDP), takes them from the first keyframe, which carries them in
 * band; the sample entry must hold them for the file to play. */
static void seg_params_from_au(struct segment *seg, const struct nvr_au *au)
{
    struct nvr_track_info *t = &seg->track;
    const uint8_t *d = au->data;
    size_t i = 0;

    while (i + 3 < au->len) {
        size_t start, end;
        if (!(d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1)) {
            i++;
            continue;
        }
        start = i + 3;
        end = start;
        /* The NAL unit ends at the next 00 00 00 or 00 00 01. */
        while (end + 2 < au->len &&
               !(d[end] == 0 && d[end + 1] == 0 && d[end + 2] <= 1))
            end++;
        if (end + 2 >= au->len)
            end = au->len;
        if (end > start && seg_is_param_nal(t->codec, d[start]) &&
            t->params_len + 4 + (end - start) <= sizeof(t->params)) {
            memcpy(t->params + t->params_len, "\0\0\0\1", 4);
            memcpy(t->params + t->params_len + 4, d + start, end - start);
            t->params_len += 4 + (end - start);
        }
        i = end;
    }
}

static int seg_set_extradata(struct segment *seg, AVCodecParameters *par)
{
    av_freep(&par->extradata);
    par->extradata_size = 0;
    if (seg->track.params_len == 0)
        return 0;
    par->extradata =
        av_mallocz(seg->track.params_len + AV_INPUT_BUFFER_PADDING_SIZE);
    if (!par->extradata)
        return -ENOMEM;
    memcpy(par->extradata, seg->track.params, seg->track.params_len);
    par->extradata_size = (int)seg->track.params_len;
    return 0;
}

/* Writes the captured header, with an edit list on the video track when
 * its first sample is presented after it is decoded (see elst.h). */
static int seg_write_captured(struct segment *seg, const struct nvr_au *first)
{
    int r;

    seg->capture = false;
    if (first && first->pts > first->dts) {
        AVRational c = {1, seg->track.clock_rate};
        int64_t cto = av_rescale_q(first->pts - first->dts, c, seg->video_tb);

        /* A header that cannot take it is written as it is: the file
         * still plays, from the first frame's composition time. */
        (void)elst_insert(seg->hdr, &seg->hdr_len, seg->hdr_cap,
                          SEGMENT_VIDEO_TRACK_ID, cto);
    }
    r = seg_write_bytes(seg, seg->hdr, seg->hdr_len);
    free(seg->hdr);
    seg->hdr = NULL;
    seg->hdr_len = seg->hdr_cap = 0;
    return r;
}

static int seg_write_header(struct segment *seg, const struct nvr_au *first)
{
    AVCodecParameters *par = seg->fmt->streams[SEGMENT_VIDEO_STREAM]->codecpar;
    AVDictionary *opts = NULL;
    int r;

    if (first && seg->track.params_len == 0 &&
        seg->track.codec != NVR_CODEC_MJPEG) {
        seg_params_from_au(seg, first);
        r = seg_set_extradata(seg, par);
        if (r < 0)
            return r;
    }
    if (first && (par->width <= 0 || par->height <= 0))
        seg_probe_dims(seg, first, par);
    /* Fragmented layout: an empty moov with mvex; the fragments never go
     * through the muxer. */
    av_dict_set(&opts, "movflags",
                "frag_keyframe+empty_moov+default_base_moof+frag_discont", 0);
    /* Each track's start is its first fragment's tfdt; an edit list in
     * an empty moov could not say anything. */
    av_dict_set(&opts, "use_editlist", "0", 0);
    /* The header is held back until it is complete, so that an edit list
     * can go into it (seg_write_captured). */
    seg->capture = true;
    r = avformat_write_header(seg->fmt, &opts);
    av_dict_free(&opts);
    if (r < 0) {
        seg->capture = false;
        return seg->err < 0 ? seg->err : r;
    }
    seg->header_written = true;
    /* The muxer chose each track's timescale (mdhd); fragments use it. */
    seg->video_tb = seg->fmt->streams[SEGMENT_VIDEO_STREAM]->time_base;
    if (seg->has_audio)
        seg->audio_tb = seg->fmt->streams[SEGMENT_AUDIO_STREAM]->time_base;
    /* The header alone makes the file recognisable to players. */
    avio_flush(seg->pb);
    if (seg->pb->error < 0 && seg->err == 0)
        seg->err = seg->pb->error;
    if (seg->err < 0) {
        seg->capture = false;
        return seg->err;
    }
    return seg_write_captured(seg, first);
}

/* Writes the samples waiting as one fragment, if any. */
static int seg_flush_frag(struct segment *seg)
{
    int r;

    if (seg->err < 0)
        return seg->err;
    r = frag_flush(&seg->frag, seg->bytes, seg_writev, seg);
    if (r < 0 && seg->err == 0)
        seg->err = r;
    return seg->err;
}

/* Adds one sample (a reference to au is kept until it is written)
 * decoded at `ts`, presented `cto` later, for `dur`, all in `clock` units,
 * on frag track `track` whose timescale is tb. A keyframe of the video
 * track starts a new fragment. Returns 0, 1 (dropped: no NAL unit, or an
 * offset beyond 32 bits) or seg->err. */
static int seg_add_sample(struct segment *seg, int track, struct nvr_au *au,
                          int64_t ts, int64_t cto, int64_t dur, int clock,
                          AVRational tb, bool key)
{
    AVRational c = {1, clock};
    int64_t dts = av_rescale_q(ts, c, tb);
    int64_t d = av_rescale_q(ts + dur, c, tb) - dts;
    int64_t off = av_rescale_q(ts + cto, c, tb) - dts;
    int r;

    if (off < INT32_MIN || off > INT32_MAX)
        return 1;

    if ((track == 0 && key) ||
        seg->frag.pending_bytes + au->len > SEGMENT_FRAG_MAX_BYTES) {
        if (seg_flush_frag(seg) < 0)
            return seg->err;
    }
    r = frag_add(&seg->frag, track, au, dts, (int32_t)off, d, key);
    if (r < 0 && seg->err == 0)
        seg->err = r;
    return r < 0 ? seg->err : r;
}

static int seg_mux(struct segment *seg, struct nvr_au *au, int64_t dur)
{
    int r = seg_add_sample(seg, 0, au, au->dts - seg->first_dts,
                           au->pts - au->dts, dur, seg->track.clock_rate,
                           seg->video_tb, au->flags & NVR_AU_KEY);

    if (r < 0)
        return r;
    if (r == 1) {
        seg->dropped++;
        seg->late_dropped++;
        return 0;
    }
    seg->frames++;
    seg->last_dur = dur;
    if (au->pts > seg->last_pts)
        seg->last_pts = au->pts;
    if (au->pts + dur > seg->pts_end)
        seg->pts_end = au->pts + dur;
    return 0;
}

static void seg_free(struct segment *seg)
{
    if (seg->fmt) {
        /* Also releases the muxer's state when no trailer was written. */
        avformat_free_context(seg->fmt);
    }
    if (seg->pb) {
        av_freep(&seg->pb->buffer);
        avio_context_free(&seg->pb);
    }
    frag_clear(&seg->frag);
    free(seg->hdr);
    nvr_sha256_free(seg->sha);
    nvr_au_unref(seg->held);
    if (seg->fd >= 0)
        (void)fsops_close(seg->fd); /* only on paths already failed */
    free(seg->path);
    free(seg);
}

static int seg_add_audio(struct segment *seg)
{
    const struct nvr_track_info *a = &seg->audio;
    AVStream *st = avformat_new_stream(seg->fmt, NULL);
    AVCodecParameters *par;

    if (!st)
        return -ENOMEM;
    st->time_base = (AVRational){1, a->clock_rate};
    par = st->codecpar;
    par->codec_type = AVMEDIA_TYPE_AUDIO;
    par->sample_rate = a->clock_rate;
    av_channel_layout_default(&par->ch_layout, a->channels);
    switch (a->codec) {
    case NVR_CODEC_AAC:
        par->codec_id = AV_CODEC_ID_AAC;
        par->frame_size = SEGMENT_AAC_FRAME_SAMPLES;
        par->extradata =
            av_mallocz(a->params_len + AV_INPUT_BUFFER_PADDING_SIZE);
        if (!par->extradata)
            return -ENOMEM;
        memcpy(par->extradata, a->params, a->params_len);
        par->extradata_size = (int)a->params_len;
        break;
    default:
        par->codec_id = a->codec == NVR_CODEC_PCMA ? AV_CODEC_ID_PCM_ALAW
                                                   : AV_CODEC_ID_PCM_MULAW;
        par->bits_per_coded_sample = 8;
        par->block_align = a->channels;
        par->frame_size = 1;
        break;
    }
    return 0;
}

static int seg_setup_muxer(struct segment *seg)
{
    AVStream *st;
    AVCodecParameters *par;
    uint8_t *iobuf;
    char iso[96];
    int r;

    r = avformat_alloc_output_context2(
        &seg->fmt, NULL,
        strcmp(segment_container_ext(seg->has_audio ? &seg->audio : NULL),
               "mov") == 0
            ? "mov"
            : "mp4",
        NULL);
    if (r < 0)
        return r;
    /* Video starts at 0 and audio is never negative: nothing to shift,
     * and a shift taken from an audio packet muxed first would move the
     * video off zero. */
    seg->fmt->avoid_negative_ts = AVFMT_AVOID_NEG_TS_DISABLED;
    st = avformat_new_stream(seg->fmt, NULL);
    if (!st)
        return -ENOMEM;
    st->time_base = (AVRational){1, seg->track.clock_rate};
    par = st->codecpar;
    par->codec_type = AVMEDIA_TYPE_VIDEO;
    if (seg->track.codec == NVR_CODEC_H264) {
        par->codec_id = AV_CODEC_ID_H264;
    } else if (seg->track.codec == NVR_CODEC_H265) {
        /* hvc1: parameter sets only in the sample entry, which is what
         * Apple players require; the muxer converts Annex B to hvcC. */
        par->codec_id = AV_CODEC_ID_HEVC;
        par->codec_tag = MKTAG('h', 'v', 'c', '1');
    } else {
        par->codec_id = AV_CODEC_ID_MJPEG;
    }
    par->width = seg->track.width;
    par->height = seg->track.height;
    r = seg_set_extradata(seg, par);
    if (r < 0)
        return r;
    if (seg->has_audio) {
        r = seg_add_audio(seg);
        if (r < 0)
            return r;
    }

    nvr_time_format_utc_us(seg->wall_us, iso, sizeof(iso));
    if (av_dict_set(&seg->fmt->metadata, "creation_time", iso, 0) < 0)
        return -ENOMEM;

    iobuf = av_malloc(SEGMENT_IO_BUF_BYTES);
    if (!iobuf)
        return -ENOMEM;
    seg->pb = avio_alloc_context(iobuf, SEGMENT_IO_BUF_BYTES, 1, seg, NULL,
                                 seg_io_write, NULL);
    if (!seg->pb) {
        av_free(iobuf);
        return -ENOMEM;
    }
    seg->pb->seekable = 0;
    seg->fmt->pb = seg->pb;
    return 0;
}

const char *segment_container_ext(const struct nvr_track_info *audio)
{
    if (audio &&
        (audio->codec == NVR_CODEC_PCMA || audio->codec == NVR_CODEC_PCMU))
        return "mov";
    return "mp4";
}

bool segment_audio_ok(const struct nvr_track_info *audio)
{
    if (audio->clock_rate <= 0 || audio->clock_rate > SEGMENT_MAX_SAMPLE_RATE ||
        audio->channels < 0 || audio->channels > SEGMENT_MAX_CHANNELS ||
        audio->params_len > NVR_PARAMS_MAX_BYTES)
        return false;
    switch (audio->codec) {
    case NVR_CODEC_AAC:
        /* Without its AudioSpecificConfig the track cannot be decoded. */
        return audio->params_len >= 2;
    case NVR_CODEC_PCMA:
    case NVR_CODEC_PCMU:
        return true;
    default:
        return false;
    }
}

int segment_open(const char *path, const struct nvr_track_info *video,
                 int64_t wall_us, struct segment **out)
{
    return segment_open_av(path, video, NULL, wall_us, out);
}

int segment_open_av(const char *path, const struct nvr_track_info *video,
                    const struct nvr_track_info *audio, int64_t wall_us,
                    struct segment **out)
{
    struct segment *seg;
    int r;

    if ((video->codec != NVR_CODEC_H264 && video->codec != NVR_CODEC_H265 &&
         video->codec != NVR_CODEC_MJPEG) ||
        video->clock_rate <= 0 || video->params_len > NVR_PARAMS_MAX_BYTES ||
        wall_us < 0 || (audio && !segment_audio_ok(audio)))
        return -EINVAL;
    seg = calloc(1, sizeof(*seg));
    if (!seg)
        return -ENOMEM;
    seg->fd = -1;
    seg->track = *video;
    if (audio) {
        seg->audio = *audio;
        seg->has_audio = true;
        if (seg->audio.channels == 0)
            seg->audio.channels = 1; /* G.711 without a channel count */
    }
    seg->audio_last_pts = -1;
    seg->wall_us = wall_us;
    frag_init(&seg->frag);
    (void)frag_add_track(&seg->frag, SEGMENT_VIDEO_TRACK_ID, true,
                         video->codec != NVR_CODEC_MJPEG);
    seg->frag_audio =
        audio ? frag_add_track(&seg->frag, SEGMENT_AUDIO_TRACK_ID, false, false)
              : -1;
    seg->path = strdup(path);
    seg->sha = nvr_sha256_new();
    if (!seg->path || !seg->sha) {
        r = -ENOMEM;
        goto err_free;
    }
    r = seg_setup_muxer(seg);
    if (r < 0)
        goto err_free;
    r = fsops_open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC,
                   SEGMENT_FILE_MODE);
    if (r < 0)
        goto err_free;
    seg->fd = r;
    *out = seg;
    return 0;

err_free:
    seg_free(seg);
    return r;
}

int segment_write(struct segment *seg, struct nvr_au *au)
{
    int r;

    if (seg->err < 0)
        return seg->err;
    if (au->len == 0 || au->len > NVR_AU_MAX_BYTES) {
        seg->dropped++;
        return 1;
    }
    /* A unit presented before it is decoded breaks ingest's contract. */
    if (au->dts > au->pts) {
        seg->dts_refused++;
        return 2;
    }
    if (!seg->started) {
        if (!(au->flags & NVR_AU_KEY))
            return -EINVAL;
        r = seg_write_header(seg, au);
        if (r < 0)
            return r;
        seg->started = true;
        seg->first_pts = au->pts;
        seg->first_dts = au->dts;
        seg->last_pts = au->pts;
        seg->pts_end = au->pts;
        seg->held = nvr_au_ref(au);
        return 0;
    }
    /* Samples follow each other in decode order: a unit whose decode time
     * does not increase cannot be placed, and is refused (counted). */
    if (au->dts <= seg->held->dts) {
        seg->dts_refused++;
        return 2;
    }
    r = seg_mux(seg, seg->held, au->dts - seg->held->dts);
    nvr_au_unref(seg->held);
    seg->held = NULL;
    if (r < 0)
        return r;
    seg->held = nvr_au_ref(au);
    return 0;
}

int segment_write_audio(struct segment *seg, struct nvr_au *au, int64_t pts)
{
    int64_t dur;
    int r;

    if (seg->err < 0)
        return seg->err;
    if (!seg->has_audio || !seg->started || au->len == 0 ||
        au->len > NVR_AU_MAX_BYTES || pts < 0 || pts <= seg->audio_last_pts) {
        seg->dropped++;
        return 1;
    }
    if (seg->audio.codec == NVR_CODEC_AAC)
        dur = SEGMENT_AAC_FRAME_SAMPLES;
    else
        dur = (int64_t)(au->len / (size_t)seg->audio.channels);
    if (dur <= 0) {
        seg->dropped++;
        return 1;
    }
    r = seg_add_sample(seg, seg->frag_audio, au, pts, 0, dur,
                       seg->audio.clock_rate, seg->audio_tb, true);
    if (r < 0)
        return r;
    if (r == 1) {
        seg->dropped++;
        return 1;
    }
    seg->audio_frames++;
    seg->audio_last_pts = pts;
    return 0;
}

int segment_flush(struct segment *seg)
{
    return seg_flush_frag(seg);
}

int64_t segment_elapsed(const struct segment *seg, int64_t pts)
{
    return seg->started ? pts - seg->first_pts : 0;
}

void segment_get_progress(const struct segment *seg, struct segment_result *res)
{
    memset(res, 0, sizeof(*res));
    res->bytes = seg->bytes;
    res->frames = seg->frames;
    res->first_pts = seg->first_pts;
    res->last_pts = seg->frames > 0 ? seg->last_pts : seg->first_pts;
    res->duration_us = seg->frames > 0
                           ? av_rescale(seg->pts_end - seg->first_pts, 1000000,
                                        seg->track.clock_rate)
                           : 0;
    res->dropped = seg->dropped;
    res->dts_refused = seg->dts_refused;
    res->late_dropped = seg->late_dropped;
    res->audio_frames = seg->audio_frames;
    if (seg->fmt && seg->fmt->nb_streams > 0) {
        res->width = seg->fmt->streams[SEGMENT_VIDEO_STREAM]->codecpar->width;
        res->height = seg->fmt->streams[SEGMENT_VIDEO_STREAM]->codecpar->height;
    }
}

/* Makes the new file's directory entry durable. */
static int seg_fsync_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    size_t n;

    if (!slash)
        return fsops_fsync_dir(".");
    n = (size_t)(slash - path);
    if (n == 0)
        return fsops_fsync_dir("/");
    if (n >= sizeof(dir))
        return -ENAMETOOLONG;
    memcpy(dir, path, n);
    dir[n] = '\0';
    return fsops_fsync_dir(dir);
}

int segment_close(struct segment *seg, int64_t next_dts,
                  struct segment_result *res)
{
    int r;

    if (!seg)
        return 0;
    if (seg->held && seg->err == 0) {
        int64_t dur = seg->last_dur;
        if (next_dts != SEGMENT_NO_PTS && next_dts > seg->held->dts)
            dur = next_dts - seg->held->dts;
        else if (dur <= 0)
            dur = seg->track.clock_rate / SEGMENT_DEFAULT_FPS;
        (void)seg_mux(seg, seg->held, dur); /* error kept in seg->err */
    }
    nvr_au_unref(seg->held);
    seg->held = NULL;
    if (seg->err == 0 && !seg->header_written)
        (void)seg_write_header(seg, NULL);
    /* No trailer from the muxer: the fragments and their index are
     * frag.c's. */
    if (seg_flush_frag(seg) == 0) {
        r = frag_finish(&seg->frag, seg_writev, seg);
        if (seg->err == 0 && r < 0)
            seg->err = r;
    }
    /* Even a failed segment is synced: its complete fragments are kept. */
    r = fsops_fsync(seg->fd);
    if (seg->err == 0 && r < 0)
        seg->err = r;
    r = fsops_close(seg->fd);
    seg->fd = -1;
    if (seg->err == 0 && r < 0)
        seg->err = r;
    r = seg_fsync_dir(seg->path);
    if (seg->err == 0 && r < 0)
        seg->err = r;

    segment_get_progress(seg, res);
    r = nvr_sha256_final_hex(seg->sha, res->sha256);
    if (seg->err == 0 && r < 0)
        seg->err = r;
    r = seg->err;
    seg_free(seg);
    return r;
}
