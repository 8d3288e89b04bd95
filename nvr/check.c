/* SPDX-License-Identifier: MIT */
/*
 * The air-gap rules (see check.h): camera addresses, password files, the
 * storage directory and the catalog. `nvr check` reports every finding;
 * `nvr run` uses check_run_targets() to refuse the cameras that break a
 * rule and to learn the address of each one it may contact.
 *
 * Messages name the camera and the file, never a credential: URLs are
 * parsed here and only their host is quoted.
 */
#include "config.h"
#include "nvr/check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingest/rtsp_url.h"
#include "nvr/base/err.h"
#include "nvr/base/perm.h"
#include "nvr/base/log.h"
#include "storage/catalog.h"

#define CHECK_LINE_MAX 4096 /* bytes of one hosts or config line looked at */

static void wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;

    while (n--)
        *v++ = 0;
}

/* ---- addresses ---- */

static enum check_addr_class classify_v4(uint32_t a)
{
    if ((a >> 24) == 127)
        return CHECK_ADDR_LOOPBACK;
    if ((a >> 24) == 10 || (a >> 20) == (172u << 4 | 1u) ||
        (a >> 16) == (192u << 8 | 168u))
        return CHECK_ADDR_PRIVATE;
    if ((a >> 16) == (169u << 8 | 254u))
        return CHECK_ADDR_LINK_LOCAL;
    if ((a >> 24) == 0 || (a >> 28) == 0xe || a == 0xffffffffu)
        return CHECK_ADDR_INVALID; /* "this network", multicast, broadcast */
    return CHECK_ADDR_PUBLIC;
}

enum check_addr_class check_addr_classify(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

        return classify_v4(ntohl(in->sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        const uint8_t *b = in6->sin6_addr.s6_addr;

        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
            return classify_v4((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 |
                               (uint32_t)b[14] << 8 | b[15]);
        if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
            return CHECK_ADDR_LOOPBACK;
        if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr) || b[0] == 0xff)
            return CHECK_ADDR_INVALID;
        if ((b[0] & 0xfe) == 0xfc)
            return CHECK_ADDR_PRIVATE;
        if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
            return CHECK_ADDR_LINK_LOCAL;
        return CHECK_ADDR_PUBLIC;
    }
    return CHECK_ADDR_INVALID;
}

const char *check_addr_class_name(enum check_addr_class c)
{
    switch (c) {
    case CHECK_ADDR_LOOPBACK:
        return "loopback";
    case CHECK_ADDR_PRIVATE:
        return "private";
    case CHECK_ADDR_LINK_LOCAL:
        return "link-local";
    case CHECK_ADDR_PUBLIC:
        return "public";
    case CHECK_ADDR_INVALID:
        break;
    }
    return "not a host address";
}

/* Parses an IPv4 or IPv6 literal (no brackets) into *out, port 0. */
static int parse_literal(const char *s, struct sockaddr_storage *out)
{
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, s, &((struct sockaddr_in *)out)->sin_addr) == 1) {
        out->ss_family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, s, &((struct sockaddr_in6 *)out)->sin6_addr) == 1) {
        out->ss_family = AF_INET6;
        return 0;
    }
    return -EINVAL;
}

static void addr_text(const struct sockaddr_storage *sa, char *out, size_t size)
{
    const void *src =
        sa->ss_family == AF_INET
            ? (const void *)&((const struct sockaddr_in *)sa)->sin_addr
            : (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr;

    if (!inet_ntop(sa->ss_family, src, out, (socklen_t)size))
        snprintf(out, size, "?");
}

/* Reads a whole small file into a NUL-terminated heap buffer. */
static int read_small_file(const char *path, size_t max, char **out,
                           size_t *len)
{
    struct stat st;
    char *buf;
    size_t n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC), err;

    if (fd < 0)
        return errno ? -errno : -EIO;
    if (fstat(fd, &st) < 0) {
        err = errno ? -errno : -EIO;
        goto err_close;
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > max) {
        err = -EFBIG;
        goto err_close;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        err = -ENOMEM;
        goto err_close;
    }
    while (n < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break; /* the file shrank: use what is there */
        n += (size_t)r;
    }
    buf[n] = '\0';
    close(fd);
    *out = buf;
    *len = n;
    return 0;

err_close:
    close(fd);
    return err;
}

