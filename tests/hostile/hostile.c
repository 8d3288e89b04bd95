/* SPDX-License-Identifier: MIT */
/*
 * hostile: an RTSP "camera" that misbehaves on purpose, for the integration
 * test of issue 3 item 6 (tests/integration/test_hostile.sh). It listens on
 * 127.0.0.1 only, prints "READY port=N" like camsim, and serves every
 * connection in its own child process with the behaviour --mode picks:
 *
 *   huge-header       answers OPTIONS with a header line that never ends
 *   many-headers      answers OPTIONS with thousands of header lines
 *   endless-body      answers DESCRIBE with a body that never ends (odd
 *                     connections announce Content-Length: 999999999, even
 *                     ones a plausible length whose bytes trickle forever)
 *   garbage           sends random bytes instead of RTSP
 *   absurd-interleave a normal handshake up to PLAY, then '$' frames of
 *                     65535 junk bytes on channels never set up and on the
 *                     video channel for two minutes, and finally a frame
 *                     that never ends
 *   slowloris         answers each request one byte per second
 *   wrong-cseq        answers every request with a CSeq that was never sent
 *   no-sdp            answers DESCRIBE with 200 OK and no body
 *   request-flood     sends requests of its own as fast as it can and
 *                     never reads the answers
 *   escapes           puts terminal controls (OSC title change, CSI clear
 *                     screen, CR, BS, DEL, C1 as bytes and as UTF-8) in
 *                     every Server header; a URL ending in "/sdp" gets an
 *                     SDP carrying them too, any other a DESCRIBE refused
 *                     with them in the reason phrase
 *   endless-fua       a normal handshake up to PLAY, then valid RTP: one
 *                     H.264 FU-A (an IDR slice) that starts and never ends
 *   huge-frame        a normal handshake up to PLAY, then valid RTP: IDR
 *                     frames of 28 MB each (FU-A, marker bit on the last
 *                     packet), larger than any access unit may be
 *   bad-units         a normal handshake up to PLAY, then valid RTP at 25
 *                     fps (IDR every 25 frames, each frame two FU-A
 *                     packets) in which every 50 frames one frame repeats
 *                     the previous frame's timestamp and one loses its
 *                     last packet: units the client must refuse, by
 *                     reason (issue 14)
 *
 * Each accepted connection is logged to stderr as "hostile: connection N"
 * so a test can count the client's attempts. Plain POSIX; children die with
 * the parent (PR_SET_PDEATHSIG), so killing the parent cleans up.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HOSTILE_REQ_MAX      8192
#define HOSTILE_MAX_CHILDREN 32
/* Upper bound on what one connection sends, so a client that never reads
 * or never closes cannot make this helper run forever. */
#define HOSTILE_MAX_SEND ((uint64_t)256 * 1024 * 1024)

enum mode {
    MODE_HUGE_HEADER,
    MODE_MANY_HEADERS,
    MODE_ENDLESS_BODY,
    MODE_GARBAGE,
    MODE_ABSURD_INTERLEAVE,
    MODE_SLOWLORIS,
    MODE_WRONG_CSEQ,
    MODE_NO_SDP,
    MODE_REQUEST_FLOOD,
    MODE_ESCAPES,
    MODE_ENDLESS_FUA,
    MODE_HUGE_FRAME,
    MODE_BAD_UNITS,
};

static const char *const mode_names[] = {
    "huge-header",       "many-headers", "endless-body", "garbage",
    "absurd-interleave", "slowloris",    "wrong-cseq",   "no-sdp",
    "request-flood",     "escapes",      "endless-fua",  "huge-frame",
    "bad-units",
};

static enum mode g_mode;
static unsigned g_conn;
static uint64_t g_sent;
static uint64_t g_rng = 0x9e3779b97f4a7c15ULL;

static const char sdp_body[] =
    "v=0\r\n"
    "o=- 1 1 IN IP4 127.0.0.1\r\n"
    "s=hostile\r\n"
    "t=0 0\r\n"
    "a=control:*\r\n"
    "m=video 0 RTP/AVP 96\r\n"
    "a=rtpmap:96 H264/90000\r\n"
    "a=fmtp:96 packetization-mode=1; sprop-parameter-sets="
    "Z00AKZpkA8ARPyzUBAQFAAADA+gAAOpgBA==,aO48gA==\r\n"
    "a=control:trackID=1\r\n";

