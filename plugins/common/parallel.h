/* parallel.h — strata's one fork-join, plain pthreads: compiled into
 * libstrata (the host's element-wise passes: optimizer updates, zeroing
 * gradients) and into every plugin that runs threads (plugins never link
 * libstrata), so host and layers split work the same way.
 *
 * Not OpenMP: libgomp's idle threads spin (OMP_WAIT_POLICY=active by
 * default) and take a core from OpenBLAS's threads during the GEMMs that
 * follow each loop; measured 1.5-2x slower on 2 cores. Threads here exist
 * only for the duration of one call (creation costs ~20 us, the loops
 * take milliseconds), so nothing competes with the GEMMs. A thread that
 * cannot be created has its share run by the caller: the work is always
 * done, and done the same way. */
#ifndef STRATA_COMMON_PARALLEL_H
#define STRATA_COMMON_PARALLEL_H
#include <stddef.h>

#define FORK_JOIN_MAX 64

/* fn(arg, t, threads) for t = 0 .. threads-1 (at most FORK_JOIN_MAX),
 * t = 0 on the caller's thread; returns when all are done. */
typedef void fork_join_fn(void *arg, int t, int threads);
void fork_join(int threads, fork_join_fn *fn, void *arg);

/* [*begin, *end): part t of `threads` equal parts of [0, total) (sizes
 * differ by at most one, the larger ones first). */
void fork_join_range(size_t total, int t, int threads, size_t *begin, size_t *end);

/* Threads worth using for a pass over `total` elements: at most `threads`,
 * and at least `grain` elements each (>= 1 thread). */
int fork_join_threads(size_t total, int threads, size_t grain);

/* fn(arg, begin, end) on disjoint ranges covering [0, count) (part t is
 * [count*t/p, count*(t+1)/p)), on p = min(threads, count) threads, the
 * caller's included; one call fn(arg, 0, count) when p <= 1. */
typedef void (*parallel_task)(void *arg, int begin, int end);
void parallel_for(int threads, int count, parallel_task fn, void *arg);
#endif
