/* SPDX-License-Identifier: MIT */
/*
 * camsim: a simulated IP camera for integration tests and `nvr demo`.
 *
 * It runs the GStreamer RTSP server on 127.0.0.1 only and serves one live
 * stream per mount: H.264, H.265 or MJPEG video (test pattern + wall
 * clock, encoded live) or a pre-encoded H.264/H.265 clip played in a loop
 * (camsim_clip.c, no encoder), optionally with an AAC, PCMA or PCMU audio
 * track, over TCP-interleaved and/or UDP. Optional Digest authentication
 * mimics a real camera's login. A control directory lets a test make
 * single mounts misbehave like real cameras: DIR/<mount>.down takes the
 * mount away (clients disconnected, 404 Not Found), .reboot restarts its
 * RTP streams with a new SSRC, sequence number and timestamp base on the
 * same connection, .stall stops its media, .drop loses about 10% of its
 * RTP packets. SIGUSR1 toggles all mounts down/up.
 *
 * Protocol on stdout, once the server listens:
 *   READY port=<N>
 *   MOUNT rtsp://127.0.0.1:<N>/<name>     (one line per mount)
 * Everything else (diagnostics, transitions) goes to stderr.
 *
 * Exit status: 0 after SIGTERM/SIGINT, 1 on a runtime error (port in use,
 * missing GStreamer element), 2 on a bad command line.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/rtp/gstrtpbuffer.h>
#include <gst/rtsp-server/rtsp-server.h>

#include "camsim_clip.h"

#define CAMSIM_MAX_MOUNTS         256
#define CAMSIM_MAX_TRACKS         2 /* pay0 video, pay1 audio */
#define CAMSIM_DROP_PERCENT       10
#define CAMSIM_UDP_PORT_MIN       20000
#define CAMSIM_UDP_PORT_MAX       59999
#define CAMSIM_MOUNT_NAME_MAX     64
#define CAMSIM_CONTROL_TICK_MS    200
#define CAMSIM_CLIP_QUEUE_S       3  /* frames a clip mount's appsrc holds */
#define CAMSIM_MAX_CLIENT_THREADS 16 /* threads serving RTSP connections */
#define CAMSIM_ADDRESS            "127.0.0.1"
#define CAMSIM_ROLE               "camsim-user"
#define CAMSIM_MOUNT_KEY          "camsim-mount"
/* --sync-marks: a white frame and the start of a beep, every period. */
#define CAMSIM_MARK_PERIOD_NS ((guint64)2 * GST_SECOND)
#define CAMSIM_BEEP_NS        ((guint64)100 * GST_MSECOND)
/* --audio-rtcp late: the audio track's RTCP starts this long after its
 * first packet would have gone (and again after a reboot). */
#define CAMSIM_RTCP_LATE_S 10

#define EXIT_USAGE         2

enum camsim_video { CAMSIM_VIDEO_H264, CAMSIM_VIDEO_H265, CAMSIM_VIDEO_MJPEG };
enum camsim_audio {
    CAMSIM_AUDIO_NONE,
    CAMSIM_AUDIO_AAC,
    CAMSIM_AUDIO_PCMA,
    CAMSIM_AUDIO_PCMU,
};
enum camsim_transport {
    CAMSIM_TRANSPORT_BOTH,
    CAMSIM_TRANSPORT_TCP,
    CAMSIM_TRANSPORT_UDP,
};
enum camsim_rtcp { CAMSIM_RTCP_NORMAL, CAMSIM_RTCP_LATE, CAMSIM_RTCP_NONE };

/* How one track's RTP header is rewritten after a simulated reboot. */
struct camsim_rewrite {
    gboolean active;   /* FALSE until the first reboot */
    gboolean wait_key; /* video after a reboot: drop until a keyframe */
    guint32 ssrc;
    guint16 seq_off;
    guint32 ts_off;
};

struct camsim_mount;

/* User data of a payloader's src pad probe. */
struct camsim_probe {
    struct camsim_mount *mount;
    unsigned track;
};

struct camsim_mount {
    char name[CAMSIM_MOUNT_NAME_MAX + 1];
    char path[CAMSIM_MOUNT_NAME_MAX + 2]; /* "/" + name */
    const char *pattern;                  /* videotestsrc pattern nick */
    gboolean down; /* removed from the mount points right now */
    struct camsim *cs;
    /* Misbehaviour, read by the streaming threads' probes. */
    gint stall;     /* atomic: drop every RTP packet */
    gint drop;      /* atomic: drop CAMSIM_DROP_PERCENT of them */
    GMutex rw_lock; /* guards rw */
    struct camsim_rewrite rw[CAMSIM_MAX_TRACKS];
    struct camsim_probe probes[CAMSIM_MAX_TRACKS];
    GPtrArray *medias; /* GstRTSPMedia * (weak) alive for this mount */
    /* --sync-marks: where the video frames fall, so that each beep starts
     * at the running time of the white frame (guarded by rw_lock). */
    gboolean phase_known;
    guint64 phase_ns;    /* video PTS modulo the frame duration */
    gint audio_rate;     /* Hz of the audio encoder's input, 0: unknown */
    gint64 rtcp_from_us; /* --audio-rtcp late: g_get_monotonic_time()
                            from which audio RTCP may go; 0: not set */
};

struct camsim_opts {
    unsigned port; /* 0: any free port */
    const char *user;
    const char *pass;
    GstRTSPAuthMethod auth_methods; /* --auth: the schemes offered */
    const char *control_dir;
    unsigned fps;
    unsigned width;
    unsigned height;
    unsigned bitrate_kbps;
    unsigned gop;               /* frames between IDRs; 0 means 2 * fps */
    unsigned bframes;           /* consecutive B-frames (x264/x265), 0..3 */
    unsigned session_timeout_s; /* advertised and enforced */
    enum camsim_video video;
    enum camsim_audio audio;
    enum camsim_transport transport;
    const char *clip;            /* pre-encoded Annex B file, or NULL */
    gboolean sync_marks;         /* white frame + beep every 2 s */
    enum camsim_rtcp audio_rtcp; /* audio sender reports: on, late, none */
};

struct camsim {
    struct camsim_opts opts;
    struct camsim_mount mounts[CAMSIM_MAX_MOUNTS];
    size_t n_mounts;
    gboolean all_down; /* toggled by SIGUSR1 */
    gboolean have_clock;
    gboolean have_aggregate;
    GMainLoop *loop;
    GstRTSPServer *server;
    GstRTSPMountPoints *mount_points;
    GstRTSPAuth *auth;            /* NULL when no --user/--pass */
    struct camsim_clip *clip;     /* NULL without --clip */
    GMutex media_lock;            /* guards every mount's medias */
    GstRTSPAddressPool *udp_pool; /* 127.0.0.1 ports for UDP media */
};

/* What a set of options needs, as a bit mask over the element table. */
enum {
    NEED_ALWAYS = 1u << 0,
    NEED_LIVE_VIDEO = 1u << 1, /* test pattern (no --clip) */
    NEED_X264 = 1u << 2,
    NEED_H264 = 1u << 3,
    NEED_X265 = 1u << 4,
    NEED_H265 = 1u << 5,
    NEED_MJPEG = 1u << 6,
    NEED_AUDIO = 1u << 7,
    NEED_AAC = 1u << 8,
    NEED_PCMA = 1u << 9,
    NEED_PCMU = 1u << 10,
    NEED_CLIP = 1u << 11,
};

/* Element factory name and the Debian package that ships it. */
struct camsim_element {
    const char *name;
    const char *package;
    unsigned need; /* NEED_* bits that require it */
    gboolean required;
};

