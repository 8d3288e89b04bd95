/* SPDX-License-Identifier: MIT */
/*
 * Export manifests and sidecars (see manifest.h), both sides. Writing:
 * the manifest is built in memory with the shared JSON writer (indented,
 * durations with six decimals), its manifest_sha256 first written as 64
 * zeros, then replaced by the hash of the whole text, and the file is
 * created (never replaced) and fsynced, like each clip's .sha256 sidecar.
 * Reading: the checks `nvr verify` needs, on bytes that may be anything:
 * the sidecar's one line, the self-hash, and the clip's entry found by
 * its "file" key, which must be spelled as the writer spells it.
 */
#include "config.h"
#include "storage/manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>

#include "nvr/base/json.h"
#include "nvr/base/timefmt.h"
#include "storage/catalog.h"
#include "storage/export_int.h"
#include "storage/sha256.h"

#define MANIFEST_HASH_KEY "\"manifest_sha256\": \""
#define MANIFEST_ZEROS                 \
    "00000000000000000000000000000000" \
    "00000000000000000000000000000000"

int manifest_path(const char *clip_path, char *out, size_t out_size)
{
    size_t n = strlen(clip_path);
    const char *slash = strrchr(clip_path, '/');
    const char *dot = strrchr(clip_path, '.');
    int w;

    if (dot && (!slash || dot > slash + 1))
        n = (size_t)(dot - clip_path);
    w = snprintf(out, out_size, "%.*s.manifest.json", (int)n, clip_path);
    return w < 0 || (size_t)w >= out_size ? -ENAMETOOLONG : 0;
}

int manifest_hash(const char *text, size_t len, char computed[65],
                  char recorded[65])
{
    const char *p = NULL;
    size_t klen = strlen(MANIFEST_HASH_KEY);
    struct nvr_sha256 *md;
    int err;

    recorded[0] = '\0';
    computed[0] = '\0';
    for (size_t i = 0; i + klen + 64 <= len; i++) {
        if (memcmp(text + i, MANIFEST_HASH_KEY, klen) == 0) {
            p = text + i + klen;
            break;
        }
    }
    if (!p)
        return -EBADMSG;
    memcpy(recorded, p, 64);
    recorded[64] = '\0';
    md = nvr_sha256_new();
    if (!md)
        return -ENOMEM;
    nvr_sha256_update(md, text, (size_t)(p - text));
    nvr_sha256_update(md, MANIFEST_ZEROS, 64);
    nvr_sha256_update(md, p + 64, len - (size_t)(p - text) - 64);
    err = nvr_sha256_final_hex(md, computed);
    nvr_sha256_free(md);
    return err;
}

/* ---- writing ---- */

/* Writes `len` bytes to a new file at path (fails if it exists), synced. */
static int manifest_write_new(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    size_t off = 0;
    int err = 0;

    if (fd < 0)
        return -errno;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            err = n < 0 ? -errno : -EIO;
            break;
        }
        off += (size_t)n;
    }
    if (!err && fsync(fd) != 0)
        err = -errno;
    if (close(fd) != 0 && !err)
        err = -errno;
    if (err)
        unlink(path);
    return err;
}

int manifest__write_sidecar(struct exp_clip *c)
{
    char path[PATH_MAX], line[PATH_MAX + 80];
    int n;

    if (snprintf(path, sizeof(path), "%s.sha256", c->stage_path) >=
        (int)sizeof(path))
        return -ENAMETOOLONG;
    /* The format sha256sum writes and `sha256sum -c` reads: hash, two
     * spaces, the file name relative to the sidecar's folder. */
    n = snprintf(line, sizeof(line), "%s  %s\n", c->res->sha256, c->file);
    if (n < 0 || (size_t)n >= sizeof(line))
        return -ENAMETOOLONG;
    if (access(path, F_OK) == 0)
        return -EEXIST;
    c->sidecar = manifest_write_new(path, line, (size_t)n) == 0;
    return c->sidecar ? 0 : -EIO;
}

/* "key": UTC text, "key_us": integer, "key_local": local text. */
static void manifest_time(struct json_out *j, const char *key, int64_t us)
{
    char k[64], t[80];

    json_str(j, key, nvr_time_format_utc(us, t, sizeof(t)));
    snprintf(k, sizeof(k), "%s_us", key);
    json_int(j, k, us);
    snprintf(k, sizeof(k), "%s_local", key);
    json_str(j, k, nvr_time_format_local_iso(us, t, sizeof(t)));
}