static uint64_t rng(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Writes everything or exits the child: the client went away. */
static void send_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    if (g_sent + len > HOSTILE_MAX_SEND)
        _exit(0);
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            _exit(0);
        p += n;
        len -= (size_t)n;
        g_sent += (uint64_t)n;
    }
}

static void send_str(int fd, const char *s)
{
    send_all(fd, s, strlen(s));
}

/* Holds the connection open, reading and discarding, until the peer
 * closes it (the client's own deadlines must end the session). */
static void hold_open(int fd)
{
    char buf[4096];

    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            _exit(0);
    }
}

/* What mode "escapes" sends: an OSC title change ended by BEL, a CSI that
 * clears the screen, CR, BS, DEL, 8-bit CSI and OSC as raw bytes and as
 * UTF-8 (U+009B, U+009D). */
#define HOSTILE_ESCAPES                   \
    "\x1b]0;owned\x07\x1b[2J\r\b\x7f\x9b" \
    "2J\x9d"                              \
    "0;t\x07\xc2\x9b"                     \
    "2J\xc2\x9dX"

struct request {
    char method[32];
    char url[256];
    unsigned cseq;
};

/* Reads one request head (up to CRLFCRLF). Exits the child on EOF. */
static void read_request(int fd, struct request *req)
{
    static char buf[HOSTILE_REQ_MAX];
    static size_t len;
    char *end, *cs;
    size_t used;

    for (;;) {
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
        if (end)
            break;
        if (len + 1 >= sizeof(buf))
            _exit(0);
        ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            _exit(0);
        len += (size_t)n;
    }
    memset(req, 0, sizeof(*req));
    sscanf(buf, "%31s %255s", req->method, req->url);
    cs = strstr(buf, "CSeq:");
    if (cs)
        req->cseq = (unsigned)strtoul(cs + 5, NULL, 10);
    used = (size_t)(end + 4 - buf);
    memmove(buf, buf + used, len - used);
    len -= used;
    fprintf(stderr, "hostile: connection %u: %s (CSeq %u)\n", g_conn,
            req->method, req->cseq);
}

/* A plain, valid answer for OPTIONS, DESCRIBE, SETUP and PLAY. */
static void answer_normally(int fd, const struct request *req)
{
    char head[1024];

    if (strcmp(req->method, "DESCRIBE") == 0) {
        snprintf(head, sizeof(head),
                 "RTSP/1.0 200 OK\r\nCSeq: %u\r\n"
                 "Content-Type: application/sdp\r\n"
                 "Content-Length: %zu\r\n\r\n",
                 req->cseq, strlen(sdp_body));
        send_str(fd, head);
        send_str(fd, sdp_body);
    } else if (strcmp(req->method, "SETUP") == 0) {
        snprintf(head, sizeof(head),
                 "RTSP/1.0 200 OK\r\nCSeq: %u\r\n"
                 "Session: 4242;timeout=60\r\n"
                 "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n",
                 req->cseq);
        send_str(fd, head);
    } else if (strcmp(req->method, "PLAY") == 0) {
        snprintf(head, sizeof(head),
                 "RTSP/1.0 200 OK\r\nCSeq: %u\r\nSession: 4242\r\n"
                 "RTP-Info: url=trackID=1;seq=1;rtptime=0\r\n\r\n",
                 req->cseq);
        send_str(fd, head);
    } else {
        snprintf(head, sizeof(head),
                 "RTSP/1.0 200 OK\r\nCSeq: %u\r\n"
                 "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n\r\n",
                 req->cseq);
        send_str(fd, head);
    }
}

static void fill_random(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rng();
}

static void serve_huge_header(int fd)
{
    struct request req;
    char head[128], chunk[4096];

    read_request(fd, &req);
    snprintf(head, sizeof(head),
             "RTSP/1.0 200 OK\r\nCSeq: %u\r\nX-Junk: ", req.cseq);
    send_str(fd, head);
    memset(chunk, 'A', sizeof(chunk));
    for (;;) {
        send_all(fd, chunk, sizeof(chunk));
        sleep_ms(5);
    }
}