static const struct camsim_element camsim_elements[] = {
    {"videotestsrc", "gstreamer1.0-plugins-base", NEED_LIVE_VIDEO, TRUE},
    {"videoconvert", "gstreamer1.0-plugins-base", NEED_LIVE_VIDEO, TRUE},
    {"x264enc", "gstreamer1.0-plugins-ugly", NEED_X264, TRUE},
    {"rtph264pay", "gstreamer1.0-plugins-good", NEED_H264, TRUE},
    {"x265enc", "gstreamer1.0-plugins-bad", NEED_X265, TRUE},
    {"rtph265pay", "gstreamer1.0-plugins-good", NEED_H265, TRUE},
    {"jpegenc", "gstreamer1.0-plugins-good", NEED_MJPEG, TRUE},
    {"rtpjpegpay", "gstreamer1.0-plugins-good", NEED_MJPEG, TRUE},
    {"audiotestsrc", "gstreamer1.0-plugins-base", NEED_AUDIO, TRUE},
    {"audioconvert", "gstreamer1.0-plugins-base", NEED_AUDIO, TRUE},
    {"voaacenc", "gstreamer1.0-plugins-bad", NEED_AAC, TRUE},
    {"rtpmp4gpay", "gstreamer1.0-plugins-good", NEED_AAC, TRUE},
    {"alawenc", "gstreamer1.0-plugins-good", NEED_PCMA, TRUE},
    {"rtppcmapay", "gstreamer1.0-plugins-good", NEED_PCMA, TRUE},
    {"mulawenc", "gstreamer1.0-plugins-good", NEED_PCMU, TRUE},
    {"rtppcmupay", "gstreamer1.0-plugins-good", NEED_PCMU, TRUE},
    {"appsrc", "gstreamer1.0-plugins-base", NEED_CLIP, TRUE},
    /* Elements the RTSP server itself builds around each stream. */
    {"rtpbin", "gstreamer1.0-plugins-good", NEED_ALWAYS, TRUE},
    {"udpsink", "gstreamer1.0-plugins-good", NEED_ALWAYS, TRUE},
    {"appsink", "gstreamer1.0-plugins-base", NEED_ALWAYS, TRUE},
    {"queue", "libgstreamer1.0-0", NEED_ALWAYS, TRUE},
    /* Debian ships the pango plugin (clockoverlay) in gstreamer1.0-x. */
    {"clockoverlay", "gstreamer1.0-x", NEED_LIVE_VIDEO, FALSE},
};

static const char *const camsim_video_names[] = {"h264", "h265", "mjpeg"};
static const char *const camsim_audio_names[] = {"none", "aac", "pcma", "pcmu"};
static const char *const camsim_transport_names[] = {"both", "tcp", "udp"};
static const char *const camsim_rtcp_names[] = {"normal", "late", "none"};

/* Patterns that encode cheaply and differ visibly between mounts; the
 * moving ball comes first so that cam1 has motion. */
static const char *const camsim_patterns[] = {
    "ball", "smpte", "pinwheel", "spokes", "circular", "colors",
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: camsim [--port N] [--mount NAME]... [--user U --pass P]\n"
            "              [--auth digest|basic|both]\n"
            "              [--control DIR] [--fps N] [--width W --height H]\n"
            "              [--bitrate KBPS] [--gop N] [--bframes N]\n"
            "              [--session-timeout S]\n"
            "              [--video h264|h265|mjpeg] [--audio "
            "none|aac|pcma|pcmu]\n"
            "              [--transport tcp|udp|both] [--clip FILE]\n"
            "              [--sync-marks] [--audio-rtcp normal|late|none]\n"
            "              [--address 127.0.0.1]\n"
            "Serves test streams on rtsp://127.0.0.1:PORT/NAME.\n"
            "  --port N       TCP port, 0 (default) picks a free one\n"
            "  --mount NAME   mount name (repeatable, default cam1)\n"
            "  --user/--pass  require authentication (Digest by default)\n"
            "  --auth SCHEMES what the 401 offers: digest (default), basic\n"
            "                 (Basic only) or both (Basic and Digest)\n"
            "  --control DIR  DIR/NAME.down|.reboot|.stall|.drop: misbehave\n"
            "  --fps N        frame rate (default 25)\n"
            "  --width/--height  picture size (default 640x360)\n"
            "  --bitrate KBPS encoder bitrate (default 1000)\n"
            "  --gop N        frames between keyframes (default 2*fps)\n"
            "  --bframes N    B-frames between references, 0..3 (default 0;\n"
            "                 live H.264/H.265 only)\n"
            "  --session-timeout S  RTSP session timeout (default 60)\n"
            "  --video CODEC  h264 (default), h265 or mjpeg\n"
            "  --audio CODEC  none (default), aac, pcma or pcmu\n"
            "  --transport T  tcp, udp or both (default) offered\n"
            "  --clip FILE    loop a pre-encoded Annex B H.264/H.265 file\n"
            "                 (codec from --video) instead of encoding\n"
            "  --sync-marks   a white frame and the start of a 100 ms beep at\n"
            "                 the same running time every 2 s (live video\n"
            "                 and audio only)\n"
            "  --audio-rtcp R audio RTCP: normal (default), late (none for\n"
            "                 the first 10 s and after a reboot) or none\n"
            "Prints 'READY port=N' and one 'MOUNT url' line per mount.\n");
}

/* Returns the index of s in names[n], or -EINVAL after a message. */
static int parse_enum(const char *opt, const char *s, const char *const *names,
                      size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s, names[i]) == 0)
            return (int)i;
    }
    fprintf(stderr, "camsim: %s: unknown value '%s'\n", opt, s);
    return -EINVAL;
}

static int parse_uint(const char *opt, const char *s, unsigned min,
                      unsigned max, unsigned *out)
{
    char *end = NULL;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < min ||
        v > max) {
        fprintf(stderr, "camsim: %s: '%s' is not a number in [%u, %u]\n", opt,
                s, min, max);
        return -EINVAL;
    }
    *out = (unsigned)v;
    return 0;
}

static int add_mount(struct camsim *cs, const char *name)
{
    struct camsim_mount *m;
    size_t len = strlen(name);

    if (len == 0 || len > CAMSIM_MOUNT_NAME_MAX) {
        fprintf(stderr, "camsim: mount name must be 1..%d characters\n",
                CAMSIM_MOUNT_NAME_MAX);
        return -EINVAL;
    }
    /* The name becomes a URL path segment and a file name: keep it plain. */
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!g_ascii_isalnum(c) && c != '-' && c != '_' && c != '.') {
            fprintf(stderr,
                    "camsim: bad mount name '%s' (use A-Z a-z 0-9 "
                    "- _ .)\n",
                    name);
            return -EINVAL;
        }
    }
    if (name[0] == '.') {
        fprintf(stderr, "camsim: mount name may not start with '.'\n");
        return -EINVAL;
    }
    for (size_t i = 0; i < cs->n_mounts; i++) {
        if (strcmp(cs->mounts[i].name, name) == 0) {
            fprintf(stderr, "camsim: duplicate mount '%s'\n", name);
            return -EINVAL;
        }
    }
    if (cs->n_mounts >= CAMSIM_MAX_MOUNTS) {
        fprintf(stderr, "camsim: at most %d mounts\n", CAMSIM_MAX_MOUNTS);
        return -EINVAL;
    }
    m = &cs->mounts[cs->n_mounts];
    memcpy(m->name, name, len + 1);
    m->path[0] = '/';
    memcpy(m->path + 1, name, len + 1);
    m->pattern = camsim_patterns[cs->n_mounts % G_N_ELEMENTS(camsim_patterns)];
    m->down = FALSE;
    m->cs = cs;
    g_mutex_init(&m->rw_lock);
    m->medias = g_ptr_array_new();
    for (unsigned t = 0; t < CAMSIM_MAX_TRACKS; t++) {
        m->probes[t].mount = m;
        m->probes[t].track = t;
    }
    cs->n_mounts++;
    return 0;
}

enum {
    OPT_PORT = 256,
    OPT_MOUNT,
    OPT_USER,
    OPT_PASS,
    OPT_CONTROL,
    OPT_FPS,
    OPT_WIDTH,
    OPT_HEIGHT,
    OPT_BITRATE,
    OPT_GOP,
    OPT_ADDRESS,
    OPT_SESSION_TIMEOUT,
    OPT_BFRAMES,
    OPT_VIDEO,
    OPT_AUDIO,
    OPT_TRANSPORT,
    OPT_CLIP,
    OPT_SYNC_MARKS,
    OPT_AUDIO_RTCP,
    OPT_AUTH,
    OPT_HELP,
};