/* The source segments that contributed frames, with what was read. */
static void manifest_segments(struct json_out *j, const struct exp_clip *c)
{
    json_arr_begin(j, "segments");
    for (int i = 0; i < c->n_segs; i++) {
        const struct exp_seg *s = &c->segs[i];

        if (!s->used)
            continue;
        json_obj_begin(j, NULL);
        json_str(j, "path", s->cat.path);
        manifest_time(j, "start", s->cat.start_us);
        manifest_time(j, "end", s->cat.end_us);
        json_str(j, "status",
                 s->cat.status == CATALOG_SEG_OPEN ? "open" : "closed");
        json_int(j, "bytes", s->cat.bytes);
        json_str(j, "sha256", s->cat.sha256[0] ? s->cat.sha256 : NULL);
        json_int(j, "read_bytes", s->read_limit);
        json_str(j, "read_sha256", s->read_sha256);
        json_bool(j, "sha256_verified",
                  s->cat.status == CATALOG_SEG_CLOSED && s->cat.sha256[0] &&
                      strcmp(s->cat.sha256, s->read_sha256) == 0);
        json_obj_end(j);
    }
    json_arr_end(j);
}

static void manifest_gaps(struct json_out *j, const struct exp_clip *c)
{
    json_arr_begin(j, "gaps");
    for (int i = 0; i < c->n_gaps; i++) {
        const struct exp_gap *g = &c->gaps[i];

        json_obj_begin(j, NULL);
        manifest_time(j, "start", g->start_us);
        manifest_time(j, "end", g->end_us);
        json_fixed(j, "duration_s", (double)(g->end_us - g->start_us) / 1e6, 6);
        if (g->media_start_s >= 0)
            json_fixed(j, "clip_time_s", g->media_start_s, 6);
        else
            json_null(j, "clip_time_s");
        json_obj_end(j);
    }
    json_arr_end(j);
}

static void manifest_clip(struct json_out *j, const struct exp_clip *c)
{
    const struct export_result *r = c->res;

    json_obj_begin(j, NULL);
    /* "file" and "sha256" come first: nvr verify looks them up. */
    json_str(j, "file", c->file);
    json_str(j, "sha256", r->sha256);
    json_int(j, "bytes", r->bytes);
    json_str(j, "camera", c->req->camera);
    manifest_time(j, "actual_from", r->actual_from_us);
    manifest_time(j, "actual_to", r->actual_to_us);
    json_fixed(j, "duration_s",
               (double)(r->actual_to_us - r->actual_from_us) / 1e6, 6);
    json_int(j, "frames", r->frames);
    json_str(j, "codec", r->codec);
    json_int(j, "width", r->width);
    json_int(j, "height", r->height);
    json_str(j, "container", c->container);
    json_arr_begin(j, "audio");
    for (int k = 0; k < c->n_audio; k++) {
        const AVCodecParameters *a = c->audio[k].par;

        json_obj_begin(j, NULL);
        json_str(j, "codec", avcodec_get_name(a->codec_id));
        json_int(j, "sample_rate", a->sample_rate);
        json_int(j, "channels", a->ch_layout.nb_channels);
        json_obj_end(j);
    }
    json_arr_end(j);
    json_int(j, "audio_packets", r->audio_frames);
    json_str(j, "timeline",
             "media time 0 is actual_from; within a recording session frames "
             "follow each other; across a gap the clip keeps the real time "
             "difference (the clock jumps, the last picture is held); audio "
             "is placed at its wall-clock offset; a subtitle track shows the "
             "local wall-clock time");
    manifest_segments(j, c);
    manifest_gaps(j, c);
    json_int(j, "audit_id", r->audit_id);
    json_str(j, "audit_hash", r->audit_hash);
    json_obj_end(j);
}

