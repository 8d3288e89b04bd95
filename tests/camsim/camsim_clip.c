/* SPDX-License-Identifier: MIT */
/*
 * camsim_clip: serves a pre-encoded Annex B H.264/H.265 file in a loop, as
 * ready-made RTP packets.
 *
 * The file is read once and cut into access units (a new unit starts at an
 * AUD, parameter set or SEI after a picture, or at the first slice of a
 * picture). Keyframes (IDR / IRAP) that do not carry their parameter sets
 * get the stream's first ones prepended, so that a mount can start at any
 * keyframe. Each unit is then packetized once, as a camera's payloader
 * would: runs of small non-picture NAL units (parameter sets, SEI, AUD) in
 * one aggregation packet (STAP-A / AP), other NAL units alone when they
 * fit in CAMSIM_CLIP_RTP_MTU and in fragments (FU-A / FU) otherwise, the
 * marker bit on the last packet of a picture. The payloads stay in one
 * shared block for the life of the process.
 *
 * Serving a frame to a mount then only writes one 12-byte RTP header per
 * packet (the mount's SSRC, next sequence number and timestamp) in front
 * of the shared payload memory, and pushes the frame's packets as one
 * GstBufferList into the mount's appsrc, which the RTSP server takes as
 * its payloader pay0. The server sends a list with one writev per TCP
 * client, so a mount costs a few system calls per frame instead of a
 * payloader pass and a write per packet.
 *
 * One thread wakes at each frame time (absolute CLOCK_MONOTONIC deadlines,
 * so there is no drift) and feeds every registered appsrc whose pipeline
 * is PLAYING; each appsrc plays the clip from its start (a keyframe). The
 * k-th frame a sink gets has the RTP timestamp ts0 + k * 90000 / fps
 * (exact steps across loops) and, as a camera's frame, the running time
 * at which it was handed over as its pts, so that RTCP sender reports map
 * it to the time it was sent. A paused media (the server pauses a live
 * media between DESCRIBE and PLAY) gets nothing and resumes where it
 * stopped: stamping frames ahead of a paused clock would hold every later
 * frame back in the server's rate control by the time it stayed paused.
 * Likewise while the server holds the stream's first frame until PLAY.
 * The clip must have no B-frames (pts = dts).
 */
#include "camsim_clip.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <gst/app/gstappsrc.h>

/* Parameter sets prepended to keyframes that lack them. */
#define CLIP_MAX_PARAMS  3u
#define CLIP_RTP_HDR     12u
#define CLIP_MAX_PAYLOAD (CAMSIM_CLIP_RTP_MTU - CLIP_RTP_HDR)
#define CLIP_CLOCK_RATE  90000u
/* NAL units of one access unit (slices, SEI, parameter sets). */
#define CLIP_MAX_AU_NALS 1024u
/* H.264 (RFC 6184) and H.265 (RFC 7798) packet types. */
#define H264_STAP_A  24u
#define H264_FU_A    28u
#define H265_AP      48u
#define H265_FU      49u
#define H264_NAL_SPS 7u
#define H264_NAL_PPS 8u
#define H265_NAL_VPS 32u
#define H265_NAL_SPS 33u
#define H265_NAL_PPS 34u

/* One RTP packet's payload in the shared block. */
struct clip_pkt {
    guint off; /* in clip->payload */
    guint len;
    gboolean marker;
};

struct clip_au {
    size_t first_pkt;
    size_t n_pkts;
    gboolean key;
};

struct clip_sink {
    GstElement *appsrc;    /* owned reference */
    GstRTSPStream *stream; /* owned reference, or NULL */
    guint32 ssrc;
    guint16 seq; /* next sequence number */
    guint32 ts0; /* RTP timestamp of its first frame */
    guint64 k;   /* frames handed over so far */
};