/* Splits the next line off text[*pos..len) into line (cut at
 * CHECK_LINE_MAX - 1 bytes). Returns 0 at the end. */
static int next_line(const char *text, size_t len, size_t *pos, char *line)
{
    size_t start = *pos, end, n;

    if (start >= len)
        return 0;
    end = start;
    while (end < len && text[end] != '\n')
        end++;
    n = NVR_MIN(end - start, (size_t)CHECK_LINE_MAX - 1);
    memcpy(line, text + start, n);
    line[n] = '\0';
    *pos = end < len ? end + 1 : end;
    return 1;
}

int check_hosts_lookup(const char *hosts_path, const char *name,
                       struct sockaddr_storage *out)
{
    char *text = NULL, *line;
    size_t len = 0, pos = 0;
    int err;

    err = read_small_file(hosts_path, CHECK_HOSTS_MAX_BYTES, &text, &len);
    if (err < 0 || !text)
        return err == -EFBIG ? err : -ENOENT;
    line = malloc(CHECK_LINE_MAX);
    if (!line) {
        free(text);
        return -ENOMEM;
    }
    err = -ENOENT;
    while (err == -ENOENT && next_line(text, len, &pos, line)) {
        char *save = NULL, *addr, *tok;
        char *hash = strchr(line, '#');

        if (hash)
            *hash = '\0';
        addr = strtok_r(line, " \t\r", &save);
        if (!addr)
            continue;
        while ((tok = strtok_r(NULL, " \t\r", &save)) != NULL) {
            if (strcasecmp(tok, name) == 0) {
                if (parse_literal(addr, out) == 0)
                    err = 0;
                break;
            }
        }
    }
    free(line);
    free(text);
    return err;
}

/* ---- the config file's lines ---- */

static char *trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

int check_key_line(const char *path, int section_line, const char *section,
                   const char *key)
{
    char *text = NULL, *line;
    size_t len = 0, pos = 0, klen = strlen(key);
    int lineno = 0, in_section = 0, found = section_line;

    if (read_small_file(path, CHECK_HOSTS_MAX_BYTES, &text, &len) < 0 || !text)
        return section_line;
    line = malloc(CHECK_LINE_MAX);
    if (!line) {
        free(text);
        return section_line;
    }
    while (next_line(text, len, &pos, line)) {
        char *s = trim(line);

        lineno++;
        if (*s == '[') {
            char *e = strchr(s, ']');

            if (section_line > 0) {
                in_section = lineno == section_line;
            } else if (e && section) {
                *e = '\0';
                in_section = strcmp(trim(s + 1), section) == 0;
            }
            continue;
        }
        if (in_section && strncmp(s, key, klen) == 0) {
            char *r = s + klen;

            while (*r == ' ' || *r == '\t')
                r++;
            if (*r == '=') {
                found = lineno;
                break;
            }
        }
    }
    free(line);
    free(text);
    return found;
}

/* ---- the rules ---- */

