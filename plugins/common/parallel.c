/* parallel.c — see parallel.h. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include "common/parallel.h"

#define MAX_THREADS 64

typedef struct part {
    parallel_task fn;
    void *arg;
    int begin, end;
} part;

static void *run_part(void *p)
{
    part *q = p;
    q->fn(q->arg, q->begin, q->end);
    return NULL;
}

void parallel_for(int threads, int count, parallel_task fn, void *arg)
{
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    if (threads > count)
        threads = count;
    if (threads <= 1) {
        if (count > 0)
            fn(arg, 0, count);
        return;
    }
    part parts[MAX_THREADS];
    pthread_t tid[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    for (int t = 0; t < threads; t++)
        parts[t] = (part){fn, arg, (int)((long)count * t / threads),
                          (int)((long)count * (t + 1) / threads)};
    for (int t = 1; t < threads; t++)
        started[t] = pthread_create(&tid[t], NULL, run_part, &parts[t]) == 0;
    run_part(&parts[0]);
    for (int t = 1; t < threads; t++) {
        if (started[t])
            pthread_join(tid[t], NULL);
        else
            run_part(&parts[t]); /* no thread: do its share here */
    }
}