static const struct option camsim_long_opts[] = {
    {"port", required_argument, NULL, OPT_PORT},
    {"mount", required_argument, NULL, OPT_MOUNT},
    {"user", required_argument, NULL, OPT_USER},
    {"pass", required_argument, NULL, OPT_PASS},
    {"control", required_argument, NULL, OPT_CONTROL},
    {"fps", required_argument, NULL, OPT_FPS},
    {"width", required_argument, NULL, OPT_WIDTH},
    {"height", required_argument, NULL, OPT_HEIGHT},
    {"bitrate", required_argument, NULL, OPT_BITRATE},
    {"gop", required_argument, NULL, OPT_GOP},
    {"address", required_argument, NULL, OPT_ADDRESS},
    {"session-timeout", required_argument, NULL, OPT_SESSION_TIMEOUT},
    {"bframes", required_argument, NULL, OPT_BFRAMES},
    {"video", required_argument, NULL, OPT_VIDEO},
    {"audio", required_argument, NULL, OPT_AUDIO},
    {"transport", required_argument, NULL, OPT_TRANSPORT},
    {"clip", required_argument, NULL, OPT_CLIP},
    {"sync-marks", no_argument, NULL, OPT_SYNC_MARKS},
    {"audio-rtcp", required_argument, NULL, OPT_AUDIO_RTCP},
    {"auth", required_argument, NULL, OPT_AUTH},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* Returns 0, 1 when --help was printed, or -EINVAL after a message. */
static int parse_args(struct camsim *cs, int argc, char **argv)
{
    struct camsim_opts *o = &cs->opts;
    int c;

    o->port = 0;
    o->fps = 25;
    o->width = 640;
    o->height = 360;
    o->bitrate_kbps = 1000;
    o->gop = 0;
    o->session_timeout_s = 60;
    o->auth_methods = GST_RTSP_AUTH_DIGEST;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", camsim_long_opts, NULL)) != -1) {
        int rc = 0;
        const char *cur = argv[optind - 1];

        switch (c) {
        case OPT_PORT:
            rc = parse_uint("--port", optarg, 0, 65535, &o->port);
            break;
        case OPT_MOUNT:
            rc = add_mount(cs, optarg);
            break;
        case OPT_USER:
            o->user = optarg;
            break;
        case OPT_PASS:
            o->pass = optarg;
            break;
        case OPT_AUTH:
            if (strcmp(optarg, "digest") == 0) {
                o->auth_methods = GST_RTSP_AUTH_DIGEST;
            } else if (strcmp(optarg, "basic") == 0) {
                o->auth_methods = GST_RTSP_AUTH_BASIC;
            } else if (strcmp(optarg, "both") == 0) {
                o->auth_methods = GST_RTSP_AUTH_BASIC | GST_RTSP_AUTH_DIGEST;
            } else {
                fprintf(stderr,
                        "camsim: --auth: expected digest, basic or both\n");
                rc = -EINVAL;
            }
            break;
        case OPT_CONTROL:
            o->control_dir = optarg;
            break;
        case OPT_FPS:
            rc = parse_uint("--fps", optarg, 1, 120, &o->fps);
            break;
        case OPT_WIDTH:
            rc = parse_uint("--width", optarg, 16, 3840, &o->width);
            break;
        case OPT_HEIGHT:
            rc = parse_uint("--height", optarg, 16, 2160, &o->height);
            break;
        case OPT_BITRATE:
            rc = parse_uint("--bitrate", optarg, 16, 100000, &o->bitrate_kbps);
            break;
        case OPT_GOP:
            rc = parse_uint("--gop", optarg, 1, 1000, &o->gop);
            break;
        case OPT_BFRAMES:
            rc = parse_uint("--bframes", optarg, 0, 3, &o->bframes);
            break;
        case OPT_SESSION_TIMEOUT:
            rc = parse_uint("--session-timeout", optarg, 2, 3600,
                            &o->session_timeout_s);
            break;
        case OPT_VIDEO:
            rc = parse_enum("--video", optarg, camsim_video_names,
                            G_N_ELEMENTS(camsim_video_names));
            if (rc >= 0)
                o->video = (enum camsim_video)rc;
            break;
        case OPT_AUDIO:
            rc = parse_enum("--audio", optarg, camsim_audio_names,
                            G_N_ELEMENTS(camsim_audio_names));
            if (rc >= 0)
                o->audio = (enum camsim_audio)rc;
            break;
        case OPT_TRANSPORT:
            rc = parse_enum("--transport", optarg, camsim_transport_names,
                            G_N_ELEMENTS(camsim_transport_names));
            if (rc >= 0)
                o->transport = (enum camsim_transport)rc;
            break;
        case OPT_CLIP:
            o->clip = optarg;
            break;
        case OPT_SYNC_MARKS:
            o->sync_marks = TRUE;
            break;
        case OPT_AUDIO_RTCP:
            rc = parse_enum("--audio-rtcp", optarg, camsim_rtcp_names,
                            G_N_ELEMENTS(camsim_rtcp_names));
            if (rc >= 0)
                o->audio_rtcp = (enum camsim_rtcp)rc;
            break;
        case OPT_ADDRESS:
            if (strcmp(optarg, CAMSIM_ADDRESS) != 0) {
                fprintf(stderr,
                        "camsim: refusing address '%s': camsim "
                        "binds " CAMSIM_ADDRESS " only\n",
                        optarg);
                rc = -EINVAL;
            }
            break;
        case OPT_HELP:
            usage(stdout);
            return 1;
        case ':':
            fprintf(stderr, "camsim: option %s needs a value\n", cur);
            rc = -EINVAL;
            break;
        default:
            fprintf(stderr, "camsim: unknown option '%s'\n", cur);
            rc = -EINVAL;
            break;
        }
        if (rc < 0)
            return rc;
    }
    if (optind < argc) {
        fprintf(stderr, "camsim: unexpected argument '%s'\n", argv[optind]);
        return -EINVAL;
    }
    if ((o->user == NULL) != (o->pass == NULL)) {
        fprintf(stderr, "camsim: --user and --pass go together\n");
        return -EINVAL;
    }
    if (o->user != NULL && (o->user[0] == '\0' || strchr(o->user, ':'))) {
        fprintf(stderr, "camsim: --user must be non-empty without ':'\n");
        return -EINVAL;
    }
    /* x264 with 4:2:0 chroma needs even dimensions. */
    if (o->width % 2 != 0 || o->height % 2 != 0) {
        fprintf(stderr, "camsim: --width and --height must be even\n");
        return -EINVAL;
    }
    if (o->control_dir != NULL &&
        !g_file_test(o->control_dir, G_FILE_TEST_IS_DIR)) {
        fprintf(stderr, "camsim: --control %s: not a directory\n",
                o->control_dir);
        return -EINVAL;
    }
    if (o->clip != NULL && o->video == CAMSIM_VIDEO_MJPEG) {
        fprintf(stderr, "camsim: --clip takes H.264 or H.265 only\n");
        return -EINVAL;
    }
    /* RFC 2435 carries width and height in units of 8 pixels, max 255. */
    if (o->video == CAMSIM_VIDEO_MJPEG &&
        (o->width > 2040 || o->height > 2040)) {
        fprintf(stderr, "camsim: MJPEG pictures are at most 2040x2040\n");
        return -EINVAL;
    }
    if (o->sync_marks && (o->clip != NULL || o->audio == CAMSIM_AUDIO_NONE ||
                          o->video == CAMSIM_VIDEO_MJPEG)) {
        fprintf(stderr, "camsim: --sync-marks needs live H.264/H.265 video "
                        "and --audio\n");
        return -EINVAL;
    }
    if (o->bframes > 0 && (o->clip != NULL || o->video == CAMSIM_VIDEO_MJPEG)) {
        fprintf(stderr, "camsim: --bframes needs live H.264/H.265 video\n");
        return -EINVAL;
    }
    if (o->gop == 0)
        o->gop = 2 * o->fps;
    if (cs->n_mounts == 0)
        return add_mount(cs, "cam1");
    return 0;
}

/* The NEED_* bits the options call for. */
static unsigned camsim_needs(const struct camsim_opts *o)
{
    static const unsigned audio_needs[] = {0, NEED_AAC, NEED_PCMA, NEED_PCMU};
    unsigned need = NEED_ALWAYS;

    if (o->clip != NULL)
        need |= NEED_CLIP;
    else
        need |= NEED_LIVE_VIDEO;
    switch (o->video) {
    case CAMSIM_VIDEO_H264:
        /* A clip is packetized by camsim itself (camsim_clip.c). */
        need |= o->clip == NULL ? NEED_H264 | NEED_X264 : 0;
        break;
    case CAMSIM_VIDEO_H265:
        need |= o->clip == NULL ? NEED_H265 | NEED_X265 : 0;
        break;
    case CAMSIM_VIDEO_MJPEG:
        need |= NEED_MJPEG;
        break;
    }
    if (o->audio != CAMSIM_AUDIO_NONE)
        need |= NEED_AUDIO | audio_needs[o->audio];
    return need;
}

