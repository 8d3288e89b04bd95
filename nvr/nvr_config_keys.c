/* SPDX-License-Identifier: MIT */
/*
 * Every key of the config file: how its value is read and checked, with
 * the message a bad value gets. Each section kind has a table
 * (nvr_config__storage_keys, _network_keys, _camera_keys) that
 * nvr_config.c walks; a new key is one setter and one table row here.
 */
#include "config.h"
#include "nvr/nvr_config_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

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

const char *nvr_auth_name(enum nvr_auth a)
{
    switch (a) {
    case NVR_AUTH_DIGEST:
        return "digest";
    case NVR_AUTH_BASIC:
        return "basic";
    case NVR_AUTH_ANY:
        return "any";
    }
    return "?";
}

int nvr_auth_parse(const char *v, enum nvr_auth *out)
{
    static const enum nvr_auth all[] = {NVR_AUTH_DIGEST, NVR_AUTH_BASIC,
                                        NVR_AUTH_ANY};

    for (size_t i = 0; i < NVR_ARRAY_SIZE(all); i++) {
        if (strcasecmp(v, nvr_auth_name(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    }
    return -EINVAL;
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

const struct key_def nvr_config__storage_keys[] = {
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

const struct key_def nvr_config__network_keys[] = {
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

int nvr_config_read_password_file(const char *path, char *out, size_t out_size,
                                  char *why, size_t why_size)
{
    char buf[CONFIG_MAX_PASS_READ + 1], shown[CONFIG_MAX_ECHO + 8];
    struct stat st;
    ssize_t n;
    size_t got = 0, len;
    int fd, err;

    nvr_config__echo(path, shown, sizeof(shown));
    fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        err = -errno;
        snprintf(why, why_size, "cannot read '%s': %s", shown, strerror(-err));
        return err;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        snprintf(why, why_size, "'%s' is not a regular file", shown);
        return -EINVAL;
    }
    while (got < CONFIG_MAX_PASS_READ) {
        n = read(fd, buf + got, CONFIG_MAX_PASS_READ - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err = -errno;
            snprintf(why, why_size, "cannot read '%s': %s", shown,
                     strerror(-err));
            close(fd);
            memset(buf, 0, sizeof(buf));
            return err;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    len = strcspn(buf, "\n");
    while (len > 0 &&
           (nvr_config__is_space(buf[len - 1]) || buf[len - 1] == '\0'))
        len--;
    buf[len] = '\0';
    if (len == 0 || strlen(buf) != len) {
        snprintf(why, why_size, "'%s' holds no password on its first line",
                 shown);
        memset(buf, 0, sizeof(buf));
        return -EINVAL;
    }
    if (len >= out_size) {
        snprintf(why, why_size,
                 "the password in '%s' is too long (at most %zu bytes)", shown,
                 out_size - 1);
        memset(buf, 0, sizeof(buf));
        return -EMSGSIZE;
    }
    memcpy(out, buf, len + 1);
    memset(buf, 0, sizeof(buf));
    return 0;
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
    if (nvr_config_read_password_file(path, p->cam->password,
                                      sizeof(p->cam->password), why,
                                      why_size) < 0)
        return SET_BAD;
    return SET_OK;
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

static enum set_result set_auth(struct parser *p, const char *v, char *why,
                                size_t why_size)
{
    if (nvr_auth_parse(v, &p->cam->auth) == 0)
        return SET_OK;
    snprintf(why, why_size,
             "expected digest, basic (sends the password in clear text) or "
             "any");
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

const struct key_def nvr_config__camera_keys[] = {
    {"url", 1, set_url},
    {"username", 0, set_username},
    {"password", 1, set_password},
    {"password_file", 0, set_password_file},
    {"transport", 0, set_transport},
    {"auth", 0, set_auth},
    {"retain_days", 0, set_retain_days},
    {"max_bytes", 0, set_max_bytes},
    {"enabled", 0, set_enabled},
    {"allow_public", 0, set_allow_public},
    {NULL, 0, NULL},
};

/* Sections */

/* [access] */

const char *nvr_right_name(enum nvr_right r)
{
    switch (r) {
    case NVR_RIGHT_VIEW:
        return "view";
    case NVR_RIGHT_EXPORT:
        return "export";
    case NVR_RIGHT_HOLD:
        return "hold";
    case NVR_RIGHT_AUDIT:
        return "audit";
    case NVR_RIGHT_COUNT:
        break;
    }
    return "?";
}

static enum set_result set_socket(struct parser *p, const char *v, char *why,
                                  size_t why_size)
{
    if (v[0] != '/') {
        snprintf(why, why_size, "must be an absolute path");
        return SET_BAD_VALUE;
    }
    return set_text(p->cfg->socket_path, sizeof(p->cfg->socket_path), v, why,
                    why_size);
}

/* A Unix group name as useradd(8) allows it, with '.' as some sites use. */
static int valid_group_name(const char *s, size_t n)
{
    if (n == 0 || n >= NVR_GROUP_NAME_MAX || s[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
            !(c >= '0' && c <= '9') && c != '_' && c != '-' && c != '.' &&
            !(c == '$' && i == n - 1))
            return 0;
    }
    return 1;
}

static enum set_result set_socket_group(struct parser *p, const char *v,
                                        char *why, size_t why_size)
{
    if (!valid_group_name(v, strlen(v))) {
        snprintf(why, why_size, "expected a Unix group name");
        return SET_BAD_VALUE;
    }
    return set_text(p->cfg->socket_group, sizeof(p->cfg->socket_group), v, why,
                    why_size);
}

/* Adds one GROUP: CAMERA pair; SET_BAD with why when it cannot. */
static enum set_result add_rule(struct parser *p, enum nvr_right right,
                                const char *group, size_t group_len,
                                const char *camera, size_t camera_len,
                                char *why, size_t why_size)
{
    struct nvr_config *cfg = p->cfg;
    struct nvr_access_rule *r;

    if (camera_len >= NVR_CAMERA_NAME_MAX) {
        snprintf(why, why_size, "camera name '%.*s...' is too long", 32,
                 camera);
        return SET_BAD;
    }
    if (cfg->n_rules >= NVR_ACCESS_MAX_RULES) {
        snprintf(why, why_size, "more than %d group: camera pairs in [access]",
                 NVR_ACCESS_MAX_RULES);
        return SET_BAD;
    }
    r = &cfg->rules[cfg->n_rules++];
    r->right = right;
    memcpy(r->group, group, group_len);
    r->group[group_len] = '\0';
    memcpy(r->camera, camera, camera_len);
    r->camera[camera_len] = '\0';
    r->line = p->lineno;
    return SET_OK;
}

/*
 * "GROUP: CAMERA CAMERA..., GROUP: *": entries separated by commas, each
 * a group, a colon and the cameras it covers (separated by spaces), '*'
 * for every camera. Whether each camera exists is checked once the whole
 * file is read (nvr_config__check_access()).
 */
static enum set_result set_right(struct parser *p, enum nvr_right right,
                                 const char *v, char *why, size_t why_size)
{
    const char *s = v;

    if (!*v) {
        snprintf(why, why_size,
                 "expected GROUP: CAMERA... entries separated by commas "
                 "(e.g. gate-guards: gate, operators: *)");
        return SET_BAD;
    }
    while (*s) {
        const char *end = strchr(s, ','), *colon, *c;
        size_t n, gl;
        int cams = 0;

        if (!end)
            end = s + strlen(s);
        n = (size_t)(end - s);
        colon = memchr(s, ':', n);
        while (s < end && nvr_config__is_space(*s))
            s++;
        if (!colon) {
            snprintf(why, why_size,
                     "'%.*s' needs a colon and the cameras: GROUP: CAMERA... "
                     "or GROUP: *",
                     (int)NVR_MIN((size_t)(end - s), (size_t)CONFIG_MAX_ECHO),
                     s);
            return SET_BAD;
        }
        gl = (size_t)(colon - s);
        while (gl > 0 && nvr_config__is_space(s[gl - 1]))
            gl--;
        if (!valid_group_name(s, gl)) {
            snprintf(why, why_size, "'%.*s' is not a Unix group name",
                     (int)NVR_MIN(gl, (size_t)CONFIG_MAX_ECHO), s);
            return SET_BAD;
        }
        for (c = colon + 1; c < end;) {
            const char *w;

            while (c < end && nvr_config__is_space(*c))
                c++;
            for (w = c; w < end && !nvr_config__is_space(*w);)
                w++;
            if (w > c) {
                enum set_result r = add_rule(p, right, s, gl, c,
                                             (size_t)(w - c), why, why_size);

                if (r != SET_OK)
                    return r;
                cams++;
            }
            c = w;
        }
        if (cams == 0) {
            snprintf(why, why_size,
                     "group '%.*s' has no camera after its colon (use * for "
                     "every camera)",
                     (int)gl, s);
            return SET_BAD;
        }
        s = *end ? end + 1 : end;
    }
    return SET_OK;
}

static enum set_result set_view(struct parser *p, const char *v, char *why,
                                size_t why_size)
{
    return set_right(p, NVR_RIGHT_VIEW, v, why, why_size);
}

static enum set_result set_export(struct parser *p, const char *v, char *why,
                                  size_t why_size)
{
    return set_right(p, NVR_RIGHT_EXPORT, v, why, why_size);
}

static enum set_result set_hold(struct parser *p, const char *v, char *why,
                                size_t why_size)
{
    return set_right(p, NVR_RIGHT_HOLD, v, why, why_size);
}

static enum set_result set_audit(struct parser *p, const char *v, char *why,
                                 size_t why_size)
{
    return set_right(p, NVR_RIGHT_AUDIT, v, why, why_size);
}

const struct key_def nvr_config__access_keys[] = {
    {"socket", 0, set_socket}, {"socket_group", 0, set_socket_group},
    {"view", 0, set_view},     {"export", 0, set_export},
    {"hold", 0, set_hold},     {"audit", 0, set_audit},
    {NULL, 0, NULL},
};
