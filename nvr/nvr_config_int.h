/* SPDX-License-Identifier: MIT */
/*
 * Internals of the config loader shared by nvr_config.c (the INI walk,
 * sections and problem reports) and nvr_config_keys.c (every key: how its
 * value is read and checked).
 */
#ifndef NVR_NVR_CONFIG_INT_H
#define NVR_NVR_CONFIG_INT_H

#include <stddef.h>

#include "nvr/nvr_config.h"

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
    SECT_ACCESS,  /* [access] */
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
    int access_line;
    int password_line, password_file_line; /* in the current camera */

    struct nvr_config *cfg;
    int cam_cap;
    struct nvr_camera_config *cam; /* the current camera, or NULL */

    struct problem *problems; /* CONFIG_MAX_PROBLEMS entries */
    int n_problems;
    int n_errors; /* all problems, also those beyond the cap */
    int oom;
};

/* The keys of each section kind, NULL-terminated (nvr_config_keys.c). */
extern const struct key_def nvr_config__storage_keys[];
extern const struct key_def nvr_config__network_keys[];
extern const struct key_def nvr_config__camera_keys[];
extern const struct key_def nvr_config__access_keys[];

/* Copies s for quoting in a message: control bytes become '?', and long
 * text is cut with "...". Returns buf. */
const char *nvr_config__echo(const char *s, char *buf, size_t size);

/* Whitespace inside a line as inih sees it. */
int nvr_config__is_space(char c);

#endif
