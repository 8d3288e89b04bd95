/* SPDX-License-Identifier: MIT */
/*
 * Loads the INI config (DESIGN.md "The config file") into struct nvr_config.
 *
 * inih splits "key = value" lines, strips whitespace and inline comments.
 * It does not pass line numbers to the handler, truncates section names to
 * 50 bytes, reports only the first syntax error and folds indented lines
 * into the previous value, so this file feeds it one line at a time through
 * an ini_parse_stream() reader that owns everything else: it counts lines,
 * strips leading whitespace (no continuation lines), handles section
 * headers itself and passes inih only key lines. A key line for which inih
 * never calls the handler is a syntax error at that line.
 *
 * Every problem is collected, not just the first. Values of secret keys
 * (password, and url, which may hold userinfo) never appear in a message.
 */
#include "config.h"
#include "nvr/nvr_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "nvr/base/wipe.h"

#define CONFIG_MAX_BYTES           1048576 /* bytes of the whole file */
#define CONFIG_MAX_PASS_READ       4096    /* bytes read of a password_file */
#define CONFIG_MAX_ECHO            64      /* bytes of a value quoted back */
#define CONFIG_MAX_SECTION         256     /* bytes of a section label */
#define CONFIG_MAX_KEYS            16      /* keys of one section kind */
#define CONFIG_MAX_PROBLEMS        100     /* messages kept per file */

#define CONFIG_DEFAULT_SEGMENT_S   60
#define CONFIG_MIN_SEGMENT_S       2
#define CONFIG_MAX_SEGMENT_S       3600
#define CONFIG_DEFAULT_MIN_FREE    5.0 /* percent */
#define CONFIG_DEFAULT_RETAIN_DAYS 31
#define CONFIG_MAX_RETAIN_DAYS     36500

enum sect_kind {
    SECT_NONE,    /* before the first header */
    SECT_SKIP,    /* a bad or repeated header: its keys are ignored */
    SECT_STORAGE, /* [storage] */
    SECT_NETWORK, /* [network] */
    SECT_CAMERA,  /* [camera NAME] */
};

struct parser;

struct problem {
    int line; /* 0: the whole file */
    int seq;  /* keeps problems of one line in the order found */
    char text[384];
};

/* What a setter reports. */
enum set_result {
    SET_OK,
    SET_BAD,       /* `why` is complete */
    SET_BAD_VALUE, /* append ", got 'VALUE'" unless the key is secret */
};

struct key_def {
    const char *name;
    int secret; /* the value is never quoted in a message */
    enum set_result (*set)(struct parser *p, const char *value, char *why,
                           size_t why_size);
};

struct parser {
    const char *name; /* file name for messages */
    const char *dir;  /* base of relative password_file paths; NULL: cwd */
    const char *text; /* borrowed, len bytes */
    size_t len;
    size_t pos;

    int lineno;
    int pending_key_line; /* a key line inih has not reported yet */

    enum sect_kind kind;
    char label[CONFIG_MAX_SECTION]; /* "camera gate", for messages */
    int header_line;
    const struct key_def *keys;    /* of the current section */
    int key_line[CONFIG_MAX_KEYS]; /* where each key was set, 0: unset */

    int storage_line; /* header of [storage], 0: none yet */
    int network_line;
    int password_line, password_file_line; /* in the current camera */

    struct nvr_config *cfg;
    int cam_cap;
    struct nvr_camera_config *cam; /* the current camera, or NULL */

    struct problem *problems; /* CONFIG_MAX_PROBLEMS entries */
    int n_problems;
    int n_errors; /* all problems, also those beyond the cap */
    int oom;
};

/* Records one problem; they are written out sorted by line at the end,
 * because the checks that need a whole section run after later lines. */
NVR_PRINTF(3, 4)
static void report(struct parser *p, int line, const char *fmt, ...)
{
    struct problem *pb;
    va_list ap;

    p->n_errors++;
    if (p->n_problems >= CONFIG_MAX_PROBLEMS)
        return;
    pb = &p->problems[p->n_problems++];
    pb->line = line;
    pb->seq = p->n_problems;
    va_start(ap, fmt);
    vsnprintf(pb->text, sizeof(pb->text), fmt, ap);
    va_end(ap);
}

static int problem_cmp(const void *a, const void *b)
{
    const struct problem *x = a, *y = b;
    /* Problems of the whole file (line 0) go last. */
    unsigned lx = (unsigned)x->line - 1, ly = (unsigned)y->line - 1;

    if (lx != ly)
        return lx < ly ? -1 : 1;
    return x->seq - y->seq;
}