int check_camera_target(const struct nvr_config *cfg,
                        const struct nvr_camera_config *cam,
                        const char *hosts_path, struct check_target *out,
                        int *dns, char *why, size_t why_size)
{
    struct rtsp_url *u;
    struct sockaddr_storage sa;
    enum check_addr_class cls;
    char shown[512];
    int literal = 0, err = 0;

    *dns = 0;
    memset(out, 0, sizeof(*out));
    if (!hosts_path)
        hosts_path = CHECK_HOSTS_PATH;
    u = calloc(1, sizeof(*u));
    if (!u)
        return -ENOMEM;
    if (rtsp_url_parse(cam->url, u) < 0 || !u->host[0]) {
        snprintf(why, why_size, "camera '%s': url is not a valid rtsp:// URL",
                 cam->name);
        err = -EINVAL;
        goto out;
    }
    if (parse_literal(u->host, &sa) == 0) {
        literal = 1;
    } else if (check_hosts_lookup(hosts_path, u->host, &sa) == 0) {
        literal = 0;
    } else if (!cfg->allow_dns) {
        snprintf(why, why_size,
                 "camera '%s': host '%.255s' is not an IP address and not in "
                 "%s, and DNS is off (allow_dns = true in [network] turns it "
                 "on)",
                 cam->name, u->host, hosts_path);
        err = -ENOENT;
        goto out;
    } else {
        struct addrinfo hints, *res = NULL;
        int rc;

        memset(&hints, 0, sizeof(hints));
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        rc = getaddrinfo(u->host, NULL, &hints, &res);
        if (rc != 0 || !res || res->ai_addrlen > sizeof(sa)) {
            snprintf(why, why_size,
                     "camera '%s': host '%.255s' is not in %s and DNS cannot "
                     "resolve it: %s",
                     cam->name, u->host, hosts_path,
                     rc != 0 ? gai_strerror(rc) : "no address");
            if (res)
                freeaddrinfo(res);
            err = -ENOENT;
            goto out;
        }
        memset(&sa, 0, sizeof(sa));
        memcpy(&sa, res->ai_addr, res->ai_addrlen);
        freeaddrinfo(res);
        *dns = 1;
    }
    addr_text(&sa, out->addr, sizeof(out->addr));
    if (literal)
        snprintf(shown, sizeof(shown), "address %s", out->addr);
    else
        snprintf(shown, sizeof(shown), "host '%.255s' (%s)", u->host,
                 out->addr);
    cls = check_addr_classify((const struct sockaddr *)&sa);
    if (cls == CHECK_ADDR_INVALID) {
        snprintf(why, why_size,
                 "camera '%s': %s is not a host address (unspecified, "
                 "multicast or broadcast)",
                 cam->name, shown);
        err = -EPERM;
        goto out;
    }
    if (cls == CHECK_ADDR_PUBLIC && !cam->allow_public) {
        snprintf(why, why_size,
                 "camera '%s': %s is public (not private, link-local or "
                 "loopback); set allow_public = true in [camera %s] to allow "
                 "it",
                 cam->name, shown, cam->name);
        err = -EPERM;
        goto out;
    }
    out->port = u->port;
    if (literal) {
        snprintf(out->url, sizeof(out->url), "%s", cam->url);
        out->username = cam->username[0] ? cam->username : NULL;
        out->password = cam->password[0] ? cam->password : NULL;
    } else {
        /* ingest takes IP literals only: give it the address, and the
         * userinfo separately (the config's username/password win, as they
         * do in ingest). */
        snprintf(out->user, sizeof(out->user), "%s", u->user);
        snprintf(out->pass, sizeof(out->pass), "%s", u->pass);
        snprintf(u->host, sizeof(u->host), "%s", out->addr);
        if (rtsp_url_format(u, out->url, sizeof(out->url)) < 0) {
            snprintf(why, why_size, "camera '%s': url is too long", cam->name);
            err = -EINVAL;
            goto out;
        }
        out->username = cam->username[0]  ? cam->username
                        : u->has_userinfo ? out->user
                                          : NULL;
        out->password = cam->password[0]  ? cam->password
                        : u->has_userinfo ? out->pass
                                          : NULL;
    }
    out->allowed = 1;
    why[0] = '\0';
out:
    wipe(u, sizeof(*u));
    free(u);
    if (err < 0) {
        wipe(out, sizeof(*out));
        memset(out, 0, sizeof(*out));
    }
    return err;
}

