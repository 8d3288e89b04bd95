/* SPDX-License-Identifier: MIT */
/*
 * nvr hold add/list/release: legal holds, ranges of a camera's footage
 * that retention must never delete (storage/holds.h). Adding and releasing
 * are written to the audit log with the OS user.
 */
#include "config.h"
#include "nvr/cmd.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvr/base/err.h"
#include "nvr/base/json.h"
#include "nvr/base/timefmt.h"
#include "storage/catalog.h"
#include "storage/holds.h"

static void hold_usage(FILE *f)
{
    fprintf(f, "usage: nvr hold add [-c FILE] --camera NAME --from T --to T "
               "--reason TEXT\n"
               "       nvr hold list [-c FILE] [--camera NAME] [--all] "
               "[--json]\n"
               "       nvr hold release [-c FILE] ID\n\n"
               "Legal holds: footage of a camera in [from, to) that retention "
               "never\ndeletes, whatever the rule (days, max_bytes or "
               "min_free). Holds are\nnever removed: release marks them "
               "released, and both are audited.\nTimes are ISO 8601: "
               "2026-11-27T10:00:00 is local time, Z or +01:00 explicit.\n\n"
               "  -c, --config FILE  the config file\n"
               "      --camera NAME  the camera\n"
               "      --from T       start of the held footage\n"
               "      --to T         end of the held footage\n"
               "      --reason TEXT  why (case reference); required\n"
               "      --all          list released holds too\n"
               "      --json         machine-readable output\n"
               "  -h, --help         this text\n");
}

static int hold_open(const char *config_path, int flags,
                     struct nvr_config **cfg, struct catalog **cat)
{
    char path[2048];
    int rc = nvr_cli_load_config(config_path, cfg);

    if (rc != 0)
        return rc;
    nvr_cli_storage_path(*cfg, CATALOG_FILE, path, sizeof(path));
    rc = catalog_open(path, flags, cat);
    if (rc < 0) {
        fprintf(stderr, "nvr hold: catalog %s: %s\n", path, nvr_strerror(rc));
        nvr_config_free(*cfg);
        *cfg = NULL;
        return NVR_EXIT_FAILURE;
    }
    return 0;
}

static int hold_configured(const struct nvr_config *cfg, const char *camera)
{
    for (int i = 0; i < cfg->n_cameras; i++)
        if (strcmp(cfg->cameras[i].name, camera) == 0)
            return 1;
    return 0;
}

struct hold_list_ctx {
    int json;
    int n;
    struct json_out j;
};

static int hold_print(void *user, const struct hold *h)
{
    struct hold_list_ctx *x = user;
    char a[64], b[64], c[64];

    x->n++;
    if (x->json) {
        json_obj_begin(&x->j, NULL);
        json_int(&x->j, "id", h->id);
        json_str(&x->j, "camera", h->camera);
        json_time(&x->j, "from", h->from_us);
        json_time(&x->j, "to", h->to_us);
        json_str(&x->j, "reason", h->reason);
        json_time(&x->j, "created", h->created_us);
        json_str(&x->j, "created_by", h->created_by);
        json_bool(&x->j, "active", h->released_us == 0);
        json_time(&x->j, "released", h->released_us);
        json_str(&x->j, "released_by", h->released_us ? h->released_by : NULL);
        json_obj_end(&x->j);
        return 0;
    }
    nvr_time_format_local(h->from_us, a, sizeof(a));
    nvr_time_format_local(h->to_us, b, sizeof(b));
    nvr_time_format_local(h->created_us, c, sizeof(c));
    printf("%5" PRId64 "  %-12s %s .. %s  by %s at %s%s\n       %s\n", h->id,
           h->camera, a, b, h->created_by, c,
           h->released_us ? "  (released)" : "", h->reason);
    return 0;
}

static int hold_add(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"camera", required_argument, NULL, 'C'},
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"reason", required_argument, NULL, 'r'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL, *camera = NULL, *reason = NULL;
    int64_t from_us = 0, to_us = 0;
    int has_from = 0, has_to = 0, json = 0, c, rc;
    struct nvr_config *cfg = NULL;
    struct catalog *cat = NULL;
    struct hold h;

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
            if (nvr_cli_time_arg("hold", "--from", optarg, &from_us) < 0)
                return NVR_EXIT_USAGE;
            has_from = 1;
            break;
        case 't':
            if (nvr_cli_time_arg("hold", "--to", optarg, &to_us) < 0)
                return NVR_EXIT_USAGE;
            has_to = 1;
            break;
        case 'r':
            reason = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            hold_usage(stdout);
            return NVR_EXIT_OK;
        default:
            hold_usage(stderr);
            return NVR_EXIT_USAGE;
        }
    }
    if (optind != argc || !camera || !has_from || !has_to || !reason) {
        fprintf(stderr, "nvr hold add: --camera, --from, --to and --reason "
                        "are required\n");
        return NVR_EXIT_USAGE;
    }
    if (from_us >= to_us) {
        fprintf(stderr, "nvr hold add: --from must be before --to\n");
        return NVR_EXIT_USAGE;
    }
    memset(&h, 0, sizeof(h));
    if (strlen(camera) >= sizeof(h.camera) ||
        strlen(reason) >= sizeof(h.reason)) {
        fprintf(stderr, "nvr hold add: camera name or reason too long (the "
                        "reason takes up to 511 bytes)\n");
        return NVR_EXIT_USAGE;
    }
    snprintf(h.camera, sizeof(h.camera), "%s", camera);
    snprintf(h.reason, sizeof(h.reason), "%s", reason);
    h.from_us = from_us;
    h.to_us = to_us;
    rc = hold_open(config_path, CATALOG_READWRITE, &cfg, &cat);
    if (rc != 0)
        return rc;
    /* A configured camera that has not recorded yet can be held too. */
    if (hold_configured(cfg, camera)) {
        int64_t id;
        rc = catalog_camera_ensure(cat, camera, &id);
        if (rc < 0)
            goto fail;
    }
    rc = holds_add(cat, &h);
    if (rc == -ENOENT) {
        fprintf(stderr,
                "nvr hold add: no camera '%s' in the config or the "
                "catalog\n",
                camera);
        rc = NVR_EXIT_USAGE;
        goto out;
    }
    if (rc == -EINVAL) {
        fprintf(stderr, "nvr hold add: the reason must not be empty\n");
        rc = NVR_EXIT_USAGE;
        goto out;
    }
    if (rc < 0)
        goto fail;
    if (json) {
        struct hold_list_ctx x = {.json = 1};

        json_init(&x.j, stdout);
        hold_print(&x, &h);
        json_finish(&x.j);
    } else {
        printf("hold %" PRId64 " added\n", h.id);
    }
    rc = NVR_EXIT_OK;
    goto out;