/* Writes the recorded problems into err, one per line, cut at err_size. */
static void write_problems(struct parser *p, char *err, size_t err_size)
{
    size_t len = 0;

    if (!err || err_size == 0)
        return;
    err[0] = '\0';
    qsort(p->problems, (size_t)p->n_problems, sizeof(p->problems[0]),
          problem_cmp);
    for (int i = 0; i <= p->n_problems && len + 1 < err_size; i++) {
        int n;

        if (i == p->n_problems) {
            if (p->n_errors <= p->n_problems)
                break;
            n = snprintf(err + len, err_size - len, "%s: %d more problems\n",
                         p->name, p->n_errors - p->n_problems);
        } else if (p->problems[i].line > 0) {
            n = snprintf(err + len, err_size - len, "%s:%d: %s\n", p->name,
                         p->problems[i].line, p->problems[i].text);
        } else {
            n = snprintf(err + len, err_size - len, "%s: %s\n", p->name,
                         p->problems[i].text);
        }
        if (n < 0 || (size_t)n >= err_size - len)
            break;
        len += (size_t)n;
    }
}

/* Copies s for quoting in a message: control bytes become '?', and long
 * text is cut with "...". */
static const char *echo(const char *s, char *buf, size_t size)
{
    size_t i = 0;

    for (; s[i] && i + 4 < size && i < CONFIG_MAX_ECHO; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x20 || c == 0x7f)
            buf[i] = '?';
        else
            buf[i] = s[i];
    }
    if (s[i]) {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = '\0';
    return buf;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int parse_bool(const char *v, int *out)
{
    static const char *const yes[] = {"true", "yes", "1", "on"};
    static const char *const no[] = {"false", "no", "0", "off"};

    for (size_t i = 0; i < NVR_ARRAY_SIZE(yes); i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -EINVAL;
}

/* Strict decimal integer in [lo, hi]: digits only, optional '-'. */
static int parse_int(const char *v, long lo, long hi, int *out)
{
    const char *d = v[0] == '-' ? v + 1 : v;
    char *end;
    long n;

    if (*d < '0' || *d > '9')
        return -EINVAL;
    errno = 0;
    n = strtol(v, &end, 10);
    if (errno != 0 || *end != '\0' || n < lo || n > hi)
        return -EINVAL;
    *out = (int)n;
    return 0;
}

/* Copies a string value into a fixed field. */
static enum set_result set_text(char *dst, size_t size, const char *v,
                                char *why, size_t why_size)
{
    size_t n = strlen(v);

    if (n >= size) {
        snprintf(why, why_size, "too long (at most %zu bytes)", size - 1);
        return SET_BAD;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];

        if (c < 0x20 || c == 0x7f) {
            snprintf(why, why_size, "contains a control character");
            return SET_BAD;
        }
    }
    memcpy(dst, v, n + 1);
    return SET_OK;
}

int nvr_config_parse_size(const char *s, int64_t *out)
{
    static const char units[] = "KMGT";
    int64_t ip = 0, frac = 0, mult = 1, frac_div = 1;
    int nfrac = 0;
    const char *p = s;

    if (!s || *p < '0' || *p > '9')
        return -EINVAL;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (ip > (INT64_MAX - (*p - '0')) / 10)
            return -EINVAL;
        ip = ip * 10 + (*p - '0');
    }
    if (*p == '.') {
        p++;
        /* Six digits keep frac * 2^40 inside int64. */
        for (; *p >= '0' && *p <= '9'; p++) {
            if (++nfrac > 6)
                return -EINVAL;
            frac = frac * 10 + (*p - '0');
            frac_div *= 10;
        }
        if (nfrac == 0)
            return -EINVAL;
    }
    if (*p != '\0') {
        const char *u = strchr(units, *p >= 'a' ? *p - ('a' - 'A') : *p);

        if (!u || *p == '\0')
            return -EINVAL;
        for (const char *q = units; q <= u; q++)
            mult *= 1024;
        p++;
        if (*p == 'B' || *p == 'b')
            p++;
        if (*p != '\0')
            return -EINVAL;
    } else if (nfrac > 0) {
        return -EINVAL; /* a fraction of a byte */
    }
    if (ip > INT64_MAX / mult)
        return -EINVAL;
    ip *= mult;
    frac = frac * mult / frac_div;
    if (ip > INT64_MAX - frac)
        return -EINVAL;
    *out = ip + frac;
    return 0;
}

