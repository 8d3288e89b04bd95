/* SPDX-License-Identifier: MIT */
/*
 * Subcommands and the helpers they share. Each cmd_<name>.c defines its
 * table entry (nvr/cli.h), which nvr/cli.c lists; exit statuses are 0 ok,
 * 1 runtime failure, 2 usage or config error.
 */
#ifndef NVR_CMD_H
#define NVR_CMD_H

#include <stddef.h>

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
