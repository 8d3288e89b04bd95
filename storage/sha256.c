/* SPDX-License-Identifier: MIT */
/*
 * SHA-256 through libcrypto's EVP interface (see sha256.h).
 */
#include "storage/sha256.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

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
    for (unsigned int i = 0; i < n; i++)
        snprintf(hex + (size_t)2 * i, 3, "%02x", d[i]);
    return 0;
}

void nvr_sha256_free(struct nvr_sha256 *s)
{
    if (!s)
        return;
    EVP_MD_CTX_free(s->md);
    free(s);
}