const char *nvr_transport_name(enum nvr_transport t)
{
    switch (t) {
    case NVR_TRANSPORT_TCP:
        return "tcp";
    case NVR_TRANSPORT_UDP:
        return "udp";
    case NVR_TRANSPORT_AUTO:
        return "auto";
    }
    return "?";
}

const char *nvr_config_default_path(void)
{
    const char *env = getenv("NVR_CONFIG");

    if (env && *env)
        return env;
    if (access("./nvr.ini", F_OK) == 0)
        return "./nvr.ini";
    return "/etc/nvr/nvr.ini";
}

/* [storage] */

static enum set_result set_storage_path(struct parser *p, const char *v,
                                        char *why, size_t why_size)
{
    if (!*v) {
        snprintf(why, why_size, "must not be empty");
        return SET_BAD;
    }
    return set_text(p->cfg->storage_path, sizeof(p->cfg->storage_path), v, why,
                    why_size);
}

static enum set_result set_segment_seconds(struct parser *p, const char *v,
                                           char *why, size_t why_size)
{
    if (parse_int(v, CONFIG_MIN_SEGMENT_S, CONFIG_MAX_SEGMENT_S,
                  &p->cfg->segment_seconds) == 0)
        return SET_OK;
    snprintf(why, why_size, "expected an integer from %d to %d",
             CONFIG_MIN_SEGMENT_S, CONFIG_MAX_SEGMENT_S);
    return SET_BAD_VALUE;
}

/* "N%" with N in [0, 100), or a size. */
static enum set_result set_min_free(struct parser *p, const char *v, char *why,
                                    size_t why_size)
{
    size_t n = strlen(v);

    if (n > 0 && v[n - 1] == '%') {
        size_t digits = strspn(v, "0123456789.");
        double pct;
        char *end;

        if (digits == n - 1 && v[0] >= '0' && v[0] <= '9' &&
            strchr(v, '.') == strrchr(v, '.')) {
            pct = strtod(v, &end);
            if (end == v + n - 1 && pct >= 0 && pct < 100) {
                p->cfg->min_free_is_percent = 1;
                p->cfg->min_free_percent = pct;
                return SET_OK;
            }
        }
    } else if (nvr_config_parse_size(v, &p->cfg->min_free_bytes) == 0) {
        p->cfg->min_free_is_percent = 0;
        return SET_OK;
    }
    snprintf(why, why_size,
             "expected a percentage below 100 (5%%) or a size (50G)");
    return SET_BAD_VALUE;
}

static const struct key_def storage_keys[] = {
    {"path", 0, set_storage_path},
    {"segment_seconds", 0, set_segment_seconds},
    {"min_free", 0, set_min_free},
    {NULL, 0, NULL},
};

/* [network] */

static enum set_result set_allow_dns(struct parser *p, const char *v, char *why,
                                     size_t why_size)
{
    if (parse_bool(v, &p->cfg->allow_dns) == 0)
        return SET_OK;
    snprintf(why, why_size, "expected true or false");
    return SET_BAD_VALUE;
}

static const struct key_def network_keys[] = {
    {"allow_dns", 0, set_allow_dns},
    {NULL, 0, NULL},
};

/* [camera NAME] */

static enum set_result set_url(struct parser *p, const char *v, char *why,
                               size_t why_size)
{
    if (strncmp(v, "rtsp://", 7) != 0 || v[7] == '\0' || v[7] == '/') {
        snprintf(why, why_size, "must start with rtsp:// and name a host");
        return SET_BAD;
    }
    if (strpbrk(v, " \t")) {
        snprintf(why, why_size, "must not contain spaces");
        return SET_BAD;
    }
    return set_text(p->cam->url, sizeof(p->cam->url), v, why, why_size);
}

static enum set_result set_username(struct parser *p, const char *v, char *why,
                                    size_t why_size)
{
    return set_text(p->cam->username, sizeof(p->cam->username), v, why,
                    why_size);
}

static enum set_result set_password(struct parser *p, const char *v, char *why,
                                    size_t why_size)
{
    p->password_line = p->lineno;
    return set_text(p->cam->password, sizeof(p->cam->password), v, why,
                    why_size);
}

