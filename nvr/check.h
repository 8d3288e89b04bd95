/* SPDX-License-Identifier: MIT */
/*
 * The air-gap rules of a config and its host, shared by `nvr check` (which
 * reports every finding) and `nvr run` (which refuses a camera that breaks
 * them, naming it):
 *  - a camera host is an IP literal or a name in /etc/hosts; DNS only with
 *    [network] allow_dns = true;
 *  - the address is loopback, private (10/8, 172.16/12, 192.168/16,
 *    fc00::/7) or link-local (169.254/16, fe80::/10), unless the camera
 *    sets allow_public = true; unspecified, multicast and broadcast
 *    addresses are never cameras;
 *  - a password file is readable by its owner only (mode & 077 == 0);
 *  - the storage directory is not accessible to others (mode & 007 == 0);
 *  - the catalog opens;
 *  - the operators' Unix socket ([access] socket) is closed to others,
 *    its group exists; its owner and mode are reported.
 * Names from /etc/hosts are resolved here, by reading the file (never
 * getaddrinfo, which may ask DNS), before the event loop runs; ingest then
 * gets the address, so it never resolves anything.
 */
#ifndef NVR_CHECK_H
#define NVR_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "nvr/base/compiler.h"
#include "nvr/nvr_config.h"

#define CHECK_HOSTS_PATH "/etc/hosts"
#define CHECK_HOSTS_MAX_BYTES                            \
    ((size_t)1 << 20)      /* bytes of a hosts file read \
                            */
#define CHECK_MSG_MAX 4096 /* bytes of one finding */

enum check_severity {
    CHECK_ERROR = 0, /* nvr check exits 2; nvr run refuses the camera */
    CHECK_WARNING,   /* reported, allowed */
    CHECK_INFO,      /* a fact worth showing (the socket's owner and mode) */
};

enum check_addr_class {
    CHECK_ADDR_LOOPBACK = 0, /* 127/8, ::1 */
    CHECK_ADDR_PRIVATE,      /* 10/8, 172.16/12, 192.168/16, fc00::/7 */
    CHECK_ADDR_LINK_LOCAL,   /* 169.254/16, fe80::/10 */
    CHECK_ADDR_PUBLIC,       /* anything else that is a unicast host */
    CHECK_ADDR_INVALID,      /* unspecified, multicast, broadcast */
};

struct check_finding {
    enum check_severity severity;
    const char *file;    /* the config file (borrowed for the call) */
    int line;            /* its line; 0 when about the whole file */
    const char *camera;  /* the camera's name, or NULL */
    const char *message; /* no credentials, no trailing newline */
};

/* Called once per finding, in config order. f is borrowed for the call. */
typedef void (*check_finding_cb)(void *user, const struct check_finding *f);

/* Where nvr run connects a camera, once the rules allowed it. */
struct check_target {
    int allowed;    /* 0: refused (or disabled); the rest is unset */
    char url[1024]; /* the URL ingest gets: the configured one when its
                       host is an IP literal, else the same URL with the
                       host replaced by the resolved address and the
                       userinfo moved to username/password */
    char addr[64];  /* the address, as text */
    uint16_t port;  /* TCP port */
    char user[128]; /* userinfo taken out of a rewritten URL */
    char pass[128];
    const char *username; /* for ingest: the config's, user, or NULL */
    const char *password; /* for ingest: the config's, pass, or NULL */
    char refused[512];    /* check_run_targets: the rule that refused an
                             enabled camera, "" when allowed */
};

/* Classifies an AF_INET or AF_INET6 address (IPv4-mapped IPv6 addresses
 * as their IPv4 address). Anything else is CHECK_ADDR_INVALID. */
enum check_addr_class check_addr_classify(const struct sockaddr *sa);

/* "loopback", "private", "link-local", "public", "not a host address" */
const char *check_addr_class_name(enum check_addr_class c);

/*
 * Looks `name` up in a hosts file (format of hosts(5); names compare
 * without case) and writes its first address into *out, port 0.
 * Returns 0, -ENOENT (no entry, or no file), -EIO, or -EFBIG beyond
 * CHECK_HOSTS_MAX_BYTES. Never asks DNS. Any thread.
 */
NVR_NODISCARD int check_hosts_lookup(const char *hosts_path, const char *name,
                                     struct sockaddr_storage *out);

/*
 * Applies the address rules to one camera: resolves its host (IP literal,
 * then hosts_path, then DNS if cfg->allow_dns) and checks the address
 * range. On success fills *out (allowed = 1) and returns 0; otherwise
 * returns -EINVAL (bad URL), -ENOENT (cannot resolve), -EPERM (address
 * refused) and writes the reason, naming the camera, into why. When the
 * host came from DNS, *dns is set to 1 (else 0). cam borrows from cfg and
 * out->username/password may point into cam. Never on the loop thread.
 */
NVR_NODISCARD int check_camera_target(const struct nvr_config *cfg,
                                      const struct nvr_camera_config *cam,
                                      const char *hosts_path,
                                      struct check_target *out, int *dns,
                                      char *why, size_t why_size);

/*
 * Applies the password file rule to one camera. Returns 0 (no file, or a
 * private one) or -EPERM / a negative errno from stat(), with the reason
 * in why.
 */
NVR_NODISCARD int check_camera_secret(const struct nvr_camera_config *cam,
                                      char *why, size_t why_size);

/*
 * Runs every rule on cfg and the host and reports each finding through cb.
 * hosts_path NULL means CHECK_HOSTS_PATH. Returns the number of errors
 * (warnings are not counted). Not on the loop thread (reads files, may
 * open the catalog, may ask DNS when allowed).
 */
int check_config(const struct nvr_config *cfg, const char *hosts_path,
                 check_finding_cb cb, void *user);

/*
 * For nvr run: applies the camera rules to every enabled camera and
 * returns one target per configured camera in *out (owned, free with
 * check_targets_free()). Each refused camera is logged as an error naming
 * it; the storage rule is logged as a warning. Returns the number of
 * cameras allowed (>= 0) or -ENOMEM.
 */
NVR_NODISCARD int check_run_targets(const struct nvr_config *cfg,
                                    const char *hosts_path,
                                    struct check_target **out);

/* Wipes the credentials in targets and frees them. NULL does nothing. */
void check_targets_free(struct check_target *targets, int n);

/*
 * The line of `key` in the section starting at section_line of the config
 * file at path, or section_line when the file or the key cannot be found.
 * With section_line 0, searches the section named `section` instead
 * ("storage"). Used to point findings at the line to edit.
 */
int check_key_line(const char *path, int section_line, const char *section,
                   const char *key);

#endif