int check_camera_secret(const struct nvr_camera_config *cam, char *why,
                        size_t why_size)
{
    struct stat st;

    why[0] = '\0';
    if (!cam->password_file[0])
        return 0;
    if (stat(cam->password_file, &st) < 0) {
        int err = -errno;

        snprintf(why, why_size, "camera '%s': password file %s: %s", cam->name,
                 cam->password_file, nvr_strerror(err));
        return err;
    }
    if (st.st_mode & 077) {
        snprintf(why, why_size,
                 "camera '%s': password file %s has mode %04o: readable by "
                 "group or others; run chmod 600 %s",
                 cam->name, cam->password_file, (unsigned)(st.st_mode & 07777),
                 cam->password_file);
        return -EPERM;
    }
    return 0;
}

struct reporter {
    const struct nvr_config *cfg;
    check_finding_cb cb;
    void *user;
    int errors;
};

static void finding(struct reporter *r, enum check_severity sev, int line,
                    const char *camera, const char *msg)
{
    struct check_finding f = {
        .severity = sev,
        .file = r->cfg->path,
        .line = line,
        .camera = camera,
        .message = msg,
    };

    if (sev == CHECK_ERROR)
        r->errors++;
    if (r->cb)
        r->cb(r->user, &f);
}

static void check_one_camera(struct reporter *r,
                             const struct nvr_camera_config *cam,
                             const char *hosts_path, int config_mode)
{
    const struct nvr_config *cfg = r->cfg;
    struct check_target t;
    char why[CHECK_MSG_MAX];
    int dns, err, line;

    line = check_key_line(cfg->path, cam->line, NULL, "url");
    err = check_camera_target(cfg, cam, hosts_path, &t, &dns, why, sizeof(why));
    if (err < 0) {
        finding(r, CHECK_ERROR, line, cam->name, why);
    } else {
        struct sockaddr_storage sa;

        if (dns) {
            snprintf(why, sizeof(why),
                     "camera '%s': resolved by DNS to %s (allow_dns = true); "
                     "nvr run keeps that address until it restarts",
                     cam->name, t.addr);
            finding(r, CHECK_WARNING, line, cam->name, why);
        }
        if (parse_literal(t.addr, &sa) == 0 &&
            check_addr_classify((const struct sockaddr *)&sa) ==
                CHECK_ADDR_PUBLIC) {
            snprintf(why, sizeof(why),
                     "camera '%s': address %s is public, allowed by "
                     "allow_public = true",
                     cam->name, t.addr);
            finding(r, CHECK_WARNING, line, cam->name, why);
        }
    }
    wipe(&t, sizeof(t));
    if (check_camera_secret(cam, why, sizeof(why)) < 0)
        finding(r, CHECK_ERROR,
                check_key_line(cfg->path, cam->line, NULL, "password_file"),
                cam->name, why);
    if (cam->password[0] && !cam->password_file[0] && config_mode >= 0 &&
        (config_mode & 077)) {
        snprintf(why, sizeof(why),
                 "camera '%s': the config file holds its password and has "
                 "mode %04o: readable by group or others; use password_file "
                 "or chmod 600 %s",
                 cam->name, (unsigned)config_mode, cfg->path);
        finding(r, CHECK_WARNING,
                check_key_line(cfg->path, cam->line, NULL, "password"),
                cam->name, why);
    }
}

