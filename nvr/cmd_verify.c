/* SPDX-License-Identifier: MIT */
/*
 * nvr verify: checks an exported clip against its sidecars, needing
 * nothing but the files (the recipient of an export has no catalog):
 *  1. the clip's SHA-256 equals the one in CLIP.sha256, which names it;
 *  2. the manifest (CLIP-stem.manifest.json, or manifest.json in the same
 *     folder for a multi-camera export) is unchanged: its manifest_sha256
 *     equals the SHA-256 of its text with those 64 digits zeroed;
 *  3. the manifest lists the clip with that SHA-256 and size.
 * With -c, also: the audit entry the manifest names is in the recorder's
 * audit log, records this clip's SHA-256, and the log's chain is intact.
 * Every failed check is printed; exit 0 only when all hold.
 */
#include "config.h"
#include "nvr/cmd.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nvr/base/err.h"
#include "nvr/base/escape.h"
#include "nvr/base/json.h"
#include "storage/audit.h"
#include "storage/catalog.h"
#include "storage/export.h"
#include "storage/manifest.h"

#define VERIFY_MAX_PROBLEMS  16
#define VERIFY_PROBLEM_BYTES ((size_t)3 * PATH_MAX)

struct verify {
    const char *clip;
    char name[MANIFEST_MAX_NAME]; /* basename of the clip */
    char sha[65];                 /* computed */
    int64_t bytes;                /* its size */
    char manifest[PATH_MAX];      /* the manifest used, "" if none */
    char audit_hash[65];          /* named by the manifest */
    char problems[VERIFY_MAX_PROBLEMS][VERIFY_PROBLEM_BYTES];
    int n_problems;
};

/* Adds a problem (room for two whole paths and the hashes). */
#define PROBLEM(v, ...) snprintf(slot(v), VERIFY_PROBLEM_BYTES, __VA_ARGS__)

/* Where the next problem's message goes (the last slot is reused when
 * there are too many). */
static char *slot(struct verify *v)
{
    if (v->n_problems < VERIFY_MAX_PROBLEMS)
        v->n_problems++;
    return v->problems[v->n_problems - 1];
}

static void check_sidecar(struct verify *v)
{
    char path[PATH_MAX], *text = NULL;
    struct manifest_sidecar sc;
    size_t len = 0;
    int err;

    snprintf(path, sizeof(path), "%s.sha256", v->clip);
    err = manifest_read_file(path, MANIFEST_MAX_SIDECAR, &text, &len);
    if (err < 0) {
        PROBLEM(v, "%s: cannot read it: %s", path, nvr_strerror(err));
        return;
    }
    err = manifest_parse_sidecar(text, len, &sc);
    free(text);
    if (err < 0) {
        PROBLEM(v, "%s: not in sha256sum format", path);
        return;
    }
    if (strcmp(sc.sha256, v->sha) != 0)
        PROBLEM(v,
                "the clip's SHA-256 is %s but %s says %s: the clip "
                "was changed (or the sidecar)",
                v->sha, path, sc.sha256);
    if (strcmp(sc.name, v->name) != 0)
        PROBLEM(v, "%s names the file '%s', not '%s'", path, sc.name, v->name);
}

