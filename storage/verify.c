/* SPDX-License-Identifier: MIT */
/*
 * Segment integrity (see verify.h): the file is read in large chunks with
 * pread and hashed with libavutil's SHA-256, the same digest the writer
 * computed while writing it.
 */
#include "config.h"
#include "storage/verify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nvr/base/thread.h"
#include "storage/catalog.h"
#include "storage/sha256.h"
#include "storage/storage_path.h"

#define VERIFY_MAX_PATH 1024

int verify_segment(const char *storage_dir, const struct catalog_segment *seg,
                   enum verify_result *result, char sha256_out[65],
                   int64_t *bytes_out)
{
    char path[VERIFY_MAX_PATH];
    int fd, r, root;

    NVR_ASSERT_NOT_LOOP();
    sha256_out[0] = '\0';
    *bytes_out = 0;
    if (snprintf(path, sizeof(path), "%s/%s", storage_dir, seg->path) >=
        (int)sizeof(path))
        return -ENAMETOOLONG;
    root = storage_path_open_root(storage_dir);
    if (root < 0)
        return root;
    /* Never follow a symlink: a segment replaced by a link to /etc/shadow
     * must not have its hash and size reported. */
    fd = storage_path_open(root, seg->path, O_RDONLY);
    close(root);
    if (fd < 0) {
        if (storage_path_refused(fd)) {
            *result = VERIFY_REFUSED;
            return 0;
        }
        if (fd == -ENOENT) {
            *result = VERIFY_MISSING;
            return 0;
        }
        return fd;
    }
    r = nvr_sha256_fd(fd, -1, sha256_out, bytes_out);
    close(fd);
    if (r < 0)
        return r;
    *result = strcmp(sha256_out, seg->sha256) == 0 && *bytes_out == seg->bytes
                  ? VERIFY_OK
                  : VERIFY_CHANGED;
    return 0;
}