/* Returns 0, or -ENOENT after naming every missing required element. */
static int check_elements(struct camsim *cs)
{
    unsigned need = camsim_needs(&cs->opts);
    const char *pay_name = NULL;
    int rc = 0;

    for (size_t i = 0; i < G_N_ELEMENTS(camsim_elements); i++) {
        const struct camsim_element *e = &camsim_elements[i];
        GstElementFactory *f;

        if ((e->need & need) == 0)
            continue;
        f = gst_element_factory_find(e->name);
        if (f != NULL) {
            gst_object_unref(f);
            if (strcmp(e->name, "clockoverlay") == 0)
                cs->have_clock = TRUE;
            continue;
        }
        if (e->required) {
            fprintf(stderr,
                    "camsim: GStreamer element '%s' is missing "
                    "(install the Debian package %s)\n",
                    e->name, e->package);
            rc = -ENOENT;
        } else {
            fprintf(stderr,
                    "camsim: warning: GStreamer element '%s' is "
                    "missing (Debian package %s); the picture will have "
                    "no clock\n",
                    e->name, e->package);
        }
    }
    if (cs->opts.clip != NULL)
        pay_name = NULL;
    else if (cs->opts.video == CAMSIM_VIDEO_H264)
        pay_name = "rtph264pay";
    else if (cs->opts.video == CAMSIM_VIDEO_H265)
        pay_name = "rtph265pay";
    if (rc == 0 && pay_name != NULL) {
        /* aggregate-mode appeared in GStreamer 1.18; older payloaders
         * simply do not get it. */
        GstElement *pay = gst_element_factory_make(pay_name, NULL);

        if (pay != NULL) {
            cs->have_aggregate =
                g_object_class_find_property(G_OBJECT_GET_CLASS(pay),
                                             "aggregate-mode") != NULL;
            gst_object_unref(pay);
        }
    }
    return rc;
}

/* Returns the owned video part of a launch line, ending in pay0. */
static gchar *build_video(const struct camsim *cs, const struct camsim_mount *m)
{
    const struct camsim_opts *o = &cs->opts;
    const char *aggregate =
        cs->have_aggregate ? " aggregate-mode=zero-latency" : "";
    gchar *clock = NULL;
    gchar *enc;
    gchar *video;

    if (o->clip != NULL) {
        /* The clip is packetized once (camsim_clip.c): the appsrc
         * pushes finished RTP packets and stands for the payloader, so
         * no mount parses or payloads anything. Its caps (SSRC and
         * bases) are set when the media is constructed. */
        return g_strdup(CAMSIM_CLIP_SRC_ELEMENT " name=pay0 is-live=true "
                                                "format=time "
                                                "do-timestamp=false");
    }
    if (cs->have_clock) {
        clock = g_strdup_printf(
            "clockoverlay text=\"%s\" time-format=\"%%Y-%%m-%%d %%H:%%M:%%S\" "
            "halignment=left valignment=top shaded-background=true "
            "font-desc=\"Sans 16\" ! ",
            m->name);
    }
    switch (o->video) {
    case CAMSIM_VIDEO_H265:
        /* One thread and parameter sets before every IRAP, so that a
         * client may join at any keyframe. */
        /* With B-frames the lookahead must hold them (x265 refuses a
         * shorter one) and a fixed pattern (b-adapt=0) keeps the
         * reorder depth the same in every GOP. */
        enc = g_strdup_printf(
            "x265enc name=venc tune=zerolatency speed-preset=ultrafast "
            "key-int-max=%u "
            "bitrate=%u option-string=\"pools=1:frame-threads=1:"
            "repeat-headers=1:bframes=%u%s\" "
            "! rtph265pay name=pay0 pt=96 config-interval=-1%s",
            o->gop, o->bitrate_kbps, o->bframes,
            o->bframes ? ":b-adapt=0:rc-lookahead=8" : "", aggregate);
        break;
    case CAMSIM_VIDEO_MJPEG:
        /* RTP/JPEG (RFC 2435) has the static payload type 26. */
        enc = g_strdup("jpegenc quality=50 ! rtpjpegpay name=pay0 pt=26");
        break;
    case CAMSIM_VIDEO_H264:
    default:
        /* threads=1 keeps one slice per picture and the CPU use low. */
        /* B-frames need the main or high profile (the payloader's caps
         * would let x264 pick constrained baseline); b-adapt=false uses
         * every B-frame slot, so each GOP has the same reorder depth. */
        enc = g_strdup_printf(
            "x264enc name=venc tune=zerolatency speed-preset=ultrafast "
            "bframes=%u%s "
            "threads=1 key-int-max=%u bitrate=%u %s"
            "! rtph264pay name=pay0 pt=96 config-interval=-1%s",
            o->bframes, o->bframes ? " b-adapt=false" : "", o->gop,
            o->bitrate_kbps, o->bframes ? "! video/x-h264,profile=high " : "",
            aggregate);
        break;
    }
    /* The capsfilter pins the frame rate, so timestamps step exactly by
     * 1/fps. */
    video = g_strdup_printf(
        "videotestsrc is-live=true pattern=%s "
        "! video/x-raw,format=I420,width=%u,height=%u,framerate=%u/1 "
        "! %svideoconvert ! %s%s",
        m->pattern, o->width, o->height, o->fps, clock ? clock : "",
        o->sync_marks ? "video/x-raw,format=I420 ! " : "", enc);
    g_free(clock);
    g_free(enc);
    return video;
}

/* Returns the owned audio part of a launch line (pay1), or NULL. */
static gchar *build_audio(const struct camsim *cs)
{
    /* A quiet tone; buffers of one AAC frame (1024 samples) or of one
     * 20 ms G.711 packet, timestamped by sample count on the pipeline's
     * clock like the video. With --sync-marks a louder 1 kHz tone, gated
     * into beeps on the encoder's input (on_audio_buffer()). */
    const char *src =
        cs->opts.sync_marks
            ? "audiotestsrc is-live=true wave=sine freq=1000 volume=0.5 "
            : "audiotestsrc is-live=true wave=sine freq=440 volume=0.2 ";

    switch (cs->opts.audio) {
    case CAMSIM_AUDIO_AAC:
        return g_strdup_printf(
            "%s samplesperbuffer=1024 ! audioconvert "
            "! audio/x-raw,format=S16LE,rate=16000,channels=1 "
            "! voaacenc name=aenc bitrate=32000 ! rtpmp4gpay name=pay1 pt=97",
            src);
    case CAMSIM_AUDIO_PCMA:
        return g_strdup_printf(
            "%s samplesperbuffer=160 ! audioconvert "
            "! audio/x-raw,format=S16LE,rate=8000,channels=1 ! alawenc "
            "name=aenc "
            "! rtppcmapay name=pay1 pt=8 max-ptime=20000000",
            src);
    case CAMSIM_AUDIO_PCMU:
        return g_strdup_printf(
            "%s samplesperbuffer=160 ! audioconvert "
            "! audio/x-raw,format=S16LE,rate=8000,channels=1 ! mulawenc "
            "name=aenc "
            "! rtppcmupay name=pay1 pt=0 max-ptime=20000000",
            src);
    case CAMSIM_AUDIO_NONE:
    default:
        return NULL;
    }
}

/* Returns an owned launch line for one mount. */
static gchar *build_launch(const struct camsim *cs,
                           const struct camsim_mount *m)
{
    gchar *video = build_video(cs, m);
    gchar *audio = build_audio(cs);
    gchar *launch = g_strdup_printf("( %s %s )", video, audio ? audio : "");

    g_free(video);
    g_free(audio);
    return launch;
}

/* Whether an H.264 or H.265 RTP packet starts a keyframe: its parameter
 * sets (STAP-A or SPS, RFC 6184; AP or VPS, RFC 7798, as the encoders
 * here send them first), or the first packet of an IDR / IRAP picture. */
static gboolean starts_keyframe(GstBuffer *buf, enum camsim_video video)
{
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    gboolean key = FALSE;

    if (!gst_rtp_buffer_map(buf, GST_MAP_READ, &rtp))
        return FALSE;
    {
        const guint8 *pl = gst_rtp_buffer_get_payload(&rtp);
        guint len = gst_rtp_buffer_get_payload_len(&rtp);

        if (len >= 2 && video == CAMSIM_VIDEO_H264) {
            unsigned type = pl[0] & 0x1f;

            key = type == 24 || type == 7 || type == 5 ||
                  (type == 28 && (pl[1] & 0x80) && (pl[1] & 0x1f) == 5);
        } else if (len >= 3 && video == CAMSIM_VIDEO_H265) {
            unsigned type = (pl[0] >> 1) & 0x3f;

            key = type == 48 || type == 32 || (type >= 16 && type <= 21) ||
                  (type == 49 && (pl[2] & 0x80) && (pl[2] & 0x3f) >= 16 &&
                   (pl[2] & 0x3f) <= 21);
        }
    }
    gst_rtp_buffer_unmap(&rtp);
    return key;
}

/* Rewrites one RTP packet for the mount's reboot state; FALSE drops it.
 * Runs on a streaming thread. */
