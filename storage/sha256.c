/* SPDX-License-Identifier: MIT */
/*
 * SHA-256 through libcrypto's EVP interface (see sha256.h).
 */
#include "config.h"
#include "storage/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "nvr/base/hex.h"
#include "nvr/base/thread.h"

/* Read size when hashing a whole file. */
#define SHA256_FILE_BUF_BYTES ((size_t)1024 * 1024)

struct nvr_sha256 {
    EVP_MD_CTX *md;
};

static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static const EVP_MD *sha256_md;

static void sha256_load(void)
{
    /* Fetching once resolves the provider and reads OpenSSL's config
     * file now rather than on the first segment, inside the sandbox. */
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

int nvr_sha256_prepare(void)
{
    pthread_once(&sha256_once, sha256_load);
    return sha256_md ? 0 : -ENOMEM;
}

struct nvr_sha256 *nvr_sha256_new(void)
{
    struct nvr_sha256 *s;

    if (nvr_sha256_prepare() < 0)
        return NULL;
    s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->md = EVP_MD_CTX_new();
    if (!s->md || EVP_DigestInit_ex(s->md, sha256_md, NULL) != 1) {
        nvr_sha256_free(s);
        return NULL;
    }
    return s;
}

void nvr_sha256_update(struct nvr_sha256 *s, const void *data, size_t len)
{
    /* EVP_DigestUpdate only fails on a context that was never set up,
     * which nvr_sha256_new rules out. */
    if (len > 0)
        (void)EVP_DigestUpdate(s->md, data, len);
}

int nvr_sha256_final_hex(struct nvr_sha256 *s, char hex[65])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (EVP_DigestFinal_ex(s->md, d, &n) != 1 || n != 32) {
        hex[0] = '\0';
        return -EIO;
    }
    nvr_hex_encode(d, n, hex);
    return 0;
}

void nvr_sha256_free(struct nvr_sha256 *s)
{
    if (!s)
        return;
    EVP_MD_CTX_free(s->md);
    free(s);
}

int nvr_sha256_fd(int fd, int64_t limit, char hex[65], int64_t *bytes)
{
    struct nvr_sha256 *s = nvr_sha256_new();
    uint8_t *buf = malloc(SHA256_FILE_BUF_BYTES);
    int64_t off = 0;
    int err = 0;

    NVR_ASSERT_NOT_LOOP();
    if (!buf || !s) {
        err = -ENOMEM;
        goto out;
    }
    while (limit < 0 || off < limit) {
        size_t want = SHA256_FILE_BUF_BYTES;
        ssize_t n;

        if (limit >= 0 && limit - off < (int64_t)want)
            want = (size_t)(limit - off);
        n = pread(fd, buf, want, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err = -errno;
            goto out;
        }
        if (n == 0)
            break;
        nvr_sha256_update(s, buf, (size_t)n);
        off += n;
    }
    err = nvr_sha256_final_hex(s, hex);
    if (err == 0 && bytes)
        *bytes = off;
out:
    nvr_sha256_free(s);
    free(buf);
    return err;
}

int nvr_sha256_file(const char *path, char hex[65])
{
    int fd, err;

    NVR_ASSERT_NOT_LOOP();
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    err = nvr_sha256_fd(fd, -1, hex, NULL);
    close(fd);
    return err;
}