struct camsim_clip {
    gboolean h265;
    unsigned fps;
    GByteArray *payload; /* owned: every packet's payload, back to back */
    GArray *pkt_off;     /* guint: offset of each packet while building */
    GArray *pkt_len;     /* guint: its length while building */
    GArray *pkt_marker;  /* gboolean: its marker bit while building */
    struct clip_pkt *pkts;
    size_t n_pkts;
    struct clip_au *aus;
    size_t n_aus;
    size_t n_keys;
    GstCaps *caps;    /* owned: caps of pay0 without the per-mount fields */
    GMutex lock;      /* guards sinks */
    GPtrArray *sinks; /* struct clip_sink *, owned */
    GThread *thread;
};

/* The pay0 element of clip mounts (see camsim_rtp_src_class_init). */
GType camsim_rtp_src_get_type(void);

struct nal {
    size_t start; /* first byte of the start code */
    size_t hdr;   /* first byte of the NAL header */
    size_t end;   /* one past the last byte (next start code) */
};

/* A NAL unit to packetize: bytes from its header on, borrowed. */
struct nal_span {
    const guint8 *p;
    size_t len;
};

/* Finds the next 00 00 01 at or after pos; returns len when none. */
static size_t find_start_code(const guint8 *p, size_t len, size_t pos)
{
    while (pos + 3 <= len) {
        if (p[pos + 2] > 1) {
            pos += 3;
        } else if (p[pos] == 0 && p[pos + 1] == 0 && p[pos + 2] == 1) {
            return pos;
        } else {
            pos++;
        }
    }
    return len;
}

static unsigned nal_type(const struct camsim_clip *c, const guint8 *h)
{
    return c->h265 ? (h[0] >> 1) & 0x3fu : h[0] & 0x1fu;
}

static gboolean type_is_vcl(const struct camsim_clip *c, unsigned t)
{
    return c->h265 ? t <= 31 : (t >= 1 && t <= 5);
}

static gboolean type_is_key(const struct camsim_clip *c, unsigned t)
{
    return c->h265 ? (t >= 16 && t <= 21) : t == 5;
}

/* Non-VCL NAL types that may only precede the first slice of a picture. */
static gboolean type_opens_au(const struct camsim_clip *c, unsigned t)
{
    if (c->h265)
        return (t >= 32 && t <= 35) || t == 39 || (t >= 41 && t <= 44) ||
               (t >= 48 && t <= 55);
    return t == 6 || t == 7 || t == 8 || t == 9 || (t >= 14 && t <= 18);
}

static size_t nal_hdr_len(const struct camsim_clip *c)
{
    return c->h265 ? 2 : 1;
}

/* first_mb_in_slice == 0 (H.264) / first_slice_segment_in_pic_flag. */
static gboolean first_slice(const struct camsim_clip *c, const guint8 *h,
                            size_t n)
{
    size_t hdr = nal_hdr_len(c);

    return n > hdr && (h[hdr] & 0x80) != 0;
}

/* Records one packet whose payload is the last len bytes of c->payload. */
static void pkt_add(struct camsim_clip *c, guint len)
{
    guint off = c->payload->len - len;
    gboolean marker = FALSE;

    g_array_append_val(c->pkt_off, off);
    g_array_append_val(c->pkt_len, len);
    g_array_append_val(c->pkt_marker, marker);
}

static void put(struct camsim_clip *c, const guint8 *p, size_t n)
{
    g_byte_array_append(c->payload, p, (guint)n);
}

/* One NAL unit in one packet. */
static void pack_single(struct camsim_clip *c, const struct nal_span *s)
{
    put(c, s->p, s->len);
    pkt_add(c, (guint)s->len);
}

/* Two or more small NAL units in one STAP-A (RFC 6184 5.7.1) or AP (RFC
 * 7798 4.4.2): each preceded by its 16-bit size. */