static gboolean rewrite_packet(struct camsim_probe *p, GstBuffer **buf)
{
    struct camsim_mount *m = p->mount;
    struct camsim_rewrite rw;
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    GstMapInfo map;

    if (g_atomic_int_get(&m->stall))
        return FALSE;
    if (g_atomic_int_get(&m->drop) &&
        g_random_int_range(0, 100) < CAMSIM_DROP_PERCENT)
        return FALSE;
    g_mutex_lock(&m->rw_lock);
    rw = m->rw[p->track];
    /* What the encoder had queued before the reboot (the rest of a frame,
     * frames that refer to it) never reaches the new session: a camera
     * that reboots starts again at a keyframe. */
    if (rw.wait_key) {
        if (!starts_keyframe(*buf, m->cs->opts.video)) {
            g_mutex_unlock(&m->rw_lock);
            return FALSE;
        }
        m->rw[p->track].wait_key = FALSE;
    }
    g_mutex_unlock(&m->rw_lock);
    if (!rw.active)
        return TRUE;
    *buf = gst_buffer_make_writable(*buf);
    /* The header alone is rewritten: payloaders (and the clip) put it in
     * the first memory, and mapping the whole packet for writing may copy
     * a payload the buffer shares with others. */
    if (gst_buffer_n_memory(*buf) > 0 &&
        gst_buffer_map_range(*buf, 0, 1, &map, GST_MAP_READWRITE)) {
        gboolean done = map.size >= 12 && (map.data[0] & 0xc0) == 0x80 &&
                        (map.data[0] & 0x0f) == 0;

        if (done) {
            guint16 seq =
                (guint16)(GST_READ_UINT16_BE(map.data + 2) + rw.seq_off);

            GST_WRITE_UINT16_BE(map.data + 2, seq);
            GST_WRITE_UINT32_BE(map.data + 4,
                                GST_READ_UINT32_BE(map.data + 4) + rw.ts_off);
            GST_WRITE_UINT32_BE(map.data + 8, rw.ssrc);
        }
        gst_buffer_unmap(*buf, &map);
        if (done)
            return TRUE;
    }
    if (gst_rtp_buffer_map(*buf, GST_MAP_READWRITE, &rtp)) {
        gst_rtp_buffer_set_ssrc(&rtp, rw.ssrc);
        gst_rtp_buffer_set_seq(
            &rtp, (guint16)(gst_rtp_buffer_get_seq(&rtp) + rw.seq_off));
        gst_rtp_buffer_set_timestamp(&rtp, gst_rtp_buffer_get_timestamp(&rtp) +
                                               rw.ts_off);
        gst_rtp_buffer_unmap(&rtp);
    }
    return TRUE;
}

static gboolean rewrite_list_item(GstBuffer **buf, guint idx, gpointer data)
{
    if (!rewrite_packet(data, buf)) {
        gst_buffer_unref(*buf);
        *buf = NULL;
    }
    return TRUE;
}

static GstPadProbeReturn on_pay_buffer(GstPad *pad, GstPadProbeInfo *info,
                                       gpointer user_data)
{
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
        GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);

        if (!rewrite_packet(user_data, &buf))
            return GST_PAD_PROBE_DROP;
        GST_PAD_PROBE_INFO_DATA(info) = buf;
    } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
        GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);

        list = gst_buffer_list_make_writable(list);
        gst_buffer_list_foreach(list, rewrite_list_item, user_data);
        GST_PAD_PROBE_INFO_DATA(info) = list;
        if (gst_buffer_list_length(list) == 0)
            return GST_PAD_PROBE_DROP;
    }
    return GST_PAD_PROBE_OK;
}

/* Hooks the misbehaviour probe on payloader pay<track> of a media. */
static void hook_payloader(struct camsim_mount *m, GstElement *bin,
                           unsigned track)
{
    gchar *name = g_strdup_printf("pay%u", track);
    GstElement *pay = gst_bin_get_by_name(GST_BIN(bin), name);
    GstPad *src;

    g_free(name);
    if (pay == NULL)
        return;
    src = gst_element_get_static_pad(pay, "src");
    if (src != NULL) {
        gst_pad_add_probe(
            src, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
            on_pay_buffer, &m->probes[track], NULL);
        gst_object_unref(src);
    }
    gst_object_unref(pay);
}

/* Adds a buffer probe on pad `pad` of element `name` in bin. */
static gboolean hook_pad(GstElement *bin, const char *name, const char *pad,
                         GstPadProbeCallback cb, gpointer data)
{
    GstElement *e = gst_bin_get_by_name(GST_BIN(bin), name);
    GstPad *p = e != NULL ? gst_element_get_static_pad(e, pad) : NULL;

    if (p != NULL) {
        gst_pad_add_probe(p, GST_PAD_PROBE_TYPE_BUFFER, cb, data, NULL);
        gst_object_unref(p);
    }
    if (e != NULL)
        gst_object_unref(e);
    return p != NULL;
}

/*
 * --sync-marks: the running time at which the mark that running time t
 * belongs to starts: the first video frame at or after the last multiple
 * of CAMSIM_MARK_PERIOD_NS. That frame is white, and the beep starts at
 * its PTS, so both carry the same RTP time instant whatever the phase of
 * the frames. Caller holds rw_lock, with phase_known set.
 */
static guint64 mark_start(const struct camsim_mount *m, guint64 t,
                          guint64 frame_ns)
{
    guint64 mark = t - t % CAMSIM_MARK_PERIOD_NS;

    return mark + (m->phase_ns + frame_ns - mark % frame_ns) % frame_ns;
}

/* Whitens the frame that starts a mark (I420 at the encoder's input). */
static GstPadProbeReturn on_video_buffer(GstPad *pad, GstPadProbeInfo *info,
                                         gpointer user_data)
{
    struct camsim_mount *m = user_data;
    const struct camsim_opts *o = &m->cs->opts;
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
    guint64 frame_ns = GST_SECOND / o->fps, pts, start;
    gsize luma = (gsize)GST_ROUND_UP_4(o->width) * o->height;
    GstMapInfo map;

    if (buf == NULL || !GST_BUFFER_PTS_IS_VALID(buf))
        return GST_PAD_PROBE_OK;
    pts = GST_BUFFER_PTS(buf);
    g_mutex_lock(&m->rw_lock);
    if (!m->phase_known) {
        m->phase_known = TRUE;
        m->phase_ns = pts % frame_ns;
    }
    start = mark_start(m, pts, frame_ns);
    g_mutex_unlock(&m->rw_lock);
    if (pts + frame_ns / 2 < start || pts >= start + frame_ns / 2)
        return GST_PAD_PROBE_OK;
    buf = gst_buffer_make_writable(buf);
    if (gst_buffer_map(buf, &map, GST_MAP_WRITE)) {
        memset(map.data, 235, MIN(luma, map.size));
        if (map.size > luma)
            memset(map.data + luma, 128, map.size - luma);
        gst_buffer_unmap(buf, &map);
    }
    GST_PAD_PROBE_INFO_DATA(info) = buf;
    return GST_PAD_PROBE_OK;
}

/* Gates the tone (S16LE mono at the encoder's input) into beeps of
 * CAMSIM_BEEP_NS from each mark's start, to the sample. */
static GstPadProbeReturn on_audio_buffer(GstPad *pad, GstPadProbeInfo *info,
                                         gpointer user_data)
{
    struct camsim_mount *m = user_data;
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
    guint64 frame_ns = GST_SECOND / m->cs->opts.fps, pts;
    gboolean known;
    gint rate;
    GstMapInfo map;

    if (buf == NULL || !GST_BUFFER_PTS_IS_VALID(buf))
        return GST_PAD_PROBE_OK;
    g_mutex_lock(&m->rw_lock);
    if (m->audio_rate == 0) {
        GstCaps *caps = gst_pad_get_current_caps(pad);

        if (caps != NULL) {
            (void)gst_structure_get_int(gst_caps_get_structure(caps, 0), "rate",
                                        &m->audio_rate);
            gst_caps_unref(caps);
        }
    }
    rate = m->audio_rate;
    known = m->phase_known;
    g_mutex_unlock(&m->rw_lock);
    pts = GST_BUFFER_PTS(buf);
    buf = gst_buffer_make_writable(buf);
    GST_PAD_PROBE_INFO_DATA(info) = buf;
    if (!gst_buffer_map(buf, &map, GST_MAP_READWRITE))
        return GST_PAD_PROBE_OK;
    for (gsize i = 0; i + 1 < map.size; i += 2) {
        guint64 t, start = 0;
        gboolean on = FALSE;

        if (known && rate > 0) {
            t = pts + gst_util_uint64_scale(i / 2, GST_SECOND, (guint64)rate);
            g_mutex_lock(&m->rw_lock);
            start = mark_start(m, t, frame_ns);
            g_mutex_unlock(&m->rw_lock);
            on = t >= start && t < start + CAMSIM_BEEP_NS;
        }
        if (!on)
            map.data[i] = map.data[i + 1] = 0;
    }
    gst_buffer_unmap(buf, &map);
    return GST_PAD_PROBE_OK;
}

/* --audio-rtcp: drops the audio track's RTCP (sender reports), always or
 * for CAMSIM_RTCP_LATE_S from the first one. */