static void serve_many_headers(int fd)
{
    struct request req;
    char line[128];

    read_request(fd, &req);
    snprintf(line, sizeof(line), "RTSP/1.0 200 OK\r\nCSeq: %u\r\n", req.cseq);
    send_str(fd, line);
    for (unsigned i = 0;; i++) {
        snprintf(line, sizeof(line), "X-Header-%u: value %u\r\n", i, i);
        send_str(fd, line);
        if (i % 100 == 99)
            sleep_ms(5);
    }
}

static void serve_endless_body(int fd)
{
    struct request req;
    char head[256], chunk[4096];

    for (;;) {
        read_request(fd, &req);
        if (strcmp(req.method, "DESCRIBE") == 0)
            break;
        answer_normally(fd, &req);
    }
    snprintf(head, sizeof(head),
             "RTSP/1.0 200 OK\r\nCSeq: %u\r\n"
             "Content-Type: application/sdp\r\nContent-Length: %s\r\n\r\n",
             req.cseq, g_conn % 2 ? "999999999" : "60000");
    send_str(fd, head);
    memset(chunk, 'v', sizeof(chunk));
    for (;;) {
        /* Odd connections flood; even ones trickle a byte a second and
         * never reach the announced length within any sane deadline. */
        if (g_conn % 2) {
            send_all(fd, chunk, sizeof(chunk));
            sleep_ms(5);
        } else {
            send_all(fd, chunk, 1);
            sleep_ms(1000);
        }
    }
}

static void serve_garbage(int fd)
{
    uint8_t chunk[16384];

    /* No request is awaited: some servers talk first. */
    for (int i = 0; i < 64; i++) {
        fill_random(chunk, sizeof(chunk));
        send_all(fd, chunk, sizeof(chunk));
        sleep_ms(50);
    }
    hold_open(fd);
}

static void serve_absurd_interleave(int fd)
{
    static uint8_t frame[4 + 65535];
    struct request req;

    for (;;) {
        read_request(fd, &req);
        answer_normally(fd, &req);
        if (strcmp(req.method, "PLAY") == 0)
            break;
    }
    /* About 2 MB/s of junk for two minutes, longer than any media
     * deadline: channels never set up (2..255) and the video channel 0
     * with payloads that are not RTP, so no access unit ever comes out. */
    for (int i = 0; i < 3600; i++) {
        frame[0] = '$';
        frame[1] = i % 3 == 0 ? 0 : (uint8_t)(2 + rng() % 254);
        frame[2] = 0xff;
        frame[3] = 0xff;
        fill_random(frame + 4, 64);
        /* Not RTP version 2, so nothing in it can be mistaken for media. */
        frame[4] = 0x00;
        send_all(fd, frame, sizeof(frame));
        sleep_ms(33);
    }
    /* A frame announcing 65535 bytes whose payload never arrives. */
    frame[1] = 0;
    send_all(fd, frame, 4 + 100);
    hold_open(fd);
}

static void serve_slowloris(int fd)
{
    struct request req;
    char head[256];

    read_request(fd, &req);
    snprintf(head, sizeof(head),
             "RTSP/1.0 200 OK\r\nCSeq: %u\r\n"
             "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n\r\n",
             req.cseq);
    for (const char *p = head; *p; p++) {
        send_all(fd, p, 1);
        sleep_ms(1000);
    }
    hold_open(fd);
}

static void serve_wrong_cseq(int fd)
{
    struct request req;

    for (;;) {
        read_request(fd, &req);
        req.cseq += 1000;
        answer_normally(fd, &req);
    }
}

static void serve_no_sdp(int fd)
{
    struct request req;
    char head[256];

    for (;;) {
        read_request(fd, &req);
        if (strcmp(req.method, "DESCRIBE") != 0) {
            answer_normally(fd, &req);
            continue;
        }
        snprintf(head, sizeof(head),
                 "RTSP/1.0 200 OK\r\nCSeq: %u\r\n"
                 "Content-Type: application/sdp\r\n\r\n",
                 req.cseq);
        send_str(fd, head);
    }
}