static void pack_aggregate(struct camsim_clip *c, const struct nal_span *s,
                           size_t n)
{
    guint8 hdr[2];
    size_t len = c->h265 ? 2 : 1;

    if (c->h265) {
        guint8 layer_tid = 0xff;

        /* F = 0, type AP, the lowest LayerId and TID of its units. */
        for (size_t i = 0; i < n; i++)
            layer_tid = MIN(layer_tid, s[i].p[1]);
        hdr[0] = (guint8)((H265_AP << 1) | (s[0].p[0] & 0x01u));
        hdr[1] = layer_tid;
    } else {
        guint8 nri = 0, f = 0;

        for (size_t i = 0; i < n; i++) {
            nri = MAX(nri, s[i].p[0] & 0x60u);
            f |= s[i].p[0] & 0x80u;
        }
        hdr[0] = (guint8)(f | nri | H264_STAP_A);
    }
    put(c, hdr, c->h265 ? 2 : 1);
    for (size_t i = 0; i < n; i++) {
        guint8 sz[2] = {(guint8)(s[i].len >> 8), (guint8)s[i].len};

        put(c, sz, 2);
        put(c, s[i].p, s[i].len);
        len += 2 + s[i].len;
    }
    pkt_add(c, (guint)len);
}

/* A NAL unit larger than one packet in fragments: FU-A (RFC 6184 5.8) or
 * FU (RFC 7798 4.4.3); the NAL header travels in the FU headers. */
static void pack_fragments(struct camsim_clip *c, const struct nal_span *s)
{
    size_t hl = nal_hdr_len(c);
    size_t fu_hl = hl + 1;
    size_t room = CLIP_MAX_PAYLOAD - fu_hl;
    unsigned t = nal_type(c, s->p);

    for (size_t pos = hl; pos < s->len;) {
        size_t n = MIN(room, s->len - pos);
        guint8 hdr[3];
        guint8 se =
            (guint8)((pos == hl ? 0x80u : 0) | (pos + n == s->len ? 0x40u : 0));

        if (c->h265) {
            hdr[0] = (guint8)((s->p[0] & 0x81u) | (H265_FU << 1));
            hdr[1] = s->p[1];
            hdr[2] = (guint8)(se | t);
        } else {
            hdr[0] = (guint8)((s->p[0] & 0xe0u) | H264_FU_A);
            hdr[1] = (guint8)(se | t);
        }
        put(c, hdr, fu_hl);
        put(c, s->p + pos, n);
        pkt_add(c, (guint)(fu_hl + n));
        pos += n;
    }
}

/* Packetizes the NAL units of one access unit; marks its last packet. */
static void pack_au(struct camsim_clip *c, const struct nal_span *s, size_t n)
{
    size_t first = c->pkt_off->len;

    for (size_t i = 0; i < n;) {
        size_t j = i, total = c->h265 ? 2 : 1;

        /* Aggregate a run of small non-picture units, as a camera's
         * payloader sends SPS+PPS in one STAP-A. */
        while (j < n && !type_is_vcl(c, nal_type(c, s[j].p)) &&
               total + 2 + s[j].len <= CLIP_MAX_PAYLOAD) {
            total += 2 + s[j].len;
            j++;
        }
        if (j - i >= 2) {
            pack_aggregate(c, s + i, j - i);
            i = j;
        } else if (s[i].len <= CLIP_MAX_PAYLOAD) {
            pack_single(c, &s[i]);
            i++;
        } else {
            pack_fragments(c, &s[i]);
            i++;
        }
    }
    if (c->pkt_off->len > first)
        g_array_index(c->pkt_marker, gboolean, c->pkt_off->len - 1) = TRUE;
}

/* Adds access unit nals[from, to) to the clip. params (n_params spans)
 * are prepended to a keyframe without its own SPS. */