static void manifest_doc(struct json_out *j, const struct export_job *job)
{
    const struct export_request *req = job->clips[0].req;
    const char *tz = getenv("TZ");

    json_obj_begin(j, NULL);
    json_str(j, "format", "nvr-export-manifest");
    json_int(j, "format_version", 1);
    json_str(j, "nvr_version", NVR_VERSION);
    manifest_time(j, "exported", job->now_us);
    json_str(j, "exported_by", job->user_name);
    json_str(j, "host", job->host);
    json_str(j, "reason", req->reason ? req->reason : "");
    manifest_time(j, "requested_from", req->from_us);
    manifest_time(j, "requested_to", req->to_us);
    json_str(j, "local_time_zone", tz && tz[0] ? tz : "system default");
    json_arr_begin(j, "clips");
    for (int i = 0; i < job->n; i++)
        manifest_clip(j, &job->clips[i]);
    json_arr_end(j);
    json_str(j, "manifest_sha256_rule",
             "SHA-256 of this file with the 64 hex digits of manifest_sha256 "
             "replaced by 64 '0' characters");
    /* Placeholder digits, replaced by the hash of the whole text. */
    json_str(j, "manifest_sha256", MANIFEST_ZEROS);
    json_obj_end(j);
    json_finish(j);
}

int manifest__write(const struct export_job *job, const char *path)
{
    struct json_out j;
    char computed[65], recorded[65];
    char *text = NULL, *p;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    int err;

    if (!f)
        return -ENOMEM;
    json_init_pretty(&j, f);
    manifest_doc(&j, job);
    err = ferror(f) ? -ENOMEM : 0;
    if (fclose(f) != 0 && err == 0)
        err = -ENOMEM;
    if (err == 0 && len > MANIFEST_MAX_BYTES)
        err = -EMSGSIZE;
    if (err == 0)
        err = manifest_hash(text, len, computed, recorded);
    if (err == 0) {
        p = strstr(text, MANIFEST_HASH_KEY);
        memcpy(p + strlen(MANIFEST_HASH_KEY), computed, 64);
        err = manifest_write_new(path, text, len);
    }
    free(text);
    return err;
}

/* ---- reading ---- */

int manifest_read_file(const char *path, size_t max, char **out, size_t *len)
{
    FILE *f;
    char *buf;
    size_t n;

    *out = NULL;
    *len = 0;
    f = fopen(path, "rb");
    if (!f)
        return errno > 0 ? -errno : -EIO;
    buf = malloc(max + 1);
    if (!buf) {
        fclose(f);
        return -ENOMEM;
    }
    n = fread(buf, 1, max + 1, f);
    fclose(f);
    if (n > max) {
        free(buf);
        return -EFBIG;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

int manifest_read_for_clip(const char *clip_path, char *path, size_t path_size,
                           char *folder_manifest, size_t folder_size,
                           char **text, size_t *len)
{
    const char *slash = strrchr(clip_path, '/');
    int err;

    snprintf(folder_manifest, folder_size, "%.*s/manifest.json",
             slash ? (int)(slash - clip_path) : 1, slash ? clip_path : ".");
    if (manifest_path(clip_path, path, path_size) < 0)
        path[0] = '\0';
    err = manifest_read_file(path, MANIFEST_MAX_BYTES, text, len);
    if (err == -ENOENT) {
        snprintf(path, path_size, "%s", folder_manifest);
        err = manifest_read_file(path, MANIFEST_MAX_BYTES, text, len);
    }
    if (err < 0 || !*text) {
        path[0] = '\0';
        return err < 0 ? err : -EIO;
    }
    return 0;
}

static bool manifest_is_hex64(const char *s)
{
    for (int i = 0; i < 64; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    }
    return true;
}

int manifest_parse_sidecar(const char *data, size_t len,
                           struct manifest_sidecar *out)
{
    size_t name_len;
    const char *name;

    memset(out, 0, sizeof(*out));
    /* "<64 hex>  <name>\n" (or " *<name>", binary mode). */
    if (len < 67 || len > MANIFEST_MAX_SIDECAR || !manifest_is_hex64(data) ||
        data[64] != ' ' || (data[65] != ' ' && data[65] != '*'))
        return -EBADMSG;
    name = data + 66;
    name_len = 0;
    while (66 + name_len < len && name[name_len] != '\n' &&
           name[name_len] != '\r' && name[name_len] != '\0')
        name_len++;
    if (name_len == 0)
        return -EBADMSG;
    if (name_len >= sizeof(out->name))
        return -ENAMETOOLONG;
    memcpy(out->sha256, data, 64);
    memcpy(out->name, name, name_len);
    return 0;
}

/* The name as a JSON string (quotes included), spelled as the manifest's
 * writer spells it, into out. Returns 0 or -ENOMEM. */
static int manifest_quote(const char *s, char *out, size_t size)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    struct json_out j;
    int err = 0;

    if (!f)
        return -ENOMEM;
    json_init(&j, f);
    json_str(&j, NULL, s);
    if (ferror(f))
        err = -ENOMEM;
    if (fclose(f) != 0)
        err = -ENOMEM;
    if (err == 0)
        snprintf(out, size, "%s", text);
    free(text);
    return err;
}

/* The name quoted as manifests written before the shared JSON writer
 * spelled it: every control character and DEL as \u00XX, other bytes as
 * they are. */
static void manifest_quote_legacy(const char *s, char *out, size_t size)
{
    size_t o = 0;

    out[o++] = '"';
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        char e[8];
        size_t n;

        if (*c == '"' || *c == '\\') {
            e[0] = '\\';
            e[1] = (char)*c;
            e[2] = '\0';
        } else if (*c < 0x20 || *c == 0x7f) {
            snprintf(e, sizeof(e), "\\u%04x", *c);
        } else {
            e[0] = (char)*c;
            e[1] = '\0';
        }
        n = strlen(e);
        if (o + n + 2 > size)
            break;
        memcpy(out + o, e, n);
        o += n;
    }
    out[o++] = '"';
    out[o] = '\0';
}