static void serve_request_flood(int fd)
{
    char buf[65536];
    size_t n = 0;
    unsigned cseq = 1;

    /* Requests are allowed from the server (RFC 2326 section 10); these
     * never stop, and the answers are never read, so everything the
     * client writes back piles up unless it bounds its output. */
    for (;;) {
        n = 0;
        while (n + 64 < sizeof(buf)) {
            int r = snprintf(buf + n, sizeof(buf) - n,
                             "GET_PARAMETER * RTSP/1.0\r\nCSeq: %u\r\n\r\n",
                             cseq++);

            n += (size_t)r;
        }
        send_all(fd, buf, n);
    }
}

static void serve_escapes(int fd)
{
    static const char sdp[] = "v=0\r\n"
                              "o=- 1 1 IN IP4 127.0.0.1\r\n"
                              "s=" HOSTILE_ESCAPES "\r\n"
                              "i=" HOSTILE_ESCAPES "\r\n"
                              "t=0 0\r\n"
                              "m=video 0 RTP/AVP 96\r\n"
                              "a=rtpmap:96 H" HOSTILE_ESCAPES "/90000\r\n"
                              "a=control:trackID=1" HOSTILE_ESCAPES "\r\n"
                              "m=" HOSTILE_ESCAPES " 0 RTP/AVP 97\r\n"
                              "a=rtpmap:97 " HOSTILE_ESCAPES "/8000\r\n"
                              "a=control:trackID=2\r\n";
    struct request req;
    char head[1024];
    size_t n;

    for (;;) {
        read_request(fd, &req);
        n = strlen(req.url);
        if (strcmp(req.method, "DESCRIBE") == 0 && n >= 4 &&
            strcmp(req.url + n - 4, "/sdp") == 0) {
            snprintf(head, sizeof(head),
                     "RTSP/1.0 200 OK\r\nCSeq: %u\r\n"
                     "Server: " HOSTILE_ESCAPES "\r\n"
                     "Content-Type: application/sdp\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     req.cseq, strlen(sdp));
            send_str(fd, head);
            send_str(fd, sdp);
        } else if (strcmp(req.method, "DESCRIBE") == 0) {
            snprintf(head, sizeof(head),
                     "RTSP/1.0 503 " HOSTILE_ESCAPES "\r\nCSeq: %u\r\n"
                     "Server: " HOSTILE_ESCAPES "\r\n\r\n",
                     req.cseq);
            send_str(fd, head);
        } else {
            snprintf(head, sizeof(head),
                     "RTSP/1.0 200 OK\r\nCSeq: %u\r\n"
                     "Server: " HOSTILE_ESCAPES "\r\n"
                     "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n"
                     "\r\n",
                     req.cseq);
            send_str(fd, head);
        }
    }
}

/* RTP over the interleaved channel 0 (RFC 2326 10.12): bytes of FU-A
 * payload per packet, and how many packets go out per burst of
 * HOSTILE_RTP_BURST_MS (about 7 MB/s). */
#define HOSTILE_RTP_PAYLOAD  1400
#define HOSTILE_RTP_BURST    100
#define HOSTILE_RTP_BURST_MS 20
#define HOSTILE_HUGE_FRAME   ((size_t)28 * 1024 * 1024)

struct rtp_out {
    int fd;
    uint16_t seq;
    uint32_t ts;
    unsigned in_burst;
};

/* Sends one FU-A packet of an IDR slice (RFC 6184 5.8): start and end
 * set the S and E bits, end the marker bit too. */
static void send_fua(struct rtp_out *o, int start, int end)
{
    static uint8_t pkt[4 + 12 + 2 + HOSTILE_RTP_PAYLOAD];
    size_t len = 12 + 2 + HOSTILE_RTP_PAYLOAD;

    pkt[0] = '$';
    pkt[1] = 0;
    pkt[2] = (uint8_t)(len >> 8);
    pkt[3] = (uint8_t)len;
    pkt[4] = 0x80; /* version 2 */
    pkt[5] = (uint8_t)(96 | (end ? 0x80 : 0));
    pkt[6] = (uint8_t)(o->seq >> 8);
    pkt[7] = (uint8_t)o->seq;
    pkt[8] = (uint8_t)(o->ts >> 24);
    pkt[9] = (uint8_t)(o->ts >> 16);
    pkt[10] = (uint8_t)(o->ts >> 8);
    pkt[11] = (uint8_t)o->ts;
    pkt[12] = 0x12;
    pkt[13] = 0x34;
    pkt[14] = 0x56;
    pkt[15] = 0x78;
    pkt[16] = 0x7c; /* FU indicator: NRI 3, type 28 */
    pkt[17] = (uint8_t)((start ? 0x80 : 0) | (end ? 0x40 : 0) | 5);
    if (start)
        fill_random(pkt + 18, HOSTILE_RTP_PAYLOAD);
    send_all(o->fd, pkt, sizeof(pkt));
    o->seq++;
    if (++o->in_burst == HOSTILE_RTP_BURST) {
        o->in_burst = 0;
        sleep_ms(HOSTILE_RTP_BURST_MS);
    }
}

static void play_normally(int fd)
{
    struct request req;

    for (;;) {
        read_request(fd, &req);
        answer_normally(fd, &req);
        if (strcmp(req.method, "PLAY") == 0)
            break;
    }
}

static void serve_endless_fua(int fd)
{
    struct rtp_out o = {fd, 1, 0, 0};

    play_normally(fd);
    send_fua(&o, 1, 0);
    for (;;)
        send_fua(&o, 0, 0);
}

static void serve_huge_frame(int fd)
{
    struct rtp_out o = {fd, 1, 0, 0};
    size_t n = HOSTILE_HUGE_FRAME / HOSTILE_RTP_PAYLOAD;

    play_normally(fd);
    for (;;) {
        for (size_t i = 0; i < n; i++)
            send_fua(&o, i == 0, i + 1 == n);
        o.ts += 3600; /* 25 fps */
    }
}

/* bad-units: frames of HOSTILE_BAD_FRAME bytes, a GOP of
 * HOSTILE_BAD_GOP, and per cycle of 2 GOPs the frame that repeats the
 * previous timestamp and the frame whose end fragment is lost. */
#define HOSTILE_BAD_FRAME    2000
#define HOSTILE_BAD_GOP      25
#define HOSTILE_BAD_DUP_AT   10
#define HOSTILE_BAD_CUT_AT   35
#define HOSTILE_BAD_FRAME_MS 40

/* One FU-A fragment (RFC 6184 5.8) of a NAL unit of `type` (5 IDR, 1
 * non-IDR slice) with `len` payload bytes; the marker bit on the end
 * fragment. The first payload byte of a start fragment begins the slice
 * header with first_mb_in_slice = 0 (ue(v) "1"). */
static void send_fu_frag(struct rtp_out *o, unsigned type, int start, int end,
                         size_t len)
{
    static uint8_t pkt[4 + 12 + 2 + HOSTILE_BAD_FRAME];
    size_t n = 12 + 2 + len;

    pkt[0] = '$';
    pkt[1] = 0;
    pkt[2] = (uint8_t)(n >> 8);
    pkt[3] = (uint8_t)n;
    pkt[4] = 0x80;
    pkt[5] = (uint8_t)(96 | (end ? 0x80 : 0));
    pkt[6] = (uint8_t)(o->seq >> 8);
    pkt[7] = (uint8_t)o->seq;
    pkt[8] = (uint8_t)(o->ts >> 24);
    pkt[9] = (uint8_t)(o->ts >> 16);
    pkt[10] = (uint8_t)(o->ts >> 8);
    pkt[11] = (uint8_t)o->ts;
    pkt[12] = 0x12;
    pkt[13] = 0x34;
    pkt[14] = 0x56;
    pkt[15] = 0x79;
    pkt[16] = (uint8_t)(0x60 | 28); /* FU indicator: NRI 3, type 28 */
    pkt[17] = (uint8_t)((start ? 0x80 : 0) | (end ? 0x40 : 0) | type);
    fill_random(pkt + 18, len);
    if (start)
        pkt[18] |= 0x80;
    send_all(o->fd, pkt, 4 + n);
    o->seq++;
}

static void serve_bad_units(int fd)
{
    struct rtp_out o = {fd, 1, 0, 0};
    size_t half = HOSTILE_BAD_FRAME / 2;

    play_normally(fd);
    for (unsigned f = 0;; f++) {
        unsigned k = f % (2 * HOSTILE_BAD_GOP);
        unsigned type = f % HOSTILE_BAD_GOP == 0 ? 5 : 1;

        if (k == HOSTILE_BAD_DUP_AT)
            o.ts -= 3600; /* the previous frame's time again */
        send_fu_frag(&o, type, 1, 0, half);
        if (k == HOSTILE_BAD_CUT_AT)
            o.seq++; /* its end fragment is "lost" */
        else
            send_fu_frag(&o, type, 0, 1, half);
        o.ts += 3600; /* 25 fps */
        sleep_ms(HOSTILE_BAD_FRAME_MS);
    }
}

static void serve(int fd)
{
    int one = 1;

    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    g_rng ^= (uint64_t)g_conn * 0x2545f4914f6cdd1dULL;
    switch (g_mode) {
    case MODE_HUGE_HEADER:
        serve_huge_header(fd);
        break;
    case MODE_MANY_HEADERS:
        serve_many_headers(fd);
        break;
    case MODE_ENDLESS_BODY:
        serve_endless_body(fd);
        break;
    case MODE_GARBAGE:
        serve_garbage(fd);
        break;
    case MODE_ABSURD_INTERLEAVE:
        serve_absurd_interleave(fd);
        break;
    case MODE_SLOWLORIS:
        serve_slowloris(fd);
        break;
    case MODE_WRONG_CSEQ:
        serve_wrong_cseq(fd);
        break;
    case MODE_NO_SDP:
        serve_no_sdp(fd);
        break;
    case MODE_REQUEST_FLOOD:
        serve_request_flood(fd);
        break;
    case MODE_ESCAPES:
        serve_escapes(fd);
        break;
    case MODE_ENDLESS_FUA:
        serve_endless_fua(fd);
        break;
    case MODE_HUGE_FRAME:
        serve_huge_frame(fd);
        break;
    case MODE_BAD_UNITS:
        serve_bad_units(fd);
        break;
    }
    _exit(0);
}

static void usage(void)
{
    fprintf(stderr, "usage: hostile --mode MODE [--port N]\nmodes:");
    for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
        fprintf(stderr, " %s", mode_names[i]);
    fprintf(stderr, "\n");
}

static int parse_args(int argc, char **argv, int *port)
{
    int have_mode = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            *port = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) {
            const char *m = argv[++i];
            size_t k;

            for (k = 0; k < sizeof(mode_names) / sizeof(mode_names[0]); k++) {
                if (strcmp(m, mode_names[k]) == 0)
                    break;
            }
            if (k == sizeof(mode_names) / sizeof(mode_names[0]))
                return -1;
            g_mode = (enum mode)k;
            have_mode = 1;
        } else {
            return -1;
        }
    }
    return have_mode && *port >= 0 && *port <= 65535 ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct sockaddr_in addr;
    socklen_t alen = sizeof(addr);
    int port = 0, one = 1, lfd, children = 0;

    if (parse_args(argc, argv, &port) != 0) {
        usage();
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0) {
        perror("hostile: socket");
        return 1;
    }
    (void)setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        listen(lfd, 16) != 0 ||
        getsockname(lfd, (struct sockaddr *)&addr, &alen) != 0) {
        perror("hostile: bind");
        return 1;
    }
    printf("READY port=%u\n", (unsigned)ntohs(addr.sin_port));
    fflush(stdout);
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        pid_t pid;

        while (waitpid(-1, NULL, WNOHANG) > 0)
            children--;
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            perror("hostile: accept");
            return 1;
        }
        g_conn++;
        fprintf(stderr, "hostile: connection %u (%s)\n", g_conn,
                mode_names[g_mode]);
        if (children >= HOSTILE_MAX_CHILDREN) {
            /* Keeps the helper itself bounded against a client that
             * never lets go of its connections. */
            fprintf(stderr, "hostile: too many connections, closing\n");
            close(fd);
            continue;
        }
        pid = fork();
        if (pid == 0) {
            close(lfd);
            (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() == 1)
                _exit(0);
            serve(fd);
        }
        if (pid > 0)
            children++;
        close(fd);
    }
}
