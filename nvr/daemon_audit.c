/* SPDX-License-Identifier: MIT */
/*
 * The recorder's audit entries (see daemon_audit.h). The recorder_start
 * detail is compact JSON: {"config": path, "config_sha256": hex,
 * "cameras": [names of the enabled cameras], "nvr_version": v}. At the
 * next start the config's hash is compared with the last recorder_start's
 * and a config_change entry records old and new hashes when they differ.
 * A configured camera the catalog does not know yet is camera_added (and
 * entered in the catalog, so it is reported once); a catalog camera that
 * the previous start listed but this config does not is camera_removed
 * (so that, too, is reported once).
 */
#include "config.h"
#include "nvr/daemon_audit.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvr/base/err.h"
#include "nvr/base/log.h"
#include "storage/audit.h"
#include "storage/catalog.h"
#include "storage/export.h"

struct last_start {
    bool found;
    struct audit_entry e;
};

static int last_start_cb(void *user, const struct audit_entry *e)
{
    struct last_start *l = user;

    if (strcmp(e->kind, AUDIT_RECORDER_START) == 0) {
        l->found = true;
        l->e = *e;
    }
    return 0;
}

/* The value of "key":"..." in compact JSON text, into out. */
static bool json_text_field(const char *text, const char *key, char *out,
                            size_t size)
{
    char pat[64];
    const char *p, *q;

    snprintf(pat, sizeof(pat), "\"%s\":\"", key);
    p = strstr(text, pat);
    if (!p)
        return false;
    p += strlen(pat);
    q = strchr(p, '"');
    if (!q || (size_t)(q - p) >= size)
        return false;
    memcpy(out, p, (size_t)(q - p));
    out[q - p] = '\0';
    return true;
}

/* Whether name is in the "cameras":[...] list of a start entry's detail.
 * Camera names are [A-Za-z0-9_.-], so they need no escaping. */
static bool start_lists_camera(const char *detail, const char *name)
{
    char pat[96];
    const char *list = strstr(detail, "\"cameras\":[");
    const char *end, *p;

    if (!list)
        return false;
    end = strchr(list, ']');
    snprintf(pat, sizeof(pat), "\"%s\"", name);
    p = strstr(list, pat);
    return p && end && p < end;
}

static bool config_has_camera(const struct nvr_config *cfg, const char *name)
{
    for (int i = 0; i < cfg->n_cameras; i++) {
        if (cfg->cameras[i].enabled && strcmp(cfg->cameras[i].name, name) == 0)
            return true;
    }
    return false;
}

static void append(struct catalog *cat, const char *kind, const char *camera,
                   const char *detail)
{
    struct audit_entry e;
    int err;

    memset(&e, 0, sizeof(e));
    snprintf(e.kind, sizeof(e.kind), "%s", kind);
    snprintf(e.camera, sizeof(e.camera), "%s", camera ? camera : "");
    snprintf(e.detail, sizeof(e.detail), "%s", detail);
    err = audit_append(cat, &e);
    if (err < 0)
        LOG_W("nvr", "cannot append the %s audit entry: %s", kind,
              nvr_strerror(err));
}

struct removed_ctx {
    struct catalog *cat;
    const struct nvr_config *cfg;
    const struct last_start *prev;
};

static int removed_cb(void *user, int64_t id, const char *name)
{
    struct removed_ctx *r = user;

    if (!config_has_camera(r->cfg, name) && r->prev->found &&
        start_lists_camera(r->prev->e.detail, name))
        append(r->cat, AUDIT_CAMERA_REMOVED, name,
               "{\"why\":\"no longer in the config\"}");
    return 0;
}

void nvr_daemon_audit_start(const struct nvr_config *cfg,
                            const char *catalog_path)
{
    struct catalog *cat = NULL;
    struct last_start prev = {0};
    char sha[65] = "", old[65] = "", detail[1024];
    size_t n;
    int err;

    err = catalog_open(catalog_path, CATALOG_READWRITE, &cat);
    if (err < 0) {
        LOG_W("nvr", "audit log: catalog %s: %s", catalog_path,
              nvr_strerror(err));
        return;
    }
    if (export_sha256_file(cfg->path, sha) < 0)
        snprintf(sha, sizeof(sha), "unreadable");
    err = audit_list(cat, NULL, INT64_MIN, INT64_MAX, last_start_cb, &prev);
    if (err < 0)
        LOG_W("nvr", "audit log: %s", nvr_strerror(err));

    if (prev.found &&
        json_text_field(prev.e.detail, "config_sha256", old, sizeof(old)) &&
        strcmp(old, sha) != 0) {
        snprintf(detail, sizeof(detail),
                 "{\"config\":\"%.400s\",\"old_sha256\":\"%s\","
                 "\"new_sha256\":\"%s\"}",
                 cfg->path, old, sha);
        append(cat, AUDIT_CONFIG_CHANGE, NULL, detail);
    }
    for (int i = 0; i < cfg->n_cameras; i++) {
        const struct nvr_camera_config *cc = &cfg->cameras[i];
        int64_t id;

        if (!cc->enabled || catalog_camera_find(cat, cc->name, &id) == 0)
            continue;
        append(cat, AUDIT_CAMERA_ADDED, cc->name,
               "{\"why\":\"new in the config\"}");
        if (catalog_camera_ensure(cat, cc->name, &id) < 0)
            LOG_W("nvr", "camera %s: cannot enter it in the catalog", cc->name);
    }
    {
        struct removed_ctx r = {cat, cfg, &prev};

        if (catalog_camera_list(cat, removed_cb, &r) < 0)
            LOG_W("nvr", "audit log: cannot list the catalog's cameras");
    }

    n = (size_t)snprintf(detail, sizeof(detail),
                         "{\"config\":\"%.400s\",\"config_sha256\":\"%s\","
                         "\"nvr_version\":\"%s\",\"cameras\":[",
                         cfg->path, sha, NVR_VERSION);
    for (int i = 0, k = 0; i < cfg->n_cameras; i++) {
        const char *name = cfg->cameras[i].name;

        if (!cfg->cameras[i].enabled)
            continue;
        if (n + strlen(name) + 8 >= sizeof(detail))
            break; /* the list is cut short rather than the JSON */
        n += (size_t)snprintf(detail + n, sizeof(detail) - n, "%s\"%s\"",
                              k++ ? "," : "", name);
    }
    snprintf(detail + n, sizeof(detail) - n, "]}");
    append(cat, AUDIT_RECORDER_START, NULL, detail);
    catalog_close(cat);
}

void nvr_daemon_audit_stop(const struct nvr_config *cfg,
                           const char *catalog_path, const char *why)
{
    struct catalog *cat = NULL;
    char detail[256];
    int err;

    (void)cfg;
    err = catalog_open(catalog_path, CATALOG_READWRITE, &cat);
    if (err < 0) {
        LOG_W("nvr", "audit log: catalog %s: %s", catalog_path,
              nvr_strerror(err));
        return;
    }
    snprintf(detail, sizeof(detail), "{\"why\":\"%.200s\"}", why);
    append(cat, AUDIT_RECORDER_STOP, NULL, detail);
    catalog_close(cat);
}