fail:
    fprintf(stderr, "nvr hold add: %s\n", nvr_strerror(rc));
    rc = NVR_EXIT_FAILURE;
out:
    catalog_close(cat);
    nvr_config_free(cfg);
    return rc;
}

static int hold_list(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"camera", required_argument, NULL, 'C'},
        {"all", no_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL, *camera = NULL;
    struct hold_list_ctx x;
    struct nvr_config *cfg = NULL;
    struct catalog *cat = NULL;
    int all = 0, c, rc;

    memset(&x, 0, sizeof(x));
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'C':
            camera = optarg;
            break;
        case 'a':
            all = 1;
            break;
        case 'j':
            x.json = 1;
            break;
        case 'h':
            hold_usage(stdout);
            return NVR_EXIT_OK;
        default:
            hold_usage(stderr);
            return NVR_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        hold_usage(stderr);
        return NVR_EXIT_USAGE;
    }
    rc = hold_open(config_path, CATALOG_READONLY, &cfg, &cat);
    if (rc != 0)
        return rc;
    if (x.json) {
        json_init(&x.j, stdout);
        json_obj_begin(&x.j, NULL);
        json_arr_begin(&x.j, "holds");
    }
    rc = holds_list(cat, camera, INT64_MIN, INT64_MAX, !all, hold_print, &x);
    if (x.json) {
        json_arr_end(&x.j);
        json_obj_end(&x.j);
        json_finish(&x.j);
    } else if (rc == 0 && x.n == 0) {
        printf("no %sholds\n", all ? "" : "active ");
    }
    if (rc < 0) {
        fprintf(stderr, "nvr hold list: %s\n", nvr_strerror(rc));
        rc = NVR_EXIT_FAILURE;
    }
    catalog_close(cat);
    nvr_config_free(cfg);
    return rc;
}

static int hold_release(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL;
    struct nvr_config *cfg = NULL;
    struct catalog *cat = NULL;
    char *end;
    long long id;
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'h':
            hold_usage(stdout);
            return NVR_EXIT_OK;
        default:
            hold_usage(stderr);
            return NVR_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "nvr hold release: give one hold ID\n");
        return NVR_EXIT_USAGE;
    }
    errno = 0;
    id = strtoll(argv[optind], &end, 10);
    if (errno || *end || end == argv[optind] || id <= 0) {
        fprintf(stderr, "nvr hold release: not a hold ID: '%s'\n",
                argv[optind]);
        return NVR_EXIT_USAGE;
    }
    rc = hold_open(config_path, CATALOG_READWRITE, &cfg, &cat);
    if (rc != 0)
        return rc;
    rc = holds_release(cat, (int64_t)id, NULL);
    if (rc == 0) {
        printf("hold %lld released\n", id);
    } else if (rc == -ENOENT) {
        fprintf(stderr, "nvr hold release: no hold %lld\n", id);
        rc = NVR_EXIT_FAILURE;
    } else if (rc == -EALREADY) {
        fprintf(stderr, "nvr hold release: hold %lld is already released\n",
                id);
        rc = NVR_EXIT_FAILURE;
    } else {
        fprintf(stderr, "nvr hold release: %s\n", nvr_strerror(rc));
        rc = NVR_EXIT_FAILURE;
    }
    catalog_close(cat);
    nvr_config_free(cfg);
    return rc;
}

int cmd_hold_main(int argc, char **argv)
{
    if (argc < 2) {
        hold_usage(stderr);
        return NVR_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        hold_usage(stdout);
        return NVR_EXIT_OK;
    }
    if (strcmp(argv[1], "add") == 0)
        return hold_add(argc - 1, argv + 1);
    if (strcmp(argv[1], "list") == 0)
        return hold_list(argc - 1, argv + 1);
    if (strcmp(argv[1], "release") == 0)
        return hold_release(argc - 1, argv + 1);
    fprintf(stderr, "nvr hold: unknown subcommand '%s'\n", argv[1]);
    hold_usage(stderr);
    return NVR_EXIT_USAGE;
}
