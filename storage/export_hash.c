/* SPDX-License-Identifier: MIT */
/*
 * The export's hashing thread (see export_int.h): a fixed pool of chunks
 * goes round between the exporting thread, which fills them (source bytes
 * served to the demuxer, clip bytes written to the file), and this
 * thread, which feeds each into the running SHA-256 of its file, in the
 * order queued. No allocation after start; the exporting thread waits
 * only when every chunk is queued.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "storage/export_int.h"
#include "storage/sha256.h"

static void *export_hash_main(void *arg)
{
    struct exp_hasher *h = arg;

    pthread_mutex_lock(&h->mu);
    for (;;) {
        struct exp_chunk *c;

        while (h->q_len == 0 && !h->stop) {
            h->hasher_waits = true;
            pthread_cond_wait(&h->work, &h->mu);
            h->hasher_waits = false;
        }
        if (h->q_len == 0)
            break;
        c = h->queue[h->q_head];
        h->q_head = (h->q_head + 1) % EXPORT_CHUNKS;
        h->q_len--;
        h->busy = true;
        pthread_mutex_unlock(&h->mu);
        if (c->len > 0)
            nvr_sha256_update(c->md, c->buf, c->len);
        pthread_mutex_lock(&h->mu);
        h->busy = false;
        h->free_list[h->n_free++] = c;
        if (h->muxer_waits)
            pthread_cond_signal(&h->done);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

int export_hash__start(struct exp_hasher *h)
{
    memset(h, 0, sizeof(*h));
    for (int i = 0; i < EXPORT_CHUNKS; i++) {
        h->chunks[i].buf = malloc(EXPORT_CHUNK_BYTES);
        if (!h->chunks[i].buf) {
            for (int k = 0; k < i; k++)
                free(h->chunks[k].buf);
            return -ENOMEM;
        }
        h->free_list[h->n_free++] = &h->chunks[i];
    }
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->work, NULL);
    pthread_cond_init(&h->done, NULL);
    if (pthread_create(&h->th, NULL, export_hash_main, h) != 0) {
        pthread_mutex_destroy(&h->mu);
        pthread_cond_destroy(&h->work);
        pthread_cond_destroy(&h->done);
        for (int i = 0; i < EXPORT_CHUNKS; i++)
            free(h->chunks[i].buf);
        return -EAGAIN;
    }
    h->running = true;
    return 0;
}

void export_hash__stop(struct exp_hasher *h)
{
    if (!h->running)
        return;
    pthread_mutex_lock(&h->mu);
    h->stop = true;
    pthread_cond_signal(&h->work);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->th, NULL);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->work);
    pthread_cond_destroy(&h->done);
    for (int i = 0; i < EXPORT_CHUNKS; i++)
        free(h->chunks[i].buf);
    h->running = false;
}

struct exp_chunk *export_hash__get(struct exp_hasher *h)
{
    struct exp_chunk *c;

    pthread_mutex_lock(&h->mu);
    while (h->n_free == 0) {
        h->muxer_waits = true;
        pthread_cond_wait(&h->done, &h->mu);
        h->muxer_waits = false;
    }
    c = h->free_list[--h->n_free];
    pthread_mutex_unlock(&h->mu);
    return c;
}

/* Queues c for hashing (hash = true) or just gives it back. */
void export_hash__put(struct exp_hasher *h, struct exp_chunk *c, bool hash)
{
    pthread_mutex_lock(&h->mu);
    if (hash) {
        h->queue[(h->q_head + h->q_len) % EXPORT_CHUNKS] = c;
        h->q_len++;
        if (h->hasher_waits)
            pthread_cond_signal(&h->work);
    } else {
        h->free_list[h->n_free++] = c;
    }
    pthread_mutex_unlock(&h->mu);
}

/* Waits until every queued chunk is hashed. */
void export_hash__wait_idle(struct exp_hasher *h)
{
    if (!h->running)
        return;
    pthread_mutex_lock(&h->mu);
    while (h->q_len > 0 || h->busy) {
        h->muxer_waits = true;
        pthread_cond_wait(&h->done, &h->mu);
        h->muxer_waits = false;
    }
    pthread_mutex_unlock(&h->mu);
}
