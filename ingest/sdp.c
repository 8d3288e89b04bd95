/* SPDX-License-Identifier: MIT */
/*
 * SDP parser (RFC 8866) for the bodies of RTSP DESCRIBE responses, with the
 * payload format parameters the recorder needs: rtpmap (RFC 8866 6.6),
 * fmtp, control (RFC 2326 C.1.1), H.264 sprop-parameter-sets and
 * packetization-mode (RFC 6184 section 8.1), H.265 sprop-vps/sps/pps and
 * sprop-max-don-diff (RFC 7798 section 7.1), and the mpeg4-generic AAC
 * parameters (RFC 3640 section 4.1: config, mode, AU header field
 * lengths, constantDuration). Static payload types (RFC 3551 6) 0, 8 and
 * 26 need no rtpmap.
 *
 * Real cameras get SDP wrong in many small ways (CAMERA-QUIRKS.md), so the
 * parser is a line scanner that ignores what it does not understand: any
 * line ending (CRLF, LF, trailing spaces or tabs), missing o=/s=/t= lines,
 * attributes in any order (a=control before a=rtpmap), unknown attributes,
 * empty a=fmtp, several formats on one m= line (the first is used) and
 * media types it cannot record. Parameter sets that do not decode are
 * dropped rather than failing the track: the depacketizer then takes them
 * from the stream. Pure: no allocation, no I/O.
 */
#include "config.h"

#include "ingest/sdp.h"

#include <errno.h>
#include <string.h>

#include <libavutil/base64.h>

#include "nvr/base/hex.h"

/* The longest base64 parameter set accepted; an SPS is tens of bytes. */
#define SDP_MAX_SPROP_B64 1024

struct span {
    const char *p;
    size_t n;
};

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static int span_ieq(struct span s, const char *lit)
{
    if (s.n != strlen(lit))
        return 0;
    for (size_t i = 0; i < s.n; i++) {
        if (lower((unsigned char)s.p[i]) != lower((unsigned char)lit[i]))
            return 0;
    }
    return 1;
}

static int span_prefix(struct span s, const char *lit)
{
    size_t n = strlen(lit);

    return s.n >= n && memcmp(s.p, lit, n) == 0;
}

static struct span span_trim(struct span s)
{
    while (s.n > 0 && is_ws(s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n > 0 && is_ws(s.p[s.n - 1]))
        s.n--;
    return s;
}

/* Splits off the text before the first `sep` (or all of *s). */
static struct span span_split(struct span *s, char sep)
{
    const char *at = memchr(s->p, sep, s->n);
    struct span head = {s->p, at ? (size_t)(at - s->p) : s->n};

    if (at) {
        s->n -= head.n + 1;
        s->p = at + 1;
    } else {
        s->p += s->n;
        s->n = 0;
    }
    return head;
}

/* Splits off the next whitespace-delimited word. */
static struct span span_word(struct span *s)
{
    struct span w;

    *s = span_trim(*s);
    w.p = s->p;
    w.n = 0;
    while (w.n < s->n && !is_ws(s->p[w.n]))
        w.n++;
    s->p += w.n;
    s->n -= w.n;
    return w;
}

/* Decimal in [0, max]; returns -1 if the span is not one. */
static long span_uint(struct span s, long max)
{
    long v = 0;

    s = span_trim(s);
    if (s.n == 0)
        return -1;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return -1;
        v = v * 10 + (s.p[i] - '0');
        if (v > max)
            return -1;
    }
    return v;
}

/* Copies a span into a fixed field; an oversized value is cut short. */
static void copy_field(char *dst, size_t size, struct span s)
{
    size_t n = s.n < size - 1 ? s.n : size - 1;

    memcpy(dst, s.p, n);
    dst[n] = '\0';
}

/* Per-track state that only lives during the parse. */
struct track_src {
    struct span fmtp; /* the whole fmtp parameter text, uncut */
    int has_rtpmap;
};

static void on_media(struct span v, struct sdp_track *t)
{
    struct span media = span_word(&v), port, proto, fmt;

    /* "application/TP-LINK" (TP-Link) is still an application. */
    media = span_split(&media, '/');
    copy_field(t->media, sizeof(t->media), media);
    port = span_word(&v);
    proto = span_word(&v);
    fmt = span_word(&v);
    (void)port;
    (void)proto;
    t->pt = (int)span_uint(fmt, 127);
}