static int add_au(struct camsim_clip *c, const guint8 *p,
                  const struct nal *nals, guint from, guint to,
                  const struct nal_span *params, size_t n_params)
{
    struct nal_span spans[CLIP_MAX_AU_NALS + CLIP_MAX_PARAMS];
    size_t n = 0;
    gboolean key = FALSE, has_sps = FALSE;
    struct clip_au *au;

    if (c->n_aus >= CAMSIM_CLIP_MAX_AUS) {
        fprintf(stderr, "camsim: clip has more than %u frames\n",
                CAMSIM_CLIP_MAX_AUS);
        return -EMSGSIZE;
    }
    if (to - from > CLIP_MAX_AU_NALS) {
        fprintf(stderr, "camsim: clip frame has more than %u NAL units\n",
                CLIP_MAX_AU_NALS);
        return -EMSGSIZE;
    }
    for (guint i = from; i < to; i++) {
        unsigned t = nal_type(c, p + nals[i].hdr);

        key = key || (type_is_vcl(c, t) && type_is_key(c, t));
        has_sps = has_sps || t == (c->h265 ? H265_NAL_SPS : H264_NAL_SPS);
    }
    /* A clip may not start mid-GOP: drop units before the first key. */
    if (c->n_keys == 0 && !key)
        return 0;
    if (key && !has_sps) {
        memcpy(spans, params, n_params * sizeof(*params));
        n = n_params;
    }
    for (guint i = from; i < to; i++) {
        spans[n].p = p + nals[i].hdr;
        spans[n].len = nals[i].end - nals[i].hdr;
        n++;
    }
    au = &c->aus[c->n_aus++];
    au->key = key;
    au->first_pkt = c->pkt_off->len;
    pack_au(c, spans, n);
    au->n_pkts = c->pkt_off->len - au->first_pkt;
    if (key)
        c->n_keys++;
    return 0;
}

/* The first VPS/SPS/PPS of the stream, in that order, into params. */
static size_t collect_params(const struct camsim_clip *c, const guint8 *p,
                             const struct nal *nals, size_t n_nals,
                             struct nal_span *params)
{
    static const unsigned h264[] = {H264_NAL_SPS, H264_NAL_PPS};
    static const unsigned h265[] = {H265_NAL_VPS, H265_NAL_SPS, H265_NAL_PPS};
    const unsigned *want = c->h265 ? h265 : h264;
    size_t n_want = c->h265 ? G_N_ELEMENTS(h265) : G_N_ELEMENTS(h264);
    size_t n = 0;

    for (size_t w = 0; w < n_want; w++) {
        for (size_t i = 0; i < n_nals; i++) {
            if (nal_type(c, p + nals[i].hdr) == want[w]) {
                params[n].p = p + nals[i].hdr;
                params[n].len = nals[i].end - nals[i].hdr;
                n++;
                break;
            }
        }
    }
    return n;
}

/* Base64 of a parameter set for the SDP (returns owned). */
static gchar *param_b64(const struct nal_span *params, size_t n, unsigned t,
                        const struct camsim_clip *c)
{
    for (size_t i = 0; i < n; i++) {
        if (nal_type(c, params[i].p) == t)
            return g_base64_encode(params[i].p, params[i].len);
    }
    return NULL;
}

/* The caps an RTP payloader would put on pay0: what the server turns into
 * the SDP (rtpmap, fmtp with the parameter sets, framerate). */
