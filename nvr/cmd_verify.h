/* SPDX-License-Identifier: MIT */
/*
 * What `nvr verify` reads from outside, as functions of bytes: the
 * .sha256 sidecar and the manifest of an export. They come from whoever
 * handed the clip over, so any bytes must give a result or an error,
 * never a read outside them (fuzzed by tests/fuzz/fuzz_verify_manifest.c).
 */
#ifndef NVR_CMD_VERIFY_H
#define NVR_CMD_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest sidecar / manifest parsed (bytes). */
#define VERIFY_MAX_SIDECAR  4096
#define VERIFY_MAX_MANIFEST ((size_t)16 * 1024 * 1024)
/* Longest clip file name. */
#define VERIFY_MAX_NAME 256

/* One "<64 hex>  <name>" line as sha256sum writes it. */
struct verify_sidecar {
    char sha256[65];            /* lowercase hex */
    char name[VERIFY_MAX_NAME]; /* the file it names */
};

/* Parses a sidecar. Returns 0, -EBADMSG (not in sha256sum format) or
 * -ENAMETOOLONG. */
int verify_parse_sidecar(const char *data, size_t len,
                         struct verify_sidecar *out);

/* What a manifest says about one clip. */
struct verify_manifest {
    bool has_self_hash; /* a manifest_sha256 field */
    char computed[65];  /* SHA-256 of the text with it zeroed */
    char recorded[65];  /* its value */
    bool lists_clip;    /* a clip entry with "file": name */
    bool has_sha256;    /* that entry's "sha256" (64 hex) */
    char sha256[65];
    bool has_bytes; /* that entry's "bytes" */
    int64_t bytes;
    char audit_hash[65]; /* that entry's "audit_hash", "" if none */
};

/* Parses a manifest for the clip named `name`. Returns 0, -EFBIG (over
 * VERIFY_MAX_MANIFEST), -ENOMEM. */
int verify_parse_manifest(const char *data, size_t len, const char *name,
                          struct verify_manifest *out);

#endif
