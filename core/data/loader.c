/* loader.c — the prefetching batch loader (see loader.h).
 *
 * Work is handed out per sample: workers claim the next position of the
 * epoch, as long as its batch fits in the ring of `depth` slots (batch k in
 * slot k % depth, ahead of the consumer by less than depth batches). A
 * worker decodes and augments into its slot without the lock; the slot
 * counts finished samples and the consumer waits until its batch is
 * complete. One mutex, three condition variables, no busy waiting. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strata/plugin.h> /* strata_rng_next */
#include "data/image.h"
#include "data/loader.h"

enum { TAG_ORDER = 1, TAG_AUG = 2 };

typedef struct slot {
    float *x;      /* batch_size * 3 * out_h * out_w */
    int *labels;   /* batch_size */
    char *ok;      /* batch_size: 0 for a photo that failed to decode */
    int done;      /* samples finished (ok or not) */
    int err_pos;   /* lowest failed position, or -1 */
    strata_err err;
} slot;

struct loader {
    const dataset *ds;
    aug_pipeline pipe;
    int batch, shuffle, out_h, out_w, num_batches, depth, nthreads;
    int rank, ranks;  /* this process takes share `rank` of `ranks` of every batch */
    int last_offset;  /* the last delivered share's first row in its batch */
    uint64_t seed;
    int *order;    /* ds->n positions of the current epoch */
    char *warned;  /* ds->n: its decoding failure was reported already */
    int num_failed; /* distinct photos that failed to decode */
    int epoch, started, paused, stop;
    int next_claim;   /* next position to hand to a worker */
    int next_deliver; /* next batch for loader_next */
    int active;       /* samples being worked on outside the lock */
    slot *slots;
    pthread_mutex_t mu;
    pthread_cond_t work, ready, idle;
    pthread_t *th;
};

static uint64_t mix(uint64_t a, uint64_t b)
{
    uint64_t s = a;
    s = strata_rng_next(&s) ^ b;
    return strata_rng_next(&s);
}

static size_t sample_floats(const loader *l)
{
    return (size_t)3 * l->out_h * l->out_w;
}

/* Batch k's rows: all ranks' shares. */
static int global_len(const loader *l, int k)
{
    int left = l->ds->n - k * l->batch;
    return left < l->batch ? left : l->batch;
}

/* This rank's share of batch k: rows *off .. *off + len - 1 of it; the
 * shares of ranks 0, 1, ... follow each other and differ by at most one. */
static int share(const loader *l, int k, int *off)
{
    int total = global_len(l, k), base = total / l->ranks, extra = total % l->ranks;
    *off = l->rank * base + (l->rank < extra ? l->rank : extra);
    return base + (l->rank < extra);
}

static int batch_len(const loader *l, int k)
{
    int off;
    return share(l, k, &off);
}

/* The first position >= pos in this rank's shares (ds->n when none). */
static int next_in_shard(const loader *l, int pos)
{
    while (pos < l->ds->n) {
        int k = pos / l->batch, off, len = share(l, k, &off), lo = k * l->batch + off;
        if (pos < lo)
            pos = lo;
        if (pos < lo + len)
            return pos;
        pos = (k + 1) * l->batch;
    }
    return l->ds->n;
}

/* order = identity, or a Fisher-Yates permutation seeded by (seed, epoch). */
static void make_order(loader *l)
{
    int n = l->ds->n;
    for (int i = 0; i < n; i++)
        l->order[i] = i;
    if (!l->shuffle)
        return;
    uint64_t s = mix(mix(l->seed, TAG_ORDER), (uint64_t)l->epoch);
    for (int i = n - 1; i > 0; i--) {
        double u = (double)(strata_rng_next(&s) >> 11) * 0x1p-53;
        int j = (int)(u * (i + 1));
        j = j > i ? i : j;
        int t = l->order[i];
        l->order[i] = l->order[j];
        l->order[j] = t;
    }
}

/* Decode and augment the sample at position pos into its slot. A photo
 * that fails to decode (corrupt past its header) is left out of its batch,
 * with one warning per photo; an augmentation error stays an error. */
static void load_sample(loader *l, int pos, int idx, uint64_t aug_seed, slot *s)
{
    const char *path = l->ds->paths[idx];
    int off;
    share(l, pos / l->batch, &off);
    int i = pos % l->batch - off;
    strata_err e;
    image im;
    int decoded = image_load_max(path, l->ds->max_pixels, &im, &e) == 0, rc = 0;
    if (decoded) {
        strata_err ae;
        rc = augment_apply(&l->pipe, &im, aug_seed, s->x + i * sample_floats(l),
                           l->out_h, l->out_w, &ae);
        if (rc)
            err_set(&e, ae.status, "%s: %s", path, ae.msg);
        image_free(&im);
    }
    pthread_mutex_lock(&l->mu);
    s->labels[i] = l->ds->labels[idx];
    s->ok[i] = (char)decoded;
    if (!decoded && !l->warned[idx]) {
        l->warned[idx] = 1;
        l->num_failed++;
        fprintf(stderr, "strata: warning: %s, skipped\n", e.msg);
    }
    if (rc && (s->err_pos < 0 || pos < s->err_pos)) {
        s->err_pos = pos;
        s->err = e;
    }
    s->done++;
    if (s->done == batch_len(l, pos / l->batch))
        pthread_cond_broadcast(&l->ready);
    if (--l->active == 0)
        pthread_cond_broadcast(&l->idle);
    pthread_mutex_unlock(&l->mu);
}

