/* SPDX-License-Identifier: MIT */
/*
 * The streaming JSON writer behind every --json output. Output is compact
 * (no spaces or newlines until json_finish), or indented for documents a
 * person reads (json_init_pretty). Strings are escaped per
 * RFC 8259 section 7 and are always valid UTF-8: bytes that do not form a
 * well-formed UTF-8 sequence (RFC 3629 section 4) become U+FFFD, so a
 * camera name or path with stray Latin-1 bytes still yields parseable JSON.
 * DEL and the C1 controls (U+0080-U+009F) are written as \u escapes: JSON
 * allows them raw, but JSON is also read on terminals, which act on them.
 */
#include "config.h"
#include "nvr/base/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nvr/base/timefmt.h"
#include "nvr/base/utf8.h"

void json_init(struct json_out *j, FILE *f)
{
    memset(j, 0, sizeof(*j));
    j->f = f;
}

void json_init_pretty(struct json_out *j, FILE *f)
{
    json_init(j, f);
    j->pretty = 1;
}

/* Pretty output: a new line indented for the given depth. */
static void newline(struct json_out *j, int depth)
{
    fputc('\n', j->f);
    for (int i = 0; i < depth; i++)
        fputs("  ", j->f);
}

/* Writes the body of a string (no quotes). */
static void write_escaped(FILE *f, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strlen(str);

    while (n > 0) {
        unsigned char c = *s;
        uint32_t cp;
        size_t len;

        switch (c) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\b':
            fputs("\\b", f);
            break;
        case '\f':
            fputs("\\f", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                fprintf(f, "\\u%04x", (unsigned)c);
                break;
            }
            len = nvr_utf8_decode(s, n, &cp);
            if (len == 0) {
                fputs("\\ufffd", f);
                break;
            }
            if (cp >= 0x80 && cp <= 0x9f) {
                /* U+0080-U+009F: valid JSON raw, but a terminal that shows
                 * the output would act on CSI (U+009B) or OSC (U+009D). */
                fprintf(f, "\\u%04x", (unsigned)cp);
                s += 2;
                n -= 2;
                continue;
            }
            fwrite(s, 1, len, f);
            s += len;
            n -= len;
            continue;
        }
        s++;
        n--;
    }
}

/* Members written at the current depth; deeper than JSON_MAX_DEPTH the
 * commas are no longer tracked, which only a caller bug can reach. */
static int *slot(struct json_out *j)
{
    static int overflow;

    if (j->depth >= 0 && j->depth < JSON_MAX_DEPTH)
        return &j->count[j->depth];
    return &overflow;
}

/* Writes the separator and key before a value. */
static void begin_value(struct json_out *j, const char *key)
{
    int *count = slot(j);

    if ((*count)++ > 0)
        fputc(',', j->f);
    if (j->pretty && j->depth > 0)
        newline(j, j->depth);
    if (key && j->depth > 0) {
        fputc('"', j->f);
        write_escaped(j->f, key);
        fputs(j->pretty ? "\": " : "\":", j->f);
    }
}

static void open_container(struct json_out *j, const char *key, char c)
{
    begin_value(j, key);
    fputc(c, j->f);
    j->depth++;
    *slot(j) = 0;
}

static void close_container(struct json_out *j, char c)
{
    int members = *slot(j);

    if (j->depth > 0)
        j->depth--;
    if (j->pretty && members > 0)
        newline(j, j->depth);
    fputc(c, j->f);
}

void json_obj_begin(struct json_out *j, const char *key)
{
    open_container(j, key, '{');
}

void json_obj_end(struct json_out *j)
{
    close_container(j, '}');
}

void json_arr_begin(struct json_out *j, const char *key)
{
    open_container(j, key, '[');
}

void json_arr_end(struct json_out *j)
{
    close_container(j, ']');
}

void json_str(struct json_out *j, const char *key, const char *value)
{
    begin_value(j, key);
    if (!value) {
        fputs("null", j->f);
        return;
    }
    fputc('"', j->f);
    write_escaped(j->f, value);
    fputc('"', j->f);
}

void json_int(struct json_out *j, const char *key, int64_t value)
{
    begin_value(j, key);
    fprintf(j->f, "%lld", (long long)value);
}

/* A locale set for the terminal UI may use a decimal comma. */
static void put_number(FILE *f, char *buf)
{
    for (char *p = buf; *p; p++)
        if (*p == ',')
            *p = '.';
    fputs(buf, f);
}

void json_double(struct json_out *j, const char *key, double value)
{
    char buf[64];

    begin_value(j, key);
    if (!isfinite(value)) {
        fputs("null", j->f);
        return;
    }
    /* The shortest of 15..17 significant digits that reads back exactly. */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*g", prec, value);
        if (strtod(buf, NULL) == value)
            break;
    }
    put_number(j->f, buf);
}

void json_fixed(struct json_out *j, const char *key, double value, int decimals)
{
    char buf[512];

    begin_value(j, key);
    if (!isfinite(value)) {
        fputs("null", j->f);
        return;
    }
    if (decimals < 0)
        decimals = 0;
    else if (decimals > 17)
        decimals = 17;
    /* 309 integer digits at most (DBL_MAX), a sign, a point and 17. */
    snprintf(buf, sizeof(buf), "%.*f", decimals, value);
    put_number(j->f, buf);
}

void json_bool(struct json_out *j, const char *key, int value)
{
    begin_value(j, key);
    fputs(value ? "true" : "false", j->f);
}

void json_null(struct json_out *j, const char *key)
{
    begin_value(j, key);
    fputs("null", j->f);
}

/* Writes "<key>_us" as a key. */
static void begin_us_value(struct json_out *j, const char *key)
{
    int *count = slot(j);

    if ((*count)++ > 0)
        fputc(',', j->f);
    if (j->pretty)
        newline(j, j->depth);
    fputc('"', j->f);
    write_escaped(j->f, key);
    fputs(j->pretty ? "_us\": " : "_us\":", j->f);
}

void json_time(struct json_out *j, const char *key, int64_t us)
{
    char buf[64];

    if (us == 0) {
        json_null(j, key);
    } else {
        json_str(j, key, nvr_time_format_utc(us, buf, sizeof(buf)));
    }
    /* Inside an array there is no key to suffix: the text alone is
     * written. */
    if (!key || j->depth == 0)
        return;
    begin_us_value(j, key);
    if (us == 0)
        fputs("null", j->f);
    else
        fprintf(j->f, "%lld", (long long)us);
}

void json_finish(struct json_out *j)
{
    fputc('\n', j->f);
    fflush(j->f);
}