/* Reads the first line of a password file into the current camera. The
 * open is non-blocking and the file must be regular, so a FIFO or device
 * named by mistake cannot hang the loader. */
static enum set_result read_password_file(struct parser *p, const char *path,
                                          char *why, size_t why_size)
{
    char buf[CONFIG_MAX_PASS_READ + 1], shown[CONFIG_MAX_ECHO + 8];
    struct stat st;
    ssize_t n;
    size_t got = 0, len;
    int fd;

    echo(path, shown, sizeof(shown));
    fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(why, why_size, "cannot read '%s': %s", shown, strerror(errno));
        return SET_BAD;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        snprintf(why, why_size, "'%s' is not a regular file", shown);
        return SET_BAD;
    }
    while (got < CONFIG_MAX_PASS_READ) {
        n = read(fd, buf + got, CONFIG_MAX_PASS_READ - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(why, why_size, "cannot read '%s': %s", shown,
                     strerror(errno));
            close(fd);
            return SET_BAD;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    len = strcspn(buf, "\n");
    while (len > 0 && (is_space(buf[len - 1]) || buf[len - 1] == '\0'))
        len--;
    buf[len] = '\0';
    if (len == 0 || strlen(buf) != len) {
        snprintf(why, why_size, "'%s' holds no password on its first line",
                 shown);
        memset(buf, 0, sizeof(buf));
        return SET_BAD;
    }
    if (len >= sizeof(p->cam->password)) {
        snprintf(why, why_size,
                 "the password in '%s' is too long (at most %zu bytes)", shown,
                 sizeof(p->cam->password) - 1);
        memset(buf, 0, sizeof(buf));
        return SET_BAD;
    }
    memcpy(p->cam->password, buf, len + 1);
    memset(buf, 0, sizeof(buf));
    return SET_OK;
}

static enum set_result set_password_file(struct parser *p, const char *v,
                                         char *why, size_t why_size)
{
    char path[sizeof(p->cam->password_file)];
    int n;

    p->password_file_line = p->lineno;
    if (!*v) {
        snprintf(why, why_size, "must not be empty");
        return SET_BAD;
    }
    if (v[0] != '/' && p->dir)
        n = snprintf(path, sizeof(path), "%s/%s", p->dir, v);
    else
        n = snprintf(path, sizeof(path), "%s", v);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        snprintf(why, why_size, "path too long (at most %zu bytes)",
                 sizeof(path) - 1);
        return SET_BAD;
    }
    memcpy(p->cam->password_file, path, (size_t)n + 1);
    return read_password_file(p, path, why, why_size);
}

static enum set_result set_transport(struct parser *p, const char *v, char *why,
                                     size_t why_size)
{
    static const enum nvr_transport all[] = {
        NVR_TRANSPORT_TCP, NVR_TRANSPORT_UDP, NVR_TRANSPORT_AUTO};

    for (size_t i = 0; i < NVR_ARRAY_SIZE(all); i++) {
        if (strcasecmp(v, nvr_transport_name(all[i])) == 0) {
            p->cam->transport = all[i];
            return SET_OK;
        }
    }
    snprintf(why, why_size, "expected tcp, udp or auto");
    return SET_BAD_VALUE;
}

static enum set_result set_retain_days(struct parser *p, const char *v,
                                       char *why, size_t why_size)
{
    if (parse_int(v, 1, CONFIG_MAX_RETAIN_DAYS, &p->cam->retain_days) == 0)
        return SET_OK;
    snprintf(why, why_size, "expected an integer from 1 to %d",
             CONFIG_MAX_RETAIN_DAYS);
    return SET_BAD_VALUE;
}

static enum set_result set_max_bytes(struct parser *p, const char *v, char *why,
                                     size_t why_size)
{
    if (nvr_config_parse_size(v, &p->cam->max_bytes) == 0)
        return SET_OK;
    snprintf(why, why_size, "expected a size such as 500G, 1.5T or 0");
    return SET_BAD_VALUE;
}

static enum set_result set_enabled(struct parser *p, const char *v, char *why,
                                   size_t why_size)
{
    if (parse_bool(v, &p->cam->enabled) == 0)
        return SET_OK;
    snprintf(why, why_size, "expected true or false");
    return SET_BAD_VALUE;
}

static enum set_result set_allow_public(struct parser *p, const char *v,
                                        char *why, size_t why_size)
{
    if (parse_bool(v, &p->cam->allow_public) == 0)
        return SET_OK;
    snprintf(why, why_size, "expected true or false");
    return SET_BAD_VALUE;
}

