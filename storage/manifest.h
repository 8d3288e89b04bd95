/* SPDX-License-Identifier: MIT */
/*
 * The manifest of an evidential export and the .sha256 sidecar of each
 * clip: storage writes them (export.c, through manifest.c's writing
 * side), `nvr verify` reads and checks them with only the files at hand.
 * What is read comes from whoever handed the clip over, so any bytes
 * must give a result or an error, never a read outside them (fuzzed by
 * tests/fuzz/fuzz_verify_manifest.c).
 *
 * The manifest is indented JSON. Its own hash, manifest_sha256, is the
 * SHA-256 of its text with the 64 hex digits of that field replaced by
 * 64 '0' characters. Any thread.
 */
#ifndef NVR_STORAGE_MANIFEST_H
#define NVR_STORAGE_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvr/base/compiler.h"

/* Largest sidecar / manifest parsed (bytes). */
#define MANIFEST_MAX_SIDECAR 4096
#define MANIFEST_MAX_BYTES   ((size_t)16 * 1024 * 1024)
/* Longest clip file name. */
#define MANIFEST_MAX_NAME 256

/* The manifest written next to a single clip: "a/clip.mp4" ->
 * "a/clip.manifest.json". Returns 0 or -ENAMETOOLONG. */
NVR_NODISCARD int manifest_path(const char *clip_path, char *out,
                                size_t out_size);

/*
 * The manifest's own hash over text[0..len): sets computed[65] and
 * recorded[65] (the 64 characters found in the text, "" if none).
 * Returns 0, -EBADMSG if the text has no manifest_sha256 field, -ENOMEM.
 */
NVR_NODISCARD int manifest_hash(const char *text, size_t len, char computed[65],
                                char recorded[65]);

/*
 * Reads a whole small file, at most max bytes, into *out (returns owned,
 * NUL-terminated; free()) with its length in *len. Returns 0, -EFBIG
 * (larger than max), -ENOMEM, or the errno of fopen (-ENOENT...).
 */
NVR_NODISCARD int manifest_read_file(const char *path, size_t max, char **out,
                                     size_t *len);

/*
 * Reads the manifest of the clip at clip_path: its own (manifest_path),
 * or, when that does not exist, manifest.json in the clip's folder (a
 * multi-camera export); that second name is set in folder_manifest
 * either way. Returns 0 with path set to the one read and *text, *len as
 * manifest_read_file; or the error of the last read tried, with path "".
 */
NVR_NODISCARD int manifest_read_for_clip(const char *clip_path, char *path,
                                         size_t path_size,
                                         char *folder_manifest,
                                         size_t folder_size, char **text,
                                         size_t *len);

/* One "<64 hex>  <name>" line as sha256sum writes it. */
struct manifest_sidecar {
    char sha256[65];              /* lowercase hex */
    char name[MANIFEST_MAX_NAME]; /* the file it names */
};

/* Parses a sidecar. Returns 0, -EBADMSG (not in sha256sum format) or
 * -ENAMETOOLONG. Borrows data. */
NVR_NODISCARD int manifest_parse_sidecar(const char *data, size_t len,
                                         struct manifest_sidecar *out);

/* What a manifest says about one clip. */
struct manifest_entry {
    bool has_self_hash; /* a manifest_sha256 field */
    char computed[65];  /* SHA-256 of the text with it zeroed */
    char recorded[65];  /* its value, or "(not hexadecimal)" */
    bool lists_clip;    /* a clip entry with "file": name */
    bool has_sha256;    /* that entry's "sha256" (64 hex) */
    char sha256[65];
    bool has_bytes; /* that entry's "bytes" */
    int64_t bytes;
    char audit_hash[65]; /* that entry's "audit_hash", "" if none */
};

/* Parses a manifest for the clip named `name`. Returns 0, -EFBIG (over
 * MANIFEST_MAX_BYTES), -ENOMEM. Borrows data and name. */
NVR_NODISCARD int manifest_parse(const char *data, size_t len, const char *name,
                                 struct manifest_entry *out);

#endif