static void check_manifest(struct verify *v)
{
    char alt[PATH_MAX], *text = NULL;
    struct manifest_entry m;
    size_t len = 0;
    int err;

    err = manifest_read_for_clip(v->clip, v->manifest, sizeof(v->manifest), alt,
                                 sizeof(alt), &text, &len);
    if (err < 0) {
        PROBLEM(v,
                "no manifest: neither the clip's own manifest nor %s "
                "could be read",
                alt);
        return;
    }
    err = manifest_parse(text, len, v->name, &m);
    free(text);
    if (err < 0) {
        PROBLEM(v, "%s: %s", v->manifest, nvr_strerror(err));
        return;
    }
    if (!m.has_self_hash)
        PROBLEM(v,
                "%s has no manifest_sha256 field: not an nvr manifest, "
                "or it was rewritten",
                v->manifest);
    else if (strcmp(m.computed, m.recorded) != 0)
        PROBLEM(v,
                "%s was edited after export: it records manifest_sha256 "
                "%s but its content hashes to %s",
                v->manifest, m.recorded, m.computed);
    if (!m.lists_clip) {
        PROBLEM(v, "%s does not list the clip '%s'", v->manifest, v->name);
        return;
    }
    if (!m.has_sha256)
        PROBLEM(v, "%s lists '%s' without a SHA-256", v->manifest, v->name);
    else if (strcmp(m.sha256, v->sha) != 0)
        PROBLEM(v,
                "%s gives the clip's SHA-256 as %s but the clip hashes to "
                "%s",
                v->manifest, m.sha256, v->sha);
    if (!m.has_bytes)
        PROBLEM(v, "%s lists '%s' without its size", v->manifest, v->name);
    else if (m.bytes != v->bytes)
        PROBLEM(v, "%s gives the clip's size as %lld bytes but it has %lld",
                v->manifest, (long long)m.bytes, (long long)v->bytes);
    snprintf(v->audit_hash, sizeof(v->audit_hash), "%s", m.audit_hash);
}

struct audit_find {
    const char *hash;
    struct audit_entry found;
    bool ok;
};

static int audit_find_cb(void *user, const struct audit_entry *e)
{
    struct audit_find *f = user;

    if (strcmp(e->hash, f->hash) != 0)
        return 0;
    f->found = *e;
    f->ok = true;
    return 1;
}

static void check_audit(struct verify *v, const char *config_path)
{
    struct nvr_config *cfg = NULL;
    struct catalog *cat = NULL;
    struct audit_find f = {0};
    char path[2048], why[512], want[100];
    int64_t bad = 0;
    int err;

    if (!v->audit_hash[0]) {
        PROBLEM(v, "the manifest names no audit entry");
        return;
    }
    if (nvr_cli_load_config(config_path, &cfg) != 0) {
        PROBLEM(v, "cannot load the config to check the audit log");
        return;
    }
    nvr_cli_storage_path(cfg, CATALOG_FILE, path, sizeof(path));
    err = catalog_open(path, CATALOG_READONLY, &cat);
    if (err < 0) {
        PROBLEM(v, "catalog %s: %s", path, nvr_strerror(err));
        goto out;
    }
    f.hash = v->audit_hash;
    err = audit_list(cat, NULL, INT64_MIN, INT64_MAX, audit_find_cb, &f);
    if (err < 0) {
        PROBLEM(v, "audit log: %s", nvr_strerror(err));
        goto out;
    }
    snprintf(want, sizeof(want), "\"sha256\":\"%s\"", v->sha);
    if (!f.ok)
        PROBLEM(v,
                "the audit log has no entry with hash %s (the export "
                "named by the manifest is not recorded here)",
                v->audit_hash);
    else if (strcmp(f.found.kind, AUDIT_EXPORT) != 0 ||
             !strstr(f.found.detail, want))
        PROBLEM(v,
                "audit entry %lld does not record an export of this "
                "clip's SHA-256",
                (long long)f.found.id);
    err = audit_verify(cat, &bad, why, sizeof(why));
    if (err == -EBADMSG)
        PROBLEM(v, "the audit log is damaged: %s", why);
    else if (err < 0)
        PROBLEM(v, "audit log: %s", nvr_strerror(err));
out:
    catalog_close(cat);
    nvr_config_free(cfg);
}

static int verify_one(const char *clip, const char *config_path, int json,
                      struct json_out *j)
{
    struct verify *v = calloc(1, sizeof(*v));
    struct stat st;
    const char *slash = strrchr(clip, '/');
    int err, ok;