static const struct key_def camera_keys[] = {
    {"url", 1, set_url},
    {"username", 0, set_username},
    {"password", 1, set_password},
    {"password_file", 0, set_password_file},
    {"transport", 0, set_transport},
    {"retain_days", 0, set_retain_days},
    {"max_bytes", 0, set_max_bytes},
    {"enabled", 0, set_enabled},
    {"allow_public", 0, set_allow_public},
    {NULL, 0, NULL},
};

/* Sections */

static int key_index(const struct key_def *keys, const char *name)
{
    for (int i = 0; keys[i].name; i++)
        if (strcmp(keys[i].name, name) == 0)
            return i;
    return -1;
}

/* Checks what only the whole section shows: required keys, conflicts. */
static void end_section(struct parser *p)
{
    if (p->kind == SECT_STORAGE &&
        p->key_line[key_index(storage_keys, "path")] == 0)
        report(p, p->header_line, "[storage]: missing required key 'path'");
    if (p->kind == SECT_CAMERA) {
        if (p->key_line[key_index(camera_keys, "url")] == 0)
            report(p, p->header_line, "[%s]: missing required key 'url'",
                   p->label);
        if (p->password_line && p->password_file_line)
            report(p, NVR_MAX(p->password_line, p->password_file_line),
                   "[%s]: set password or password_file, not both", p->label);
    }
    p->kind = SECT_NONE;
    p->cam = NULL;
    p->keys = NULL;
}

static int valid_camera_name(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n >= NVR_CAMERA_NAME_MAX || strcmp(name, ".") == 0 ||
        strcmp(name, "..") == 0)
        return 0;
    return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                        "0123456789_.-") == n;
}

static struct nvr_camera_config *add_camera(struct parser *p)
{
    struct nvr_config *cfg = p->cfg;
    struct nvr_camera_config *c;

    if (cfg->n_cameras == p->cam_cap) {
        int cap = p->cam_cap ? p->cam_cap * 2 : 8;
        struct nvr_camera_config *grown;

        if (cap > NVR_CONFIG_MAX_CAMERAS)
            cap = NVR_CONFIG_MAX_CAMERAS;
        grown = realloc(cfg->cameras, (size_t)cap * sizeof(*grown));
        if (!grown) {
            p->oom = 1;
            return NULL;
        }
        cfg->cameras = grown;
        p->cam_cap = cap;
    }
    c = &cfg->cameras[cfg->n_cameras++];
    memset(c, 0, sizeof(*c));
    c->transport = NVR_TRANSPORT_TCP;
    c->retain_days = CONFIG_DEFAULT_RETAIN_DAYS;
    c->enabled = 1;
    return c;
}

static void begin_camera(struct parser *p, const char *name)
{
    char shown[CONFIG_MAX_ECHO + 8];

    if (!*name) {
        report(p, p->lineno, "[camera] needs a name: [camera NAME]");
    } else if (!valid_camera_name(name)) {
        report(p, p->lineno,
               "camera name '%s': use 1 to %d of A-Z a-z 0-9 _ . -",
               echo(name, shown, sizeof(shown)), NVR_CAMERA_NAME_MAX - 1);
    } else {
        for (int i = 0; i < p->cfg->n_cameras; i++) {
            if (strcmp(p->cfg->cameras[i].name, name) == 0) {
                report(p, p->lineno, "duplicate camera '%s' (first at line %d)",
                       name, p->cfg->cameras[i].line);
                break;
            }
        }
    }
    if (p->cfg->n_cameras >= NVR_CONFIG_MAX_CAMERAS) {
        report(p, p->lineno, "more than %d cameras", NVR_CONFIG_MAX_CAMERAS);
        p->kind = SECT_SKIP;
        return;
    }
    /* Even a badly named camera is filled, so its keys are checked too. */
    p->cam = add_camera(p);
    if (!p->cam) {
        p->kind = SECT_SKIP;
        return;
    }
    snprintf(p->cam->name, sizeof(p->cam->name), "%s", name);
    p->cam->line = p->lineno;
    p->kind = SECT_CAMERA;
    p->keys = camera_keys;
}

