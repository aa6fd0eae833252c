/* fork_join.h — run one function on `threads` threads and wait for all:
 * fn(arg, t, threads) for t = 0 .. threads-1, t = 0 on the caller's thread.
 * A thread that cannot be started has its share run by the caller, so the
 * work is always done. For the host's own element-wise passes (optimizer
 * updates, zeroing gradients); the layers have their own in the plugins. */
#ifndef STRATA_FORK_JOIN_H
#define STRATA_FORK_JOIN_H
#include <stddef.h>

#define FORK_JOIN_MAX 64

typedef void fork_join_fn(void *arg, int t, int threads);
void fork_join(int threads, fork_join_fn *fn, void *arg);

/* [*begin, *end): part t of `threads` equal parts of [0, total). */
void fork_join_range(size_t total, int t, int threads, size_t *begin, size_t *end);

/* Threads worth using for a pass over `total` elements: at most `threads`,
 * and at least `grain` elements each (>= 1 thread). */
int fork_join_threads(size_t total, int threads, size_t grain);
#endif
