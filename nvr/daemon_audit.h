/* SPDX-License-Identifier: MIT */
/*
 * The recorder's own audit entries (storage/audit.h): recorder start (with
 * the config file's SHA-256 and camera list) preceded by a config_change
 * entry when the config differs from the last start's, camera_added and
 * camera_removed against the catalog, and recorder stop. Runs on the
 * daemon's thread before the loop starts and after the writers are
 * joined, never while the loop runs. Failures are logged, never fatal:
 * recording matters more than its log.
 */
#ifndef NVR_DAEMON_AUDIT_H
#define NVR_DAEMON_AUDIT_H

#include "nvr/nvr_config.h"

/* Appends the start entries (config_change, camera_added/removed,
 * recorder_start). cfg and catalog_path are borrowed. */
void nvr_daemon_audit_start(const struct nvr_config *cfg,
                            const char *catalog_path);

/* Appends recorder_stop; why is a short reason ("SIGTERM", ...). */
void nvr_daemon_audit_stop(const struct nvr_config *cfg,
                           const char *catalog_path, const char *why);

#endif