static void make_caps(struct camsim_clip *c, const struct nal_span *params,
                      size_t n_params)
{
    gchar *fps = g_strdup_printf("%u", c->fps);

    c->caps = gst_caps_new_simple(
        "application/x-rtp", "media", G_TYPE_STRING, "video", "clock-rate",
        G_TYPE_INT, (int)CLIP_CLOCK_RATE, "encoding-name", G_TYPE_STRING,
        c->h265 ? "H265" : "H264", "payload", G_TYPE_INT, (int)CAMSIM_CLIP_PT,
        "a-framerate", G_TYPE_STRING, fps, NULL);
    g_free(fps);
    if (c->h265) {
        static const struct {
            const char *field;
            unsigned type;
        } sprop[] = {{"sprop-vps", H265_NAL_VPS},
                     {"sprop-sps", H265_NAL_SPS},
                     {"sprop-pps", H265_NAL_PPS}};

        for (size_t i = 0; i < G_N_ELEMENTS(sprop); i++) {
            gchar *b64 = param_b64(params, n_params, sprop[i].type, c);

            if (b64 != NULL)
                gst_caps_set_simple(c->caps, sprop[i].field, G_TYPE_STRING, b64,
                                    NULL);
            g_free(b64);
        }
        return;
    }
    gst_caps_set_simple(c->caps, "packetization-mode", G_TYPE_STRING, "1",
                        NULL);
    {
        gchar *sps = param_b64(params, n_params, H264_NAL_SPS, c);
        gchar *pps = param_b64(params, n_params, H264_NAL_PPS, c);

        if (sps != NULL && pps != NULL) {
            gchar *both = g_strdup_printf("%s,%s", sps, pps);

            gst_caps_set_simple(c->caps, "sprop-parameter-sets", G_TYPE_STRING,
                                both, NULL);
            g_free(both);
        }
        g_free(sps);
        g_free(pps);
    }
    for (size_t i = 0; i < n_params; i++) {
        if (nal_type(c, params[i].p) == H264_NAL_SPS && params[i].len >= 4) {
            gchar *pli = g_strdup_printf("%02x%02x%02x", params[i].p[1],
                                         params[i].p[2], params[i].p[3]);

            gst_caps_set_simple(c->caps, "profile-level-id", G_TYPE_STRING, pli,
                                NULL);
            g_free(pli);
            break;
        }
    }
}

/* Cuts data into access units and packetizes them. */
static int split(struct camsim_clip *c, const guint8 *p, size_t len)
{
    GArray *nals = g_array_new(FALSE, FALSE, sizeof(struct nal));
    struct nal_span params[CLIP_MAX_PARAMS];
    size_t n_params;
    size_t pos = find_start_code(p, len, 0);
    guint au_first = 0;
    gboolean au_vcl = FALSE;
    int rc = 0;

    while (pos < len) {
        struct nal n;

        n.start = pos > 0 && p[pos - 1] == 0 ? pos - 1 : pos;
        n.hdr = pos + 3;
        n.end = find_start_code(p, len, n.hdr);
        /* Trailing zero bytes belong to the next start code. */
        while (n.end < len && n.end > n.hdr && p[n.end - 1] == 0)
            n.end--;
        if (n.end > n.hdr + nal_hdr_len(c))
            g_array_append_val(nals, n);
        pos = find_start_code(p, len, n.hdr);
    }
    n_params = collect_params(c, p, (struct nal *)(void *)nals->data, nals->len,
                              params);
    make_caps(c, params, n_params);
    c->aus = g_new0(struct clip_au, MIN(nals->len, CAMSIM_CLIP_MAX_AUS) + 1);

    for (guint i = 0; i < nals->len && rc == 0; i++) {
        const struct nal *n = &g_array_index(nals, struct nal, i);
        const guint8 *h = p + n->hdr;
        unsigned t = nal_type(c, h);
        gboolean vcl = type_is_vcl(c, t);
        gboolean opens =
            vcl ? first_slice(c, h, n->end - n->hdr) : type_opens_au(c, t);

        if (au_vcl && opens) {
            rc = add_au(c, p, (struct nal *)(void *)nals->data, au_first, i,
                        params, n_params);
            au_first = i;
            au_vcl = FALSE;
        }
        au_vcl = au_vcl || vcl;
    }
    if (rc == 0 && au_vcl)
        rc = add_au(c, p, (struct nal *)(void *)nals->data, au_first, nals->len,
                    params, n_params);
    g_array_free(nals, TRUE);
    return rc;
}

/* The packet table, once every payload is in place. */
static void wrap_packets(struct camsim_clip *c)
{
    c->n_pkts = c->pkt_off->len;
    c->pkts = g_new0(struct clip_pkt, c->n_pkts);
    for (size_t i = 0; i < c->n_pkts; i++) {
        guint off = g_array_index(c->pkt_off, guint, i);
        guint len = g_array_index(c->pkt_len, guint, i);

        c->pkts[i].off = off;
        c->pkts[i].len = len;
        c->pkts[i].marker = g_array_index(c->pkt_marker, gboolean, i);
    }
    g_array_free(c->pkt_off, TRUE);
    g_array_free(c->pkt_len, TRUE);
    g_array_free(c->pkt_marker, TRUE);
    c->pkt_off = c->pkt_len = c->pkt_marker = NULL;
}

