/* loader.h — batches decoded and augmented on worker threads ahead of the
 * training step, in a bounded queue of ready batches (2 to 4 of them).
 *
 * Deterministic regardless of thread timing: in epoch e the sample at
 * position i of the epoch is ds->paths[order_e[i]], where order_e is a
 * permutation derived from (seed, e) only (identity when shuffle is 0), and
 * its augmentation seed is derived from (seed, e, i) only:
 *     order_e: Fisher-Yates driven by splitmix64 seeded mix(mix(seed, 1), e)
 *     aug seed of position i: mix(mix(mix(seed, 2), e), i)
 * with mix(a, b) = splitmix64 step of (splitmix64 step of a) ^ b.
 * Batch k holds positions k*batch_size .. (k+1)*batch_size - 1; the last
 * batch may be partial and is kept.
 */
#ifndef STRATA_LOADER_H
#define STRATA_LOADER_H

#include <stdint.h>
#include "data/augment.h"
#include "data/dataset.h"
#include "config/error.h"

typedef struct loader loader;

/* threads >= 1 worker threads; shuffle: reorder each epoch; seed: the run's
 * data seed. out_h/out_w from augment_output_size. ds and its strings must
 * outlive the loader; p is copied. Errors: STRATA_ERR_CONFIG for bad
 * arguments, STRATA_ERR_RUNTIME when memory or threads are short. */
int loader_open(loader **out, const dataset *ds, const aug_pipeline *p,
                int batch_size, int shuffle, uint64_t seed, int threads,
                int out_h, int out_w, strata_err *err);

/* Begin epoch e (0-based), abandoning what is left of the previous one. */
int loader_start_epoch(loader *l, int epoch, strata_err *err);

/* Next batch: x gets n*3*out_h*out_w floats (NCHW), labels n ints. Returns
 * n, 0 at the end of the epoch, -1 on error (an augmentation that fails:
 * the error names the path; the batch is consumed). A photo that fails to
 * decode now (corrupt past the header image_probe read) is left out of its
 * batch, so n may be less than the batch size (a batch left empty is passed
 * over), with one warning line on stderr per photo. */
int loader_next(loader *l, float *x, int *labels, strata_err *err);

/* Data-parallel training: this process takes share `rank` of `ranks` of
 * every batch (before the first loader_start_epoch). Batch k's rows are
 * split in order, shares differing by at most one (rank r < len % ranks
 * gets one more); only the rank's own photos are decoded. Positions, order
 * and augmentation seeds stay those of the whole batch, so every sample is
 * the same whatever the number of ranks. Default: share 0 of 1. */
int loader_set_shard(loader *l, int rank, int ranks, strata_err *err);
/* Next batch, kept even when this rank's share of it is empty: returns 1
 * with *n rows (0 when the share is empty or all its photos failed), 0 at
 * the end of the epoch, -1 on error. Every rank gets the same number of
 * batches per epoch (loader_num_batches). */
int loader_next_batch(loader *l, float *x, int *labels, int *n, strata_err *err);
/* The row of its batch where the last delivered share starts. */
int loader_share_offset(const loader *l);

/* How many distinct photos failed to decode so far (see loader_next). */
int loader_num_failed(loader *l);
/* 1 if photo idx of the data set failed to decode so far (the session
 * records those in run_skipped). */
int loader_failed_at(loader *l, int idx);
/* Photo idx failed to decode in another process of the run (data-parallel
 * training): counted and reported by loader_failed_at as if it had failed
 * here, and not warned about again here. */
void loader_mark_failed(loader *l, int idx);

/* ceil(ds->n / batch_size) */
int loader_num_batches(const loader *l);

/* Stop the workers (they finish the image in hand) and free everything.
 * Safe mid-epoch and on NULL. */
void loader_close(loader *l);

#endif