static int can_claim(const loader *l)
{
    return l->started && !l->paused && l->next_claim < l->ds->n &&
           l->next_claim / l->batch < l->next_deliver + l->depth;
}

static void *worker(void *arg)
{
    loader *l = arg;
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        if (!can_claim(l)) {
            pthread_cond_wait(&l->work, &l->mu);
            continue;
        }
        int pos = l->next_claim;
        l->next_claim = next_in_shard(l, pos + 1);
        int idx = l->order[pos];
        uint64_t aug_seed = mix(mix(mix(l->seed, TAG_AUG), (uint64_t)l->epoch), (uint64_t)pos);
        slot *s = &l->slots[(pos / l->batch) % l->depth];
        l->active++;
        pthread_mutex_unlock(&l->mu);
        load_sample(l, pos, idx, aug_seed, s);
        pthread_mutex_lock(&l->mu);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

static void reset_slot(slot *s)
{
    s->done = 0;
    s->err_pos = -1;
}

static void free_loader(loader *l, int nthreads)
{
    if (nthreads > 0) {
        pthread_mutex_lock(&l->mu);
        l->stop = 1;
        pthread_cond_broadcast(&l->work);
        pthread_mutex_unlock(&l->mu);
        for (int i = 0; i < nthreads; i++)
            pthread_join(l->th[i], NULL);
    }
    for (int i = 0; l->slots && i < l->depth; i++) {
        free(l->slots[i].x);
        free(l->slots[i].labels);
        free(l->slots[i].ok);
    }
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->work);
    pthread_cond_destroy(&l->ready);
    pthread_cond_destroy(&l->idle);
    free(l->slots);
    free(l->order);
    free(l->warned);
    free(l->th);
    free(l);
}

static int check_args(const dataset *ds, const aug_pipeline *p, int batch_size,
                      int threads, int out_h, int out_w, strata_err *err)
{
    int h, w;
    if (!ds || !p)
        return err_set(err, STRATA_ERR_CONFIG, "loader: no data set or no pipeline");
    if (batch_size < 1)
        return err_set(err, STRATA_ERR_CONFIG, "loader: batch size %d (expected at least 1)", batch_size);
    if (threads < 1)
        return err_set(err, STRATA_ERR_CONFIG, "loader: %d threads (expected at least 1)", threads);
    if (out_h < 1 || out_w < 1)
        return err_set(err, STRATA_ERR_CONFIG, "loader: image size %dx%d (expected at least 1x1)", out_h, out_w);
    strata_err e;
    if (augment_output_size(p, &h, &w, &e) == 0 && (h != out_h || w != out_w))
        return err_set(err, STRATA_ERR_CONFIG,
                       "loader: the augmentations give %dx%d images, expected %dx%d",
                       h, w, out_h, out_w);
    return 0;
}

int loader_open(loader **out, const dataset *ds, const aug_pipeline *p,
                int batch_size, int shuffle, uint64_t seed, int threads,
                int out_h, int out_w, strata_err *err)
{
    *out = NULL;
    if (check_args(ds, p, batch_size, threads, out_h, out_w, err))
        return -1;
    loader *l = calloc(1, sizeof *l);
    if (!l)
        return err_set(err, STRATA_ERR_RUNTIME, "loader: out of memory");
    l->ds = ds;
    l->pipe = *p;
    l->batch = batch_size;
    l->shuffle = shuffle;
    l->seed = seed;
    l->out_h = out_h;
    l->out_w = out_w;
    l->num_batches = (ds->n + batch_size - 1) / batch_size;
    l->ranks = 1;
    l->depth = threads + 1 < 2 ? 2 : threads + 1 > 4 ? 4 : threads + 1;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->work, NULL);
    pthread_cond_init(&l->ready, NULL);
    pthread_cond_init(&l->idle, NULL);
    l->order = malloc(sizeof(int) * (ds->n ? ds->n : 1));
    l->warned = calloc(ds->n ? ds->n : 1, 1);
    l->slots = calloc(l->depth, sizeof *l->slots);
    l->th = calloc(threads, sizeof *l->th);
    int ok = l->order && l->warned && l->slots && l->th;
    for (int i = 0; ok && i < l->depth; i++) {
        l->slots[i].x = malloc(sizeof(float) * batch_size * sample_floats(l));
        l->slots[i].labels = malloc(sizeof(int) * batch_size);
        l->slots[i].ok = malloc(batch_size);
        ok = l->slots[i].x && l->slots[i].labels && l->slots[i].ok;
    }
    if (!ok) {
        free_loader(l, 0);
        return err_set(err, STRATA_ERR_RUNTIME, "loader: out of memory for %d batches of %d",
                       threads + 1, batch_size);
    }
    for (int i = 0; i < threads; i++)
        if (pthread_create(&l->th[i], NULL, worker, l) != 0) {
            free_loader(l, i);
            return err_set(err, STRATA_ERR_RUNTIME, "loader: cannot start worker thread %d", i + 1);
        }
    l->nthreads = threads;
    *out = l;
    return 0;
}