static GstPadProbeReturn on_audio_rtcp(GstPad *pad, GstPadProbeInfo *info,
                                       gpointer user_data)
{
    struct camsim_mount *m = user_data;
    gint64 now = g_get_monotonic_time();
    gboolean drop;

    if (m->cs->opts.audio_rtcp == CAMSIM_RTCP_NONE)
        return GST_PAD_PROBE_DROP;
    g_mutex_lock(&m->rw_lock);
    if (m->rtcp_from_us == 0)
        m->rtcp_from_us = now + (gint64)CAMSIM_RTCP_LATE_S * G_USEC_PER_SEC;
    drop = now < m->rtcp_from_us;
    g_mutex_unlock(&m->rw_lock);
    return drop ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

/* Once the media's rtpbin exists, hooks on_audio_rtcp on the RTCP output
 * of the audio session (session 1: pay1). */
static void on_media_prepared(GstRTSPMedia *media, gpointer user_data)
{
    struct camsim_mount *m = user_data;
    GstElement *bin = gst_rtsp_media_get_element(media);
    GstObject *pipe =
        bin != NULL ? gst_object_get_parent(GST_OBJECT(bin)) : NULL;
    GValue v = G_VALUE_INIT;
    gboolean done = FALSE, hooked = FALSE;
    GstIterator *it;

    if (bin != NULL)
        gst_object_unref(bin);
    if (pipe == NULL || !GST_IS_BIN(pipe)) {
        if (pipe != NULL)
            gst_object_unref(pipe);
        fprintf(stderr, "camsim: mount %s: no pipeline for --audio-rtcp\n",
                m->name);
        return;
    }
    g_mutex_lock(&m->rw_lock);
    m->rtcp_from_us = 0;
    g_mutex_unlock(&m->rw_lock);
    it = gst_bin_iterate_recurse(GST_BIN(pipe));
    while (!done) {
        switch (gst_iterator_next(it, &v)) {
        case GST_ITERATOR_OK: {
            GstElement *e = g_value_get_object(&v);
            GstElementFactory *f = gst_element_get_factory(e);

            if (!hooked && f != NULL &&
                strcmp(GST_OBJECT_NAME(f), "rtpbin") == 0) {
                GstPad *p = gst_element_get_static_pad(e, "send_rtcp_src_1");

                if (p != NULL) {
                    gst_pad_add_probe(p,
                                      GST_PAD_PROBE_TYPE_BUFFER |
                                          GST_PAD_PROBE_TYPE_BUFFER_LIST,
                                      on_audio_rtcp, m, NULL);
                    gst_object_unref(p);
                    hooked = TRUE;
                }
            }
            g_value_reset(&v);
            break;
        }
        case GST_ITERATOR_RESYNC:
            gst_iterator_resync(it);
            break;
        default:
            done = TRUE;
            break;
        }
    }
    g_value_unset(&v);
    gst_iterator_free(it);
    gst_object_unref(pipe);
    if (!hooked)
        fprintf(stderr, "camsim: mount %s: cannot find the audio RTCP output\n",
                m->name);
}

/* A media of a mount that is alive, with references to the elements the
 * control files act on. */
struct camsim_media {
    GstRTSPMedia *media; /* weak: only compared */
    GstElement *pay0;    /* owned reference */
    GstElement *src0;    /* owned reference; clip mounts only */
};

/* Forgets a media (unprepared or finalized); does nothing the second
 * time. */
static void media_forget(struct camsim_mount *m, GstRTSPMedia *media)
{
    struct camsim *cs = m->cs;
    struct camsim_media *found = NULL;

    g_mutex_lock(&cs->media_lock);
    for (guint i = 0; i < m->medias->len; i++) {
        struct camsim_media *e = g_ptr_array_index(m->medias, i);

        if (e->media == media) {
            found = e;
            g_ptr_array_remove_index_fast(m->medias, i);
            break;
        }
    }
    g_mutex_unlock(&cs->media_lock);
    if (found == NULL)
        return;
    if (found->src0 != NULL) {
        camsim_clip_remove_sink(cs->clip, found->src0);
        gst_object_unref(found->src0);
    }
    if (found->pay0 != NULL)
        gst_object_unref(found->pay0);
    g_free(found);
}

static void on_media_gone(gpointer user_data, GObject *where_the_object_was)
{
    media_forget(user_data, (GstRTSPMedia *)(void *)where_the_object_was);
}

static void on_media_unprepared(GstRTSPMedia *media, gpointer user_data)
{
    media_forget(user_data, media);
}

/* Queue limits of a clip mount's appsrc, then registers it with the clip
 * (which sets its caps). */
static void clip_sink_setup(struct camsim *cs, GstRTSPMedia *media,
                            GstElement *src)
{
    GstRTSPStream *stream = gst_rtsp_media_get_stream(media, 0);
    GObjectClass *k = G_OBJECT_GET_CLASS(src);
    guint64 dur = camsim_clip_duration_ns(cs->clip);
    guint64 bytes = camsim_clip_payload_bytes(cs->clip);
    guint64 max_bytes = CAMSIM_CLIP_QUEUE_S * 2 * bytes * GST_SECOND /
                        MAX(dur, (guint64)GST_SECOND);

    /* The queue holds CAMSIM_CLIP_QUEUE_S of frames: enough to ride out
     * the time between DESCRIBE (the media starts and blocks until PLAY)
     * and PLAY, and a streaming thread starved on a loaded machine,
     * without losing a frame. A client that stays behind longer loses
     * whole frames (lists) instead of growing the queue without bound.
     * The default limit (200000 bytes) is a fraction of a second of a
     * 4 Mbit/s stream. max-time, max-buffers and leaky-type exist since
     * 1.20; a list counts as one buffer or as its packets depending on
     * the version, so buffers are not limited. */
    g_object_set(src, "max-bytes", MAX(max_bytes, (guint64)(4u << 20)), NULL);
    if (g_object_class_find_property(k, "max-buffers") != NULL)
        g_object_set(src, "max-buffers", (guint64)0, NULL);
    if (g_object_class_find_property(k, "max-time") != NULL)
        g_object_set(src, "max-time",
                     (guint64)(CAMSIM_CLIP_QUEUE_S * GST_SECOND), NULL);
    if (g_object_class_find_property(k, "leaky-type") != NULL)
        gst_util_set_object_arg(G_OBJECT(src), "leaky-type", "downstream");
    camsim_clip_add_sink(cs->clip, src, stream);
}

static void on_media_constructed(GstRTSPMediaFactory *factory,
                                 GstRTSPMedia *media, gpointer user_data)
{
    struct camsim_mount *m = user_data;
    struct camsim *cs = m->cs;
    GstElement *bin = gst_rtsp_media_get_element(media);
    struct camsim_media *e = g_new0(struct camsim_media, 1);

    /* Tag each media with its mount so that sessions can be traced back to
     * it when the mount goes down. */
    g_object_set_data(G_OBJECT(media), CAMSIM_MOUNT_KEY, m);
    e->media = media;
    if (bin != NULL) {
        /* Only control files make a mount misbehave: without them the
         * packets need no look on their way. */
        for (unsigned t = 0;
             cs->opts.control_dir != NULL && t < CAMSIM_MAX_TRACKS; t++)
            hook_payloader(m, bin, t);
        if (cs->opts.sync_marks) {
            g_mutex_lock(&m->rw_lock);
            m->phase_known = FALSE;
            m->audio_rate = 0;
            g_mutex_unlock(&m->rw_lock);
            if (!hook_pad(bin, "venc", "sink", on_video_buffer, m) ||
                !hook_pad(bin, "aenc", "sink", on_audio_buffer, m))
                fprintf(stderr, "camsim: mount %s: cannot add sync marks\n",
                        m->name);
        }
        e->pay0 = gst_bin_get_by_name(GST_BIN(bin), "pay0");
        if (cs->clip != NULL && e->pay0 != NULL)
            e->src0 = gst_object_ref(e->pay0);
        gst_object_unref(bin);
    }
    if (e->src0 != NULL)
        clip_sink_setup(cs, media, e->src0);
    g_mutex_lock(&cs->media_lock);
    g_ptr_array_add(m->medias, e);
    g_mutex_unlock(&cs->media_lock);
    g_object_weak_ref(G_OBJECT(media), on_media_gone, m);
    g_signal_connect(media, "unprepared", G_CALLBACK(on_media_unprepared), m);
    if (cs->opts.audio_rtcp != CAMSIM_RTCP_NORMAL &&
        cs->opts.audio != CAMSIM_AUDIO_NONE)
        g_signal_connect(media, "prepared", G_CALLBACK(on_media_prepared), m);
}

static GstRTSPLowerTrans camsim_protocols(const struct camsim_opts *o)
{
    switch (o->transport) {
    case CAMSIM_TRANSPORT_TCP:
        return GST_RTSP_LOWER_TRANS_TCP;
    case CAMSIM_TRANSPORT_UDP:
        return GST_RTSP_LOWER_TRANS_UDP;
    case CAMSIM_TRANSPORT_BOTH:
    default:
        return GST_RTSP_LOWER_TRANS_TCP | GST_RTSP_LOWER_TRANS_UDP;
    }
}

static void mount_up(struct camsim *cs, struct camsim_mount *m)
{
    GstRTSPMediaFactory *f = gst_rtsp_media_factory_new();
    gchar *launch = build_launch(cs, m);

    gst_rtsp_media_factory_set_launch(f, launch);
    g_free(launch);
    gst_rtsp_media_factory_set_shared(f, TRUE);
    gst_rtsp_media_factory_set_protocols(f, camsim_protocols(&cs->opts));
    /* UDP sockets for RTP/RTCP bind to 127.0.0.1 like the RTSP socket
     * (without a unicast pool the server binds them to any address). */
    gst_rtsp_media_factory_set_address_pool(f, cs->udp_pool);
    if (cs->auth != NULL) {
        gst_rtsp_media_factory_add_role(
            f, CAMSIM_ROLE, GST_RTSP_PERM_MEDIA_FACTORY_ACCESS, G_TYPE_BOOLEAN,
            TRUE, GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, G_TYPE_BOOLEAN, TRUE,
            NULL);
    }
    g_signal_connect(f, "media-constructed", G_CALLBACK(on_media_constructed),
                     m);
    /* The mount points take ownership of the factory. */
    gst_rtsp_mount_points_add_factory(cs->mount_points, m->path, f);
    m->down = FALSE;
}

struct camsim_match {
    const struct camsim_mount *mount;
    gboolean hit;
};

static GstRTSPFilterResult sessmedia_match(GstRTSPSession *sess,
                                           GstRTSPSessionMedia *sm,
                                           gpointer user_data)
{
    struct camsim_match *match = user_data;
    GstRTSPMedia *media = gst_rtsp_session_media_get_media(sm);

    if (media != NULL &&
        g_object_get_data(G_OBJECT(media), CAMSIM_MOUNT_KEY) == match->mount)
        match->hit = TRUE;
    return GST_RTSP_FILTER_KEEP;
}

static GstRTSPFilterResult client_session_match(GstRTSPClient *client,
                                                GstRTSPSession *sess,
                                                gpointer user_data)
{
    GList *l = gst_rtsp_session_filter(sess, sessmedia_match, user_data);

    g_list_free(l);
    return GST_RTSP_FILTER_KEEP;
}

static GstRTSPFilterResult pool_session_drop(GstRTSPSessionPool *pool,
                                             GstRTSPSession *sess,
                                             gpointer user_data)
{
    struct camsim_match match = {.mount = user_data, .hit = FALSE};
    GList *l = gst_rtsp_session_filter(sess, sessmedia_match, &match);

    g_list_free(l);
    return match.hit ? GST_RTSP_FILTER_REMOVE : GST_RTSP_FILTER_KEEP;
}

static void mount_down(struct camsim *cs, struct camsim_mount *m)
{
    GList *clients;
    GstRTSPSessionPool *pool;
    GList *left;

    /* New DESCRIBE/SETUP on the path now get 404 Not Found. */
    gst_rtsp_mount_points_remove_factory(cs->mount_points, m->path);
    m->down = TRUE;

    /* Drop the TCP connection of every client streaming this mount, as a
     * rebooting camera would. The list holds a ref on each client, so
     * closing one while walking is safe. */
    clients = gst_rtsp_server_client_filter(cs->server, NULL, NULL);
    for (GList *l = clients; l != NULL; l = l->next) {
        GstRTSPClient *client = l->data;
        struct camsim_match match = {.mount = m, .hit = FALSE};
        GList *r = gst_rtsp_client_session_filter(client, client_session_match,
                                                  &match);

        g_list_free(r);
        if (match.hit)
            gst_rtsp_client_close(client);
    }
    g_list_free_full(clients, g_object_unref);

    /* UDP sessions outlive their RTSP connection; remove them too so that
     * the shared media stops streaming. */
    pool = gst_rtsp_server_get_session_pool(cs->server);
    if (pool != NULL) {
        left = gst_rtsp_session_pool_filter(pool, pool_session_drop, m);
        g_list_free_full(left, g_object_unref);
        g_object_unref(pool);
    }
}

static gboolean control_file_exists(const struct camsim *cs,
                                    const struct camsim_mount *m,
                                    const char *suffix)
{
    gchar *file;
    gboolean exists;

    if (cs->opts.control_dir == NULL)
        return FALSE;
    file = g_strdup_printf("%s/%s.%s", cs->opts.control_dir, m->name, suffix);
    exists = access(file, F_OK) == 0;
    g_free(file);
    return exists;
}

static gboolean mount_wants_down(const struct camsim *cs,
                                 const struct camsim_mount *m)
{
    if (cs->all_down)
        return TRUE;
    return control_file_exists(cs, m, "down");
}

/* Asks the encoder feeding a payloader for a keyframe now, so that the
 * stream after a reboot starts with one as a real camera's does. */
static void force_keyframe(GstElement *pay)
{
    GstPad *sink = gst_element_get_static_pad(pay, "sink");
    GstStructure *s;

    if (sink == NULL)
        return;
    s = gst_structure_new("GstForceKeyUnit", "all-headers", G_TYPE_BOOLEAN,
                          TRUE, NULL);
    (void)gst_pad_push_event(
        sink, gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM, s));
    gst_object_unref(sink);
}