static void clip_free(struct camsim_clip *c)
{
    g_free(c->pkts);
    g_free(c->aus);
    if (c->pkt_off != NULL) {
        g_array_free(c->pkt_off, TRUE);
        g_array_free(c->pkt_len, TRUE);
        g_array_free(c->pkt_marker, TRUE);
    }
    if (c->caps != NULL)
        gst_caps_unref(c->caps);
    g_byte_array_unref(c->payload);
    g_free(c);
}

int camsim_clip_load(const char *path, gboolean h265, unsigned fps,
                     struct camsim_clip **out)
{
    struct camsim_clip *c;
    struct stat st;
    GError *err = NULL;
    gchar *data;
    gsize len;
    int rc;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "camsim: --clip %s: %s\n", path, strerror(errno));
        return -ENOENT;
    }
    if (!S_ISREG(st.st_mode) || st.st_size <= 0 ||
        (unsigned long long)st.st_size > CAMSIM_CLIP_MAX_BYTES) {
        fprintf(stderr,
                "camsim: --clip %s: not a regular file of 1..%u bytes\n", path,
                CAMSIM_CLIP_MAX_BYTES);
        return -EINVAL;
    }
    if (!g_file_get_contents(path, &data, &len, &err)) {
        fprintf(stderr, "camsim: --clip %s: %s\n", path, err->message);
        g_error_free(err);
        return -EIO;
    }
    if (len > CAMSIM_CLIP_MAX_BYTES) {
        g_free(data);
        return -EINVAL;
    }
    c = g_new0(struct camsim_clip, 1);
    c->h265 = h265;
    c->fps = fps;
    c->payload = g_byte_array_sized_new((guint)(len + len / 64 + 64));
    c->pkt_off = g_array_new(FALSE, FALSE, sizeof(guint));
    c->pkt_len = g_array_new(FALSE, FALSE, sizeof(guint));
    c->pkt_marker = g_array_new(FALSE, FALSE, sizeof(gboolean));
    rc = split(c, (const guint8 *)data, len);
    g_free(data);
    if (rc == 0 && c->n_keys == 0) {
        fprintf(stderr,
                "camsim: --clip %s: no %s keyframe found (Annex B "
                "%s expected; see --video)\n",
                path, h265 ? "IRAP" : "IDR", h265 ? "H.265" : "H.264");
        rc = -EINVAL;
    }
    if (rc < 0) {
        clip_free(c);
        return rc;
    }
    wrap_packets(c);
    if (!gst_element_register(NULL, CAMSIM_CLIP_SRC_ELEMENT, GST_RANK_NONE,
                              camsim_rtp_src_get_type())) {
        fprintf(stderr,
                "camsim: cannot register " CAMSIM_CLIP_SRC_ELEMENT "\n");
        clip_free(c);
        return -EIO;
    }
    g_mutex_init(&c->lock);
    c->sinks = g_ptr_array_new();
    *out = c;
    return 0;
}

size_t camsim_clip_frames(const struct camsim_clip *clip)
{
    return clip->n_aus;
}

size_t camsim_clip_keyframes(const struct camsim_clip *clip)
{
    return clip->n_keys;
}

size_t camsim_clip_packets(const struct camsim_clip *clip)
{
    return clip->n_pkts;
}

guint64 camsim_clip_payload_bytes(const struct camsim_clip *clip)
{
    return clip->payload->len;
}

guint64 camsim_clip_duration_ns(const struct camsim_clip *clip)
{
    return (guint64)clip->n_aus * GST_SECOND / clip->fps;
}