/* "a=rtpmap:<pt> <encoding>/<clock>[/<channels>]" */
static void on_rtpmap(struct span v, struct sdp_track *t, struct track_src *src)
{
    struct span pt = span_word(&v), enc;
    long clock, ch;

    if (t->pt < 0 || span_uint(pt, 127) != t->pt || src->has_rtpmap)
        return;
    v = span_trim(v);
    enc = span_trim(span_split(&v, '/'));
    copy_field(t->encoding, sizeof(t->encoding), enc);
    clock = span_uint(span_split(&v, '/'), 10000000);
    t->clock_rate = clock > 0 ? (int)clock : 0;
    ch = span_uint(span_split(&v, '/'), 255);
    t->channels = ch > 0 ? (int)ch : 0;
    src->has_rtpmap = 1;
}

/* "a=fmtp:<pt> <params>"; an empty parameter list is legal. */
static void on_fmtp(struct span v, struct sdp_track *t, struct track_src *src)
{
    struct span pt = span_word(&v);

    if (t->pt < 0 || span_uint(pt, 127) != t->pt || src->fmtp.p != NULL)
        return;
    v = span_trim(v);
    src->fmtp = v;
    copy_field(t->fmtp, sizeof(t->fmtp), v);
}

/* Finds fmtp parameter `name`; returns its value or a NULL span. */
static struct span fmtp_param(struct span fmtp, const char *name)
{
    struct span none = {NULL, 0};

    while (fmtp.n > 0) {
        struct span item = span_split(&fmtp, ';');
        struct span key = span_trim(span_split(&item, '='));

        if (span_ieq(key, name))
            return span_trim(item);
    }
    return none;
}

/* Whether a NAL header is an allowed parameter set for the codec. */
static int nal_ok(enum nvr_codec codec, const uint8_t *nal, size_t n,
                  int want_h265_type)
{
    if (n < 2 || (nal[0] & 0x80))
        return 0;
    if (codec == NVR_CODEC_H264) {
        int type = nal[0] & 0x1f;

        return type == 7 || type == 8;
    }
    return ((nal[0] >> 1) & 0x3f) == want_h265_type;
}

static void append_nal(struct sdp_track *t, const uint8_t *nal, size_t n)
{
    static const uint8_t start[4] = {0, 0, 0, 1};

    while (n > 0 && nal[n - 1] == 0) /* trailing_zero_8bits */
        n--;
    if (n == 0 || sizeof(t->params) - t->params_len < n + 4)
        return;
    memcpy(t->params + t->params_len, start, 4);
    memcpy(t->params + t->params_len + 4, nal, n);
    t->params_len += n + 4;
}

/*
 * Appends the NAL units in one decoded sprop value. Some cameras put Annex B
 * (start codes) inside the base64, or a start code after the SPS; split on
 * start codes so each NAL is checked on its own.
 */
static void add_decoded(struct sdp_track *t, const uint8_t *d, size_t n,
                        int h265_type)
{
    size_t i = 0, nal_start = 0;

    while (i + 3 <= n) {
        if (d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1) {
            size_t end = i;

            if (end > nal_start &&
                nal_ok(t->codec, d + nal_start, end - nal_start, h265_type))
                append_nal(t, d + nal_start, end - nal_start);
            i += 3;
            nal_start = i;
        } else {
            i++;
        }
    }
    /* Leading zero bytes of a 4-byte start code stay on the previous NAL
     * and are stripped there as trailing zeros. */
    if (n > nal_start &&
        nal_ok(t->codec, d + nal_start, n - nal_start, h265_type))
        append_nal(t, d + nal_start, n - nal_start);
}

/* Decodes a comma-separated list of base64 parameter sets. */
static void add_sprop(struct sdp_track *t, struct span list, int h265_type)
{
    char b64[SDP_MAX_SPROP_B64 + 1];
    uint8_t dec[SDP_MAX_SPROP_B64];

    while (list.n > 0) {
        struct span one = span_trim(span_split(&list, ','));
        int n;

        if (one.n == 0 || one.n > SDP_MAX_SPROP_B64)
            continue;
        memcpy(b64, one.p, one.n);
        b64[one.n] = '\0';
        n = av_base64_decode(dec, b64, (int)sizeof(dec));
        if (n <= 0)
            continue;
        add_decoded(t, dec, (size_t)n, h265_type);
    }
}

struct codec_name {
    const char *encoding;
    enum nvr_codec codec;
    int default_clock; /* Hz when rtpmap leaves it out */
};

static const struct codec_name codec_names[] = {
    {"H264", NVR_CODEC_H264, 90000},     {"H265", NVR_CODEC_H265, 90000},
    {"HEVC", NVR_CODEC_H265, 90000},     {"JPEG", NVR_CODEC_MJPEG, 90000},
    {"PCMA", NVR_CODEC_PCMA, 8000},      {"PCMU", NVR_CODEC_PCMU, 8000},
    {"MPEG4-GENERIC", NVR_CODEC_AAC, 0},
};