    if (!v)
        return NVR_EXIT_FAILURE;
    v->clip = clip;
    snprintf(v->name, sizeof(v->name), "%s", slash ? slash + 1 : clip);
    if (stat(clip, &st) != 0 || !S_ISREG(st.st_mode)) {
        PROBLEM(v, "%s: no such file", clip);
    } else {
        v->bytes = (int64_t)st.st_size;
        err = export_sha256_file(clip, v->sha);
        if (err < 0)
            PROBLEM(v, "%s: cannot read it: %s", clip, nvr_strerror(err));
    }
    if (v->n_problems == 0) {
        check_sidecar(v);
        check_manifest(v);
        if (config_path)
            check_audit(v, config_path);
    }
    ok = v->n_problems == 0;
    if (json) {
        json_obj_begin(j, NULL);
        json_str(j, "clip", clip);
        json_bool(j, "ok", ok);
        json_str(j, "sha256", v->sha[0] ? v->sha : NULL);
        json_str(j, "manifest", v->manifest[0] ? v->manifest : NULL);
        json_str(j, "audit_hash", v->audit_hash[0] ? v->audit_hash : NULL);
        json_arr_begin(j, "problems");
        for (int i = 0; i < v->n_problems; i++)
            json_str(j, NULL, v->problems[i]);
        json_arr_end(j);
        json_obj_end(j);
    } else if (ok) {
        printf("%s: OK\n  sha256 %s matches %s.sha256 and %s\n"
               "  the manifest is unchanged since export%s\n",
               clip, v->sha, v->name, v->manifest,
               config_path ? "\n  the audit log records this export and its "
                             "chain is intact"
                           : "");
    } else {
        char shown[NVR_ESCAPE_SIZE(VERIFY_PROBLEM_BYTES)];

        printf("%s: FAILED\n", clip);
        /* Problems quote the files checked (a .sha256 line, a name). */
        for (int i = 0; i < v->n_problems; i++)
            printf("  - %s\n",
                   nvr_escape_text(v->problems[i], shown, sizeof(shown)));
    }
    free(v);
    return ok ? NVR_EXIT_OK : NVR_EXIT_FAILURE;
}

static int verify_check(const struct cli_args *a)
{
    if (a->argc == 0) {
        fprintf(stderr, "nvr verify: name the clip to check\n");
        cli_help(stderr, a->entry);
        return NVR_EXIT_USAGE;
    }
    return 0;
}

/* The config is read only with -c, for the audit log's entry. */
static int verify_exec(const struct cli_args *a, const struct nvr_config *cfg,
                       struct catalog *cat)
{
    int rc = NVR_EXIT_OK;
    struct json_out j;

    (void)cfg;
    (void)cat;
    if (a->json) {
        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        json_arr_begin(&j, "clips");
    }
    for (int i = 0; i < a->argc; i++) {
        if (verify_one(a->argv[i], a->config_path, a->json, &j) != NVR_EXIT_OK)
            rc = NVR_EXIT_FAILURE;
    }
    if (a->json) {
        json_arr_end(&j);
        json_bool(&j, "ok", rc == NVR_EXIT_OK);
        json_obj_end(&j);
        json_finish(&j);
    }
    return rc;
}

static const struct cli_option verify_options[] = {
    {"config", 'c', 1, "FILE",
     "also check the export's entry in the recorder's audit log"},
    CLI_OPT_JSON,
    CLI_OPT_HELP,
    CLI_OPT_END,
};

const struct cli_entry cmd_verify_entry = {
    .name = "verify",
    .summary = "check an exported clip against its sidecars",
    .usage = "nvr verify [-c FILE] [--json] CLIP.mp4|CLIP.mov...",
    .about = "Checks an exported clip against CLIP.mp4.sha256 and its "
             "manifest, and says\nexactly what does not match. Exit 0 "
             "only when everything holds.",
    .options = verify_options,
    .min_args = 0,
    .max_args = -1,
    .check = verify_check,
    .exec = verify_exec,
};
