/* SPDX-License-Identifier: MIT */
/*
 * nvr verify-storage: rehashes every finished segment (of one camera, or
 * all) against the SHA-256 its catalog row recorded when it was closed and
 * reports those that changed or vanished. The run is written to the audit
 * log. Exit status 1 if any segment changed, vanished or could not be read.
 */
#include "config.h"
#include "nvr/cmd.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvr/base/err.h"
#include "nvr/base/escape.h"
#include "nvr/base/json.h"
#include "nvr/base/timefmt.h"
#include "storage/audit.h"
#include "storage/catalog.h"
#include "storage/verify.h"

struct vs_seg {
    struct catalog_segment seg;
    char camera[64];
};

struct vs_ctx {
    const char *camera_name; /* of the camera being listed */
    struct vs_seg *v;
    size_t n, cap;
    int oom;
};

static int vs_collect(void *user, const struct catalog_segment *seg)
{
    struct vs_ctx *x = user;

    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 256;
        void *p = realloc(x->v, cap * sizeof(*x->v));
        if (!p) {
            x->oom = 1;
            return 1;
        }
        x->v = p;
        x->cap = cap;
    }
    x->v[x->n].seg = *seg;
    snprintf(x->v[x->n].camera, sizeof(x->v[x->n].camera), "%s",
             x->camera_name);
    x->n++;
    return 0;
}

struct vs_cams {
    int64_t ids[1024];
    char names[1024][64];
    int n;
};

static int vs_cams_cb(void *user, int64_t id, const char *name)
{
    struct vs_cams *c = user;

    if (c->n == (int)(sizeof(c->ids) / sizeof(c->ids[0])))
        return 1;
    c->ids[c->n] = id;
    snprintf(c->names[c->n], sizeof(c->names[0]), "%s", name);
    c->n++;
    return 0;
}

struct vs_counts {
    int64_t ok, changed, missing, failed, refused;
    int64_t bytes; /* of the segments that are intact */
};

/* Collects the finished segments of every camera, or of `camera` only,
 * into x. Returns 0, or an exit status after a message. */
static int vs_gather(struct catalog *cat, const char *camera, struct vs_ctx *x)
{
    struct vs_cams *cams = calloc(1, sizeof(*cams));
    int rc;

    if (!cams)
        return NVR_EXIT_FAILURE;
    rc = catalog_camera_list(cat, vs_cams_cb, cams);
    if (rc == 0 && camera) {
        int found = -1;

        for (int i = 0; i < cams->n; i++)
            if (strcmp(cams->names[i], camera) == 0)
                found = i;
        if (found < 0) {
            fprintf(stderr,
                    "nvr verify-storage: no recordings of camera '%s'\n",
                    camera);
            free(cams);
            return NVR_EXIT_FAILURE;
        }
        cams->ids[0] = cams->ids[found];
        memcpy(cams->names[0], cams->names[found], sizeof(cams->names[0]));
        cams->n = 1;
    }
    for (int i = 0; rc == 0 && i < cams->n && !x->oom; i++) {
        x->camera_name = cams->names[i];
        rc = catalog_segment_list(cat, cams->ids[i], INT64_MIN, INT64_MAX,
                                  1u << CATALOG_SEG_CLOSED, vs_collect, x);
    }
    free(cams);
    if (rc < 0 || x->oom) {
        fprintf(stderr, "nvr verify-storage: catalog: %s\n",
                nvr_strerror(x->oom ? -ENOMEM : rc));
        return NVR_EXIT_FAILURE;
    }
    return 0;
}

/* Rehashes one segment, counts the outcome and reports a problem. */
static void vs_check_one(const char *storage, const struct vs_seg *s,
                         struct json_out *j, struct vs_counts *n)
{
    enum verify_result res = VERIFY_OK;
    char sha[65], shown[NVR_ESCAPE_SIZE(sizeof(s->seg.path))];
    int64_t got = 0;
    const char *what;
    int r = verify_segment(storage, &s->seg, &res, sha, &got);

