/* SPDX-License-Identifier: MIT */
/*
 * The config file (INI, parsed with inih), as fixed by DESIGN.md:
 *
 *   [storage]  path, segment_seconds, min_free
 *   [camera NAME]  url, username, password | password_file, transport,
 *                  auth, retain_days, max_bytes, enabled, allow_public
 *   [network]  allow_dns
 *   [access]   socket, socket_group, view, export, hold, audit
 *
 * Unknown sections or keys and bad values are errors naming the file, the
 * line and the key. All errors of a file are reported, not just the first.
 */
#ifndef NVR_NVR_CONFIG_H
#define NVR_NVR_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "nvr/base/compiler.h"

#define NVR_CONFIG_MAX_CAMERAS  1024
#define NVR_CAMERA_NAME_MAX     64 /* bytes, including the NUL */

#define NVR_ACCESS_MAX_RULES    256 /* group:camera pairs of [access] */
#define NVR_GROUP_NAME_MAX      64  /* bytes, including the NUL */
#define NVR_SOCKET_PATH_MAX     108 /* sun_path, including the NUL */
#define NVR_SOCKET_PATH_DEFAULT "/run/nvr/nvr.sock"

/* What an [access] rule gives (DESIGN.md "Operators and rights"). */
enum nvr_right {
    NVR_RIGHT_VIEW = 0, /* status, recordings, playback */
    NVR_RIGHT_EXPORT,
    NVR_RIGHT_HOLD,  /* place and release legal holds */
    NVR_RIGHT_AUDIT, /* read the audit log */
    NVR_RIGHT_COUNT,
};

/* One "GROUP: CAMERA" pair of an [access] key. */
struct nvr_access_rule {
    enum nvr_right right;
    char group[NVR_GROUP_NAME_MAX];
    char camera[NVR_CAMERA_NAME_MAX]; /* "*": every camera */
    int line;                         /* of its key in the config */
};

enum nvr_transport {
    NVR_TRANSPORT_TCP = 0,
    NVR_TRANSPORT_UDP,
    NVR_TRANSPORT_AUTO,
};

/* Which RTSP authentication schemes a camera may be answered with. Basic
 * sends the password in clear text, so it needs saying. */
enum nvr_auth {
    NVR_AUTH_DIGEST = 0, /* Digest only (default) */
    NVR_AUTH_BASIC,      /* Basic only */
    NVR_AUTH_ANY,        /* either; Digest when the camera offers both */
};

struct nvr_camera_config {
    char name[NVR_CAMERA_NAME_MAX]; /* [A-Za-z0-9_.-], used as a folder */
    int line;                       /* line of the [camera NAME] header */
    char url[1024];           /* may hold userinfo; never log it unredacted */
    char username[128];       /* "" if unset */
    char password[256];       /* from password= or password_file; "" if unset */
    char password_file[1024]; /* as written (resolved path), "" if unset */
    enum nvr_transport transport; /* default auto */
    enum nvr_auth auth;           /* default digest */
    int retain_days;              /* default 31 */
    int64_t max_bytes;            /* 0: no limit */
    int enabled;                  /* default 1 */
    int allow_public;             /* 1: public addresses allowed; default 0 */
};

struct nvr_config {
    char path[1024];         /* the file this came from */
    char storage_path[1024]; /* [storage] path; required */
    int segment_seconds;     /* default 60, 2..3600 */
    int min_free_is_percent; /* 1: min_free_percent, 0: min_free_bytes */
    double min_free_percent; /* default 5 */
    int64_t min_free_bytes;
    int allow_dns;                         /* [network] allow_dns; default 0 */
    char socket_path[NVR_SOCKET_PATH_MAX]; /* [access] socket */
    char socket_group[NVR_GROUP_NAME_MAX]; /* "" : the recorder's group */
    int access_line;                       /* [access] header, 0: none */
    int n_rules;
    struct nvr_access_rule rules[NVR_ACCESS_MAX_RULES];
    int n_cameras;
    struct nvr_camera_config *cameras; /* owned, n_cameras entries */
};

/*
 * Loads and validates a config file. On error returns -EINVAL (or -ENOENT,
 * -EACCES for the file itself) and writes every problem, one per line as
 * "FILE:LINE: key 'K': what is wrong", into err (NUL-terminated, truncated
 * to err_size). *out is owned; free with nvr_config_free().
 */
NVR_NODISCARD int nvr_config_load(const char *path, struct nvr_config **out,
                                  char *err, size_t err_size);

/* Same, from a string; `name` stands for the file in messages and relative
 * password_file paths resolve against the current directory. */
NVR_NODISCARD int nvr_config_parse(const char *text, size_t len,
                                   const char *name, struct nvr_config **out,
                                   char *err, size_t err_size);

void nvr_config_free(struct nvr_config *cfg);

/* The config path to use when -c is absent: $NVR_CONFIG, then ./nvr.ini,
 * then /etc/nvr/nvr.ini (the first that exists; the last if none does). */
const char *nvr_config_default_path(void);

/* Parses a size: "500G", "1.5T", "1048576", "64M" (powers of 1024).
 * Returns 0 or -EINVAL. */
int nvr_config_parse_size(const char *s, int64_t *out);

const char *nvr_transport_name(enum nvr_transport t);

/*
 * Reads the password from the first line of the file at path (borrowed),
 * as password_file does: a regular file, opened without blocking, trailing
 * white space dropped. Writes it NUL-terminated into out[out_size]. Returns
 * 0, or a negative errno with why[why_size] saying what is wrong with the
 * file (naming it, never quoting the password). Any thread.
 */
NVR_NODISCARD int nvr_config_read_password_file(const char *path, char *out,
                                                size_t out_size, char *why,
                                                size_t why_size);

/* "digest", "basic", "any" */
const char *nvr_auth_name(enum nvr_auth a);

/* Parses "digest", "basic" or "any" (any case). Returns 0 or -EINVAL. */
int nvr_auth_parse(const char *v, enum nvr_auth *out);

/* The free space min_free asks for, in bytes, on a file system of
 * fs_bytes: a percentage of it, or the bytes given; 0 when there is no
 * such rule. */
int64_t nvr_config_min_free_bytes(const struct nvr_config *cfg,
                                  int64_t fs_bytes);
/* "view", "export", "hold", "audit"; "?" for anything else. */
const char *nvr_right_name(enum nvr_right r);

#endif
