/* SPDX-License-Identifier: MIT */
/*
 * Subcommands and the helpers they share. Each cmd_<name>.c defines its
 * table entry (nvr/cli.h), which nvr/cli.c lists; exit statuses are 0 ok,
 * 1 runtime failure, 2 usage or config error.
 */
#ifndef NVR_CMD_H
#define NVR_CMD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nvr/cli.h"
#include "nvr/nvr_config.h"

#define NVR_EXIT_OK      0
#define NVR_EXIT_FAILURE 1
#define NVR_EXIT_USAGE   2

extern const struct cli_entry cmd_run_entry;
extern const struct cli_entry cmd_demo_entry;
extern const struct cli_entry cmd_status_entry;
extern const struct cli_entry cmd_probe_entry;
extern const struct cli_entry cmd_recordings_entry;
extern const struct cli_entry cmd_retention_entry;
extern const struct cli_entry cmd_hold_entry;
extern const struct cli_entry cmd_tui_entry;
extern const struct cli_entry cmd_export_entry;
extern const struct cli_entry cmd_audit_entry;
extern const struct cli_entry cmd_check_entry;
extern const struct cli_entry cmd_systemd_unit_entry;
extern const struct cli_entry cmd_verify_storage_entry;
extern const struct cli_entry cmd_verify_entry;

struct access_caller;
struct catalog;

/*
 * What nvr status, recordings and audit show, asked for from the command
 * line (the storage read directly) or by a caller of the recorder's
 * socket (nvr/ipc_server.c), which the renderers below then filter by
 * the [access] rules. Strings are borrowed.
 */
struct cmd_query {
    const char *camera; /* NULL: none given */
    int has_from, has_to;
    int64_t from_us, to_us; /* INT64_MIN / INT64_MAX when not given */
    int json;
    int verify;                      /* nvr audit --verify */
    const char *reason;              /* nvr hold add --reason; NULL: none */
    int64_t hold_id;                 /* nvr hold release ID; 0: none */
    int all;                         /* nvr hold list --all */
    int check;                       /* nvr status --check */
    const struct access_caller *who; /* NULL: everything (a direct read) */
};

/* The query of a command line's common options. */
void cmd_query_from_args(const struct cli_args *a, struct cmd_query *q);

/*
 * The renderers: write the command's output to out and its messages to
 * err, and return its exit status. cat may be NULL for status (no catalog
 * yet). Not on a loop thread that must not block (they read SQLite).
 */
int cmd_status_render(FILE *out, FILE *err, const struct nvr_config *cfg,
                      struct catalog *cat, const struct cmd_query *q);
int cmd_recordings_render(FILE *out, FILE *err, const struct nvr_config *cfg,
                          struct catalog *cat, const struct cmd_query *q);
int cmd_audit_render(FILE *out, FILE *err, const struct nvr_config *cfg,
                     struct catalog *cat, const struct cmd_query *q);
/* nvr hold add/list/release: a hold placed or released by q->who (NULL:
 * the process's user) is written with that user; list shows the holds of
 * the cameras q->who may view. */
int cmd_hold_add_render(FILE *out, FILE *err, const struct nvr_config *cfg,
                        struct catalog *cat, const struct cmd_query *q);
int cmd_hold_list_render(FILE *out, FILE *err, const struct nvr_config *cfg,
                         struct catalog *cat, const struct cmd_query *q);
int cmd_hold_release_render(FILE *out, FILE *err, const struct nvr_config *cfg,
                            struct catalog *cat, const struct cmd_query *q);

/* Loads the config at path (NULL: nvr_config_default_path()), printing
 * every problem to stderr. Returns 0 or NVR_EXIT_USAGE. */
int nvr_cli_load_config(const char *path, struct nvr_config **out);

/* Joins a path relative to the storage directory. */
void nvr_cli_storage_path(const struct nvr_config *cfg, const char *rel,
                          char *out, size_t out_size);

/* Prints "nvr CMD: cannot open the catalog PATH: permission denied: WHY"
 * to stderr, WHY naming the folder or file that refuses the user (write:
 * the command writes to the catalog). */
void nvr_cli_catalog_refused(const char *cmd, const char *path, int write);

#endif