/* RFC 3551 section 6 static payload types used without an rtpmap. */
static const struct {
    int pt;
    enum nvr_codec codec;
    int clock;
    int channels;
} static_pts[] = {
    {0, NVR_CODEC_PCMU, 8000, 1},   {3, NVR_CODEC_NONE, 8000, 1},
    {8, NVR_CODEC_PCMA, 8000, 1},   {9, NVR_CODEC_NONE, 8000, 1},
    {14, NVR_CODEC_NONE, 90000, 0}, {26, NVR_CODEC_MJPEG, 90000, 0},
    {32, NVR_CODEC_NONE, 90000, 0}, {33, NVR_CODEC_NONE, 90000, 0},
};

static void map_codec(struct sdp_track *t, const struct track_src *src)
{
    struct span enc = {t->encoding, strlen(t->encoding)};
    int is_audio = strcmp(t->media, "audio") == 0;

    t->codec = NVR_CODEC_NONE;
    if (src->has_rtpmap) {
        for (size_t i = 0; i < sizeof(codec_names) / sizeof(codec_names[0]);
             i++) {
            if (!span_ieq(enc, codec_names[i].encoding))
                continue;
            t->codec = codec_names[i].codec;
            if (t->clock_rate == 0)
                t->clock_rate = codec_names[i].default_clock;
        }
        /* mpeg4-generic also carries MPEG-4 video; only audio is AAC. MP4A-
         * LATM is AAC too, but the recorder has no LATM depacketizer. */
        if (t->codec == NVR_CODEC_AAC && !is_audio)
            t->codec = NVR_CODEC_NONE;
    } else if (t->pt >= 0 && t->pt < 96) {
        for (size_t i = 0; i < sizeof(static_pts) / sizeof(static_pts[0]);
             i++) {
            if (static_pts[i].pt != t->pt)
                continue;
            t->codec = static_pts[i].codec;
            t->clock_rate = static_pts[i].clock;
            t->channels = static_pts[i].channels;
        }
    }
    if (is_audio && t->channels == 0)
        t->channels = 1;
    if (!is_audio)
        t->channels = 0;
}

/* Decodes fmtp config= (hex, RFC 3640 4.1) into t->config; a value that
 * is not whole hex bytes or too long leaves it empty. */
static void parse_config(struct sdp_track *t, struct span v)
{
    size_t n = v.n / 2;

    t->config_len = 0;
    if (!v.p || v.n == 0 || (v.n & 1) || n > sizeof(t->config))
        return;
    if (nvr_hex_decode(v.p, n, t->config) < 0)
        return;
    t->config_len = n;
}

/* One numeric fmtp parameter: absent gives 0, out of range -1. */
static int fmtp_int(struct span fmtp, const char *name, long max)
{
    struct span v = fmtp_param(fmtp, name);

    if (!v.p)
        return 0;
    return (int)span_uint(v, max);
}

/* RFC 3640 parameters. Returns whether the track can be depacketized as
 * AAC: an AudioSpecificConfig, a mode that carries AAC (or none given)
 * and every length in range. */
static int parse_aac(struct sdp_track *t, struct span fmtp)
{
    struct span mode = fmtp_param(fmtp, "mode");
    int hbr = span_ieq(mode, "AAC-hbr"), lbr = span_ieq(mode, "AAC-lbr");
    int *lens[] = {&t->size_length,         &t->index_length,
                   &t->index_delta_length,  &t->cts_delta_length,
                   &t->dts_delta_length,    &t->stream_state_indication,
                   &t->aux_data_size_length};
    int *others[] = {&t->random_access_indication, &t->constant_duration,
                     &t->constant_size};
    int ok = 1;

    if (mode.p)
        copy_field(t->mode, sizeof(t->mode), mode);
    parse_config(t, fmtp_param(fmtp, "config"));
    t->size_length = fmtp_int(fmtp, "sizelength", SDP_AAC_MAX_FIELD_BITS);
    t->index_length = fmtp_int(fmtp, "indexlength", SDP_AAC_MAX_FIELD_BITS);
    t->index_delta_length =
        fmtp_int(fmtp, "indexdeltalength", SDP_AAC_MAX_FIELD_BITS);
    t->cts_delta_length =
        fmtp_int(fmtp, "ctsdeltalength", SDP_AAC_MAX_FIELD_BITS);
    t->dts_delta_length =
        fmtp_int(fmtp, "dtsdeltalength", SDP_AAC_MAX_FIELD_BITS);
    t->random_access_indication = fmtp_int(fmtp, "randomaccessindication", 1);
    t->stream_state_indication =
        fmtp_int(fmtp, "streamstateindication", SDP_AAC_MAX_FIELD_BITS);
    t->aux_data_size_length =
        fmtp_int(fmtp, "auxiliarydatasizelength", SDP_AAC_MAX_FIELD_BITS);
    t->constant_duration = fmtp_int(fmtp, "constantduration", 1 << 20);
    t->constant_size = fmtp_int(fmtp, "constantsize", 1 << 16);
    if (!fmtp_param(fmtp, "sizelength").p && (hbr || lbr)) {
        /* The values both modes fix (RFC 3640 3.3.5, 3.3.6). */
        t->size_length = hbr ? 13 : 6;
        t->index_length = t->index_delta_length = hbr ? 3 : 2;
    }
    /* A value that did not parse is left 0, never negative. */
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        if (*lens[i] < 0) {
            *lens[i] = 0;
            ok = 0;
        }
    }
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        if (*others[i] < 0) {
            *others[i] = 0;
            ok = 0;
        }
    }
    if (mode.p && !hbr && !lbr)
        ok = 0;
    return ok && t->config_len > 0;
}