static void check_storage(struct reporter *r)
{
    const struct nvr_config *cfg = r->cfg;
    const char *dir = cfg->storage_path;
    char msg[CHECK_MSG_MAX], path[sizeof(cfg->storage_path) + 16];
    int line = check_key_line(cfg->path, 0, "storage", "path");
    struct catalog *cat;
    struct stat st;
    int err;

    if (stat(dir, &st) < 0) {
        err = -errno;
        if (err == -ENOENT) {
            snprintf(msg, sizeof(msg),
                     "storage directory %s does not exist yet; nvr run "
                     "creates it (mode 0750)",
                     dir);
            finding(r, CHECK_WARNING, line, NULL, msg);
        } else {
            snprintf(msg, sizeof(msg), "storage directory %s: %s", dir,
                     nvr_strerror(err));
            finding(r, CHECK_ERROR, line, NULL, msg);
        }
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(msg, sizeof(msg), "storage path %s is not a directory", dir);
        finding(r, CHECK_ERROR, line, NULL, msg);
        return;
    }
    if (st.st_mode & 007) {
        snprintf(msg, sizeof(msg),
                 "storage directory %s has mode %04o: others can read it; "
                 "run chmod o-rwx %s",
                 dir, (unsigned)(st.st_mode & 07777), dir);
        finding(r, CHECK_ERROR, line, NULL, msg);
    }
    snprintf(path, sizeof(path), "%s/" CATALOG_FILE, dir);
    err = catalog_open(path, CATALOG_READONLY, &cat);
    if (err == -ENOENT) {
        snprintf(msg, sizeof(msg),
                 "catalog %s does not exist yet; nvr run creates it", path);
        finding(r, CHECK_WARNING, line, NULL, msg);
    } else if (err == -EACCES) {
        char why[NVR_PERM_WHY_MAX];

        if (nvr_perm_explain(path, NVR_PERM_READ, why, sizeof(why)) != 0)
            snprintf(why, sizeof(why), "refused by the system");
        snprintf(msg, sizeof(msg),
                 "catalog %s does not open: permission "
                 "denied: %s",
                 path, why);
        finding(r, CHECK_ERROR, line, NULL, msg);
    } else if (err < 0) {
        snprintf(msg, sizeof(msg), "catalog %s does not open: %s", path,
                 nvr_strerror(err));
        finding(r, CHECK_ERROR, line, NULL, msg);
    } else {
        catalog_close(cat);
    }
}

/* The name of a uid or gid, or its number. */
static void id_names(uid_t uid, gid_t gid, char *out, size_t out_size)
{
    char buf[16384], u[64], g[64];
    struct passwd pw, *pr = NULL;
    struct group gr, *gres = NULL;

    if (getpwuid_r(uid, &pw, buf, sizeof(buf), &pr) == 0 && pr)
        snprintf(u, sizeof(u), "%s", pr->pw_name);
    else
        snprintf(u, sizeof(u), "%u", (unsigned)uid);
    if (getgrgid_r(gid, &gr, buf, sizeof(buf), &gres) == 0 && gres)
        snprintf(g, sizeof(g), "%s", gres->gr_name);
    else
        snprintf(g, sizeof(g), "%u", (unsigned)gid);
    snprintf(out, out_size, "%s:%s", u, g);
}

/* The operators' socket: only when [access] is set or the socket is
 * there, so a config without operators stays quiet. */
static void check_socket(struct reporter *r)
{
    const struct nvr_config *cfg = r->cfg;
    const char *path = cfg->socket_path;
    char msg[CHECK_MSG_MAX], owner[160], buf[16384];
    struct group gr, *res = NULL;
    int line =
        cfg->access_line ? check_key_line(cfg->path, 0, "access", "socket") : 0;
    struct stat st;

    if (cfg->socket_group[0] &&
        (getgrnam_r(cfg->socket_group, &gr, buf, sizeof(buf), &res) != 0 ||
         !res)) {
        snprintf(msg, sizeof(msg),
                 "[access] socket_group '%s' is not a group on this host; "
                 "create it (groupadd %s) or name another",
                 cfg->socket_group, cfg->socket_group);
        finding(r, CHECK_ERROR,
                check_key_line(cfg->path, 0, "access", "socket_group"), NULL,
                msg);
    }
    if (lstat(path, &st) != 0) {
        if (!cfg->access_line)
            return;
        snprintf(msg, sizeof(msg),
                 "operators' socket %s does not exist: no recorder is "
                 "running (nvr run makes it, mode 0660, group %s)",
                 path,
                 cfg->socket_group[0] ? cfg->socket_group : "the recorder's");
        finding(r, CHECK_INFO, line, NULL, msg);
        return;
    }
    id_names(st.st_uid, st.st_gid, owner, sizeof(owner));
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(msg, sizeof(msg),
                 "operators' socket %s is not a socket (owner %s); nvr run "
                 "will refuse to replace it",
                 path, owner);
        finding(r, CHECK_ERROR, line, NULL, msg);
    } else if (st.st_mode & 007) {
        snprintf(msg, sizeof(msg),
                 "operators' socket %s has mode %04o (owner %s): any local "
                 "user may connect; restart the recorder, which makes it "
                 "0660",
                 path, (unsigned)(st.st_mode & 07777), owner);
        finding(r, CHECK_ERROR, line, NULL, msg);
    } else {
        snprintf(msg, sizeof(msg),
                 "operators' socket %s: mode %04o, owner %s; Unix socket "
                 "only, no network listener",
                 path, (unsigned)(st.st_mode & 07777), owner);
        finding(r, CHECK_INFO, line, NULL, msg);
    }
}