void camsim_clip_add_sink(struct camsim_clip *clip, GstElement *appsrc,
                          GstRTSPStream *stream)
{
    struct clip_sink *s = g_new0(struct clip_sink, 1);
    GstCaps *caps = gst_caps_copy(clip->caps);

    s->appsrc = gst_object_ref(appsrc);
    s->stream = stream != NULL ? g_object_ref(stream) : NULL;
    /* Random bases, as RFC 3550 asks of a sender. */
    do {
        s->ssrc = g_random_int();
    } while (s->ssrc == 0);
    s->seq = (guint16)g_random_int();
    s->ts0 = g_random_int();
    gst_caps_set_simple(caps, "ssrc", G_TYPE_UINT, s->ssrc, "seqnum-offset",
                        G_TYPE_UINT, (guint)s->seq, "timestamp-offset",
                        G_TYPE_UINT, s->ts0, NULL);
    g_object_set(appsrc, "caps", caps, NULL);
    gst_caps_unref(caps);
    g_mutex_lock(&clip->lock);
    g_ptr_array_add(clip->sinks, s);
    g_mutex_unlock(&clip->lock);
}

void camsim_clip_remove_sink(struct camsim_clip *clip, GstElement *appsrc)
{
    struct clip_sink *found = NULL;

    g_mutex_lock(&clip->lock);
    for (guint i = 0; i < clip->sinks->len; i++) {
        struct clip_sink *s = g_ptr_array_index(clip->sinks, i);

        if (s->appsrc == appsrc) {
            found = s;
            g_ptr_array_remove_index_fast(clip->sinks, i);
            break;
        }
    }
    g_mutex_unlock(&clip->lock);
    if (found != NULL) {
        gst_object_unref(found->appsrc);
        if (found->stream != NULL)
            g_object_unref(found->stream);
        g_free(found);
    }
}

/*
 * camsimrtpsrc: an appsrc that answers the questions the RTSP server asks
 * a payloader. The server reads pay0's "pt" property (for retransmission
 * and FEC set-up) without checking that it exists; a bare appsrc would
 * have GLib warn on every client. GObject needs the typedefs.
 */
typedef struct {
    GstAppSrc parent;
} CamsimRtpSrc;

typedef struct {
    GstAppSrcClass parent_class;
} CamsimRtpSrcClass;

enum { RTP_SRC_PROP_0, RTP_SRC_PROP_PT };

G_DEFINE_TYPE(CamsimRtpSrc, camsim_rtp_src, GST_TYPE_APP_SRC)

static void camsim_rtp_src_get_property(GObject *obj, guint id, GValue *v,
                                        GParamSpec *pspec)
{
    if (id == RTP_SRC_PROP_PT)
        g_value_set_uint(v, CAMSIM_CLIP_PT);
    else
        G_OBJECT_WARN_INVALID_PROPERTY_ID(obj, id, pspec);
}