static void finish_track(struct sdp_track *t, const struct track_src *src)
{
    struct span fmtp = src->fmtp, v;
    long mode, don;

    map_codec(t, src);
    mode = span_uint(fmtp_param(fmtp, "packetization-mode"), 2);
    t->packetization_mode = mode > 0 ? (int)mode : 0;
    if (t->codec == NVR_CODEC_H264) {
        v = fmtp_param(fmtp, "sprop-parameter-sets");
        if (v.p)
            add_sprop(t, v, 0);
    } else if (t->codec == NVR_CODEC_H265) {
        /* VPS, SPS, PPS: the order an HEVC decoder configuration needs. */
        static const char *const names[] = {"sprop-vps", "sprop-sps",
                                            "sprop-pps"};
        for (int i = 0; i < 3; i++) {
            v = fmtp_param(fmtp, names[i]);
            if (v.p)
                add_sprop(t, v, 32 + i);
        }
        don = span_uint(fmtp_param(fmtp, "sprop-max-don-diff"), 32767);
        t->max_don_diff = don > 0 ? (int)don : 0;
    }
    switch (t->codec) {
    case NVR_CODEC_H264:
    case NVR_CODEC_H265:
    case NVR_CODEC_MJPEG:
    case NVR_CODEC_PCMA:
    case NVR_CODEC_PCMU:
        t->recordable = t->clock_rate > 0;
        break;
    case NVR_CODEC_AAC:
        t->recordable = parse_aac(t, fmtp) && t->clock_rate > 0;
        break;
    case NVR_CODEC_NONE:
    default:
        t->recordable = 0;
        break;
    }
}

int sdp_parse(const char *buf, size_t len, struct sdp_session *out)
{
    struct track_src src[SDP_MAX_TRACKS];
    struct span rest = {buf, len};
    struct sdp_track *cur = NULL;
    int in_media = 0;

    if (len > (size_t)SDP_MAX_BYTES)
        return -EMSGSIZE;
    memset(out, 0, sizeof(*out));
    memset(src, 0, sizeof(src));
    while (rest.n > 0) {
        struct span line = span_trim(span_split(&rest, '\n'));
        struct span v;

        if (line.n < 2 || line.p[1] != '=')
            continue;
        v.p = line.p + 2;
        v.n = line.n - 2;
        if (line.p[0] == 'm') {
            in_media = 1;
            cur = NULL;
            /* Sections past the cap are skipped whole. */
            if (out->n_tracks >= SDP_MAX_TRACKS)
                continue;
            cur = &out->tracks[out->n_tracks];
            on_media(v, cur);
            if (cur->media[0] == '\0') {
                memset(cur, 0, sizeof(*cur));
                cur = NULL;
                continue;
            }
            out->n_tracks++;
            continue;
        }
        if (line.p[0] != 'a')
            continue;
        if (!in_media) {
            if (span_prefix(v, "control:"))
                copy_field(out->control, sizeof(out->control),
                           span_trim((struct span){v.p + 8, v.n - 8}));
            continue;
        }
        if (cur == NULL)
            continue;
        if (span_prefix(v, "rtpmap:")) {
            on_rtpmap((struct span){v.p + 7, v.n - 7}, cur,
                      &src[cur - out->tracks]);
        } else if (span_prefix(v, "fmtp:")) {
            on_fmtp((struct span){v.p + 5, v.n - 5}, cur,
                    &src[cur - out->tracks]);
        } else if (span_prefix(v, "control:")) {
            struct span c = span_trim((struct span){v.p + 8, v.n - 8});

            /* A cut-short control URL would address the wrong track. */
            if (c.n < sizeof(cur->control))
                copy_field(cur->control, sizeof(cur->control), c);
        }
    }
    for (int i = 0; i < out->n_tracks; i++)
        finish_track(&out->tracks[i], &src[i]);
    return out->n_tracks > 0 ? 0 : -EBADMSG;
}