    if (r == 0 && res == VERIFY_OK) {
        n->ok++;
        n->bytes += got;
        return;
    }
    if (r < 0) {
        n->failed++;
        what = "unreadable";
    } else if (res == VERIFY_REFUSED) {
        n->refused++;
        what = "refused";
    } else if (res == VERIFY_MISSING) {
        n->missing++;
        what = "missing";
    } else {
        n->changed++;
        what = "changed";
    }
    if (j) {
        json_obj_begin(j, NULL);
        json_str(j, "camera", s->camera);
        json_str(j, "path", s->seg.path);
        json_str(j, "problem", what);
        json_time(j, "start", s->seg.start_us);
        json_str(j, "sha256", s->seg.sha256);
        json_str(j, "sha256_now", sha[0] ? sha : NULL);
        json_int(j, "bytes", s->seg.bytes);
        if (res == VERIFY_CHANGED)
            json_int(j, "bytes_now", got);
        if (r < 0)
            json_str(j, "error", nvr_strerror(r));
        json_obj_end(j);
    } else {
        printf("%-10s %s%s%s\n", what,
               nvr_escape_text(s->seg.path, shown, sizeof(shown)),
               r < 0 ? ": " : "", r < 0 ? nvr_strerror(r) : "");
    }
}

static void vs_print_totals(size_t checked, const struct vs_counts *n,
                            struct json_out *j)
{
    if (j) {
        json_arr_end(j);
        json_int(j, "checked", (int64_t)checked);
        json_int(j, "ok", n->ok);
        json_int(j, "changed", n->changed);
        json_int(j, "missing", n->missing);
        json_int(j, "unreadable", n->failed);
        json_int(j, "refused", n->refused);
        json_int(j, "bytes", n->bytes);
        json_obj_end(j);
        json_finish(j);
    } else {
        printf("%zu segments checked: %" PRId64 " ok, %" PRId64
               " changed, %" PRId64 " missing, %" PRId64 " unreadable, %" PRId64
               " refused\n",
               checked, n->ok, n->changed, n->missing, n->failed, n->refused);
    }
}

/* The run goes into the audit log. Returns 0 or a catalog error. */
static int vs_audit(struct catalog *cat, const char *camera, size_t checked,
                    const struct vs_counts *n)
{
    struct audit_entry e;
    int rc;

    memset(&e, 0, sizeof(e));
    snprintf(e.kind, sizeof(e.kind), "%s", AUDIT_VERIFY_STORAGE);
    if (camera)
        snprintf(e.camera, sizeof(e.camera), "%s", camera);
    snprintf(e.detail, sizeof(e.detail),
             "{\"checked\":%zu,\"ok\":%" PRId64 ",\"changed\":%" PRId64
             ",\"missing\":%" PRId64 ",\"unreadable\":%" PRId64
             ",\"refused\":%" PRId64 "}",
             checked, n->ok, n->changed, n->missing, n->failed, n->refused);
    rc = audit_append(cat, &e);
    if (rc < 0)
        fprintf(stderr, "nvr verify-storage: audit log: %s\n",
                nvr_strerror(rc));
    return rc;
}

/* Read-write only for the audit entry; segments are never changed. */
static int vs_exec(const struct cli_args *a, const struct nvr_config *cfg,
                   struct catalog *cat)
{
    struct vs_ctx x;
    struct vs_counts n = {0};
    struct json_out j, *jp = a->json ? &j : NULL;
    int rc;

    memset(&x, 0, sizeof(x));
    rc = vs_gather(cat, a->camera, &x);
    if (rc != 0)
        goto out;
    if (jp) {
        json_init(jp, stdout);
        json_obj_begin(jp, NULL);
        json_arr_begin(jp, "problems");
    }
    for (size_t i = 0; i < x.n; i++)
        vs_check_one(cfg->storage_path, &x.v[i], jp, &n);
    vs_print_totals(x.n, &n, jp);
    rc = vs_audit(cat, a->camera, x.n, &n);
    rc = n.changed || n.missing || n.failed || n.refused || rc < 0
             ? NVR_EXIT_FAILURE
             : NVR_EXIT_OK;
out:
    free(x.v);
    return rc;
}

static const struct cli_option vs_options[] = {
    CLI_OPT_CONFIG, {"camera", 0, 1, "NAME", "only this camera"},
    CLI_OPT_JSON,   CLI_OPT_HELP,
    CLI_OPT_END,
};

const struct cli_entry cmd_verify_storage_entry = {
    .name = "verify-storage",
    .summary = "rehash segments against the catalog's SHA-256",
    .usage = "nvr verify-storage [-c FILE] [--camera NAME] [--json]",
    .about = "Rehashes the recorded segments against the SHA-256 stored "
             "when each was\nfinished, and reports any that changed or "
             "vanished.",
    .options = vs_options,
    .flags = CLI_CATALOG_WRITE,
    .exec = vs_exec,
};
