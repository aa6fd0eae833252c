/* parallel.c — see parallel.h. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include "common/parallel.h"

typedef struct share {
    fork_join_fn *fn;
    void *arg;
    int t, threads;
} share;

static void *run_share(void *p)
{
    share *s = p;
    s->fn(s->arg, s->t, s->threads);
    return NULL;
}

void fork_join(int threads, fork_join_fn *fn, void *arg)
{
    if (threads > FORK_JOIN_MAX)
        threads = FORK_JOIN_MAX;
    if (threads < 1)
        threads = 1;
    share shares[FORK_JOIN_MAX];
    pthread_t tid[FORK_JOIN_MAX];
    int started[FORK_JOIN_MAX] = {0};
    for (int t = 0; t < threads; t++)
        shares[t] = (share){fn, arg, t, threads};
    for (int t = 1; t < threads; t++)
        started[t] = pthread_create(&tid[t], NULL, run_share, &shares[t]) == 0;
    run_share(&shares[0]);
    for (int t = 1; t < threads; t++) {
        if (started[t])
            pthread_join(tid[t], NULL);
        else
            run_share(&shares[t]); /* no thread: do its share here */
    }
}

void fork_join_range(size_t total, int t, int threads, size_t *begin, size_t *end)
{
    *begin = total / threads * t + (total % threads < (size_t)t ? total % threads : (size_t)t);
    *end = *begin + total / threads + ((size_t)t < total % threads);
}

int fork_join_threads(size_t total, int threads, size_t grain)
{
    size_t most = grain ? total / grain : total;
    if (threads > FORK_JOIN_MAX)
        threads = FORK_JOIN_MAX;
    if ((size_t)threads > most)
        threads = (int)most;
    return threads < 1 ? 1 : threads;
}

typedef struct for_job {
    parallel_task fn;
    void *arg;
    int count;
} for_job;

static void for_share(void *arg, int t, int threads)
{
    const for_job *j = arg;
    j->fn(j->arg, (int)((long)j->count * t / threads), (int)((long)j->count * (t + 1) / threads));
}

void parallel_for(int threads, int count, parallel_task fn, void *arg)
{
    if (threads > FORK_JOIN_MAX)
        threads = FORK_JOIN_MAX;
    if (threads > count)
        threads = count;
    if (threads <= 1) {
        if (count > 0)
            fn(arg, 0, count);
        return;
    }
    for_job j = {fn, arg, count};
    fork_join(threads, for_share, &j);
}
