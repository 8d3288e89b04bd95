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
 * The keys themselves and how each value is read are in nvr_config_keys.c.
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
#include "nvr/nvr_config_int.h"
#include "storage/layout.h"

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
const char *nvr_config__echo(const char *s, char *buf, size_t size)
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

int nvr_config__is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

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
        p->key_line[key_index(nvr_config__storage_keys, "path")] == 0)
        report(p, p->header_line, "[storage]: missing required key 'path'");
    if (p->kind == SECT_CAMERA) {
        if (p->key_line[key_index(nvr_config__camera_keys, "url")] == 0)
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

/* What the storage's top level uses a camera's name for, or NULL when the
 * name is free: a camera's folder sits beside these files. */
static const char *reserved_camera_name(const char *name)
{
    for (size_t i = 0; i < STORAGE_LAYOUT_N_NAMES; i++)
        if (strcasecmp(name, storage_layout_names[i].name) == 0)
            return storage_layout_names[i].use;
    if (name[0] == '.')
        return "hidden files the recorder keeps";
    return NULL;
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
    c->transport = NVR_TRANSPORT_AUTO;
    c->retain_days = CONFIG_DEFAULT_RETAIN_DAYS;
    c->enabled = 1;
    return c;
}

static void begin_camera(struct parser *p, const char *name)
{
    char shown[CONFIG_MAX_ECHO + 8];
    const char *use;

    if (!*name) {
        report(p, p->lineno, "[camera] needs a name: [camera NAME]");
    } else if (!valid_camera_name(name)) {
        report(p, p->lineno,
               "camera name '%s': use 1 to %d of A-Z a-z 0-9 _ . -",
               nvr_config__echo(name, shown, sizeof(shown)),
               NVR_CAMERA_NAME_MAX - 1);
    } else if ((use = reserved_camera_name(name))) {
        report(p, p->lineno,
               "camera name '%s' is reserved: the storage directory uses it "
               "for %s",
               name, use);
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
    p->keys = nvr_config__camera_keys;
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
    for (after = rb + 1; nvr_config__is_space(*after); after++)
        ;
    if (*after && *after != ';' && *after != '#') {
        report(p, p->lineno, "unexpected text after ']'");
        return;
    }
    for (s = line + 1; nvr_config__is_space(*s); s++)
        ;
    n = (size_t)(rb - s);
    while (n > 0 && nvr_config__is_space(s[n - 1]))
        n--;
    if (n >= sizeof(text))
        n = sizeof(text) - 1;
    memcpy(text, s, n);
    text[n] = '\0';
    nvr_config__echo(text, p->label, sizeof(p->label));

    if (strcmp(text, "access") == 0) {
        if (p->access_line) {
            report(p, p->lineno,
                   "duplicate section [access] (first at line %d)",
                   p->access_line);
            return;
        }
        p->access_line = p->lineno;
        p->cfg->access_line = p->lineno;
        p->kind = SECT_ACCESS;
        p->keys = nvr_config__access_keys;
    } else if (strcmp(text, "storage") == 0 || strcmp(text, "network") == 0) {
        int *first = text[0] == 's' ? &p->storage_line : &p->network_line;

        if (*first) {
            report(p, p->lineno, "duplicate section [%s] (first at line %d)",
                   text, *first);
            return;
        }
        *first = p->lineno;
        p->kind = text[0] == 's' ? SECT_STORAGE : SECT_NETWORK;
        p->keys = text[0] == 's' ? nvr_config__storage_keys
                                 : nvr_config__network_keys;
    } else if (n >= 6 && memcmp(text, "camera", 6) == 0 &&
               (n == 6 || nvr_config__is_space(text[6]))) {
        for (s = text + 6; nvr_config__is_space(*s); s++)
            ;
        begin_camera(p, s);
        snprintf(p->label, sizeof(p->label), "camera%s%s", *s ? " " : "",
                 nvr_config__echo(s, shown, sizeof(shown)));
    } else {
        report(p, p->lineno, "unknown section [%s]",
               nvr_config__echo(text, shown, sizeof(shown)));
    }
}

/* Every camera an [access] rule names must be in the config: a typo would
 * otherwise give nobody the right the admin meant to give. */
static void check_access_cameras(struct parser *p)
{
    const struct nvr_config *cfg = p->cfg;

    for (int i = 0; i < cfg->n_rules; i++) {
        const struct nvr_access_rule *r = &cfg->rules[i];
        int found = strcmp(r->camera, "*") == 0;

        for (int k = 0; !found && k < cfg->n_cameras; k++)
            found = strcmp(cfg->cameras[k].name, r->camera) == 0;
        if (!found) {
            char shown[CONFIG_MAX_ECHO + 8];

            report(p, r->line,
                   "key '%s' in [access]: group '%s' is given camera '%s', "
                   "which is not in this config (use * for every camera)",
                   nvr_right_name(r->right), r->group,
                   nvr_config__echo(r->camera, shown, sizeof(shown)));
        }
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
    nvr_config__echo(name, shown_key, sizeof(shown_key));
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
               p->label, why, nvr_config__echo(value, shown, sizeof(shown)));
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
    while (n > 0 && nvr_config__is_space(*line)) {
        line++;
        n--;
    }
    while (n > 0 && nvr_config__is_space(line[n - 1]))
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
    snprintf(cfg->socket_path, sizeof(cfg->socket_path), "%s",
             NVR_SOCKET_PATH_DEFAULT);
    p.cfg = cfg;

    if (len > CONFIG_MAX_BYTES) {
        report(&p, 0, "larger than %d bytes", CONFIG_MAX_BYTES);
    } else {
        /* Only an allocation failure inside inih is worth its result. */
        if (ini_parse_stream(next_line, &p, on_key, &p) == -2)
            p.oom = 1;
        end_section(&p);
        check_access_cameras(&p);
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

int64_t nvr_config_min_free_bytes(const struct nvr_config *cfg,
                                  int64_t fs_bytes)
{
    if (cfg->min_free_is_percent)
        return (int64_t)((double)fs_bytes * cfg->min_free_percent / 100.0);
    return cfg->min_free_bytes;
}
