/* SPDX-License-Identifier: MIT */
/*
 * camsim: a simulated IP camera for integration tests and `nvr demo`.
 *
 * It runs the GStreamer RTSP server on 127.0.0.1 only and serves one live
 * H.264 stream per mount (test pattern + wall clock, x264 zero-latency,
 * RTP payload type 96 over TCP-interleaved or UDP). Optional Digest
 * authentication mimics a real camera's login. A control directory lets a
 * test take single mounts "down" like a rebooting camera: while
 * DIR/<mount>.down exists, the mount's clients are disconnected and new
 * requests get 404 Not Found. SIGUSR1 toggles all mounts down/up.
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
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>

#define CAMSIM_MAX_MOUNTS      32
#define CAMSIM_MOUNT_NAME_MAX  64
#define CAMSIM_CONTROL_TICK_MS 200
#define CAMSIM_ADDRESS         "127.0.0.1"
#define CAMSIM_ROLE            "camsim-user"
#define CAMSIM_MOUNT_KEY       "camsim-mount"

#define EXIT_USAGE             2

struct camsim_mount {
    char name[CAMSIM_MOUNT_NAME_MAX + 1];
    char path[CAMSIM_MOUNT_NAME_MAX + 2]; /* "/" + name */
    const char *pattern;                  /* videotestsrc pattern nick */
    gboolean down; /* removed from the mount points right now */
};

struct camsim_opts {
    unsigned port; /* 0: any free port */
    const char *user;
    const char *pass;
    const char *control_dir;
    unsigned fps;
    unsigned width;
    unsigned height;
    unsigned bitrate_kbps;
    unsigned gop;               /* frames between IDRs; 0 means 2 * fps */
    unsigned session_timeout_s; /* advertised and enforced */
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
    GstRTSPAuth *auth; /* NULL when no --user/--pass */
};

/* Element factory name and the Debian package that ships it. */
struct camsim_element {
    const char *name;
    const char *package;
    gboolean required;
};

static const struct camsim_element camsim_elements[] = {
    {"videotestsrc", "gstreamer1.0-plugins-base", TRUE},
    {"videoconvert", "gstreamer1.0-plugins-base", TRUE},
    {"x264enc", "gstreamer1.0-plugins-ugly", TRUE},
    {"rtph264pay", "gstreamer1.0-plugins-good", TRUE},
    /* Elements the RTSP server itself builds around each stream. */
    {"rtpbin", "gstreamer1.0-plugins-good", TRUE},
    {"udpsink", "gstreamer1.0-plugins-good", TRUE},
    {"appsink", "gstreamer1.0-plugins-base", TRUE},
    {"queue", "libgstreamer1.0-0", TRUE},
    /* Debian ships the pango plugin (clockoverlay) in gstreamer1.0-x. */
    {"clockoverlay", "gstreamer1.0-x", FALSE},
};

/* Patterns that encode cheaply and differ visibly between mounts; the
 * moving ball comes first so that cam1 has motion. */
static const char *const camsim_patterns[] = {
    "ball", "smpte", "pinwheel", "spokes", "circular", "colors",
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: camsim [--port N] [--mount NAME]... [--user U --pass P]\n"
            "              [--control DIR] [--fps N] [--width W --height H]\n"
            "              [--bitrate KBPS] [--gop N] [--session-timeout S]\n"
            "              [--address 127.0.0.1]\n"
            "Serves H.264 test streams on rtsp://127.0.0.1:PORT/NAME.\n"
            "  --port N       TCP port, 0 (default) picks a free one\n"
            "  --mount NAME   mount name (repeatable, default cam1)\n"
            "  --user/--pass  require Digest authentication\n"
            "  --control DIR  DIR/NAME.down present => mount NAME is down\n"
            "  --fps N        frame rate (default 25)\n"
            "  --width/--height  picture size (default 640x360)\n"
            "  --bitrate KBPS x264 bitrate (default 1000)\n"
            "  --gop N        frames between keyframes (default 2*fps)\n"
            "  --session-timeout S  RTSP session timeout (default 60)\n"
            "Prints 'READY port=N' and one 'MOUNT url' line per mount.\n");
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
        case OPT_SESSION_TIMEOUT:
            rc = parse_uint("--session-timeout", optarg, 2, 3600,
                            &o->session_timeout_s);
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
    if (o->gop == 0)
        o->gop = 2 * o->fps;
    if (cs->n_mounts == 0)
        return add_mount(cs, "cam1");
    return 0;
}

