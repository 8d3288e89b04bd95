/* SPDX-License-Identifier: MIT */
/*
 * A small streaming JSON writer for --json output and the documents
 * storage writes (export manifests, audit details). Keys are NULL inside
 * arrays. Strings are escaped (control characters, quotes, backslash;
 * invalid UTF-8 bytes become U+FFFD). Output is compact unless the writer
 * was set up with json_init_pretty.
 */
#ifndef NVR_BASE_JSON_H
#define NVR_BASE_JSON_H

#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json_out {
    FILE *f;
    int depth;
    int count[JSON_MAX_DEPTH]; /* members written at each depth */
    int pretty;                /* set by json_init_pretty */
};

void json_init(struct json_out *j, FILE *f);
/* Like json_init, but each member goes on its own line, indented by two
 * spaces per level, keys are followed by ": ", and a container closes on
 * its own line (an empty one stays "[]" / "{}"). */
void json_init_pretty(struct json_out *j, FILE *f);
void json_obj_begin(struct json_out *j, const char *key);
void json_obj_end(struct json_out *j);
void json_arr_begin(struct json_out *j, const char *key);
void json_arr_end(struct json_out *j);
/* value NULL writes null. */
void json_str(struct json_out *j, const char *key, const char *value);
void json_int(struct json_out *j, const char *key, int64_t value);
void json_double(struct json_out *j, const char *key, double value);
/* value with exactly `decimals` digits after the point (0..17), as
 * "%.*f" would print it in the C locale; not finite writes null. */
void json_fixed(struct json_out *j, const char *key, double value,
                int decimals);
void json_bool(struct json_out *j, const char *key, int value);
void json_null(struct json_out *j, const char *key);
/* Writes "key": ISO 8601 UTC text and "key_us": integer microseconds, the
 * DESIGN.md convention; us == 0 writes both as null. */
void json_time(struct json_out *j, const char *key, int64_t us);
/* Ends the document with a newline. */
void json_finish(struct json_out *j);

#endif