int check_config(const struct nvr_config *cfg, const char *hosts_path,
                 check_finding_cb cb, void *user)
{
    struct reporter r = {.cfg = cfg, .cb = cb, .user = user};
    struct stat st;
    int config_mode = -1;

    if (stat(cfg->path, &st) == 0)
        config_mode = (int)(st.st_mode & 07777);
    for (int i = 0; i < cfg->n_cameras; i++)
        check_one_camera(&r, &cfg->cameras[i], hosts_path, config_mode);
    check_storage(&r);
    check_socket(&r);
    return r.errors;
}

int check_run_targets(const struct nvr_config *cfg, const char *hosts_path,
                      struct check_target **out)
{
    struct check_target *t;
    char why[CHECK_MSG_MAX];
    struct stat st;
    int allowed = 0;

    t = calloc((size_t)cfg->n_cameras + 1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    for (int i = 0; i < cfg->n_cameras; i++) {
        const struct nvr_camera_config *cam = &cfg->cameras[i];
        int dns, line;

        if (!cam->enabled)
            continue;
        line = check_key_line(cfg->path, cam->line, NULL, "url");
        if (check_camera_target(cfg, cam, hosts_path, &t[i], &dns, why,
                                sizeof(why)) < 0) {
            LOG_E("nvr", "%s:%d: %s; refused, it will not be contacted",
                  cfg->path, line, why);
            snprintf(t[i].refused, sizeof(t[i].refused), "%.*s",
                     (int)sizeof(t[i].refused) - 1, why);
            continue;
        }
        if (dns)
            LOG_W("nvr", "camera %s: resolved by DNS to %s, kept until restart",
                  cam->name, t[i].addr);
        if (check_camera_secret(cam, why, sizeof(why)) < 0) {
            LOG_E("nvr", "%s:%d: %s; refused, it will not be contacted",
                  cfg->path,
                  check_key_line(cfg->path, cam->line, NULL, "password_file"),
                  why);
            wipe(&t[i], sizeof(t[i]));
            memset(&t[i], 0, sizeof(t[i]));
            snprintf(t[i].refused, sizeof(t[i].refused), "%.*s",
                     (int)sizeof(t[i].refused) - 1, why);
            continue;
        }
        allowed++;
    }
    if (stat(cfg->storage_path, &st) == 0 && (st.st_mode & 007))
        LOG_W("nvr",
              "storage directory %s has mode %04o: others can read it; run "
              "chmod o-rwx %s",
              cfg->storage_path, (unsigned)(st.st_mode & 07777),
              cfg->storage_path);
    *out = t;
    return allowed;
}

void check_targets_free(struct check_target *targets, int n)
{
    if (!targets)
        return;
    wipe(targets, sizeof(*targets) * (size_t)(n + 1));
    free(targets);
}
