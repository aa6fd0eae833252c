/* buckets.h — the parameter gradients of a network summed over the ranks
 * while backward goes on, as PyTorch's DistributedDataParallel does: the
 * gradient memory (one array, layers in order) is cut into buckets of about
 * bucket_mb MB from the top layer down; backward runs from the top, so when
 * the lowest layer of a bucket has finished its backward the bucket is
 * final and its allreduce starts, overlapping with the backward of the
 * layers below. Before the optimizer step every bucket is waited for.
 * Buckets start in the same order on every rank (MPI's rule for
 * collectives). */
#ifndef STRATA_BUCKETS_H
#define STRATA_BUCKETS_H

#include "config/error.h"
#include "dist/dist.h"
#include "model/network.h"

typedef struct grad_buckets {
    network *net;
    int n;              /* buckets, bucket 0 the top one */
    size_t *begin, *end; /* bucket b: grad_mem[begin[b] .. end[b]) */
    int *low_layer;     /* the lowest layer with parameters in bucket b */
    dist_req **req;
    int started;        /* buckets 0 .. started-1 are under way */
    double wait_seconds; /* summed time in the final wait (communication not hidden) */
    long steps;
    /* The overlap, counted (not timed): buckets started before the backward
     * of the lowest trained layer (the step's last) began; with several
     * buckets it is above 0, with one it is 0. This step's (-1 before its
     * backward), and the fewest and most over the steps with a backward
     * since grad_buckets_overlap_reset. */
    int lowest, early, early_min, early_max;
} grad_buckets;

/* Cut net's gradients into buckets of about bucket_mb MB (> 0). */
int grad_buckets_init(grad_buckets *g, network *net, double bucket_mb, strata_err *err);
/* Layer `layer`'s backward is done: start the buckets it completes; poke
 * the ones under way. */
void grad_buckets_layer_done(grad_buckets *g, int layer);
/* Start what is left (the layers below the lowest trained one have no
 * backward) and wait for every bucket: the gradients are the sums. */
void grad_buckets_finish(grad_buckets *g);
void grad_buckets_overlap_reset(grad_buckets *g);
void grad_buckets_free(grad_buckets *g);

#endif