/* A camera reboot on the same connection: every track of the mount gets
 * a new SSRC and new random sequence and timestamp bases at once. */
static void mount_reboot(struct camsim *cs, struct camsim_mount *m)
{
    GPtrArray *pays = g_ptr_array_new_with_free_func(gst_object_unref);
    guint32 ssrc[CAMSIM_MAX_TRACKS];

    g_mutex_lock(&m->rw_lock);
    for (unsigned t = 0; t < CAMSIM_MAX_TRACKS; t++) {
        struct camsim_rewrite *rw = &m->rw[t];
        guint32 old = rw->ssrc;

        do {
            rw->ssrc = g_random_int();
        } while (rw->ssrc == old || rw->ssrc == 0);
        rw->seq_off = (guint16)g_random_int();
        rw->ts_off = g_random_int();
        rw->active = TRUE;
        /* Track 0 is the video; MJPEG has no frame that depends on
         * another. */
        rw->wait_key = t == 0 && cs->opts.video != CAMSIM_VIDEO_MJPEG;
        ssrc[t] = rw->ssrc;
    }
    m->rtcp_from_us = 0; /* --audio-rtcp late: late again */
    g_mutex_unlock(&m->rw_lock);

    g_mutex_lock(&cs->media_lock);
    for (guint i = 0; i < m->medias->len; i++) {
        struct camsim_media *e = g_ptr_array_index(m->medias, i);

        if (e->pay0 != NULL)
            g_ptr_array_add(pays, gst_object_ref(e->pay0));
    }
    g_mutex_unlock(&cs->media_lock);
    for (guint i = 0; i < pays->len; i++)
        force_keyframe(g_ptr_array_index(pays, i));
    g_ptr_array_free(pays, TRUE);
    fprintf(stderr, "camsim: mount %s reboot ssrc=%08x", m->name, ssrc[0]);
    if (cs->opts.audio != CAMSIM_AUDIO_NONE)
        fprintf(stderr, ",%08x", ssrc[1]);
    fprintf(stderr, "\n");
}

/* Follows a control file that holds a state while it exists. */
static void apply_flag(struct camsim *cs, struct camsim_mount *m, gint *flag,
                       const char *suffix)
{
    gint want = control_file_exists(cs, m, suffix) ? 1 : 0;

    if (g_atomic_int_get(flag) == want)
        return;
    g_atomic_int_set(flag, want);
    fprintf(stderr, "camsim: mount %s %s %s\n", m->name, suffix,
            want ? "on" : "off");
}

static void apply_control(struct camsim *cs)
{
    for (size_t i = 0; i < cs->n_mounts; i++) {
        struct camsim_mount *m = &cs->mounts[i];
        gboolean want_down = mount_wants_down(cs, m);

        if (want_down != m->down) {
            if (want_down)
                mount_down(cs, m);
            else
                mount_up(cs, m);
            fprintf(stderr, "camsim: mount %s %s\n", m->name,
                    want_down ? "down" : "up");
        }
        if (cs->opts.control_dir == NULL)
            continue;
        apply_flag(cs, m, &m->stall, "stall");
        apply_flag(cs, m, &m->drop, "drop");
        if (control_file_exists(cs, m, "reboot")) {
            gchar *file =
                g_strdup_printf("%s/%s.reboot", cs->opts.control_dir, m->name);

            /* One shot: the file is consumed. */
            if (g_unlink(file) != 0)
                fprintf(stderr, "camsim: cannot remove %s: %s\n", file,
                        g_strerror(errno));
            g_free(file);
            mount_reboot(cs, m);
        }
    }
}

