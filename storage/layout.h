/* SPDX-License-Identifier: MIT */
/*
 * The top level of a storage directory: one folder per camera beside the
 * files and folders the recorder keeps there. Every such name is spelled
 * here, once, and listed in storage_layout_names, so that the config
 * refuses a camera named like one of them: a camera called "catalog.db"
 * would never record, and one called ".x" would be skipped by recovery.
 * A new top-level file is reserved by adding it to the list.
 */
#ifndef NVR_STORAGE_LAYOUT_H
#define NVR_STORAGE_LAYOUT_H

#include <stddef.h>

/* The catalog; SQLite adds "-wal", "-shm" and "-journal" beside it. */
#define STORAGE_CATALOG_FILE "catalog.db"
/* Held by a running recorder (nvr/daemon.c). */
#define STORAGE_LOCK_FILE "recorder.lock"
/* What the recorder's sandbox achieved (nvr/sandbox.c). */
#define STORAGE_SANDBOX_STATUS_FILE "sandbox.status"
/* Space kept back so the catalog can always record deletions
 * (nvr/retention_job.c). */
#define STORAGE_SPACE_RESERVE_FILE ".nvr-space-reserve"
/* Its size: room for the catalog's own transactions on a full disk. */
#define STORAGE_SPACE_RESERVE_BYTES ((int64_t)4 * 1024 * 1024)
/* Where recovery moves files it cannot index (storage/recovery.c). */
#define STORAGE_LOST_DIR "lost+found"

/* A name the top level uses, and what for (shown when a camera takes it). */
struct storage_layout_name {
    const char *name;
    const char *use;
};

/* Every name above. Names starting with '.' are all reserved as well
 * (storage_layout_names covers the ones in use; recovery skips the rest). */
static const struct storage_layout_name storage_layout_names[] = {
    {STORAGE_CATALOG_FILE, "the catalog"},
    {STORAGE_CATALOG_FILE "-wal", "the catalog's write-ahead log"},
    {STORAGE_CATALOG_FILE "-shm", "the catalog's shared memory"},
    {STORAGE_CATALOG_FILE "-journal", "the catalog's rollback journal"},
    {STORAGE_LOCK_FILE, "the recorder's lock"},
    {STORAGE_SANDBOX_STATUS_FILE, "the sandbox status"},
    {STORAGE_SPACE_RESERVE_FILE, "the catalog's space reserve"},
    {STORAGE_LOST_DIR, "files recovery could not index"},
};

#define STORAGE_LAYOUT_N_NAMES \
    (sizeof(storage_layout_names) / sizeof(storage_layout_names[0]))

#endif