int loader_start_epoch(loader *l, int epoch, strata_err *err)
{
    if (epoch < 0)
        return err_set(err, STRATA_ERR_CONFIG, "loader: epoch %d (expected >= 0)", epoch);
    pthread_mutex_lock(&l->mu);
    l->paused = 1;
    while (l->active > 0)
        pthread_cond_wait(&l->idle, &l->mu);
    l->epoch = epoch;
    make_order(l);
    for (int i = 0; i < l->depth; i++)
        reset_slot(&l->slots[i]);
    l->next_claim = next_in_shard(l, 0);
    l->next_deliver = 0;
    l->started = 1;
    l->paused = 0;
    pthread_cond_broadcast(&l->work);
    pthread_mutex_unlock(&l->mu);
    return 0;
}

/* Copy the decoded samples of a complete slot, in order, leaving out the
 * photos that failed to decode; returns how many were copied. */
static int take_batch(const loader *l, const slot *s, int n, float *x, int *labels)
{
    size_t sf = sample_floats(l);
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (!s->ok[i])
            continue;
        memcpy(x + m * sf, s->x + i * sf, sizeof(float) * sf);
        labels[m++] = s->labels[i];
    }
    return m;
}

int loader_set_shard(loader *l, int rank, int ranks, strata_err *err)
{
    if (ranks < 1 || rank < 0 || rank >= ranks)
        return err_set(err, STRATA_ERR_CONFIG, "loader: share %d of %d (expected 0 <= share < shares)", rank, ranks);
    pthread_mutex_lock(&l->mu);
    int started = l->started;
    if (!started) {
        l->rank = rank;
        l->ranks = ranks;
    }
    pthread_mutex_unlock(&l->mu);
    if (started)
        return err_set(err, STRATA_ERR_RUNTIME, "loader: loader_set_shard after loader_start_epoch");
    return 0;
}

int loader_share_offset(const loader *l)
{
    return l->last_offset;
}

int loader_next(loader *l, float *x, int *labels, strata_err *err)
{
    int n, rc;
    /* A batch whose every photo failed to decode is passed over. */
    while ((rc = loader_next_batch(l, x, labels, &n, err)) == 1 && n == 0)
        ;
    return rc == 1 ? n : rc;
}

int loader_next_batch(loader *l, float *x, int *labels, int *count, strata_err *err)
{
    pthread_mutex_lock(&l->mu);
    if (!l->started) {
        pthread_mutex_unlock(&l->mu);
        return err_set(err, STRATA_ERR_RUNTIME, "loader: loader_next before loader_start_epoch");
    }
    int rc = 0;
    *count = 0;
    if (l->next_deliver < l->num_batches) {
        int k = l->next_deliver, n = share(l, k, &l->last_offset);
        slot *s = &l->slots[k % l->depth];
        while (s->done < n)
            pthread_cond_wait(&l->ready, &l->mu);
        pthread_mutex_unlock(&l->mu);

        /* The slot is ours until next_deliver moves on: copy without the lock. */
        if (s->err_pos >= 0) {
            if (err)
                *err = s->err;
            rc = -1;
        } else {
            *count = take_batch(l, s, n, x, labels);
            rc = 1;
        }
        pthread_mutex_lock(&l->mu);
        reset_slot(s);
        l->next_deliver++;
        pthread_cond_broadcast(&l->work);
    }
    pthread_mutex_unlock(&l->mu);
    return rc;
}

int loader_num_failed(loader *l)
{
    pthread_mutex_lock(&l->mu);
    int n = l->num_failed;
    pthread_mutex_unlock(&l->mu);
    return n;
}

int loader_failed_at(loader *l, int idx)
{
    pthread_mutex_lock(&l->mu);
    int failed = idx >= 0 && idx < l->ds->n && l->warned[idx];
    pthread_mutex_unlock(&l->mu);
    return failed;
}

void loader_mark_failed(loader *l, int idx)
{
    pthread_mutex_lock(&l->mu);
    if (idx >= 0 && idx < l->ds->n && !l->warned[idx]) {
        l->warned[idx] = 1;
        l->num_failed++;
    }
    pthread_mutex_unlock(&l->mu);
}

int loader_num_batches(const loader *l)
{
    return l->num_batches;
}

void loader_close(loader *l)
{
    if (l)
        free_loader(l, l->nthreads);
}
