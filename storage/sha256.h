/* SPDX-License-Identifier: MIT */
/*
 * SHA-256 for segment files, through OpenSSL's libcrypto, which uses the
 * CPU's SHA instructions where it has them (Debian's libavutil SHA-256 is
 * portable C and costs several times more per byte; hashing every segment
 * as it is written is most of the recorder's CPU otherwise). Any thread;
 * one context per thread.
 */
#ifndef NVR_STORAGE_SHA256_H
#define NVR_STORAGE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "nvr/base/compiler.h"

struct nvr_sha256;

/* Loads libcrypto's SHA-256 implementation. Called once before the
 * sandbox closes the file system, so that no later call needs a file.
 * Returns 0 or -ENOMEM. Calling it again does nothing. */
NVR_NODISCARD int nvr_sha256_prepare(void);

/* Returns a fresh context (owned; free with nvr_sha256_free), or NULL
 * when out of memory. */
struct nvr_sha256 *nvr_sha256_new(void);

void nvr_sha256_update(struct nvr_sha256 *s, const void *data, size_t len);

/* Writes the lowercase hex digest and a NUL into hex. Returns 0 or -EIO.
 * The context must not be updated afterwards. */
NVR_NODISCARD int nvr_sha256_final_hex(struct nvr_sha256 *s, char hex[65]);

/* NULL does nothing. */
void nvr_sha256_free(struct nvr_sha256 *s);

/*
 * The lowercase hex SHA-256 of the first `limit` bytes of fd (limit < 0:
 * up to its end), read with pread from offset 0, into hex; *bytes (may be
 * NULL) gets how many were hashed, fewer than limit when the file is
 * shorter. Returns 0, a negative errno from pread, or -ENOMEM. Blocking:
 * never on the loop thread. Borrows fd.
 */
NVR_NODISCARD int nvr_sha256_fd(int fd, int64_t limit, char hex[65],
                                int64_t *bytes);

/* The lowercase hex SHA-256 of a whole file into hex. Returns 0, or a
 * negative errno from open or read (-ENOENT, -EIO...), or -ENOMEM.
 * Blocking: never on the loop thread. */
NVR_NODISCARD int nvr_sha256_file(const char *path, char hex[65]);

#endif
