/* parallel.h — fork-join over a range with plain pthreads, for the
 * memory-bound loops of the layers (im2col, Winograd transforms, pooling).
 *
 * Not OpenMP: libgomp's idle threads spin (OMP_WAIT_POLICY=active by
 * default) and take a core from OpenBLAS's threads during the GEMMs that
 * follow each loop; measured 1.5-2x slower on 2 cores. Threads here exist
 * only for the duration of one call (creation costs ~20 us, the loops
 * take milliseconds), so nothing competes with the GEMMs. */
#ifndef STRATA_PLUGINS_PARALLEL_H
#define STRATA_PLUGINS_PARALLEL_H

/* Calls fn(arg, begin, end) on disjoint ranges covering [0, count), on up
 * to `threads` threads (the caller's included); returns when all are done.
 * Falls back to one thread when a thread cannot be created. */
typedef void (*parallel_task)(void *arg, int begin, int end);
void parallel_for(int threads, int count, parallel_task fn, void *arg);
#endif