/* Returns 0, or -ENOENT after naming every missing required element. */
static int check_elements(struct camsim *cs)
{
    int rc = 0;

    for (size_t i = 0; i < G_N_ELEMENTS(camsim_elements); i++) {
        const struct camsim_element *e = &camsim_elements[i];
        GstElementFactory *f = gst_element_factory_find(e->name);

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
    if (rc == 0) {
        /* aggregate-mode appeared in GStreamer 1.18; older payloaders
         * simply do not get it. */
        GstElement *pay = gst_element_factory_make("rtph264pay", NULL);

        if (pay != NULL) {
            cs->have_aggregate =
                g_object_class_find_property(G_OBJECT_GET_CLASS(pay),
                                             "aggregate-mode") != NULL;
            gst_object_unref(pay);
        }
    }
    return rc;
}

/* Returns an owned launch line for one mount. */
static gchar *build_launch(const struct camsim *cs,
                           const struct camsim_mount *m)
{
    const struct camsim_opts *o = &cs->opts;
    gchar *clock = NULL;
    gchar *launch;

    if (cs->have_clock) {
        clock = g_strdup_printf(
            "clockoverlay text=\"%s\" time-format=\"%%Y-%%m-%%d %%H:%%M:%%S\" "
            "halignment=left valignment=top shaded-background=true "
            "font-desc=\"Sans 16\" ! ",
            m->name);
    }
    /* The capsfilter pins the frame rate, so timestamps step exactly by
     * 1/fps; threads=1 keeps one slice per picture and the CPU use low. */
    launch = g_strdup_printf(
        "( videotestsrc is-live=true pattern=%s "
        "! video/x-raw,format=I420,width=%u,height=%u,framerate=%u/1 "
        "! %svideoconvert "
        "! x264enc tune=zerolatency speed-preset=ultrafast bframes=0 "
        "threads=1 key-int-max=%u bitrate=%u "
        "! rtph264pay name=pay0 pt=96 config-interval=-1%s )",
        m->pattern, o->width, o->height, o->fps, clock ? clock : "", o->gop,
        o->bitrate_kbps,
        cs->have_aggregate ? " aggregate-mode=zero-latency" : "");
    g_free(clock);
    return launch;
}

static void on_media_constructed(GstRTSPMediaFactory *factory,
                                 GstRTSPMedia *media, gpointer user_data)
{
    /* Tag each media with its mount so that sessions can be traced back to
     * it when the mount goes down. */
    g_object_set_data(G_OBJECT(media), CAMSIM_MOUNT_KEY, user_data);
}

static void mount_up(struct camsim *cs, struct camsim_mount *m)
{
    GstRTSPMediaFactory *f = gst_rtsp_media_factory_new();
    gchar *launch = build_launch(cs, m);

    gst_rtsp_media_factory_set_launch(f, launch);
    g_free(launch);
    gst_rtsp_media_factory_set_shared(f, TRUE);
    gst_rtsp_media_factory_set_protocols(f, GST_RTSP_LOWER_TRANS_TCP |
                                                GST_RTSP_LOWER_TRANS_UDP);
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

static gboolean mount_wants_down(const struct camsim *cs,
                                 const struct camsim_mount *m)
{
    gchar *file;
    gboolean exists;

    if (cs->all_down)
        return TRUE;
    if (cs->opts.control_dir == NULL)
        return FALSE;
    file = g_strdup_printf("%s/%s.down", cs->opts.control_dir, m->name);
    exists = access(file, F_OK) == 0;
    g_free(file);
    return exists;
}

static void apply_control(struct camsim *cs)
{
    for (size_t i = 0; i < cs->n_mounts; i++) {
        struct camsim_mount *m = &cs->mounts[i];
        gboolean want_down = mount_wants_down(cs, m);

        if (want_down == m->down)
            continue;
        if (want_down)
            mount_down(cs, m);
        else
            mount_up(cs, m);
        fprintf(stderr, "camsim: mount %s %s\n", m->name,
                want_down ? "down" : "up");
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
    gst_rtsp_auth_set_supported_methods(cs->auth, GST_RTSP_AUTH_DIGEST);
    gst_rtsp_auth_set_realm(cs->auth, "camsim");
    token = gst_rtsp_token_new(GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING,
                               CAMSIM_ROLE, NULL);
    gst_rtsp_auth_add_digest(cs->auth, cs->opts.user, cs->opts.pass, token);
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

    cs.loop = g_main_loop_new(NULL, FALSE);
    cs.server = gst_rtsp_server_new();
    gst_rtsp_server_set_address(cs.server, CAMSIM_ADDRESS);
    {
        gchar *service = g_strdup_printf("%u", cs.opts.port);
        gst_rtsp_server_set_service(cs.server, service);
        g_free(service);
    }
    cs.mount_points = gst_rtsp_server_get_mount_points(cs.server);
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