/* Finds `"key": "` after p and before end; copies 64 characters. */
static bool manifest_find_hex(const char *p, const char *end, const char *key,
                              char out[65])
{
    char pat[64];
    const char *q;

    snprintf(pat, sizeof(pat), "\"%s\": \"", key);
    q = strstr(p, pat);
    if (!q || (end && q > end))
        return false;
    q += strlen(pat);
    if (strnlen(q, 64) < 64 || !manifest_is_hex64(q))
        return false;
    memcpy(out, q, 64);
    out[64] = '\0';
    return true;
}

/* The clip's entry: `"file": <name>` in either spelling, or NULL. */
static const char *manifest_find_entry(const char *text, const char *name)
{
    char pat[MANIFEST_MAX_NAME * 6 + 16], q[MANIFEST_MAX_NAME * 6 + 4];
    const char *entry = NULL;

    if (manifest_quote(name, q, sizeof(q)) == 0) {
        snprintf(pat, sizeof(pat), "\"file\": %s", q);
        entry = strstr(text, pat);
    }
    if (!entry) {
        manifest_quote_legacy(name, q, sizeof(q));
        snprintf(pat, sizeof(pat), "\"file\": %s", q);
        entry = strstr(text, pat);
    }
    return entry;
}

int manifest_parse(const char *data, size_t len, const char *name,
                   struct manifest_entry *out)
{
    const char *entry, *next, *b;
    char *text;

    memset(out, 0, sizeof(*out));
    if (len > MANIFEST_MAX_BYTES)
        return -EFBIG;
    if (manifest_hash(data, len, out->computed, out->recorded) == 0) {
        out->has_self_hash = true;
        /* Whatever the 64 bytes are, they are printed: only as hex. */
        if (!manifest_is_hex64(out->recorded))
            snprintf(out->recorded, sizeof(out->recorded), "%s",
                     "(not hexadecimal)");
    }
    /* The lookups below read a NUL-terminated copy (a NUL inside the
     * bytes ends the text they see; the self-hash covers all of it). */
    text = malloc(len + 1);
    if (!text)
        return -ENOMEM;
    memcpy(text, data, len);
    text[len] = '\0';
    entry = manifest_find_entry(text, name);
    if (!entry) {
        free(text);
        return 0;
    }
    out->lists_clip = true;
    next = strstr(entry + 1, "\"file\": \"");
    out->has_sha256 = manifest_find_hex(entry, next, "sha256", out->sha256);
    b = strstr(entry, "\"bytes\": ");
    if (b && (!next || b < next)) {
        char *e;
        long long v;

        errno = 0;
        v = strtoll(b + 9, &e, 10);
        out->has_bytes = e != b + 9 && errno == 0;
        out->bytes = v;
    }
    if (!manifest_find_hex(entry, next, "audit_hash", out->audit_hash))
        out->audit_hash[0] = '\0';
    free(text);
    return 0;
}