static void camsim_rtp_src_class_init(CamsimRtpSrcClass *klass)
{
    GObjectClass *oc = G_OBJECT_CLASS(klass);

    oc->get_property = camsim_rtp_src_get_property;
    g_object_class_install_property(
        oc, RTP_SRC_PROP_PT,
        g_param_spec_uint("pt", "Payload type", "RTP payload type", 0, 127,
                          CAMSIM_CLIP_PT,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
}

static void camsim_rtp_src_init(CamsimRtpSrc *self)
{
}

static guint64 frame_ns(const struct camsim_clip *c, guint64 n)
{
    return n * GST_SECOND / c->fps;
}

/* One packet of a sink: its own header and a copy of the payload in one
 * memory. Copying 1.4 kB is cheaper than sharing the clip's memory between
 * mounts: a shared GstMemory is locked, reffed and mapped by every mount's
 * threads, and its counters bounce between CPUs. */
static GstBuffer *make_packet(const struct camsim_clip *c,
                              const struct clip_pkt *pkt, guint16 seq,
                              guint32 ts, guint32 ssrc)
{
    GstBuffer *buf =
        gst_buffer_new_allocate(NULL, CLIP_RTP_HDR + pkt->len, NULL);
    GstMapInfo map;
    guint8 *h;

    if (buf == NULL || !gst_buffer_map(buf, &map, GST_MAP_WRITE)) {
        if (buf != NULL)
            gst_buffer_unref(buf);
        return NULL;
    }
    h = map.data;
    h[0] = 0x80; /* version 2, no padding, extension or CSRC */
    h[1] = (guint8)((pkt->marker ? 0x80u : 0) | CAMSIM_CLIP_PT);
    GST_WRITE_UINT16_BE(h + 2, seq);
    GST_WRITE_UINT32_BE(h + 4, ts);
    GST_WRITE_UINT32_BE(h + 8, ssrc);
    memcpy(h + CLIP_RTP_HDR, c->payload->data + pkt->off, pkt->len);
    gst_buffer_unmap(buf, &map);
    return buf;
}

/* Pushes the next frame to one sink; called with the lock held. Each sink
 * plays the clip from its first unit (a keyframe) on, so a new client
 * never waits for the shared clip to reach a keyframe: the RTSP server
 * prepares medias one at a time, and waiting there would add up over
 * mounts. */
static void feed(struct camsim_clip *c, struct clip_sink *s)
{
    const struct clip_au *au;
    GstBufferList *list;
    GstClockTime pts, now, base;
    GstClock *clock;
    guint32 ts;
    guint64 k;

    /* A racy read is fine: a frame more or less around a state change. */
    if (GST_STATE(s->appsrc) != GST_STATE_PLAYING)
        return;
    /* The server holds a new live media's first frame until the first
     * PLAY (DESCRIBE and SETUP come first): frames made meanwhile would
     * pile up in the appsrc, and on a loaded machine overflow it. A
     * camera's stream starts with the session, so the clip waits too. */
    if (s->stream != NULL && gst_rtsp_stream_is_blocking(s->stream))
        return;
    clock = gst_element_get_clock(s->appsrc);
    if (clock == NULL)
        return;
    now = gst_clock_get_time(clock);
    base = gst_element_get_base_time(s->appsrc);
    gst_object_unref(clock);
    pts = now > base ? now - base : 0;
    k = s->k++;
    au = &c->aus[k % c->n_aus];
    ts = s->ts0 + (guint32)(k * CLIP_CLOCK_RATE / c->fps);
    list = gst_buffer_list_new_sized((guint)au->n_pkts);
    for (size_t i = 0; i < au->n_pkts; i++) {
        GstBuffer *buf =
            make_packet(c, &c->pkts[au->first_pkt + i], s->seq++, ts, s->ssrc);

        if (buf == NULL)
            continue;
        GST_BUFFER_PTS(buf) = pts;
        GST_BUFFER_DTS(buf) = pts;
        if (!au->key)
            GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
        gst_buffer_list_add(list, buf);
    }
    /* Takes the list; a flushing or full appsrc drops it. */
    (void)gst_app_src_push_buffer_list(GST_APP_SRC(s->appsrc), list);
}

static gpointer pace(gpointer user_data)
{
    struct camsim_clip *c = user_data;
    struct timespec t0;
    guint64 start_ns;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    start_ns = (guint64)t0.tv_sec * GST_SECOND + (guint64)t0.tv_nsec;
    for (guint64 n = 0;; n++) {
        guint64 due = start_ns + frame_ns(c, n);
        struct timespec ts = {
            .tv_sec = (time_t)(due / GST_SECOND),
            .tv_nsec = (long)(due % GST_SECOND),
        };

        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
               EINTR) {
        }
        g_mutex_lock(&c->lock);
        for (guint i = 0; i < c->sinks->len; i++)
            feed(c, g_ptr_array_index(c->sinks, i));
        g_mutex_unlock(&c->lock);
    }
    return NULL;
}

int camsim_clip_start(struct camsim_clip *clip)
{
    GError *err = NULL;

    clip->thread = g_thread_try_new("camsim-clip", pace, clip, &err);
    if (clip->thread == NULL) {
        fprintf(stderr, "camsim: cannot start the clip thread: %s\n",
                err->message);
        g_error_free(err);
        return -EAGAIN;
    }
    return 0;
}