/* Handles a header line; `line` starts with '['. */
static void begin_section(struct parser *p, const char *line)
{
    const char *rb = strchr(line, ']');
    char text[CONFIG_MAX_SECTION], shown[CONFIG_MAX_ECHO + 8];
    const char *s, *after;
    size_t n;

    end_section(p);
    memset(p->key_line, 0, sizeof(p->key_line));
    p->password_line = 0;
    p->password_file_line = 0;
    p->header_line = p->lineno;
    p->kind = SECT_SKIP;

    if (!rb) {
        report(p, p->lineno, "section header without ']'");
        return;
    }
    for (after = rb + 1; is_space(*after); after++)
        ;
    if (*after && *after != ';' && *after != '#') {
        report(p, p->lineno, "unexpected text after ']'");
        return;
    }
    for (s = line + 1; is_space(*s); s++)
        ;
    n = (size_t)(rb - s);
    while (n > 0 && is_space(s[n - 1]))
        n--;
    if (n >= sizeof(text))
        n = sizeof(text) - 1;
    memcpy(text, s, n);
    text[n] = '\0';
    echo(text, p->label, sizeof(p->label));

    if (strcmp(text, "storage") == 0 || strcmp(text, "network") == 0) {
        int *first = text[0] == 's' ? &p->storage_line : &p->network_line;

        if (*first) {
            report(p, p->lineno, "duplicate section [%s] (first at line %d)",
                   text, *first);
            return;
        }
        *first = p->lineno;
        p->kind = text[0] == 's' ? SECT_STORAGE : SECT_NETWORK;
        p->keys = text[0] == 's' ? storage_keys : network_keys;
    } else if (n >= 6 && memcmp(text, "camera", 6) == 0 &&
               (n == 6 || is_space(text[6]))) {
        for (s = text + 6; is_space(*s); s++)
            ;
        begin_camera(p, s);
        snprintf(p->label, sizeof(p->label), "camera%s%s", *s ? " " : "",
                 echo(s, shown, sizeof(shown)));
    } else {
        report(p, p->lineno, "unknown section [%s]",
               echo(text, shown, sizeof(shown)));
    }
}

/* The inih handler: one key of the current section. */
static int on_key(void *user, const char *section, const char *name,
                  const char *value)
{
    struct parser *p = user;
    char why[512], shown[CONFIG_MAX_ECHO + 8], shown_key[CONFIG_MAX_ECHO + 8];
    const struct key_def *def;
    enum set_result r;
    int i;

    (void)section; /* inih's copy is truncated; p->label is not */
    p->pending_key_line = 0;
    echo(name, shown_key, sizeof(shown_key));
    if (!*name) {
        report(p, p->lineno, "missing key name before '='");
        return 1;
    }
    switch (p->kind) {
    case SECT_NONE:
        report(p, p->lineno, "key '%s' outside any section", shown_key);
        return 1;
    case SECT_SKIP:
        return 1;
    default:
        break;
    }
    i = key_index(p->keys, name);
    if (i < 0) {
        report(p, p->lineno, "unknown key '%s' in [%s]", shown_key, p->label);
        return 1;
    }
    def = &p->keys[i];
    if (p->key_line[i]) {
        report(p, p->lineno, "duplicate key '%s' in [%s] (first at line %d)",
               def->name, p->label, p->key_line[i]);
        return 1;
    }
    p->key_line[i] = p->lineno;
    why[0] = '\0';
    r = def->set(p, value, why, sizeof(why));
    if (r == SET_BAD_VALUE && !def->secret)
        report(p, p->lineno, "key '%s' in [%s]: %s, got '%s'", def->name,
               p->label, why, echo(value, shown, sizeof(shown)));
    else if (r != SET_OK)
        report(p, p->lineno, "key '%s' in [%s]: %s", def->name, p->label, why);
    return 1;
}

/* The inih reader: hands over one physical line at a time (see the file
 * comment), or NULL at the end. */
static char *next_line(char *str, int num, void *stream)
{
    struct parser *p = stream;
    const char *line, *nl;
    size_t n;

    if (p->pending_key_line) {
        report(p, p->pending_key_line, "expected 'key = value'");
        p->pending_key_line = 0;
    }
    if (p->pos >= p->len || num < 2)
        return NULL;
    line = p->text + p->pos;
    nl = memchr(line, '\n', p->len - p->pos);
    n = nl ? (size_t)(nl - line) : p->len - p->pos;
    p->pos += n + (nl ? 1 : 0);
    p->lineno++;
    str[0] = '\0';

    if (memchr(line, '\0', n)) {
        report(p, p->lineno, "NUL byte in line");
        return str;
    }
    if (p->lineno == 1 && n >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
        line += 3;
        n -= 3;
    }
    while (n > 0 && is_space(*line)) {
        line++;
        n--;
    }
    while (n > 0 && is_space(line[n - 1]))
        n--;
    if (n == 0 || line[0] == ';' || line[0] == '#')
        return str;
    if (n + 1 > (size_t)num) {
        report(p, p->lineno, "line longer than %d bytes", num - 1);
        return str;
    }
    memcpy(str, line, n);
    str[n] = '\0';
    if (line[0] == '[') {
        begin_section(p, str);
        str[0] = '\0';
        return str;
    }
    p->pending_key_line = p->lineno;
    return str;
}

