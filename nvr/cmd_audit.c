/* SPDX-License-Identifier: MIT */
/*
 * nvr audit: lists the tamper-evident audit log (recorder start/stop,
 * config changes, cameras added/removed, playback, exports, holds,
 * retention, storage checks), optionally one camera's entries in a time
 * range; --verify walks the whole hash chain and names the first entry
 * that does not verify.
 */
#include "config.h"
#include "nvr/cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvr/base/err.h"
#include "nvr/base/json.h"
#include "nvr/base/timefmt.h"
#include "storage/audit.h"
#include "storage/catalog.h"

static void audit_usage(FILE *f)
{
    fprintf(f, "usage: nvr audit [-c FILE] [--camera NAME] [--from T] "
               "[--to T] [--json]\n"
               "       nvr audit [-c FILE] --verify [--json]\n\n"
               "Lists the audit log: who did what, when, on which camera "
               "and range. Each\nentry carries the hash of the one before "
               "it; --verify checks the whole\nchain and names the first "
               "edited, deleted, inserted or reordered entry\n(exit 1).\n\n"
               "  -c, --config FILE  the config file\n"
               "      --camera NAME  only entries about this camera\n"
               "      --from T       only entries at or after T\n"
               "      --to T         only entries at or before T\n"
               "      --verify       check the hash chain\n"
               "      --json         machine-readable output\n"
               "  -h, --help         this text\n");
}

struct list_ctx {
    int json;
    struct json_out *j;
    int64_t n;
};

static int list_cb(void *user, const struct audit_entry *e)
{
    struct list_ctx *c = user;
    char t[64], a[64], b[64];

    c->n++;
    if (c->json) {
        struct json_out *j = c->j;

        json_obj_begin(j, NULL);
        json_int(j, "id", e->id);
        json_time(j, "time", e->time_us);
        json_str(j, "kind", e->kind);
        json_str(j, "camera", e->camera[0] ? e->camera : NULL);
        json_time(j, "from", e->from_us);
        json_time(j, "to", e->to_us);
        json_str(j, "user", e->user);
        json_str(j, "host", e->host);
        json_str(j, "detail", e->detail);
        json_str(j, "prev_hash", e->prev_hash);
        json_str(j, "hash", e->hash);
        json_obj_end(j);
        return 0;
    }
    nvr_time_format_local(e->time_us, t, sizeof(t));
    printf("%5lld  %s  %-14s %-12s %s@%s", (long long)e->id, t, e->kind,
           e->camera[0] ? e->camera : "-", e->user, e->host);
    if (e->from_us || e->to_us) {
        nvr_time_format_local(e->from_us, a, sizeof(a));
        nvr_time_format_local(e->to_us, b, sizeof(b));
        printf("  [%s .. %s]", a, b);
    }
    if (e->detail[0])
        printf("\n       %s", e->detail);
    printf("\n");
    return 0;
}

static int do_verify(struct catalog *cat, int json)
{
    int64_t bad = 0, head_id = 0;
    char why[512], head[65];
    int err = audit_verify(cat, &bad, why, sizeof(why));

    if (err < 0 && err != -EBADMSG) {
        fprintf(stderr, "nvr audit: %s\n", nvr_strerror(err));
        return NVR_EXIT_FAILURE;
    }
    if (audit_head(cat, &head_id, head) < 0)
        head[0] = '\0';
    if (json) {
        struct json_out j;

        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        json_bool(&j, "ok", err == 0);
        json_int(&j, "entries", head_id);
        json_str(&j, "head_hash", head);
        if (err == 0) {
            json_null(&j, "first_bad_id");
            json_null(&j, "why");
        } else {
            json_int(&j, "first_bad_id", bad);
            json_str(&j, "why", why);
        }
        json_obj_end(&j);
        json_finish(&j);
    } else if (err == 0) {
        printf("audit log intact: %lld entr%s, head hash %s\n",
               (long long)head_id, head_id == 1 ? "y" : "ies", head);
    } else {
        printf("audit log FAILED verification at entry %lld: %s\n",
               (long long)bad, why);
    }
    return err == 0 ? NVR_EXIT_OK : NVR_EXIT_FAILURE;
}

int cmd_audit_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"camera", required_argument, NULL, 'C'},
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"verify", no_argument, NULL, 'v'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL, *camera = NULL;
    int64_t from_us = INT64_MIN, to_us = INT64_MAX;
    int json = 0, verify = 0, c, rc;
    struct nvr_config *cfg = NULL;
    struct catalog *cat = NULL;
    char path[2048];

    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'C':
            camera = optarg;
            break;
        case 'f':
            if (nvr_cli_time_arg("audit", "--from", optarg, &from_us) < 0)
                return NVR_EXIT_USAGE;
            break;
        case 't':
            if (nvr_cli_time_arg("audit", "--to", optarg, &to_us) < 0)
                return NVR_EXIT_USAGE;
            break;
        case 'v':
            verify = 1;
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            audit_usage(stdout);
            return NVR_EXIT_OK;
        default:
            audit_usage(stderr);
            return NVR_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        audit_usage(stderr);
        return NVR_EXIT_USAGE;
    }
    if (from_us > to_us) {
        fprintf(stderr, "nvr audit: --from must not be after --to\n");
        return NVR_EXIT_USAGE;
    }
    rc = nvr_cli_load_config(config_path, &cfg);
    if (rc != 0)
        return rc;
    nvr_cli_storage_path(cfg, CATALOG_FILE, path, sizeof(path));
    rc = catalog_open(path, CATALOG_READONLY, &cat);
    if (rc < 0) {
        fprintf(stderr, "nvr audit: catalog %s: %s\n", path,
                rc == -ENOENT ? "does not exist (has the recorder run?)"
                              : nvr_strerror(rc));
        rc = NVR_EXIT_FAILURE;
        goto out;
    }
    if (verify) {
        rc = do_verify(cat, json);
        goto out;
    }
    {
        struct json_out j;
        struct list_ctx ctx = {json, &j, 0};

        if (json) {
            json_init(&j, stdout);
            json_obj_begin(&j, NULL);
            json_arr_begin(&j, "entries");
        }
        rc = audit_list(cat, camera, from_us, to_us, list_cb, &ctx);
        if (json) {
            json_arr_end(&j);
            json_obj_end(&j);
            json_finish(&j);
        } else if (rc == 0) {
            printf("%lld entr%s\n", (long long)ctx.n, ctx.n == 1 ? "y" : "ies");
        }
        if (rc < 0) {
            fprintf(stderr, "nvr audit: %s\n", nvr_strerror(rc));
            rc = NVR_EXIT_FAILURE;
        } else {
            rc = NVR_EXIT_OK;
        }
    }
out:
    catalog_close(cat);
    nvr_config_free(cfg);
    return rc;
}