static gboolean on_control_tick(gpointer user_data)
{
    apply_control(user_data);
    return G_SOURCE_CONTINUE;
}

static gboolean on_quit_signal(gpointer user_data)
{
    struct camsim *cs = user_data;

    g_main_loop_quit(cs->loop);
    return G_SOURCE_CONTINUE;
}

static gboolean on_usr1(gpointer user_data)
{
    struct camsim *cs = user_data;

    cs->all_down = !cs->all_down;
    fprintf(stderr, "camsim: SIGUSR1: all mounts %s\n",
            cs->all_down ? "down" : "up");
    apply_control(cs);
    return G_SOURCE_CONTINUE;
}

static void on_new_session(GstRTSPClient *client, GstRTSPSession *session,
                           gpointer user_data)
{
    const struct camsim *cs = user_data;

    /* GStreamer leaves ";timeout=" out of the Session header when this is
     * the RFC 2326 default of 60 s. */
    gst_rtsp_session_set_timeout(session, cs->opts.session_timeout_s);
}

static GstRTSPStatusCode on_pre_play(GstRTSPClient *client, GstRTSPContext *ctx,
                                     gpointer user_data)
{
    /* videotestsrc is seekable, so the server would honour "Range:
     * npt=0.000-" (sent by ffmpeg and others) with a flushing seek. On a
     * shared media that rewinds the RTP timestamps of every client already
     * playing. A live camera ignores Range; so do we. */
    if (ctx->request != NULL)
        gst_rtsp_message_remove_header(ctx->request, GST_RTSP_HDR_RANGE, -1);
    return GST_RTSP_STS_OK;
}

static void on_client_connected(GstRTSPServer *server, GstRTSPClient *client,
                                gpointer user_data)
{
    g_signal_connect(client, "pre-play-request", G_CALLBACK(on_pre_play), NULL);
    g_signal_connect(client, "new-session", G_CALLBACK(on_new_session),
                     user_data);
}

static gboolean on_session_cleanup(gpointer user_data)
{
    struct camsim *cs = user_data;
    GstRTSPSessionPool *pool = gst_rtsp_server_get_session_pool(cs->server);

    /* The server only expires idle sessions when asked to, so a client
     * that stops sending keepalives loses its session as with a real
     * camera. */
    if (pool != NULL) {
        (void)gst_rtsp_session_pool_cleanup(pool);
        g_object_unref(pool);
    }
    return G_SOURCE_CONTINUE;
}

static void setup_auth(struct camsim *cs)
{
    GstRTSPToken *token;

    cs->auth = gst_rtsp_auth_new();
    gst_rtsp_auth_set_supported_methods(cs->auth, cs->opts.auth_methods);
    gst_rtsp_auth_set_realm(cs->auth, "camsim");
    token = gst_rtsp_token_new(GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING,
                               CAMSIM_ROLE, NULL);
    if (cs->opts.auth_methods & GST_RTSP_AUTH_DIGEST)
        gst_rtsp_auth_add_digest(cs->auth, cs->opts.user, cs->opts.pass, token);
    if (cs->opts.auth_methods & GST_RTSP_AUTH_BASIC) {
        gchar *basic = gst_rtsp_auth_make_basic(cs->opts.user, cs->opts.pass);

        gst_rtsp_auth_add_basic(cs->auth, basic, token);
        g_free(basic);
    }
    gst_rtsp_token_unref(token);
    gst_rtsp_server_set_auth(cs->server, cs->auth);
}

/*
 * Under LeakSanitizer, GLib's and fontconfig's process-lifetime caches show
 * up as leaks when camsim exits; they are not camsim's. The name is fixed
 * by the sanitizer runtime.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libglib-2.0.so\nleak:libfontconfig.so\n";
}

int main(int argc, char **argv)
{
    struct camsim cs;
    guint server_src;
    int port;
    int rc;

    memset(&cs, 0, sizeof(cs));
    g_mutex_init(&cs.media_lock);
    rc = parse_args(&cs, argc, argv);
    if (rc > 0)
        return 0;
    if (rc < 0) {
        fprintf(stderr, "camsim: try --help\n");
        return EXIT_USAGE;
    }

    /* Clients vanish mid-write; that must not kill the camera. */
    signal(SIGPIPE, SIG_IGN);
    gst_init(NULL, NULL);
    if (check_elements(&cs) < 0)
        return EXIT_FAILURE;
    if (cs.opts.clip != NULL) {
        if (camsim_clip_load(cs.opts.clip, cs.opts.video == CAMSIM_VIDEO_H265,
                             cs.opts.fps, &cs.clip) < 0)
            return EXIT_FAILURE;
        fprintf(stderr,
                "camsim: clip %s: %zu frames, %zu keyframes, %zu RTP "
                "packets\n",
                cs.opts.clip, camsim_clip_frames(cs.clip),
                camsim_clip_keyframes(cs.clip), camsim_clip_packets(cs.clip));
        if (camsim_clip_start(cs.clip) < 0)
            return EXIT_FAILURE;
    }

    cs.loop = g_main_loop_new(NULL, FALSE);
    cs.server = gst_rtsp_server_new();
    gst_rtsp_server_set_address(cs.server, CAMSIM_ADDRESS);
    {
        gchar *service = g_strdup_printf("%u", cs.opts.port);
        gst_rtsp_server_set_service(cs.server, service);
        g_free(service);
    }
    cs.mount_points = gst_rtsp_server_get_mount_points(cs.server);
    {
        /* One thread serves every client connection by default, and a
         * DESCRIBE waits there until the mount's media has started: N
         * clients connecting at once would start their mounts one after
         * the other. */
        GstRTSPThreadPool *tp = gst_rtsp_server_get_thread_pool(cs.server);

        gst_rtsp_thread_pool_set_max_threads(
            tp, (gint)MIN(cs.n_mounts, (size_t)CAMSIM_MAX_CLIENT_THREADS));
        g_object_unref(tp);
    }
    cs.udp_pool = gst_rtsp_address_pool_new();
    /* A port taken by someone else is skipped: the server binds the next
     * pair from the pool. */
    (void)gst_rtsp_address_pool_add_range(cs.udp_pool, CAMSIM_ADDRESS,
                                          CAMSIM_ADDRESS, CAMSIM_UDP_PORT_MIN,
                                          CAMSIM_UDP_PORT_MAX, 0);
    g_signal_connect(cs.server, "client-connected",
                     G_CALLBACK(on_client_connected), &cs);
    if (cs.opts.user != NULL)
        setup_auth(&cs);

    /* Mounts whose .down file already exists start down. */
    for (size_t i = 0; i < cs.n_mounts; i++) {
        cs.mounts[i].down = TRUE;
        if (!mount_wants_down(&cs, &cs.mounts[i]))
            mount_up(&cs, &cs.mounts[i]);
        else
            fprintf(stderr, "camsim: mount %s down\n", cs.mounts[i].name);
    }

    server_src = gst_rtsp_server_attach(cs.server, NULL);
    if (server_src == 0) {
        fprintf(stderr,
                "camsim: cannot listen on " CAMSIM_ADDRESS ":%u "
                "(port in use?)\n",
                cs.opts.port);
        return EXIT_FAILURE;
    }
    port = gst_rtsp_server_get_bound_port(cs.server);
    if (port <= 0) {
        fprintf(stderr, "camsim: cannot read the bound port\n");
        return EXIT_FAILURE;
    }

    g_unix_signal_add(SIGTERM, on_quit_signal, &cs);
    g_unix_signal_add(SIGINT, on_quit_signal, &cs);
    g_unix_signal_add(SIGUSR1, on_usr1, &cs);
    g_timeout_add(CAMSIM_CONTROL_TICK_MS, on_control_tick, &cs);
    g_timeout_add_seconds(1, on_session_cleanup, &cs);

    printf("READY port=%d\n", port);
    for (size_t i = 0; i < cs.n_mounts; i++)
        printf("MOUNT rtsp://" CAMSIM_ADDRESS ":%d/%s\n", port,
               cs.mounts[i].name);
    fflush(stdout);

    g_main_loop_run(cs.loop);
    fprintf(stderr, "camsim: exiting\n");

    /* Leave media teardown to process exit: stopping live pipelines can
     * block, and a test harness waits on this exit. */
    g_source_remove(server_src);
    return 0;
}