void nvr_config_free(struct nvr_config *cfg)
{
    if (!cfg)
        return;
    for (int i = 0; i < cfg->n_cameras; i++)
        nvr_wipe(cfg->cameras[i].password, sizeof(cfg->cameras[i].password));
    free(cfg->cameras);
    free(cfg);
}

/* The parser shared by _load and _parse; dir is NULL for the cwd. */
static int parse_text(const char *text, size_t len, const char *name,
                      const char *dir, struct nvr_config **out, char *err,
                      size_t err_size)
{
    struct parser p;
    struct nvr_config *cfg;
    int rc = -ENOMEM;

    memset(&p, 0, sizeof(p));
    p.name = name ? name : "(config)";
    p.dir = dir;
    p.text = text;
    p.len = len;
    if (err && err_size > 0)
        err[0] = '\0';
    p.problems = calloc(CONFIG_MAX_PROBLEMS, sizeof(*p.problems));
    if (!p.problems)
        return -ENOMEM;
    cfg = calloc(1, sizeof(*cfg));
    if (!cfg)
        goto err_free_problems;
    snprintf(cfg->path, sizeof(cfg->path), "%s", p.name);
    cfg->segment_seconds = CONFIG_DEFAULT_SEGMENT_S;
    cfg->min_free_is_percent = 1;
    cfg->min_free_percent = CONFIG_DEFAULT_MIN_FREE;
    p.cfg = cfg;

    if (len > CONFIG_MAX_BYTES) {
        report(&p, 0, "larger than %d bytes", CONFIG_MAX_BYTES);
    } else {
        /* Only an allocation failure inside inih is worth its result. */
        if (ini_parse_stream(next_line, &p, on_key, &p) == -2)
            p.oom = 1;
        end_section(&p);
        if (!p.storage_line)
            report(&p, 0, "missing section [storage] (its 'path' is required)");
    }
    if (p.oom)
        goto err_free_cfg;
    if (p.n_errors > 0) {
        write_problems(&p, err, err_size);
        rc = -EINVAL;
        goto err_free_cfg;
    }
    free(p.problems);
    *out = cfg;
    return 0;

err_free_cfg:
    nvr_config_free(cfg);
err_free_problems:
    free(p.problems);
    return rc;
}

int nvr_config_parse(const char *text, size_t len, const char *name,
                     struct nvr_config **out, char *err, size_t err_size)
{
    return parse_text(text, len, name, NULL, out, err, err_size);
}

int nvr_config_load(const char *path, struct nvr_config **out, char *err,
                    size_t err_size)
{
    char dir[1024], *buf = NULL, *slash;
    struct stat st;
    size_t got = 0;
    ssize_t n;
    int fd, rc;

    if (err && err_size > 0)
        err[0] = '\0';
    fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        rc = -errno;
        if (err)
            snprintf(err, err_size, "%s: cannot open: %s\n", path,
                     strerror(-rc));
        return rc;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
        st.st_size > CONFIG_MAX_BYTES) {
        if (err)
            snprintf(err, err_size,
                     "%s: not a regular file of at most %d bytes\n", path,
                     CONFIG_MAX_BYTES);
        close(fd);
        return -EINVAL;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        return -ENOMEM;
    }
    while (got < (size_t)st.st_size) {
        n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            if (err)
                snprintf(err, err_size, "%s: cannot read: %s\n", path,
                         strerror(-rc));
            close(fd);
            free(buf);
            return rc;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';

    /* Relative password_file paths are relative to the config's folder. */
    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (slash == dir)
        dir[1] = '\0';
    else if (slash)
        *slash = '\0';
    rc = parse_text(buf, got, path, slash ? dir : NULL, out, err, err_size);
    free(buf);
    return rc;
}
